"""/start and /help: the first words a member reads."""

from __future__ import annotations

from telegram import Update

from bot.context import BotContext
from handlers import registration


async def cmd_start(update: Update, context: BotContext) -> None:
    """Join with an invitation code if one came with the link; otherwise say how to get one."""
    if update.effective_message is None:
        return
    if context.args:
        await registration.start_with_code(update, context, context.args[0])
        return
    _ = context._
    await update.effective_message.reply_text(
        _(
            "Welcome to partybot, the party-work assistant of our county.\n"
            "To join your branch, ask your branch secretary for an invitation link "
            "or scan the QR code at the village office."
        )
    )


async def cmd_help(update: Update, context: BotContext) -> None:
    """List what the bot can do for this user."""
    if update.effective_message is None:
        return
    _ = context._
    lines = [
        _("What I can do:"),
        _("/start - begin, or join your branch with an invitation"),
        _("/help - show this help"),
    ]
    await update.effective_message.reply_text("\n".join(lines))
