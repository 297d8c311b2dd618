"""/appoint: give or remove roles, within the appointer's scope.

Pick an org (staff walk the tree; a secretary starts at their branch), pick a person there
who has linked Telegram, then give a role the policy allows at that org or remove one the
appointer could have given. The appointee is told in their language and their command
menu follows at once.
"""

from __future__ import annotations

from functools import partial
from typing import Final

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot import appointments
from bot.access import (
    Action,
    Grant,
    Principal,
    allows,
    may_end_role,
    scope_roots,
)
from bot.callbacks import CallbackCodec
from bot.context import BotContext
from bot.htmltext import html_lines
from bot.i18n import N_, gettext
from bot.refusals import NOT_ALLOWED, Refused
from bot.roster import STALE
from handlers.guard import refuse
from handlers.menus import refresh_menu
from handlers.org_picker import OrgPicker, OrgQuestion
from handlers.screens import Screen, answer_with, button, callback_ints, perform, show
from storage import member_admin, orgs
from storage.models import OrgUnit, Role

PAGE_SIZE: Final = 8

PICKER: Final = OrgPicker(
    CallbackCodec("apt.n", (int, int, int)), CallbackCodec("apt.o", (int, int))
)
QUESTION: Final = OrgQuestion(
    PICKER,
    Action.APPOINT,
    N_("Give a role where? Choose the branch or committee:"),
    lambda principal, org: bool(appointments.givable_roles(principal, org)),
)
PEOPLE: Final = CallbackCodec("apt.l", (int, int))  # org, page
PERSON: Final = CallbackCodec("apt.u", (int, int))  # org, member
# Roles travel as their index in appointments.APPOINTABLE.
GIVE: Final = CallbackCodec("apt.g", (int, int, int))  # org, member, role
GIVE_DO: Final = CallbackCodec("apt.gy", (int, int, int))  # org, member, role
TAKE: Final = CallbackCodec("apt.r", (int, int, int, int))  # org, member, role, grant's org
TAKE_DO: Final = CallbackCodec("apt.ry", (int, int, int, int))  # org, member, role, grant's org

NO_APPOINTING: Final = N_("Only branch secretaries and party staff can give roles.")


def role_name(lang: str, role: Role) -> str:
    """A role in words, in the given language."""
    return gettext(lang, appointments.ROLE_NAMES[role])


def _role(index: int) -> Role:
    if not 0 <= index < len(appointments.APPOINTABLE):
        raise Refused(STALE)
    return appointments.APPOINTABLE[index]


def _role_index(role: Role) -> int:
    return appointments.APPOINTABLE.index(role)


async def _org_in_scope(db: AsyncSession, principal: Principal, org_id: int) -> OrgUnit:
    org = await orgs.get_org(db=db, org_id=org_id)
    if org is None or not allows(principal, Action.APPOINT, org.path):
        raise Refused(NOT_ALLOWED)
    return org


# --- choosing the org and the person ------------------------------------------------------


async def cmd_appoint(update: Update, context: BotContext) -> None:
    """Start an appointment: the secretary's branch, or the org tree for staff."""
    lang = context.language
    await answer_with(
        update,
        context,
        lambda s, p: QUESTION.first(s, p, lang, lambda org: _people(s, p, org, 0, lang)),
        refusal=NO_APPOINTING,
    )


async def on_nav(update: Update, context: BotContext) -> None:
    """Move around the org tree."""
    await QUESTION.on_nav(update, context)


async def on_org(update: Update, context: BotContext) -> None:
    """List the people of the chosen org."""
    _, org_id = callback_ints(PICKER.pick, update)
    await answer_with(update, context, lambda s, p: _people_of(s, p, org_id, 0, context.language))


async def on_people(update: Update, context: BotContext) -> None:
    """Turn a page of the people list."""
    org_id, page = callback_ints(PEOPLE, update)
    await answer_with(
        update, context, lambda s, p: _people_of(s, p, org_id, page, context.language)
    )


async def _people_of(
    db: AsyncSession, principal: Principal, org_id: int, page: int, lang: str
) -> Screen:
    org = await _org_in_scope(db, principal, org_id)
    return await _people(db, principal, org, page, lang)


async def _people(
    db: AsyncSession, principal: Principal, org: OrgUnit, page: int, lang: str
) -> Screen:
    _ = partial(gettext, lang)
    assert org.id is not None
    total = await member_admin.count_linked(db=db, under_path=org.path)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    people = await member_admin.list_linked(
        db=db, under_path=org.path, offset=page * PAGE_SIZE, limit=PAGE_SIZE
    )
    lines = [org.name, _("Choose a person. Only people who have linked Telegram.")]
    if total == 0:
        lines.append(_("Nobody here has linked Telegram yet."))
    rows = [[button(m.name, PERSON.encode(org.id, m.id))] for m in people if m.id is not None]
    paging = []
    if page > 0:
        paging.append(button(_("◀ Previous"), PEOPLE.encode(org.id, page - 1)))
    if page + 1 < pages:
        paging.append(button(_("Next ▶"), PEOPLE.encode(org.id, page + 1)))
    if paging:
        rows.append(paging)
    parent = await orgs.get_org(db=db, org_id=org.parent_id) if org.parent_id else None
    if parent is not None and parent.id and allows(principal, Action.APPOINT, parent.path):
        rows.append([button(_("⬆ Up"), PICKER.nav.encode(0, parent.id, 0))])
    elif len(scope_roots(principal, Action.APPOINT)) > 1:
        rows.append([button(_("⬆ Up"), PICKER.nav.encode(0, 0, 0))])
    return html_lines(lines), InlineKeyboardMarkup(rows)


# --- the person: current roles, roles to give ---------------------------------------------


async def on_person(update: Update, context: BotContext) -> None:
    """Show a person's roles, with buttons to give or remove what the appointer may."""
    org_id, member_id = callback_ints(PERSON, update)
    await answer_with(
        update, context, lambda s, p: _person(s, p, org_id, member_id, context.language)
    )


async def _person(
    db: AsyncSession, principal: Principal, org_id: int, member_id: int, lang: str
) -> Screen:
    _ = partial(gettext, lang)
    org, chosen = await appointments.candidate_in(
        db=db, principal=principal, org_id=org_id, member_id=member_id
    )
    held: list[str] = []
    rows: list[list[InlineKeyboardButton]] = []
    for grant in chosen.holder.grants:
        where = await orgs.get_org(db=db, org_id=grant.org_id)
        place = where.name if where is not None else "?"
        held.append(_("{role} of {org}").format(role=role_name(lang, grant.role), org=place))
        if grant.role in appointments.APPOINTABLE and may_end_role(
            principal, chosen.holder, grant
        ):
            label = _("Remove: {role} of {org}").format(
                role=role_name(lang, grant.role), org=place
            )
            data = TAKE.encode(org_id, member_id, _role_index(grant.role), grant.org_id)
            rows.append([button(label, data)])
    for role in appointments.givable_roles(principal, org):
        if Grant(role, org_id, org.path) not in chosen.holder.grants:
            label = _("Appoint as {role}").format(role=role_name(lang, role))
            rows.append([button(label, GIVE.encode(org_id, member_id, _role_index(role)))])
    lines = [
        _("{name}, branch: {branch}").format(name=chosen.member.name, branch=chosen.branch.name),
        _("Roles: {roles}").format(roles="; ".join(held) if held else _("none")),
    ]
    if not rows:
        lines.append(_("You cannot give or remove any role of this person here."))
    rows.append([button(_("Back"), PEOPLE.encode(org_id, 0))])
    return html_lines(lines), InlineKeyboardMarkup(rows)


# --- giving a role ------------------------------------------------------------------------


async def on_give(update: Update, context: BotContext) -> None:
    """Ask to confirm an appointment."""
    org_id, member_id, index = callback_ints(GIVE, update)
    lang = context.language

    async def build(db: AsyncSession, principal: Principal) -> Screen:
        _ = partial(gettext, lang)
        role = _role(index)
        org, chosen = await appointments.candidate_in(
            db=db, principal=principal, org_id=org_id, member_id=member_id
        )
        text = _("Appoint {name} as {role} of {org}?").format(
            name=chosen.member.name,
            role=role_name(lang, role),
            org=org.name,
        )
        rows = [
            [button(_("Yes, appoint"), GIVE_DO.encode(org_id, member_id, index))],
            [button(_("Cancel"), PERSON.encode(org_id, member_id))],
        ]
        return text, InlineKeyboardMarkup(rows)

    await answer_with(update, context, build)


async def on_give_do(update: Update, context: BotContext) -> None:
    """Grant the role, tell the appointee, and refresh their menu."""
    org_id, member_id, index = callback_ints(GIVE_DO, update)
    await _change(update, context, org_id, member_id, index, org_id, give=True)


async def on_take(update: Update, context: BotContext) -> None:
    """Ask to confirm removing a role."""
    org_id, member_id, index, grant_org_id = callback_ints(TAKE, update)
    lang = context.language

    async def build(db: AsyncSession, principal: Principal) -> Screen:
        _ = partial(gettext, lang)
        role = _role(index)
        _org, chosen = await appointments.candidate_in(
            db=db, principal=principal, org_id=org_id, member_id=member_id
        )
        where = await orgs.get_org(db=db, org_id=grant_org_id)
        if where is None:
            raise Refused(STALE)
        text = _("Remove the role {role} of {org} from {name}?").format(
            name=chosen.member.name,
            role=role_name(lang, role),
            org=where.name,
        )
        rows = [
            [button(_("Yes, remove"), TAKE_DO.encode(org_id, member_id, index, grant_org_id))],
            [button(_("Cancel"), PERSON.encode(org_id, member_id))],
        ]
        return text, InlineKeyboardMarkup(rows)

    await answer_with(update, context, build)


async def on_take_do(update: Update, context: BotContext) -> None:
    """Remove the role, tell the person, and refresh their menu."""
    org_id, member_id, index, grant_org_id = callback_ints(TAKE_DO, update)
    await _change(update, context, org_id, member_id, index, grant_org_id, give=False)


async def _change(
    update: Update,
    context: BotContext,
    org_id: int,
    member_id: int,
    index: int,
    grant_org_id: int,
    *,
    give: bool,
) -> None:
    """Give or remove a role in one transaction, then answer, tell and refresh the menu."""
    user = update.effective_user
    if user is None:
        return
    services = context.services
    try:
        role = _role(index)
    except Refused as refused:
        await refuse(update, context, refused.text(context.language))
        return
    now = services.clock.now()
    done = await perform(
        update,
        context,
        lambda db, principal: appointments.change_role(
            db=db,
            actor=principal,
            org_id=org_id,
            member_id=member_id,
            role=role,
            grant_org_id=grant_org_id,
            give=give,
            now=now,
        ),
    )
    if done is None:
        return
    name, place = done.member_name, done.org.name
    services.relay.wake()  # the holder's news
    mine = (
        N_("{name} is now {role} of {org}.")
        if give
        else N_("{name} is no longer {role} of {org}.")
    )
    lang = context.language
    text = gettext(lang, mine).format(name=name, role=role_name(lang, role), org=place)
    back = button(context._("Back"), PERSON.encode(org_id, member_id))
    await show(update, context, text, InlineKeyboardMarkup([[back]]))
    await refresh_menu(
        context.bot,
        database=services.database,
        telegram_user_id=done.holder.telegram_user_id,
        language=done.holder.language,
    )


CALLBACKS: Final = (
    (PICKER.nav, on_nav),
    (PICKER.pick, on_org),
    (PEOPLE, on_people),
    (PERSON, on_person),
    (GIVE, on_give),
    (GIVE_DO, on_give_do),
    (TAKE, on_take),
    (TAKE_DO, on_take_do),
)
