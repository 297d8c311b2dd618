"""The sandbox's demo county: one county, three townships, nine branches, 150 members.

Seeding writes only into a database without a county: the org tree, the rosters (most
members already linked to Telegram), the office holders, and the history before the moment
of seeding (demo/history.py) with every required meeting held, and each branch's next
meetings ahead with pending reminders, so the clock control has something to show and the
silent-branch ladder speaks only when the user lets a month pass without meetings.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from demo.duties import seed_funds_and_duties
from demo.history import History
from demo.plan import (
    CAST,
    DEMO_SEED,
    DemoPlan,
    PlannedMember,
    demo_data,
    plan_demo,
    roster_telegram_id,
)
from storage import accounts, audit, members, orgs, roles
from storage.models import Member, OrgKind, OrgUnit, Role


@dataclass(frozen=True, slots=True)
class DemoPerson:
    """A demo person as the sandbox shows them: a roster member with an account."""

    key: str
    role: Role | None
    name: str
    member_id: int
    telegram_user_id: int
    phone: str | None
    branch_name: str
    scope_name: str  # where the role applies (the branch for plain members)


async def seed_demo(
    *, db: AsyncSession, now: datetime, tz: ZoneInfo, seed: int = DEMO_SEED
) -> bool:
    """Write the demo county into an empty database; False (and nothing written) otherwise."""
    if await orgs.get_county(db=db) is not None:
        return False
    data = demo_data()
    plan = plan_demo(seed)
    rng = random.Random(seed + 1)
    county = await orgs.create_org(
        db=db, code=data.county_code, name=data.county_name, kind=OrgKind.COUNTY
    )
    assert county.id is not None
    by_code: dict[str, OrgUnit] = {county.code: county}
    people: dict[str, list[Member]] = {}
    for t in data.townships:
        township = await orgs.create_org(
            db=db, code=t.code, name=t.name, kind=OrgKind.TOWNSHIP, parent_id=county.id
        )
        by_code[t.code] = township
        for b in t.branches:
            branch = await orgs.create_org(
                db=db,
                code=b.code,
                name=b.name,
                kind=OrgKind.VILLAGE_BRANCH,
                parent_id=township.id,
            )
            by_code[b.code] = branch
            people[b.code] = await _seed_roster(db, branch, plan.rosters[b.code], now)
    officers = await _seed_offices(db, plan, by_code, people, now)
    history = History(db, rng, now, tz, officers)
    for code, roster in people.items():
        await history.sessions(by_code[code], roster, plan.rosters[code])
    for leading in (county, *(by_code[t.code] for t in data.townships)):
        await history.leadership(leading)
    await history.trainings(county, by_code)
    await history.notices(county, by_code)
    await seed_funds_and_duties(
        db=db, by_code=by_code, people=people, offices=plan.offices, now=now, tz=tz
    )
    await audit.record(
        db=db,
        actor=None,
        action="sandbox.seed",
        target_kind="org_unit",
        target_id=county.id,
        org_id=county.id,
        detail={"seed": seed, "members": sum(len(r) for r in people.values())},
        at=now,
    )
    return True


async def _seed_roster(
    db: AsyncSession, branch: OrgUnit, planned: Sequence[PlannedMember], now: datetime
) -> list[Member]:
    assert branch.id is not None
    roster: list[Member] = []
    for person in planned:
        member = await members.create_member(
            db=db,
            name=person.name,
            org_id=branch.id,
            status=person.status,
            gender=person.gender,
            phone=person.phone,
            joined_on=person.joined_on,
            now=now,
        )
        assert member.id is not None
        if person.registered:
            telegram_id = roster_telegram_id(member.id)
            await accounts.ensure_account(
                db=db, telegram_user_id=telegram_id, first_name=person.name, now=now
            )
            member = await members.link_telegram(
                db=db, member_id=member.id, telegram_user_id=telegram_id, now=now
            )
        roster.append(member)
    return roster


async def _seed_offices(
    db: AsyncSession,
    plan: DemoPlan,
    by_code: dict[str, OrgUnit],
    people: dict[str, list[Member]],
    now: datetime,
) -> dict[str, int]:
    """Grant the planned roles; returns org code -> Telegram id of who acts for that org."""
    acting: dict[str, int] = {}
    for office in plan.offices:
        member = people[office.branch_code][office.index]
        if office.role is None or office.scope_code is None or member.telegram_user_id is None:
            continue
        org = by_code[office.scope_code]
        assert org.id is not None
        await roles.grant_role(
            db=db,
            telegram_user_id=member.telegram_user_id,
            role=office.role,
            org_id=org.id,
            granted_by=None,
            now=now,
        )
        acting.setdefault(office.scope_code, member.telegram_user_id)
    return acting


async def demo_people(*, db: AsyncSession, seed: int = DEMO_SEED) -> list[DemoPerson]:
    """The cast as it stands in the database (found by branch and name), in page order."""
    plan = plan_demo(seed)
    found: list[DemoPerson] = []
    for cast in CAST:
        planned = plan.rosters[cast.branch_code][cast.index]
        row = (
            await db.exec(
                select(Member, OrgUnit)
                .join(OrgUnit, col(OrgUnit.id) == col(Member.org_id))
                .where(OrgUnit.code == cast.branch_code, Member.name == planned.name)
            )
        ).first()
        if row is None:
            continue
        member, branch = row
        if member.id is None or member.telegram_user_id is None:
            continue
        scope = branch
        if cast.scope_code is not None:
            scope = await orgs.get_org_by_code(db=db, code=cast.scope_code) or branch
        found.append(
            DemoPerson(
                key=cast.key,
                role=cast.role,
                name=member.name,
                member_id=member.id,
                telegram_user_id=member.telegram_user_id,
                phone=member.phone,
                branch_name=branch.name,
                scope_name=scope.name,
            )
        )
    return found
