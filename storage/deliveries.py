"""Deliveries aggregate: the outbox every bulk send goes through (claimed by the relay).

A row is one message to one chat with a due time and a state (see docs/relay.md):
``pending`` (or ``failed``, waiting to retry) rows whose ``next_attempt_at`` has come are
*claimed* (state ``sending``, ``claimed_by`` the worker, ``claimed_at`` its lease) in one
short statement, sent outside any transaction, and their outcome written back in another.
A claim whose worker died goes stale after the lease and is handed out again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.ext.asyncio.session import AsyncSession

from storage._sql import dialect_name, table_of
from storage.models.notices import Delivery, DeliveryKind, DeliveryState

__all__ = [
    "BLOCKED_ERROR",
    "ClaimedDelivery",
    "Outcome",
    "Outgoing",
    "claim_due",
    "count_by_state",
    "enqueue",
    "enqueue_many",
    "prune_finished",
    "reclaim_stale",
    "record_outcomes",
    "record_outcomes_on",
    "release",
    "release_others",
    "renew_claims",
]

#: ``last_error`` of a row that died because the user blocked the bot (403).
BLOCKED_ERROR = "blocked"

_DELIVERY = table_of(Delivery)
_WAITING = (DeliveryState.PENDING, DeliveryState.FAILED)
_FINISHED = (DeliveryState.SENT, DeliveryState.DEAD)


class Outgoing(NamedTuple):
    """One message to queue: where, what, and the key that makes queuing it idempotent."""

    chat_id: int
    payload: dict[str, Any]
    dedupe_key: str
    member_id: int | None = None


class ClaimedDelivery(NamedTuple):
    """A row the relay now holds: everything it needs to send it."""

    id: int
    kind: DeliveryKind
    chat_id: int
    payload: dict[str, Any]
    attempts: int
    notice_id: int | None
    member_id: int | None
    next_attempt_at: datetime


class Outcome(NamedTuple):
    """What became of one claimed row; the relay's rules decide, this module writes."""

    delivery_id: int
    state: DeliveryState
    attempts: int
    next_attempt_at: datetime
    telegram_message_id: int | None = None
    error: str | None = None


async def _insert(db: AsyncSession) -> Any:
    if await dialect_name(db) == "postgresql":
        return postgresql.insert(_DELIVERY)
    return sqlite.insert(_DELIVERY)


def _row(
    kind: DeliveryKind,
    item: Outgoing,
    due_at: datetime,
    notice_id: int | None,
    session_id: int | None,
) -> dict[str, Any]:
    if not isinstance(item.payload.get("text"), str):
        raise ValueError("delivery payload needs a 'text' string")
    return {
        "kind": DeliveryKind(kind),
        "chat_id": item.chat_id,
        "payload": item.payload,
        "state": DeliveryState.PENDING,
        "attempts": 0,
        "next_attempt_at": due_at,
        "dedupe_key": item.dedupe_key,
        "member_id": item.member_id,
        "notice_id": notice_id,
        "session_id": session_id,
    }


async def enqueue(
    *,
    db: AsyncSession,
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
    values = _row(
        kind, Outgoing(chat_id, payload, dedupe_key, member_id), due_at, notice_id, session_id
    )
    stmt = (
        (await _insert(db))
        .values(**values)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(_DELIVERY.c.id)
    )
    return (await db.exec(stmt)).first() is not None


async def enqueue_many(
    *,
    db: AsyncSession,
    kind: DeliveryKind,
    items: Sequence[Outgoing],
    due_at: datetime,
    notice_id: int | None = None,
    session_id: int | None = None,
) -> int:
    """Queue many messages in one statement; rows whose key is already queued are skipped.

    Returns how many were queued.
    """
    if not items:
        return 0
    rows = [_row(kind, item, due_at, notice_id, session_id) for item in items]
    stmt = (
        (await _insert(db))
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(_DELIVERY.c.id)
    )
    return len((await db.exec(stmt, params=rows)).all())


async def claim_due(
    *, db: AsyncSession, worker: str, now: datetime, limit: int
) -> list[ClaimedDelivery]:
    """Take up to ``limit`` due rows (oldest due first) for ``worker``.

    One statement: an UPDATE of the rows picked by a subquery. PostgreSQL locks them with
    ``FOR UPDATE SKIP LOCKED`` so concurrent workers take disjoint rows without waiting;
    SQLite runs one writer at a time and the ``state`` condition is re-checked inside the
    UPDATE, so a row is never claimed twice either.
    """
    t = _DELIVERY
    due = (
        sa.select(t.c.id)
        .where(t.c.state.in_(_WAITING), t.c.next_attempt_at <= now)
        .order_by(t.c.next_attempt_at, t.c.id)
        .limit(limit)
    )
    if await dialect_name(db) == "postgresql":
        due = due.with_for_update(skip_locked=True)
    stmt = (
        sa.update(t)
        .where(t.c.id.in_(due.scalar_subquery()), t.c.state.in_(_WAITING))
        .values(state=DeliveryState.SENDING, claimed_at=now, claimed_by=worker)
        .returning(
            t.c.id,
            t.c.kind,
            t.c.chat_id,
            t.c.payload,
            t.c.attempts,
            t.c.notice_id,
            t.c.member_id,
            t.c.next_attempt_at,
        )
    )
    rows = [ClaimedDelivery(*row) for row in (await db.exec(stmt)).all()]
    return sorted(rows, key=lambda row: (row.next_attempt_at, row.id))


async def renew_claims(*, db: AsyncSession, worker: str, now: datetime) -> int:
    """Refresh the lease on every row ``worker`` holds (it is alive and still has them)."""
    t = _DELIVERY
    result = await db.exec(
        sa.update(t)
        .where(t.c.state == DeliveryState.SENDING, t.c.claimed_by == worker)
        .values(claimed_at=now)
    )
    return int(result.rowcount)


async def reclaim_stale(*, db: AsyncSession, now: datetime, lease: timedelta, worker: str) -> int:
    """Hand back rows claimed by some other worker whose lease ran out (it died)."""
    t = _DELIVERY
    result = await db.exec(
        sa.update(t)
        .where(
            t.c.state == DeliveryState.SENDING,
            t.c.claimed_at < now - lease,
            sa.or_(t.c.claimed_by.is_(None), t.c.claimed_by != worker),
        )
        .values(state=DeliveryState.PENDING, claimed_at=None, claimed_by=None)
    )
    return int(result.rowcount)


async def count_by_state(*, db: AsyncSession) -> dict[DeliveryState, int]:
    """How many rows are in each state (one GROUP BY)."""
    t = _DELIVERY
    connection = await db.connection()
    rows = await connection.execute(sa.select(t.c.state, sa.func.count()).group_by(t.c.state))
    return {DeliveryState(state): int(count) for state, count in rows.all()}


async def release_others(*, db: AsyncSession, worker: str) -> int:
    """Hand back every row claimed by anyone but ``worker``, lease or not.

    Only the leader sends, so a new leader calls this once it holds the lease: the
    previous leader's lease expired, so it stopped sending, and its claims are orphans.
    """
    t = _DELIVERY
    result = await db.exec(
        sa.update(t)
        .where(
            t.c.state == DeliveryState.SENDING,
            sa.or_(t.c.claimed_by.is_(None), t.c.claimed_by != worker),
        )
        .values(state=DeliveryState.PENDING, claimed_at=None, claimed_by=None)
    )
    return int(result.rowcount)


async def release(*, db: AsyncSession, worker: str, ids: Sequence[int]) -> int:
    """Give back rows ``worker`` claimed but did not send (a clean shutdown)."""
    if not ids:
        return 0
    t = _DELIVERY
    result = await db.exec(
        sa.update(t)
        .where(
            t.c.id.in_(list(ids)),
            t.c.state == DeliveryState.SENDING,
            t.c.claimed_by == worker,
        )
        .values(state=DeliveryState.PENDING, claimed_at=None, claimed_by=None)
    )
    return int(result.rowcount)


# Built once: a statement made anew per batch costs SQLAlchemy its construction and its
# cache key, ~40 % of a small batch's write (the relay writes one batch every few
# messages). The worker is a parameter too, so one statement serves every relay.
_RECORD_OUTCOME = (
    sa.update(_DELIVERY)
    .where(
        _DELIVERY.c.id == sa.bindparam("b_id"),
        _DELIVERY.c.state == DeliveryState.SENDING,
        _DELIVERY.c.claimed_by == sa.bindparam("b_worker"),
    )
    .values(
        state=sa.bindparam("b_state", type_=_DELIVERY.c.state.type),
        attempts=sa.bindparam("b_attempts"),
        next_attempt_at=sa.bindparam("b_next", type_=_DELIVERY.c.next_attempt_at.type),
        telegram_message_id=sa.bindparam("b_message_id"),
        last_error=sa.bindparam("b_error"),
        sent_at=sa.bindparam("b_sent_at", type_=_DELIVERY.c.sent_at.type),
        claimed_at=None,
        claimed_by=None,
    )
)


async def record_outcomes(
    *, db: AsyncSession, worker: str, outcomes: Sequence[Outcome], now: datetime
) -> None:
    """Write what happened to claimed rows, in one executemany statement (see
    :func:`record_outcomes_on`), inside the caller's transaction."""
    if not outcomes:
        return
    await db.exec(_RECORD_OUTCOME, params=_outcome_params(worker, outcomes, now))


def record_outcomes_on(
    connection: sa.Connection, *, worker: str, outcomes: Sequence[Outcome], now: datetime
) -> None:
    """Write what happened to claimed rows, in one executemany statement, on a synchronous
    connection (``Database.run_sync``: on SQLite the relay's write needs no thread hop).

    Only rows still claimed by ``worker`` change: if a lease was lost meanwhile, the row
    belongs to someone else now and this worker's late answer must not overwrite it.
    """
    if outcomes:
        connection.execute(_RECORD_OUTCOME, _outcome_params(worker, outcomes, now))


def _outcome_params(
    worker: str, outcomes: Sequence[Outcome], now: datetime
) -> list[dict[str, Any]]:
    # Rows are locked in id order, as other writers of several rows meet them: in the
    # order the sends finished, PostgreSQL found a deadlock with a rush's writes.
    return [
        {
            "b_id": outcome.delivery_id,
            "b_worker": worker,
            "b_state": outcome.state,
            "b_attempts": outcome.attempts,
            "b_next": outcome.next_attempt_at,
            "b_message_id": outcome.telegram_message_id,
            "b_error": outcome.error,
            "b_sent_at": now if outcome.state == DeliveryState.SENT else None,
        }
        for outcome in sorted(outcomes, key=lambda outcome: outcome.delivery_id)
    ]


async def prune_finished(*, db: AsyncSession, before: datetime, limit: int) -> int:
    """Delete up to ``limit`` rows that finished (sent, or dead) before ``before``.

    A finished row's ``next_attempt_at`` is when it finished (the relay writes the moment
    of the outcome), so the state index finds them. A notice's rows are kept whatever
    their age: they are its acks (delivered, 已阅, blocked) that /notices, /summary and
    the export count, and its reminders' keys remember which remind button was tapped.
    Returns how many were deleted.
    """
    t = _DELIVERY
    old = (
        sa.select(t.c.id)
        .where(
            t.c.state.in_(_FINISHED),
            t.c.next_attempt_at < before,
            t.c.kind != DeliveryKind.NOTICE,
        )
        .limit(limit)
    )
    result = await db.exec(sa.delete(t).where(t.c.id.in_(old.scalar_subquery())))
    return int(result.rowcount)
