"""Deliveries aggregate: the outbox every bulk send goes through (claimed by the relay)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.ext.asyncio.session import AsyncSession

from storage._sql import dialect_name, table_of
from storage.models.notices import Delivery, DeliveryKind, DeliveryState

__all__ = ["enqueue"]


async def enqueue(
    *,
    session: AsyncSession,
    kind: DeliveryKind,
    chat_id: int,
    payload: dict[str, Any],
    dedupe_key: str,
    due_at: datetime,
    member_id: int | None = None,
    notice_id: int | None = None,
    session_id: int | None = None,
) -> bool:
    """Queue one message for the relay, inside the caller's transaction.

    ``payload`` holds "text" (the caption when there is a photo or document),
    "parse_mode", "reply_markup" (``InlineKeyboardMarkup.to_dict()``), "photo" and
    "document" (file ids). False when ``dedupe_key`` is already queued (nothing written),
    so a replayed request cannot send twice.
    """
    if not isinstance(payload.get("text"), str):
        raise ValueError("delivery payload needs a 'text' string")
    values: dict[str, Any] = {
        "kind": DeliveryKind(kind),
        "chat_id": chat_id,
        "payload": payload,
        "state": DeliveryState.PENDING,
        "attempts": 0,
        "next_attempt_at": due_at,
        "dedupe_key": dedupe_key,
        "member_id": member_id,
        "notice_id": notice_id,
        "session_id": session_id,
    }
    insert = postgresql.insert if await dialect_name(session) == "postgresql" else sqlite.insert
    stmt = insert(table_of(Delivery)).values(**values)
    result = await session.exec(stmt.on_conflict_do_nothing(index_elements=["dedupe_key"]))
    return bool(result.rowcount)
