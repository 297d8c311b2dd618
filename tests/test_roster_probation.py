"""The daily probation reminder: secretaries hear once when a probation year is up."""

from __future__ import annotations

from datetime import date, timedelta

from bot.app import PartyApplication
from bot.clock import ManualClock
from bot.probation import one_year_before
from schedules.jobs import job_probation_reminders
from storage import Database, member_admin
from storage.models import MemberStatus, Role
from tests.support.audit import audit_log
from tests.support.builders import add_member, build_tree, grant
from tests.support.conversation import shown
from tests.support.roles import Person, speaks


async def _probationary_since(
    database: Database, clock: ManualClock, member_id: int, day: date
) -> None:
    async with database.session_scope() as db:
        await member_admin.set_status(
            db=db,
            member_id=member_id,
            status=MemberStatus.PROBATIONARY,
            changed_on=day,
            recorded_by=None,
            now=clock.now(),
        )


async def test_secretaries_are_told_once_when_the_year_is_up(
    person: Person, database: Database, bot_app: PartyApplication, clock: ManualClock
) -> None:
    tree = await build_tree(database)
    alice, eve = person("阿丽"), person("Eve", language="en")
    await grant(database, alice.id, Role.SECRETARY, tree.dongfeng)
    await grant(database, eve.id, Role.SECRETARY, tree.dongfeng)
    await speaks(database, eve.id, "en")
    due = await add_member(database, tree.dongfeng, "张三", status=MemberStatus.DEVELOPMENT_TARGET)
    await _probationary_since(database, clock, due.id or 0, date(2025, 3, 2))  # a year ago today
    await add_member(  # no status change recorded: the joined date counts
        database,
        tree.dongfeng,
        "李四",
        status=MemberStatus.PROBATIONARY,
        joined_on=date(2025, 1, 15),
    )
    await add_member(  # not yet a year
        database,
        tree.dongfeng,
        "王五",
        status=MemberStatus.PROBATIONARY,
        joined_on=date(2025, 3, 3),
    )
    await add_member(  # a full member is never reminded
        database, tree.dongfeng, "赵六", status=MemberStatus.FULL, joined_on=date(2000, 1, 1)
    )

    assert await job_probation_reminders(database, clock) == 2

    told = await alice.wait_for_message()
    assert told.text == (
        "预备期满提醒（东风村党支部）：下面这些预备党员的预备期已满一年，请按程序讨论转正：\n"
        "• 张三（2025年3月2日 成为预备党员）\n"
        "• 李四（2025年1月15日 成为预备党员）"
    )
    told_en = await eve.wait_for_message()
    assert shown(told_en).startswith("Probation reminder (东风村党支部): the probation year")
    assert shown(told_en).endswith("• 李四 (probationary since 2025-01-15)")
    rows = await audit_log(database, "probation.reminded")
    assert sorted(row.detail["name"] for row in rows) == ["张三", "李四"]
    assert all(row.actor_telegram_id is None for row in rows)

    # The next morning: nothing new for them, but 王五's year is now up.
    clock.advance(timedelta(days=1))
    assert await job_probation_reminders(database, clock) == 1
    told = await alice.wait_for_message()
    assert shown(told).endswith("• 王五（2025年3月3日 成为预备党员）")
    clock.advance(timedelta(days=1))
    assert await job_probation_reminders(database, clock) == 0


async def test_a_branch_without_a_secretary_waits_for_one(
    person: Person, database: Database, bot_app: PartyApplication, clock: ManualClock
) -> None:
    tree = await build_tree(database)
    await add_member(
        database, tree.liushu, "孙七", status=MemberStatus.PROBATIONARY, joined_on=date(2024, 6, 1)
    )
    assert await job_probation_reminders(database, clock) == 0
    assert await audit_log(database, "probation.reminded") == []

    sue = person("苏书记")
    await grant(database, sue.id, Role.SECRETARY, tree.liushu)
    clock.advance(timedelta(days=1))
    assert await job_probation_reminders(database, clock) == 1
    told = await sue.wait_for_message()
    assert "孙七" in shown(told)


async def test_a_new_probation_after_a_correction_is_reminded_again(
    person: Person, database: Database, bot_app: PartyApplication, clock: ManualClock
) -> None:
    tree = await build_tree(database)
    alice = person("阿丽")
    await grant(database, alice.id, Role.SECRETARY, tree.dongfeng)
    member = await add_member(
        database,
        tree.dongfeng,
        "张三",
        status=MemberStatus.PROBATIONARY,
        joined_on=date(2024, 1, 1),
    )
    assert await job_probation_reminders(database, clock) == 1
    await alice.wait_for_message()
    # Probation extended: recorded an hour later as probationary again from a later day.
    clock.advance(timedelta(hours=1))
    await _probationary_since(database, clock, member.id or 0, date(2025, 6, 1))
    assert await job_probation_reminders(database, clock) == 0
    clock.set(clock.now() + timedelta(days=92))  # 2026-06-02
    assert await job_probation_reminders(database, clock) == 1


def test_one_year_before_handles_leap_days() -> None:
    assert one_year_before(date(2026, 3, 2)) == date(2025, 3, 2)
    assert one_year_before(date(2028, 2, 29)) == date(2027, 2, 28)


def test_the_job_runs_daily_at_nine_in_shanghai(bot_app: PartyApplication) -> None:
    scheduler = bot_app.bot_data["scheduler"]
    job = scheduler.get_job("probation_reminders")
    assert job is not None
    assert str(job.trigger) == "cron[hour='9', minute='0']"
    assert str(job.trigger.timezone) == "Asia/Shanghai"
