"""The county view's figures: SQL aggregates over an org subtree, grouped by unit or member.

A report looks at one org and groups what happened under it (`Scope`): by its child units
(the county by township, a township by branch), by member (a branch), or as one whole
(the headline). Each function is one grouped query returning plain numbers keyed by the
unit's org id, the member id, or the scope's own org id; nothing walks rows in Python.

People's figures (roster, attendance, 已阅 acks, five-lead ratings) count under the
unit the member belongs to now; org figures (sessions held, five-good ratings) under the
unit the org lies in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from storage._sql import table_of
from storage.duties import visits_by_point
from storage.escalations import session_holder
from storage.guidance import Only, within
from storage.models.assessments import Assessment, AssessmentScheme, AssessmentSubject
from storage.models.members import Member
from storage.models.notices import Delivery, DeliveryKind, DeliveryState, Notice
from storage.models.orgs import OrgKind, OrgUnit
from storage.models.sessions import (
    Attendance,
    AttendanceOutcome,
    SessionKind,
    SessionState,
    StudySession,
)
from storage.types import UTCDateTime

__all__ = [
    "Acks",
    "AttendanceFigures",
    "Branch",
    "By",
    "Commended",
    "FiveLead",
    "JudgedPeriod",
    "MemberLine",
    "Ratings",
    "Roster",
    "Scope",
    "Unit",
    "attendance",
    "attendance_with_whole",
    "branch_members",
    "branches",
    "commended_units",
    "contact_visits",
    "delivered_notice",
    "five_good",
    "five_lead",
    "member_key",
    "notice_acks",
    "notices_between",
    "org_key",
    "org_kinds",
    "periods_met",
    "roster",
    "sessions_held",
    "units",
]

_ORG = table_of(OrgUnit)
_MEMBER = table_of(Member)
_ATTENDANCE = table_of(Attendance)
_STUDY = table_of(StudySession)
_DELIVERY = table_of(Delivery)
_NOTICE = table_of(Notice)
_ASSESSMENT = table_of(Assessment)


class By(StrEnum):
    """How a report groups what lies under its org."""

    UNIT = "unit"  # by child unit (township, branch, department)
    BRANCH = "branch"  # by every branch of the subtree, however deep (/laggards)
    MEMBER = "member"  # by member of a branch
    WHOLE = "whole"  # the org as one


@dataclass(frozen=True, slots=True)
class Scope:
    """The org a report looks at (its id and materialised path) and its grouping;
    ``only`` narrows it to the units of one class or flag (and their subtrees)."""

    org_id: int
    path: str
    by: By
    only: Only | None = None

    def admits(self, org_id: Any) -> sa.ColumnElement[bool]:
        """SQL: rows of the org ``org_id`` count (always, unless the scope is narrowed)."""
        return sa.true() if self.only is None else within(self.only, org_id)


class Unit(NamedTuple):
    """A child unit a report lists (and can drill into)."""

    id: int
    code: str
    name: str
    kind: OrgKind


class MemberLine(NamedTuple):
    """An active member of a branch, as the branch report lists them."""

    id: int
    name: str
    on_telegram: bool


class Roster(NamedTuple):
    members: int
    on_telegram: int


class AttendanceFigures(NamedTuple):
    """Finalised invitations of sessions in the period and what became of them."""

    invited: int
    present: int
    excused: int
    absent: int
    makeup_owed: int  # excused or absent: make-up study is due
    makeup_done: int


class Acks(NamedTuple):
    """Notices that asked for 已阅 and reached the member, and how many were acked."""

    delivered: int
    acked: int


class Ratings(NamedTuple):
    rated: int
    passed: int


class FiveLead(NamedTuple):
    """Active members, and how many of them the township confirmed five-lead."""

    members: int
    confirmed: int


class Commended(NamedTuple):
    """A five-good unit of the year and its attendance in that year."""

    id: int
    name: str
    kind: OrgKind
    invited: int
    present: int


class JudgedPeriod(NamedTuple):
    """One cadence period of a required kind that the report judges: [start, end)."""

    kind: SessionKind
    start: datetime
    end: datetime


# --- grouping -----------------------------------------------------------------------------


#: Org kinds that are not branches: what lies above a branch, and the groups inside one.
_NOT_BRANCH = (OrgKind.COUNTY.value, OrgKind.TOWNSHIP.value, OrgKind.PARTY_GROUP.value)


def _unit_map(scope: Scope) -> sa.Subquery:
    """(unit_id, org_id): every org inside each unit of the scope (the unit too). The units
    are the child units (UNIT) or every branch of the subtree (BRANCH)."""
    unit = _ORG.alias("unit")
    inner = _ORG.alias("inner_org")
    if scope.by == By.BRANCH:
        which = sa.and_(unit.c.path.startswith(scope.path), unit.c.kind.not_in(_NOT_BRANCH))
    else:
        which = sa.and_(unit.c.parent_id == scope.org_id, unit.c.kind != OrgKind.PARTY_GROUP.value)
    return (
        sa.select(unit.c.id.label("unit_id"), inner.c.id.label("org_id"))
        .join(inner, inner.c.path.startswith(unit.c.path))
        .where(which, unit.c.active.is_(True))
        .distinct()
        .subquery("unit_map")
    )


def org_key(stmt: sa.Select[Any], scope: Scope, org_id: Any) -> tuple[sa.Select[Any], Any]:
    """Key rows whose org is ``org_id`` by the scope's grouping (MEMBER: as WHOLE)."""
    stmt = stmt.where(scope.admits(org_id))
    if scope.by in (By.UNIT, By.BRANCH):
        units = _unit_map(scope)
        return stmt.join(units, units.c.org_id == org_id), units.c.unit_id
    whole = _ORG.alias("scope_org")
    stmt = stmt.join(whole, whole.c.id == org_id).where(whole.c.path.startswith(scope.path))
    return stmt, sa.literal(scope.org_id)


def member_key(stmt: sa.Select[Any], scope: Scope, member: Any) -> tuple[sa.Select[Any], Any]:
    """Key rows joined to the member table ``member`` by the scope's grouping."""
    if scope.by == By.MEMBER:
        return stmt.where(member.c.org_id == scope.org_id, scope.admits(member.c.org_id)), (
            member.c.id
        )
    return org_key(stmt, scope, member.c.org_id)


async def _grouped(
    db: AsyncSession, stmt: sa.Select[Any] | sa.CompoundSelect[Any]
) -> Sequence[Any]:
    await db.flush()
    connection = await db.connection()
    rows: Sequence[Any] = (await connection.execute(stmt)).all()
    return rows


def _utc(moment: datetime) -> Any:
    return sa.literal(moment, type_=UTCDateTime())


# --- what the report lists ----------------------------------------------------------------


async def units(*, db: AsyncSession, org_id: int, only: Only | None = None) -> list[Unit]:
    """The active child units of an org (party groups are part of their branch), by code;
    narrowed by ``only``, those with a flagged unit inside."""
    stmt = sa.select(_ORG.c.id, _ORG.c.code, _ORG.c.name, _ORG.c.kind).where(
        _ORG.c.parent_id == org_id,
        _ORG.c.active.is_(True),
        _ORG.c.kind != OrgKind.PARTY_GROUP.value,
    )
    if only is not None:
        inner = _ORG.alias("unit_inner")
        stmt = stmt.where(
            sa.exists(
                sa.select(inner.c.id).where(
                    inner.c.path.startswith(_ORG.c.path), within(only, inner.c.id)
                )
            )
        )
    rows = await _grouped(db, stmt.order_by(_ORG.c.code))
    return [Unit(int(i), str(c), str(n), OrgKind(k)) for i, c, n, k in rows]


class Branch(NamedTuple):
    """A branch anywhere in a subtree, with the unit above it (its township, or the county)."""

    id: int
    code: str
    name: str
    parent_name: str


async def branches(*, db: AsyncSession, path: str, only: Only | None = None) -> list[Branch]:
    """The active branches of the subtree at ``path`` (the org itself if it is one), by
    code: the units `By.BRANCH` groups by (narrowed by ``only``, those in flagged units)."""
    parent = _ORG.alias("parent")
    rows = await _grouped(
        db,
        sa.select(_ORG.c.id, _ORG.c.code, _ORG.c.name, parent.c.name)
        .join(parent, parent.c.id == _ORG.c.parent_id)
        .where(
            _ORG.c.path.startswith(path),
            _ORG.c.active.is_(True),
            _ORG.c.kind.not_in(_NOT_BRANCH),
            sa.true() if only is None else within(only, _ORG.c.id),
        )
        .order_by(_ORG.c.code),
    )
    return [Branch(int(i), str(c), str(n), str(p)) for i, c, n, p in rows]


async def branch_members(
    *, db: AsyncSession, org_id: int, only: Only | None = None
) -> list[MemberLine]:
    """The active members of a branch, by name (none when ``only`` leaves the branch out)."""
    scope = Scope(org_id, "", By.MEMBER, only)
    rows = await _grouped(
        db,
        sa.select(_MEMBER.c.id, _MEMBER.c.name, _MEMBER.c.telegram_user_id.is_not(None))
        .where(
            _MEMBER.c.org_id == org_id,
            _MEMBER.c.active.is_(True),
            scope.admits(_MEMBER.c.org_id),
        )
        .order_by(_MEMBER.c.name, _MEMBER.c.id),
    )
    return [MemberLine(int(i), str(n), bool(t)) for i, n, t in rows]


# --- figures ------------------------------------------------------------------------------


async def roster(*, db: AsyncSession, scope: Scope) -> dict[int, Roster]:
    """Active members and how many of them are on Telegram."""
    base = sa.select().select_from(_MEMBER).where(_MEMBER.c.active.is_(True))
    stmt, key = member_key(base, scope, _MEMBER)
    rows = await _grouped(
        db,
        stmt.add_columns(key, sa.func.count(), sa.func.count(_MEMBER.c.telegram_user_id)).group_by(
            key
        ),
    )
    return {int(k): Roster(int(m), int(t)) for k, m, t in rows}


def _attendance_counts(start: datetime, end: datetime) -> tuple[sa.Select[Any], tuple[Any, ...]]:
    """The finalised invitations of sessions starting in [start, end), joined to their
    member, and what to count of them."""
    outcome = _ATTENDANCE.c.outcome
    owed = outcome.in_([AttendanceOutcome.EXCUSED.value, AttendanceOutcome.ABSENT.value])
    base = (
        sa.select()
        .select_from(_ATTENDANCE)
        .join(_STUDY, _STUDY.c.id == _ATTENDANCE.c.session_id)
        .join(_MEMBER, _MEMBER.c.id == _ATTENDANCE.c.member_id)
        .where(
            outcome != AttendanceOutcome.PENDING.value,
            _STUDY.c.starts_at >= _utc(start),
            _STUDY.c.starts_at < _utc(end),
        )
    )
    counts = (
        sa.func.count().label("invited"),
        sa.func.count().filter(outcome == AttendanceOutcome.PRESENT.value).label("present"),
        sa.func.count().filter(outcome == AttendanceOutcome.EXCUSED.value).label("excused"),
        sa.func.count().filter(outcome == AttendanceOutcome.ABSENT.value).label("absent"),
        sa.func.count().filter(owed).label("owed"),
        sa.func.count().filter(owed, _ATTENDANCE.c.makeup_done_at.is_not(None)).label("done"),
    )
    return base, counts


def _attendance_figures(rows: Sequence[Any]) -> dict[int, AttendanceFigures]:
    return {int(row[0]): AttendanceFigures(*(int(v or 0) for v in row[1:])) for row in rows}


async def attendance(
    *, db: AsyncSession, scope: Scope, start: datetime, end: datetime
) -> dict[int, AttendanceFigures]:
    """Outcomes of the finalised invitations of sessions starting in [start, end)."""
    base, counts = _attendance_counts(start, end)
    if scope.by in (By.UNIT, By.BRANCH):
        base = base.where(scope.admits(_MEMBER.c.org_id))
        stmt = _rolled_up(scope, base, _MEMBER.c.org_id, counts)
    else:
        keyed, key = member_key(base, scope, _MEMBER)
        stmt = keyed.add_columns(key, *counts).group_by(key)
    return _attendance_figures(await _grouped(db, stmt))


async def attendance_with_whole(
    *, db: AsyncSession, scope: Scope, start: datetime, end: datetime
) -> tuple[dict[int, AttendanceFigures], dict[int, AttendanceFigures]]:
    """What `attendance` says of the scope as a WHOLE and by its child UNITs, from one
    read of the period's attendance (a county-year is 300,000 rows; reading them once for
    the headline and again for the townships was half of /summary's time).

    The rows are counted by org once, then added up both ways (the whole: the orgs of
    the scope's subtree). ``scope.by`` must be UNIT; the whole is keyed by the scope's own org id
    (no child unit has it) and is absent when nothing was counted, as in `attendance`.
    """
    if scope.by != By.UNIT:
        raise ValueError("attendance_with_whole groups by child unit")
    base, counts = _attendance_counts(start, end)
    base = base.where(scope.admits(_MEMBER.c.org_id))
    per_org = (
        base.add_columns(_MEMBER.c.org_id.label("org_id"), *counts)
        .group_by(_MEMBER.c.org_id)
        .cte("per_org")
    )
    sums = [sa.func.sum(per_org.c[c.name]) for c in counts]
    units = _unit_map(scope)
    by_unit = (
        sa.select(units.c.unit_id, *sums)
        .select_from(per_org)
        .join(units, units.c.org_id == per_org.c.org_id)
        .group_by(units.c.unit_id)
    )
    subtree = _ORG.alias("subtree")
    whole = (
        sa.select(sa.literal(scope.org_id), *sums)
        .select_from(per_org)
        .join(subtree, subtree.c.id == per_org.c.org_id)
        .where(subtree.c.path.startswith(scope.path))
        .having(sa.func.count() > 0)
    )
    figures = _attendance_figures(await _grouped(db, sa.union_all(whole, by_unit)))
    total = figures.pop(scope.org_id, None)
    return ({scope.org_id: total} if total is not None else {}), figures


def _rolled_up(
    scope: Scope, base: sa.Select[Any], org_id: Any, counts: Sequence[sa.Label[Any]]
) -> sa.Select[Any]:
    """Counts of ``base`` by the scope's child units, counted by org first and then added
    up: joined row by row to the unit map (a LIKE on paths), SQLite walks the rows once per
    unit, 20 times over at a county's townships (4.3 s instead of 0.2 s a year)."""
    per_org = base.add_columns(org_id.label("org_id"), *counts).group_by(org_id).subquery()
    units = _unit_map(scope)
    return (
        sa.select(units.c.unit_id, *(sa.func.sum(per_org.c[c.name]) for c in counts))
        .join(units, units.c.org_id == per_org.c.org_id)
        .group_by(units.c.unit_id)
    )


def _held(now: datetime) -> sa.ColumnElement[bool]:
    """A session counts as held once it started and was not cancelled (as the ladder says)."""
    return sa.and_(_STUDY.c.state != SessionState.CANCELLED.value, _STUDY.c.starts_at <= _utc(now))


async def sessions_held(
    *, db: AsyncSession, scope: Scope, start: datetime, end: datetime, now: datetime
) -> dict[tuple[int, SessionKind], int]:
    """How many sessions of each kind were held in [start, end), by their holder's unit."""
    base = (
        sa.select()
        .select_from(_STUDY)
        .where(_held(now), _STUDY.c.starts_at >= _utc(start), _STUDY.c.starts_at < _utc(end))
    )
    stmt, key = org_key(base, scope, session_holder(_STUDY))
    rows = await _grouped(
        db,
        stmt.add_columns(key, _STUDY.c.kind, sa.func.count()).group_by(key, _STUDY.c.kind),
    )
    return {(int(k), SessionKind(kind)): int(n) for k, kind, n in rows}


async def periods_met(
    *,
    db: AsyncSession,
    scopes: Sequence[Scope],
    periods: Sequence[JudgedPeriod],
    now: datetime,
) -> list[dict[tuple[int, SessionKind], int]]:
    """How many (org, judged period) pairs had at least one session of the period's kind,
    for each scope (the headline's and its units' from one read of the sessions: read
    once per scope, it was 20 ms of /summary's ~300 each).

    The holder of a session is the org it counts for on the silent-branch ladder, so a
    period met here is a period the ladder leaves alone.
    """
    if not periods:
        return [{} for _ in scopes]
    holder = session_holder(_STUDY)
    period_no = sa.case(
        *(
            (
                sa.and_(
                    _STUDY.c.kind == period.kind.value,
                    _STUDY.c.starts_at >= _utc(period.start),
                    _STUDY.c.starts_at < _utc(period.end),
                ),
                number,
            )
            for number, period in enumerate(periods)
        ),
        else_=None,
    )
    met = (
        sa.select(holder.label("holder"), _STUDY.c.kind.label("kind"), period_no.label("no"))
        .where(
            _held(now),
            _STUDY.c.starts_at >= _utc(min(period.start for period in periods)),
            _STUDY.c.starts_at < _utc(max(period.end for period in periods)),
            period_no.is_not(None),
        )
        .distinct()
        .cte("met")
    )
    parts = []
    for number, scope in enumerate(scopes):
        stmt, key = org_key(sa.select().select_from(met), scope, met.c.holder)
        parts.append(
            stmt.add_columns(sa.literal(number), key, met.c.kind, sa.func.count()).group_by(
                key, met.c.kind
            )
        )
    found: list[dict[tuple[int, SessionKind], int]] = [{} for _ in scopes]
    if parts:
        for number, k, kind, n in await _grouped(db, sa.union_all(*parts)):
            found[int(number)][(int(k), SessionKind(kind))] = int(n)
    return found


async def org_kinds(*, db: AsyncSession, scope: Scope) -> dict[tuple[int, OrgKind], int]:
    """How many active orgs of each kind lie in each group (what must hold sessions)."""
    base = sa.select().select_from(_ORG).where(_ORG.c.active.is_(True))
    stmt, key = org_key(base, scope, _ORG.c.id)
    rows = await _grouped(
        db, stmt.add_columns(key, _ORG.c.kind, sa.func.count()).group_by(key, _ORG.c.kind)
    )
    return {(int(k), OrgKind(kind)): int(n) for k, kind, n in rows}


def delivered_notice() -> sa.ColumnElement[bool]:
    """A notice message that reached its reader (SQL), as the reports and the workbook
    count it. The state is wrapped so that no database walks the outbox's state index
    (every message ever sent) instead of finding a period's notices by ``notice_id``."""
    return sa.and_(
        _DELIVERY.c.kind == DeliveryKind.NOTICE.value,
        sa.func.coalesce(_DELIVERY.c.state, "") == DeliveryState.SENT.value,
    )


def notices_between(start: datetime, end: datetime) -> Any:
    """The ids of the notices sent in [start, end), as a subquery to look deliveries up."""
    return (
        sa.select(_NOTICE.c.id)
        .where(_NOTICE.c.created_at >= _utc(start), _NOTICE.c.created_at < _utc(end))
        .scalar_subquery()
    )


async def notice_acks(
    *, db: AsyncSession, scope: Scope, start: datetime, end: datetime
) -> dict[int, Acks]:
    """Notices sent in [start, end) that asked for 已阅: delivered to members, and acked."""
    base = (
        sa.select()
        .select_from(_DELIVERY)
        .join(_NOTICE, _NOTICE.c.id == _DELIVERY.c.notice_id)
        .join(_MEMBER, _MEMBER.c.id == _DELIVERY.c.member_id)
        .where(
            _DELIVERY.c.notice_id.in_(notices_between(start, end)),
            delivered_notice(),
            _NOTICE.c.requires_ack.is_(True),
        )
    )
    stmt, key = member_key(base, scope, _MEMBER)
    rows = await _grouped(
        db,
        stmt.add_columns(
            key, sa.func.count(), sa.func.count(_DELIVERY.c.acknowledged_at)
        ).group_by(key),
    )
    return {int(k): Acks(int(d), int(a)) for k, d, a in rows}


def _ratings_columns() -> tuple[Any, ...]:
    return sa.func.count(), sa.func.count().filter(_ASSESSMENT.c.passed.is_(True))


async def five_good(*, db: AsyncSession, scope: Scope, years: Sequence[int]) -> dict[int, Ratings]:
    """五好 ratings of the orgs (townships, branches) in each group, in these years."""
    base = (
        sa.select()
        .select_from(_ASSESSMENT)
        .where(
            _ASSESSMENT.c.scheme == AssessmentScheme.FIVE_GOOD.value,
            _ASSESSMENT.c.subject_kind == AssessmentSubject.ORG.value,
            _ASSESSMENT.c.year.in_(list(years)),
        )
    )
    stmt, key = org_key(base, scope, _ASSESSMENT.c.org_id)
    rows = await _grouped(db, stmt.add_columns(key, *_ratings_columns()).group_by(key))
    return {int(k): Ratings(int(r), int(p)) for k, r, p in rows}


async def five_lead(
    *, db: AsyncSession, scope: Scope, years: Sequence[int]
) -> dict[int, FiveLead]:
    """五带头: the active members of each group, and those the township confirmed in these
    years. A group shows up once any of its members has a verdict of those years."""
    verdicts = (
        sa.select(
            _ASSESSMENT.c.member_id.label("member_id"),
            sa.func.max(sa.case((_ASSESSMENT.c.passed.is_(True), 1), else_=0)).label("ok"),
        )
        .where(
            _ASSESSMENT.c.scheme == AssessmentScheme.FIVE_LEAD.value,
            _ASSESSMENT.c.subject_kind == AssessmentSubject.MEMBER.value,
            _ASSESSMENT.c.year.in_(list(years)),
        )
        .group_by(_ASSESSMENT.c.member_id)
        .subquery("verdicts")
    )
    base = (
        sa.select()
        .select_from(_MEMBER)
        .outerjoin(verdicts, verdicts.c.member_id == _MEMBER.c.id)
        .where(_MEMBER.c.active.is_(True))
    )
    stmt, key = member_key(base, scope, _MEMBER)
    rows = await _grouped(
        db,
        stmt.add_columns(key, sa.func.count(), sa.func.count().filter(verdicts.c.ok == 1))
        .group_by(key)
        .having(sa.func.count(verdicts.c.member_id) > 0),
    )
    return {int(k): FiveLead(int(m), int(c)) for k, m, c in rows}


async def commended_units(
    *, db: AsyncSession, year: int, under_path: str, start: datetime, end: datetime
) -> list[Commended]:
    """The five-good units of ``year`` strictly below ``under_path``, each with the
    attendance of its subtree's members in [start, end) as /summary counts it."""
    base, counts = _attendance_counts(start, end)
    per_org = (
        base.add_columns(_MEMBER.c.org_id.label("org_id"), counts[0], counts[1])
        .group_by(_MEMBER.c.org_id)
        .subquery("per_org")
    )
    unit, inner = _ORG.alias("unit"), _ORG.alias("unit_inner")
    attended = (
        sa.select(
            unit.c.id.label("unit_id"),
            sa.func.sum(per_org.c.invited).label("invited"),
            sa.func.sum(per_org.c.present).label("present"),
        )
        .join(inner, inner.c.path.startswith(unit.c.path))
        .join(per_org, per_org.c.org_id == inner.c.id)
        .group_by(unit.c.id)
        .subquery("attended")
    )
    rows = await _grouped(
        db,
        sa.select(_ORG.c.id, _ORG.c.name, _ORG.c.kind, attended.c.invited, attended.c.present)
        .join(
            _ASSESSMENT,
            sa.and_(
                _ASSESSMENT.c.org_id == _ORG.c.id,
                _ASSESSMENT.c.year == year,
                _ASSESSMENT.c.scheme == AssessmentScheme.FIVE_GOOD.value,
                _ASSESSMENT.c.passed.is_(True),
            ),
        )
        .outerjoin(attended, attended.c.unit_id == _ORG.c.id)
        .where(
            _ORG.c.path.startswith(under_path),
            _ORG.c.path != under_path,
            _ORG.c.active.is_(True),
        )
        .order_by(_ORG.c.code),
    )
    return [
        Commended(int(i), str(n), OrgKind(k), int(inv or 0), int(pre or 0))
        for i, n, k, inv, pre in rows
    ]


async def contact_visits(
    *, db: AsyncSession, scope: Scope, year: int, needed: int
) -> dict[int, Ratings]:
    """Leaders' contact points of the year in each group, and how many had ``needed``
    visits (rated = points, passed = points with enough visits)."""
    points = visits_by_point(year)
    stmt, key = org_key(sa.select().select_from(points), scope, points.c.org_id)
    rows = await _grouped(
        db,
        stmt.add_columns(
            key, sa.func.count(), sa.func.count().filter(points.c.visits >= needed)
        ).group_by(key),
    )
    return {int(k): Ratings(int(r), int(p)) for k, r, p in rows}
