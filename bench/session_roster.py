"""The session_roster job on a county of 5,000 members, against scheduling the sessions.

Every minute the job brings the invited lists of sessions not yet started in step with the
roster (bot.session_duties.follow_the_roster). Baseline: scheduling 800 coming sessions
(8 for each of 100 branches) the way /newsession does, which enrols and invites everyone
once. Measured against it: the job when nothing changed (its cost every minute), and the
job after 1% of the county joined and 1% moved branch. Also counted: the SQL statements
each run sends, which must not grow with the number of sessions or members.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from bench._table import Row
from bench.roster_import import counting_statements
from bot import session_ops
from bot.session_duties import follow_the_roster
from bot.session_ops import SessionPlan
from bot.settings import Settings, load_settings
from storage import Database, orgs, upgrade_to_head
from storage.models import (
    AudienceKind,
    Member,
    MemberStatus,
    OrgKind,
    OrgUnit,
    SessionKind,
    TelegramAccount,
)

TOWNSHIPS = 10
BRANCHES_PER_TOWNSHIP = 10
MEMBERS_PER_BRANCH = 50
SESSIONS_PER_BRANCH = 8
NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
FIRST_USER_ID = 5_000_000


async def build_county(database: Database) -> list[OrgUnit]:
    """The county, its townships and branches, and the members (four in five on Telegram)."""
    branches: list[OrgUnit] = []
    async with database.session_scope() as db:
        county = await orgs.create_org(db=db, code="C", name="红旗县", kind=OrgKind.COUNTY)
        for t in range(TOWNSHIPS):
            township = await orgs.create_org(
                db=db,
                code=f"T{t:02d}",
                name=f"第{t}镇党委",
                kind=OrgKind.TOWNSHIP,
                parent_id=county.id,
            )
            for b in range(BRANCHES_PER_TOWNSHIP):
                branches.append(
                    await orgs.create_org(
                        db=db,
                        code=f"T{t:02d}-V{b:02d}",
                        name=f"第{t}镇第{b}村党支部",
                        kind=OrgKind.VILLAGE_BRANCH,
                        parent_id=township.id,
                    )
                )
        await add_members(db, branches, MEMBERS_PER_BRANCH, start=0)
    return branches


async def add_members(db: AsyncSession, branches: list[OrgUnit], each: int, *, start: int) -> None:
    """``each`` members in every branch, numbered from ``start``."""
    n = start
    for branch in branches:
        assert branch.id is not None
        for _ in range(each):
            user_id = FIRST_USER_ID + n if n % 5 else None
            if user_id is not None:
                db.add(TelegramAccount(telegram_user_id=user_id, first_name=f"党员{n}"))
            db.add(
                Member(
                    name=f"党员{n:05d}",
                    org_id=branch.id,
                    status=MemberStatus.FULL,
                    telegram_user_id=user_id,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
            n += 1
    await db.flush()


async def schedule_all(database: Database, settings: Settings, branches: list[OrgUnit]) -> None:
    """Eight coming sessions for every branch, each in its own transaction like the form."""
    for branch in branches:
        assert branch.id is not None
        for week in range(SESSIONS_PER_BRANCH):
            plan = SessionPlan(
                org_id=branch.id,
                kind=SessionKind.THEME_PARTY_DAY,
                topic=f"第{week + 1}次学习",
                starts_at=NOW + timedelta(days=7 * week + 3),
                duration_minutes=90,
                place="村委会",
                audience_kind=AudienceKind.BRANCH,
                audience_org_id=branch.id,
                reminder_offsets=(24 * 60, 120),
            )
            async with database.session_scope() as db:
                await session_ops.schedule(
                    db=db,
                    plan=plan,
                    actor=1,
                    settings=settings,
                    now=NOW,
                )


async def run_job(database: Database, settings: Settings) -> tuple[float, int, list[str]]:
    """One run of the job: seconds, invitations queued, statements sent."""
    with counting_statements(database) as sent:
        start = time.perf_counter()
        async with database.session_scope() as db:
            queued = await follow_the_roster(db=db, settings=settings, now=NOW)
        elapsed = time.perf_counter() - start
    return elapsed, queued, sent


async def churn(database: Database, branches: list[OrgUnit]) -> None:
    """1% of the county joins (one in every other branch) and 1% moves to another branch."""
    async with database.session_scope() as db:
        await add_members(db, branches[::2], 1, start=100_000)
        movers = (await db.exec(select(col(Member.id)).order_by(col(Member.id)).limit(50))).all()
        await db.exec(
            update(Member).where(col(Member.id).in_(movers)).values(org_id=branches[-1].id)
        )


async def run(folder: Path) -> list[Row]:
    url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
    await asyncio.to_thread(upgrade_to_head, url)
    settings = load_settings(
        env_file=None,
        TELEGRAM_BOT_TOKEN="123456789:bench-token-not-used-AAAAAAAAAAAAAAAAAAA",
        PARTYBOT_DATABASE_URL=url,
    )
    database = Database(url)
    try:
        branches = await build_county(database)
        start = time.perf_counter()
        await schedule_all(database, settings, branches)
        baseline = time.perf_counter() - start
        sessions = len(branches) * SESSIONS_PER_BRANCH
        members = len(branches) * MEMBERS_PER_BRANCH
        print(
            f"baseline: scheduling {sessions} sessions for {members} members"
            f" (enrol + invite): {baseline:.2f} s"
        )
        steady = min([await run_job(database, settings) for _ in range(3)])
        await churn(database, branches)
        changed = await run_job(database, settings)
        table: list[Row] = []
        for label, (seconds, queued, sent) in (
            ("job, nothing changed", steady),
            ("job after 50 joined and 50 moved", changed),
        ):
            kinds = {kind: sent.count(kind) for kind in sorted(set(sent))}
            print(
                f"{label}: {seconds / baseline:.4f}x the baseline ({seconds * 1000:.0f} ms;"
                f" {queued} invitations queued; SQL statements {len(sent)}: {kinds})"
            )
            table.append(
                Row(
                    f"session_roster {label}, {members:,} members",
                    f"{seconds * 1000:.0f} ms, {len(sent)} statements",
                    f"{baseline:.1f} s scheduling {sessions} sessions",
                    f"{seconds / baseline:.3f}x",
                )
            )
        return table
    finally:
        await database.dispose()


def main() -> list[Row]:
    """Print the baseline and the job's runs as ratios of it."""
    with tempfile.TemporaryDirectory() as folder:
        return asyncio.run(run(Path(folder)))
