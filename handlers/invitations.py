"""/invite and /invites: invitation links with a QR code to post, and revoking them.

/invite walks through buttons only (branch, role, uses, expiry); every step carries its
choices in the callback data and every tap re-checks them against the access policy.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Final, NamedTuple

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot import invitations as rules
from bot.access import Action, Principal, load_principal, scope_roots
from bot.context import BotContext
from bot.i18n import N_
from handlers.callbacks import CallbackCodec
from handlers.guard import permitted, refuse
from storage import invitations as store
from storage import orgs
from storage.models import Invitation, OrgUnit, Role

PAGE_SIZE: Final = 8

BRANCH_PAGE = CallbackCodec("inv.br", (int, int))  # parent org id (0: any), page
PARENT_PAGE = CallbackCodec("inv.pa", (int,))  # page
PICK_ORG = CallbackCodec("inv.o", (int,))  # org id
PICK_ROLE = CallbackCodec("inv.r", (int, str))  # org id, role
PICK_USES = CallbackCodec("inv.u", (int, str, int))  # org id, role, max uses
CREATE = CallbackCodec("inv.c", (int, str, int, int))  # org id, role, max uses, days
LIST_PAGE = CallbackCodec("inv.l", (int,))  # page
REVOKE = CallbackCodec("inv.x", (int, int))  # invitation id, page to redraw

Translate = Callable[[str], str]

_STATE_WORDS: Final = {
    rules.CodeStatus.EXPIRED: N_("expired"),
    rules.CodeStatus.REVOKED: N_("revoked"),
    rules.CodeStatus.USED_UP: N_("used up"),
}


class View(NamedTuple):
    """A message to send or edit: text and its buttons."""

    text: str
    markup: InlineKeyboardMarkup | None


def paging_row(
    _: Translate, page: int, total: int, encode: Callable[[int], str]
) -> list[InlineKeyboardButton]:
    """Previous/next buttons for a list of `total` items, PAGE_SIZE to a page."""
    row = []
    if page > 0:
        row.append(InlineKeyboardButton(_("« Previous"), callback_data=encode(page - 1)))
    if (page + 1) * PAGE_SIZE < total:
        row.append(InlineKeyboardButton(_("Next »"), callback_data=encode(page + 1)))
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


def _paths(principal: Principal) -> list[str]:
    return [grant.org_path for grant in scope_roots(principal, Action.INVITE)]


# --- /invite: choose branch, role, uses, expiry -------------------------------------------


async def cmd_invite(update: Update, context: BotContext) -> None:
    """Start making an invitation link and QR code for a branch in the user's scope."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return
    _ = context._
    async with context.services.database.session_scope() as session:
        principal = await load_principal(session=session, telegram_user_id=user.id)
        view = await _first_step(session, principal, context) if _paths(principal) else None
    if view is None:
        await refuse(
            update,
            context,
            _("Only branch secretaries and township or county staff can create invitations."),
        )
        return
    await message.reply_text(view.text, reply_markup=view.markup)


async def _first_step(session: AsyncSession, principal: Principal, context: BotContext) -> View:
    paths, kinds = _paths(principal), sorted(rules.BRANCH_KINDS)
    branches, total = await store.page_branches(
        session=session, org_paths=paths, kinds=kinds, limit=PAGE_SIZE
    )
    if total == 1:
        return await _role_step(session, principal, branches[0], context)
    parents, parent_total = await store.page_branch_parents(
        session=session, org_paths=paths, kinds=kinds, limit=PAGE_SIZE
    )
    if parent_total > 1:
        return _parent_list(context._, parents, parent_total, 0)
    return _branch_list(context._, branches, total, 0, 0)


def _parent_list(_: Translate, parents: list[OrgUnit], total: int, page: int) -> View:
    buttons = [
        InlineKeyboardButton(p.name, callback_data=BRANCH_PAGE.encode(p.id or 0, 0))
        for p in parents
    ]
    rows = [*in_rows(buttons), paging_row(_, page, total, PARENT_PAGE.encode)]
    return View(_("Which township is the invitation for?"), keyboard(rows))


def _branch_list(
    _: Translate, branches: list[OrgUnit], total: int, parent_id: int, page: int
) -> View:
    buttons = [
        InlineKeyboardButton(b.name, callback_data=PICK_ORG.encode(b.id or 0)) for b in branches
    ]
    rows = [
        *in_rows(buttons),
        paging_row(_, page, total, lambda p: BRANCH_PAGE.encode(parent_id, p)),
    ]
    if parent_id:
        rows.append([InlineKeyboardButton(_("« Townships"), callback_data=PARENT_PAGE.encode(0))])
    return View(_("Which branch is the invitation for?"), keyboard(rows))


async def _role_step(
    session: AsyncSession, principal: Principal, org: OrgUnit, context: BotContext
) -> View:
    roles = rules.offered_roles(principal, org)
    label = html.escape(await rules.org_label(session=session, org=org))
    if roles == [Role.MEMBER]:
        return _uses_step(context, org, Role.MEMBER, label)
    buttons = [
        InlineKeyboardButton(
            rules.role_label(context.language, role),
            callback_data=PICK_ROLE.encode(org.id or 0, role.value),
        )
        for role in roles
    ]
    text = context._("Invitation to {branch}.\nWhich role does the new member get?")
    return View(text.format(branch=label), InlineKeyboardMarkup([[b] for b in buttons]))


def _uses_step(context: BotContext, org: OrgUnit, role: Role, label: str) -> View:
    buttons = [
        InlineKeyboardButton(
            rules.max_uses_label(context.language, uses),
            callback_data=PICK_USES.encode(org.id or 0, role.value, uses),
        )
        for uses in rules.USES_CHOICES
    ]
    text = context._("Invitation to {branch} as {role}.\nHow many people may use it?")
    role_text = rules.role_label(context.language, role)
    return View(text.format(branch=label, role=role_text), InlineKeyboardMarkup([buttons]))


def _days_step(context: BotContext, org: OrgUnit, role: Role, uses: int, label: str) -> View:
    def day_label(days: int) -> str:
        text = context.n_("{days} day", "{days} days", days).format(days=days)
        return context._("{choice} (usual)").format(choice=text) if days == 7 else text

    buttons = [
        InlineKeyboardButton(
            day_label(days), callback_data=CREATE.encode(org.id or 0, role.value, uses, days)
        )
        for days in rules.DAYS_CHOICES
    ]
    text = context._("Invitation to {branch} as {role}, uses: {uses}.\nHow long is it valid?")
    formatted = text.format(
        branch=label,
        role=rules.role_label(context.language, role),
        uses=rules.max_uses_label(context.language, uses),
    )
    return View(formatted, InlineKeyboardMarkup([buttons]))


class _Choice(NamedTuple):
    principal: Principal
    org: OrgUnit | None  # None: the org is gone or not a branch
    allowed: bool
    role: Role | None  # None: not a role this principal may give here


async def _load_choice(
    session: AsyncSession, user_id: int, org_id: int, role_name: str | None
) -> _Choice:
    """Re-check a tapped choice against the database and the access policy."""
    principal = await load_principal(session=session, telegram_user_id=user_id)
    org = await orgs.get_org(session=session, org_id=org_id)
    if org is None or org.kind not in rules.BRANCH_KINDS:
        return _Choice(principal, None, False, None)
    allowed = rules.may_invite_to(principal, org)
    offered = rules.offered_roles(principal, org) if allowed else []
    role = next((r for r in offered if r.value == (role_name or Role.MEMBER.value)), None)
    return _Choice(principal, org, allowed, role)


async def _refuse_choice(update: Update, context: BotContext, choice: _Choice) -> bool:
    """Answer a tap whose choice no longer holds; True if it was refused."""
    if choice.org is None:
        await refuse(update, context, context._("This button is no longer valid."))
        return True
    if not await permitted(update, context, choice.principal, Action.INVITE, choice.org.path):
        return True
    if choice.role is None:
        await refuse(update, context, context._("You may not give this role here."))
        return True
    return False


async def _edit(update: Update, view: View) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_text(view.text, reply_markup=view.markup)


async def on_parent_page(update: Update, context: BotContext) -> None:
    """Show a page of the townships (or other parents) with branches in scope."""
    query, user = update.callback_query, update.effective_user
    decoded = PARENT_PAGE.decode(query.data if query else None)
    if query is None or user is None or decoded is None:
        return
    page = int(decoded[0])
    async with context.services.database.session_scope() as session:
        principal = await load_principal(session=session, telegram_user_id=user.id)
        parents, total = await store.page_branch_parents(
            session=session,
            org_paths=_paths(principal),
            kinds=sorted(rules.BRANCH_KINDS),
            offset=page * PAGE_SIZE,
            limit=PAGE_SIZE,
        )
    if not parents:
        await refuse(update, context, context._("This button is no longer valid."))
        return
    await _edit(update, _parent_list(context._, parents, total, page))


async def on_branch_page(update: Update, context: BotContext) -> None:
    """Show a page of the branches in scope (under one township if chosen)."""
    query, user = update.callback_query, update.effective_user
    decoded = BRANCH_PAGE.decode(query.data if query else None)
    if query is None or user is None or decoded is None:
        return
    parent_id, page = int(decoded[0]), int(decoded[1])
    async with context.services.database.session_scope() as session:
        principal = await load_principal(session=session, telegram_user_id=user.id)
        branches, total = await store.page_branches(
            session=session,
            org_paths=_paths(principal),
            kinds=sorted(rules.BRANCH_KINDS),
            parent_id=parent_id or None,
            offset=page * PAGE_SIZE,
            limit=PAGE_SIZE,
        )
    if not branches:
        await refuse(update, context, context._("This button is no longer valid."))
        return
    await _edit(update, _branch_list(context._, branches, total, parent_id, page))


async def on_pick_org(update: Update, context: BotContext) -> None:
    """A branch was chosen: offer the roles the user may give there."""
    query, user = update.callback_query, update.effective_user
    decoded = PICK_ORG.decode(query.data if query else None)
    if query is None or user is None or decoded is None:
        return
    org_id = int(decoded[0])
    view = None
    async with context.services.database.session_scope() as session:
        choice = await _load_choice(session, user.id, org_id, None)
        if choice.org is not None and choice.allowed:
            view = await _role_step(session, choice.principal, choice.org, context)
    if view is None:
        await _refuse_choice(update, context, choice)
        return
    await _edit(update, view)


async def on_pick_role(update: Update, context: BotContext) -> None:
    """A role was chosen: ask how many people may use the invitation."""
    query, user = update.callback_query, update.effective_user
    decoded = PICK_ROLE.decode(query.data if query else None)
    if query is None or user is None or decoded is None:
        return
    org_id, role_name = int(decoded[0]), str(decoded[1])
    async with context.services.database.session_scope() as session:
        choice = await _load_choice(session, user.id, org_id, role_name)
        label = await rules.org_label(session=session, org=choice.org) if choice.org else ""
    if await _refuse_choice(update, context, choice):
        return
    assert choice.org is not None
    assert choice.role is not None
    await _edit(update, _uses_step(context, choice.org, choice.role, html.escape(label)))


async def on_pick_uses(update: Update, context: BotContext) -> None:
    """The number of uses was chosen: ask how long the invitation is valid."""
    query, user = update.callback_query, update.effective_user
    decoded = PICK_USES.decode(query.data if query else None)
    if query is None or user is None or decoded is None:
        return
    org_id, role_name, uses = int(decoded[0]), str(decoded[1]), int(decoded[2])
    async with context.services.database.session_scope() as session:
        choice = await _load_choice(session, user.id, org_id, role_name)
        label = await rules.org_label(session=session, org=choice.org) if choice.org else ""
    if uses not in rules.USES_CHOICES:
        await refuse(update, context, context._("This button is no longer valid."))
        return
    if await _refuse_choice(update, context, choice):
        return
    assert choice.org is not None
    assert choice.role is not None
    await _edit(update, _days_step(context, choice.org, choice.role, uses, html.escape(label)))


async def on_create(update: Update, context: BotContext) -> None:
    """Everything is chosen: create the invitation and send its link as a QR code."""
    query, user, chat = update.callback_query, update.effective_user, update.effective_chat
    decoded = CREATE.decode(query.data if query else None)
    if query is None or user is None or chat is None or decoded is None:
        return
    org_id, role_name = int(decoded[0]), str(decoded[1])
    uses, days = int(decoded[2]), int(decoded[3])
    if uses not in rules.USES_CHOICES or days not in rules.DAYS_CHOICES:
        await refuse(update, context, context._("This button is no longer valid."))
        return
    now = context.services.clock.now()
    issued, label = None, ""
    async with context.services.database.session_scope() as session:
        choice = await _load_choice(session, user.id, org_id, role_name)
        if choice.org is not None and choice.allowed and choice.role is not None:
            issued = await rules.issue(
                session=session,
                org=choice.org,
                role=choice.role,
                max_uses=uses,
                days=days,
                actor=user.id,
                now=now,
                via="telegram",
            )
            label = await rules.org_label(session=session, org=choice.org)
    if issued is None:
        await _refuse_choice(update, context, choice)
        return
    link = rules.deep_link(context.bot.username, issued.code)
    _ = context._
    await _edit(
        update,
        View(_("Invitation created. Here is its QR code:"), None),
    )
    await context.bot.send_photo(
        chat.id,
        photo=rules.qr_png(link),
        caption=_caption(context, issued.invitation, html.escape(label), link),
    )


def _caption(context: BotContext, invitation: Invitation, label: str, link: str) -> str:
    _, language = context._, context.language
    expires = rules.format_moment(language, invitation.expires_at, context.services.settings.tz)
    lines = [
        _("Invitation to join {branch}").format(branch=label),
        _("Role: {role}").format(role=rules.role_label(language, invitation.role)),
        _("Uses left: {uses}").format(uses=rules.uses_left_label(language, invitation)),
        _("Valid until: {moment}").format(moment=expires),
        link,
        _("Print this QR code and post it at the village office. Scan it with Telegram to join."),
    ]
    return "\n".join(lines)


# --- /invites: list and revoke ------------------------------------------------------------


async def cmd_invites(update: Update, context: BotContext) -> None:
    """List the invitations the user may manage, each usable one with a revoke button."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return
    now = context.services.clock.now()
    async with context.services.database.session_scope() as session:
        principal = await load_principal(session=session, telegram_user_id=user.id)
        view = await _invitation_list(session, principal, context, 0, now)
    if view is None:
        await refuse(
            update,
            context,
            context._("Only branch secretaries and township or county staff manage invitations."),
        )
        return
    await message.reply_text(view.text, reply_markup=view.markup)


async def on_list_page(update: Update, context: BotContext) -> None:
    """Show another page of the invitation list."""
    query, user = update.callback_query, update.effective_user
    decoded = LIST_PAGE.decode(query.data if query else None)
    if query is None or user is None or decoded is None:
        return
    page = int(decoded[0])
    now = context.services.clock.now()
    async with context.services.database.session_scope() as session:
        principal = await load_principal(session=session, telegram_user_id=user.id)
        view = await _invitation_list(session, principal, context, page, now)
    if view is None:
        await refuse(update, context, context._("This button is no longer valid."))
        return
    await _edit(update, view)


async def on_revoke(update: Update, context: BotContext) -> None:
    """Revoke one invitation (re-checking that the user may manage it), then redraw."""
    query, user = update.callback_query, update.effective_user
    decoded = REVOKE.decode(query.data if query else None)
    if query is None or user is None or decoded is None:
        return
    invitation_id, page = int(decoded[0]), int(decoded[1])
    now = context.services.clock.now()
    async with context.services.database.session_scope() as session:
        principal = await load_principal(session=session, telegram_user_id=user.id)
        invitation = await store.get_invitation(session=session, invitation_id=invitation_id)
        org = await orgs.get_org(session=session, org_id=invitation.org_id) if invitation else None
        allowed = org is not None and rules.may_invite_to(principal, org)
        revoked = False
        if invitation is not None and allowed:
            revoked = await rules.revoke(
                session=session, invitation=invitation, actor=user.id, now=now
            )
        view = await _invitation_list(session, principal, context, page, now) if revoked else None
    _ = context._
    if invitation is None or org is None:
        await refuse(update, context, _("This invitation no longer exists."))
    elif not await permitted(update, context, principal, Action.INVITE, org.path):
        return
    elif not revoked:
        await refuse(update, context, _("This invitation was already revoked."))
    else:
        await query.answer(_("Invitation revoked. Its link and QR code no longer work."))
        if view is not None:
            await query.edit_message_text(view.text, reply_markup=view.markup)


async def _invitation_list(
    session: AsyncSession, principal: Principal, context: BotContext, page: int, now: datetime
) -> View | None:
    """One page of invitations in the user's scope; None if they manage none."""
    paths = _paths(principal)
    if not paths:
        return None
    _ = context._
    total = await store.count_invitations(session=session, org_paths=paths)
    if total == 0:
        return View(_("There are no invitations yet. Send /invite to create one."), None)
    rows = await store.list_invitations(
        session=session, org_paths=paths, now=now, offset=page * PAGE_SIZE, limit=PAGE_SIZE
    )
    lines = [_("Invitations ({count}):").format(count=total)]
    buttons = []
    for number, row in enumerate(rows, start=page * PAGE_SIZE + 1):
        lines.append(_list_line(context, number, row, now))
        if rules.status_of(row.invitation, now) is rules.CodeStatus.VALID:
            data = REVOKE.encode(row.invitation.id or 0, page)
            buttons.append(
                InlineKeyboardButton(
                    _("Revoke {number}").format(number=number), callback_data=data
                )
            )
    rows_of_buttons = [*in_rows(buttons, 4), paging_row(_, page, total, LIST_PAGE.encode)]
    return View("\n".join(lines), keyboard(rows_of_buttons))


def _list_line(context: BotContext, number: int, row: store.InvitationRow, now: datetime) -> str:
    _, language, invitation = context._, context.language, row.invitation
    status = rules.status_of(invitation, now)
    if status is rules.CodeStatus.VALID:
        moment = rules.format_moment(language, invitation.expires_at, context.services.settings.tz)
        state = _("valid until {moment}").format(moment=moment)
    else:
        state = _(_STATE_WORDS[status])
    return _("{number}. {branch} · {role} · used {uses}/{max_uses} · {state}").format(
        number=number,
        branch=html.escape(row.org_name),
        role=rules.role_label(language, invitation.role),
        uses=invitation.uses,
        max_uses=rules.max_uses_label(language, invitation.max_uses),
        state=state,
    )


#: Every button of this module and its handler, for handlers/registry.py.
CALLBACKS: Final = (
    (PARENT_PAGE, on_parent_page),
    (BRANCH_PAGE, on_branch_page),
    (PICK_ORG, on_pick_org),
    (PICK_ROLE, on_pick_role),
    (PICK_USES, on_pick_uses),
    (CREATE, on_create),
    (LIST_PAGE, on_list_page),
    (REVOKE, on_revoke),
)
