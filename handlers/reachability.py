"""Telegram tells us when a person blocks or unblocks the bot (my_chat_member updates)."""

from __future__ import annotations

from telegram import ChatMember, Update

from bot.context import BotContext
from storage import accounts

_GONE = frozenset({ChatMember.BANNED, ChatMember.LEFT})


async def on_my_chat_member(update: Update, context: BotContext) -> None:
    """Blocked: mark the account unreachable (notices skip it). Back: reachable again."""
    change = update.my_chat_member
    if change is None or change.chat.type != "private":
        return
    user = change.from_user
    now = context.services.clock.now()
    async with context.services.database.session_scope() as session:
        if change.new_chat_member.status in _GONE:
            await accounts.mark_blocked(session=session, telegram_user_id=user.id, at=now)
        else:  # writing to us again proves they can be reached: this clears blocked_at
            await accounts.upsert_account(
                session=session,
                telegram_user_id=user.id,
                first_name=user.first_name,
                username=user.username,
                language_code=None,
                now=now,
            )
