"""/invite and /invites: invitation links with a QR code to post, and revoking them.

/invite walks through buttons only (branch, role, uses, expiry); every step carries its
choices in the callback data and every tap re-checks them against the access policy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Final

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot import invitations as rules
from bot.access import Action, Principal, load_principal, scope_roots
from bot.callbacks import CallbackCodec
from bot.context import BotContext
from bot.htmltext import html_lines
from bot.i18n import N_
from bot.orgs import is_branch
from bot.refusals import Refused
from handlers.guard import STALE_BUTTON, refuse
from handlers.org_picker import OrgPicker, OrgQuestion
from handlers.screens import (
    Screen,
    answer_with,
    button,
    callback_ints,
    callback_values,
    first_tap,
    perform,
    show,
)
from storage import invitations as store
from storage import orgs
from storage.models import Invitation, OrgUnit, Role

PAGE_SIZE: Final = 8

PICKER: Final = OrgPicker(  # subject: unused (0)
    CallbackCodec("inv.n", (int, int, int)), CallbackCodec("inv.o", (int, int))
)
QUESTION: Final = OrgQuestion(
    PICKER,
    Action.INVITE,
    N_("Which branch is the invitation for?"),
    lambda _principal, org: is_branch(org),
)
PICK_ROLE: Final = CallbackCodec("inv.r", (int, str))  # org id, role
PICK_USES: Final = CallbackCodec("inv.u", (int, str, int))  # org id, role, max uses
CREATE: Final = CallbackCodec("inv.c", (int, str, int, int))  # org id, role, max uses, days
LIST_PAGE: Final = CallbackCodec("inv.l", (int,))  # page
REVOKE: Final = CallbackCodec("inv.x", (int, int))  # invitation id, page to redraw

NO_INVITE: Final = N_(
    "Only branch secretaries and township or county staff can create invitations."
)
NO_MANAGE: Final = N_("Only branch secretaries and township or county staff manage invitations.")
_STATE_WORDS: Final = {
    rules.CodeStatus.EXPIRED: N_("expired"),
    rules.CodeStatus.REVOKED: N_("revoked"),
    rules.CodeStatus.USED_UP: N_("used up"),
}

Translate = Callable[[str], str]


def paging_row(
    _: Translate, page: int, total: int, encode: Callable[[int], str]
) -> list[InlineKeyboardButton]:
    """Previous/next buttons for a list of `total` items, PAGE_SIZE to a page."""
    row = []
    if page > 0:
        row.append(button(_("« Previous"), encode(page - 1)))
    if (page + 1) * PAGE_SIZE < total:
        row.append(button(_("Next »"), encode(page + 1)))
    return row


def keyboard(rows: Sequence[Sequence[InlineKeyboardButton]]) -> InlineKeyboardMarkup | None:
    """An inline keyboard without its empty rows (None if nothing is left)."""
    kept = [list(row) for row in rows if row]
    return InlineKeyboardMarkup(kept) if kept else None


def in_rows(
    buttons: Sequence[InlineKeyboardButton], width: int = 2
) -> list[list[InlineKeyboardButton]]:
    """Buttons laid out `width` to a row."""
    return [list(buttons[i : i + width]) for i in range(0, len(buttons), width)]


# --- /invite: choose branch, role, uses, expiry -------------------------------------------


async def cmd_invite(update: Update, context: BotContext) -> None:
    """Start making an invitation link and QR code for a branch in the user's scope."""
    await answer_with(update, context, lambda s, p: _first(s, p, context), refusal=NO_INVITE)


async def _first(db: AsyncSession, principal: Principal, context: BotContext) -> Screen | None:
    """Officers of one branch go straight to the role; staff pick a branch first."""
    return await QUESTION.first(
        db,
        principal,
        context.language,
        lambda org: _role_step(db, principal, org, context),
    )


async def on_nav(update: Update, context: BotContext) -> None:
    """Move around the org tree to find the branch."""
    await QUESTION.on_nav(update, context)


async def on_pick_org(update: Update, context: BotContext) -> None:
    """A branch was chosen: offer the roles the user may give there."""
    _, org_id = callback_ints(PICKER.pick, update)

    async def build(db: AsyncSession, principal: Principal) -> Screen:
        org, _role = await rules.invitable(
            db=db, actor=principal, org_id=org_id, role_name=Role.MEMBER.value
        )
        return await _role_step(db, principal, org, context)

    await answer_with(update, context, build)


async def _role_step(
    db: AsyncSession, principal: Principal, org: OrgUnit, context: BotContext
) -> Screen:
    roles = rules.offered_roles(principal, org)
    label = await rules.org_label(db=db, org=org)
    if roles == [Role.MEMBER]:
        return _uses_step(context, org, Role.MEMBER, label)
    buttons = [
        [
            button(
                rules.role_label(context.language, role),
                PICK_ROLE.encode(org.id or 0, role.value),
            )
        ]
        for role in roles
    ]
    text = context._("Invitation to {branch}.\nWhich role does the new member get?")
    return text.format(branch=label), InlineKeyboardMarkup(buttons)


def _uses_step(context: BotContext, org: OrgUnit, role: Role, label: str) -> Screen:
    buttons = [
        button(
            rules.max_uses_label(context.language, uses),
            PICK_USES.encode(org.id or 0, role.value, uses),
        )
        for uses in rules.USES_CHOICES
    ]
    text = context._("Invitation to {branch} as {role}.\nHow many people may use it?").format(
        branch=label, role=rules.role_label(context.language, role)
    )
    return text, InlineKeyboardMarkup([buttons])


def _days_step(context: BotContext, org: OrgUnit, role: Role, uses: int, label: str) -> Screen:
    def day_label(days: int) -> str:
        text = context.n_("{days} day", "{days} days", days).format(days=days)
        if days == rules.DEFAULT_DAYS:
            return context._("{choice} (usual)").format(choice=text)
        return text

    buttons = [
        button(day_label(days), CREATE.encode(org.id or 0, role.value, uses, days))
        for days in rules.DAYS_CHOICES
    ]
    text = context._("Invitation to {branch} as {role}, uses: {uses}.\nHow long is it valid?")
    formatted = text.format(
        branch=label,
        role=rules.role_label(context.language, role),
        uses=rules.max_uses_label(context.language, uses),
    )
    return formatted, InlineKeyboardMarkup([buttons])


async def on_pick_role(update: Update, context: BotContext) -> None:
    """A role was chosen: ask how many people may use the invitation."""
    org_id, role_name = callback_values(PICK_ROLE, update)

    async def build(db: AsyncSession, principal: Principal) -> Screen:
        org, role = await rules.invitable(
            db=db, actor=principal, org_id=int(org_id), role_name=str(role_name)
        )
        label = await rules.org_label(db=db, org=org)
        if rules.is_raised_role(role):  # a role is for one person: no question about uses
            return _days_step(context, org, role, 1, label)
        return _uses_step(context, org, role, label)

    await answer_with(update, context, build)


async def on_pick_uses(update: Update, context: BotContext) -> None:
    """The number of uses was chosen: ask how long the invitation is valid."""
    org_id, role_name, uses = callback_values(PICK_USES, update)

    async def build(db: AsyncSession, principal: Principal) -> Screen:
        if uses not in rules.USES_CHOICES:
            raise Refused(STALE_BUTTON)
        org, role = await rules.invitable(
            db=db, actor=principal, org_id=int(org_id), role_name=str(role_name)
        )
        if not rules.uses_allowed(role, int(uses)):
            raise Refused(rules.ONE_PERSON)
        label = await rules.org_label(db=db, org=org)
        return _days_step(context, org, role, int(uses), label)

    await answer_with(update, context, build)


async def on_create(update: Update, context: BotContext) -> None:
    """Everything is chosen: create the invitation and send its link as a QR code."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    org_id, role_name, uses, days = callback_values(CREATE, update)
    if not first_tap(update, context):
        await refuse(update, context, context._("This invitation has already been created."))
        return
    now = context.services.clock.now()

    async def act(db: AsyncSession, principal: Principal) -> tuple[rules.IssuedInvitation, str]:
        issued = await rules.create(
            db=db,
            actor=principal,
            org_id=int(org_id),
            role_name=str(role_name),
            max_uses=int(uses),
            days=int(days),
            now=now,
        )
        org = await orgs.get_org(db=db, org_id=issued.invitation.org_id)
        assert org is not None
        return issued, await rules.org_label(db=db, org=org)

    done = await perform(update, context, act)
    if done is None:
        return
    issued, label = done
    link = rules.deep_link(context.bot.username, issued.code)
    await show(update, context, context._("Invitation created. Here is its QR code:"))
    await context.bot.send_photo(
        chat.id,
        photo=rules.qr_png(link),
        caption=_caption(context, issued.invitation, label, link),
    )


def _caption(context: BotContext, invitation: Invitation, label: str, link: str) -> str:
    _, language = context._, context.language
    expires = rules.format_moment(
        language, invitation.expires_at, context.services.settings.tz, now=invitation.created_at
    )
    lines = [
        _("Invitation to join {branch}").format(branch=label),
        _("Role: {role}").format(role=rules.role_label(language, invitation.role)),
        _("Uses left: {uses}").format(uses=rules.uses_left_label(language, invitation)),
        _("Valid until: {moment}").format(moment=expires),
        link,
        _("Print this QR code and post it at the village office. Scan it with Telegram to join."),
    ]
    return html_lines(lines)


# --- /invites: list and revoke ------------------------------------------------------------


async def cmd_invites(update: Update, context: BotContext) -> None:
    """List the invitations the user may manage, each usable one with a revoke button."""
    await _show_list(update, context, 0)


async def on_list_page(update: Update, context: BotContext) -> None:
    """Show another page of the invitation list."""
    (page,) = callback_ints(LIST_PAGE, update)
    await _show_list(update, context, page)


async def _show_list(update: Update, context: BotContext, page: int) -> None:
    user = update.effective_user
    if user is None:
        return
    now = context.services.clock.now()
    async with context.services.database.session_scope() as db:
        principal = await load_principal(db=db, telegram_user_id=user.id)
        listing = await _invitation_list(db, principal, context, page, now)
    if listing is None:
        await refuse(update, context, context._(NO_MANAGE))
        return
    await show(update, context, *listing)


async def on_revoke(update: Update, context: BotContext) -> None:
    """Revoke one invitation (re-checking that the user may manage it), then redraw."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    invitation_id, page = callback_ints(REVOKE, update)
    now = context.services.clock.now()

    async def act(db: AsyncSession, principal: Principal) -> tuple[Screen | None]:
        await rules.revoke_as(db=db, actor=principal, invitation_id=invitation_id, now=now)
        return (await _invitation_list(db, principal, context, page, now),)

    done = await perform(update, context, act)  # None: refused (and answered)
    if done is None:
        return
    (listing,) = done
    await query.answer(context._("Invitation revoked. Its link and QR code no longer work."))
    if listing is not None:
        await query.edit_message_text(listing[0], reply_markup=listing[1])


async def _invitation_list(
    db: AsyncSession, principal: Principal, context: BotContext, page: int, now: datetime
) -> tuple[str, InlineKeyboardMarkup | None] | None:
    """One page of invitations in the user's scope; None if they manage none."""
    paths = [grant.org_path for grant in scope_roots(principal, Action.INVITE)]
    if not paths:
        return None
    _ = context._
    total = await store.count_invitations(db=db, org_paths=paths)
    if total == 0:
        return _("There are no invitations yet. Send /invite to create one."), None
    rows = await store.list_invitations(
        db=db, org_paths=paths, now=now, offset=page * PAGE_SIZE, limit=PAGE_SIZE
    )
    lines = [_("Invitations ({count}):").format(count=total)]
    buttons = []
    for number, row in enumerate(rows, start=page * PAGE_SIZE + 1):
        lines.append(_list_line(context, number, row, now))
        if rules.status_of(row.invitation, now) is rules.CodeStatus.VALID and rules.may_revoke(
            principal, row.invitation.role, row.org
        ):
            label = _("Revoke {number}").format(number=number)
            buttons.append(button(label, REVOKE.encode(row.invitation.id or 0, page)))
    markup = keyboard([*in_rows(buttons, 4), paging_row(_, page, total, LIST_PAGE.encode)])
    return html_lines(lines), markup


def _list_line(context: BotContext, number: int, row: store.InvitationRow, now: datetime) -> str:
    _, language, invitation = context._, context.language, row.invitation
    status = rules.status_of(invitation, now)
    if status is rules.CodeStatus.VALID:
        tz = context.services.settings.tz
        moment = rules.format_moment(language, invitation.expires_at, tz, now=now)
        state = _("valid until {moment}").format(moment=moment)
    else:
        state = _(_STATE_WORDS[status])
    return _("{number}. {branch} · {role} · used {uses}/{max_uses} · {state}").format(
        number=number,
        branch=row.org_name,
        role=rules.role_label(language, invitation.role),
        uses=invitation.uses,
        max_uses=rules.max_uses_label(language, invitation.max_uses),
        state=state,
    )


#: Every button of this module and its handler, for handlers/registry.py.
CALLBACKS: Final = (
    (PICKER.nav, on_nav),
    (PICKER.pick, on_pick_org),
    (PICK_ROLE, on_pick_role),
    (PICK_USES, on_pick_uses),
    (CREATE, on_create),
    (LIST_PAGE, on_list_page),
    (REVOKE, on_revoke),
)
