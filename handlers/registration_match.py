"""Finding a newcomer on the branch roster by a shared phone contact.

Anyone else (no phone on Telegram, or a number the roster does not have) types their name
and becomes a request to the branch officers, who link the roster entry on approval. The
roster's names are never listed to whoever holds a (possibly public) invitation.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Contact, Update
from telegram.ext import filters

from bot import registration as reg
from bot.context import BotContext
from bot.i18n import LANGUAGES, gettext
from handlers import awaiting
from handlers.registration import (
    BY_NAME,
    SHARE_PHONE,
    TYPED_NAME,
    Asked,
    Outcome,
    already_settled,
    branch_of,
    conclude,
    explain_refusal,
    forget,
    join_keyboard,
    no_invitation_text,
    usable_invitation,
    welcome_of,
)
from storage.models import Invitation, Role

# --- which messages are ours (for handlers/registry.py) -----------------------------------


def awaiting_name(user_data: Mapping[int, Mapping[str, Any]]) -> filters.BaseFilter:
    """Text from a user who was just asked to type their name."""
    return awaiting.awaiting(user_data, TYPED_NAME) & filters.TEXT


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
        deciders=await reg.deciders(
            session=session, org_id=invitation.org_id, role=invitation.role
        ),
        role=Role(invitation.role),
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


# --- (b) by name: the officers confirm ------------------------------------------------------


async def on_find_by_name(update: Update, context: BotContext) -> None:
    """The "find me by name" button: ask for the name, never show the roster's names.

    A public invitation (a QR code on the village office wall) reaches anyone, so the
    roster's names are not listed to whoever scans it: the newcomer types their name and
    the branch officers, who see the roster, link it on approval.
    """
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return
    async with context.services.database.session_scope() as session:
        settled = await already_settled(session, user.id)
        invitation = await usable_invitation(session, context)
    if settled is not None:
        await conclude(update, context, settled)
    elif invitation is None or invitation.id is None:
        await message.reply_text(no_invitation_text(context))
    else:
        awaiting.expect(context, TYPED_NAME, invitation.id)
        await message.reply_text(
            context._(
                "Please type your name as it is on the roster; I will ask the branch "
                "secretary to confirm it."
            )
        )


async def on_typed_name(update: Update, context: BotContext) -> None:
    """The newcomer's typed name: a request for the branch officers to confirm."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None or message.text is None:
        return
    name = " ".join(message.text.split())
    if not name:
        return
    awaiting.stop(context)
    now = context.services.clock.now()
    outcome: Outcome | None = None
    try:
        async with context.services.database.session_scope() as session:
            outcome = await already_settled(session, user.id)
            invitation = await usable_invitation(session, context)
            if outcome is None and invitation is not None:
                outcome = await _ask(session, invitation, user.id, name, None, now)
    except reg.RegistrationRefused as refused:
        await explain_refusal(update, context, refused)
        return
    if outcome is None:
        forget(context)
        await message.reply_text(no_invitation_text(context))
        return
    await conclude(update, context, outcome)
