"""Real `partybot` processes for the production tests: spawn, read their log, signal them.

Not a test module: the helpers start ``python -m bot.cli ...`` with a clean environment
(only what the test passes), collect every line it writes, and let a test wait for a line
instead of sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from storage import sync_url
from tests.support.storage import require_postgres_url

ROOT = Path(__file__).resolve().parent.parent
_OURS = re.compile(r"^(TELEGRAM_|PARTYBOT_)")


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def new_postgres_database(prefix: str) -> Iterator[str]:
    """URL of a brand-new PostgreSQL database on the test server, dropped afterwards
    (skips without PARTYBOT_TEST_POSTGRES_URL, fails without it under CI)."""
    base = require_postgres_url()
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(sync_url(base), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


def clean_environment(extra: Mapping[str, str]) -> dict[str, str]:
    """The test runner's environment without any partybot setting, plus ``extra``."""
    env = {name: value for name, value in os.environ.items() if not _OURS.match(name)}
    env.update(extra)
    env["PYTHONUNBUFFERED"] = "1"
    return env


class BotProcess:
    """One `partybot` process; ``lines`` grows as it writes (stdout and stderr merged)."""

    def __init__(self, process: asyncio.subprocess.Process, name: str) -> None:
        self.process = process
        self.name = name
        self.lines: list[str] = []
        self._changed = asyncio.Event()
        self._reader = asyncio.create_task(self._read(), name=f"read-{name}")

    async def _read(self) -> None:
        assert self.process.stdout is not None
        while raw := await self.process.stdout.readline():
            self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
            self._changed.set()
        self._changed.set()

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    async def wait_line(
        self, predicate: Callable[[str], bool], *, within: float = 30.0, after: int = 0
    ) -> str:
        """The first line (from index ``after``) that matches; fails if the process ends."""

        async def find() -> str:
            seen = after
            while True:
                for line in self.lines[seen:]:
                    if predicate(line):
                        return line
                seen = max(seen, len(self.lines))
                if self._reader.done():
                    raise AssertionError(f"{self.name} ended without the line:\n{self.output}")
                self._changed.clear()
                await self._changed.wait()

        try:
            return await asyncio.wait_for(find(), within)
        except TimeoutError:
            message = f"{self.name}: no such line in {within} s:\n{self.output}"
            raise AssertionError(message) from None

    async def wait(self, *, within: float = 30.0) -> int:
        """Wait for the process to end; its exit status."""
        code = await asyncio.wait_for(self.process.wait(), within)
        await self._reader
        return code

    def signal(self, sig: signal.Signals) -> None:
        self.process.send_signal(sig)

    async def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
        await self.process.wait()
        with contextlib.suppress(Exception):
            await self._reader


async def start(argv: list[str], env: Mapping[str, str], cwd: Path, name: str) -> BotProcess:
    """Start ``python -m bot.cli *argv`` in ``cwd`` with only ``env`` as partybot settings."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *argv,
        cwd=cwd,
        env=clean_environment(env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    return BotProcess(process, name)


@asynccontextmanager
async def started(
    argv: list[str], env: Mapping[str, str], cwd: Path, name: str = "partybot"
) -> AsyncIterator[BotProcess]:
    """A process that is killed at the end of the block if it is still running."""
    process = await start(argv, env, cwd, name)
    try:
        yield process
    finally:
        await process.kill()
