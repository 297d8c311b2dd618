"""The outbox on both databases: idempotent enqueue, disjoint claims, leases, outcomes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from storage import Database, accounts
from storage.deliveries import (
    Outcome,
    Outgoing,
    claim_due,
    enqueue,
    enqueue_many,
    reclaim_stale,
    record_outcomes,
    record_outcomes_on,
    release,
    renew_claims,
)
from storage.models import Delivery, DeliveryKind, DeliveryState

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)


@pytest.fixture
def database(each_db: Database) -> Database:
    """Each test of this module runs on both databases (tests/storage/conftest.py)."""
    return each_db


async def _queue(database: Database, count: int, *, due: datetime = NOW, key: str = "k") -> None:
    items = [Outgoing(1000 + n, {"text": f"m{n}"}, f"{key}:{n}") for n in range(count)]
    async with database.session_scope() as db:
        await enqueue_many(db=db, kind=DeliveryKind.OTHER, items=items, due_at=due)


async def _states(database: Database) -> dict[int, tuple[DeliveryState, str | None]]:
    async with database.session_scope() as db:
        result = await db.exec(
            sa.select(Delivery.id, Delivery.state, Delivery.claimed_by)  # type: ignore[call-overload]
        )
        return {row_id: (DeliveryState(state), by) for row_id, state, by in result.all()}


async def test_enqueue_is_idempotent_by_key(database: Database) -> None:
    async with database.session_scope() as db:
        first = await enqueue(
            db=db,
            kind=DeliveryKind.SESSION_REMINDER,
            chat_id=5,
            payload={"text": "明天开会", "parse_mode": "HTML"},
            dedupe_key="session:1:5",
            due_at=NOW,
        )
        again = await enqueue(
            db=db,
            kind=DeliveryKind.SESSION_REMINDER,
            chat_id=5,
            payload={"text": "明天开会"},
            dedupe_key="session:1:5",
            due_at=NOW,
        )
    assert (first, again) == (True, False)
    await _queue(database, 3)
    await _queue(database, 4)  # three keys repeat: only one new row
    assert len(await _states(database)) == 5


async def test_a_payload_without_text_is_refused(database: Database) -> None:
    async with database.session_scope() as db:
        with pytest.raises(ValueError, match="text"):
            await enqueue(
                db=db,
                kind=DeliveryKind.OTHER,
                chat_id=5,
                payload={"photo": "abc"},
                dedupe_key="x",
                due_at=NOW,
            )


async def test_claims_take_due_rows_oldest_first(database: Database) -> None:
    await _queue(database, 3, due=NOW - timedelta(minutes=1), key="old")
    await _queue(database, 2, due=NOW, key="now")
    await _queue(database, 2, due=NOW + timedelta(minutes=5), key="later")
    async with database.session_scope() as db:
        first = await claim_due(db=db, worker="w1", now=NOW, limit=4)
    assert [row.payload["text"] for row in first] == ["m0", "m1", "m2", "m0"]
    assert all(row.next_attempt_at <= NOW for row in first)
    async with database.session_scope() as db:
        rest = await claim_due(db=db, worker="w1", now=NOW, limit=10)
    assert len(rest) == 1  # the two "later" rows are not due
    states = await _states(database)
    assert sum(1 for state, by in states.values() if state == DeliveryState.SENDING) == 5
    assert {by for state, by in states.values() if state == DeliveryState.SENDING} == {"w1"}


async def test_concurrent_claims_never_overlap(database: Database) -> None:
    await _queue(database, 200)

    async def worker(name: str) -> list[int]:
        taken: list[int] = []
        while True:
            async with database.session_scope() as db:
                rows = await claim_due(db=db, worker=name, now=NOW, limit=7)
            if not rows:
                return taken
            taken += [row.id for row in rows]
            await asyncio.sleep(0)

    results = await asyncio.gather(*(worker(f"w{n}") for n in range(4)))
    claimed = [row_id for taken in results for row_id in taken]
    assert len(claimed) == len(set(claimed)) == 200


async def test_outcomes_apply_only_to_the_claiming_worker(database: Database) -> None:
    await _queue(database, 3)
    async with database.session_scope() as db:
        rows = await claim_due(db=db, worker="w1", now=NOW, limit=3)
    sent, retry, dead = rows
    later = NOW + timedelta(seconds=30)
    outcomes = [
        Outcome(sent.id, DeliveryState.SENT, 1, NOW, telegram_message_id=77),
        Outcome(retry.id, DeliveryState.FAILED, 1, later, error="NetworkError: Bad Gateway"),
        Outcome(dead.id, DeliveryState.DEAD, 1, NOW, error="blocked: Forbidden"),
    ]
    async with database.session_scope() as db:
        await record_outcomes(db=db, worker="someone-else", outcomes=outcomes, now=NOW)
    assert {state for state, _ in (await _states(database)).values()} == {DeliveryState.SENDING}
    async with database.session_scope() as db:
        await record_outcomes(db=db, worker="w1", outcomes=outcomes, now=NOW)
        stored = {
            row.id: row
            for row in (await db.exec(sa.select(Delivery))).scalars()  # type: ignore[call-overload]
        }
    assert stored[sent.id].state == DeliveryState.SENT
    assert (stored[sent.id].telegram_message_id, stored[sent.id].sent_at) == (77, NOW)
    assert stored[retry.id].state == DeliveryState.FAILED
    assert stored[retry.id].next_attempt_at == later
    assert stored[retry.id].claimed_by is None
    assert stored[dead.id].last_error == "blocked: Forbidden"
    async with database.session_scope() as db:  # the retry is due only later
        assert await claim_due(db=db, worker="w2", now=NOW, limit=5) == []
        again = await claim_due(db=db, worker="w2", now=later, limit=5)
    assert [(row.id, row.attempts) for row in again] == [(retry.id, 1)]


async def test_stale_claims_of_a_dead_worker_come_back(database: Database) -> None:
    await _queue(database, 4)
    async with database.session_scope() as db:
        await claim_due(db=db, worker="dead", now=NOW, limit=2)
        await claim_due(db=db, worker="alive", now=NOW, limit=2)
    within = NOW + LEASE - timedelta(seconds=1)
    after = NOW + LEASE + timedelta(seconds=1)
    async with database.session_scope() as db:
        assert await reclaim_stale(db=db, now=within, lease=LEASE, worker="alive") == 0
        assert await renew_claims(db=db, worker="alive", now=within) == 2
        assert await reclaim_stale(db=db, now=after, lease=LEASE, worker="alive") == 2
    states = await _states(database)
    assert sorted(state for state, _ in states.values()) == sorted(
        [DeliveryState.PENDING] * 2 + [DeliveryState.SENDING] * 2
    )
    assert {by for state, by in states.values() if state == DeliveryState.SENDING} == {"alive"}


async def test_release_gives_back_unsent_claims(database: Database) -> None:
    await _queue(database, 3)
    async with database.session_scope() as db:
        rows = await claim_due(db=db, worker="w1", now=NOW, limit=3)
        assert await release(db=db, worker="w2", ids=[r.id for r in rows]) == 0
        assert await release(db=db, worker="w1", ids=[r.id for r in rows[:2]]) == 2
        assert await release(db=db, worker="w1", ids=[]) == 0
    states = await _states(database)
    assert sorted(state for state, _ in states.values()) == sorted(
        [DeliveryState.PENDING] * 2 + [DeliveryState.SENDING]
    )


def _capturing_outcome_ids(
    written: list[list[int]],
) -> Callable[[object, object, list[dict[str, int]]], None]:
    """A ``before_execute`` listener noting the delivery ids of each outcome UPDATE."""

    def capture(
        _conn: object, statement: object, multiparams: list[dict[str, int]], *_: object
    ) -> None:
        if (
            isinstance(statement, sa.Update)
            and statement.table is sa.inspect(Delivery).local_table
        ):
            written.append([params["b_id"] for params in multiparams])

    return capture


async def test_outcomes_lock_their_rows_in_id_order(database: Database) -> None:
    """Sends finish in any order; their outcomes are written lowest id first, the order
    other writers of several rows meet them in (else PostgreSQL can find a deadlock)."""
    await _queue(database, 3)
    async with database.session_scope() as db:
        rows = await claim_due(db=db, worker="w1", now=NOW, limit=3)
    finished = [rows[2], rows[0], rows[1]]  # the order the answers came back
    outcomes = [
        Outcome(row.id, DeliveryState.SENT, 1, NOW, telegram_message_id=row.id) for row in finished
    ]
    written: list[list[int]] = []
    capture = _capturing_outcome_ids(written)

    engine = database.engine.sync_engine
    sa.event.listen(engine, "before_execute", capture)
    try:
        async with database.session_scope() as db:
            await record_outcomes(db=db, worker="w1", outcomes=outcomes, now=NOW)
    finally:
        sa.event.remove(engine, "before_execute", capture)
    assert written == [sorted(row.id for row in rows)]
    assert {state for state, _ in (await _states(database)).values()} == {DeliveryState.SENT}


async def test_the_relays_outcome_write_in_one_sync_transaction(database: Database) -> None:
    """The relay's write (``Database.run_sync``: on SQLite one transaction on a plain
    connection, on PostgreSQL the async engine's): outcomes in id order, late answers of
    a lost lease ignored, blocked users marked, all in one commit."""
    await _queue(database, 4)
    async with database.session_scope() as db:
        rows = await claim_due(db=db, worker="w1", now=NOW, limit=4)
        await accounts.ensure_account(db=db, telegram_user_id=rows[3].chat_id)
    finished = [rows[2], rows[0], rows[1]]  # the order the answers came back
    outcomes = [
        Outcome(row.id, DeliveryState.SENT, 1, NOW, telegram_message_id=row.id) for row in finished
    ]
    outcomes.append(Outcome(rows[3].id, DeliveryState.DEAD, 1, NOW, error="blocked: 403"))
    written: list[list[int]] = []
    capture = _capturing_outcome_ids(written)

    def write(connection: sa.Connection) -> int:
        record_outcomes_on(connection, worker="w1", outcomes=outcomes, now=NOW)
        record_outcomes_on(connection, worker="w2", outcomes=outcomes[:1], now=NOW)
        return accounts.mark_blocked_on(
            connection, telegram_user_ids=[rows[3].chat_id, 999_999], at=NOW
        )

    sa.event.listen(sa.Engine, "before_execute", capture)
    try:
        known = await database.run_sync(write)
    finally:
        sa.event.remove(sa.Engine, "before_execute", capture)
    assert written[0] == sorted(row.id for row in rows)
    assert known == 1
    states = await _states(database)
    assert {row.id: states[row.id][0] for row in rows} == {
        rows[0].id: DeliveryState.SENT,
        rows[1].id: DeliveryState.SENT,
        rows[2].id: DeliveryState.SENT,
        rows[3].id: DeliveryState.DEAD,
    }
    async with database.session_scope() as db:
        account = await accounts.ensure_account(db=db, telegram_user_id=rows[3].chat_id)
    assert account.blocked_at == NOW
