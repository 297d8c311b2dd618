"""Funds aggregate: money allocated to orgs, and training spend per member (培训经费).

The rule for who a yuan counts for: money recorded at an org is spread evenly over the
active roster members of that org's whole subtree (a township's money counts for every
member of its villages; the county's for every member of the county). An org's figure
per member is the average of its members' shares: the training money recorded inside
its subtree, plus each ancestor's money in proportion to the members it has here, over
its members. So the county's figure is all training money over all members, and each
township's and branch's figure adds up from the same yuan, never counted twice.

Sums and counts are SQL GROUP BY over the materialised paths; the few divisions are
exact fractions, shown in cents (per member rounded down, gaps rounded up, so a figure
below the floor never shows as reaching it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage._sql import dialect_name, in_subtree
from storage.models.funds import FundAllocation, FundPurpose, FundSource
from storage.models.members import Member
from storage.models.orgs import OrgKind, OrgUnit

__all__ = [
    "FundTotal",
    "OrgSpend",
    "combined_spend",
    "fund_totals",
    "orgs_named",
    "record_fund",
    "training_spend",
]


async def record_fund(
    *,
    db: AsyncSession,
    org_id: int,
    year: int,
    source: FundSource,
    purpose: FundPurpose,
    amount_yuan: Decimal,
    recorded_by: int | None,
    note: str | None = None,
    now: datetime,
) -> FundAllocation:
    """Insert one allocation in the caller's transaction (the caller has checked it)."""
    row = FundAllocation(
        org_id=org_id,
        year=year,
        source=source,
        purpose=purpose,
        amount_yuan=amount_yuan,
        note=note,
        recorded_by=recorded_by,
        recorded_at=now,
    )
    db.add(row)
    await db.flush()
    return row


@dataclass(frozen=True, slots=True)
class OrgSpend:
    """Training money per member of one org (county, township or branch) in one year.

    ``per_member_yuan`` is None for an org without active members; ``gap_yuan`` is what
    is missing, over all its members, to reach the floor (0 when it is met).
    """

    org_id: int
    code: str
    name: str
    kind: OrgKind
    path: str
    members: int
    recorded_yuan: Decimal  # training money recorded inside the subtree
    attributed_yuan: Decimal  # plus the ancestors' share, in cents (rounded down)
    per_member_yuan: Decimal | None
    gap_yuan: Decimal

    @property
    def depth(self) -> int:
        """0 for the county, 1 for a township, 2 for its branches."""
        return self.path.count("/") - 2

    @property
    def short(self) -> bool:
        """Below the floor (an org without members is not judged)."""
        return self.members > 0 and self.gap_yuan > 0


def combined_spend(into: OrgSpend, parts: Sequence[OrgSpend], floor_yuan: Decimal) -> OrgSpend:
    """``into`` counted over ``parts`` alone (units in its subtree, none inside another):
    their members and the money counted for them added up, per member and the gap worked
    out again. For a report narrowed to some units (a class or flag): the same yuan as
    each unit's own figure, so narrowed and whole figures agree."""
    members = sum(part.members for part in parts)
    recorded = sum((part.recorded_yuan for part in parts), Decimal(0))
    attributed = sum((part.attributed_yuan for part in parts), Decimal(0))
    gap = max(Fraction(floor_yuan) * members - Fraction(attributed), Fraction(0))
    return replace(
        into,
        members=members,
        recorded_yuan=recorded,
        attributed_yuan=attributed,
        per_member_yuan=_cents(Fraction(attributed) / members, up=False) if members else None,
        gap_yuan=_cents(gap, up=True),
    )


def _cents(value: Fraction, *, up: bool) -> Decimal:
    """Exact value to whole cents, rounded down (or up)."""
    scaled = value * 100
    whole = (
        -(-scaled.numerator // scaled.denominator)
        if up
        else scaled.numerator // scaled.denominator
    )
    return Decimal(whole) / 100


def _sum_cents() -> sa.ColumnElement[int]:
    """SUM of amounts in whole cents: exact on SQLite too, which keeps NUMERIC as REAL."""
    cents = sa.func.round(col(FundAllocation.amount_yuan) * 100)
    return sa.func.sum(sa.cast(cents, sa.BigInteger))


def _yuan(cents: object) -> Decimal:
    return Decimal(int(str(cents))) / 100


def _related_to(scope: OrgUnit) -> sa.ColumnElement[bool]:
    """Orgs inside the scope's subtree, or on its path up to the county."""
    inside = col(OrgUnit.path).startswith(scope.path)
    ancestor_ids = [int(part) for part in scope.path.strip("/").split("/") if part]
    return sa.or_(inside, col(OrgUnit.id).in_(ancestor_ids))


async def training_spend(
    *, db: AsyncSession, org_id: int, year: int, floor_yuan: Decimal
) -> list[OrgSpend]:
    """The scope org and every unit below it (party groups aside), by path.

    Empty when ``org_id`` does not exist. See the module docstring for the rule.
    """
    scope = await db.get(OrgUnit, org_id)
    if scope is None:
        return []
    below = aliased(OrgUnit)
    # Members counted by org first, then added up over each org's subtree: joined member
    # by member to every org above, a county's 15,000 members made 45,000 rows
    # (bench/county_summary.py: 24 ms, now 4).
    per_org = (
        select(col(Member.org_id).label("org_id"), sa.func.count().label("members"))
        .where(col(Member.active).is_(True))
        .group_by(col(Member.org_id))
        .subquery("per_org")
    )
    subtree = in_subtree(col(below.path), col(OrgUnit.path), await dialect_name(db))
    member_counts = await db.exec(
        select(OrgUnit.id, sa.func.coalesce(sa.func.sum(per_org.c.members), 0))
        .join(below, subtree)
        .join(per_org, per_org.c.org_id == col(below.id), isouter=True)
        .where(_related_to(scope))
        .group_by(col(OrgUnit.id))
    )
    members = {int(oid): int(count) for oid, count in member_counts.all() if oid is not None}
    training = sa.and_(
        col(FundAllocation.year) == year, col(FundAllocation.purpose) == FundPurpose.TRAINING
    )
    own_rows = await db.exec(
        select(FundAllocation.org_id, _sum_cents())
        .join(OrgUnit, col(OrgUnit.id) == col(FundAllocation.org_id))
        .where(training, _related_to(scope))
        .group_by(col(FundAllocation.org_id))
    )
    own = {int(oid): _yuan(total) for oid, total in own_rows.all()}
    subtree_rows = await db.exec(
        select(OrgUnit.id, _sum_cents())
        .join(below, col(below.path).startswith(col(OrgUnit.path)))
        .join(FundAllocation, col(FundAllocation.org_id) == col(below.id))
        .where(training, col(OrgUnit.path).startswith(scope.path))
        .group_by(col(OrgUnit.id))
    )
    recorded = {int(oid): _yuan(total) for oid, total in subtree_rows.all() if oid is not None}
    units = await db.exec(
        select(OrgUnit)
        .where(col(OrgUnit.path).startswith(scope.path), OrgUnit.kind != OrgKind.PARTY_GROUP)
        .order_by(col(OrgUnit.path))
    )
    spends: list[OrgSpend] = []
    for unit in units.all():
        assert unit.id is not None
        count = members.get(unit.id, 0)
        inside = recorded.get(unit.id, Decimal(0))
        attributed = Fraction(inside)
        ancestors = [int(part) for part in unit.path.strip("/").split("/")[:-1] if part]
        for ancestor in ancestors:
            if own.get(ancestor) and members.get(ancestor):
                attributed += Fraction(own[ancestor]) * count / members[ancestor]
        per_member = _cents(attributed / count, up=False) if count else None
        gap = max(Fraction(floor_yuan) * count - attributed, Fraction(0))
        spends.append(
            OrgSpend(
                org_id=unit.id,
                code=unit.code,
                name=unit.name,
                kind=OrgKind(unit.kind),
                path=unit.path,
                members=count,
                recorded_yuan=inside,
                attributed_yuan=_cents(attributed, up=False),
                per_member_yuan=per_member,
                gap_yuan=_cents(gap, up=True),
            )
        )
    return spends


@dataclass(frozen=True, slots=True)
class FundTotal:
    """All money of one source and purpose recorded inside a subtree in one year."""

    source: FundSource
    purpose: FundPurpose
    records: int
    total_yuan: Decimal


async def fund_totals(*, db: AsyncSession, org_id: int, year: int) -> list[FundTotal]:
    """Totals by source and purpose of everything recorded in the org's subtree."""
    scope = await db.get(OrgUnit, org_id)
    if scope is None:
        return []
    rows = await db.exec(
        select(
            FundAllocation.source,
            FundAllocation.purpose,
            sa.func.count(col(FundAllocation.id)),
            _sum_cents(),
        )
        .join(OrgUnit, col(OrgUnit.id) == col(FundAllocation.org_id))
        .where(col(OrgUnit.path).startswith(scope.path), FundAllocation.year == year)
        .group_by(col(FundAllocation.source), col(FundAllocation.purpose))
        .order_by(col(FundAllocation.purpose), col(FundAllocation.source))
    )
    return [
        FundTotal(FundSource(source), FundPurpose(purpose), int(count), _yuan(total))
        for source, purpose, count, total in rows.all()
    ]


async def orgs_named(*, db: AsyncSession, labels: list[str]) -> dict[str, list[OrgUnit]]:
    """The orgs each label names: the one with that code, else every one with that name."""
    if not labels:
        return {}
    rows = await db.exec(
        select(OrgUnit).where(sa.or_(col(OrgUnit.code).in_(labels), col(OrgUnit.name).in_(labels)))
    )
    found = list(rows.all())
    named: dict[str, list[OrgUnit]] = {}
    for label in labels:
        by_code = [org for org in found if org.code == label]
        named[label] = by_code or [org for org in found if org.name == label]
    return named
