"""`partybot sandbox`: try partybot in a browser, with no Telegram token and no internet.

Starts, in one event loop: the Bot API emulator on http://127.0.0.1:8080 (with the web chat
page and the sandbox's controls), the real bot polling it, and the demo county in a
database file of its own (data/sandbox.db by default; `--reset` starts afresh).

Composition root, beside bot/app.py and bot/cli.py: it wires sandbox/ (the
emulator), the application and storage/ together, which is why it may import sandbox/.

The bot and the emulator share one OffsetClock. Its offset is kept next to the database
(``sandbox.clock``), so after a restart time does not run backwards for data that was
written after a jump.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from pydantic import SecretStr

from bot.app import PartyApplication, build_application, polling
from bot.clock import OffsetClock
from bot.settings import Settings
from demo.county import DemoPerson, demo_people, seed_demo
from demo.people import SandboxPeople
from demo.routes import SandboxRoutes
from demo.time_control import TimeControl
from sandbox import EmulatorServer, World
from sandbox.history import dump_history, load_history
from storage import Database, upgrade_to_head

log = logging.getLogger(__name__)

# Not a secret: the emulator accepts only this token, and it never leaves the machine.
SANDBOX_TOKEN = "7000000001:SANDBOX-partybot-demo-token-not-a-secret"
SANDBOX_BOT_USERNAME = "partybot_sandbox_bot"
DEFAULT_DATABASE = Path("data/sandbox.db")
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
_SCHEDULER_KEY = "scheduler"  # where bot/app.py keeps the running APScheduler


@dataclass(frozen=True, slots=True)
class Sandbox:
    """A running sandbox, for the CLI and for tests."""

    world: World
    server: EmulatorServer
    application: PartyApplication
    database: Database
    clock: OffsetClock
    time: TimeControl
    people: SandboxPeople
    cast: list[DemoPerson]

    @property
    def url(self) -> str:
        """Where the page is."""
        return self.server.url


def database_files(path: Path) -> list[Path]:
    """The database, its SQLite side files, the saved clock offset and the chats."""
    side_files = [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal")]
    return [path, *side_files, clock_file(path), history_file(path)]


def history_file(path: Path) -> Path:
    """Where the emulator's chats (what the page shows) are kept between runs."""
    return path.with_suffix(".chats.json")


def clock_file(path: Path) -> Path:
    """Where the clock offset of the sandbox with this database is kept."""
    return path.with_suffix(".clock")


def reset(path: Path) -> list[Path]:
    """Delete the sandbox's database and clock; returns what was deleted."""
    deleted = [file for file in database_files(path) if file.exists()]
    for file in deleted:
        file.unlink()
    return deleted


def _load_offset(path: Path) -> timedelta:
    try:
        return timedelta(seconds=max(float(clock_file(path).read_text().strip()), 0.0))
    except (OSError, ValueError):
        return timedelta(0)


def _save_offset(path: Path, offset: timedelta) -> None:
    clock_file(path).write_text(f"{offset.total_seconds():.3f}\n")


@contextlib.asynccontextmanager
async def running_sandbox(
    settings: Settings,
    *,
    database_path: Path = DEFAULT_DATABASE,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    fresh: bool = False,
    poll_timeout: int = 10,
    wall: Callable[[], datetime] | None = None,
) -> AsyncIterator[Sandbox]:
    """Run the emulator, the bot and the demo county until the block ends."""
    ensure_port_free(host, port)  # before seeding: a taken port fails at once
    if fresh:
        reset(database_path)
    database_path.parent.mkdir(parents=True, exist_ok=True)
    url = f"sqlite+aiosqlite:///{database_path}"
    await asyncio.to_thread(upgrade_to_head, url)
    clock = OffsetClock(_load_offset(database_path), wall=wall)
    database = Database(url)
    try:
        async with database.session_scope() as db:
            if await seed_demo(db=db, now=clock.now(), tz=settings.tz):
                log.info("seeded the demo county into %s", database_path)
            cast = await demo_people(db=db)
        world = World(SANDBOX_TOKEN, bot_username=SANDBOX_BOT_USERNAME, clock=clock.now)
        people = SandboxPeople(world, database, clock)
        await people.restore()
        with contextlib.suppress(OSError):  # no saved chats yet: they start empty
            saved = history_file(database_path).read_text(encoding="utf-8")
            load_history(saved, world.chats, world.files)
        time = TimeControl(clock, database, scheduler=lambda: None, tz=settings.tz)
        routes = SandboxRoutes(people, time, cast, settings.timezone).routes()
        async with EmulatorServer(world, host, port, extra_routes=routes) as server:
            application = build_application(
                bot_settings(settings, server.url, url), database=database, clock=clock
            )
            time.scheduler = lambda: application.bot_data.get(_SCHEDULER_KEY)
            try:
                async with polling(application, poll_timeout=poll_timeout):
                    yield Sandbox(world, server, application, database, clock, time, people, cast)
            finally:  # what the page shows comes back after a restart
                history_file(database_path).write_text(
                    dump_history(world.chats, world.files), encoding="utf-8"
                )
    finally:
        _save_offset(database_path, clock.offset)
        await database.dispose()


class PortTaken(OSError):
    """The page's port is in use; the message says how to choose another."""


def ensure_port_free(host: str, port: int) -> None:
    """Fail at once, in one line, if nothing can listen on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise PortTaken(
                f"port {port} on {host} is taken (is another sandbox running?); "
                f"choose another with --port, e.g. partybot sandbox --port {port + 10} "
                f"(make sandbox ARGS='--port {port + 10}')"
            ) from exc


def bot_settings(settings: Settings, emulator_url: str, database_url: str) -> Settings:
    """The operator's settings, pointed at the emulator and the sandbox's own database."""
    return settings.model_copy(
        update={
            "telegram_bot_token": SecretStr(SANDBOX_TOKEN),
            "telegram_api_base_url": emulator_url,
            "database_url": database_url,
            "ops_chat_id": None,  # a real ops chat does not exist in the emulator
        }
    )


async def serve_sandbox(
    settings: Settings,
    *,
    database_path: Path = DEFAULT_DATABASE,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    fresh: bool = False,
    announce: Callable[[str], None] = print,
) -> None:
    """Run the sandbox until SIGINT or SIGTERM, then stop everything gracefully."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with running_sandbox(
        settings, database_path=database_path, host=host, port=port, fresh=fresh
    ) as sandbox:
        announce(f"partybot sandbox: open {sandbox.url} in a browser (Ctrl+C stops)")
        await stop.wait()
