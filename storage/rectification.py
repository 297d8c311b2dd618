"""Rectification orders (限期整改) aggregate: the order, the branch's progress reports, and
the ladder's claims (reminded once, escalated a level at a time).

A claim is one conditional UPDATE whose row count says whether this run made it, so two
runs (or a run after a restart) never take the same step twice. Days are the people's
calendar days, computed by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models.assessments import (
    RectificationOrder,
    RectificationReport,
    RectificationState,
)
from storage.models.orgs import OrgUnit

__all__ = [
    "OrderView",
    "add_report",
    "claim_reminder",
    "close_order",
    "create_order",
    "get_order",
    "ladder_candidates",
    "next_ladder_days",
    "order_view",
    "orders_under",
    "reminders_due",
    "reports_of",
    "step_level",
]

_OPEN = (RectificationState.OPEN, RectificationState.OVERDUE)


@dataclass(frozen=True, slots=True)
class OrderView:
    """An order with its branch (name, path, the unit above it) and how many reports."""

    order: RectificationOrder
    org_name: str
    org_path: str
    parent_id: int | None
    reports: int

    @property
    def id(self) -> int:
        assert self.order.id is not None
        return self.order.id


async def create_order(
    *,
    db: AsyncSession,
    org_id: int,
    year: int,
    criticism: str,
    actions: str,
    issued_on: date,
    deadline: date,
    remind_on: date | None,
    issued_by: int,
) -> RectificationOrder:
    """A new open order with its notice of criticism."""
    order = RectificationOrder(
        org_id=org_id,
        year=year,
        reason=criticism,
        criticised=True,
        actions=actions,
        issued_on=issued_on,
        deadline=deadline,
        remind_on=remind_on,
        issued_by=issued_by,
    )
    db.add(order)
    await db.flush()
    return order


async def get_order(*, db: AsyncSession, order_id: int) -> RectificationOrder | None:
    """The order with this id, as the database holds it now."""
    result = await db.exec(
        select(RectificationOrder)
        .where(col(RectificationOrder.id) == order_id)
        .execution_options(populate_existing=True)
    )
    return result.first()


def _views() -> Any:
    """Orders with their branch and the count of their reports, as a select to narrow."""
    reports = (
        select(sa.func.count(col(RectificationReport.id)))
        .where(col(RectificationReport.order_id) == col(RectificationOrder.id))
        .correlate(RectificationOrder)
        .scalar_subquery()
    )
    return (
        sa.select(
            RectificationOrder,
            col(OrgUnit.name),
            col(OrgUnit.path),
            col(OrgUnit.parent_id),
            reports,
        )
        .join(OrgUnit, col(OrgUnit.id) == col(RectificationOrder.org_id))
        .execution_options(populate_existing=True)
    )


async def _view_rows(db: AsyncSession, stmt: sa.Select[tuple[object, ...]]) -> list[OrderView]:
    result = await db.exec(stmt)  # type: ignore[call-overload]
    return [
        OrderView(order, str(name), str(path), parent, int(count))
        for order, name, path, parent, count in result.all()
    ]


async def order_view(*, db: AsyncSession, order_id: int) -> OrderView | None:
    """One order with its branch, if it exists."""
    found = await _view_rows(db, _views().where(col(RectificationOrder.id) == order_id))
    return found[0] if found else None


async def orders_under(
    *, db: AsyncSession, path: str, open_only: bool, limit: int
) -> list[OrderView]:
    """Orders of the branches under ``path``: the earliest deadline first."""
    stmt = _views().where(col(OrgUnit.path).startswith(path))
    if open_only:
        stmt = stmt.where(col(RectificationOrder.state).in_(_OPEN))
    stmt = stmt.order_by(col(RectificationOrder.deadline), col(RectificationOrder.id)).limit(limit)
    return await _view_rows(db, stmt)


async def add_report(
    *,
    db: AsyncSession,
    order_id: int,
    note: str,
    photo_ids: list[str],
    reported_by: int,
    now: datetime,
) -> RectificationReport:
    """The branch's progress on an order."""
    report = RectificationReport(
        order_id=order_id,
        note=note,
        photo_ids=photo_ids or None,
        reported_by=reported_by,
        reported_at=now,
    )
    db.add(report)
    await db.flush()
    return report


async def reports_of(*, db: AsyncSession, order_id: int) -> list[RectificationReport]:
    """The progress reports of an order, oldest first."""
    result = await db.exec(
        select(RectificationReport)
        .where(col(RectificationReport.order_id) == order_id)
        .order_by(col(RectificationReport.reported_at), col(RectificationReport.id))
    )
    return list(result.all())


async def close_order(
    *,
    db: AsyncSession,
    order_id: int,
    closed_by: int,
    note: str,
    photo_ids: list[str],
    now: datetime,
) -> bool:
    """Close an open (or overdue) order with its evidence; False if it was closed already."""
    result = await db.exec(
        update(RectificationOrder)
        .where(
            col(RectificationOrder.id) == order_id,
            col(RectificationOrder.state).in_(_OPEN),
        )
        .values(
            state=RectificationState.DONE,
            closed_at=now,
            closed_by=closed_by,
            closed_note=note,
            closed_photo_ids=photo_ids or None,
        )
    )
    return bool(result.rowcount)


# --- the ladder ---------------------------------------------------------------------------


async def reminders_due(*, db: AsyncSession, day: date) -> list[OrderView]:
    """Open orders whose reminder day has come and whose secretary was not reminded."""
    return await _view_rows(
        db,
        _views()
        .where(
            col(RectificationOrder.state) == RectificationState.OPEN,
            col(RectificationOrder.reminded_at).is_(None),
            col(RectificationOrder.remind_on) <= day,
        )
        .order_by(col(RectificationOrder.id)),
    )


async def claim_reminder(*, db: AsyncSession, order_id: int, now: datetime) -> bool:
    """Mark the order reminded; False if another run did (or it was closed meanwhile)."""
    result = await db.exec(
        update(RectificationOrder)
        .where(
            col(RectificationOrder.id) == order_id,
            col(RectificationOrder.state) == RectificationState.OPEN,
            col(RectificationOrder.reminded_at).is_(None),
        )
        .values(reminded_at=now)
    )
    return bool(result.rowcount)


async def ladder_candidates(
    *, db: AsyncSession, level: int, deadline_before: date
) -> list[OrderView]:
    """Orders not closed, at ``level``, whose deadline lies before ``deadline_before``."""
    return await _view_rows(
        db,
        _views()
        .where(
            col(RectificationOrder.state).in_(_OPEN),
            col(RectificationOrder.level) == level,
            col(RectificationOrder.deadline) < deadline_before,
        )
        .order_by(col(RectificationOrder.id)),
    )


async def step_level(*, db: AsyncSession, order_id: int, from_level: int, to_level: int) -> bool:
    """Escalate an order not closed (it is overdue now); False if another run did."""
    result = await db.exec(
        update(RectificationOrder)
        .where(
            col(RectificationOrder.id) == order_id,
            col(RectificationOrder.level) == from_level,
            col(RectificationOrder.state).in_(_OPEN),
        )
        .values(level=to_level, state=RectificationState.OVERDUE)
    )
    return bool(result.rowcount)


async def next_ladder_days(*, db: AsyncSession, after: date, county_after_days: int) -> list[date]:
    """The first ladder days after ``after`` on which a step would be taken, as the
    database stands now: a reminder (on ``remind_on``), the township (the day after the
    deadline), the county (``county_after_days`` later). Minima in SQL."""
    not_closed = col(RectificationOrder.state).in_(_OPEN)
    remind = await db.exec(
        select(sa.func.min(col(RectificationOrder.remind_on))).where(
            col(RectificationOrder.state) == RectificationState.OPEN,
            col(RectificationOrder.reminded_at).is_(None),
            col(RectificationOrder.remind_on) > after,
        )
    )
    township = await db.exec(
        select(sa.func.min(col(RectificationOrder.deadline))).where(
            not_closed,
            col(RectificationOrder.level) == 0,
            col(RectificationOrder.deadline) >= after,
        )
    )
    county = await db.exec(
        select(sa.func.min(col(RectificationOrder.deadline))).where(
            not_closed,
            col(RectificationOrder.level) == 1,
            col(RectificationOrder.deadline) >= after - timedelta(days=county_after_days),
        )
    )
    days = [remind.one()]
    first_township, first_county = township.one(), county.one()
    if first_township is not None:
        days.append(first_township + timedelta(days=1))
    if first_county is not None:
        days.append(first_county + timedelta(days=county_after_days + 1))
    return [day for day in days if day is not None]
