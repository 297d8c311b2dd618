"""The county view: how an org and each unit under it stand against the county's targets.

`build_summary` asks storage/reports for grouped aggregates and puts them against the
targets: roster on Telegram, 三会一课 cadence (judged exactly as the silent-branch ladder
judges it: `REQUIRED_KINDS`, `CADENCE_MONTHS`, the same holder rule and the same "not
before partybot was first used"), attendance, make-up study, notice reads, and the 五好 /
五带头 shares once the assessment exists. Units are ordered worst first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from fractions import Fraction
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.dates import local_date
from bot.periods import Period
from bot.sessions import KIND_ORDER, REQUIRED_KINDS, period_containing
from storage import escalations, reports
from storage.models import OrgKind, OrgUnit, SessionKind
from storage.reports import (
    AttendanceFigures,
    By,
    JudgedPeriod,
    Ratings,
    Reads,
    Roster,
    Scope,
)

__all__ = [
    "BRANCH_KINDS",
    "TARGETS",
    "Check",
    "Figure",
    "Figures",
    "Line",
    "Summary",
    "build_summary",
    "grouping_of",
    "judged_periods",
]

BRANCH_KINDS = frozenset(
    {OrgKind.VILLAGE_BRANCH, OrgKind.COUNTY_DEPARTMENT, OrgKind.GRASSROOTS_STATION}
)
# The kinds whose cadence is required somewhere (the ladder's kinds), in display order.
CADENCE_KINDS: tuple[SessionKind, ...] = tuple(
    dict.fromkeys(kind for kinds in REQUIRED_KINDS.values() for kind in kinds)
)


class Figure(StrEnum):
    """The figures a summary judges, in display order."""

    ON_TELEGRAM = "on_telegram"
    CADENCE = "cadence"
    ATTENDANCE = "attendance"
    MAKEUP = "makeup"
    READS = "reads"
    FIVE_GOOD = "five_good"
    FIVE_LEAD = "five_lead"


# The county's targets: the share each figure should reach (five good and five lead are
# the policy's 65 % and 60 %; the others are the county's working standards).
TARGETS: dict[Figure, Fraction] = {
    Figure.ON_TELEGRAM: Fraction(9, 10),
    Figure.CADENCE: Fraction(1),
    Figure.ATTENDANCE: Fraction(9, 10),
    Figure.MAKEUP: Fraction(1),
    Figure.READS: Fraction(9, 10),
    Figure.FIVE_GOOD: Fraction(65, 100),
    Figure.FIVE_LEAD: Fraction(60, 100),
}


@dataclass(frozen=True, slots=True)
class Check:
    """One figure as a share: ``part`` of ``whole`` against its target."""

    figure: Figure
    part: int
    whole: int

    @property
    def judged(self) -> bool:
        """False when there is nothing to judge yet (no members, no sessions due...)."""
        return self.whole > 0

    @property
    def share(self) -> Fraction | None:
        return Fraction(self.part, self.whole) if self.whole else None

    @property
    def ok(self) -> bool:
        """Meets the target (a figure with nothing to judge is not held against anyone)."""
        share = self.share
        return share is None or share >= TARGETS[self.figure]


@dataclass(frozen=True, slots=True)
class Figures:
    """Everything the summary says about one unit, member or the whole scope."""

    roster: Roster = field(default_factory=lambda: Roster(0, 0))
    cadence: Mapping[SessionKind, tuple[int, int, int]] = field(default_factory=dict)
    attendance: AttendanceFigures = field(
        default_factory=lambda: AttendanceFigures(0, 0, 0, 0, 0, 0)
    )
    reads: Reads = field(default_factory=lambda: Reads(0, 0))
    five_good: Ratings | None = None  # None: not assessed yet
    five_lead: Ratings | None = None

    @property
    def periods_met(self) -> int:
        return sum(met for met, _, _ in self.cadence.values())

    @property
    def periods_required(self) -> int:
        return sum(required for _, required, _ in self.cadence.values())

    def checks(self, *, members: bool = False) -> list[Check]:
        """The judged figures; a member's line has no roster or cadence of its own."""
        checks = []
        if not members:
            checks += [
                Check(Figure.ON_TELEGRAM, self.roster.on_telegram, self.roster.members),
                Check(Figure.CADENCE, self.periods_met, self.periods_required),
            ]
        a = self.attendance
        checks += [
            Check(Figure.ATTENDANCE, a.present, a.invited),
            Check(Figure.MAKEUP, a.makeup_done, a.makeup_owed),
            Check(Figure.READS, self.reads.read, self.reads.delivered),
        ]
        if self.five_good is not None and not members:
            checks.append(Check(Figure.FIVE_GOOD, self.five_good.passed, self.five_good.rated))
        if self.five_lead is not None:
            checks.append(Check(Figure.FIVE_LEAD, self.five_lead.passed, self.five_lead.rated))
        return checks

    def warnings(self, *, members: bool = False) -> int:
        return sum(not check.ok for check in self.checks(members=members))


@dataclass(frozen=True, slots=True)
class Line:
    """One unit (drillable org) or one member of the summary."""

    id: int
    name: str
    figures: Figures
    is_member: bool = False
    on_telegram: bool = True

    @property
    def warnings(self) -> int:
        return self.figures.warnings(members=self.is_member)

    def sort_key(self) -> tuple[int, Fraction, str]:
        """Worst first: most warnings, then the lowest attendance."""
        share = self.figures.checks(members=True)[0].share
        return (-self.warnings, share if share is not None else Fraction(2), self.name)


@dataclass(frozen=True, slots=True)
class Summary:
    org: OrgUnit
    period: Period
    by: By
    whole: Figures
    lines: list[Line]
    judged_until: date  # cadence periods ending after this day are not judged yet


def grouping_of(org: OrgUnit) -> By:
    """A branch is shown by member, anything above it by unit."""
    return By.MEMBER if org.kind in BRANCH_KINDS else By.UNIT


def judged_periods(
    period: Period, *, today: date, first_use: date | None, tz: ZoneInfo
) -> list[JudgedPeriod]:
    """The cadence periods of each required kind that lie within the report period and
    have ended by today (and after partybot was first used), as the ladder judges them."""
    judged: list[JudgedPeriod] = []
    if first_use is None:
        return judged
    for kind in CADENCE_KINDS:
        start, end = period_containing(kind, period.start)
        while end <= period.end:
            if start >= period.start and end <= today and end > first_use:
                judged.append(JudgedPeriod(kind, _moment(start, tz), _moment(end, tz)))
            start, end = period_containing(kind, end)
    return judged


def _moment(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)


def _required(
    judged: Iterable[JudgedPeriod], kinds: Mapping[tuple[int, OrgKind], int]
) -> dict[tuple[int, SessionKind], int]:
    """(group, session kind) -> org-periods due: orgs that must hold it x its periods."""
    per_kind: dict[SessionKind, int] = {}
    for judged_period in judged:
        per_kind[judged_period.kind] = per_kind.get(judged_period.kind, 0) + 1
    due: dict[tuple[int, SessionKind], int] = {}
    for (group, org_kind), count in kinds.items():
        for kind in REQUIRED_KINDS.get(org_kind, ()):
            if per_kind.get(kind):
                due[(group, kind)] = due.get((group, kind), 0) + count * per_kind[kind]
    return due


async def _figures(
    session: AsyncSession,
    scope: Scope,
    period: Period,
    judged: list[JudgedPeriod],
    *,
    now: datetime,
    tz: ZoneInfo,
) -> dict[int, Figures]:
    """Every figure of every group of the scope, one grouped query per figure."""
    start, end = period.bounds(tz)
    years = list(range(period.start.year, (period.end - timedelta(days=1)).year + 1))
    roster = await reports.roster(session=session, scope=scope)
    attendance = await reports.attendance(session=session, scope=scope, start=start, end=end)
    reads = await reports.notice_reads(session=session, scope=scope, start=start, end=end)
    five_good = await reports.five_good(session=session, scope=scope, years=years)
    five_lead = await reports.five_lead(session=session, scope=scope, years=years)
    cadence: dict[int, dict[SessionKind, tuple[int, int, int]]] = {}
    if scope.by != By.MEMBER:
        held = await reports.sessions_held(
            session=session, scope=scope, start=start, end=end, now=now
        )
        met = await reports.periods_met(session=session, scope=scope, periods=judged, now=now)
        due = _required(judged, await reports.org_kinds(session=session, scope=scope))
        for group, kind in sorted(set(held) | set(due), key=lambda k: KIND_ORDER.index(k[1])):
            if kind in CADENCE_KINDS:
                cadence.setdefault(group, {})[kind] = (
                    met.get((group, kind), 0),
                    due.get((group, kind), 0),
                    held.get((group, kind), 0),
                )
    groups = set(roster) | set(attendance) | set(reads) | set(cadence)
    groups |= set(five_good) | set(five_lead)
    return {
        group: Figures(
            roster=roster.get(group, Roster(0, 0)),
            cadence=cadence.get(group, {}),
            attendance=attendance.get(group, AttendanceFigures(0, 0, 0, 0, 0, 0)),
            reads=reads.get(group, Reads(0, 0)),
            five_good=five_good.get(group),
            five_lead=five_lead.get(group),
        )
        for group in groups
    }


async def build_summary(
    *, session: AsyncSession, org: OrgUnit, period: Period, now: datetime, tz: ZoneInfo
) -> Summary:
    """The summary of ``org`` for ``period``: the whole, then each unit or member, worst
    first. Access is the caller's to check (the org came from a button or a role)."""
    assert org.id is not None
    today = local_date(now, tz)
    first = await escalations.first_session_created_at(session=session)
    judged = judged_periods(
        period, today=today, first_use=local_date(first, tz) if first else None, tz=tz
    )
    by = grouping_of(org)
    whole_scope = Scope(org.id, org.path, By.WHOLE)
    whole = (await _figures(session, whole_scope, period, judged, now=now, tz=tz)).get(
        org.id, Figures()
    )
    grouped = await _figures(session, Scope(org.id, org.path, by), period, judged, now=now, tz=tz)
    if by == By.MEMBER:
        lines = [
            Line(
                m.id,
                m.name,
                grouped.get(m.id, Figures()),
                is_member=True,
                on_telegram=m.on_telegram,
            )
            for m in await reports.branch_members(session=session, org_id=org.id)
        ]
    else:
        lines = [
            Line(u.id, u.name, grouped.get(u.id, Figures()))
            for u in await reports.units(session=session, org_id=org.id)
        ]
    lines.sort(key=Line.sort_key)
    return Summary(org, period, by, whole, lines, today)
