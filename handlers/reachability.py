"""Telegram tells us when a person blocks or unblocks the bot (my_chat_member updates)."""

from __future__ import annotations

from telegram import ChatMember, Update

from bot.accounts import note_reachability
from bot.context import BotContext

_GONE = frozenset({ChatMember.BANNED, ChatMember.LEFT})


async def on_my_chat_member(update: Update, context: BotContext) -> None:
    """Blocked: mark the account unreachable (notices skip it). Back: reachable again."""
    change = update.my_chat_member
    if change is None or change.chat.type != "private":
        return
    user = change.from_user
    now = context.services.clock.now()
    async with context.services.database.session_scope() as db:
        await note_reachability(
            db=db,
            telegram_user_id=user.id,
            first_name=user.first_name,
            username=user.username,
            blocked=change.new_chat_member.status in _GONE,
            now=now,
        )
