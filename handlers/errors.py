"""The one error handler: log first, then apologise to the user and tell the ops chat."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError

from bot.context import BotContext

log = logging.getLogger(__name__)


async def on_error(update: object, context: BotContext) -> None:
    """Log the failure (redacted by the log factory) and never leave the user in silence."""
    log.error("update %s failed", _update_id(update), exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await context.bot.send_message(
                update.effective_chat.id,
                context._("Sorry, something went wrong. Please try again in a moment."),
            )
        except TelegramError:
            log.warning("could not send the apology for update %s", _update_id(update))
    ops_chat = context.services.settings.ops_chat_id
    if ops_chat is not None:
        try:
            await context.bot.send_message(
                ops_chat,
                f"partybot error in update {_update_id(update)}: {context.error!r}"[:4000],
            )
        except TelegramError:
            log.warning("could not notify the ops chat")


def _update_id(update: object) -> str:
    return str(update.update_id) if isinstance(update, Update) else "-"
