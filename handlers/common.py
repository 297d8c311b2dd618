"""Steps every update goes through before a feature handler sees it, and one after."""

from __future__ import annotations

from telegram import Update

from bot.accounts import needs_seen, remember_user, seen_after_answer
from bot.context import BotContext
from bot.i18n import normalise_language


async def on_any_update_remember_user(update: Update, context: BotContext) -> None:
    """Record the Telegram account and settle which language to answer in."""
    user = update.effective_user
    default = context.services.settings.language
    context.language = normalise_language(user.language_code if user else None, default)
    if user is None or user.is_bot:
        return
    now = context.services.clock.now()
    async with context.services.database.session_scope() as db:
        account = await remember_user(
            db=db,
            telegram_user_id=user.id,
            first_name=user.first_name,
            username=user.username,
            language_code=normalise_language(user.language_code, default),
            now=now,
        )
        context.language = account.language
    if needs_seen(account, now):
        context.seen_at = now


async def on_any_update_note_seen(update: Update, context: BotContext) -> None:
    """After the update's own handler: the time the sender was seen, when it is due.

    Not before: in a rush every tap is someone's first in an hour, and this write before
    each answer cost a write transaction on the way to it.
    """
    user = update.effective_user
    if context.seen_at is None or user is None:
        return
    async with context.services.database.session_scope() as db:
        await seen_after_answer(db=db, telegram_user_id=user.id, now=context.seen_at)
