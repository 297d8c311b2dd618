"""The branch officers decide a request: link it to a roster entry, add one, or reject it.

Every button re-checks on the server that the tapping user may decide this request.
"""

from __future__ import annotations

from typing import Final

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardMarkup, Update

from bot import invitations as rules
from bot import registration as reg
from bot.access import load_principal
from bot.callbacks import CallbackCodec
from bot.context import BotContext
from bot.joining import Welcome, branch_of
from bot.registration_buttons import APPROVE, REJECT
from handlers.guard import STALE_BUTTON, refuse
from handlers.invitations import PAGE_SIZE, in_rows, keyboard, paging_row
from handlers.registration import perform_step, settle_in
from handlers.screens import button, callback_ints, callback_values, show
from storage import invitations as store
from storage import members
from storage.models import Member, MemberStatus, RegistrationRequest, Role

LINK = CallbackCodec("reg.ln", (int, int))  # request id, member id
NEW_ENTRY = CallbackCodec("reg.nw", (int,))  # request id
NEW_STATUS = CallbackCodec("reg.ns", (int, str))  # request id, member status


async def _invited_role(db: AsyncSession, request: RegistrationRequest) -> Role:
    """The role the request's invitation carries (a plain member if it is gone)."""
    invitation = await store.get_invitation(db=db, invitation_id=request.invitation_id)
    return Role(invitation.role) if invitation is not None else Role.MEMBER


async def _request_summary(
    db: AsyncSession, context: BotContext, request: RegistrationRequest
) -> str:
    """Who asks to join where, and the role the invitation would give them."""
    branch = await branch_of(db, request.org_id)
    role = await _invited_role(db, request)
    values = {
        "name": request.claimed_name,
        "phone": request.phone or context._("not given"),
        "branch": branch,
    }
    if rules.is_raised_role(role):
        text = context._("{name} (phone: {phone}) wants to join {branch} as {role}.")
        return text.format(**values, role=rules.role_label(context.language, role))
    return context._("{name} (phone: {phone}) wants to join {branch}.").format(**values)


async def on_approve(update: Update, context: BotContext) -> None:
    """Approve was tapped: pick the roster entry to link, or make a new one."""
    user = update.effective_user
    if user is None:
        return
    request_id, page = callback_ints(APPROVE, update)

    async def build(db: AsyncSession) -> tuple[str, InlineKeyboardMarkup | None]:
        principal = await load_principal(db=db, telegram_user_id=user.id)
        request = await reg.decidable(db=db, actor=principal, request_id=request_id)
        return await _member_choice(db, context, request, page)

    view = await perform_step(update, context, build, deciding=True)
    if view is not None:
        await show(update, context, *view)


async def _member_choice(
    db: AsyncSession, context: BotContext, request: RegistrationRequest, page: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    assert request.id is not None
    request_id = request.id
    _ = context._
    total = await members.count_unlinked(db=db, org_id=request.org_id)
    people = await members.list_unlinked(
        db=db, org_id=request.org_id, offset=page * PAGE_SIZE, limit=PAGE_SIZE
    )
    buttons = [button(_roster_label(m), LINK.encode(request_id, m.id or 0)) for m in people]
    rows = [
        *in_rows(buttons),
        paging_row(_, page, total, lambda p: APPROVE.encode(request_id, p)),
        [
            button(_("➕ New roster entry"), NEW_ENTRY.encode(request_id)),
            button(_("Reject"), REJECT.encode(request_id)),
        ],
    ]
    summary = await _request_summary(db, context, request)
    text = (
        summary + "\n" + _("Who is this on the roster? Tap the name, or make a new roster entry.")
    )
    return text, keyboard(rows)


def _roster_label(member: Member) -> str:
    """A name with the end of the phone number, to tell two people of one name apart."""
    return f"{member.name} …{member.phone[-4:]}" if member.phone else member.name


async def on_link(update: Update, context: BotContext) -> None:
    """A roster entry was picked: approve the request and link the account to it."""
    request_id, member_id = callback_ints(LINK, update)
    await _approve(update, context, request_id, member_id, None)


async def on_new_entry(update: Update, context: BotContext) -> None:
    """ "New roster entry": ask which status the new member has."""
    user = update.effective_user
    if user is None:
        return
    (request_id,) = callback_ints(NEW_ENTRY, update)

    async def summary(db: AsyncSession) -> str:
        principal = await load_principal(db=db, telegram_user_id=user.id)
        request = await reg.decidable(db=db, actor=principal, request_id=request_id)
        return await _request_summary(db, context, request)

    text = await perform_step(update, context, summary, deciding=True)
    if text is None:
        return
    _ = context._
    buttons = [
        button(
            rules.status_label(context.language, status),
            NEW_STATUS.encode(request_id, status.value),
        )
        for status in reg.NEW_ENTRY_STATUSES
    ]
    back = button(_("« Back"), APPROVE.encode(request_id, 0))
    await show(
        update,
        context,
        text + "\n" + _("A new roster entry will be made. What is this person?"),
        InlineKeyboardMarkup([buttons, [back]]),
    )


async def on_new_status(update: Update, context: BotContext) -> None:
    """The status of the new roster entry was picked: create it and approve."""
    request_id, status_name = callback_values(NEW_STATUS, update)
    status = next((s for s in reg.NEW_ENTRY_STATUSES if s.value == status_name), None)
    if status is None:
        await refuse(update, context, context._(STALE_BUTTON))
        return
    await _approve(update, context, int(request_id), None, status)


async def _approve(
    update: Update,
    context: BotContext,
    request_id: int,
    member_id: int | None,
    status: MemberStatus | None,
) -> None:
    query, user = update.callback_query, update.effective_user
    assert query is not None
    assert user is not None
    now = context.services.clock.now()

    async def approve(db: AsyncSession) -> Welcome:
        principal = await load_principal(db=db, telegram_user_id=user.id)
        return await reg.approve(
            db=db,
            actor=principal,
            request_id=request_id,
            member_id=member_id,
            new_status=status,
            settings=context.services.settings,
            now=now,
        )

    welcome = await perform_step(update, context, approve, deciding=True)
    if welcome is None:
        return
    await query.answer(context._("Approved."))
    await query.edit_message_text(
        context._("Approved: {name} has joined {branch}.").format(
            name=welcome.name, branch=welcome.branch
        )
    )
    context.services.relay.wake()  # the welcome, then the invitations to coming sessions
    await settle_in(context, welcome)


async def on_reject(update: Update, context: BotContext) -> None:
    """Reject the request and tell the person who asked."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    (request_id,) = callback_ints(REJECT, update)
    now = context.services.clock.now()

    async def reject(db: AsyncSession) -> RegistrationRequest:
        principal = await load_principal(db=db, telegram_user_id=user.id)
        return await reg.reject(db=db, actor=principal, request_id=request_id, now=now)

    request = await perform_step(update, context, reject, deciding=True)
    if request is None:
        return
    context.services.relay.wake()  # the requester is told
    await query.answer(context._("Rejected."))
    await query.edit_message_text(
        context._("Rejected: {name} was told.").format(name=request.claimed_name)
    )


#: Every button the officers tap and its handler, for handlers/registry.py.
CALLBACKS: Final = (
    (APPROVE, on_approve),
    (LINK, on_link),
    (NEW_ENTRY, on_new_entry),
    (NEW_STATUS, on_new_status),
    (REJECT, on_reject),
)
