"""One-off messages to a few people (officers told about a change), each in their language.

They are queued in the outbox inside the transaction that makes the change, like every
other message to people, so a change and the news of it commit together or not at all;
the relay sends them (marking a blocked account, retrying a failure). Only the answer to
the update being handled is sent directly, by the handler.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import NamedTuple

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram.constants import ParseMode

from bot.htmltext import payload_html
from storage import deliveries
from storage.deliveries import Outgoing
from storage.models import DeliveryKind, TelegramAccount


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
    *,
    db: AsyncSession,
    recipients: Iterable[Recipient],
    render: Callable[[str], str],
    key: str,
    now: datetime,
) -> int:
    """Queue `render(their language)` for each recipient (once each); how many were queued.

    ``key`` names the change (``member.transfer:<id>:<time>``); with the chat it makes
    each row's dedupe key, so a replay of the same change queues nothing twice. The
    caller wakes the relay after its transaction has committed.
    """
    items = [
        Outgoing(
            someone.telegram_user_id,
            {"text": payload_html(render(someone.language)), "parse_mode": ParseMode.HTML.value},
            f"{key}:{someone.telegram_user_id}",
        )
        for someone in dict.fromkeys(recipients)
    ]
    return await deliveries.enqueue_many(db=db, kind=DeliveryKind.OTHER, items=items, due_at=now)
