"""The silent-branch ladder: an org that did not hold a required session is reported upward.

One row per org, required kind and missed period climbs a level at a time until a session
of that kind is held. A climb is one conditional UPDATE whose row count says whether this
run made it (another run may have); the facts the ladder judges (when each org last held
each kind, when scheduling began) are aggregates in SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage._sql import insert_ignore, table_of
from storage.models.orgs import OrgKind, OrgUnit
from storage.models.sessions import (
    AudienceKind,
    SessionEscalation,
    SessionKind,
    SessionState,
    StudySession,
)

__all__ = [
    "first_session_created_at",
    "last_held",
    "open_escalation",
    "open_escalations",
    "orgs_of_kinds",
    "resolve_escalation",
    "session_holder",
    "step_escalation",
]


# --- what the ladder judges ---------------------------------------------------------------


def session_holder(study: sa.FromClause) -> sa.ColumnElement[int]:
    """The org a study session counts for (SQL): its organiser, except that a party group
    meeting held for one party group counts for that group. The ladder and the county
    reports judge cadence by this one rule.
    """
    return sa.case(
        (
            sa.and_(
                study.c.kind == SessionKind.PARTY_GROUP_MEETING.value,
                study.c.audience_kind == AudienceKind.PARTY_GROUP.value,
            ),
            study.c.audience_org_id,
        ),
        else_=study.c.org_id,
    )


async def orgs_of_kinds(*, db: AsyncSession, kinds: Sequence[OrgKind]) -> list[OrgUnit]:
    """Active org units of these kinds, by path."""
    result = await db.exec(
        select(OrgUnit)
        .where(col(OrgUnit.kind).in_(list(kinds)), col(OrgUnit.active).is_(True))
        .order_by(col(OrgUnit.path))
    )
    return list(result.all())


async def last_held(*, db: AsyncSession, now: datetime) -> dict[tuple[int, SessionKind], datetime]:
    """When each org last held each kind (started and not cancelled).

    A party group meeting held for one party group counts for that group, not its branch.
    """
    holder = session_holder(table_of(StudySession))
    latest = sa.func.max(StudySession.starts_at)
    result = await db.exec(
        select(holder, StudySession.kind, latest)
        .where(StudySession.state != SessionState.CANCELLED, col(StudySession.starts_at) <= now)
        .group_by(holder, col(StudySession.kind))
    )
    return {(int(org_id), SessionKind(kind)): moment for org_id, kind, moment in result.all()}


async def first_session_created_at(*, db: AsyncSession) -> datetime | None:
    """When partybot first scheduled anything: periods before it are not judged."""
    result = await db.exec(select(sa.func.min(StudySession.created_at)))
    return result.one()


# --- the ladder ---------------------------------------------------------------------------


async def open_escalation(
    *, db: AsyncSession, org_id: int, kind: SessionKind, period_start: date, now: datetime
) -> bool:
    """Start the ladder for a missed period at level 1; False if it was started before."""
    before = await db.exec(
        select(sa.func.count())
        .select_from(SessionEscalation)
        .where(
            col(SessionEscalation.org_id) == org_id,
            col(SessionEscalation.kind) == kind,
            col(SessionEscalation.period_start) == period_start,
        )
    )
    if before.one():
        return False
    await insert_ignore(
        db,
        SessionEscalation,
        {
            "org_id": org_id,
            "kind": kind,
            "period_start": period_start,
            "level": 1,
            "last_step_at": now,
            "created_at": now,
        },
        conflict=["org_id", "kind", "period_start"],
    )
    return True


async def open_escalations(*, db: AsyncSession) -> list[SessionEscalation]:
    """Ladders not yet stopped by a held session."""
    result = await db.exec(
        select(SessionEscalation)
        .where(col(SessionEscalation.resolved_at).is_(None))
        .order_by(col(SessionEscalation.id))
        .execution_options(populate_existing=True)
    )
    return list(result.all())


async def step_escalation(
    *, db: AsyncSession, escalation_id: int, from_level: int, now: datetime
) -> bool:
    """Climb one level; False if another run climbed already."""
    result = await db.exec(
        update(SessionEscalation)
        .where(
            col(SessionEscalation.id) == escalation_id,
            col(SessionEscalation.level) == from_level,
            col(SessionEscalation.resolved_at).is_(None),
        )
        .values(level=from_level + 1, last_step_at=now)
    )
    return bool(result.rowcount)


async def resolve_escalation(*, db: AsyncSession, escalation_id: int, now: datetime) -> None:
    """A session was held: the ladder stops."""
    await db.exec(
        update(SessionEscalation)
        .where(col(SessionEscalation.id) == escalation_id)
        .values(resolved_at=now)
    )
