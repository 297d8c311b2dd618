"""The demo county: its size, its history, its cast, and that it is seeded only once."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import ManualClock
from bot.duties import queue_duty_reminders
from bot.periods import Period
from bot.summary import build_summary
from bot.trainings import remind_due
from demo.county import demo_people, seed_demo
from demo.plan import CAST, plan_demo, roster_telegram_id
from schedules.sessions import job_follow_the_roster, job_silent_ladder
from storage import Database, orgs, roles
from storage.models import Role
from tests.support.sandbox import (
    START,
    copy_template,
    sandbox_settings,
    seeded_template,
    url_of,
)

CHINESE_NAME = re.compile(r"^[\u4e00-\u9fff]{2,3}$")


@pytest.fixture
def template() -> Path:
    """The seeded database (made outside the event loop: seeding runs its own)."""
    return seeded_template()


@pytest.fixture
async def seeded(template: Path, tmp_path: Path) -> AsyncIterator[Database]:
    """A copy of the demo database seeded at START."""
    database = Database(url_of(copy_template(template, tmp_path)))
    yield database
    await database.dispose()


async def _count(db: AsyncSession, sql: str) -> int:
    return int((await db.exec(sa.text(sql))).one()[0])  # type: ignore[call-overload]


async def _counts(database: Database) -> dict[str, int]:
    queries = {
        "counties": "SELECT count(*) FROM org_unit WHERE kind = 'county'",
        "townships": "SELECT count(*) FROM org_unit WHERE kind = 'township'",
        "branches": "SELECT count(*) FROM org_unit WHERE kind = 'village_branch'",
        "members": "SELECT count(*) FROM member",
        "accounts": "SELECT count(*) FROM telegram_account",
        "linked": "SELECT count(*) FROM member WHERE telegram_user_id IS NOT NULL",
        "closed": "SELECT count(*) FROM study_session WHERE state = 'closed'",
        "upcoming": "SELECT count(*) FROM study_session WHERE state = 'scheduled'",
        "attendance": "SELECT count(*) FROM attendance",
        "present": "SELECT count(*) FROM attendance WHERE outcome = 'present'",
        "excused": "SELECT count(*) FROM attendance WHERE outcome = 'excused'",
        "absent": "SELECT count(*) FROM attendance WHERE outcome = 'absent'",
        "pending_reminders": "SELECT count(*) FROM session_reminder WHERE state = 'pending'",
        "trainings": "SELECT count(*) FROM training",
        "confirmations": "SELECT count(*) FROM training_confirmation",
        "notices": "SELECT count(*) FROM notice",
        "deliveries": "SELECT count(*) FROM delivery",
        "acked": "SELECT count(*) FROM delivery WHERE acknowledged_at IS NOT NULL",
        "audit": "SELECT count(*) FROM audit_log WHERE action = 'sandbox.seed'",
        "funds": "SELECT count(*) FROM fund_allocation",
        "contact_points": "SELECT count(*) FROM contact_point",
        "visits": "SELECT count(*) FROM contact_visit",
        "sites": "SELECT count(*) FROM demonstration_site",
    }
    async with database.session_scope() as db:
        return {name: await _count(db, sql) for name, sql in queries.items()}


async def test_the_demo_county_is_seeded_once_with_months_of_history(
    database: Database,
) -> None:
    tz = sandbox_settings().tz
    async with database.session_scope() as db:
        assert await seed_demo(db=db, now=START, tz=tz) is True
    counts = await _counts(database)
    assert (counts["counties"], counts["townships"], counts["branches"]) == (1, 3, 9)
    assert counts["members"] == 150
    assert counts["linked"] == counts["accounts"]
    assert 80 <= counts["linked"] < 150  # most, not all, members use Telegram
    # Per branch: three theme party days, three committee meetings, a party lesson and a
    # general meeting in each of the two quarters the three months touch (Dec; Jan-Feb),
    # held; this month's committee meeting and the next theme day ahead.
    # Per leading group (3 townships, the county): a special study and a report hearing.
    assert (counts["closed"], counts["upcoming"]) == (9 * 10 + 4 * 2, 9 * 2)
    assert counts["attendance"] == 150 * 12
    closed_rows = counts["present"] + counts["excused"] + counts["absent"]
    assert closed_rows == 150 * 10
    assert counts["present"] > counts["absent"] > 0
    assert counts["excused"] > 0
    assert counts["pending_reminders"] == 9 * 2 * 2
    assert counts["trainings"] == 4 + 3  # long over; still open (two with a quiz)
    assert counts["confirmations"] > 150
    assert counts["notices"] == 3
    assert 0 < counts["acked"] < counts["deliveries"]
    assert counts["audit"] == 1
    # Training funds and leaders' duties: every township's organiser and the county staff
    # member have a contact point with 0-2 visits; one township and one village are sites.
    assert counts["funds"] == 7
    assert (counts["contact_points"], counts["visits"], counts["sites"]) == (4, 4, 2)

    async with database.session_scope() as db:
        assert await seed_demo(db=db, now=START, tz=tz) is False
    assert await _counts(database) == counts


async def test_history_lies_before_the_seeding_and_reminders_after_it(seeded: Database) -> None:
    async with seeded.session_scope() as db:
        rows = (
            await db.exec(
                sa.text(  # type: ignore[call-overload]
                    "SELECT state, min(starts_at), max(starts_at) FROM study_session"
                    " GROUP BY state"
                )
            )
        ).all()
        pending = await _count(
            db,
            "SELECT count(*) FROM session_reminder"
            f" WHERE state = 'pending' AND due_at <= '{START.isoformat()}'",
        )
    spans = {state: (first, last) for state, first, last in rows}
    start = START.isoformat()[:19].replace("T", " ")
    assert spans["closed"][1] < start < spans["scheduled"][0]
    assert pending == 0


def test_the_plan_is_the_same_every_time_with_chinese_names() -> None:
    plan = plan_demo()
    assert plan == plan_demo()
    assert plan != plan_demo(seed=7)
    names = [person.name for roster in plan.rosters.values() for person in roster]
    assert len(names) == 150
    assert len(set(names)) == 150
    assert all(CHINESE_NAME.match(name) for name in names)
    phones = [p.phone for roster in plan.rosters.values() for p in roster if p.phone]
    assert len(phones) == len(set(phones))
    assert all(re.fullmatch(r"\+861\d{10}", phone) for phone in phones)


async def test_the_cast_are_linked_members_with_their_roles(seeded: Database) -> None:
    async with seeded.session_scope() as db:
        cast = await demo_people(db=db)
        held = {
            person.key: [
                (scope.role, scope.org_id)
                for scope in await roles.roles_of(db=db, telegram_user_id=person.telegram_user_id)
            ]
            for person in cast
        }
    assert [person.key for person in cast] == [c.key for c in CAST]
    by_key = {person.key: person for person in cast}
    assert [role for role, _org in held["county_staff"]] == [Role.COUNTY_STAFF]
    assert [role for role, _org in held["organiser"]] == [Role.TOWNSHIP_ORGANISER]
    assert [role for role, _org in held["secretary"]] == [Role.SECRETARY]
    assert [role for role, _org in held["secretary_2"]] == [Role.SECRETARY]
    assert held["member"] == held["member_2"] == []
    assert by_key["county_staff"].scope_name == "清河县"
    assert by_key["organiser"].scope_name == "东风镇党委"
    assert by_key["secretary"].scope_name == by_key["member"].branch_name == "东风村党支部"
    assert by_key["secretary_2"].scope_name == by_key["member_2"].branch_name == "红星村党支部"
    for person in cast:
        assert person.telegram_user_id == roster_telegram_id(person.member_id)
        assert person.phone is not None
        assert CHINESE_NAME.match(person.name)


async def test_a_fresh_demo_starts_quiet(seeded: Database) -> None:
    """Its history holds every required meeting and everyone on Telegram was invited to what
    is coming, so neither the ladder nor the roster job has anything to send."""
    clock = ManualClock(START)
    settings = sandbox_settings()
    assert await job_silent_ladder(seeded, clock, settings=settings) == 0
    assert await job_follow_the_roster(seeded, clock, settings=settings) == 0
    clock.advance(timedelta(days=14))  # still inside March: nothing new falls due
    assert await job_silent_ladder(seeded, clock, settings=settings) == 0
    async with seeded.session_scope() as db:
        assert await _count(db, "SELECT count(*) FROM session_escalation") == 0
    async with seeded.session_scope() as db:
        assert await queue_duty_reminders(db=db, now=clock.now(), tz=settings.tz) == 0


async def test_a_demo_started_late_in_the_year_has_no_overdue_visit_reminders(
    database: Database,
) -> None:
    """Contact points are set up at the seeding, so no rung that fell due earlier in the
    year (30 June ... 30 October) is held against them."""
    late = START.replace(month=11, day=30)
    tz = sandbox_settings().tz
    async with database.session_scope() as db:
        assert await seed_demo(db=db, now=late, tz=tz) is True
    async with database.session_scope() as db:
        assert await queue_duty_reminders(db=db, now=late, tz=tz) == 0


async def test_open_trainings_have_some_members_done_and_remind_only_when_due(
    seeded: Database,
) -> None:
    """Three trainings are still open (two with a quiz), some members done;
    nothing is due at the start, and a reminder goes out once the deadline is near."""
    tz = sandbox_settings().tz
    async with seeded.session_scope() as db:
        rows = (
            await db.exec(
                sa.text(  # type: ignore[call-overload]
                    "SELECT t.title, count(DISTINCT q.id), count(DISTINCT a.id),"
                    " count(DISTINCT c.id) FROM training t"
                    " LEFT JOIN training_question q ON q.training_id = t.id"
                    " JOIN training_assignee a ON a.training_id = t.id"
                    " LEFT JOIN training_confirmation c ON c.training_id = t.id"
                    f" WHERE t.deadline >= '{START.date().isoformat()}'"
                    " GROUP BY t.id, t.title ORDER BY t.id"
                )
            )
        ).all()
        assert [(title[:4], questions) for title, questions, _, _ in rows] == [
            ("学习新修", 3),
            ("农村集体", 2),
            ("春季田间", 0),
        ]
        assert all(0 < done < members for _, _, members, done in rows)
        assert (
            await _count(db, "SELECT count(*) FROM training_confirmation WHERE method = 'quiz'")
            > 0
        )
        assert await remind_due(db=db, now=START, tz=tz) == 0
        assert await _count(db, "SELECT count(*) FROM delivery WHERE state = 'pending'") == 0
    later = START + timedelta(days=4)  # the branch lecture's deadline is two days away
    async with seeded.session_scope() as db:
        reminded = await remind_due(db=db, now=later, tz=tz)
        assert 0 < reminded < 20
        assert await remind_due(db=db, now=later, tz=tz) == 0


@pytest.mark.parametrize("month", [4, 5, 12])  # each place in a quarter: first, middle, last
async def test_a_demo_keeps_every_cadence_the_summary_judges(
    database: Database, month: int
) -> None:
    """Started in any month, the county's /summary of the year so far finds every required
    meeting of the judged periods held (before: a December start showed 党课 and 支部党员大会
    at 0 of 9, their quarter's meetings missing from the history)."""
    start = START.replace(month=month, day=5)
    tz = sandbox_settings().tz
    async with database.session_scope() as db:
        assert await seed_demo(db=db, now=start, tz=tz) is True
    async with database.session_scope() as db:
        county = await orgs.get_county(db=db)
        assert county is not None
        today = start.astimezone(tz).date()
        summary = await build_summary(
            db=db, org=county, period=Period.year_of(today), now=start, tz=tz
        )
    cadence = summary.whole.cadence
    judged = {kind: required for kind, (_, required, _) in cadence.items() if required}
    assert judged  # the quarter or months behind us are judged at all
    assert {kind: met for kind, (met, _, _) in cadence.items() if kind in judged} == judged
