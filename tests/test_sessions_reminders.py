"""Reminders: due at the right Shanghai times, past offsets skipped, "see you there" for those
who answered, none for cancelled sessions, and a restart neither loses nor repeats any."""

from __future__ import annotations

from collections.abc import Callable

from bot import session_ops
from bot.app import build_application, polling
from bot.clock import ManualClock
from bot.settings import Settings
from sandbox import SimUser, World
from storage import Database
from storage.models import ReminderState
from tests.support.builders import add_member, build_tree
from tests.support.conversation import tap
from tests.support.sessions import (
    Person,
    arrives,
    at,
    create_session,
    deliveries,
    make_branch,
    reminders_of,
    run_reminders,
    texts,
)

REMINDER = (
    "⏰ 提醒：\n"
    "学习党章\n"
    "活动：支委会\n"
    "时间：3月5日（周四）19:30（90分钟）\n"
    "地点：村委会会议室\n"
    "\n"
)


def reminders_seen(user: SimUser) -> list[str]:
    return [text for text in texts(user) if text.startswith("⏰")]


async def test_reminders_fall_due_at_their_shanghai_times(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, english=("Eve",))
    study = await create_session(
        database, settings, clock, branch.org, starts_at=at(2026, 3, 5, 19, 30)
    )
    day_before, two_hours = await reminders_of(database, study.id)
    assert (day_before.due_at, two_hours.due_at) == (
        at(2026, 3, 4, 19, 30),
        at(2026, 3, 5, 17, 30),
    )

    clock.set(at(2026, 3, 4, 19, 29))
    assert await run_reminders(database, clock, settings) == 0
    clock.set(at(2026, 3, 4, 19, 30))
    assert await run_reminders(database, clock, settings) == 4
    assert await run_reminders(database, clock, settings) == 0  # nothing twice

    zhang = await arrives(world, branch.people["张三"], "⏰")
    assert zhang.text == REMINDER + "能来吗？请点下面的按钮。"
    assert zhang.buttons == [["参加", "请假"]]
    eve = await arrives(world, branch.people["Eve"], "⏰")
    assert eve.text == (
        "⏰ Reminder:\n"
        "学习党章\n"
        "Activity: Branch committee meeting\n"
        "Time: Thu 5 Mar 19:30 (90 minutes)\n"
        "Place: 村委会会议室\n"
        "\n"
        "Will you come? Please tap a button."
    )
    states = [r.state for r in await reminders_of(database, study.id)]
    assert states == [ReminderState.SENT, ReminderState.PENDING]

    clock.set(at(2026, 3, 5, 17, 30))
    assert await run_reminders(database, clock, settings) == 4
    await world.wait_for(lambda: len(reminders_seen(branch.people["李四"])) == 2)
    assert [r.state for r in await reminders_of(database, study.id)] == [ReminderState.SENT] * 2


async def test_offsets_already_past_are_skipped_not_sent_in_a_burst(
    person: Person, database: Database, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, names=("张三",))
    study = await create_session(
        database,
        settings,
        clock,
        branch.org,
        starts_at=at(2026, 3, 2, 10, 30),  # an hour and a half from now
        offsets=(1440, 120, 30),
    )
    states = {r.offset_minutes: r.state for r in await reminders_of(database, study.id)}
    assert states == {
        1440: ReminderState.SKIPPED,
        120: ReminderState.SKIPPED,
        30: ReminderState.PENDING,
    }
    assert await run_reminders(database, clock, settings) == 0
    clock.set(at(2026, 3, 2, 10, 0))
    assert await run_reminders(database, clock, settings) == 1
    assert len(await deliveries(database, "reminder:")) == 1


async def test_who_answered_hears_see_you_there_and_who_is_on_leave_hears_nothing(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person)
    await create_session(database, settings, clock, branch.org, starts_at=at(2026, 3, 5, 19, 30))
    zhang, li, wang = (branch.people[n] for n in ("张三", "李四", "王五"))
    await arrives(world, zhang, "📅")
    await arrives(world, li, "📅")
    await tap(zhang, "参加")
    await tap(li, "请假")
    await tap(li, "生病")

    clock.set(at(2026, 3, 4, 19, 30))
    assert await run_reminders(database, clock, settings) == 2
    seen = await arrives(world, zhang, "⏰")
    assert seen.text == REMINDER + "到时见！"
    assert seen.buttons == []
    asked = await arrives(world, wang, "⏰")
    assert asked.buttons == [["参加", "请假"]]
    keys = sorted(d.dedupe_key for d in await deliveries(database, "reminder:"))
    assert len(keys) == 2
    assert not any(key.endswith(f":{branch.member_id('李四')}") for key in keys)
    assert reminders_seen(li) == []


async def test_a_cancelled_session_sends_no_reminder(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, names=("张三",))
    study = await create_session(
        database, settings, clock, branch.org, starts_at=at(2026, 3, 5, 19, 30)
    )
    async with database.session_scope() as db:
        cancelled = await session_ops.cancel(
            db=db,
            study=study,
            actor=branch.secretary.id,
            settings=settings,
            now=clock.now(),
        )
    assert cancelled == [study.id]
    notice = await arrives(world, branch.people["张三"], "❌")
    assert notice.text == (
        "❌ 活动取消了：\n"
        "学习党章\n"
        "活动：支委会\n"
        "时间：3月5日（周四）19:30（90分钟）\n"
        "地点：村委会会议室\n"
        "已取消"
    )

    clock.set(at(2026, 3, 5, 18, 0))
    assert await run_reminders(database, clock, settings) == 0
    assert [r.state for r in await reminders_of(database, study.id)] == [
        ReminderState.CANCELLED,
        ReminderState.CANCELLED,
    ]
    assert await deliveries(database, "reminder:") == []


async def test_a_restart_loses_no_reminder_and_repeats_none(
    database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    """The bot is down when the day-before reminder falls due and again across the start."""
    tree = await build_tree(database)
    people: list[SimUser] = []
    for name in ("张三", "李四"):
        user = world.add_user(name)
        people.append(user)
        await add_member(database, tree.dongfeng, name, telegram_user_id=user.id)
    study = await create_session(
        database, settings, clock, tree.dongfeng, starts_at=at(2026, 3, 5, 19, 30)
    )

    async def up(check: Callable[[], object]) -> None:
        application = build_application(settings, database=database, clock=clock)
        async with polling(application, poll_timeout=5):
            await world.wait_for(check, what="the relay to deliver")

    # Down at 19:30 the evening before; back at 20:30. The scheduler looks (twice, say)
    # before the relay has sent anything; then the relay delivers what was queued.
    clock.set(at(2026, 3, 4, 20, 30))
    assert await run_reminders(database, clock, settings) == 2
    assert await run_reminders(database, clock, settings) == 0
    await up(lambda: all(len(reminders_seen(p)) == 1 for p in people))

    # Down again from before the 2-hour reminder until after the start: it is skipped.
    clock.set(at(2026, 3, 5, 19, 45))
    assert await run_reminders(database, clock, settings) == 0
    assert [r.state for r in await reminders_of(database, study.id)] == [
        ReminderState.SENT,
        ReminderState.SKIPPED,
    ]
    await up(lambda: True)
    assert [len(reminders_seen(p)) for p in people] == [1, 1]
    assert len(await deliveries(database, "reminder:")) == 2


async def test_after_a_long_outage_only_the_latest_due_reminder_is_sent(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, names=("张三",))
    study = await create_session(
        database, settings, clock, branch.org, starts_at=at(2026, 3, 5, 19, 30)
    )
    clock.set(at(2026, 3, 5, 18, 0))  # both reminders due, the session not started yet
    assert await run_reminders(database, clock, settings) == 1
    assert [r.state for r in await reminders_of(database, study.id)] == [
        ReminderState.SKIPPED,
        ReminderState.SENT,
    ]
    await arrives(world, branch.people["张三"], "⏰")
    assert len(reminders_seen(branch.people["张三"])) == 1
