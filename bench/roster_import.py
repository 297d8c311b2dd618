"""Roster import of 5,000 rows into a fresh SQLite database, against the time to parse the file.

Baseline: `read_roster` on the same .xlsx (openpyxl doing the reading). Measured: planning
plus applying the import of those rows (first import: everything created; re-import: the
same file again, everything unchanged), and the SQL statements each sends, which must not
grow with the number of rows.
"""

from __future__ import annotations

import asyncio
import io
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from sqlalchemy import event

from bench._table import Row
from bot.roster_file import ParsedRoster, read_roster
from bot.roster_import import apply_plan, plan_import
from storage import Database, orgs, upgrade_to_head
from storage.models import OrgKind

ROWS = 5_000
TOWNSHIPS = 10
BRANCHES_PER_TOWNSHIP = 10
TODAY = date(2026, 3, 2)
NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
STATUSES = ("正式党员", "正式党员", "正式党员", "预备党员", "发展对象", "入党积极分子")


def roster_xlsx(rows: int) -> bytes:
    """A county roster: title row, header, ID column, rows spread over 100 branches."""
    workbook = Workbook()
    sheet: Any = workbook.active
    sheet.append(["县农村党员花名册"])
    sheet.append(["序号", "姓名", "性别", "所属乡镇", "所在党支部", "身份证号", "手机号码",
                  "人员类别", "入党时间", "党小组"])  # fmt: skip
    for n in range(rows):
        township = n % TOWNSHIPS
        branch = (n // TOWNSHIPS) % BRANCHES_PER_TOWNSHIP
        sheet.append(
            [
                n + 1,
                f"党员{n:05d}",
                "男" if n % 2 else "女",
                f"第{township}镇",
                f"第{township}镇第{branch}村党支部",
                f"11010119{60 + n % 40}0101{n % 10000:04d}",
                f"139{n:08d}" if n % 5 else None,
                STATUSES[n % len(STATUSES)],
                f"{1970 + n % 50}-07-01",
                f"第{n % 3 + 1}党小组" if n % 4 == 0 else None,
            ]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def timed(run: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    """The best of `repeat` wall-clock timings, and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


@contextmanager
def counting_statements(database: Database) -> Iterator[list[str]]:
    """Collect the SQL statements the database is sent inside the block."""
    sent: list[str] = []

    def record(*args: Any) -> None:
        sent.append(str(args[2]).split(None, 1)[0].upper())

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def import_once(database: Database, parsed: ParsedRoster) -> tuple[float, list[str], str]:
    """Plan and apply one import (written in batches of WRITE_BATCH rows): seconds,
    statements, summary."""
    with counting_statements(database) as sent:
        start = time.perf_counter()
        async with database.session_scope() as db:
            county = await orgs.get_county(db=db)
            assert county is not None
            plan = await plan_import(db=db, county=county, parsed=parsed, filename="bench.xlsx")
        await apply_plan(
            database=database, plan=plan, today=TODAY, now=NOW, actor=None, via="bench"
        )
        elapsed = time.perf_counter() - start
    summary = (
        f"{len(plan.new_orgs)} org units and {len(plan.creates)} people created,"
        f" {len(plan.updates)} updated, {plan.unchanged} unchanged"
    )
    return elapsed, sent, summary


async def run(parsed: ParsedRoster, folder: Path) -> list[tuple[str, float, list[str], str]]:
    """Import the rows twice into a fresh database that holds only the county."""
    url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
    await asyncio.to_thread(upgrade_to_head, url)
    database = Database(url)
    try:
        async with database.session_scope() as db:
            await orgs.create_org(db=db, code="C", name="红旗县", kind=OrgKind.COUNTY)
        first = await import_once(database, parsed)
        again = await import_once(database, parsed)
    finally:
        await database.dispose()
    return [("first import", *first), ("re-import", *again)]


def main() -> list[Row]:
    """Print the parse baseline and both imports as ratios of it."""
    data = roster_xlsx(ROWS)
    parse_seconds, parsed = timed(lambda: read_roster(data, "bench.xlsx", today=TODAY))
    assert isinstance(parsed, ParsedRoster)
    assert len(parsed.good_rows) == ROWS, parsed.problems[:3]
    size = f"{len(data) // 1024} KiB .xlsx"
    print(f"baseline: read_roster of {ROWS} rows ({size}): {parse_seconds:.2f} s")
    with tempfile.TemporaryDirectory() as folder:
        results = asyncio.run(run(parsed, Path(folder)))
    table: list[Row] = []
    for label, seconds, sent, summary in results:
        kinds = {kind: sent.count(kind) for kind in sorted(set(sent))}
        print(
            f"{label}: plan + apply {seconds / parse_seconds:.2f}x the parse time"
            f" ({seconds:.2f} s; {summary}; SQL statements {len(sent)}: {kinds})"
        )
        table.append(
            Row(
                f"roster import, {ROWS:,} rows: {label}",
                f"{seconds:.2f} s, {len(sent)} statements",
                f"{parse_seconds:.2f} s read_roster",
                f"{seconds / parse_seconds:.2f}x",
                "<= 1x the parse",
                seconds <= parse_seconds,
            )
        )
    return table
