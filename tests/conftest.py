"""Shared fixtures: the Bot API emulator, the real Application polling it, a fresh database.

Every test that talks to the bot goes through real HTTP: the bot's httpx client calls the
emulator on 127.0.0.1, and simulated people act through the emulator's Python API.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.app import PartyApplication, build_application, polling
from bot.clock import ManualClock
from bot.context import SERVICES_KEY, Services
from bot.relay import RelayConfig
from bot.settings import Settings, load_settings
from sandbox import EmulatorServer, SimUser, World
from storage import Database, upgrade_to_head
from tests.support.constants import BOT_USERNAME, FAST_CHAT_INTERVAL, START_TIME, TOKEN


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
    database = Database(database_url)
    yield database
    await database.dispose()


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
def relay_chat_interval() -> float:
    """Seconds between two relay messages to one chat: fast in tests.

    Telegram's real 1 s makes every multi-message conversation crawl; the tests of the relay's
    limits override this fixture (or build their own relay) to keep the real spacing.
    """
    return FAST_CHAT_INTERVAL


@pytest.fixture
async def bot_app(
    settings: Settings,
    database: Database,
    clock: ManualClock,
    world: World,
    relay_chat_interval: float,
) -> AsyncIterator[PartyApplication]:
    """The real application, long-polling the emulator, stopped gracefully after the test."""
    relay_config = RelayConfig(rate=settings.relay_rate, chat_interval=relay_chat_interval)
    application = build_application(
        settings, database=database, clock=clock, relay_config=relay_config
    )
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
