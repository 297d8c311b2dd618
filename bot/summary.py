"""The county view: how an org and each unit under it stand against the county's targets.

`build_summary` asks storage/reports for grouped aggregates and puts them against the
targets: roster on Telegram, 三会一课 cadence (judged exactly as the silent-branch ladder
judges it: `REQUIRED_KINDS`, `CADENCE_MONTHS`, the same holder rule and the same "not
before partybot was first used"), attendance, make-up study, notice acks (已阅), and the 五好 /
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
from bot.duties import HEARINGS_NEEDED, STUDIES_NEEDED, VISITS_NEEDED, year_bounds
from bot.funds import FLOOR_YUAN
from bot.orgs import BRANCH_KINDS
from bot.periods import Period
from bot.satisfaction import SurveyResults, survey_results
from bot.sessions import KIND_ORDER, REQUIRED_KINDS, period_containing
from storage import duties, escalations, funds, guidance, reports, trainings
from storage.funds import OrgSpend
from storage.guidance import Only
from storage.models import OrgKind, OrgUnit, SessionKind
from storage.reports import (
    Acks,
    AttendanceFigures,
    By,
    FiveLead,
    JudgedPeriod,
    Ratings,
    Roster,
    Scope,
)
from storage.trainings import UnitCompletion

__all__ = [
    "TARGETS",
    "Check",
    "Figure",
    "Figures",
    "Leading",
    "Line",
    "Summary",
    "branch_figures",
    "build_summary",
    "grouping_of",
    "judged_periods",
]

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
    ACKS = "acks"
    TRAINING = "training"
    FUNDS = "funds"
    VISITS = "visits"
    HEARINGS = "hearings"
    STUDIES = "studies"
    FIVE_GOOD = "five_good"
    FIVE_LEAD = "five_lead"


# The county's targets: the share each figure should reach (five good and five lead are
# the policy's 65 % and 60 %; the others are the county's working standards).
TARGETS: dict[Figure, Fraction] = {
    Figure.ON_TELEGRAM: Fraction(9, 10),
    Figure.CADENCE: Fraction(1),
    Figure.ATTENDANCE: Fraction(9, 10),
    Figure.MAKEUP: Fraction(1),
    Figure.ACKS: Fraction(9, 10),
    Figure.TRAINING: Fraction(9, 10),  # member-trainings completed, of those published
    Figure.FUNDS: Fraction(1),  # of the floor: FLOOR_YUAN a member a year
    Figure.VISITS: Fraction(1),  # contact points visited VISITS_NEEDED times a year
    Figure.HEARINGS: Fraction(1),  # leading groups that heard HEARINGS_NEEDED reports
    Figure.STUDIES: Fraction(1),  # leading groups that held STUDIES_NEEDED special studies
    Figure.FIVE_GOOD: Fraction(65, 100),
    Figure.FIVE_LEAD: Fraction(60, 100),
}


@dataclass(frozen=True, slots=True)
class Check:
    """One figure as a share: ``part`` of ``whole`` against its target.

    A yearly duty judged before its year is over is progress (``final`` False): shown,
    but not held against anyone yet.
    """

    figure: Figure
    part: int
    whole: int
    final: bool = True

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
        return share is None or not self.final or share >= TARGETS[self.figure]


@dataclass(frozen=True, slots=True)
class Leading:
    """The leading groups (county, township committees) of a group and their duties."""

    groups: int
    hearings_met: int
    studies_met: int
    hearings: int  # report hearings held
    studies: int  # special studies held


@dataclass(frozen=True, slots=True)
class Figures:
    """Everything the summary says about one unit, member or the whole scope."""

    roster: Roster = field(default_factory=lambda: Roster(0, 0))
    cadence: Mapping[SessionKind, tuple[int, int, int]] = field(default_factory=dict)
    attendance: AttendanceFigures = field(
        default_factory=lambda: AttendanceFigures(0, 0, 0, 0, 0, 0)
    )
    acks: Acks = field(default_factory=lambda: Acks(0, 0))
    five_good: Ratings | None = None  # None: not assessed yet
    five_lead: FiveLead | None = None  # a member's own: FiveLead(1, 1) when confirmed
    training: UnitCompletion | None = None  # trainings published in the period
    funds: OrgSpend | None = None  # training money of the period's year
    visits: Ratings | None = None  # contact points, and those visited often enough
    leading: Leading | None = None
    year_over: bool = True  # the yearly duties are judged only once their year is over

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
            Check(Figure.ACKS, self.acks.acked, self.acks.delivered),
        ]
        if not members:
            checks += self._duties()
        if self.five_good is not None and not members:
            checks.append(Check(Figure.FIVE_GOOD, self.five_good.passed, self.five_good.rated))
        if self.five_lead is not None and not members:
            lead = self.five_lead
            checks.append(Check(Figure.FIVE_LEAD, lead.confirmed, lead.members))
        return checks

    def _duties(self) -> list[Check]:
        """Training completion, training money per member against the floor, and leaders'
        yearly duties."""
        checks = []
        if self.training is not None:
            checks.append(Check(Figure.TRAINING, self.training.completed, self.training.assigned))
        if self.funds is not None and self.funds.members:
            floor = int(FLOOR_YUAN * 100) * self.funds.members
            checks.append(Check(Figure.FUNDS, int(self.funds.attributed_yuan * 100), floor))
        final = self.year_over
        if self.visits is not None:
            checks.append(Check(Figure.VISITS, self.visits.passed, self.visits.rated, final))
        if self.leading is not None and self.leading.groups:
            lead = self.leading
            checks.append(Check(Figure.HEARINGS, lead.hearings_met, lead.groups, final))
            checks.append(Check(Figure.STUDIES, lead.studies_met, lead.groups, final))
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
    only: Only | None = None  # narrowed to the units of one class or flag
    survey: SurveyResults | None = None  # the county's: the year's satisfaction survey


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
    db: AsyncSession,
    scope: Scope,
    period: Period,
    judged: list[JudgedPeriod],
    *,
    attendance: dict[int, AttendanceFigures],
    met: dict[tuple[int, SessionKind], int],
    spends: list[OrgSpend],
    now: datetime,
    tz: ZoneInfo,
) -> dict[int, Figures]:
    """Every figure of every group of the scope, one grouped query per figure; the ones
    the headline shares with the groups (attendance, periods met, training money) come
    read."""
    start, end = period.bounds(tz)
    years = list(range(period.start.year, (period.end - timedelta(days=1)).year + 1))
    roster = await reports.roster(db=db, scope=scope)
    acks = await reports.notice_acks(db=db, scope=scope, start=start, end=end)
    five_good = await reports.five_good(db=db, scope=scope, years=years)
    five_lead = await reports.five_lead(db=db, scope=scope, years=years)
    cadence: dict[int, dict[SessionKind, tuple[int, int, int]]] = {}
    if scope.by != By.MEMBER:
        held = await reports.sessions_held(db=db, scope=scope, start=start, end=end, now=now)
        due = _required(judged, await reports.org_kinds(db=db, scope=scope))
        for group, kind in sorted(set(held) | set(due), key=lambda k: KIND_ORDER.index(k[1])):
            if kind in CADENCE_KINDS:
                cadence.setdefault(group, {})[kind] = (
                    met.get((group, kind), 0),
                    due.get((group, kind), 0),
                    held.get((group, kind), 0),
                )
    spend: dict[int, OrgSpend] = {}
    visits: dict[int, Ratings] = {}
    leading: dict[int, Leading] = {}
    training: dict[int, UnitCompletion] = {}
    year = period.start.year
    if scope.by != By.MEMBER:
        flagged = (
            await guidance.flagged_paths(db=db, only=scope.only)
            if scope.only is not None
            else None
        )
        training = await _training(db, scope, start, end)
        spend = _spend(spends, scope, flagged)
        leading = await _leading(db, scope, year, tz)
        visits = await reports.contact_visits(db=db, scope=scope, year=year, needed=VISITS_NEEDED)
    groups = set(roster) | set(attendance) | set(acks) | set(cadence)
    groups |= set(five_good) | set(five_lead) | set(spend) | set(visits) | set(leading)
    groups |= set(training)
    year_over = year_bounds(year, tz)[1] <= now
    return {
        group: Figures(
            roster=roster.get(group, Roster(0, 0)),
            cadence=cadence.get(group, {}),
            attendance=attendance.get(group, AttendanceFigures(0, 0, 0, 0, 0, 0)),
            acks=acks.get(group, Acks(0, 0)),
            five_good=five_good.get(group),
            five_lead=five_lead.get(group),
            training=training.get(group),
            funds=spend.get(group),
            visits=visits.get(group),
            leading=leading.get(group),
            year_over=year_over,
        )
        for group in groups
    }


async def _training(
    db: AsyncSession, scope: Scope, start: datetime, end: datetime
) -> dict[int, UnitCompletion]:
    """Completion and hours of the trainings published in the period, from
    storage.trainings: the scope as a whole (WHOLE) or each child unit (UNIT), of the
    members of the flagged units alone when the scope is narrowed."""
    if scope.by == By.BRANCH:
        return {}  # not judged branch by branch (the laggards list does not use it)
    if scope.by == By.UNIT:
        units = await trainings.completion_by_unit(
            db=db, parent_id=scope.org_id, since=start, until=end, only=scope.only
        )
        return {unit.org_id: unit for unit in units if unit.assigned}
    total = await trainings.completion_total(
        db=db, org_id=scope.org_id, since=start, until=end, only=scope.only
    )
    return {scope.org_id: total} if total.assigned else {}


def _spend(spends: list[OrgSpend], scope: Scope, flagged: list[str] | None) -> dict[int, OrgSpend]:
    """Training money per member of the scope (WHOLE) or of each child unit (UNIT), from
    storage.funds' attribution over the scope's subtree (ancestors' money shared out by
    members); or of every branch (BRANCH). Narrowed (``flagged``: the flagged units'
    paths), each group counts its flagged units alone, with the money counted for them."""
    if scope.by == By.BRANCH:
        groups = [spend for spend in spends if spend.kind in BRANCH_KINDS]
    else:
        depth = scope.path.count("/") - 2 + (1 if scope.by == By.UNIT else 0)
        groups = [spend for spend in spends if spend.depth == depth]
    if flagged is None:
        return {group.org_id: group for group in groups}
    found = {}
    for group in groups:
        parts = _flagged_parts(spends, group, flagged)
        if parts:
            found[group.org_id] = funds.combined_spend(group, parts, FLOOR_YUAN)
    return found


def _flagged_parts(spends: list[OrgSpend], group: OrgSpend, flagged: list[str]) -> list[OrgSpend]:
    """The flagged units in the group (the group itself if it lies in one), none of them
    inside another, so no member counts twice."""
    if any(group.path.startswith(path) for path in flagged):
        return [group]
    marked = set(flagged)
    inside = [s for s in spends if s.path in marked and s.path.startswith(group.path)]
    return [
        part
        for part in inside
        if not any(other is not part and part.path.startswith(other.path) for other in inside)
    ]


async def _leading(db: AsyncSession, scope: Scope, year: int, tz: ZoneInfo) -> dict[int, Leading]:
    """Report hearings and special studies of the leading groups, from storage.duties: one
    group per township (UNIT), or all of them together with the county's (WHOLE); branches
    have no leading group (BRANCH)."""
    if scope.by == By.BRANCH:
        return {}
    start, end = year_bounds(year, tz)
    counts = await duties.leading_group_counts(db=db, under_path=scope.path, start=start, end=end)
    if scope.by == By.UNIT:
        return {
            c.org_id: Leading(
                1,
                int(c.report_hearings >= HEARINGS_NEEDED),
                int(c.special_studies >= STUDIES_NEEDED),
                c.report_hearings,
                c.special_studies,
            )
            for c in counts
            if c.org_id != scope.org_id
        }
    if not counts:
        return {}
    return {
        scope.org_id: Leading(
            len(counts),
            sum(c.report_hearings >= HEARINGS_NEEDED for c in counts),
            sum(c.special_studies >= STUDIES_NEEDED for c in counts),
            sum(c.report_hearings for c in counts),
            sum(c.special_studies for c in counts),
        )
    }


async def _judged_so_far(
    db: AsyncSession, period: Period, *, now: datetime, tz: ZoneInfo
) -> list[JudgedPeriod]:
    """The cadence periods judged today: those since partybot's first use (see above)."""
    first = await escalations.first_session_created_at(db=db)
    return judged_periods(
        period,
        today=local_date(now, tz),
        first_use=local_date(first, tz) if first else None,
        tz=tz,
    )


async def branch_figures(
    *,
    db: AsyncSession,
    org: OrgUnit,
    period: Period,
    now: datetime,
    tz: ZoneInfo,
    only: Only | None = None,
) -> dict[int, Figures]:
    """The summary's figures of every branch under ``org`` (however deep), by branch id,
    judged as /summary judges them: the same queries, periods and targets (narrowed by
    ``only``, of the branches in flagged units alone)."""
    assert org.id is not None
    judged = await _judged_so_far(db, period, now=now, tz=tz)
    scope = Scope(org.id, org.path, By.BRANCH, only)
    start, end = period.bounds(tz)
    attendance = await reports.attendance(db=db, scope=scope, start=start, end=end)
    (met,) = await reports.periods_met(db=db, scopes=[scope], periods=judged, now=now)
    spends = await funds.training_spend(
        db=db, org_id=org.id, year=period.start.year, floor_yuan=FLOOR_YUAN
    )
    return await _figures(
        db,
        scope,
        period,
        judged,
        attendance=attendance,
        met=met,
        spends=spends,
        now=now,
        tz=tz,
    )


async def build_summary(
    *,
    db: AsyncSession,
    org: OrgUnit,
    period: Period,
    now: datetime,
    tz: ZoneInfo,
    only: Only | None = None,
) -> Summary:
    """The summary of ``org`` for ``period``: the whole, then each unit or member, worst
    first. Access is the caller's to check (the org came from a button or a role).

    Narrowed by ``only`` (a class or flag of the period's year), every figure counts the
    flagged units' subtrees alone: training completion of their members, training money
    counted for them, and so on. The leading groups' duties are the county's and the
    townships' committees' own, which no branch has: they are shown as they are, not
    narrowed, and the text says so."""
    assert org.id is not None
    today = local_date(now, tz)
    judged = await _judged_so_far(db, period, now=now, tz=tz)
    by = grouping_of(org)
    whole_scope, scope = Scope(org.id, org.path, By.WHOLE, only), Scope(org.id, org.path, by, only)
    start, end = period.bounds(tz)
    if by == By.UNIT:  # one read of the period's attendance for the headline and the units
        whole_attendance, attendance = await reports.attendance_with_whole(
            db=db, scope=scope, start=start, end=end
        )
    else:
        whole_attendance, attendance = [
            await reports.attendance(db=db, scope=s, start=start, end=end)
            for s in (whole_scope, scope)
        ]
    # Periods met by the whole and, unless by member, by each line: one read of sessions.
    scopes = [whole_scope] if by == By.MEMBER else [whole_scope, scope]
    whole_met, *grouped_met = await reports.periods_met(
        db=db, scopes=scopes, periods=judged, now=now
    )
    spends = await funds.training_spend(
        db=db, org_id=org.id, year=period.start.year, floor_yuan=FLOOR_YUAN
    )
    whole = (
        await _figures(
            db,
            whole_scope,
            period,
            judged,
            attendance=whole_attendance,
            met=whole_met,
            spends=spends,
            now=now,
            tz=tz,
        )
    ).get(org.id, Figures())
    grouped = await _figures(
        db,
        scope,
        period,
        judged,
        attendance=attendance,
        met=grouped_met[0] if grouped_met else {},
        spends=spends,
        now=now,
        tz=tz,
    )
    if by == By.MEMBER:
        lines = [
            Line(
                m.id,
                m.name,
                grouped.get(m.id, Figures()),
                is_member=True,
                on_telegram=m.on_telegram,
            )
            for m in await reports.branch_members(db=db, org_id=org.id, only=only)
        ]
    else:
        lines = [
            Line(u.id, u.name, grouped.get(u.id, Figures()))
            for u in await reports.units(db=db, org_id=org.id, only=only)
        ]
    lines.sort(key=Line.sort_key)
    # The satisfaction survey rates the county's departments and stations: the county's
    # own summary shows its results (counts by unit), never narrowed by a branch's flag.
    survey = (
        await survey_results(db=db, year=period.start.year)
        if org.kind == OrgKind.COUNTY and only is None
        else None
    )
    return Summary(org, period, by, whole, lines, today, only, survey)
