"""Several real `partybot run` processes on one database (SQLite file or PostgreSQL).

Exactly one leads (runs the jobs and the relay). Killed with SIGKILL in the middle of a
broadcast, another process takes the lease once it has expired, takes back the dead
leader's claims and finishes: nobody is missed, and only messages that were in flight
when the leader died can arrive twice (at most the relay's max_in_flight, docs/relay.md).
"""

from __future__ import annotations

import signal
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from bot.clock import SystemClock
from bot.leader import LEASE_NAME
from bot.relay import RelayConfig
from bot.settings import load_settings
from sandbox import EmulatorServer, World
from storage import Database, leases, upgrade_to_head
from storage.models import DeliveryState
from tests.support.constants import TOKEN
from tests.support.process import BotProcess, free_port, new_postgres_database, started
from tests.support.relay import add_people, queue_texts, rows, sends, states

PEOPLE = 300
LEASE_SECONDS = "1.5"
IN_FLIGHT_BOUND = RelayConfig().max_in_flight


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated database both processes share."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
        upgrade_to_head(url)
        yield url
        return
    with new_postgres_database("partybot_leader") as url:
        upgrade_to_head(url)
        yield url


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


@pytest.fixture
async def emulator() -> AsyncIterator[EmulatorServer]:
    async with EmulatorServer(World(token=TOKEN, bot_username="county_bot")) as server:
        yield server


def _env(emulator: EmulatorServer, database_url: str, port: int, hook_port: int) -> dict[str, str]:
    """Webhook mode, as a deployment of several processes runs: each process listens on
    its own port; Telegram's one webhook URL points at the first (the proxy's job)."""
    return {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": emulator.url,
        "PARTYBOT_DATABASE_URL": database_url,
        "PARTYBOT_WEBHOOK_URL": f"http://127.0.0.1:{hook_port}/hook",
        "PARTYBOT_LISTEN": f"127.0.0.1:{port}",
        "PARTYBOT_LEADER_LEASE_SECONDS": LEASE_SECONDS,
        "PARTYBOT_RELAY_RATE": "100",
    }


def _leads(line: str) -> bool:
    return "this process leads now" in line


def _up(line: str) -> bool:
    return "Telegram delivers updates to the webhook" in line  # the last step of start-up


async def test_a_killed_leader_is_replaced_and_the_broadcast_finishes(
    emulator: EmulatorServer, database: Database, database_url: str, tmp_path: Path
) -> None:
    world = emulator.world
    people = add_people(world, PEOPLE)
    first_port, second_port = free_port(), free_port()
    env_a = _env(emulator, database_url, first_port, first_port)
    env_b = _env(emulator, database_url, second_port, first_port)
    async with started(["run"], env_a, tmp_path, "first") as first:
        await first.wait_line(_up)
        assert any(_leads(line) for line in first.lines)
        async with started(["run"], env_b, tmp_path, "second") as second:
            await second.wait_line(_up)
            await queue_texts(database, SystemClock(), people)  # the broadcast
            await world.wait_for(lambda: len(sends(world)) >= PEOPLE // 3, timeout=30)
            first.signal(signal.SIGKILL)
            assert await first.wait() == -signal.SIGKILL
            assert not any(_leads(line) for line in second.lines)  # it only followed
            in_flight = {
                row.chat_id for row in await rows(database) if row.state == DeliveryState.SENDING
            }
            dead_lease = await _lease(database)
            assert len(sends(world)) < PEOPLE  # killed mid-broadcast

            await second.wait_line(_leads)
            await world.wait_for(
                lambda: {int(call.params["chat_id"]) for call in sends(world)} >= set(people),
                timeout=30,
            )
            new_lease = await _lease(database)
            second.signal(signal.SIGTERM)  # a clean stop records every outcome first
            assert await second.wait() == 0

    assert dead_lease is not None
    assert new_lease is not None
    assert new_lease.holder != dead_lease.holder
    assert new_lease.acquired_at >= dead_lease.expires_at  # never two leaders at once
    received = Counter(int(call.params["chat_id"]) for call in sends(world))
    assert set(received) == set(people)  # nothing lost
    twice = {chat for chat, count in received.items() if count > 1}
    assert max(received.values()) <= 2
    assert twice <= in_flight  # only what the dead leader had claimed
    assert len(twice) <= IN_FLIGHT_BOUND
    assert await states(database) == {DeliveryState.SENT: PEOPLE}


async def _lease(database: Database) -> leases.Lease | None:
    async with database.session_scope() as db:
        return await leases.current(db=db, name=LEASE_NAME)


async def test_a_replayed_update_is_processed_once_across_two_processes(
    emulator: EmulatorServer, database_url: str, tmp_path: Path
) -> None:
    world = emulator.world
    first_port, second_port = free_port(), free_port()
    env_a = _env(emulator, database_url, first_port, first_port)
    hook = env_a.pop("PARTYBOT_WEBHOOK_URL")  # the first is told on the command line
    env_b = _env(emulator, database_url, second_port, first_port)
    secret = load_settings(env_file=None, TELEGRAM_BOT_TOKEN=TOKEN).webhook_token
    alice = world.add_user("阿丽", language_code="zh-hans")
    update = {
        "update_id": 4242,
        "message": {
            "message_id": 1,
            "date": int(world.now().timestamp()),
            "chat": {"id": alice.id, "type": "private", "first_name": alice.first_name},
            "from": alice.to_api(),
            "text": "/help",
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
        },
    }
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
    async with (
        started(["run", "--webhook", hook], env_a, tmp_path, "first") as first,
        started(["run"], env_b, tmp_path, "second") as second,
        httpx.AsyncClient() as client,
    ):
        await first.wait_line(_up)
        await second.wait_line(_up)
        to_first = await client.post(
            f"http://127.0.0.1:{first_port}/hook", json=update, headers=headers
        )
        to_second = await client.post(
            f"http://127.0.0.1:{second_port}/hook", json=update, headers=headers
        )
        assert (to_first.status_code, to_second.status_code) == (200, 200)
        await _stop(first, second)
    answers = [m for m in alice.messages if m.from_bot]
    assert len(answers) == 1
    assert world.webhook.url == hook
    assert any("update 4242 was already taken" in line for line in second.lines)


async def _stop(*processes: BotProcess) -> None:
    for process in processes:
        process.signal(signal.SIGTERM)
    for process in processes:
        assert await process.wait() == 0
