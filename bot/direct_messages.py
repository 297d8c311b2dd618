"""One-off messages to a few people (officers told about a change), each in their language.

Bulk sends (notices, reminders to a whole branch) go through the delivery outbox instead;
these are a handful of messages sent right after a change has been committed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import NamedTuple

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Bot
from telegram.error import Forbidden, TelegramError

from storage import Database, accounts
from storage.models import TelegramAccount

log = logging.getLogger(__name__)


class Recipient(NamedTuple):
    """Someone to tell, and the language to tell them in."""

    telegram_user_id: int
    language: str


async def recipient(*, db: AsyncSession, telegram_user_id: int) -> Recipient | None:
    """The account as someone to tell (with its language), if it exists."""
    account = await db.get(TelegramAccount, telegram_user_id)
    if account is None:
        return None
    return Recipient(telegram_user_id, str(account.language))


async def tell(
    bot: Bot,
    database: Database,
    recipients: Iterable[Recipient],
    render: Callable[[str], str],
    *,
    now: datetime,
) -> int:
    """Send each recipient `render(their language)`; returns how many were reached.

    A user who blocked the bot is marked so; other failures are logged. The change that
    prompted the message is already committed, so nothing here raises.
    """
    reached = 0
    for recipient in dict.fromkeys(recipients):
        try:
            await bot.send_message(recipient.telegram_user_id, render(recipient.language))
        except Forbidden:
            async with database.session_scope() as db:
                await accounts.mark_blocked(
                    db=db, telegram_user_id=recipient.telegram_user_id, at=now
                )
        except TelegramError as exc:
            log.warning("could not tell user %s: %s", recipient.telegram_user_id, exc)
        else:
            reached += 1
    return reached
