"""Steps every update goes through before a feature handler sees it."""

from __future__ import annotations

from telegram import Update

from bot.accounts import remember_user
from bot.context import BotContext
from bot.i18n import normalise_language


async def on_any_update_remember_user(update: Update, context: BotContext) -> None:
    """Record the Telegram account and settle which language to answer in."""
    user = update.effective_user
    default = context.services.settings.language
    context.language = normalise_language(user.language_code if user else None, default)
    if user is None or user.is_bot:
        return
    context.language = await remember_user(
        database=context.services.database,
        telegram_user_id=user.id,
        first_name=user.first_name,
        username=user.username,
        language_code=normalise_language(user.language_code, default),
        now=context.services.clock.now(),
        seen=context.services.seen,
    )
