"""SIGTERM in the middle of a broadcast: `partybot run` finishes the sends in flight, gives
back what it had not sent, confirms the update offset and hands the lease over at once;
the next process sends the rest and nobody gets anything twice."""

from __future__ import annotations

import signal
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from bot.clock import SystemClock
from bot.leader import LEASE_NAME
from sandbox import EmulatorServer, World
from storage import Database, leases, upgrade_to_head
from storage.models import DeliveryState
from tests.support.constants import TOKEN
from tests.support.process import started
from tests.support.relay import add_people, queue_texts, sends, states

PEOPLE = 300


async def test_sigterm_mid_broadcast_loses_nothing_and_sends_nothing_twice(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    upgrade_to_head(url)
    database = Database(url)
    world = World(token=TOKEN, bot_username="county_bot")
    people = add_people(world, PEOPLE)
    try:
        async with EmulatorServer(world) as emulator:
            env = {
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "TELEGRAM_API_BASE_URL": emulator.url,
                "PARTYBOT_DATABASE_URL": url,
                "PARTYBOT_RELAY_RATE": "100",
            }
            async with started(["run"], env, tmp_path, "first") as first:
                await first.wait_line(lambda line: "partybot is up" in line)
                alice = world.add_user("阿丽", language_code="zh-hans")
                await alice.send("/start")
                await alice.wait_for_reply(timeout=10)
                await queue_texts(database, SystemClock(), people)
                await world.wait_for(lambda: len(sends(world)) >= 50, timeout=30)
                first.signal(signal.SIGTERM)
                assert await first.wait() == 0
            stopped_at = datetime.now(UTC)
            after_stop = await states(database)
            sent_before = len([c for c in sends(world) if int(c.params["chat_id"]) in people])
            async with database.session_scope() as db:
                lease = await leases.current(db=db, name=LEASE_NAME)

            assert DeliveryState.SENDING not in after_stop  # in-flight sends were finished
            assert after_stop[DeliveryState.SENT] == sent_before  # each one recorded
            assert after_stop[DeliveryState.PENDING] == PEOPLE - sent_before  # given back
            assert world.pending_updates == []  # the offset was confirmed
            assert lease is not None
            assert lease.expires_at <= stopped_at  # handed over, not left to expire

            async with started(["run"], env, tmp_path, "second") as second:
                await second.wait_line(lambda line: "this process leads now" in line)
                await world.wait_for(lambda: len(sends(world)) >= PEOPLE + 1, timeout=30)
                second.signal(signal.SIGTERM)
                assert await second.wait() == 0
    finally:
        await database.dispose()
    received = Counter(int(call.params["chat_id"]) for call in sends(world))
    assert all(received[chat] == 1 for chat in people)
    assert await states(database) == {DeliveryState.SENT: PEOPLE}
