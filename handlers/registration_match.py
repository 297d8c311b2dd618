"""Finding a newcomer on the branch roster: by shared phone contact, or by name and digits.

Someone the roster does not know becomes a request to the branch officers instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Contact, InlineKeyboardMarkup, Update
from telegram.ext import filters

from bot import invitations as rules
from bot import registration as reg
from bot.context import BotContext
from bot.i18n import LANGUAGES, gettext
from handlers import awaiting
from handlers.callbacks import CallbackCodec
from handlers.guard import STALE_BUTTON, refuse
from handlers.invitations import PAGE_SIZE, in_rows, keyboard, paging_row
from handlers.registration import (
    BY_NAME,
    LAST_FOUR,
    SHARE_PHONE,
    Asked,
    Outcome,
    already_settled,
    branch_of,
    conclude,
    explain_refusal,
    forget,
    join_keyboard,
    no_invitation_text,
    tapped_invitation,
    usable_invitation,
    welcome_of,
)
from handlers.screens import button, callback_ints, show
from storage import invitations as store
from storage import members
from storage.models import Invitation, Member

NAMES = CallbackCodec("reg.n", (int, int))  # invitation id, page
PICK_NAME = CallbackCodec("reg.p", (int, int))  # invitation id, member id
NOT_LISTED = CallbackCodec("reg.x", (int,))  # invitation id


# --- which messages are ours (for handlers/registry.py) -----------------------------------


def awaiting_last_four(user_data: Mapping[int, Mapping[str, Any]]) -> filters.BaseFilter:
    """Text from a user who was just asked for the last four digits of their phone."""
    return awaiting.awaiting(user_data, LAST_FOUR) & filters.TEXT


def by_name_labels() -> list[str]:
    """The "find me by name" button as it reads in every language."""
    return [gettext(language, BY_NAME) for language in LANGUAGES]


# --- no match: the officers are asked ------------------------------------------------------


async def _ask(
    session: AsyncSession,
    invitation: Invitation,
    telegram_user_id: int,
    claimed_name: str,
    phone: str | None,
    now: datetime,
) -> Asked:
    """File a request for this branch; both ways of matching end here when nothing fits."""
    request = await reg.ask_deciders(
        session=session,
        invitation=invitation,
        telegram_user_id=telegram_user_id,
        claimed_name=claimed_name,
        phone=phone,
        now=now,
    )
    return Asked(
        request=request,
        branch=await branch_of(session, invitation.org_id),
        deciders=await reg.deciders(session=session, org_id=invitation.org_id),
    )


# --- (a) by phone contact -----------------------------------------------------------------


async def on_contact(update: Update, context: BotContext) -> None:
    """A shared contact: match its phone on the roster, or ask the branch officers."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None or message.contact is None:
        return
    contact = message.contact
    now = context.services.clock.now()
    outcome: Outcome | None = None
    try:
        async with context.services.database.session_scope() as session:
            outcome = await already_settled(session, user.id)
            invitation = await usable_invitation(session, context)
            if outcome is None and invitation is not None and contact.user_id == user.id:
                outcome = await _match_contact(session, context, invitation, contact, now)
    except reg.RegistrationRefused as refused:
        await explain_refusal(update, context, refused)
        return
    if outcome is not None:
        await conclude(update, context, outcome)
    elif invitation is None:
        await message.reply_text(no_invitation_text(context))
    else:
        text = context._("Please share your own number: tap “{share}” below.")
        await message.reply_text(
            text.format(share=context._(SHARE_PHONE)), reply_markup=join_keyboard(context)
        )


async def _match_contact(
    session: AsyncSession,
    context: BotContext,
    invitation: Invitation,
    contact: Contact,
    now: datetime,
) -> Outcome:
    assert contact.user_id is not None
    telegram_user_id = contact.user_id
    member = await reg.find_by_phone(
        session=session, invitation=invitation, phone=contact.phone_number
    )
    if member is not None and member.id is not None:
        joined = await reg.join(
            session=session,
            invitation=invitation,
            member_id=member.id,
            telegram_user_id=telegram_user_id,
            now=now,
            via="phone",
        )
        return await welcome_of(session, joined, context.language)
    name = " ".join(part for part in (contact.first_name, contact.last_name) if part)
    return await _ask(session, invitation, telegram_user_id, name, contact.phone_number, now)


# --- (b) by name and the last four digits -------------------------------------------------


async def on_find_by_name(update: Update, context: BotContext) -> None:
    """The "find me by name" button: list the unregistered names of the branch."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return
    async with context.services.database.session_scope() as session:
        settled = await already_settled(session, user.id)
        invitation = await usable_invitation(session, context)
        view = None
        if settled is None and invitation is not None:
            view = await _name_list(session, context, invitation, 0)
    if settled is not None:
        await conclude(update, context, settled)
    elif view is None:
        await message.reply_text(no_invitation_text(context))
    else:
        await message.reply_text(view[0], reply_markup=view[1])


async def _name_list(
    session: AsyncSession, context: BotContext, invitation: Invitation, page: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    assert invitation.id is not None
    invitation_id = invitation.id
    total = await members.count_unlinked(session=session, org_id=invitation.org_id)
    people = await members.list_unlinked(
        session=session, org_id=invitation.org_id, offset=page * PAGE_SIZE, limit=PAGE_SIZE
    )
    _ = context._
    buttons = [button(m.name, PICK_NAME.encode(invitation_id, m.id or 0)) for m in people]
    rows = [
        *in_rows(buttons),
        paging_row(_, page, total, lambda p: NAMES.encode(invitation_id, p)),
        [button(_("My name is not on the list"), NOT_LISTED.encode(invitation_id))],
    ]
    branch = await branch_of(session, invitation.org_id)
    text = (
        _("Tap your name on the roster of {branch}:")
        if people
        else _("Everyone on the roster of {branch} has registered already.")
    )
    return text.format(branch=branch), keyboard(rows)


async def on_names_page(update: Update, context: BotContext) -> None:
    """Another page of names."""
    invitation_id, page = callback_ints(NAMES, update)
    async with context.services.database.session_scope() as session:
        invitation = await tapped_invitation(session, context, invitation_id)
        view = await _name_list(session, context, invitation, page) if invitation else None
    if view is None:
        await refuse(update, context, no_invitation_text(context))
        return
    await show(update, context, *view)


async def on_pick_name(update: Update, context: BotContext) -> None:
    """A name was tapped: ask for the last four digits of that member's phone."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    invitation_id, member_id = callback_ints(PICK_NAME, update)
    now = context.services.clock.now()
    outcome: Outcome | None = None
    member: Member | None = None
    try:
        async with context.services.database.session_scope() as session:
            outcome = await already_settled(session, user.id)
            invitation = await tapped_invitation(session, context, invitation_id)
            if outcome is None and invitation is not None:
                member = await _unlinked_member(session, invitation, member_id)
                if member is not None and member.phone is None:
                    outcome = await _ask(session, invitation, user.id, member.name, None, now)
    except reg.RegistrationRefused as refused:
        await explain_refusal(update, context, refused)
        return
    if outcome is not None:
        await query.answer()
        await conclude(update, context, outcome)
    elif invitation is None:
        await refuse(update, context, no_invitation_text(context))
    elif member is None:
        await refuse(update, context, context._(STALE_BUTTON))
    else:
        awaiting.expect(context, LAST_FOUR, member_id)
        text = context._(
            "You chose {name}. To confirm it is you, please type the last four digits "
            "of your phone number."
        ).format(name=member.name)
        await show(update, context, text)


async def _unlinked_member(
    session: AsyncSession, invitation: Invitation, member_id: int
) -> Member | None:
    member = await members.get_member(session=session, member_id=member_id)
    if (
        member is None
        or member.org_id != invitation.org_id
        or not member.active
        or member.telegram_user_id is not None
    ):
        return None
    return member


async def on_not_listed(update: Update, context: BotContext) -> None:
    """ "My name is not on the list": ask the branch officers."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    (invitation_id,) = callback_ints(NOT_LISTED, update)
    now = context.services.clock.now()
    outcome: Outcome | None = None
    try:
        async with context.services.database.session_scope() as session:
            outcome = await already_settled(session, user.id)
            invitation = await tapped_invitation(session, context, invitation_id)
            if outcome is None and invitation is not None:
                outcome = await _ask(session, invitation, user.id, user.full_name, None, now)
    except reg.RegistrationRefused as refused:
        await explain_refusal(update, context, refused)
        return
    if outcome is None:
        await refuse(update, context, no_invitation_text(context))
        return
    await query.answer()
    await conclude(update, context, outcome)


async def on_last_four(update: Update, context: BotContext) -> None:
    """The typed last four digits: link on a match, count a failed attempt otherwise."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None or message.text is None:
        return
    wait = awaiting.waiting(context, LAST_FOUR)
    member_id = wait.ref if wait is not None else None
    now = context.services.clock.now()
    outcome: Outcome | None = None
    retry_at: datetime | None = None
    try:
        async with context.services.database.session_scope() as session:
            outcome = await already_settled(session, user.id)
            invitation = await usable_invitation(session, context)
            if outcome is None and invitation is not None and member_id is not None:
                retry_at = await rules.throttled_until(
                    session=session, telegram_user_id=user.id, now=now
                )
                if retry_at is None:
                    outcome = await _check_last_four(
                        session, context, invitation, member_id, user.id, message.text, now
                    )
    except reg.RegistrationRefused as refused:
        await explain_refusal(update, context, refused)
        return
    if outcome is not None:
        await conclude(update, context, outcome)
    elif retry_at is not None:
        minutes = rules.minutes_until(retry_at, now)
        text = context.n_(
            "Too many wrong tries. Please try again in {minutes} minute.",
            "Too many wrong tries. Please try again in {minutes} minutes.",
            minutes,
        )
        await message.reply_text(text.format(minutes=minutes))
    elif invitation is None:
        forget(context)
        await message.reply_text(no_invitation_text(context))
    else:
        text = context._(
            "Those digits do not match the roster. Please type the last four digits again, "
            "or tap “{share}” below."
        )
        await message.reply_text(
            text.format(share=context._(SHARE_PHONE)), reply_markup=join_keyboard(context)
        )


async def _check_last_four(
    session: AsyncSession,
    context: BotContext,
    invitation: Invitation,
    member_id: int,
    telegram_user_id: int,
    typed: str,
    now: datetime,
) -> Outcome | None:
    """Join if the digits match (None: they do not; the failure is logged)."""
    member = await _unlinked_member(session, invitation, member_id)
    if member is None:
        raise reg.RegistrationRefused(reg.Refusal.STALE)
    matched = reg.last_four_match(member, typed)
    await store.record_attempt(
        session=session, telegram_user_id=telegram_user_id, succeeded=matched, at=now
    )
    if not matched:
        return None
    joined = await reg.join(
        session=session,
        invitation=invitation,
        member_id=member_id,
        telegram_user_id=telegram_user_id,
        now=now,
        via="name",
    )
    return await welcome_of(session, joined, context.language)


#: Every button of this module and its handler, for handlers/registry.py.
CALLBACKS: Final = (
    (NAMES, on_names_page),
    (PICK_NAME, on_pick_name),
    (NOT_LISTED, on_not_listed),
)
