"""The relay against the emulator enforcing Telegram's flood limits."""

from __future__ import annotations

import bisect
import itertools
from collections import Counter, defaultdict
from collections.abc import Callable

import pytest

from bot.app import PartyApplication
from bot.clock import ManualClock
from bot.context import SERVICES_KEY, Services
from sandbox import EmulatorServer, SimUser, World
from sandbox.models import CallRecord
from storage import Database
from storage.models import DeliveryState
from tests.support.relay import add_people, config, make_relay, queue_texts, running, sends, states


@pytest.fixture
def relay_chat_interval() -> float:
    """The application's relay keeps Telegram's real 1 s per chat in the tests of its limits."""
    return 1.0


def busiest_second(calls: list[CallRecord]) -> int:
    """The most calls that arrived within any one-second window."""
    times = sorted(call.at_monotonic for call in calls)
    return max(bisect.bisect_left(times, t + 1.0) - i for i, t in enumerate(times))


def shortest_gap_per_chat(calls: list[CallRecord]) -> float:
    """The shortest time between two messages arriving for the same chat."""
    by_chat: dict[int, list[float]] = defaultdict(list)
    for call in calls:
        by_chat[int(call.params["chat_id"])].append(call.at_monotonic)
    gaps = [b - a for times in by_chat.values() for a, b in itertools.pairwise(times)]
    return min(gaps)


def refused(world: World) -> list[CallRecord]:
    return [call for call in world.calls if call.status == 429]


async def test_two_thousand_recipients_stay_under_the_rate_and_one_per_chat(
    world: World, emulator: EmulatorServer, database: Database, clock: ManualClock
) -> None:
    """2,000 people plus 20 chats that get three messages each, at 200/s (the emulator
    enforces the same 200/s and 1/s per chat, so any excess would show as a 429)."""
    people = add_people(world, 2000)
    busy = people[:20]
    await queue_texts(database, clock, people + busy + busy)
    world.set_rate_limits(enabled=True, global_per_second=200, per_chat_per_second=1)
    relay = make_relay(world, emulator, database, clock, config(rate=200.0))
    async with running(relay):
        relay.wake()
        await world.wait_for(lambda: len(sends(world)) >= 2040, timeout=60)
    delivered = sends(world)
    assert len(delivered) == 2040
    assert refused(world) == []
    assert busiest_second(delivered) <= 200
    assert shortest_gap_per_chat(delivered) >= 1.0
    per_chat = Counter(int(call.params["chat_id"]) for call in delivered)
    assert {per_chat[chat] for chat in busy} == {3}
    assert await states(database) == {DeliveryState.SENT: 2040}


async def test_the_default_rate_of_25_a_second(
    world: World, emulator: EmulatorServer, database: Database, clock: ManualClock
) -> None:
    people = add_people(world, 100)
    await queue_texts(database, clock, people)
    world.set_rate_limits(enabled=True, global_per_second=25)
    relay = make_relay(world, emulator, database, clock, config(rate=25.0))
    async with running(relay):
        relay.wake()
        await world.wait_for(lambda: len(sends(world)) >= 100, timeout=20)
    delivered = sends(world)
    assert refused(world) == []
    assert busiest_second(delivered) <= 25
    # Paced, not bursty: 100 messages take about four seconds (more on a busy machine).
    span = delivered[-1].at_monotonic - delivered[0].at_monotonic
    assert span >= 3.5


async def test_replies_are_not_held_up_behind_a_broadcast(
    world: World,
    database: Database,
    clock: ManualClock,
    bot_app: PartyApplication,
    person: Callable[..., SimUser],
) -> None:
    """While the application's relay works through a long queue at 25/s, a person who
    writes to the bot gets the answer at once (the relay has its own Bot and pacing)."""
    world.set_rate_limits(enabled=True, global_per_second=30)
    services: Services = bot_app.bot_data[SERVICES_KEY]
    assert services.relay.config.rate == 25.0  # PARTYBOT_RELAY_RATE's default
    assert services.relay.bot is not bot_app.bot  # its own Bot, without PTB's rate limiter
    people = add_people(world, 300)
    await queue_texts(database, clock, people)
    services.relay.wake()
    await world.wait_for(lambda: len(sends(world)) >= 50, timeout=10)
    alice = person("Alice")
    asked = world.monotonic()
    await alice.send("/help")
    await alice.wait_for_reply(timeout=5)
    answered = world.monotonic()
    assert answered - asked < 2.0  # the whole queue takes 12 s
    assert len(sends(world)) < 300  # the broadcast was still going
    assert refused(world) == []
