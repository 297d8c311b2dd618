"""Five-lead (五带头): secretaries' proposals and the township's verdicts.

A proposal is pending while it has no assessment; the verdict is the member's five_lead
`Assessment` of the year (passed: confirmed). Lists for the secretary's roster screen,
the township's review screen and the commendation list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models.assessments import (
    Assessment,
    AssessmentScheme,
    AssessmentSubject,
    FiveLeadProposal,
    Rating,
)
from storage.models.members import Member
from storage.models.orgs import OrgUnit

__all__ = [
    "Pending",
    "RosterEntry",
    "Standing",
    "add_proposal",
    "confirmed_members",
    "count_pending",
    "count_roster",
    "get_proposal",
    "pending",
    "proposal_of",
    "remove_proposal",
    "roster",
    "save_verdict",
    "verdict_of",
]


class Standing(StrEnum):
    """Where a member stands in the year's five-lead assessment."""

    NONE = "none"
    PROPOSED = "proposed"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


def _verdict_join(year: int) -> sa.ColumnElement[bool]:
    return sa.and_(
        col(Assessment.member_id) == col(Member.id),
        col(Assessment.year) == year,
        col(Assessment.scheme) == AssessmentScheme.FIVE_LEAD,
    )


def _proposal_join(year: int) -> sa.ColumnElement[bool]:
    return sa.and_(
        col(FiveLeadProposal.member_id) == col(Member.id), col(FiveLeadProposal.year) == year
    )


async def get_proposal(*, db: AsyncSession, proposal_id: int) -> FiveLeadProposal | None:
    return await db.get(FiveLeadProposal, proposal_id)


async def proposal_of(*, db: AsyncSession, year: int, member_id: int) -> FiveLeadProposal | None:
    """The member's proposal of the year, if any."""
    result = await db.exec(
        select(FiveLeadProposal).where(
            FiveLeadProposal.year == year, FiveLeadProposal.member_id == member_id
        )
    )
    return result.first()


async def verdict_of(*, db: AsyncSession, year: int, member_id: int) -> Assessment | None:
    """The member's five-lead verdict of the year, if any."""
    result = await db.exec(
        select(Assessment).where(
            Assessment.member_id == member_id,
            Assessment.year == year,
            Assessment.scheme == AssessmentScheme.FIVE_LEAD,
        )
    )
    return result.first()


async def add_proposal(
    *, db: AsyncSession, year: int, member_id: int, proposed_by: int, now: datetime
) -> FiveLeadProposal:
    row = FiveLeadProposal(
        year=year, member_id=member_id, proposed_by=proposed_by, proposed_at=now
    )
    db.add(row)
    await db.flush()
    return row


async def remove_proposal(*, db: AsyncSession, proposal: FiveLeadProposal) -> None:
    await db.delete(proposal)
    await db.flush()


async def save_verdict(
    *,
    db: AsyncSession,
    proposal: FiveLeadProposal,
    passed: bool,
    assessed_by: int,
    now: datetime,
) -> Assessment:
    """Write the member's five-lead verdict of the year and link the proposal to it."""
    row = await verdict_of(db=db, year=proposal.year, member_id=proposal.member_id)
    if row is None:
        row = Assessment(
            year=proposal.year,
            subject_kind=AssessmentSubject.MEMBER,
            member_id=proposal.member_id,
            scheme=AssessmentScheme.FIVE_LEAD,
            rating=Rating.EXCELLENT,
            passed=passed,
            assessed_by=assessed_by,
        )
    row.passed, row.rating = passed, Rating.EXCELLENT if passed else Rating.POOR
    row.assessed_by, row.assessed_at = assessed_by, now
    db.add(row)
    await db.flush()
    proposal.assessment_id = row.id
    db.add(proposal)
    await db.flush()
    return row


@dataclass(frozen=True, slots=True)
class RosterEntry:
    """An active member of the branch and where they stand."""

    member_id: int
    name: str
    standing: Standing


def _standing(proposal_id: int | None, passed: bool | None) -> Standing:
    if passed is not None:
        return Standing.CONFIRMED if passed else Standing.REJECTED
    return Standing.PROPOSED if proposal_id is not None else Standing.NONE


async def roster(
    *, db: AsyncSession, org_id: int, year: int, offset: int, limit: int
) -> list[RosterEntry]:
    """A page of the branch's active members (by name) with their standing of the year."""
    stmt = (
        select(Member.id, Member.name, FiveLeadProposal.id, Assessment.passed)
        .outerjoin(FiveLeadProposal, _proposal_join(year))
        .outerjoin(Assessment, _verdict_join(year))
        .where(Member.org_id == org_id, col(Member.active).is_(True))
        .order_by(col(Member.name), col(Member.id))
        .offset(offset)
        .limit(limit)
    )
    return [
        RosterEntry(int(mid or 0), str(name), _standing(pid, passed))
        for mid, name, pid, passed in (await db.exec(stmt)).all()
    ]


async def count_roster(*, db: AsyncSession, org_id: int) -> int:
    stmt = (
        select(sa.func.count())
        .select_from(Member)
        .where(Member.org_id == org_id, col(Member.active).is_(True))
    )
    return int((await db.exec(stmt)).one())


@dataclass(frozen=True, slots=True)
class Pending:
    """A proposal waiting for the township: whose, and in which branch."""

    proposal_id: int
    member_name: str
    branch_name: str


def _pending_where(year: int, under_path: str) -> tuple[sa.ColumnElement[bool], ...]:
    return (
        col(FiveLeadProposal.year) == year,
        col(FiveLeadProposal.assessment_id).is_(None),
        col(Member.active).is_(True),
        col(OrgUnit.path).startswith(under_path),
        col(OrgUnit.path) != under_path,
    )


async def pending(
    *, db: AsyncSession, year: int, under_path: str, offset: int, limit: int
) -> list[Pending]:
    """Pending proposals of members strictly below ``under_path``, by branch and name."""
    stmt = (
        select(FiveLeadProposal.id, Member.name, OrgUnit.name)
        .join(Member, col(Member.id) == col(FiveLeadProposal.member_id))
        .join(OrgUnit, col(OrgUnit.id) == col(Member.org_id))
        .where(*_pending_where(year, under_path))
        .order_by(col(OrgUnit.code), col(Member.name), col(FiveLeadProposal.id))
        .offset(offset)
        .limit(limit)
    )
    return [
        Pending(int(pid or 0), str(member), str(branch))
        for pid, member, branch in (await db.exec(stmt)).all()
    ]


async def count_pending(*, db: AsyncSession, year: int, under_path: str) -> int:
    stmt = (
        select(sa.func.count())
        .select_from(FiveLeadProposal)
        .join(Member, col(Member.id) == col(FiveLeadProposal.member_id))
        .join(OrgUnit, col(OrgUnit.id) == col(Member.org_id))
        .where(*_pending_where(year, under_path))
    )
    return int((await db.exec(stmt)).one())


async def confirmed_members(
    *, db: AsyncSession, year: int, under_path: str, limit: int
) -> list[tuple[str, str]]:
    """(member, branch) of the active members below ``under_path`` confirmed five-lead in
    the year, by branch and name (the commendation list)."""
    stmt = (
        select(Member.name, OrgUnit.name)
        .join(Assessment, _verdict_join(year))
        .join(OrgUnit, col(OrgUnit.id) == col(Member.org_id))
        .where(
            col(Assessment.passed).is_(True),
            col(Member.active).is_(True),
            col(OrgUnit.path).startswith(under_path),
        )
        .order_by(col(OrgUnit.code), col(Member.name), col(Member.id))
        .limit(limit)
    )
    return [(str(member), str(branch)) for member, branch in (await db.exec(stmt)).all()]
