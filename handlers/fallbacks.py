"""Answers for whatever no feature handled: nothing is met with silence."""

from __future__ import annotations

from telegram import Update

from bot.context import BotContext
from handlers.guard import STALE_BUTTON


async def on_unknown_command(update: Update, context: BotContext) -> None:
    """Say plainly that a command is unknown."""
    if update.effective_message is None:
        return
    await update.effective_message.reply_text(
        context._("I don't know that command. Send /help to see what I can do.")
    )


async def on_unexpected_text(update: Update, context: BotContext) -> None:
    """Point free text nobody asked for at the buttons and /help."""
    if update.effective_message is None:
        return
    await update.effective_message.reply_text(
        context._("Please use the buttons under my messages, or send /help.")
    )


async def on_unknown_callback(update: Update, context: BotContext) -> None:
    """A button we cannot read (old, or forged): say so, change nothing."""
    if update.callback_query is None:
        return
    await update.callback_query.answer(context._(STALE_BUTTON), show_alert=True)
