"""Webhook mode: Telegram (the emulator) posts updates; the secret token is checked, a
replayed update is processed once, and /healthz says what an operator needs to know."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import select

from bot.app import PartyApplication, build_application, serving
from bot.clock import ManualClock
from bot.settings import Settings, load_settings
from bot.update_log import finish_update, take_update
from bot.web import SECRET_HEADER, WebServer
from sandbox import EmulatorServer, SimUser, World
from schedules.jobs import job_forget_old_updates
from storage import Database, head_revision
from storage.models import ProcessedUpdate
from tests.support.constants import TOKEN
from tests.support.process import free_port

PATH = "/telegram/hook"


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def settings(emulator: EmulatorServer, database_url: str, port: int) -> Settings:
    return load_settings(
        env_file=None,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=emulator.url,
        PARTYBOT_DATABASE_URL=database_url,
        PARTYBOT_WEBHOOK_URL=f"http://127.0.0.1:{port}{PATH}",
        PARTYBOT_LISTEN=f"127.0.0.1:{port}",
    )


@pytest.fixture
async def webhook_app(
    settings: Settings, database: Database, clock: ManualClock, world: World
) -> AsyncIterator[PartyApplication]:
    application = build_application(settings, database=database, clock=clock)
    async with serving(application, poll_timeout=None, services=[WebServer(application)]):
        yield application


@pytest.fixture
async def client(port: int) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        yield http


def _texts(user: SimUser) -> list[str]:
    return [m.text or "" for m in user.messages if m.from_bot]


async def _taken(database: Database) -> list[int]:
    async with database.session_scope() as db:
        rows = await db.exec(select(ProcessedUpdate.update_id))
        return sorted(rows.all())


async def _answered_in_order(user: SimUser) -> str:
    """Send /help through Telegram and return the answer: anything the bot would have
    answered to an earlier update has arrived by then."""
    await user.send("/help")
    return (await user.wait_for_reply(timeout=10)).text or ""


def _update(update_id: int, message: dict[str, Any]) -> dict[str, Any]:
    return {"update_id": update_id, "message": message}


async def test_the_bot_sets_its_webhook_with_a_valid_secret_and_answers_through_it(
    webhook_app: PartyApplication, world: World, settings: Settings, database: Database
) -> None:
    assert world.webhook.url == settings.webhook_url
    secret = world.webhook.secret_token
    assert secret == settings.webhook_token
    assert secret is not None
    assert 1 <= len(secret) <= 256
    assert set(secret) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
    assert world.calls_of("getUpdates") == []  # no polling in webhook mode
    # Only the update types partybot handles, by their Bot API names.
    assert world.webhook.allowed_updates == [
        "message",
        "edited_message",
        "callback_query",
        "my_chat_member",
    ]

    alice = world.add_user("阿丽", language_code="zh-hans")
    await alice.send("/start")
    assert await alice.wait_for_reply(timeout=10)
    assert len(await _taken(database)) == 1


@pytest.mark.parametrize("secret", [None, "wrong-secret", ""])
async def test_a_request_without_the_right_secret_gets_403_and_is_not_processed(
    webhook_app: PartyApplication,
    world: World,
    database: Database,
    client: httpx.AsyncClient,
    secret: str | None,
) -> None:
    alice = world.add_user("阿丽", language_code="zh-hans")
    first = await _answered_in_order(alice)
    forged = _update(777_777, {**_message(alice, world), "text": "/start"})
    headers = {} if secret is None else {SECRET_HEADER: secret}
    response = await client.post(PATH, json=forged, headers=headers)
    assert response.status_code == 403
    assert await _answered_in_order(alice) == first
    assert _texts(alice) == [first, first]  # the forged /start got no answer
    assert 777_777 not in await _taken(database)


def _message(user: SimUser, world: World) -> dict[str, Any]:
    """A text message from ``user`` shaped as Telegram sends it."""
    return {
        "message_id": 9_000,
        "date": int(world.now().timestamp()),
        "chat": {"id": user.id, "type": "private", "first_name": user.first_name},
        "from": user.to_api(),
        "text": "",
        "entities": [],
    }


async def test_a_replayed_update_is_processed_once(
    webhook_app: PartyApplication,
    world: World,
    database: Database,
    client: httpx.AsyncClient,
    settings: Settings,
) -> None:
    alice = world.add_user("阿丽", language_code="zh-hans")
    update = _update(
        888_888,
        {
            **_message(alice, world),
            "text": "/help",
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
        },
    )
    headers = {SECRET_HEADER: settings.webhook_token}
    first = await client.post(PATH, json=update, headers=headers)
    assert first.status_code == 200
    answer = await alice.wait_for_reply(timeout=10)
    again = await client.post(PATH, json=update, headers=headers)
    assert again.status_code == 200  # Telegram must not retry it either
    assert await _answered_in_order(alice) == answer.text
    assert len(_texts(alice)) == 2  # one answer to the update, one to the later /help
    assert 888_888 in await _taken(database)


async def test_healthz_reports_database_migration_and_leadership(
    webhook_app: PartyApplication, client: httpx.AsyncClient, database: Database
) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "migration": {"current": head_revision(), "head": head_revision()},
        "leader": True,
    }
    async with database.session_scope() as db:
        connection = await db.connection()
        await connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0001'")
    response = await client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "failing"
    assert response.json()["migration"]["current"] == "0001"


async def test_the_metrics_page_is_off_unless_asked_for(
    webhook_app: PartyApplication, client: httpx.AsyncClient
) -> None:
    assert (await client.get("/metrics")).status_code == 404


async def test_taken_updates_are_forgotten_after_the_retention(
    database: Database, clock: ManualClock
) -> None:
    await take_update(database, update_id=1, worker="a", now=clock.now())
    clock.advance(timedelta(hours=47))
    await take_update(database, update_id=2, worker="a", now=clock.now())
    clock.advance(timedelta(hours=2))
    assert await job_forget_old_updates(database, clock) == 1
    assert await _taken(database) == [2]


async def test_an_update_whose_taker_died_is_taken_again_after_a_while(
    database: Database, clock: ManualClock
) -> None:
    assert await take_update(database, update_id=7, worker="a", now=clock.now())
    assert not await take_update(database, update_id=7, worker="b", now=clock.now())
    clock.advance(timedelta(minutes=3))  # "a" never finished it
    assert await take_update(database, update_id=7, worker="b", now=clock.now())
    await finish_update(database, update_id=7, now=clock.now())
    clock.advance(timedelta(minutes=3))
    assert not await take_update(database, update_id=7, worker="c", now=clock.now())
