"""Telegram having a bad day: 429s honoured, 5xx and timeouts retried, 403 users marked."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from functools import partial

from bot.clock import ManualClock
from sandbox import EmulatorServer, World
from storage import Database, accounts
from storage.models import DeliveryState, TelegramAccount
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

SEND = ["sendMessage"]


def sent_at_least(world: World, count: int) -> bool:
    """Whether the emulator has seen this many sendMessage calls (tries count too)."""
    return len(world.calls_of("sendMessage")) >= count


async def test_a_429_pauses_everything_for_exactly_retry_after(
    world: World, emulator: EmulatorServer, database: Database, clock: ManualClock
) -> None:
    people = add_people(world, 60)
    await queue_texts(database, clock, people)
    relay = make_relay(world, emulator, database, clock, config(rate=50.0))
    async with running(relay):
        relay.wake()
        await world.wait_for(lambda: len(sends(world)) >= 20, timeout=10)
        world.inject_faults("429", count=1, methods=SEND, retry_after=2)
        await world.wait_for(lambda: len(sends(world)) >= 60, timeout=10)
    refused = [call for call in world.calls if call.status == 429]
    assert len(refused) == 1
    hit = refused[0].at_monotonic
    later = [c.at_monotonic for c in sends(world) if c.at_monotonic > hit + 0.1]
    # Nothing new went out during the pause; sending resumed right after it.
    assert 2.0 <= later[0] - hit < 2.6
    per_chat = Counter(int(call.params["chat_id"]) for call in sends(world))
    assert set(per_chat.values()) == {1}
    assert len(per_chat) == 60
    # A 429 is not the message's fault: no attempt is counted against it.
    assert {row.attempts for row in await rows(database)} == {1}


async def test_5xx_and_timeouts_are_retried_with_backoff(
    world: World, emulator: EmulatorServer, database: Database, clock: ManualClock
) -> None:
    people = add_people(world, 5)
    await queue_texts(database, clock, people)
    world.inject_faults("5xx", count=2, methods=SEND)
    world.inject_faults("timeout", count=1, methods=SEND, hold_seconds=2.0)
    relay = make_relay(world, emulator, database, clock, config(request_timeout=0.5))
    async with running(relay):
        relay.wake()
        await world.wait_for(lambda: len(world.calls_of("sendMessage")) >= 5, timeout=10)
        await relay.settled()
        assert await states(database) == {DeliveryState.SENT: 2, DeliveryState.FAILED: 3}
        failed = [row for row in await rows(database) if row.state == DeliveryState.FAILED]
        for row in failed:  # backoff base 1 s, first retry after 0.5 to 1 s
            assert row.attempts == 1
            delay = row.next_attempt_at - clock.now()
            assert timedelta(seconds=0.5) <= delay <= timedelta(seconds=1)
        assert {row.last_error for row in failed} == {
            "NetworkError: Bad Gateway",
            "TimedOut: Timed out",
        }
        clock.advance(timedelta(seconds=1))
        relay.wake()
        await world.wait_for(lambda: len(sends(world)) >= 5, timeout=10)
    assert await states(database) == {DeliveryState.SENT: 5}
    assert Counter(row.attempts for row in await rows(database)) == {1: 2, 2: 3}
    assert len({int(call.params["chat_id"]) for call in sends(world)}) == 5


async def test_too_many_failures_make_a_row_dead(
    world: World, emulator: EmulatorServer, database: Database, clock: ManualClock
) -> None:
    people = add_people(world, 1)
    await queue_texts(database, clock, people)
    world.inject_faults("5xx", count=10, methods=SEND)
    relay = make_relay(world, emulator, database, clock, config(max_attempts=3))
    async with running(relay):
        for attempt in range(1, 4):
            relay.wake()
            await world.wait_for(partial(sent_at_least, world, attempt), timeout=10)
            await relay.settled()
            expected = DeliveryState.FAILED if attempt < 3 else DeliveryState.DEAD
            assert await states(database) == {expected: 1}
            clock.advance(timedelta(minutes=1))
    (row,) = await rows(database)
    assert (row.state, row.attempts, row.last_error) == (
        DeliveryState.DEAD,
        3,
        "NetworkError: Bad Gateway",
    )


async def test_blocked_users_are_dead_and_flagged_unreachable(
    world: World, emulator: EmulatorServer, database: Database, clock: ManualClock
) -> None:
    people = [world.add_user(name) for name in ("Ann", "Bo", "Cy")]
    never_started = world.add_user("Di", started=False)
    async with database.session_scope() as db:
        for user in [*people, never_started]:
            await accounts.ensure_account(db=db, telegram_user_id=user.id)
    await people[1].block_bot()
    await queue_texts(database, clock, [user.id for user in [*people, never_started]])
    relay = make_relay(world, emulator, database, clock)
    async with running(relay):
        relay.wake()
        await world.wait_for(lambda: len(world.calls_of("sendMessage")) >= 4, timeout=10)
        await relay.settled()
    assert await states(database) == {DeliveryState.SENT: 2, DeliveryState.DEAD: 2}
    by_chat = {row.chat_id: row for row in await rows(database)}
    assert by_chat[people[1].id].last_error == ("blocked: Forbidden: bot was blocked by the user")
    assert by_chat[never_started.id].last_error == (
        "blocked: Forbidden: bot can't initiate conversation with a user"
    )
    assert by_chat[people[1].id].attempts == 1
    async with database.session_scope() as db:
        blocked = {
            user.id: (await db.get(TelegramAccount, user.id)).blocked_at  # type: ignore[union-attr]
            for user in [*people, never_started]
        }
    assert blocked == {
        people[0].id: None,
        people[1].id: clock.now(),
        people[2].id: None,
        never_started.id: clock.now(),
    }
