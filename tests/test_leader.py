"""The leader lease, campaign by campaign, with the clocks in the test's hands: one leader
at a time, a takeover only after expiry (with the dead leader's claims taken back), a
clean hand-over, and a leader that steps down when it cannot renew in time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.leader import Leadership
from storage import Database, deliveries, upgrade_to_head
from storage.deliveries import Outgoing
from storage.models import DeliveryKind, DeliveryState
from tests.support.process import new_postgres_database
from tests.support.relay import states

TTL = timedelta(seconds=30)
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'lease.db'}"
        upgrade_to_head(url)
        yield url
        return
    with new_postgres_database("partybot_lease") as url:
        upgrade_to_head(url)
        yield url


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


class Clocks:
    """The wall clock the lease row sees and the monotonic clock of one process."""

    def __init__(self) -> None:
        self.now = T0
        self.ticks = 0.0

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        self.ticks += seconds


class Process:
    """One process's Leadership, recording what it was told to start and stop."""

    def __init__(self, name: str, database: Database, clocks: Clocks) -> None:
        self.events: list[str] = []
        self.leadership = Leadership(
            database=database,
            identity=name,
            ttl=TTL,
            on_elected=self._elected,
            on_deposed=self._deposed,
            wall=lambda: clocks.now,
            monotonic=lambda: clocks.ticks,
        )

    async def _elected(self) -> None:
        self.events.append("elected")

    async def _deposed(self) -> None:
        self.events.append("deposed")

    @property
    def leading(self) -> bool:
        return self.leadership.leading


async def _claimed_by(database: Database, worker: str, count: int) -> None:
    """``count`` deliveries claimed (state sending) by ``worker``."""
    items = [Outgoing(5000 + n, {"text": f"m{n}"}, f"lease:{n}") for n in range(count)]
    async with database.session_scope() as db:
        await deliveries.enqueue_many(db=db, kind=DeliveryKind.OTHER, items=items, due_at=T0)
        await deliveries.claim_due(db=db, worker=worker, now=T0, limit=count)


async def test_one_leader_and_a_takeover_only_after_expiry(database: Database) -> None:
    clocks = Clocks()
    first, second = Process("first", database, clocks), Process("second", database, clocks)
    await first.leadership.campaign()
    await second.leadership.campaign()
    assert (first.leading, second.leading) == (True, False)
    await _claimed_by(database, "first", 5)

    clocks.advance(10)  # the first renews, the second keeps asking
    await first.leadership.campaign()
    clocks.advance(29)  # then the first goes silent (it died) ...
    await second.leadership.campaign()
    assert not second.leading  # ... but its lease runs until 10 + 30 s
    clocks.advance(1)
    await second.leadership.campaign()
    assert second.leading
    assert await states(database) == {DeliveryState.PENDING: 5}  # the dead one's claims

    await first.leadership.campaign()  # it was only paused: it learns it lost
    assert (first.leading, second.leading) == (False, True)
    assert first.events == ["elected", "deposed"]
    assert second.events == ["elected"]


async def test_a_clean_stop_hands_the_lease_over_at_once(database: Database) -> None:
    clocks = Clocks()
    first, second = Process("first", database, clocks), Process("second", database, clocks)
    await first.leadership.campaign()
    await first.leadership.stop()
    assert first.events == ["elected", "deposed"]
    await second.leadership.campaign()  # no waiting for the lease to expire
    assert second.leading


async def test_a_leader_that_cannot_renew_steps_down_before_its_lease_ends(
    database: Database,
) -> None:
    clocks = Clocks()
    leader = Process("leader", database, clocks)
    await leader.leadership.campaign()
    unreachable = Database("postgresql+psycopg://nobody@127.0.0.1:9/nothing?connect_timeout=1")
    leader.leadership.database = unreachable
    try:
        clocks.advance(10)
        await leader.leadership.campaign()
        assert leader.leading  # one failed renewal: its lease still has 20 s
        clocks.advance(10)
        await leader.leadership.campaign()
        assert not leader.leading  # 2/3 of the lease gone: quiet before anyone can win
        assert leader.events == ["elected", "deposed"]
    finally:
        await unreachable.dispose()
    other = Process("other", database, clocks)
    await other.leadership.campaign()
    assert not other.leading  # the row itself still runs for 10 s: never two at once
    clocks.advance(10)
    await other.leadership.campaign()
    assert other.leading
