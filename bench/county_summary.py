"""The county /summary and a year's export over five years of a 15,000-member county.

The county comes from bench/county.py (20 townships, 300 branches, 15,000 members, five
years of sessions: 1.5 million attendance rows; ``COUNTY_MEMBERS`` scales the members and
with them the rows). Measured in one process against one SQLite file, interleaved so load
on the machine hits both sides alike:

* /summary for the county and its last year (``bot.summary.build_summary``, the grouped
  figures by township and the headline) against ONE hand-written SQL aggregate over the
  same data: the year's attendance outcomes by township. Goal: p50 and p95 within 1.5x of
  it, and under a second.
* the year's export (``bot.export.gather`` plus ``workbook_bytes``) against reading the
  same year's attendance rows with a bare SELECT. Goal: under ten seconds. Meanwhile a
  task that wakes every 5 ms measures the event loop's longest stall (the bot answers no
  one while it lasts) against that task's longest stall with the loop otherwise idle.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from bench._table import Row, render
from bench.county import CountyShape, build_county
from bot.export import gather, workbook_bytes
from bot.periods import Period, PeriodKind
from bot.summary import build_summary
from storage import Database, orgs, upgrade_to_head

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 1, 15, 2, 0, tzinfo=UTC)
YEAR = Period(PeriodKind.YEAR, 2025)
ROUNDS = 9

# The baseline: one statement, the year's finalised outcomes by township, as a person
# would write it. The year is [2025-01-01, 2026-01-01) in Asia/Shanghai, stored in UTC.
HAND_WRITTEN = sa.text(
    """
    SELECT t.id,
           count(*),
           sum(a.outcome = 'present'),
           sum(a.outcome = 'excused'),
           sum(a.outcome = 'absent'),
           sum(a.outcome IN ('excused', 'absent') AND a.makeup_done_at IS NOT NULL)
    FROM attendance a
    JOIN study_session s ON s.id = a.session_id
    JOIN member m ON m.id = a.member_id
    JOIN org_unit b ON b.id = m.org_id
    JOIN org_unit t ON t.id = b.parent_id
    WHERE a.outcome != 'pending'
      AND s.starts_at >= '2024-12-31 16:00:00.000000'
      AND s.starts_at < '2025-12-31 16:00:00.000000'
    GROUP BY t.id
    """
)
YEAR_ROWS = sa.text(
    """
    SELECT s.starts_at, s.topic, s.kind, m.name, b.name, a.outcome, a.checked_in_at
    FROM attendance a
    JOIN study_session s ON s.id = a.session_id
    JOIN member m ON m.id = a.member_id
    JOIN org_unit b ON b.id = m.org_id
    WHERE s.starts_at >= '2024-12-31 16:00:00.000000'
      AND s.starts_at < '2025-12-31 16:00:00.000000'
    """
)


def shape() -> CountyShape:
    members = int(os.environ.get("COUNTY_MEMBERS", "15000"))
    return CountyShape(members=members)


async def timed(action: Callable[[], Awaitable[Any]]) -> float:
    start = time.perf_counter()
    await action()
    return time.perf_counter() - start


async def longest_stall(work: Awaitable[Any], tick: float = 0.005) -> float:
    """The longest the event loop kept a 5 ms ticker waiting beyond its tick, until
    ``work`` is done: how long the bot would have answered no one."""
    worst = 0.0
    done = asyncio.ensure_future(work)
    while not done.done():
        before = time.perf_counter()
        await asyncio.sleep(tick)
        worst = max(worst, time.perf_counter() - before - tick)
    await done
    return worst


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run(folder: Path) -> list[Row]:
    url = f"sqlite+aiosqlite:///{folder / 'county.db'}"
    await asyncio.to_thread(upgrade_to_head, url)
    database = Database(url)
    county_shape = shape()
    try:
        start = time.perf_counter()
        await build_county(database, county_shape, now=NOW)
        built = time.perf_counter() - start
        print(
            f"county: {county_shape.members:,} members, {county_shape.sessions:,} sessions,"
            f" {county_shape.attendance:,} attendance rows, written in {built:.1f} s"
        )
        async with database.session_scope() as db:
            county = await orgs.get_org_by_code(db=db, code="C")
        assert county is not None

        async def hand_written() -> None:
            async with database.session_scope() as db:
                rows = (await db.connection()).execute(HAND_WRITTEN)
                (await rows).all()

        async def summary() -> None:
            async with database.session_scope() as db:
                await build_summary(db=db, org=county, period=YEAR, now=NOW, tz=TZ)

        async def year_rows() -> None:
            async with database.session_scope() as db:
                rows = (await db.connection()).execute(YEAR_ROWS)
                (await rows).all()

        async def export() -> float:
            """The whole export, as handlers/export.py makes it; the seconds gathering."""
            start = time.perf_counter()
            async with database.session_scope() as db:
                data = await gather(db=db, org=county, period=YEAR, tz=TZ, language="zh")
            gathered = time.perf_counter() - start
            await asyncio.to_thread(workbook_bytes, data, "zh")
            return gathered

        await hand_written()  # warm the page cache for both sides
        base: list[float] = []
        summaries: list[float] = []
        for _ in range(ROUNDS):
            base.append(await timed(hand_written))
            summaries.append(await timed(summary))
        raw = await timed(year_rows)
        idle = await longest_stall(asyncio.sleep(1.0))
        start = time.perf_counter()
        exporting = asyncio.create_task(export())
        stalled = await longest_stall(exporting)
        gathered = exporting.result()
        exported = time.perf_counter() - start
        raw = min(raw, await timed(year_rows))
    finally:
        await database.dispose()
    table: list[Row] = []
    for label, q in (("p50", 0.5), ("p95", 0.95)):
        ours, theirs = quantile(summaries, q), quantile(base, q)
        table.append(
            Row(
                f"/summary county, year, {label}",
                f"{ours * 1000:.0f} ms",
                f"{theirs * 1000:.0f} ms hand-written GROUP BY",
                f"{ours / theirs:.2f}x",
                "<= 1.5x and < 1 s",
                ours / theirs <= 1.5 and ours < 1.0,
            )
        )
    table.append(
        Row(
            "export county, year: gather the rows",
            f"{gathered:.1f} s",
            f"{raw:.2f} s bare SELECT of the year's attendance",
            f"{gathered / raw:.1f}x",
            "(part of the next)",
        )
    )
    table.append(
        Row(
            "export county, year: gather + xlsx",
            f"{exported:.1f} s",
            f"{raw:.2f} s bare SELECT of the year's attendance",
            f"{exported / raw:.1f}x",
            "< 10 s",
            exported < 10.0,
        )
    )
    table.append(
        Row(
            "export county, year: longest loop stall",
            f"{stalled * 1000:.0f} ms",
            f"{idle * 1000:.1f} ms with the loop idle",
            f"{stalled / idle:.0f}x",
            "< 250 ms",
            stalled < 0.25,
        )
    )
    return table


def main() -> list[Row]:
    """Print the county's figures, each against its baseline, with the goal."""
    with tempfile.TemporaryDirectory() as folder:
        table = asyncio.run(run(Path(folder)))
    print(render(table))
    return table
