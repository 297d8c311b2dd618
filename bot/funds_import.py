"""`partybot funds import FILE`: the county's funds spreadsheet, all rows or none.

The file is read by the roster import's reader (bot.roster_file: .xlsx or .csv, title
rows, full-width digits, GBK); each row is checked with the same rules as /fund
(bot.funds), and the org is found by its code or its name. One bad row stops the whole
file, with a line per bad row saying why; --dry-run shows what would be written.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Final, TextIO

from sqlmodel.ext.asyncio.session import AsyncSession

from bot import funds
from bot.clock import Clock, SystemClock
from bot.i18n import N_, gettext
from bot.refusals import Refused
from bot.roster_file import (
    Cell,
    Grid,
    RosterFileError,
    cell_text,
    normalise_header,
    read_grids,
)
from bot.settings import Settings
from storage import Database, audit, current_revision
from storage import funds as fund_store
from storage.models import FundPurpose, FundSource, OrgUnit

__all__ = ["FundsImport", "import_funds", "report_lines", "run_cli"]

#: Header aliases per column (data: what county spreadsheets call them).
HEADERS: Final[dict[str, tuple[str, ...]]] = {
    "year": ("年度", "年份", "年", "year"),
    "org": ("单位", "单位名称", "组织", "党组织", "组织名称", "编码", "单位编码", "org", "code"),
    "source": ("来源", "资金来源", "经费来源", "source"),
    "purpose": ("用途", "资金用途", "经费用途", "purpose"),
    "amount": ("金额", "金额元", "金额(元)", "金额（元）", "amount", "yuan"),
    "note": ("备注", "说明", "note"),
}
REQUIRED: Final = ("year", "org", "source", "purpose", "amount")
HEADER_SCAN_ROWS: Final = 10
#: How far (in fen) a spreadsheet float may be from a whole fen and still be that fen.
FLOAT_NOISE: Final = 1e-6
#: Words for the budgets and purposes (data: as county spreadsheets write them).
SOURCE_WORDS: Final[dict[str, FundSource]] = {
    **dict.fromkeys(("市", "市级", "市财政", "市级财政", "municipal"), FundSource.MUNICIPAL),
    **dict.fromkeys(("县", "县级", "县财政", "县级财政", "county"), FundSource.COUNTY),
    **dict.fromkeys(("乡", "镇", "乡镇", "乡镇级", "乡镇财政", "township"), FundSource.TOWNSHIP),
}
PURPOSE_WORDS: Final[dict[str, FundPurpose]] = {
    **dict.fromkeys(("培训", "党员培训", "教育培训", "training"), FundPurpose.TRAINING),
    **dict.fromkeys(
        ("村级基础设施", "基础设施", "村基础设施", "infrastructure"), FundPurpose.INFRASTRUCTURE
    ),
    **dict.fromkeys(("办公", "办公经费", "办公费用", "office"), FundPurpose.OFFICE),
}

MSG_UNSUPPORTED: Final = N_(
    "The file {filename} is not a funds spreadsheet. Please use an .xlsx or .csv file."
)
MSG_NO_HEADER: Final = N_(
    "No header row found in {filename}: it needs the columns year, org, source, purpose "
    "and amount."
)
MSG_ROW: Final = N_("row {row}: {reason}")
MSG_UNKNOWN_ORG: Final = N_("no org has the code or name {value}")
MSG_AMBIGUOUS_ORG: Final = N_("several orgs are called {value}; write its code instead")
MSG_UNKNOWN_SOURCE: Final = N_("unknown source {value} (municipal, county or township)")
MSG_UNKNOWN_PURPOSE: Final = N_(
    "unknown purpose {value} (training, village infrastructure or office costs)"
)
MSG_MISSING: Final = N_("the {column} is missing")
MSG_EMPTY: Final = N_("{filename} has no rows of funds under its header.")
MSG_REFUSED: Final = N_("Nothing was imported from {filename}: {count} rows have problems.")
MSG_PREVIEW: Final = N_(
    "Preview of {filename}: {rows} records, {total} yuan. Nothing has been written yet."
)
MSG_IMPORTED: Final = N_("Imported {filename}: {rows} records, {total} yuan.")
MSG_ENTRY: Final = N_("row {row}: {org}, {year}, {source}, {purpose}: {amount} yuan")
MSG_CANNOT_READ: Final = N_("cannot read {path}: {reason}")
MSG_NO_COUNTY: Final = N_("The database has no county yet: run partybot init first.")
_COLUMN_NAMES: Final = {
    "year": N_("year"),
    "org": N_("org"),
    "source": N_("source"),
    "purpose": N_("purpose"),
    "amount": N_("amount"),
}


@dataclass(frozen=True, slots=True)
class Problem:
    """Why one row cannot be taken: a msgid and its values."""

    row: int
    reason: str
    values: dict[str, str] = field(default_factory=dict)

    def render(self, translate: Callable[[str], str]) -> str:
        values = {k: translate(v) if k == "column" else v for k, v in self.values.items()}
        reason = translate(self.reason).format(**values)
        return translate(MSG_ROW).format(row=self.row, reason=reason)


@dataclass(frozen=True, slots=True)
class Line:
    """A row that can be written, with the org it names."""

    row: int
    org: OrgUnit
    entry: funds.FundEntry


@dataclass(frozen=True, slots=True)
class FundsImport:
    """What a file holds, and whether it was written."""

    filename: str
    lines: list[Line]
    problems: list[Problem]
    written: bool

    @property
    def total(self) -> Decimal:
        return sum((line.entry.amount_yuan for line in self.lines), Decimal(0))


class _Header:
    def __init__(self, row: int, columns: dict[str, int]) -> None:
        self.row, self.columns = row, columns


_ALIASES: Final = {
    normalise_header(alias): name for name, aliases in HEADERS.items() for alias in aliases
}


def _find_header(grid: Grid) -> _Header | None:
    for index, row in enumerate(grid[:HEADER_SCAN_ROWS]):
        columns: dict[str, int] = {}
        for column, cell in enumerate(row):
            name = _ALIASES.get(normalise_header(cell_text(cell)))
            if name is not None and name not in columns:
                columns[name] = column
        if all(name in columns for name in REQUIRED):
            return _Header(index, columns)
    return None


def _text(cell: Cell) -> str:
    """A cell as text; a spreadsheet's binary float that is a whole number of fen once the
    last bits of noise are gone (0.1 + 0.2 = 0.30000000000000004) is read as that."""
    if isinstance(cell, float):
        fen = round(cell * 100)
        if abs(cell * 100 - fen) < FLOAT_NOISE:
            return str(Decimal(fen) / 100)
    return cell_text(cell)


def _word(text: str) -> str:
    return normalise_header(text)


_SOURCES: Final = {_word(k): v for k, v in SOURCE_WORDS.items()}
_PURPOSES: Final = {_word(k): v for k, v in PURPOSE_WORDS.items()}


async def read_funds(
    *, db: AsyncSession, data: bytes, filename: str, today: date
) -> tuple[list[Line], list[Problem]]:
    """Every data row of the file, checked; the orgs are looked up in one query."""
    grids = read_grids(data, filename, unsupported=MSG_UNSUPPORTED)
    found = next(((g, h) for g in grids if (h := _find_header(g)) is not None), None)
    if found is None:
        raise RosterFileError(MSG_NO_HEADER, filename=filename)
    grid, header = found
    records: list[tuple[int, dict[str, str]]] = []
    for index, cells in enumerate(grid[header.row + 1 :], start=header.row + 2):
        values = {
            name: _text(cells[column]) if column < len(cells) else ""
            for name, column in header.columns.items()
        }
        if any(values.values()):
            records.append((index, values))
    labels = {values["org"] for _, values in records if values["org"]}
    named = await fund_store.orgs_named(db=db, labels=sorted(labels))
    lines: list[Line] = []
    problems: list[Problem] = []
    for row, values in records:
        try:
            lines.append(_check_row(row, values, named, today))
        except _RowProblem as problem:
            problems.append(problem.problem)
    return lines, problems


class _RowProblem(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.reason)
        self.problem = problem


def _check_row(
    row: int, values: dict[str, str], named: dict[str, list[OrgUnit]], today: date
) -> Line:
    def fail(reason: str, **params: str) -> _RowProblem:
        return _RowProblem(Problem(row, reason, params))

    for column in REQUIRED:
        if not values[column]:
            raise fail(MSG_MISSING, column=_COLUMN_NAMES[column])
    label = values["org"]
    candidates = named.get(label, [])
    if not candidates:
        raise fail(MSG_UNKNOWN_ORG, value=label)
    if len(candidates) > 1:
        raise fail(MSG_AMBIGUOUS_ORG, value=label)
    source = _SOURCES.get(_word(values["source"]))
    if source is None:
        raise fail(MSG_UNKNOWN_SOURCE, value=values["source"])
    purpose = _PURPOSES.get(_word(values["purpose"]))
    if purpose is None:
        raise fail(MSG_UNKNOWN_PURPOSE, value=values["purpose"])
    try:
        org = funds.check_org(candidates[0])
        assert org.id is not None
        entry = funds.FundEntry(
            org_id=org.id,
            year=funds.check_year(values["year"], today=today),
            source=source,
            purpose=purpose,
            amount_yuan=funds.parse_amount(values["amount"]),
            note=values.get("note") or None,
        )
    except Refused as refused:
        raise fail(refused.message, **refused.values) from refused
    return Line(row, org, entry)


async def import_funds(
    *,
    db: AsyncSession,
    data: bytes,
    filename: str,
    actor: int | None,
    dry_run: bool,
    today: date,
    now: datetime,
) -> FundsImport:
    """Check every row; write them all (each audited) only if none has a problem."""
    lines, problems = await read_funds(db=db, data=data, filename=filename, today=today)
    if not lines and not problems:
        raise RosterFileError(MSG_EMPTY, filename=filename)
    written = not problems and not dry_run
    if written:
        for line in lines:
            await funds.write_fund(db=db, entry=line.entry, actor=actor, via="file", now=now)
        await audit.record(
            db=db,
            actor=actor,
            action="fund.import",
            target_kind="file",
            detail={
                "filename": filename,
                "rows": len(lines),
                "total_yuan": str(sum((line.entry.amount_yuan for line in lines), Decimal(0))),
            },
            at=now,
        )
    return FundsImport(filename, lines, problems, written)


def report_lines(outcome: FundsImport, language: str) -> list[str]:
    """The report: problems (nothing written), or each record and the total."""

    def _(message: str) -> str:
        return gettext(language, message)

    name = outcome.filename
    if outcome.problems:
        head = _(MSG_REFUSED).format(filename=name, count=len(outcome.problems))
        return [head, *(problem.render(_) for problem in outcome.problems)]
    total = funds.format_yuan(outcome.total)
    message = MSG_IMPORTED if outcome.written else MSG_PREVIEW
    lines = [_(message).format(filename=name, rows=len(outcome.lines), total=total)]
    for line in outcome.lines:
        entry = line.entry
        lines.append(
            _(MSG_ENTRY).format(
                row=line.row,
                org=line.org.name,
                year=entry.year,
                source=_(funds.SOURCES[entry.source]),
                purpose=_(funds.PURPOSES[entry.purpose]),
                amount=funds.format_yuan(entry.amount_yuan),
            )
        )
    return lines


async def run_cli(
    settings: Settings,
    path: Path,
    *,
    dry_run: bool,
    clock: Clock | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """`partybot funds import FILE [--dry-run]`; exit 1 when nothing could be imported."""
    out, err = out or sys.stdout, err or sys.stderr

    def _(message: str) -> str:
        return gettext(settings.language, message)

    try:
        data = await asyncio.to_thread(path.read_bytes)
    except OSError as error:
        reason = error.strerror or type(error).__name__
        print(f"partybot: {_(MSG_CANNOT_READ).format(path=path, reason=reason)}", file=err)
        return 1
    if await asyncio.to_thread(current_revision, settings.database_url) is None:
        print(f"partybot: {_(MSG_NO_COUNTY)}", file=err)
        return 1
    now = (clock or SystemClock()).now()
    database = Database(settings.database_url)
    try:
        async with database.session_scope() as db:
            outcome = await import_funds(
                db=db,
                data=data,
                filename=path.name,
                actor=None,
                dry_run=dry_run,
                today=now.astimezone(settings.tz).date(),
                now=now,
            )
    except RosterFileError as error:
        print(f"partybot: {error.render(_)}", file=err)
        return 1
    finally:
        await database.dispose()
    print("\n".join(report_lines(outcome, settings.language)), file=out)
    return 1 if outcome.problems else 0
