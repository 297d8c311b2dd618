"""Footprint: start-up time and memory of a running partybot, and database size.

Start-up and memory: partybot (``python -m bot.cli run``, long polling) on a county of
``FOOTPRINT_MEMBERS`` members (environment, default 15,000) with a year of sessions and
20,000 reminders waiting in the outbox, against a bare python-telegram-bot Application
(one CallbackQueryHandler that answers) in the same kind of process. Both talk to the
emulator in this process; start-up runs from spawning the process to its first
getUpdates, memory is the resident set (VmRSS) two seconds after that. The runs go in
pairs, bare then partybot, and the table shows min / median / max of the pairwise ratios.

Database size: the SQLite file of that county (orgs, members and their accounts, a year
of sessions and attendance; no notices or outbox) per 1,000 members, and what one queued
reminder adds to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench._emulator import TOKEN
from bench._table import Row, spread
from bench.county import CountyShape, build_county
from sandbox import EmulatorServer, World
from storage import Database, upgrade_to_head
from storage.deliveries import Outgoing, enqueue_many
from storage.models import DeliveryKind

MEMBERS = int(os.environ.get("FOOTPRINT_MEMBERS", "15000"))
PENDING = 20_000
PAIRS = 3
NOW = datetime(2026, 1, 15, 2, 0, tzinfo=UTC)
START_GOAL = 3.0  # seconds
RSS_GOAL = 150.0  # MB
BARE = """
import sys
from telegram.ext import ApplicationBuilder, CallbackQueryHandler

async def answer(update, context):
    await update.callback_query.answer()

application = ApplicationBuilder().token(sys.argv[1]).base_url(sys.argv[2] + "/bot").build()
application.add_handler(CallbackQueryHandler(answer))
application.run_polling()
"""
REMINDER = "【学习提醒】明天 19:00 在村委会会议室召开主题党日活动，请准时参加。"


def _file_size(path: Path) -> int:
    """Bytes of the SQLite file with its write-ahead log folded in."""
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path.stat().st_size


async def county_file(path: Path) -> tuple[int, int]:
    """Build the county: (bytes of the county, bytes added by the pending reminders)."""
    url = f"sqlite+aiosqlite:///{path}"
    await asyncio.to_thread(upgrade_to_head, url)
    database = Database(url)
    try:
        shape = CountyShape(members=MEMBERS, years=1, first_year=2025)
        await build_county(database, shape, now=NOW)
        await database.dispose()
        county = _file_size(path)
        items = [
            Outgoing(8_000_000 + n, {"text": REMINDER, "parse_mode": "HTML"}, f"remind:{n}")
            for n in range(PENDING)
        ]
        async with database.session_scope() as db:
            await enqueue_many(
                db=db,
                kind=DeliveryKind.SESSION_REMINDER,
                items=items,
                due_at=NOW + timedelta(days=7),
            )
    finally:
        await database.dispose()
    return county, _file_size(path) - county


def _rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    assert match is not None
    return int(match.group(1)) / 1024


async def _start(
    world: World, argv: list[str], env: dict[str, str], cwd: Path
) -> tuple[float, float]:
    """Spawn, wait for the process's first getUpdates: (seconds, MB resident after 2 s)."""
    before = world.polls_started
    started = time.perf_counter()
    child = await asyncio.create_subprocess_exec(
        *argv, env=env, cwd=cwd, stdout=asyncio.subprocess.DEVNULL
    )
    try:
        await world.wait_for(lambda: world.polls_started > before, timeout=120)
        took = time.perf_counter() - started
        await asyncio.sleep(2.0)  # what it holds once running, not while importing
        return took, _rss_mb(child.pid)
    finally:
        child.terminate()
        try:
            await asyncio.wait_for(child.wait(), timeout=30)
        except TimeoutError:
            child.kill()
            await child.wait()


async def startups(path: Path, folder: Path) -> list[tuple[float, float, float, float]]:
    """Per pair: (bare seconds, bare MB, partybot seconds, partybot MB)."""
    world = World(TOKEN)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PARTYBOT_", "TELEGRAM_"))}
    results = []
    async with EmulatorServer(world, host="127.0.0.1", port=0) as server:
        ours = base | {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": server.url,
            "PARTYBOT_DATABASE_URL": f"sqlite+aiosqlite:///{path}",
            "PARTYBOT_LOG_LEVEL": "WARNING",
        }
        for _ in range(PAIRS):
            bare = await _start(
                world, [sys.executable, "-c", BARE, TOKEN, server.url], base, folder
            )
            party = await _start(world, [sys.executable, "-m", "bot.cli", "run"], ours, folder)
            results.append((*bare, *party))
            print(
                f"bare PTB: {bare[0]:.2f} s, {bare[1]:.0f} MB;"
                f" partybot: {party[0]:.2f} s, {party[1]:.0f} MB"
            )
    return results


def main() -> list[Row]:
    """Print each pair and the database size; return the figures for the table."""
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        path = folder / "county.db"
        county, pending = asyncio.run(county_file(path))
        print(
            f"county of {MEMBERS:,} members, one year: {county / 2**20:.1f} MiB;"
            f" {PENDING:,} pending reminders add {pending / 2**20:.1f} MiB"
        )
        results = asyncio.run(startups(path, folder))
    seconds = statistics.median(r[2] for r in results)
    memory = statistics.median(r[3] for r in results)
    return [
        Row(
            f"start-up to first getUpdates ({MEMBERS:,} members, {PENDING:,} pending)",
            f"{seconds:.2f} s (median of {PAIRS})",
            f"{statistics.median(r[0] for r in results):.2f} s bare PTB Application",
            spread([r[2] / r[0] for r in results]),
            f"< {START_GOAL:.0f} s",
            seconds < START_GOAL,
        ),
        Row(
            "memory (VmRSS) once running",
            f"{memory:.0f} MB (median of {PAIRS})",
            f"{statistics.median(r[1] for r in results):.0f} MB bare PTB Application",
            spread([r[3] / r[1] for r in results]),
            f"< {RSS_GOAL:.0f} MB",
            memory < RSS_GOAL,
        ),
        Row(
            "database size per 1,000 members a year (SQLite)",
            f"{county / MEMBERS * 1000 / 2**20:.2f} MiB",
            "",
            "",
        ),
        Row(
            "outbox: one queued reminder",
            f"{pending / PENDING:.0f} bytes",
            "",
            "",
        ),
    ]
