"""The Bot API emulator in a process of its own, so a benchmark measures only its side.

In the measured process the emulator's HTTP handling shared the CPU with what was being
measured (relay/raw came out anywhere between 0.46 and 0.97). ``emulator_process`` starts
``python -m bench._emulator`` with ``people`` users (ids from ``sandbox.world.FIRST_USER_ID``)
and, optionally, flood limits; the benchmark talks to it over HTTP and reads the emulator's
call log through the control API (``/_control/calls``). With ``clock`` the emulator's dates
follow a benchmark's clock, and a crowd (bench/_crowd.py) can act in it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from sandbox import EmulatorServer, World

__all__ = ["TOKEN", "Emulator", "StartedClock", "emulator_process"]

TOKEN = "123456789:BENCH-token-abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True, slots=True)
class Emulator:
    """A running emulator process: its URL and the chat ids of its people."""

    url: str
    chats: list[int]

    async def calls(self, method: str, *, since: int = 0) -> list[dict[str, Any]]:
        """The emulator's log of ``method`` calls after sequence number ``since``."""
        async with httpx.AsyncClient(timeout=120) as client:
            answer = await client.get(
                f"{self.url}/_control/calls", params={"method": method, "since": since}
            )
        answer.raise_for_status()
        calls: list[dict[str, Any]] = answer.json()
        return calls


@dataclass(frozen=True, slots=True)
class StartedClock:
    """A clock that read ``start`` at Unix time ``origin`` and runs at the wall clock's pace;
    the same in every process of a benchmark."""

    start: datetime
    origin: float

    def now(self) -> datetime:
        return self.start + timedelta(seconds=time.time() - self.origin)


@asynccontextmanager
async def emulator_process(
    people: int,
    *,
    global_per_second: int = 0,
    per_chat_per_second: int = 1,
    clock: StartedClock | None = None,
) -> AsyncIterator[Emulator]:
    """An emulator in a child process; flood limits on when ``global_per_second`` > 0;
    with ``clock``, its dates follow that clock and it has a crowd (bench/_crowd.py)."""
    extra = [] if clock is None else ["--clock", clock.start.isoformat(), str(clock.origin)]
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench._emulator",
        str(people),
        str(global_per_second),
        str(per_chat_per_second),
        *extra,
        stdout=asyncio.subprocess.PIPE,
        limit=1 << 24,  # the ready line lists every person's chat id
    )
    try:
        assert child.stdout is not None
        line = await asyncio.wait_for(child.stdout.readline(), timeout=120)
        ready = json.loads(line)
        yield Emulator(ready["url"], [int(chat) for chat in ready["chats"]])
    finally:
        with contextlib.suppress(ProcessLookupError):
            child.terminate()
        await child.wait()


async def _serve(
    people: int,
    global_per_second: int,
    per_chat_per_second: int,
    clock: StartedClock | None = None,
) -> None:
    world = World(TOKEN, clock=clock.now if clock is not None else None)
    chats = [world.add_user(f"p{n}").id for n in range(people)]
    if global_per_second > 0:
        world.set_rate_limits(
            enabled=True,
            global_per_second=global_per_second,
            per_chat_per_second=per_chat_per_second,
        )
    routes = []
    if clock is not None:
        from bench._crowd import Crowd

        routes = Crowd(world).routes()
    async with EmulatorServer(world, host="127.0.0.1", port=0, extra_routes=routes) as server:
        print(json.dumps({"url": server.url, "chats": chats}), flush=True)
        await asyncio.Event().wait()


def main() -> None:
    """``python -m bench._emulator PEOPLE GLOBAL_PER_SECOND PER_CHAT_PER_SECOND``."""
    parser = argparse.ArgumentParser(prog="python -m bench._emulator")
    parser.add_argument("people", type=int)
    parser.add_argument("global_per_second", type=int, help="0: flood limits off")
    parser.add_argument("per_chat_per_second", type=int)
    parser.add_argument("--clock", nargs=2, metavar=("START", "ORIGIN"))
    args = parser.parse_args()
    clock = None
    if args.clock:
        clock = StartedClock(datetime.fromisoformat(args.clock[0]), float(args.clock[1]))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.people, args.global_per_second, args.per_chat_per_second, clock))


if __name__ == "__main__":
    main()
