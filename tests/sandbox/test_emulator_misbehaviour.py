"""Flood limits and injected faults: refused calls are answered like Telegram, never executed."""

from __future__ import annotations

import httpx
import pytest
from telegram import Bot
from telegram.error import NetworkError, RetryAfter, TimedOut

from sandbox import SimUser, World
from tests.support.constants import TOKEN

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


class ManualMonotonic:
    """A monotonic clock that only moves when told, so limits never depend on timing."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def monotonic() -> ManualMonotonic:
    return ManualMonotonic()


@pytest.fixture
def world(monotonic: ManualMonotonic) -> World:
    """A world whose flood limiter runs on the manual clock."""
    return World(TOKEN, monotonic=monotonic)


async def test_per_chat_limit_refuses_second_message_within_a_second(
    bot: Bot, http: httpx.AsyncClient, alice: SimUser, world: World, monotonic: ManualMonotonic
) -> None:
    world.set_rate_limits(enabled=True)
    await bot.send_message(alice.id, "first")
    response = await http.post(
        f"/bot{world.token}/sendMessage", data={"chat_id": alice.id, "text": "second"}
    )
    assert response.status_code == 429
    assert response.json() == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    }
    with pytest.raises(RetryAfter):
        await bot.send_message(alice.id, "third")
    assert [m.text for m in alice.messages] == ["first"]
    refused = world.calls_of("sendMessage")[-1]
    assert (refused.status, refused.retry_after) == (429, 1)
    monotonic.now += 1.0
    await bot.send_message(alice.id, "after a second")
    assert [m.text for m in alice.messages] == ["first", "after a second"]


async def test_global_limit(bot: Bot, world: World) -> None:
    world.set_rate_limits(enabled=True, global_per_second=3)
    people = [world.add_user(f"P{i}") for i in range(4)]
    for person in people[:3]:
        await bot.send_message(person.id, "notice")
    with pytest.raises(RetryAfter):
        await bot.send_message(people[3].id, "notice")
    assert people[3].messages == []
    world.set_rate_limits(enabled=False)
    await bot.send_message(people[3].id, "notice")


async def test_group_limit_per_minute(bot: Bot, world: World, monotonic: ManualMonotonic) -> None:
    world.set_rate_limits(enabled=True, per_group_per_minute=2)
    group = world.add_group("第一支部")
    await bot.send_message(group.id, "a")
    monotonic.now += 5.0
    await bot.send_message(group.id, "b")
    monotonic.now += 5.0
    with pytest.raises(RetryAfter):
        await bot.send_message(group.id, "c")
    assert world.calls[-1].retry_after == 50
    assert [m.text for m in group.messages] == ["a", "b"]


async def test_limits_are_off_by_default(bot: Bot, alice: SimUser) -> None:
    for n in range(5):
        await bot.send_message(alice.id, str(n))
    assert len(alice.messages) == 5


async def test_fault_5xx_then_recovery(bot: Bot, alice: SimUser, world: World) -> None:
    world.inject_faults(kind="5xx", count=2, methods=["sendMessage"])
    assert (await bot.get_me()).username == "partybot_test_bot"  # other methods unaffected
    for _ in range(2):
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.send_message(alice.id, "lost")
    await bot.send_message(alice.id, "delivered")
    assert [m.text for m in alice.messages] == ["delivered"]
    assert [c.fault for c in world.calls_of("sendMessage")] == ["5xx", "5xx", None]


async def test_fault_429_carries_retry_after(bot: Bot, alice: SimUser, world: World) -> None:
    world.inject_faults(kind="429", count=1, retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(alice.id, "x")
    assert str(caught.value) == "Flood control exceeded. Retry in 7 seconds"
    assert world.calls[-1].retry_after == 7
    assert alice.messages == []


async def test_fault_timeout_holds_past_client_timeout(
    bot: Bot, alice: SimUser, world: World
) -> None:
    world.inject_faults(kind="timeout", count=1, methods=["sendMessage"], hold_seconds=2.0)
    with pytest.raises(TimedOut):
        await bot.send_message(alice.id, "slow", read_timeout=0.2)
    assert alice.messages == []
    assert world.calls_of("sendMessage")[-1].fault == "timeout"
    await bot.send_message(alice.id, "fast")
    assert [m.text for m in alice.messages] == ["fast"]


def test_bad_fault_kind_is_rejected(world: World) -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        world.inject_faults(kind="teapot")
