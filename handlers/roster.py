"""/members: the branch roster with who has linked Telegram, and the member cards.

Secretaries land on their branch; township and county staff pick a branch first;
inspectors read (phones masked). Every tap carries ids only: the handler reloads the member
and re-checks VIEW_ROSTER before showing anything. The card's actions (transfer, status,
deactivation) live in handlers/member_actions.py.
"""

from __future__ import annotations

from functools import partial
from typing import Final

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot import roster as rules
from bot.access import Action, Principal, allows, scope_roots
from bot.context import BotContext
from bot.dates import format_calendar_day
from bot.htmltext import bold, html_lines
from bot.i18n import N_, gettext
from bot.orgs import is_branch, org_trail
from bot.refusals import MEMBER_GONE, Refused
from handlers import member_actions
from handlers.org_picker import OrgQuestion
from handlers.roster_codecs import CARD, DEACTIVATE, PAGE, PICKER, STATUS, TRANSFER
from handlers.screens import Screen, answer_with, button, callback_ints
from storage import member_admin, members, orgs
from storage.models import Member, OrgUnit

PAGE_SIZE: Final = 10
QUESTION: Final = OrgQuestion(
    PICKER,
    Action.VIEW_ROSTER,
    N_("Whose roster? Choose a branch:"),
    lambda _principal, org: is_branch(org),
)

NO_ROSTER: Final = N_("Only branch officers and party staff can see a roster.")


def mask_phone(phone: str) -> str:
    """Everything but the last four digits hidden, for readers who only look."""
    return "*" * max(len(phone) - 4, 0) + phone[-4:]


def _id(row: Member | OrgUnit) -> int:
    assert row.id is not None
    return row.id


# --- the roster ---------------------------------------------------------------------------


async def cmd_members(update: Update, context: BotContext) -> None:
    """Show the roster of the user's branch, or let staff pick a branch first."""
    lang = context.language
    await answer_with(
        update,
        context,
        lambda s, p: QUESTION.first(s, p, lang, lambda org: _roster(s, p, org, 0, lang)),
        refusal=NO_ROSTER,
    )


async def on_roster_nav(update: Update, context: BotContext) -> None:
    """Move around the org tree to find a branch."""
    await QUESTION.on_nav(update, context)


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
    db: AsyncSession, principal: Principal, org_id: int, page: int, lang: str
) -> Screen | None:
    org = await orgs.get_org(db=db, org_id=org_id)
    if org is None or not is_branch(org) or not allows(principal, Action.VIEW_ROSTER, org.path):
        return None
    return await _roster(db, principal, org, page, lang)


async def _roster(
    db: AsyncSession, principal: Principal, org: OrgUnit, page: int, lang: str
) -> Screen:
    _ = partial(gettext, lang)
    counts = await member_admin.roster_counts(db=db, org_ids=[_id(org)])
    pages = max(1, -(-counts.total // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    people = await members.list_members(
        db=db, org_ids=[_id(org)], offset=page * PAGE_SIZE, limit=PAGE_SIZE
    )
    lines = [
        await org_trail(db=db, org=org),
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
    parent = await orgs.get_org(db=db, org_id=org.parent_id) if org.parent_id else None
    if parent is not None and allows(principal, Action.VIEW_ROSTER, parent.path):
        rows.append([button(_("Other branch"), PICKER.nav.encode(0, _id(parent), 0))])
    return html_lines(lines), InlineKeyboardMarkup(rows)


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
    db: AsyncSession, principal: Principal, member_id: int, page: int, lang: str
) -> Screen | None:
    _ = partial(gettext, lang)
    member = await members.get_member(db=db, member_id=member_id)
    if member is None or not member.active:
        raise Refused(MEMBER_GONE)
    org = await orgs.get_org(db=db, org_id=member.org_id)
    if org is None or not allows(principal, Action.VIEW_ROSTER, org.path):
        return None
    manages = allows(principal, Action.MANAGE_MEMBERS, org.path)
    if member.phone is None:
        phone = _("not recorded")
    elif manages or allows(principal, Action.INVITE, org.path):
        phone = member.phone
    else:
        phone = mask_phone(member.phone)
    joined = (
        format_calendar_day(member.joined_on, language=lang)
        if member.joined_on
        else _("not recorded")
    )
    trail = await org_trail(db=db, org=org)
    lines = [
        bold(member.name),
        _("Branch: {branch}").format(branch=trail),
        _("Phone: {phone}").format(phone=phone),
        _("Status: {status}").format(status=_(rules.STATUS_NAMES[member.status])),
        _("Joined: {date}").format(date=joined),
        _("Telegram: linked") if member.telegram_user_id else _("Telegram: not linked"),
    ]
    rows: list[list[InlineKeyboardButton]] = []
    if manages:
        actions = [button(_("Status"), STATUS.encode(member_id))]
        if await _may_transfer_somewhere(db, principal):
            actions.insert(0, button(_("Transfer"), TRANSFER.nav.encode(member_id, 0, 0)))
        actions.append(button(_("Deactivate"), DEACTIVATE.encode(member_id)))
        rows.append(actions)
    rows.append([button(_("Back to the roster"), PAGE.encode(member.org_id, page))])
    return html_lines(lines), InlineKeyboardMarkup(rows)


async def _may_transfer_somewhere(db: AsyncSession, principal: Principal) -> bool:
    """More than one branch within reach: several scopes, or one above branch level."""
    roots = scope_roots(principal, Action.MANAGE_MEMBERS)
    if len(roots) != 1:
        return len(roots) > 1
    org = await orgs.get_org(db=db, org_id=roots[0].org_id)
    return org is not None and not is_branch(org)


CALLBACKS: Final = (
    (PICKER.nav, on_roster_nav),
    (PICKER.pick, on_roster_pick),
    (PAGE, on_roster_page),
    (CARD, on_card),
    *member_actions.CALLBACKS,
)
