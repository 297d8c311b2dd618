"""Pruning the outbox on both databases: only finished rows, only old ones, in batches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from bot.outbox import prune_outbox
from storage import Database
from storage.deliveries import (
    Outcome,
    Outgoing,
    claim_due,
    enqueue_many,
    prune_finished,
    record_outcomes,
)
from storage.models import Delivery, DeliveryKind, DeliveryState

OLD = datetime(2026, 1, 1, 1, 0, tzinfo=UTC)
NOW = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)
RETENTION = timedelta(days=90)


@pytest.fixture
def database(each_db: Database) -> Database:
    """Each test of this module runs on both databases (tests/storage/conftest.py)."""
    return each_db


async def _finish(
    database: Database,
    key: str,
    state: DeliveryState,
    *,
    at: datetime,
    count: int = 1,
    kind: DeliveryKind = DeliveryKind.OTHER,
) -> None:
    """Queue ``count`` rows and let a worker take them and record ``state`` at ``at``."""
    items = [Outgoing(100 + n, {"text": f"{key} {n}"}, f"{key}:{n}") for n in range(count)]
    async with database.session_scope() as db:
        await enqueue_many(db=db, kind=kind, items=items, due_at=at)
        claimed = await claim_due(db=db, worker="w", now=at, limit=count)
        if state == DeliveryState.SENDING:
            return
        outcomes = [
            Outcome(
                row.id, state, 1, at + timedelta(hours=1) if state == DeliveryState.FAILED else at
            )
            for row in claimed
        ]
        await record_outcomes(db=db, worker="w", outcomes=outcomes, now=at)


async def _left(database: Database) -> list[str]:
    async with database.session_scope() as db:
        rows = await db.exec(sa.select(Delivery.dedupe_key).order_by(Delivery.dedupe_key))  # type: ignore[call-overload]
        return [str(key) for (key,) in rows.all()]


async def test_only_old_finished_rows_are_pruned(database: Database) -> None:
    await _finish(database, "old-sent", DeliveryState.SENT, at=OLD, count=3)
    await _finish(database, "old-dead", DeliveryState.DEAD, at=OLD)
    await _finish(database, "old-notice", DeliveryState.SENT, at=OLD, kind=DeliveryKind.NOTICE)
    await _finish(database, "old-failed", DeliveryState.FAILED, at=OLD)
    await _finish(database, "old-sending", DeliveryState.SENDING, at=OLD)
    await _finish(database, "recent-sent", DeliveryState.SENT, at=NOW - timedelta(days=89))
    async with database.session_scope() as db:  # due long ago, never claimed
        await enqueue_many(
            db=db,
            kind=DeliveryKind.OTHER,
            items=[Outgoing(7, {"text": "late"}, "old-pending:0")],
            due_at=OLD,
        )

    assert await prune_outbox(database, now=NOW, retention=RETENTION) == 4
    assert await _left(database) == [
        "old-failed:0",
        "old-notice:0",
        "old-pending:0",
        "old-sending:0",
        "recent-sent:0",
    ]
    assert await prune_outbox(database, now=NOW, retention=RETENTION) == 0


async def test_pruning_goes_in_bounded_batches(database: Database) -> None:
    await _finish(database, "sent", DeliveryState.SENT, at=OLD, count=7)
    async with database.session_scope() as db:
        assert await prune_finished(db=db, before=NOW, limit=3) == 3
    assert len(await _left(database)) == 4
    assert await prune_outbox(database, now=NOW, retention=RETENTION, batch=3) == 4
    assert await _left(database) == []
