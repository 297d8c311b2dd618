"""Helpers shared by the leaders' duty tests (not a test module): leaders on rosters with
contact points, visits written directly, and readers of what the database holds."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import col, select

from storage import Database
from storage import duties as store
from storage.models import ContactPoint, ContactVisit, Member, OrgUnit


async def contact_point(
    database: Database, leader: Member, org: OrgUnit, year: int, now: datetime
) -> int:
    """Give the leader a contact point directly (the /leaders tests cover the buttons)."""
    assert leader.id is not None
    assert org.id is not None
    async with database.session_scope() as db:
        point = await store.add_contact_point(
            db=db, leader_member_id=leader.id, org_id=org.id, year=year, now=now
        )
    assert point is not None
    assert point.id is not None
    return point.id


async def visit(database: Database, point_id: int, day: date, now: datetime) -> None:
    """A visit logged directly."""
    async with database.session_scope() as db:
        await store.add_visit(
            db=db,
            contact_point_id=point_id,
            visited_on=day,
            note="看了看",
            photo_ids=[],
            recorded_by=1,
            now=now,
        )


async def visits(database: Database) -> list[ContactVisit]:
    async with database.session_scope() as db:
        rows = await db.exec(select(ContactVisit).order_by(col(ContactVisit.id)))
        return list(rows.all())


async def points(database: Database) -> list[ContactPoint]:
    async with database.session_scope() as db:
        rows = await db.exec(select(ContactPoint).order_by(col(ContactPoint.id)))
        return list(rows.all())
