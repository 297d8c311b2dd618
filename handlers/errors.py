"""The one error handler: log first, then apologise to the user and tell the ops chat.

Before that, a handler whose write found SQLite locked (a long CLI import beside the bot)
or whose PostgreSQL connection had died (a server restart while the pool was busy: see
storage/db.py) is run once more (`retry_once_when_transient`): its transaction was
rolled back, so the second run starts clean, and the member gets an answer instead of an
apology.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError
from telegram import Update
from telegram.error import TelegramError

from bot.context import BotContext

log = logging.getLogger(__name__)

T = TypeVar("T")


def is_locked(error: BaseException) -> bool:
    """SQLite's "database is locked": another writer held the lock past the busy timeout."""
    return isinstance(error, OperationalError) and "database is locked" in str(error.orig)


def is_transient(error: BaseException) -> bool:
    """SQLite locked, or a dead database connection (SQLAlchemy has dropped it and its pool)."""
    return is_locked(error) or (isinstance(error, DBAPIError) and error.connection_invalidated)


def retry_once_when_transient(
    callback: Callable[[Update, BotContext], Awaitable[T]],
) -> Callable[[Update, BotContext], Awaitable[T]]:
    """The handler callback, run a second time if the database failed it in passing."""

    @functools.wraps(callback)
    async def run(update: Update, context: BotContext) -> T:
        try:
            return await callback(update, context)
        except DBAPIError as error:
            if not is_transient(error):
                raise
            what = "locked" if is_locked(error) else "connection was lost"
            log.warning("update %s: the database %s; trying once more", _update_id(update), what)
            return await callback(update, context)

    return run


def retry_every_handler(handlers: dict[int, list[Any]]) -> None:
    """Wrap every registered handler's callback in `retry_once_when_transient`."""
    for group in handlers.values():
        for handler in group:
            handler.callback = retry_once_when_transient(handler.callback)


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
