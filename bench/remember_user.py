"""Remembering who sent an update (runs before every handler, a tap included).

``storage.accounts.upsert_account`` used to write every time (INSERT … ON CONFLICT plus a
SELECT, one write transaction per update); now a known account with nothing new is only
read. On a synthetic county (bench/county.py, 3,000 members) in SQLite, 2,000 updates of
known people, each in its own transaction like the handler's: the baseline is a bare
SELECT of the account by key; measured against it, the updates with nothing new (the
common case) and updates that change the name (what every update cost before).
Goal: nothing new costs at most 1.5x the bare SELECT and writes nothing.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench._table import Row
from bench.county import FIRST_USER_ID, CountyShape, build_county
from bench.roster_import import counting_statements
from storage import Database, accounts, upgrade_to_head
from storage.models import TelegramAccount

NOW = datetime(2026, 1, 15, 2, 0, tzinfo=UTC)
UPDATES = 2_000
BASELINE = "bare SELECT of the account (baseline)"
NOTHING_NEW = "remember, nothing new"
NEW_NAME = "remember, new name (every update before)"
SHAPE = CountyShape(townships=5, branches=60, members=3_000, years=1, first_year=2025)


def _user(n: int) -> int:
    """The n-th member on Telegram (the generator leaves every fifth off)."""
    return FIRST_USER_ID + n + n // 4 + 1


async def _bare(database: Database, n: int) -> None:
    async with database.session_scope() as db:
        await db.get(TelegramAccount, _user(n))


async def _remember(database: Database, n: int, first_name: str) -> None:
    async with database.session_scope() as db:
        await accounts.upsert_account(
            db=db,
            telegram_user_id=_user(n),
            first_name=first_name,
            username=None,
            language_code="zh-hans",
            now=NOW + timedelta(minutes=1),
        )


async def run(folder: Path) -> dict[str, tuple[float, list[str]]]:
    """Per path: (seconds for all UPDATES, the statements one more update sent)."""
    url = f"sqlite+aiosqlite:///{folder / 'county.db'}"
    await asyncio.to_thread(upgrade_to_head, url)
    database = Database(url)
    try:
        await build_county(database, SHAPE, now=NOW)
        runs: dict[str, Callable[[int], Awaitable[None]]] = {
            BASELINE: lambda n: _bare(database, n),
            NOTHING_NEW: lambda n: _remember(database, n, f"党员{_user(n) - FIRST_USER_ID}"),
            NEW_NAME: lambda n: _remember(database, n, "改名"),
        }
        seconds = dict.fromkeys(runs, 0.0)
        for n in range(UPDATES):  # interleaved, so the machine's load hits all alike
            for label, action in runs.items():
                start = time.perf_counter()
                await action(n)
                seconds[label] += time.perf_counter() - start
        statements: dict[str, list[str]] = {}
        for label, action in runs.items():  # one more update each, counted
            with counting_statements(database) as sent:
                await action(UPDATES)
            statements[label] = sent
        return {label: (seconds[label], statements[label]) for label in runs}
    finally:
        await database.dispose()


def _kinds(sent: list[str]) -> str:
    return ", ".join(f"{sent.count(k)} {k}" for k in sorted(set(sent)))


def main() -> list[Row]:
    """Print each path per update, its statements, and its ratio to the bare SELECT;
    return the common case (nothing new) for the table."""
    with tempfile.TemporaryDirectory() as folder:
        measured = asyncio.run(run(Path(folder)))
    base = measured[BASELINE][0]
    for label, (took, sent) in measured.items():
        print(
            f"{label}: {took / UPDATES * 1000:.2f} ms an update ({_kinds(sent)}),"
            f" {took / base:.2f}x the bare SELECT"
        )
    took, sent = measured[NOTHING_NEW]
    writes = [kind for kind in sent if kind in ("INSERT", "UPDATE", "DELETE")]
    return [
        Row(
            "remember the sender of a known account",
            f"{took / UPDATES * 1000:.2f} ms an update ({_kinds(sent)})",
            f"{base / UPDATES * 1000:.2f} ms bare SELECT",
            f"{took / base:.2f}x",
            "<= 1.5x, no writes",
            took / base <= 1.5 and not writes,
        )
    ]
