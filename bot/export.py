"""/export and `partybot export`: one XLSX workbook of an org subtree for a period.

The rows come from storage/exports in one short transaction (`gather`); the workbook is
built from them without the database (`workbook_bytes`, CPU work for a thread). Headers
are in the reader's language, the header row is frozen and filtered, widths fit the
content, and every time is shown in the people's zone (Excel has no time zones).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot import xlsx
from bot.dates import local_date
from bot.duties import year_bounds
from bot.funds import FLOOR_YUAN, PURPOSES, SOURCES
from bot.i18n import N_, gettext
from bot.periods import Period, parse_period
from bot.roster import STATUS_NAMES
from bot.satisfaction import TARGET, satisfied_share, survey_results
from bot.sessions import KIND_LABELS
from bot.settings import Settings
from bot.xlsx import Table
from storage import Database, current_revision, exports, orgs
from storage import duties as duty_store
from storage import funds as fund_store
from storage import guidance as guidance_store
from storage.guidance import Only
from storage.models import (
    AttendanceOutcome,
    FundPurpose,
    FundSource,
    LeaveState,
    MemberStatus,
    OrgKind,
    OrgUnit,
    Rsvp,
    SessionState,
)

__all__ = [
    "ExportData",
    "ExportError",
    "Sheet",
    "export_cli",
    "filename",
    "gather",
    "workbook_bytes",
]

MAX_WIDTH = 60
NOTICE_TEXT = 200  # characters of a notice shown in a cell

OUTCOME_NAMES = {
    AttendanceOutcome.PENDING: N_("not finalised"),
    AttendanceOutcome.PRESENT: N_("present"),
    AttendanceOutcome.EXCUSED: N_("excused"),
    AttendanceOutcome.ABSENT: N_("absent"),
}
RSVP_NAMES = {Rsvp.NONE: N_("no answer"), Rsvp.ATTEND: N_("will attend"), Rsvp.LEAVE: N_("leave")}
LEAVE_NAMES = {
    LeaveState.PENDING: N_("waiting"),
    LeaveState.APPROVED: N_("approved"),
    LeaveState.REJECTED: N_("not approved"),
}
STATE_NAMES = {
    SessionState.SCHEDULED: N_("scheduled"),
    SessionState.CLOSED: N_("held"),
    SessionState.CANCELLED: N_("cancelled"),
}


@dataclass(frozen=True, slots=True)
class Sheet:
    """One worksheet: a title, headers (msgids) and rows of cell values (already local)."""

    title: str
    headers: tuple[str, ...]
    rows: list[tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class ExportData:
    org: OrgUnit
    period: Period
    sheets: list[Sheet]
    only: Only | None = None  # narrowed to the units of one class or flag

    @property
    def row_count(self) -> int:
        return sum(len(sheet.rows) for sheet in self.sheets)


async def gather(
    *,
    db: AsyncSession,
    org: OrgUnit,
    period: Period,
    tz: ZoneInfo,
    language: str,
    only: Only | None = None,
) -> ExportData:
    """Everything the workbook shows for ``org``'s subtree, read in one transaction.

    Narrowed by ``only`` (a class or flag), the sheets list the flagged units' subtrees
    alone (the money per member: the rows of the orgs in them, each its own figure, as
    /summary counts them); the leading groups are the county's and the townships'
    committees' own, which no branch has, and are listed whole."""
    start, end = period.bounds(tz)
    path = org.path
    _ = lambda message: gettext(language, message)  # noqa: E731

    def local(moment: datetime | None) -> datetime | None:
        return moment.astimezone(tz).replace(tzinfo=None) if moment is not None else None

    def yes(flag: Any) -> str:
        return _("yes") if flag else _("no")

    def label(names: dict[Any, str], value: Any) -> str:
        return _(names[value]) if value is not None and value in names else ""

    # The big sheets name each value with a look-up made once (a StrEnum member and its
    # text are the same key); session times repeat for every invitee, so each is
    # converted once. Naming 300,000 rows one call at a time took 2-3 s.
    kinds = _names(KIND_LABELS, language)
    states = _names(STATE_NAMES, language)
    answers = _names(RSVP_NAMES, language)
    leaves = _names(LEAVE_NAMES, language)
    outcomes = _names(OUTCOME_NAMES, language)
    starts: dict[datetime, datetime | None] = {}

    def start_of(moment: datetime) -> datetime | None:
        shown = starts.get(moment)
        if shown is None:
            shown = starts[moment] = local(moment)
        return shown

    members = [
        (name, code, org_name, _(STATUS_NAMES[MemberStatus(status)]), joined, yes(tg), yes(active))
        for name, code, org_name, status, joined, tg, active in await exports.member_rows(
            db=db, path=path, only=only
        )
    ]
    sessions = [
        (start_of(at), org_name, kinds[kind], topic, place, states[state], *counts)
        for at, org_name, kind, topic, place, state, *counts in await exports.session_rows(
            db=db, path=path, only=only, start=start, end=end
        )
    ]

    def named(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        return [
            (start_of(at), topic, kinds[kind], name, org_name, answers.get(rsvp, ""),
             leaves.get(leave, ""), outcomes.get(outcome, ""),
             checked and local(checked), made_up and local(made_up))
            for at, topic, kind, name, org_name, rsvp, leave, outcome, checked, made_up in rows
        ]  # fmt: skip

    # A county-year is 300,000 rows: read a part at a time and named in a worker thread,
    # so the bot keeps answering others meanwhile.
    attendance = await asyncio.to_thread(
        named,
        await exports.attendance_rows(db=db, path=path, only=only, start=start, end=end),
    )
    notices = [
        (local(at), org_name, text[:NOTICE_TEXT], yes(asks_ack), delivered, acked)
        for at, org_name, text, asks_ack, delivered, acked in await exports.notice_rows(
            db=db, path=path, only=only, start=start, end=end
        )
    ]
    acks = [
        (local(at), text[:NOTICE_TEXT], name, org_name, local(sent), local(acked))
        for at, text, name, org_name, sent, acked in await exports.ack_rows(
            db=db, path=path, only=only, start=start, end=end
        )
    ]
    trainings = [
        (local(published), title, author, held, deadline, float(hours), name, org_name,
         local(done))
        for published, title, author, held, deadline, hours, name, org_name, done
        in await exports.training_rows(
            db=db, path=path, only=only, start=start, end=end
        )
    ]  # fmt: skip
    year = period.start.year
    funds = [
        (at_year, org_name, label(SOURCES, FundSource(source)),
         label(PURPOSES, FundPurpose(purpose)), float(amount), note, local(recorded))
        for at_year, org_name, source, purpose, amount, note, recorded in await exports.fund_rows(
            db=db, path=path, only=only, years=[year]
        )
    ]  # fmt: skip
    kept = await _kept_paths(db, only)
    spend = [
        (s.name, s.members, float(s.recorded_yuan), float(s.attributed_yuan),
         float(s.per_member_yuan) if s.per_member_yuan is not None else None,
         float(s.gap_yuan))
        for s in await fund_store.training_spend(
            db=db, org_id=org.id or 0, year=year, floor_yuan=FLOOR_YUAN
        )
        if kept(s.path)
    ]  # fmt: skip
    points = [
        (p.leader_name, p.org_name, p.visits, p.last_visit)
        for p in await duty_store.contact_point_views(db=db, year=year, under_path=path)
        if kept(p.org_path)
    ]
    year_start, year_end = year_bounds(year, tz)
    leading = [  # the committees' own: shown whole, narrowed or not (as /summary does)
        (c.org_name, c.report_hearings, c.special_studies)
        for c in await duty_store.leading_group_counts(
            db=db, under_path=path, start=year_start, end=year_end
        )
    ]
    survey = await _survey_rows(db, org, year, only, yes)
    sheets = [
        Sheet(
            N_("Members"),
            (N_("Name"), N_("Org code"), N_("Org"), N_("Status"), N_("Joined on"),
             N_("On Telegram"), N_("On the roster")),
            members,
        ),
        Sheet(
            N_("Sessions"),
            (N_("Starts"), N_("Org"), N_("Kind"), N_("Topic"), N_("Place"), N_("State"),
             N_("Invited"), N_("Present"), N_("Excused"), N_("Absent")),
            sessions,
        ),
        Sheet(
            N_("Attendance"),
            (N_("Starts"), N_("Topic"), N_("Kind"), N_("Name"), N_("Org"), N_("Answer"),
             N_("Leave"), N_("Outcome"), N_("Checked in"), N_("Make-up done")),
            attendance,
        ),
        Sheet(
            N_("Notices"),
            (N_("Sent"), N_("Org"), N_("Text"), N_("Asks to confirm"), N_("Delivered"),
             N_("Read")),
            notices,
        ),
        Sheet(
            N_("Read receipts"),
            (N_("Notice sent"), N_("Text"), N_("Name"), N_("Org"), N_("Delivered"),
             N_("Read")),
            acks,
        ),
        Sheet(
            N_("Trainings"),
            (N_("Published"), N_("Training"), N_("Organised by"), N_("Held on"),
             N_("Deadline"), N_("Hours"), N_("Name"), N_("Org"), N_("Completed")),
            trainings,
        ),
        Sheet(
            N_("Funds"),
            (N_("Year"), N_("Org"), N_("Source"), N_("Purpose"), N_("Yuan"), N_("Note"),
             N_("Recorded")),
            funds,
        ),
        Sheet(
            N_("Training funds per member"),
            (N_("Org"), N_("Members"), N_("Recorded here (yuan)"), N_("Counted here (yuan)"),
             N_("Per member (yuan)"), N_("Missing to the floor (yuan)")),
            spend,
        ),
        Sheet(
            N_("Contact points"),
            (N_("Leader"), N_("Org"), N_("Visits"), N_("Last visit")),
            points,
        ),
        Sheet(
            N_("Leading groups"),
            (N_("Org"), N_("Report hearings"), N_("Special studies")),
            leading,
        ),
        Sheet(
            N_("Satisfaction survey"),
            (N_("Year"), N_("Unit"), N_("Satisfied"), N_("Basically satisfied"),
             N_("Dissatisfied"), N_("Answers"), N_("Satisfied (%)"), N_("At the mark")),
            survey,
        ),
    ]  # fmt: skip
    return ExportData(org, period, sheets, only)


async def _kept_paths(db: AsyncSession, only: Only | None) -> Callable[[str], bool]:
    """Whether an org (by path) is in the export: all when not narrowed, else those in
    the subtree of a unit that carries the flag."""
    if only is None:
        return lambda _path: True
    flagged = await guidance_store.flagged_paths(db=db, only=only)
    return lambda path: any(path.startswith(unit) for unit in flagged)


async def _survey_rows(
    db: AsyncSession, org: OrgUnit, year: int, only: Only | None, yes: Callable[[bool], str]
) -> list[tuple[Any, ...]]:
    """The county's workbook: the year's satisfaction survey by unit, counts only (the
    survey's results are the county's; no row, here or anywhere, names a rater)."""
    if org.kind != OrgKind.COUNTY or only is not None:
        return []
    found = await survey_results(db=db, year=year)
    if found is None:
        return []
    rows: list[tuple[Any, ...]] = []
    for unit in found.units:
        share = satisfied_share(unit)
        rows.append(
            (
                found.survey.year,
                unit.name,
                unit.satisfied,
                unit.basically,
                unit.dissatisfied,
                unit.answers,
                None if share is None else share.numerator * 100 // share.denominator,
                None if share is None else yes(share >= TARGET),
            )
        )
    return rows


def _names(names: dict[Any, str], language: str) -> dict[Any, str]:
    """Each value's name in ``language``, looked up once for a whole sheet."""
    return {value: gettext(language, name) for value, name in names.items()}


def workbook_bytes(data: ExportData, language: str) -> bytes:
    """The XLSX file: one sheet each, headers frozen and filtered, columns sized.

    Written by bot/xlsx.py, a row at a time with each distinct text escaped once:
    XlsxWriter's call per cell took 12-13 s for a county-year's 2.6 million. Text is
    kept as text (no formulas or links made of what people typed)."""
    tables = []
    for sheet in data.sheets:
        headers = [gettext(language, header) for header in sheet.headers]
        widths = [
            _width({header, *map(itemgetter(index), sheet.rows)})  # a column repeats
            for index, header in enumerate(headers)
        ]
        tables.append(Table(gettext(language, sheet.title), headers, widths, sheet.rows))
    return xlsx.workbook(tables)


def _width(values: Collection[Any]) -> float:
    """Wide enough for the longest value (a CJK character takes two), within reason."""

    def shown(value: Any) -> int:
        if isinstance(value, datetime):
            return 16
        text = "" if value is None else str(value)
        return sum(2 if ord(char) > 0x2E80 else 1 for char in text)

    return float(min(MAX_WIDTH, max(8, *(shown(v) + 2 for v in values))))


def filename(data: ExportData) -> str:
    """ "partybot-T01-y2026.xlsx": the org's code, the period's token (and the narrowing's
    flag), safe in any file system."""
    flag = f"-{data.only.flag.value}" if data.only is not None else ""
    return f"partybot-{data.org.code}-{data.period.token}{flag}.xlsx"


class ExportError(Exception):
    """A command-line export that cannot be made (unknown org, bad period): one line."""


async def export_cli(
    settings: Settings, *, org_code: str, period_text: str, path: Path, now: datetime
) -> str:
    """`partybot export --org CODE --period P FILE`: write the workbook, say what it holds."""
    period = parse_period(period_text, today=local_date(now, settings.tz))
    if period is None:
        raise ExportError(f"not a period: {period_text!r} (try 2026, 2026-03, 2026Q1)")
    if current_revision(settings.database_url) is None:
        raise ExportError("the database is empty; run `partybot db upgrade` first")
    language = settings.language
    database = Database(settings.database_url)
    try:
        async with database.session_scope() as db:
            org = await orgs.get_org_by_code(db=db, code=org_code)
            if org is None:
                raise ExportError(f"no org with code {org_code!r}")
            data = await gather(db=db, org=org, period=period, tz=settings.tz, language=language)
    finally:
        await database.dispose()
    content = await asyncio.to_thread(workbook_bytes, data, language)
    await asyncio.to_thread(path.write_bytes, content)
    counts = ", ".join(
        f"{gettext(language, sheet.title)} {len(sheet.rows)}" for sheet in data.sheets
    )
    return f"{path}: {org.name} {period.label(language)} ({counts})"
