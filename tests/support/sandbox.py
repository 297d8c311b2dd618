"""Helpers for the sandbox tests: a seeded demo database to copy, and a running sandbox.

The sandbox's wall clock is frozen at START here, so "now" moves only when a test jumps it.
"""

from __future__ import annotations

import asyncio
import atexit
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from bot.settings import Settings, load_settings
from demo.app import Sandbox, running_sandbox
from demo.county import seed_demo
from storage import Database, upgrade_to_head

# 2026-03-02 09:00 in Asia/Shanghai, a Monday morning.
START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def sandbox_settings() -> Settings:
    """What an operator without a token has: defaults, Chinese, Asia/Shanghai."""
    return load_settings(
        env_file=None,
        TELEGRAM_BOT_TOKEN=None,
        PARTYBOT_TIMEZONE="Asia/Shanghai",
        PARTYBOT_LANGUAGE="zh",
        PARTYBOT_OPS_CHAT_ID=None,
    )


def url_of(path: Path) -> str:
    """The SQLite URL of a database file."""
    return f"sqlite+aiosqlite:///{path}"


async def seed_template(path: Path) -> None:
    """A migrated database holding the demo county, seeded at START."""
    upgrade_to_head(url_of(path))
    database = Database(url_of(path))
    async with database.session_scope() as db:
        await seed_demo(db=db, now=START, tz=sandbox_settings().tz)
    await database.dispose()


@cache
def seeded_template() -> Path:
    """The seeded database, made once per test run and shared by every sandbox test."""
    directory = Path(tempfile.mkdtemp(prefix="partybot-sandbox-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    path = directory / "sandbox.db"
    asyncio.run(seed_template(path))
    return path


def copy_template(template: Path, directory: Path) -> Path:
    """A private copy of the seeded database for one test."""
    target = directory / "sandbox.db"
    shutil.copyfile(template, target)
    return target


@asynccontextmanager
async def sandbox_at(database_path: Path, *, fresh: bool = False) -> AsyncIterator[Sandbox]:
    """The whole sandbox on a free port, with the frozen wall clock."""
    async with running_sandbox(
        sandbox_settings(),
        database_path=database_path,
        port=0,
        fresh=fresh,
        poll_timeout=2,
        wall=lambda: START,
    ) as sandbox:
        yield sandbox
