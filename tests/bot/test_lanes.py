"""bot/lanes.py: each request on a lane of its own, lanes reused, waiting fairly when all
are busy, a pool timeout when none frees in time; and the relay's bot over real HTTP."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest
from telegram.error import TimedOut

from bot.lanes import Lane, LaneRequest
from bot.relay import RelayConfig, relay_bot
from sandbox import EmulatorServer, World


class _Lane:
    """A lane whose requests end only when the test says so."""

    def __init__(self, name: str, log: list[str], gates: dict[str, asyncio.Event]) -> None:
        self.name, self.log, self.gates = name, log, gates

    async def do_request(
        self, url: str, method: str, *args: Any, **kwargs: Any
    ) -> tuple[int, bytes]:
        self.log.append(f"{url} on {self.name}")
        gate = self.gates.setdefault(url, asyncio.Event())
        await gate.wait()
        return 200, self.name.encode()


def _lanes(
    request: LaneRequest, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[str], dict[str, asyncio.Event]]:
    log: list[str] = []
    gates: dict[str, asyncio.Event] = {}
    names = iter("ABCDEFG")
    monkeypatch.setattr(request, "_new_lane", lambda: cast(Lane, _Lane(next(names), log, gates)))
    return log, gates


async def _settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


async def test_busy_lanes_make_the_next_request_wait_its_turn(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    request = LaneRequest(2)
    log, gates = _lanes(request, monkeypatch)
    sends = {url: asyncio.create_task(request.do_request(url, "POST")) for url in "1234"}
    await _settle()
    assert log == ["1 on A", "2 on B"]  # two lanes, two requests; 3 and 4 wait
    gates["2"].set()
    await _settle()
    assert await sends["2"] == (200, b"B")
    assert log[2:] == ["3 on B"]  # the lane freed goes to the first who waited
    gates["1"].set()
    gates["3"].set()
    gates["4"] = asyncio.Event()
    gates["4"].set()
    assert [await sends[url] for url in "134"] == [(200, b"A"), (200, b"B"), (200, b"A")]
    assert request.lanes == 2  # reused, never more than asked for


async def test_no_free_lane_in_time_is_a_pool_timeout_and_a_cancel_frees_its_place(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    request = LaneRequest(1, pool_timeout=0)
    log, gates = _lanes(request, monkeypatch)
    first = asyncio.create_task(request.do_request("1", "POST"))
    await _settle()
    with pytest.raises(TimedOut, match="Pool timeout"):
        await request.do_request("2", "POST")
    waiting = asyncio.create_task(request.do_request("3", "POST", pool_timeout=None))
    await _settle()
    waiting.cancel()
    await _settle()
    gates["1"].set()
    assert await first == (200, b"A")
    gates["4"] = asyncio.Event()
    gates["4"].set()
    assert await request.do_request("4", "POST") == (200, b"A")  # the lane came back
    assert log == ["1 on A", "4 on A"]


async def test_the_relays_bot_sends_many_at_once_on_at_most_its_lanes(
    world: World, emulator: EmulatorServer
) -> None:
    people = [world.add_user(f"p{n}").id for n in range(60)]
    config = RelayConfig(max_in_flight=8)
    bot = relay_bot(
        world.token,
        base_url=f"{emulator.url}/bot",
        base_file_url=f"{emulator.url}/file/bot",
        config=config,
    )
    async with bot:
        for _ in range(2):  # the second round reuses the kept-alive lanes
            sent = await asyncio.gather(*(bot.send_message(chat, "hi") for chat in people))
            assert [message.chat.id for message in sent] == people
        request = bot.request
        assert isinstance(request, LaneRequest)
        assert request.lanes <= config.max_in_flight + 4
    assert len(world.calls_of("sendMessage")) == 120


async def test_a_relays_bot_shut_down_and_started_again_sends_on_reopened_lanes(
    world: World, emulator: EmulatorServer
) -> None:
    people = [world.add_user(f"q{n}").id for n in range(6)]
    bot = relay_bot(
        world.token,
        base_url=f"{emulator.url}/bot",
        base_file_url=f"{emulator.url}/file/bot",
        config=RelayConfig(max_in_flight=2),
    )
    for _ in range(2):  # a relay stopped and started again (leadership moved and came back)
        async with bot:
            await asyncio.gather(*(bot.send_message(chat, "hi") for chat in people))
    assert len(world.calls_of("sendMessage")) == 12
