"""The demo county's training funds and leaders' duties, so /funds, /duties and /visit
have something to show in the sandbox.

Funds for the current year: municipal and county money at the county, township money at
each township, a little at some branches, so one township stays below the 30-yuan floor.
Every township's organiser and the county staff member are leaders with a contact point
(each one or two visits already), one township and one village are demonstration sites.
The contact points are set up at the moment of seeding, so no reminder rung that fell due
earlier in the year is held against them: a fresh demo starts quiet.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Final
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from demo.plan import CastRole
from storage import duties, funds
from storage.models import FundPurpose, FundSource, Member, OrgUnit, Role

#: (org code, source, purpose, yuan): the year's money as the county recorded it.
FUNDS: Final[tuple[tuple[str, FundSource, FundPurpose, str], ...]] = (
    ("C", FundSource.MUNICIPAL, FundPurpose.TRAINING, "1800.00"),
    ("C", FundSource.COUNTY, FundPurpose.TRAINING, "1200.00"),
    ("T01", FundSource.TOWNSHIP, FundPurpose.TRAINING, "1000.00"),
    ("T02", FundSource.TOWNSHIP, FundPurpose.TRAINING, "900.00"),
    ("T03", FundSource.TOWNSHIP, FundPurpose.TRAINING, "200.00"),
    ("T01-V01", FundSource.COUNTY, FundPurpose.INFRASTRUCTURE, "50000.00"),
    ("T02", FundSource.COUNTY, FundPurpose.OFFICE, "8000.00"),
)
#: Where each leader's contact point is (by the township or county he serves) and how
#: many visits he has made so far.
CONTACTS: Final[dict[str, tuple[str, int]]] = {
    "C": ("T03-V02", 1),
    "T01": ("T01-V03", 2),
    "T02": ("T02-V02", 1),
    "T03": ("T03-V01", 0),
}
SITES: Final = ("T01", "T01-V01")
VISIT_NOTES: Final = ("查看党员活动室和三会一课记录", "与支部书记谈心谈话，了解产业发展")


async def seed_funds_and_duties(
    *,
    db: AsyncSession,
    by_code: dict[str, OrgUnit],
    people: dict[str, list[Member]],
    offices: Sequence[CastRole],
    now: datetime,
    tz: ZoneInfo,
) -> None:
    """Write the year's funds, contact points with visits, and demonstration sites."""
    year = now.astimezone(tz).year
    for code, source, purpose, amount in FUNDS:
        await funds.record_fund(
            db=db,
            org_id=_id(by_code[code]),
            year=year,
            source=source,
            purpose=purpose,
            amount_yuan=Decimal(amount),
            recorded_by=None,
            note=None,
            now=now,
        )
    leaders = {
        office.scope_code: people[office.branch_code][office.index]
        for office in offices
        if office.role in (Role.COUNTY_STAFF, Role.TOWNSHIP_ORGANISER) and office.scope_code
    }
    today = now.astimezone(tz).date()
    for scope, (code, visits) in CONTACTS.items():
        leader = leaders.get(scope)
        if leader is None or leader.id is None:
            continue
        point = await duties.add_contact_point(
            db=db,
            leader_member_id=leader.id,
            org_id=_id(by_code[code]),
            year=year,
            now=now,
        )
        if point is None or point.id is None:
            continue
        for number in range(visits):
            await duties.add_visit(
                db=db,
                contact_point_id=point.id,
                visited_on=_days_back(today, 20 + 30 * number),
                note=VISIT_NOTES[number % len(VISIT_NOTES)],
                photo_ids=[],
                recorded_by=leader.telegram_user_id or 0,
                now=now,
            )
    for code in SITES:
        await duties.add_site(
            db=db, org_id=_id(by_code[code]), year=year, created_by=None, now=now
        )


def _days_back(today: date, days: int) -> date:
    """A past day of this year (the first of January at the earliest)."""
    return max(today - timedelta(days=days), today.replace(month=1, day=1))


def _id(org: OrgUnit) -> int:
    assert org.id is not None
    return org.id
