"""Finding a newcomer on the branch roster by a shared phone contact.

Anyone else (no phone on Telegram, or a number the roster does not have) types their name
and becomes a request to the branch officers, who link the roster entry on approval. The
roster's names are never listed to whoever holds a (possibly public) invitation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from telegram import Update
from telegram.ext import filters

from bot import joining
from bot.context import BotContext
from bot.i18n import LANGUAGES, gettext
from handlers import awaiting
from handlers.registration import (
    BY_NAME,
    SHARE_PHONE,
    TYPED_NAME,
    conclude,
    forget,
    invitation_id,
    join_keyboard,
    no_invitation_text,
    perform_step,
)

# --- which messages are ours (for handlers/registry.py) -----------------------------------


def awaiting_name(user_data: Mapping[int, Mapping[str, Any]]) -> filters.BaseFilter:
    """Text from a user who was just asked to type their name."""
    return awaiting.awaiting(user_data, TYPED_NAME) & filters.TEXT


def by_name_labels() -> list[str]:
    """The "find me by name" button as it reads in every language."""
    return [gettext(language, BY_NAME) for language in LANGUAGES]


# --- (a) by phone contact -----------------------------------------------------------------


async def on_contact(update: Update, context: BotContext) -> None:
    """A shared contact: match its phone on the roster, or ask the branch officers."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None or message.contact is None:
        return
    contact = message.contact
    name = " ".join(part for part in (contact.first_name, contact.last_name) if part)
    now = context.services.clock.now()
    outcome = await perform_step(
        update,
        context,
        lambda db: joining.join_by_contact(
            db=db,
            actor=user.id,
            invitation_id=invitation_id(context),
            contact_user_id=contact.user_id,
            phone=contact.phone_number,
            contact_name=name,
            language=context.language,
            now=now,
        ),
    )
    if outcome is None:
        return
    if isinstance(outcome, joining.NoInvitation):
        await message.reply_text(no_invitation_text(context))
    elif isinstance(outcome, joining.NotOwnContact):
        text = context._("Please share your own number: tap “{share}” below.")
        await message.reply_text(
            text.format(share=context._(SHARE_PHONE)), reply_markup=join_keyboard(context)
        )
    else:
        await conclude(update, context, outcome)


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
    async with context.services.database.session_scope() as db:
        settled = await joining.already_settled(db, user.id)
        invitation = await joining.opened_invitation(db, invitation_id(context))
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
    outcome = await perform_step(
        update,
        context,
        lambda db: joining.ask_by_name(
            db=db,
            actor=user.id,
            invitation_id=invitation_id(context),
            name=name,
            now=now,
        ),
    )
    if outcome is None:
        return
    if isinstance(outcome, joining.NoInvitation):
        forget(context)
        await message.reply_text(no_invitation_text(context))
        return
    await conclude(update, context, outcome)
