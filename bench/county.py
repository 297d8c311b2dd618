"""A synthetic county for benchmarks (and, at small size, for tests): orgs, members,
years of sessions and their attendance, written in bulk.

Org units go through ``storage.orgs.create_org`` (a few hundred; it fills the materialised
path the reports rely on). Members, their Telegram accounts and the sessions go in as
Core ``executemany`` INSERTs; attendance is one ``INSERT … SELECT`` crossing each session
with its branch's members, so 1.5 million rows never pass through Python. Outcomes are a
deterministic function of (session, member): about 75% present, 10% excused, 15% absent,
half of the make-up study owed done. Not generated: notices, trainings, funds, duties.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import Database, orgs
from storage._sql import table_of
from storage.models import (
    AudienceKind,
    Language,
    Member,
    MemberStatus,
    OrgKind,
    SessionKind,
    TelegramAccount,
)
from storage.models.sessions import (
    Attendance,
    AttendanceOutcome,
    Rsvp,
    SessionState,
    StudySession,
)
from storage.types import UTCDateTime

__all__ = ["SESSIONS_A_YEAR", "CountyShape", "build_county"]

FIRST_USER_ID = 7_000_000
CREATOR = 1
# A branch's year: a theme party day every month, a general meeting and a party lesson
# every quarter (三会一课 as the reports judge it): 20 sessions.
SESSIONS_A_YEAR: tuple[tuple[SessionKind, int], ...] = (
    (SessionKind.THEME_PARTY_DAY, 12),
    (SessionKind.BRANCH_GENERAL_MEETING, 4),
    (SessionKind.PARTY_LESSON, 4),
)
_BATCH = 5_000


@dataclass(frozen=True, slots=True)
class CountyShape:
    """How big a county to make. Members are spread evenly over the branches; the years
    are the calendar years ``first_year`` … ``first_year + years - 1`` (UTC)."""

    townships: int = 20
    branches: int = 300
    members: int = 15_000
    years: int = 5
    first_year: int = 2021

    @property
    def sessions(self) -> int:
        return self.branches * self.years * sum(n for _, n in SESSIONS_A_YEAR)

    @property
    def attendance(self) -> int:
        """Rows the generator writes: every member invited to every session of their branch."""
        per_branch, extra = divmod(self.members, self.branches)
        per_year = sum(n for _, n in SESSIONS_A_YEAR)
        return per_year * self.years * (per_branch * self.branches + extra)


def _utc(moment: datetime) -> Any:
    return sa.literal(moment, type_=UTCDateTime())


async def _many(db: AsyncSession, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """INSERT ``rows`` in batches (executemany)."""
    connection = await db.connection()
    for first in range(0, len(rows), _BATCH):
        await connection.execute(table.insert(), rows[first : first + _BATCH])


async def _orgs(db: AsyncSession, shape: CountyShape) -> list[int]:
    """The county, its townships and the branches dealt out among them; the branch ids."""
    county = await orgs.create_org(db=db, code="C", name="红旗县", kind=OrgKind.COUNTY)
    townships = [
        await orgs.create_org(
            db=db,
            code=f"T{t:03d}",
            name=f"第{t + 1}镇党委",
            kind=OrgKind.TOWNSHIP,
            parent_id=county.id,
        )
        for t in range(shape.townships)
    ]
    branches: list[int] = []
    for b in range(shape.branches):
        branch = await orgs.create_org(
            db=db,
            code=f"B{b:04d}",
            name=f"第{b + 1}村党支部",
            kind=OrgKind.VILLAGE_BRANCH,
            parent_id=townships[b % shape.townships].id,
        )
        assert branch.id is not None
        branches.append(branch.id)
    return branches


async def _members(
    db: AsyncSession, shape: CountyShape, branches: list[int], now: datetime
) -> None:
    """Members round-robin over the branches, four in five on Telegram."""
    accounts: list[dict[str, Any]] = []
    members: list[dict[str, Any]] = []
    for n in range(shape.members):
        user_id = FIRST_USER_ID + n if n % 5 else None
        if user_id is not None:
            accounts.append(
                {
                    "telegram_user_id": user_id,
                    "first_name": f"党员{n}",
                    "language": Language.ZH,
                    "language_chosen": False,
                    "created_at": now,
                    "last_seen_at": now,
                }
            )
        members.append(
            {
                "name": f"党员{n:05d}",
                "status": MemberStatus.FULL,
                "org_id": branches[n % len(branches)],
                "telegram_user_id": user_id,
                "active": True,
                "created_at": now,
                "updated_at": now,
            }
        )
    await _many(db, table_of(TelegramAccount), accounts)
    await _many(db, table_of(Member), members)


async def _sessions(
    db: AsyncSession, shape: CountyShape, branches: list[int], now: datetime
) -> None:
    """Every branch's sessions of every year, spread over the year at 09:00 local (01:00 UTC)."""
    rows: list[dict[str, Any]] = []
    for branch in branches:
        for year in range(shape.first_year, shape.first_year + shape.years):
            for kind, count in SESSIONS_A_YEAR:
                for i in range(count):
                    month = 1 + i * 12 // count
                    day = 5 + branch % 20
                    starts_at = datetime(year, month, day, 1, 0, tzinfo=UTC)
                    rows.append(
                        {
                            "org_id": branch,
                            "kind": kind,
                            "topic": f"{year}年第{i + 1}次",
                            "starts_at": starts_at,
                            "duration_minutes": 90,
                            "place": "村委会",
                            "audience_kind": AudienceKind.BRANCH,
                            "audience_org_id": branch,
                            "state": SessionState.CLOSED
                            if starts_at < now
                            else SessionState.SCHEDULED,
                            "created_by": CREATOR,
                            "created_at": starts_at - timedelta(days=7),
                            "updated_at": starts_at - timedelta(days=7),
                        }
                    )
    await _many(db, table_of(StudySession), rows)


async def _attendance(db: AsyncSession, now: datetime) -> None:
    """One row per (session, member of its branch), outcome fixed by the pair's ids."""
    attendance, study, member = table_of(Attendance), table_of(StudySession), table_of(Member)
    bucket = (study.c.id * 31 + member.c.id * 17) % 20
    past = study.c.starts_at < _utc(now)
    outcome = sa.case(
        (~past, AttendanceOutcome.PENDING.value),
        (bucket < 15, AttendanceOutcome.PRESENT.value),
        (bucket < 17, AttendanceOutcome.EXCUSED.value),
        else_=AttendanceOutcome.ABSENT.value,
    )
    made_up = sa.case((sa.and_(past, bucket >= 15, bucket % 2 == 1), study.c.starts_at))
    source = sa.select(
        study.c.id,
        member.c.id,
        sa.literal(Rsvp.NONE.value),
        outcome,
        sa.case((member.c.telegram_user_id.is_not(None), study.c.created_at)),
        made_up,
        study.c.starts_at,
        sa.literal(0),
    ).join(member, member.c.org_id == study.c.audience_org_id)
    columns = [
        "session_id",
        "member_id",
        "rsvp",
        "outcome",
        "invited_at",
        "makeup_done_at",
        "updated_at",
        "checkin_failures",
    ]
    connection = await db.connection()
    await connection.execute(attendance.insert().from_select(columns, source))


async def build_county(database: Database, shape: CountyShape, *, now: datetime) -> list[int]:
    """Write the county into an empty, migrated database; the branch ids. Sessions before
    ``now`` are closed with their outcomes, later ones scheduled with outcomes pending."""
    async with database.session_scope() as db:
        branches = await _orgs(db, shape)
        await _members(db, shape, branches, now)
        await _sessions(db, shape, branches, now)
        await _attendance(db, now)
    return branches
