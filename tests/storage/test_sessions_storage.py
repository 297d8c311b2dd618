"""The sessions aggregate in SQL, on SQLite and on PostgreSQL: audiences, one-row answers,
finalising, counts, rates, absence streaks, when each kind was last held, the ladder rows."""

from __future__ import annotations

import functools
from collections.abc import Awaitable
from datetime import UTC, date, datetime, timedelta

import pytest

from storage import Database, accounts, attendance, escalations, members, sessions
from storage.models import (
    Attendance,
    AttendanceOutcome,
    AudienceKind,
    CheckinMethod,
    LeaveReason,
    MemberStatus,
    ReminderState,
    SessionKind,
    SessionState,
    StudySession,
)
from tests.support.storage import build_tree

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest) -> Database:
    """The migrated database of each dialect (PostgreSQL only where a server is given)."""
    name = "sqlite_db" if request.param == "sqlite" else "pg_db"
    found: Database = request.getfixturevalue(name)
    return found


@pytest.fixture
async def ids(database: Database) -> dict[str, int]:
    found = await build_tree(database)
    async with database.session_scope() as db:
        for key, org, group in (
            ("a", "v1", "g1"),
            ("b", "v1", None),
            ("c", "v2", None),
            ("d", "v3", None),
        ):
            member = await members.create_member(
                db=db,
                name=key,
                org_id=found[org],
                status=MemberStatus.FULL,
                party_group_id=found[group] if group else None,
            )
            assert member.id is not None
            found[key] = member.id
    return found


async def new_session(
    database: Database,
    org_id: int,
    *,
    audience: AudienceKind = AudienceKind.BRANCH,
    audience_org_id: int | None = None,
    starts_at: datetime = NOW + timedelta(days=1),
    kind: SessionKind = SessionKind.BRANCH_COMMITTEE_MEETING,
) -> int:
    async with database.session_scope() as db:
        study = await sessions.create_session(
            db=db,
            org_id=org_id,
            kind=kind,
            topic="t",
            starts_at=starts_at,
            duration_minutes=60,
            place="p",
            audience_kind=audience,
            audience_org_id=audience_org_id or org_id,
            created_by=1,
            reminders=[(120, starts_at - timedelta(hours=2), ReminderState.PENDING)],
            now=NOW,
        )
    assert study.id is not None
    return study.id


async def invited(database: Database, session_id: int) -> set[int]:
    async with database.session_scope() as db:
        return {p.member_id for p in await attendance.invitees(db=db, session_id=session_id)}


async def test_audiences_resolve_in_sql(database: Database, ids: dict[str, int]) -> None:
    branch = await new_session(database, ids["v1"])
    group = await new_session(
        database, ids["v1"], audience=AudienceKind.PARTY_GROUP, audience_org_id=ids["g1"]
    )
    township = await new_session(database, ids["t1"], audience=AudienceKind.SUBTREE)
    county = await new_session(database, ids["county"], audience=AudienceKind.SUBTREE)
    assert await invited(database, branch) == {ids["a"], ids["b"]}
    assert await invited(database, group) == {ids["a"]}
    assert await invited(database, township) == {ids["a"], ids["b"], ids["c"]}
    assert await invited(database, county) == {ids["a"], ids["b"], ids["c"], ids["d"]}


async def test_answers_change_once_and_outcomes_are_final(
    database: Database, ids: dict[str, int]
) -> None:
    session_id = await new_session(database, ids["v1"])
    async with database.session_scope() as db:
        a = await attendance.get_attendance(db=db, session_id=session_id, member_id=ids["a"])
        b = await attendance.get_attendance(db=db, session_id=session_id, member_id=ids["b"])
        assert a is not None
        assert b is not None
        assert a.id is not None
        assert b.id is not None
        assert await attendance.set_rsvp(db=db, attendance_id=a.id, now=NOW)
        assert not await attendance.set_rsvp(db=db, attendance_id=a.id, now=NOW)
        assert await attendance.check_in(
            db=db, attendance_id=a.id, method=CheckinMethod.QR, now=NOW
        )
        assert not await attendance.check_in(
            db=db, attendance_id=a.id, method=CheckinMethod.CODE, now=NOW
        )
        assert await attendance.request_leave(
            db=db, attendance_id=b.id, reason=LeaveReason.FARMING, note=None, now=NOW
        )
        assert not await attendance.request_leave(
            db=db, attendance_id=b.id, reason=LeaveReason.SICK, note=None, now=NOW
        )
        assert await attendance.decide_leave(
            db=db, attendance_id=b.id, approve=True, decided_by=7, now=NOW
        )
        assert not await attendance.decide_leave(
            db=db, attendance_id=b.id, approve=False, decided_by=8, now=NOW
        )
        counts = await attendance.attendance_counts(db=db, session_id=session_id)
        assert counts == attendance.AttendanceCounts(2, 1, 0, 0, 1, 1, 0, 0)
        assert await attendance.finalise_session(db=db, session_id=session_id, now=NOW)
        assert not await attendance.finalise_session(db=db, session_id=session_id, now=NOW)
    async with database.session_scope() as db:
        people = {p.member_id: p for p in await attendance.invitees(db=db, session_id=session_id)}
        study = await sessions.get_session(db=db, session_id=session_id)
    assert study is not None
    assert study.state == SessionState.CLOSED
    assert people[ids["a"]].outcome == AttendanceOutcome.PRESENT
    assert people[ids["b"]].outcome == AttendanceOutcome.EXCUSED


async def test_rates_streaks_and_last_held(database: Database, ids: dict[str, int]) -> None:
    for week in range(4):
        session_id = await new_session(
            database, ids["v1"], starts_at=NOW - timedelta(days=7 * (4 - week))
        )
        async with database.session_scope() as db:
            if week == 0:
                row = await attendance.get_attendance(
                    db=db, session_id=session_id, member_id=ids["b"]
                )
                assert row is not None
                assert row.id is not None
                await attendance.check_in(
                    db=db, attendance_id=row.id, method=CheckinMethod.PROXY, now=NOW
                )
            await attendance.finalise_session(db=db, session_id=session_id, now=NOW)
    async with database.session_scope() as db:
        assert await attendance.attendance_rate(db=db, member_id=ids["b"], year=2026) == 0.25
        assert await attendance.attendance_rate(db=db, member_id=ids["b"], year=2025) is None
        # a: absent four times (no longer exactly three); b: three after one present.
        assert await attendance.absence_streaks(
            db=db, member_ids=[ids["a"], ids["b"]], length=3
        ) == [ids["b"]]
        held = await escalations.last_held(db=db, now=NOW)
        assert held == {(ids["v1"], SessionKind.BRANCH_COMMITTEE_MEETING): NOW - timedelta(days=7)}
        assert await escalations.first_session_created_at(db=db) == NOW


async def test_a_ladder_row_is_opened_once_and_climbs_once_per_step(
    database: Database, ids: dict[str, int]
) -> None:
    kind = SessionKind.PARTY_LESSON
    async with database.session_scope() as db:
        assert await escalations.open_escalation(
            db=db, org_id=ids["v1"], kind=kind, period_start=date(2026, 1, 1), now=NOW
        )
        assert not await escalations.open_escalation(
            db=db, org_id=ids["v1"], kind=kind, period_start=date(2026, 1, 1), now=NOW
        )
        [row] = await escalations.open_escalations(db=db)
        assert row.id is not None
        assert await escalations.step_escalation(
            db=db, escalation_id=row.id, from_level=1, now=NOW
        )
        assert not await escalations.step_escalation(
            db=db, escalation_id=row.id, from_level=1, now=NOW
        )
        await escalations.resolve_escalation(db=db, escalation_id=row.id, now=NOW)
        assert await escalations.open_escalations(db=db) == []


async def test_own_row_reads_the_same_on_a_plain_connection(
    database: Database, ids: dict[str, int]
) -> None:
    """A 签到 tap decides from `own_row_on` through `Database.read_sync` (no transaction):
    the same session and row as `own_row`, every column loaded on detached objects,
    committed changes seen at once; nobody's row for an unknown or inactive account."""
    async with database.session_scope() as db:
        for account in (501, 502):
            await accounts.ensure_account(db=db, telegram_user_id=account, first_name="x", now=NOW)
        member = await members.create_member(
            db=db, name="e", org_id=ids["v1"], status=MemberStatus.FULL, telegram_user_id=501
        )
        gone = await members.create_member(
            db=db, name="f", org_id=ids["v1"], status=MemberStatus.FULL, telegram_user_id=502
        )
    session_id = await new_session(database, ids["v1"])
    async with database.session_scope() as db:
        gone.active = False
        db.add(gone)

    def plain(telegram_user_id: int) -> Awaitable[tuple[StudySession, Attendance] | None]:
        return database.read_sync(
            functools.partial(
                attendance.own_row_on, session_id=session_id, telegram_user_id=telegram_user_id
            )
        )

    found = await plain(501)
    assert found is not None
    study, row = found
    assert (study.id, study.topic, study.starts_at) == (session_id, "t", NOW + timedelta(days=1))
    assert (row.member_id, row.checked_in_at, row.checkin_failures) == (member.id, None, 0)
    async with database.session_scope() as db:
        pooled = await attendance.own_row(db=db, session_id=session_id, telegram_user_id=501)
        assert pooled is not None
        assert pooled[1].id == row.id
        assert await attendance.check_in(
            db=db, attendance_id=row.id or 0, method=CheckinMethod.CODE, now=NOW
        )
    again = await plain(501)
    assert again is not None
    assert again[1].checked_in_at == NOW
    assert await plain(502) is None  # left the roster
    assert await plain(999) is None  # never on it
