"""Relay throughput against the emulator (flood limits off), as a ratio to a bare httpx loop.

The emulator runs in a process of its own (bench/_emulator.py), so neither side pays for
its HTTP handling. Baseline (A): the same number of ``sendMessage`` requests made with a
bare ``httpx.AsyncClient``, as many at a time as the relay allows in flight. Measured (B):
the relay sending a queue of as many delivery rows from SQLite, unpaced, from ``wake()``
until every outcome is recorded (claiming, pacing, recording included). The runs go in
pairs, A B A B …, and each pair gives one ratio (relay / bare messages a second); the
table shows min / median / max of those ratios, so one disturbed run cannot pass for the
typical one. Also printed: CPU time of this process per message on each side.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench._emulator import TOKEN, Emulator, emulator_process
from bench._table import Row, spread
from bot.clock import ManualClock
from bot.relay import Relay, RelayConfig, relay_bot
from storage import Database, upgrade_to_head
from storage.deliveries import Outgoing, count_by_state, enqueue_many
from storage.models import DeliveryKind, DeliveryState

MESSAGES = 1000
PAIRS = 4
GOAL = 0.7
NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
# Unpaced: the point is the relay's own cost, not Telegram's limits.
CONFIG = RelayConfig(rate=100_000.0, poll_interval=0.05)


class Timing:
    """Wall-clock and CPU seconds of one run."""

    def __init__(self) -> None:
        self.wall = time.perf_counter()
        self.cpu = time.process_time()

    def stop(self) -> tuple[float, float]:
        return time.perf_counter() - self.wall, time.process_time() - self.cpu


async def bare(emulator: Emulator) -> tuple[float, float]:
    """(wall, CPU) seconds for bare sendMessage requests: CONFIG.max_in_flight workers,
    each with a client (one kept-alive connection) of its own, sending the next message as
    soon as its last one is answered. Own clients: httpcore's shared pool scans every
    connection for every queued request, which would make the baseline, not the relay, slow.
    The clients are made before the clock starts (the relay's bot is too) and share one TLS
    context: each loading the CA bundle of its own took 1.3 s of a 2 s run.
    """
    todo = iter(emulator.chats)
    tls = httpx.create_ssl_context()
    clients = [
        httpx.AsyncClient(base_url=f"{emulator.url}/bot{TOKEN}", verify=tls)
        for _ in range(CONFIG.max_in_flight)
    ]

    async def worker(client: httpx.AsyncClient) -> None:
        for chat_id in todo:
            answer = await client.post(
                "/sendMessage", json={"chat_id": chat_id, "text": f"message to {chat_id}"}
            )
            answer.raise_for_status()

    timing = Timing()
    await asyncio.gather(*(worker(client) for client in clients))
    took = timing.stop()
    for client in clients:
        await client.aclose()
    return took


async def relayed(emulator: Emulator, path: Path) -> tuple[float, float]:
    """(wall, CPU) seconds for the relay to send a queue of the same size."""
    url = f"sqlite+aiosqlite:///{path}"
    await asyncio.to_thread(upgrade_to_head, url)
    database = Database(url)
    chats = emulator.chats
    items = [Outgoing(chat, {"text": f"message to {chat}"}, f"{path}:{chat}") for chat in chats]
    async with database.session_scope() as db:
        await enqueue_many(db=db, kind=DeliveryKind.OTHER, items=items, due_at=NOW)
    bot = relay_bot(
        TOKEN,
        base_url=f"{emulator.url}/bot",
        base_file_url=f"{emulator.url}/file/bot",
        config=CONFIG,
    )
    relay = Relay(bot=bot, database=database, clock=ManualClock(NOW), config=CONFIG)
    await relay.start()
    timing = Timing()
    await relay.drained()
    took = timing.stop()
    await relay.stop()
    async with database.session_scope() as db:
        states = await count_by_state(db=db)
    await database.dispose()
    if states != {DeliveryState.SENT: len(chats)}:
        raise RuntimeError(f"the relay did not send every message: {states}")
    return took


async def run(messages: int = MESSAGES, pairs: int = PAIRS) -> list[tuple[float, float, float]]:
    """Per pair: (relay / bare messages a second, bare CPU ms, relay CPU ms a message)."""
    results = []
    async with emulator_process(messages) as emulator:
        for number in range(pairs):
            base_wall, base_cpu = await bare(emulator)
            with tempfile.TemporaryDirectory() as directory:
                ours_wall, ours_cpu = await relayed(emulator, Path(directory) / f"r{number}.db")
            results.append(
                (base_wall / ours_wall, base_cpu / messages * 1000, ours_cpu / messages * 1000)
            )
            print(
                f"pair {number + 1}: bare {messages / base_wall:.0f} msg/s,"
                f" relay {messages / ours_wall:.0f} msg/s, ratio {base_wall / ours_wall:.2f};"
                f" CPU a message: bare {results[-1][1]:.1f} ms, relay {results[-1][2]:.1f} ms"
            )
    return results


def main() -> list[Row]:
    """Print each pair and return the spread of the ratios."""
    print(f"{MESSAGES} messages, {PAIRS} pairs (bare httpx, relay), emulator in its own process")
    results = asyncio.run(run())
    ratios = [ratio for ratio, _, _ in results]
    bare_cpu = statistics.median(cpu for _, cpu, _ in results)
    relay_cpu = statistics.median(cpu for _, _, cpu in results)
    return [
        Row(
            f"relay overhead, {MESSAGES:,} messages, limits off (min/median/max of {PAIRS} pairs)",
            f"relay; CPU {relay_cpu:.1f} ms a message",
            f"bare httpx loop; CPU {bare_cpu:.1f} ms a message",
            spread(ratios),
            f">= {GOAL} (median)",
            statistics.median(ratios) >= GOAL,
        )
    ]
