"""Leaders' duties aggregate: contact points and their visits, demonstration sites, the
leading groups' report hearings and special studies, and the visit reminder ladder.

A year is a calendar year in the people's time zone: visits carry their local date
(``visited_on``), and sessions are counted between two local midnights that the caller
gives in UTC. Counters are SQL GROUP BY over the materialised paths.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage._sql import dialect_name, table_of
from storage.models.accounts import TelegramAccount
from storage.models.leadership import (
    ContactPoint,
    ContactVisit,
    DemonstrationSite,
    DutyReminder,
    DutyStep,
)
from storage.models.members import Member
from storage.models.orgs import OrgKind, OrgUnit
from storage.models.sessions import SessionKind, SessionState, StudySession

__all__ = [
    "ContactPointView",
    "LeadingGroupCount",
    "Site",
    "add_contact_point",
    "add_site",
    "add_visit",
    "claim_rung",
    "contact_point_views",
    "count_sites",
    "get_contact_point",
    "is_leader",
    "is_site",
    "ladder_candidates",
    "leading_group_counts",
    "remove_contact_point",
    "remove_site",
    "sites",
    "visits_by_point",
]


@dataclass(frozen=True, slots=True)
class ContactPointView:
    """A contact point with its leader, its org and its visits in the year."""

    id: int
    year: int
    leader_member_id: int
    leader_name: str
    leader_telegram_id: int | None
    leader_language: str | None
    org_id: int
    org_name: str
    visits: int
    last_visit: date | None
    created_at: datetime
    org_path: str


def _visits() -> sa.Subquery:
    """(contact_point_id, visits, last_visit): the visits of each contact point."""
    return (
        select(
            ContactVisit.contact_point_id,
            sa.func.count(col(ContactVisit.id)).label("visits"),
            sa.func.max(col(ContactVisit.visited_on)).label("last_visit"),
        )
        .group_by(col(ContactVisit.contact_point_id))
        .subquery()
    )


def visits_by_point(year: int) -> sa.Subquery:
    """(contact_point_id, org_id, visits) of the year's contact points, as SQL to group
    further (the county view counts the points that reached the visits needed)."""
    visits = _visits()
    return (
        sa.select(
            col(ContactPoint.id).label("contact_point_id"),
            col(ContactPoint.org_id).label("org_id"),
            sa.func.coalesce(visits.c.visits, 0).label("visits"),
        )
        .join(visits, visits.c.contact_point_id == col(ContactPoint.id), isouter=True)
        .where(col(ContactPoint.year) == year)
        .subquery("visits_by_point")
    )


def _views_query() -> tuple[Any, sa.ColumnElement[int]]:
    """Contact points with leader, org and visit count; and the count expression."""
    visits = _visits()
    count = sa.func.coalesce(visits.c.visits, 0)
    stmt = (
        sa.select(
            col(ContactPoint.id),
            col(ContactPoint.year),
            col(ContactPoint.leader_member_id),
            col(Member.name),
            col(Member.telegram_user_id),
            col(TelegramAccount.language),
            col(ContactPoint.org_id),
            col(OrgUnit.name),
            count,
            visits.c.last_visit,
            col(ContactPoint.created_at),
            col(OrgUnit.path),
        )
        .join(Member, col(Member.id) == col(ContactPoint.leader_member_id))
        .join(OrgUnit, col(OrgUnit.id) == col(ContactPoint.org_id))
        .join(
            TelegramAccount,
            col(TelegramAccount.telegram_user_id) == col(Member.telegram_user_id),
            isouter=True,
        )
        .join(visits, visits.c.contact_point_id == col(ContactPoint.id), isouter=True)
    )
    return stmt, count


def _view(row: Sequence[object]) -> ContactPointView:
    cp_id, year, leader, name, tg, lang, org_id, org_name, visits, last, created, path = row
    return ContactPointView(
        id=int(str(cp_id)),
        year=int(str(year)),
        leader_member_id=int(str(leader)),
        leader_name=str(name),
        leader_telegram_id=int(str(tg)) if tg is not None else None,
        leader_language=str(lang) if lang is not None else None,
        org_id=int(str(org_id)),
        org_name=str(org_name),
        visits=int(str(visits)),
        last_visit=last if isinstance(last, date) else None,
        created_at=created,  # type: ignore[arg-type]
        org_path=str(path),
    )


async def contact_point_views(
    *,
    db: AsyncSession,
    year: int,
    under_path: str | None = None,
    leader_member_id: int | None = None,
    contact_point_id: int | None = None,
) -> list[ContactPointView]:
    """Contact points of the year (inside a subtree, of one leader, or one), fewest visits
    first, then by leader and org."""
    stmt, count = _views_query()
    stmt = stmt.where(col(ContactPoint.year) == year)
    if under_path is not None:
        stmt = stmt.where(col(OrgUnit.path).startswith(under_path))
    if leader_member_id is not None:
        stmt = stmt.where(col(ContactPoint.leader_member_id) == leader_member_id)
    if contact_point_id is not None:
        stmt = stmt.where(col(ContactPoint.id) == contact_point_id)
    stmt = stmt.order_by(count, col(Member.name), col(OrgUnit.name), col(ContactPoint.id))
    rows = await db.exec(stmt)
    return [_view(row) for row in rows.all()]


async def get_contact_point(*, db: AsyncSession, contact_point_id: int) -> ContactPoint | None:
    """The contact point with this id, if any."""
    return await db.get(ContactPoint, contact_point_id)


async def is_leader(*, db: AsyncSession, member: Member) -> bool:
    """Has this member ever been given a contact point (so /visit is in his menu)?"""
    found = await db.exec(
        select(ContactPoint.id).where(ContactPoint.leader_member_id == member.id).limit(1)
    )
    return found.first() is not None


async def add_contact_point(
    *, db: AsyncSession, leader_member_id: int, org_id: int, year: int, now: datetime
) -> ContactPoint | None:
    """Link a leader to an org for a year; None if that link exists already."""
    found = await db.exec(
        select(ContactPoint).where(
            ContactPoint.leader_member_id == leader_member_id,
            ContactPoint.org_id == org_id,
            ContactPoint.year == year,
        )
    )
    if found.first() is not None:
        return None
    point = ContactPoint(
        leader_member_id=leader_member_id, org_id=org_id, year=year, created_at=now
    )
    db.add(point)
    await db.flush()
    return point


async def remove_contact_point(*, db: AsyncSession, contact_point_id: int) -> bool:
    """Delete a contact point (its visits and rungs cascade); False if it was gone already."""
    point = await db.get(ContactPoint, contact_point_id)
    if point is None:
        return False
    await db.delete(point)
    await db.flush()
    return True


async def add_visit(
    *,
    db: AsyncSession,
    contact_point_id: int,
    visited_on: date,
    note: str | None,
    photo_ids: Sequence[str],
    recorded_by: int,
    now: datetime,
) -> ContactVisit:
    """One visit, in the caller's transaction."""
    visit = ContactVisit(
        contact_point_id=contact_point_id,
        visited_on=visited_on,
        note=note,
        photo_ids=list(photo_ids) or None,
        recorded_by=recorded_by,
        created_at=now,
    )
    db.add(visit)
    await db.flush()
    return visit


# --- demonstration sites -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Site:
    """A demonstration site: a township (county level) or a village branch (township level)."""

    org_id: int
    org_name: str
    kind: OrgKind
    parent_id: int | None
    year: int


async def sites(*, db: AsyncSession, year: int, under_path: str) -> list[Site]:
    """The year's demonstration sites inside a subtree, townships first, by name."""
    rows = await db.exec(
        select(OrgUnit.id, OrgUnit.name, OrgUnit.kind, OrgUnit.parent_id)
        .join(DemonstrationSite, col(DemonstrationSite.org_id) == col(OrgUnit.id))
        .where(DemonstrationSite.year == year, col(OrgUnit.path).startswith(under_path))
        .order_by(sa.func.length(col(OrgUnit.path)), col(OrgUnit.name))
    )
    return [
        Site(int(oid), str(name), OrgKind(kind), parent, year)
        for oid, name, kind, parent in rows.all()
        if oid is not None
    ]


async def count_sites(
    *, db: AsyncSession, year: int, kind: OrgKind, parent_id: int | None = None
) -> int:
    """How many sites of this kind (under one parent, if given) the year has."""
    stmt = (
        select(sa.func.count())
        .select_from(DemonstrationSite)
        .join(OrgUnit, col(OrgUnit.id) == col(DemonstrationSite.org_id))
        .where(DemonstrationSite.year == year, OrgUnit.kind == kind)
    )
    if parent_id is not None:
        stmt = stmt.where(OrgUnit.parent_id == parent_id)
    return int((await db.exec(stmt)).one())


async def is_site(*, db: AsyncSession, org_id: int, year: int) -> bool:
    """Whether the org is a demonstration site of the year."""
    found = await db.exec(
        select(DemonstrationSite.id).where(
            DemonstrationSite.org_id == org_id, DemonstrationSite.year == year
        )
    )
    return found.first() is not None


async def add_site(
    *, db: AsyncSession, org_id: int, year: int, created_by: int | None, now: datetime
) -> bool:
    """Make the org a site for the year; False if it is one already."""
    found = await db.exec(
        select(DemonstrationSite).where(
            DemonstrationSite.org_id == org_id, DemonstrationSite.year == year
        )
    )
    if found.first() is not None:
        return False
    db.add(DemonstrationSite(org_id=org_id, year=year, created_by=created_by, created_at=now))
    await db.flush()
    return True


async def remove_site(*, db: AsyncSession, org_id: int, year: int) -> bool:
    """The org is no longer a site that year; False if it was not one."""
    result = await db.exec(
        sa.delete(table_of(DemonstrationSite)).where(
            table_of(DemonstrationSite).c.org_id == org_id,
            table_of(DemonstrationSite).c.year == year,
        )
    )
    return bool(result.rowcount)


# --- leading groups ------------------------------------------------------------------------

#: The session kinds leading groups must hold, and how many a year.
LEADING_KINDS: tuple[SessionKind, ...] = (SessionKind.REPORT_HEARING, SessionKind.SPECIAL_STUDY)


@dataclass(frozen=True, slots=True)
class LeadingGroupCount:
    """Report hearings and special studies a county or township committee held in a year."""

    org_id: int
    org_name: str
    kind: OrgKind
    report_hearings: int
    special_studies: int


async def leading_group_counts(
    *, db: AsyncSession, under_path: str, start: datetime, end: datetime
) -> list[LeadingGroupCount]:
    """The county and townships inside the subtree, with the sessions of those kinds they
    held (closed) between ``start`` (inclusive) and ``end`` (exclusive), county first."""
    held = aliased(StudySession)

    def counted(kind: SessionKind) -> sa.ColumnElement[int]:
        return sa.func.count(sa.case((col(held.kind) == kind, col(held.id))))

    rows = await db.exec(  # type: ignore[call-overload]
        sa.select(
            col(OrgUnit.id),
            col(OrgUnit.name),
            col(OrgUnit.kind),
            counted(SessionKind.REPORT_HEARING),
            counted(SessionKind.SPECIAL_STUDY),
        )
        .join(
            held,
            sa.and_(
                col(held.org_id) == col(OrgUnit.id),
                col(held.state) == SessionState.CLOSED,
                col(held.kind).in_(LEADING_KINDS),
                col(held.starts_at) >= start,
                col(held.starts_at) < end,
            ),
            isouter=True,
        )
        .where(
            col(OrgUnit.kind).in_([OrgKind.COUNTY, OrgKind.TOWNSHIP]),
            col(OrgUnit.active).is_(True),
            col(OrgUnit.path).startswith(under_path),
        )
        .group_by(col(OrgUnit.id), col(OrgUnit.name), col(OrgUnit.kind), col(OrgUnit.path))
        .order_by(sa.func.length(col(OrgUnit.path)), col(OrgUnit.name))
    )
    return [
        LeadingGroupCount(int(oid), str(name), OrgKind(kind), int(hearings), int(studies))
        for oid, name, kind, hearings, studies in rows.all()
        if oid is not None
    ]


# --- the reminder ladder -------------------------------------------------------------------


async def ladder_candidates(
    *,
    db: AsyncSession,
    year: int,
    step: DutyStep,
    fewer_than: int,
    created_before: datetime,
    after_step: DutyStep | None,
) -> list[ContactPointView]:
    """Contact points of the year with fewer visits than ``fewer_than`` that have not taken
    ``step`` yet: created before its due time, or (for a county rung) whose leader rung
    ``after_step`` has been taken."""
    taken = aliased(DutyReminder)
    stmt, count = _views_query()
    stmt = stmt.where(col(ContactPoint.year) == year, count < fewer_than).where(
        ~sa.exists().where(
            col(taken.contact_point_id) == col(ContactPoint.id), col(taken.step) == step
        )
    )
    if after_step is None:
        stmt = stmt.where(col(ContactPoint.created_at) < created_before)
    else:
        before = aliased(DutyReminder)
        stmt = stmt.where(
            sa.exists().where(
                col(before.contact_point_id) == col(ContactPoint.id),
                col(before.step) == after_step,
            )
        )
    stmt = stmt.order_by(col(Member.name), col(OrgUnit.name), col(ContactPoint.id))
    rows = await db.exec(stmt)
    return [_view(row) for row in rows.all()]


async def claim_rung(
    *, db: AsyncSession, contact_point_id: int, step: DutyStep, now: datetime
) -> bool:
    """Take a rung once: True for the caller that inserted it, False if it was taken."""
    table = table_of(DutyReminder)
    insert = (
        postgresql.insert(table)
        if await dialect_name(db) == "postgresql"
        else sqlite.insert(table)
    )
    stmt = (
        insert.values(contact_point_id=contact_point_id, step=step, sent_at=now)
        .on_conflict_do_nothing(index_elements=["contact_point_id", "step"])
        .returning(table.c.id)
    )
    result = await db.exec(stmt)
    return result.first() is not None
