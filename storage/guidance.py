"""Branches classified for guidance (先进 / 一般 / 落后, per year), the poverty-stricken
village flag, and the filter /summary and /export take by class or flag.

Demonstration sites are not flagged here: they are the year's `DemonstrationSite` rows
(storage/duties.py), and the filter reads them from there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage._sql import table_of
from storage.models.assessments import BranchGuidance, GuidanceClass
from storage.models.leadership import DemonstrationSite
from storage.models.orgs import OrgKind, OrgUnit

__all__ = [
    "BranchMarks",
    "Flag",
    "Only",
    "branch_marks",
    "count_branches",
    "flagged_paths",
    "grade_of",
    "set_grade",
    "set_poverty",
    "within",
]

_ORG = table_of(OrgUnit)
_GUIDANCE = table_of(BranchGuidance)
_SITE = table_of(DemonstrationSite)


class Flag(StrEnum):
    """What a report can be narrowed to: a class of the year, or a flag."""

    ADVANCED = "advanced"
    AVERAGE = "average"
    LAGGING = "lagging"
    POVERTY = "poverty"  # poverty-stricken villages
    DEMO = "demo"  # the year's demonstration sites


@dataclass(frozen=True, slots=True)
class Only:
    """A report narrowed to the units that carry ``flag`` in ``year`` (and their subtrees)."""

    flag: Flag
    year: int


def _flagged(only: Only) -> sa.Select[Any]:
    """(id, path) of the active orgs that carry the flag."""
    base = sa.select(_ORG.c.id, _ORG.c.path).where(_ORG.c.active.is_(True))
    if only.flag == Flag.POVERTY:
        return base.where(_ORG.c.poverty_village.is_(True))
    if only.flag == Flag.DEMO:
        return base.join(_SITE, _SITE.c.org_id == _ORG.c.id).where(_SITE.c.year == only.year)
    return base.join(_GUIDANCE, _GUIDANCE.c.org_id == _ORG.c.id).where(
        _GUIDANCE.c.year == only.year, _GUIDANCE.c.grade == only.flag.value
    )


async def flagged_paths(*, db: AsyncSession, only: Only) -> list[str]:
    """The paths of the active orgs that carry the flag (what ``within`` admits lies in
    their subtrees): for figures worked out in Python from per-org rows."""
    await db.flush()
    connection = await db.connection()
    rows = (await connection.execute(_flagged(only).order_by(_ORG.c.path))).all()
    return [str(path) for _org_id, path in rows]


def within(only: Only, org_id: Any) -> sa.ColumnElement[bool]:
    """SQL: the org ``org_id`` lies in the subtree of a unit that carries the flag."""
    flagged = _flagged(only).subquery("flagged")
    inner = _ORG.alias("flagged_inner")
    found: sa.ColumnElement[bool] = org_id.in_(
        sa.select(inner.c.id).join(flagged, inner.c.path.startswith(flagged.c.path))
    )
    return found


async def grade_of(*, db: AsyncSession, org_id: int, year: int) -> BranchGuidance | None:
    """The branch's class of the year, if it has one."""
    result = await db.exec(
        select(BranchGuidance).where(BranchGuidance.org_id == org_id, BranchGuidance.year == year)
    )
    return result.first()


async def set_grade(
    *,
    db: AsyncSession,
    org_id: int,
    year: int,
    grade: GuidanceClass,
    set_by: int,
    now: datetime,
) -> GuidanceClass | None:
    """Write the branch's class of the year; returns the class it had before (None: none)."""
    row = await grade_of(db=db, org_id=org_id, year=year)
    before = None if row is None else row.grade
    if row is None:
        row = BranchGuidance(year=year, org_id=org_id, grade=grade, set_by=set_by, set_at=now)
    row.grade, row.set_by, row.set_at = grade, set_by, now
    db.add(row)
    await db.flush()
    return before


async def set_poverty(*, db: AsyncSession, org: OrgUnit, flagged: bool) -> bool:
    """Flag or unflag the village; False when it already was as asked."""
    if org.poverty_village == flagged:
        return False
    org.poverty_village = flagged
    db.add(org)
    await db.flush()
    return True


@dataclass(frozen=True, slots=True)
class BranchMarks:
    """A village branch with its class of the year and its flags."""

    org_id: int
    name: str
    grade: GuidanceClass | None
    poverty: bool
    demo: bool


def _branches_below(under_path: str) -> tuple[sa.ColumnElement[bool], ...]:
    return (
        col(OrgUnit.path).startswith(under_path),
        col(OrgUnit.path) != under_path,
        col(OrgUnit.active).is_(True),
        col(OrgUnit.kind) == OrgKind.VILLAGE_BRANCH.value,
    )


async def branch_marks(
    *, db: AsyncSession, year: int, under_path: str, offset: int, limit: int
) -> list[BranchMarks]:
    """The village branches strictly below ``under_path`` (by code) with their marks."""
    stmt = (
        sa.select(
            _ORG.c.id,
            _ORG.c.name,
            _GUIDANCE.c.grade,
            _ORG.c.poverty_village,
            _SITE.c.id.is_not(None),
        )
        .select_from(_ORG)
        .outerjoin(_GUIDANCE, sa.and_(_GUIDANCE.c.org_id == _ORG.c.id, _GUIDANCE.c.year == year))
        .outerjoin(_SITE, sa.and_(_SITE.c.org_id == _ORG.c.id, _SITE.c.year == year))
        .where(*_branches_below(under_path))
        .order_by(_ORG.c.code, _ORG.c.id)
        .offset(offset)
        .limit(limit)
    )
    await db.flush()
    connection = await db.connection()
    rows = (await connection.execute(stmt)).all()
    return [
        BranchMarks(
            int(oid),
            str(name),
            None if grade is None else GuidanceClass(grade),
            bool(poor),
            bool(demo),
        )
        for oid, name, grade, poor, demo in rows
    ]


async def count_branches(*, db: AsyncSession, under_path: str) -> int:
    """How many village branches lie strictly below ``under_path``."""
    stmt = select(sa.func.count()).select_from(OrgUnit).where(*_branches_below(under_path))
    return int((await db.exec(stmt)).one())
