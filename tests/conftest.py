"""Shared fixtures: the Bot API emulator, the real Application polling it, a fresh database.

Every test that talks to the bot goes through real HTTP: the bot's httpx client calls the
emulator on 127.0.0.1, and simulated people act through the emulator's Python API.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import PartyApplication, build_application, polling
from bot.clock import ManualClock
from bot.context import SERVICES_KEY, Services
from bot.settings import Settings, load_settings
from sandbox import EmulatorServer, SimUser, World
from storage import Database, upgrade_to_head

TOKEN = "123456789:TEST-token-abcdefghijklmnopqrstuvwxyz"
BOT_USERNAME = "partybot_test_bot"
# 2026-03-02 09:00 in Asia/Shanghai: a Monday morning, far from midnight in either zone.
START_TIME = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated to head; each test copies it instead of migrating again."""
    path = tmp_path_factory.mktemp("template") / "partybot.db"
    upgrade_to_head(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def database_url(tmp_path: Path, migrated_template: Path) -> str:
    """A fresh, migrated SQLite database for this test."""
    path = tmp_path / "partybot.db"
    shutil.copyfile(migrated_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    yield db
    await db.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START_TIME)


@pytest.fixture
def world(clock: ManualClock) -> World:
    return World(token=TOKEN, bot_username=BOT_USERNAME, clock=clock.now)


@pytest.fixture
async def emulator(world: World) -> AsyncIterator[EmulatorServer]:
    async with EmulatorServer(world, host="127.0.0.1", port=0) as server:
        yield server


@pytest.fixture
def settings(emulator: EmulatorServer, database_url: str) -> Settings:
    return load_settings(
        env_file=None,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=emulator.url,
        PARTYBOT_DATABASE_URL=database_url,
        PARTYBOT_TIMEZONE="Asia/Shanghai",
        PARTYBOT_LANGUAGE="zh",
        PARTYBOT_OPS_CHAT_ID=None,
    )


@pytest.fixture
async def bot_app(
    settings: Settings, database: Database, clock: ManualClock, world: World
) -> AsyncIterator[PartyApplication]:
    """The real application, long-polling the emulator, stopped gracefully after the test."""
    application = build_application(settings, database=database, clock=clock)
    async with polling(application, poll_timeout=5):
        services: Services = application.bot_data[SERVICES_KEY]
        world.watch_outbox(services.relay.drained)
        yield application


@pytest.fixture
def person(world: World, bot_app: PartyApplication) -> Callable[..., SimUser]:
    """Make a simulated person who talks to the running bot: `alice = person("Alice")`."""

    def make(first_name: str, *, language: str = "zh-hans", phone: str | None = None) -> SimUser:
        return world.add_user(first_name, language_code=language, phone=phone)

    return make
