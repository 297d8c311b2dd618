"""Five-good ratings of org units (五好): read and write one unit's rating, and the counts
and lists /assess shows for a scope (the units strictly below the rater's grant)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models.assessments import Assessment, AssessmentScheme, AssessmentSubject, Rating
from storage.models.orgs import OrgKind, OrgUnit

__all__ = [
    "FIVE_GOOD_KINDS",
    "ScopeTally",
    "five_good_of",
    "five_good_units",
    "next_unrated",
    "save_five_good",
    "tally",
]

# The units rated five-good: township committees and village branches.
FIVE_GOOD_KINDS = (OrgKind.TOWNSHIP, OrgKind.VILLAGE_BRANCH)


def _below(under_path: str) -> tuple[sa.ColumnElement[bool], ...]:
    """Active five-good kinds strictly below the org at ``under_path``."""
    return (
        col(OrgUnit.path).startswith(under_path),
        col(OrgUnit.path) != under_path,
        col(OrgUnit.active).is_(True),
        col(OrgUnit.kind).in_([kind.value for kind in FIVE_GOOD_KINDS]),
    )


def _rating_join(year: int) -> sa.ColumnElement[bool]:
    return sa.and_(
        col(Assessment.org_id) == col(OrgUnit.id),
        col(Assessment.year) == year,
        col(Assessment.scheme) == AssessmentScheme.FIVE_GOOD,
    )


async def five_good_of(*, db: AsyncSession, year: int, org_id: int) -> Assessment | None:
    """The unit's five-good rating of the year, if it has one."""
    result = await db.exec(
        select(Assessment).where(
            Assessment.org_id == org_id,
            Assessment.year == year,
            Assessment.scheme == AssessmentScheme.FIVE_GOOD,
        )
    )
    return result.first()


async def save_five_good(
    *,
    db: AsyncSession,
    year: int,
    org_id: int,
    criteria: int,
    passed: bool,
    rating: Rating,
    assessed_by: int,
    now: datetime,
) -> int | None:
    """Write the unit's rating of the year (replacing an earlier one); returns the criteria
    the earlier rating had (None: first rating)."""
    row = await five_good_of(db=db, year=year, org_id=org_id)
    before = None if row is None else row.criteria
    if row is None:
        row = Assessment(
            year=year,
            subject_kind=AssessmentSubject.ORG,
            org_id=org_id,
            scheme=AssessmentScheme.FIVE_GOOD,
            rating=rating,
            passed=passed,
            assessed_by=assessed_by,
        )
    row.criteria, row.passed, row.rating = criteria, passed, rating
    row.assessed_by, row.assessed_at = assessed_by, now
    db.add(row)
    await db.flush()
    return before


@dataclass(frozen=True, slots=True)
class ScopeTally:
    """Units in a scope, how many are rated and how many of those are five-good."""

    units: int
    rated: int
    passed: int


async def tally(*, db: AsyncSession, year: int, under_path: str) -> ScopeTally:
    """Counted in SQL over the units strictly below ``under_path``."""
    stmt = (
        select(
            sa.func.count(col(OrgUnit.id)),
            sa.func.count(col(Assessment.id)),
            sa.func.count(col(Assessment.id)).filter(col(Assessment.passed).is_(True)),
        )
        .select_from(OrgUnit)
        .outerjoin(Assessment, _rating_join(year))
        .where(*_below(under_path))
    )
    units, rated, passed = (await db.exec(stmt)).one()
    return ScopeTally(int(units), int(rated), int(passed))


async def five_good_units(
    *, db: AsyncSession, year: int, under_path: str, limit: int
) -> list[OrgUnit]:
    """The five-good units of the year below ``under_path``, by code (the commendation list)."""
    stmt = (
        select(OrgUnit)
        .join(Assessment, _rating_join(year))
        .where(*_below(under_path), col(Assessment.passed).is_(True))
        .order_by(col(OrgUnit.code), col(OrgUnit.id))
        .limit(limit)
    )
    return list((await db.exec(stmt)).all())


async def next_unrated(*, db: AsyncSession, year: int, under_path: str) -> OrgUnit | None:
    """The first unit below ``under_path`` (by code) with no rating of the year."""
    stmt = (
        select(OrgUnit)
        .outerjoin(Assessment, _rating_join(year))
        .where(*_below(under_path), col(Assessment.id).is_(None))
        .order_by(col(OrgUnit.code), col(OrgUnit.id))
        .limit(1)
    )
    return (await db.exec(stmt)).first()
