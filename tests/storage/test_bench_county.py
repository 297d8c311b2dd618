"""The benchmarks' synthetic county (bench/county.py) at a small size: what it writes."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from bench.county import CountyShape, build_county
from storage import Database
from storage.models.sessions import AttendanceOutcome, SessionState
from storage.reports import By, Scope, attendance

SHAPE = CountyShape(townships=2, branches=5, members=23, years=2, first_year=2024)
# Mid-2025: all of 2024 and half of 2025 lie in the past.
NOW = datetime(2025, 7, 1, tzinfo=UTC)


async def _scalar(database: Database, sql: str) -> int:
    async with database.session_scope() as db:
        return int((await db.exec(sa.text(sql))).scalar_one())  # type: ignore[call-overload]


async def test_the_generator_writes_the_shape_it_is_given(database: Database) -> None:
    branches = await build_county(database, SHAPE, now=NOW)

    assert len(branches) == 5
    kinds = "SELECT kind || ':' || count(*) FROM org_unit GROUP BY kind ORDER BY kind"
    async with database.session_scope() as db:
        rows = (await db.exec(sa.text(kinds))).scalars().all()  # type: ignore[call-overload]
    assert rows == ["county:1", "township:2", "village_branch:5"]
    assert await _scalar(database, "SELECT count(*) FROM member") == 23
    # Four in five on Telegram: every member numbered not divisible by 5 (18 of 23).
    assert await _scalar(database, "SELECT count(*) FROM telegram_account") == 18
    assert await _scalar(database, "SELECT count(*) FROM study_session") == SHAPE.sessions == 200
    # 40 sessions a branch; three branches of 5 members and two of 4: 40 * 23.
    assert await _scalar(database, "SELECT count(*) FROM attendance") == SHAPE.attendance == 920
    # Nobody is invited to another branch's session.
    stray = (
        "SELECT count(*) FROM attendance a JOIN study_session s ON s.id = a.session_id"
        " JOIN member m ON m.id = a.member_id WHERE m.org_id != s.org_id"
    )
    assert await _scalar(database, stray) == 0


async def test_past_sessions_are_closed_with_outcomes_and_later_ones_pending(
    database: Database,
) -> None:
    await build_county(database, SHAPE, now=NOW)

    closed = f"SELECT count(*) FROM study_session WHERE state = '{SessionState.CLOSED.value}'"
    # 2024's 20 sessions a branch and 2025's before July (6 party days, 2 + 2 quarterly).
    assert await _scalar(database, closed) == 5 * (20 + 10)
    pending = (
        "SELECT count(*) FROM attendance a JOIN study_session s ON s.id = a.session_id"
        f" WHERE a.outcome = '{AttendanceOutcome.PENDING.value}'"
    )
    assert await _scalar(database, pending) == 23 * 10
    async with database.session_scope() as db:
        found = await db.exec(sa.text("SELECT id, path FROM org_unit WHERE code = 'C'"))  # type: ignore[call-overload]
        county = found.one()
        figures = await attendance(
            db=db,
            scope=Scope(county[0], county[1], By.WHOLE),
            start=datetime(2024, 1, 1, tzinfo=UTC),
            end=datetime(2026, 1, 1, tzinfo=UTC),
        )
    whole = figures[county[0]]
    assert whole.invited == 23 * 30
    assert whole.present + whole.excused + whole.absent == whole.invited
    assert 0.6 < whole.present / whole.invited < 0.9
    assert 0 < whole.makeup_done < whole.makeup_owed == whole.excused + whole.absent
