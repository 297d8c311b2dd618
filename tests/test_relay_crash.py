"""A crash in the middle of a broadcast: the rows, not memory, say what is left to send.

After a crash the rows still claimed ("sending") go back to the queue when their lease runs
out. Those are the only ones that can reach a person twice, and only if their request was
in flight when the relay died: at most ``max_in_flight`` of them (docs/relay.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

from bot.clock import ManualClock
from sandbox import EmulatorServer, World
from storage import Database
from storage.models import DeliveryState
from tests.support.relay import (
    add_people,
    config,
    make_relay,
    queue_texts,
    rows,
    running,
    sends,
    states,
)

ROOT = Path(__file__).resolve().parent.parent
PEOPLE = 300


async def _claimed_chats(database: Database) -> set[int]:
    return {row.chat_id for row in await rows(database) if row.state == DeliveryState.SENDING}


async def _restart_and_finish(
    world: World, emulator: EmulatorServer, database: Database, clock: ManualClock
) -> None:
    """A new relay first leaves the dead worker's claims alone, then takes them back."""
    before = await states(database)
    already = len(sends(world))
    relay = make_relay(world, emulator, database, clock)
    async with running(relay):
        relay.wake()
        await world.wait_for(
            lambda: len(sends(world)) >= already + before[DeliveryState.PENDING], timeout=20
        )
        await relay.settled()
        after = await states(database)
        assert after[DeliveryState.SENDING] == before[DeliveryState.SENDING]  # still leased
        clock.advance(relay.config.lease + timedelta(seconds=1))
        relay.wake()
        await world.wait_for(
            lambda: len({int(c.params["chat_id"]) for c in sends(world)}) >= PEOPLE, timeout=20
        )
        await relay.settled()
    assert await states(database) == {DeliveryState.SENT: PEOPLE}


def _check_exactly_once(world: World, people: list[int], in_flight: set[int], bound: int) -> None:
    received = Counter(int(call.params["chat_id"]) for call in sends(world))
    assert set(received) == set(people)
    twice = {chat for chat, count in received.items() if count > 1}
    assert max(received.values()) <= 2
    assert twice <= in_flight
    assert len(twice) <= bound


async def test_cancelled_relay_resumes_from_the_rows(
    world: World, emulator: EmulatorServer, database: Database, clock: ManualClock
) -> None:
    people = add_people(world, PEOPLE)
    await queue_texts(database, clock, people)
    relay = make_relay(world, emulator, database, clock, config(rate=100.0))
    await relay.bot.initialize()
    task = asyncio.create_task(relay.run())
    relay.wake()
    await world.wait_for(lambda: len(sends(world)) >= 100, timeout=20)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await relay.bot.shutdown()
    claimed = await _claimed_chats(database)
    assert claimed  # the crash left rows claimed, some of them possibly sent
    assert len(sends(world)) < PEOPLE
    await _restart_and_finish(world, emulator, database, clock)
    _check_exactly_once(world, people, claimed, relay.config.max_in_flight)


async def test_killed_process_resumes_from_the_rows(
    world: World,
    emulator: EmulatorServer,
    database: Database,
    database_url: str,
    clock: ManualClock,
) -> None:
    """The relay runs in its own process against this emulator and gets SIGKILL."""
    people = add_people(world, PEOPLE)
    await queue_texts(database, clock, people)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.support.relay",
        database_url,
        emulator.url,
        world.token,
        clock.now().isoformat(),
        "100",
        cwd=ROOT,
    )
    try:
        await world.wait_for(lambda: len(sends(world)) >= 100, timeout=30)
        process.send_signal(signal.SIGKILL)
        assert await process.wait() == -signal.SIGKILL
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    claimed = await _claimed_chats(database)
    assert claimed
    assert len(sends(world)) < PEOPLE
    await _restart_and_finish(world, emulator, database, clock)
    _check_exactly_once(world, people, claimed, 32)


async def test_a_clean_stop_gives_back_what_it_did_not_send(
    world: World, emulator: EmulatorServer, database: Database, clock: ManualClock
) -> None:
    """Stopping waits for the sends in flight and releases the rest: a restart sends them
    at once, without waiting for a lease, and nobody gets anything twice."""
    people = add_people(world, PEOPLE)
    await queue_texts(database, clock, people)
    relay = make_relay(world, emulator, database, clock, config(rate=100.0))
    async with running(relay):
        relay.wake()
        await world.wait_for(lambda: len(sends(world)) >= 50, timeout=20)
    after_stop = await states(database)
    assert DeliveryState.SENDING not in after_stop
    assert after_stop[DeliveryState.SENT] == len(sends(world))
    async with running(make_relay(world, emulator, database, clock)) as again:
        again.wake()
        await world.wait_for(lambda: len(sends(world)) >= PEOPLE, timeout=20)
        await again.settled()
    _check_exactly_once(world, people, set(), 0)
