"""JSON columns (the outbox's payloads above all) hold UTF-8 text, not ASCII escapes."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import select

from storage import Database
from storage.deliveries import enqueue
from storage.models import Delivery, DeliveryKind

TEXT = "请于周五上午九时到村委会参加主题党日活动。"


async def test_outbox_payloads_are_stored_as_utf8(sqlite_db: Database) -> None:
    payload = {"text": TEXT, "parse_mode": "HTML"}
    async with sqlite_db.session_scope() as db:
        assert await enqueue(
            db=db,
            kind=DeliveryKind.NOTICE,
            chat_id=42,
            payload=payload,
            dedupe_key="json:1",
            due_at=datetime(2026, 3, 2, 1, 0, tzinfo=UTC),
        )
    async with sqlite_db.session_scope() as db:
        connection = await db.connection()
        raw = (await connection.execute(sa.text("SELECT payload FROM delivery"))).scalar_one()
        stored = (await db.exec(select(Delivery))).one()
    assert TEXT in raw
    assert "\\u" not in raw
    # Three bytes a character, where ASCII escapes took six.
    assert len(raw.encode()) < len(TEXT) * 3 + 40
    assert stored.payload == payload
