"""Broadcast pacing: a queue of messages to many people against an emulator that enforces
a scaled-up flood limit, with the relay configured just below it.

Telegram allows about 30 messages a second overall and one a second per chat; the emulator
(in its own process, bench/_emulator.py) enforces ``PACING_LIMIT`` (environment, default
100) a second overall and one a second per chat, answering 429 beyond. At 300 a second
this 2-core machine, shared, runs out of CPU (relay and emulator each need about 2 ms a
message) before the relay's pacing shows. The relay is set to ``RATE`` (just below) and sends
one message to each of ``PACING_PEOPLE`` people (environment, default 5,000). From the
emulator's call log: the achieved rate of accepted sends (first to last) against the
configured one, 429s received, people who got nothing (lost) or more than one (duplicated).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from bench._emulator import TOKEN, emulator_process
from bench._table import Row
from bot.clock import ManualClock
from bot.relay import Relay, RelayConfig, relay_bot
from storage import Database, upgrade_to_head
from storage.deliveries import Outgoing, count_by_state, enqueue_many
from storage.models import DeliveryKind, DeliveryState

PEOPLE = int(os.environ.get("PACING_PEOPLE", "5000"))
# The emulator's messages a second overall (Telegram: about 30) and the relay's rate.
LIMIT = int(os.environ.get("PACING_LIMIT", "100"))
RATE = LIMIT * 29 / 30  # just below, as 29 is to Telegram's 30
GOAL = 0.95
NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


async def run(path: Path) -> tuple[float, int, int, int, dict[DeliveryState, int]]:
    """(achieved messages a second, 429s, lost, duplicated, the outbox's states)."""
    config = RelayConfig(rate=RATE, poll_interval=0.05)
    url = f"sqlite+aiosqlite:///{path}"
    await asyncio.to_thread(upgrade_to_head, url)
    database = Database(url)
    try:
        async with emulator_process(PEOPLE, global_per_second=LIMIT) as emulator:
            chats = emulator.chats
            items = [Outgoing(chat, {"text": f"通知 {chat}"}, f"n:{chat}") for chat in chats]
            async with database.session_scope() as db:
                await enqueue_many(db=db, kind=DeliveryKind.NOTICE, items=items, due_at=NOW)
            bot = relay_bot(
                TOKEN,
                base_url=f"{emulator.url}/bot",
                base_file_url=f"{emulator.url}/file/bot",
                config=config,
            )
            relay = Relay(bot=bot, database=database, clock=ManualClock(NOW), config=config)
            await relay.start()
            await relay.drained()
            await relay.stop()
            calls = await emulator.calls("sendMessage")
        async with database.session_scope() as db:
            states = await count_by_state(db=db)
    finally:
        await database.dispose()
    accepted = [call for call in calls if call["ok"]]
    moments = sorted(float(call["at_monotonic"]) for call in accepted)
    achieved = (len(moments) - 1) / (moments[-1] - moments[0])
    received = Counter(int(call["params"]["chat_id"]) for call in accepted)
    lost = sum(1 for chat in chats if received[chat] == 0)
    duplicated = sum(1 for chat in chats if received[chat] > 1)
    refused = sum(1 for call in calls if call["status"] == 429)
    return achieved, refused, lost, duplicated, states


def main() -> list[Row]:
    """Print the broadcast's figures and return them for the table."""
    print(
        f"{PEOPLE:,} people; emulator limit {LIMIT}/s overall, 1/s a chat; relay at {RATE:.0f}/s"
    )
    with tempfile.TemporaryDirectory() as folder:
        achieved, refused, lost, duplicated, states = asyncio.run(run(Path(folder) / "p.db"))
    print(
        f"achieved {achieved:.1f} msg/s; 429 answers {refused}; lost {lost};"
        f" duplicated {duplicated}; outbox {dict(states)}"
    )
    all_sent = states == {DeliveryState.SENT: PEOPLE}
    return [
        Row(
            f"broadcast pacing, {PEOPLE:,} people, limit {LIMIT}/s",
            f"{achieved:.1f} msg/s; {refused} 429s",
            f"{RATE:.0f} msg/s configured",
            f"{achieved / RATE:.3f}",
            f">= {GOAL}",
            achieved / RATE >= GOAL,
        ),
        Row(
            "broadcast pacing: lost / duplicated",
            f"{lost} / {duplicated}; outbox all sent: {'yes' if all_sent else 'no'}",
            "",
            "",
            "0 / 0",
            lost == 0 and duplicated == 0 and all_sent,
        ),
    ]
