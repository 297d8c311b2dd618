"""Relay throughput against the emulator (flood limits off), as a ratio to raw sendMessage.

Baseline: the same number of ``sendMessage`` calls made directly with a Bot, as many at a
time as the relay allows in flight, in the same process against the same emulator. The
relay does the same sends plus its bookkeeping: claiming rows, pacing, recording every
outcome in SQLite. The ratio says what that bookkeeping costs.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bot.clock import ManualClock
from bot.relay import Relay, RelayConfig, relay_bot
from sandbox import EmulatorServer, World
from storage import Database, upgrade_to_head
from storage.deliveries import Outgoing, enqueue_many
from storage.models import DeliveryKind

TOKEN = "123456789:BENCH-token-abcdefghijklmnopqrstuvwxyz"
MESSAGES = 1000
ROUNDS = 3
NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
# Unpaced: the point is the relay's own cost, not Telegram's limits.
CONFIG = RelayConfig(rate=100_000.0, poll_interval=0.05)


async def _baseline(server: EmulatorServer, chats: list[int]) -> float:
    """Seconds for raw sendMessage calls, CONFIG.max_in_flight at a time."""
    bot = relay_bot(
        TOKEN, base_url=f"{server.url}/bot", base_file_url=f"{server.url}/file/bot", config=CONFIG
    )
    await bot.initialize()
    slots = asyncio.Semaphore(CONFIG.max_in_flight)

    async def send(chat_id: int) -> None:
        async with slots:
            await bot.send_message(chat_id, f"message to {chat_id}")

    started = time.perf_counter()
    await asyncio.gather(*(send(chat_id) for chat_id in chats))
    elapsed = time.perf_counter() - started
    await bot.shutdown()
    return elapsed


async def _relay(server: EmulatorServer, world: World, chats: list[int], path: Path) -> float:
    """Seconds for the relay to send a queue of the same size."""
    url = f"sqlite+aiosqlite:///{path}"
    await asyncio.to_thread(upgrade_to_head, url)
    database = Database(url)
    clock = ManualClock(NOW)
    items = [Outgoing(chat, {"text": f"message to {chat}"}, f"{path}:{chat}") for chat in chats]
    async with database.session_scope() as session:
        await enqueue_many(session=session, kind=DeliveryKind.OTHER, items=items, due_at=NOW)
    bot = relay_bot(
        TOKEN, base_url=f"{server.url}/bot", base_file_url=f"{server.url}/file/bot", config=CONFIG
    )
    relay = Relay(bot=bot, database=database, clock=clock, config=CONFIG)
    before = len(world.calls_of("sendMessage"))
    await relay.start()
    started = time.perf_counter()
    relay.wake()
    await world.wait_for(
        lambda: len(world.calls_of("sendMessage")) - before >= len(chats), timeout=300
    )
    await relay.settled()
    elapsed = time.perf_counter() - started
    await relay.stop()
    await database.dispose()
    return elapsed


async def run(messages: int = MESSAGES, rounds: int = ROUNDS) -> tuple[float, float]:
    """(baseline messages/s, relay messages/s), the best of interleaved rounds.

    The best run is the one least disturbed by whatever else the machine was doing.
    """
    world = World(TOKEN)
    chats = [world.add_user(f"p{n}").id for n in range(messages)]
    baseline, relayed = 0.0, 0.0
    async with EmulatorServer(world, host="127.0.0.1", port=0) as server:
        for number in range(rounds):
            baseline = max(baseline, messages / await _baseline(server, chats))
            with tempfile.TemporaryDirectory() as directory:
                path = Path(directory) / f"bench{number}.db"
                relayed = max(relayed, messages / await _relay(server, world, chats, path))
    return baseline, relayed


def main() -> None:
    """Print both throughputs and their ratio."""
    baseline, relayed = asyncio.run(run())
    print(f"{MESSAGES} messages, best of {ROUNDS} interleaved rounds")
    print(f"raw sendMessage, {CONFIG.max_in_flight} in flight:  {baseline:6.0f} msg/s")
    print(f"relay (claim, send, record in SQLite): {relayed:6.0f} msg/s")
    print(f"relay / raw: {relayed / baseline:.2f}")
