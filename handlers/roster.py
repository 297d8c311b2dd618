"""/members: the branch roster, member cards, and the officers' actions on a member.

Secretaries land on their branch; township and county staff pick a branch first. Every tap
carries ids only: the handler reloads the member and re-checks the right (VIEW_ROSTER to
look, MANAGE_MEMBERS to change) before showing or changing anything.
"""

from __future__ import annotations

import html
from functools import partial
from typing import Final

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot import members as rules
from bot.access import Action, Principal, allows, load_principal, scope_roots
from bot.context import BotContext
from bot.direct_messages import recipient, tell
from bot.i18n import N_, gettext
from handlers.callbacks import CallbackCodec
from handlers.guard import refuse
from handlers.menus import refresh_menu
from handlers.org_picker import OrgPicker
from handlers.screens import Screen, answer_with, button, callback_ints, callback_values, show
from storage import member_admin, members, orgs
from storage.models import InactiveReason, Member, MemberStatus, OrgUnit

PAGE_SIZE: Final = 10

PICKER: Final = OrgPicker(
    CallbackCodec("ros.n", (int, int, int)), CallbackCodec("ros.o", (int, int))
)
PAGE: Final = CallbackCodec("ros.p", (int, int))  # org, page
CARD: Final = CallbackCodec("ros.m", (int, int))  # member, roster page to go back to
TRANSFER: Final = OrgPicker(  # subject: the member
    CallbackCodec("ros.tn", (int, int, int)), CallbackCodec("ros.tp", (int, int))
)
TRANSFER_DO: Final = CallbackCodec("ros.ty", (int, int, int))  # member, from org, to org
STATUS: Final = CallbackCodec("ros.s", (int,))  # member
# Statuses travel as their index in STATUS_PATH ("development_target" is too long a token).
STATUS_STEP: Final = CallbackCodec("ros.sc", (int, int, int))  # member, from, to
STATUS_FIX: Final = CallbackCodec("ros.sf", (int, int))  # member, from
STATUS_WHY: Final = CallbackCodec("ros.sw", (int, int, int))  # member, from, to
STATUS_DO: Final = CallbackCodec("ros.sy", (int, int, int, str))  # member, from, to, reason
DEACTIVATE: Final = CallbackCodec("ros.d", (int,))  # member
DEACTIVATE_ASK: Final = CallbackCodec("ros.dc", (int, str))  # member, reason
DEACTIVATE_DO: Final = CallbackCodec("ros.dy", (int, str))  # member, reason

NO_ROSTER: Final = N_("Only branch officers and party staff can see a roster.")


def mask_phone(phone: str) -> str:
    """Everything but the last four digits hidden, for readers who only look."""
    return "*" * max(len(phone) - 4, 0) + phone[-4:]


def _id(row: Member | OrgUnit) -> int:
    assert row.id is not None
    return row.id


def _is_branch(org: OrgUnit) -> bool:
    return org.kind in rules.BRANCH_KINDS


def _status(index: int) -> MemberStatus | None:
    return rules.STATUS_PATH[index] if 0 <= index < len(rules.STATUS_PATH) else None


# --- the roster ---------------------------------------------------------------------------


async def cmd_members(update: Update, context: BotContext) -> None:
    """Show the roster of the user's branch, or let staff pick a branch first."""
    user = update.effective_user
    if user is None:
        return
    lang = context.language
    screen: Screen | None = None
    async with context.services.database.session_scope() as session:
        principal = await load_principal(session=session, telegram_user_id=user.id)
        roots = scope_roots(principal, Action.VIEW_ROSTER)
        if len(roots) == 1:
            org = await orgs.get_org(session=session, org_id=roots[0].org_id)
            if org is not None and _is_branch(org):
                screen = await _roster(session, principal, org, 0, lang)
        if roots and screen is None:
            screen = await _picker(session, principal, 0, 0, lang)
    if screen is None:
        await refuse(update, context, context._(NO_ROSTER))
        return
    await show(update, context, *screen)


async def _picker(
    session: AsyncSession, principal: Principal, at: int, page: int, lang: str
) -> Screen | None:
    _ = partial(gettext, lang)
    found = await PICKER.screen(
        session=session,
        principal=principal,
        action=Action.VIEW_ROSTER,
        subject=0,
        at=at,
        page=page,
        can_pick=_is_branch,
        _=_,
    )
    if found is None:
        return None
    lines = [_("Whose roster? Choose a branch:")]
    if found.trail:
        lines.insert(0, html.escape(found.trail))
    return "\n".join(lines), found.markup


async def on_roster_nav(update: Update, context: BotContext) -> None:
    """Move around the org tree to find a branch."""
    _, at, page = callback_ints(PICKER.nav, update)
    await answer_with(update, context, lambda s, p: _picker(s, p, at, page, context.language))


async def on_roster_pick(update: Update, context: BotContext) -> None:
    """Open the roster of the chosen branch."""
    _, org_id = callback_ints(PICKER.pick, update)
    await answer_with(update, context, lambda s, p: _roster_of(s, p, org_id, 0, context.language))


async def on_roster_page(update: Update, context: BotContext) -> None:
    """Turn a page of the roster."""
    org_id, page = callback_ints(PAGE, update)
    await answer_with(
        update, context, lambda s, p: _roster_of(s, p, org_id, page, context.language)
    )


async def _roster_of(
    session: AsyncSession, principal: Principal, org_id: int, page: int, lang: str
) -> Screen | None:
    org = await orgs.get_org(session=session, org_id=org_id)
    if org is None or not _is_branch(org) or not allows(principal, Action.VIEW_ROSTER, org.path):
        return None
    return await _roster(session, principal, org, page, lang)


async def _roster(
    session: AsyncSession, principal: Principal, org: OrgUnit, page: int, lang: str
) -> Screen:
    _ = partial(gettext, lang)
    counts = await member_admin.roster_counts(session=session, org_ids=[_id(org)])
    pages = max(1, -(-counts.total // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    people = await members.list_members(
        session=session, org_ids=[_id(org)], offset=page * PAGE_SIZE, limit=PAGE_SIZE
    )
    lines = [
        html.escape(await rules.org_trail(session=session, org=org)),
        _("Members: {total} ({linked} on Telegram, {unlinked} not linked)").format(
            total=counts.total, linked=counts.linked, unlinked=counts.total - counts.linked
        ),
    ]
    if counts.total == 0:
        lines.append(_("Nobody is on this roster yet."))
    else:
        lines.append(
            _("Page {page} of {pages}. Tap a name to open the card.").format(
                page=page + 1, pages=pages
            )
        )
    rows = [[button(_person_label(m, lang), CARD.encode(_id(m), page))] for m in people]
    paging = []
    if page > 0:
        paging.append(button(_("◀ Previous"), PAGE.encode(_id(org), page - 1)))
    if page + 1 < pages:
        paging.append(button(_("Next ▶"), PAGE.encode(_id(org), page + 1)))
    if paging:
        rows.append(paging)
    parent = await orgs.get_org(session=session, org_id=org.parent_id) if org.parent_id else None
    if parent is not None and allows(principal, Action.VIEW_ROSTER, parent.path):
        rows.append([button(_("Other branch"), PICKER.nav.encode(0, _id(parent), 0))])
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def _person_label(member: Member, lang: str) -> str:
    if member.telegram_user_id is not None:
        return f"✅ {member.name}"
    return gettext(lang, "{name} (not linked)").format(name=member.name)


# --- the member card ----------------------------------------------------------------------


async def on_card(update: Update, context: BotContext) -> None:
    """Open a member's card."""
    member_id, page = callback_ints(CARD, update)
    await answer_with(update, context, lambda s, p: _card(s, p, member_id, page, context.language))


async def _card(
    session: AsyncSession, principal: Principal, member_id: int, page: int, lang: str
) -> Screen | None:
    _ = partial(gettext, lang)
    member = await members.get_member(session=session, member_id=member_id)
    if member is None or not member.active:
        raise rules.Refused(rules.GONE)
    org = await orgs.get_org(session=session, org_id=member.org_id)
    if org is None or not allows(principal, Action.VIEW_ROSTER, org.path):
        return None
    manages = allows(principal, Action.MANAGE_MEMBERS, org.path)
    if member.phone is None:
        phone = _("not recorded")
    elif manages or allows(principal, Action.INVITE, org.path):
        phone = member.phone
    else:
        phone = mask_phone(member.phone)
    joined = rules.format_day(lang, member.joined_on) if member.joined_on else _("not recorded")
    trail = await rules.org_trail(session=session, org=org)
    lines = [
        f"<b>{html.escape(member.name)}</b>",
        _("Branch: {branch}").format(branch=html.escape(trail)),
        _("Phone: {phone}").format(phone=html.escape(phone)),
        _("Status: {status}").format(status=_(rules.STATUS_NAMES[member.status])),
        _("Joined: {date}").format(date=joined),
        _("Telegram: linked") if member.telegram_user_id else _("Telegram: not linked"),
    ]
    rows: list[list[InlineKeyboardButton]] = []
    if manages:
        actions = [button(_("Status"), STATUS.encode(member_id))]
        if await _may_transfer_somewhere(session, principal):
            actions.insert(0, button(_("Transfer"), TRANSFER.nav.encode(member_id, 0, 0)))
        actions.append(button(_("Deactivate"), DEACTIVATE.encode(member_id)))
        rows.append(actions)
    rows.append([button(_("Back to the roster"), PAGE.encode(member.org_id, page))])
    return "\n".join(lines), InlineKeyboardMarkup(rows)


async def _may_transfer_somewhere(session: AsyncSession, principal: Principal) -> bool:
    """More than one branch within reach: several scopes, or one above branch level."""
    roots = scope_roots(principal, Action.MANAGE_MEMBERS)
    if len(roots) != 1:
        return len(roots) > 1
    org = await orgs.get_org(session=session, org_id=roots[0].org_id)
    return org is not None and not _is_branch(org)


def _back_to_card(member_id: int, lang: str) -> list[InlineKeyboardButton]:
    return [button(gettext(lang, "Cancel"), CARD.encode(member_id, 0))]


# --- transfer -----------------------------------------------------------------------------


async def on_transfer_nav(update: Update, context: BotContext) -> None:
    """Choose the branch to move a member to (walking the tree)."""
    member_id, at, page = callback_ints(TRANSFER.nav, update)
    lang = context.language

    async def build(session: AsyncSession, principal: Principal) -> Screen | None:
        _ = partial(gettext, lang)
        member, org = await rules.managed_member(
            session=session, principal=principal, member_id=member_id
        )
        found = await TRANSFER.screen(
            session=session,
            principal=principal,
            action=Action.MANAGE_MEMBERS,
            subject=member_id,
            at=at,
            page=page,
            can_pick=lambda unit: _is_branch(unit) and unit.id != org.id,
            _=_,
        )
        if found is None:
            return None
        lines = [
            _("Move {name} from {branch} to which branch?").format(
                name=html.escape(member.name), branch=html.escape(org.name)
            )
        ]
        if found.trail:
            lines.append(html.escape(found.trail))
        rows = [*found.markup.inline_keyboard, _back_to_card(member_id, lang)]
        return "\n".join(lines), InlineKeyboardMarkup(rows)

    await answer_with(update, context, build)


async def on_transfer_pick(update: Update, context: BotContext) -> None:
    """Ask to confirm the move to the chosen branch."""
    member_id, to_org_id = callback_ints(TRANSFER.pick, update)
    lang = context.language

    async def build(session: AsyncSession, principal: Principal) -> Screen | None:
        _ = partial(gettext, lang)
        member, org = await rules.managed_member(
            session=session, principal=principal, member_id=member_id
        )
        target = await orgs.get_org(session=session, org_id=to_org_id)
        if target is None or not allows(principal, Action.MANAGE_MEMBERS, target.path):
            return None
        text = _("Move {name} from {source} to {target}?").format(
            name=html.escape(member.name),
            source=html.escape(org.name),
            target=html.escape(target.name),
        )
        confirm = button(_("Yes, move"), TRANSFER_DO.encode(member_id, _id(org), to_org_id))
        return text, InlineKeyboardMarkup([[confirm], _back_to_card(member_id, lang)])

    await answer_with(update, context, build)


async def on_transfer_do(update: Update, context: BotContext) -> None:
    """Move the member and tell the secretaries of both branches."""
    member_id, from_org_id, to_org_id = callback_ints(TRANSFER_DO, update)
    user = update.effective_user
    if user is None:
        return
    services = context.services
    try:
        async with services.database.session_scope() as session:
            principal = await load_principal(session=session, telegram_user_id=user.id)
            done = await rules.transfer(
                session=session,
                principal=principal,
                member_id=member_id,
                from_org_id=from_org_id,
                to_org_id=to_org_id,
                now=services.clock.now(),
            )
    except rules.Refused as refused:
        await refuse(update, context, refused.text(context.language))
        return
    values = {
        "name": html.escape(done.member_name),
        "source": html.escape(done.from_org.name),
        "target": html.escape(done.to_org.name),
    }
    text = context._("{name} has been moved from {source} to {target}.").format(**values)
    await show(update, context, text)
    await tell(
        context.bot,
        services.database,
        [someone for someone in done.told if someone.telegram_user_id != user.id],
        lambda lang: gettext(lang, "{name} has been moved from {source} to {target}.").format(
            **values
        ),
        now=services.clock.now(),
    )


# --- status -------------------------------------------------------------------------------


async def on_status(update: Update, context: BotContext) -> None:
    """Show the member's status with the next step and a way to correct it."""
    (member_id,) = callback_ints(STATUS, update)
    lang = context.language

    async def build(session: AsyncSession, principal: Principal) -> Screen | None:
        _ = partial(gettext, lang)
        member, _org = await rules.managed_member(
            session=session, principal=principal, member_id=member_id
        )
        current = rules.STATUS_PATH.index(member.status)
        lines = [
            f"<b>{html.escape(member.name)}</b>",
            _("Status: {status}").format(status=_(rules.STATUS_NAMES[member.status])),
        ]
        since = await member_admin.probation_started_on(session=session, member_id=member_id)
        if member.status is MemberStatus.PROBATIONARY and since is not None:
            lines.append(_("Probationary since {date}").format(date=rules.format_day(lang, since)))
        rows: list[list[InlineKeyboardButton]] = []
        following = rules.next_status(member.status)
        if following is not None:
            label = _("Next step: {status}").format(status=_(rules.STATUS_NAMES[following]))
            index = rules.STATUS_PATH.index(following)
            rows.append([button(label, STATUS_STEP.encode(member_id, current, index))])
        rows.append([button(_("Correct the status"), STATUS_FIX.encode(member_id, current))])
        rows.append(_back_to_card(member_id, lang))
        return "\n".join(lines), InlineKeyboardMarkup(rows)

    await answer_with(update, context, build)


async def on_status_step(update: Update, context: BotContext) -> None:
    """Ask to confirm one step forward, dated today."""
    member_id, current, target = callback_ints(STATUS_STEP, update)
    lang = context.language
    today = context.services.clock.now().astimezone(context.services.settings.tz).date()

    async def build(session: AsyncSession, principal: Principal) -> Screen | None:
        _ = partial(gettext, lang)
        member, _org = await rules.managed_member(
            session=session, principal=principal, member_id=member_id
        )
        before, after = _status(current), _status(target)
        if before is None or after is None or member.status is not before:
            raise rules.Refused(rules.STALE)
        text = _("Change {name} from {before} to {after}, dated {date}?").format(
            name=html.escape(member.name),
            before=_(rules.STATUS_NAMES[before]),
            after=_(rules.STATUS_NAMES[after]),
            date=rules.format_day(lang, today),
        )
        confirm = button(
            _("Yes, change"), STATUS_DO.encode(member_id, current, target, rules.STEP)
        )
        return text, InlineKeyboardMarkup([[confirm], _back_to_card(member_id, lang)])

    await answer_with(update, context, build)


async def on_status_fix(update: Update, context: BotContext) -> None:
    """Offer every other status, for correcting a wrong record."""
    member_id, current = callback_ints(STATUS_FIX, update)
    lang = context.language

    async def build(session: AsyncSession, principal: Principal) -> Screen | None:
        _ = partial(gettext, lang)
        member, _org = await rules.managed_member(
            session=session, principal=principal, member_id=member_id
        )
        if _status(current) is not member.status:
            raise rules.Refused(rules.STALE)
        text = _("Correct the status of {name} to:").format(name=html.escape(member.name))
        rows = [
            [button(_(rules.STATUS_NAMES[status]), STATUS_WHY.encode(member_id, current, index))]
            for index, status in enumerate(rules.STATUS_PATH)
            if index != current
        ]
        return text, InlineKeyboardMarkup([*rows, _back_to_card(member_id, lang)])

    await answer_with(update, context, build)


async def on_status_why(update: Update, context: BotContext) -> None:
    """Ask why the status is being corrected."""
    member_id, current, target = callback_ints(STATUS_WHY, update)
    lang = context.language

    async def build(session: AsyncSession, principal: Principal) -> Screen | None:
        _ = partial(gettext, lang)
        member, _org = await rules.managed_member(
            session=session, principal=principal, member_id=member_id
        )
        after = _status(target)
        if _status(current) is not member.status or after is None:
            raise rules.Refused(rules.STALE)
        text = _("Why is the status of {name} corrected to {after}?").format(
            name=html.escape(member.name), after=_(rules.STATUS_NAMES[after])
        )
        rows = [
            [button(_(label), STATUS_DO.encode(member_id, current, target, reason))]
            for reason, label in rules.CORRECTION_REASONS.items()
        ]
        return text, InlineKeyboardMarkup([*rows, _back_to_card(member_id, lang)])

    await answer_with(update, context, build)


async def on_status_do(update: Update, context: BotContext) -> None:
    """Record the status change (a step or a correction)."""
    member_id, current, target, reason = callback_values(STATUS_DO, update)
    user = update.effective_user
    before, after = _status(int(current)), _status(int(target))
    if user is None:
        return
    services = context.services
    now = services.clock.now()
    try:
        if before is None or after is None:
            raise rules.Refused(rules.STALE)
        async with services.database.session_scope() as session:
            principal = await load_principal(session=session, telegram_user_id=user.id)
            done = await rules.change_status(
                session=session,
                principal=principal,
                member_id=int(member_id),
                expected=before,
                to=after,
                reason=str(reason),
                today=now.astimezone(services.settings.tz).date(),
                now=now,
            )
    except rules.Refused as refused:
        await refuse(update, context, refused.text(context.language))
        return
    _ = context._
    text = _("Recorded: {name} is now {status} (from {date}).").format(
        name=html.escape(done.member_name),
        status=_(rules.STATUS_NAMES[done.after]),
        date=rules.format_day(context.language, done.changed_on),
    )
    back = button(_("Back to the card"), CARD.encode(int(member_id), 0))
    await show(update, context, text, InlineKeyboardMarkup([[back]]))


# --- deactivation -------------------------------------------------------------------------


async def on_deactivate(update: Update, context: BotContext) -> None:
    """Ask why the member leaves the roster."""
    (member_id,) = callback_ints(DEACTIVATE, update)
    lang = context.language

    async def build(session: AsyncSession, principal: Principal) -> Screen | None:
        _ = partial(gettext, lang)
        member, _org = await rules.managed_member(
            session=session, principal=principal, member_id=member_id
        )
        text = _("Why does {name} leave the roster?").format(name=html.escape(member.name))
        rows = [
            [button(_(label), DEACTIVATE_ASK.encode(member_id, reason.value))]
            for reason, label in rules.DEACTIVATION_REASONS.items()
        ]
        return text, InlineKeyboardMarkup([*rows, _back_to_card(member_id, lang)])

    await answer_with(update, context, build)


def _reason(value: int | str) -> InactiveReason | None:
    try:
        reason = InactiveReason(str(value))
    except ValueError:
        return None
    return reason if reason in rules.DEACTIVATION_REASONS else None


async def on_deactivate_ask(update: Update, context: BotContext) -> None:
    """Ask to confirm taking the member off the roster."""
    member_id, value = callback_values(DEACTIVATE_ASK, update)
    lang = context.language
    reason = _reason(value)

    async def build(session: AsyncSession, principal: Principal) -> Screen | None:
        _ = partial(gettext, lang)
        member, _org = await rules.managed_member(
            session=session, principal=principal, member_id=int(member_id)
        )
        if reason is None:
            raise rules.Refused(rules.STALE)
        text = _(
            "Take {name} off the roster ({reason})? They will no longer be listed "
            "or sent messages. Their history is kept."
        ).format(name=html.escape(member.name), reason=_(rules.DEACTIVATION_REASONS[reason]))
        confirm = button(_("Yes, take off"), DEACTIVATE_DO.encode(_id(member), reason.value))
        return text, InlineKeyboardMarkup([[confirm], _back_to_card(_id(member), lang)])

    await answer_with(update, context, build)


async def on_deactivate_do(update: Update, context: BotContext) -> None:
    """Take the member off the roster; their branch roles end with it."""
    member_id, value = callback_values(DEACTIVATE_DO, update)
    user = update.effective_user
    reason = _reason(value)
    if user is None:
        return
    services = context.services
    try:
        if reason is None:
            raise rules.Refused(rules.STALE)
        async with services.database.session_scope() as session:
            principal = await load_principal(session=session, telegram_user_id=user.id)
            done = await rules.deactivate(
                session=session,
                principal=principal,
                member_id=int(member_id),
                reason=reason,
                now=services.clock.now(),
            )
            holder = (
                await recipient(session=session, telegram_user_id=done.telegram_user_id)
                if done.telegram_user_id is not None
                else None
            )
    except rules.Refused as refused:
        await refuse(update, context, refused.text(context.language))
        return
    text = context._("{name} is no longer on the roster of {branch}.").format(
        name=html.escape(done.member_name), branch=html.escape(done.org.name)
    )
    back = button(context._("Back to the roster"), PAGE.encode(_id(done.org), 0))
    await show(update, context, text, InlineKeyboardMarkup([[back]]))
    if holder is not None:
        await refresh_menu(
            context.bot,
            database=services.database,
            telegram_user_id=holder.telegram_user_id,
            language=holder.language,
        )


CALLBACKS: Final = (
    (PICKER.nav, on_roster_nav),
    (PICKER.pick, on_roster_pick),
    (PAGE, on_roster_page),
    (CARD, on_card),
    (TRANSFER.nav, on_transfer_nav),
    (TRANSFER.pick, on_transfer_pick),
    (TRANSFER_DO, on_transfer_do),
    (STATUS, on_status),
    (STATUS_STEP, on_status_step),
    (STATUS_FIX, on_status_fix),
    (STATUS_WHY, on_status_why),
    (STATUS_DO, on_status_do),
    (DEACTIVATE, on_deactivate),
    (DEACTIVATE_ASK, on_deactivate_ask),
    (DEACTIVATE_DO, on_deactivate_do),
)
