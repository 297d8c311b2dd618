"""A repeating session is announced once (the dates listed), quarterly series for general
meetings and party lessons, and a change notice that says what changed (old → new)."""

from __future__ import annotations

from bot.clock import ManualClock
from bot.sessions import Repeat, occurrences, series_rule
from bot.settings import Settings
from sandbox import World
from storage import Database
from tests.support.conversation import say, shown, tap
from tests.support.sessions import (
    SHANGHAI,
    Person,
    arrives,
    at,
    attendance_of,
    create_session,
    deliveries,
    make_branch,
    run_series,
    sessions_in_db,
    texts,
)


async def test_a_weekly_series_sends_one_invitation_listing_the_dates(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, names=("张三",), english=("Eve",))
    await create_session(
        database,
        settings,
        clock,
        branch.org,
        starts_at=at(2026, 3, 6, 19, 30),
        repeat=Repeat.WEEKLY,
    )
    studies = await sessions_in_db(database)
    assert len(studies) == 5  # five weeks ahead exist
    assert len(await deliveries(database, "series-invite:")) == 2  # one per member, not five
    assert await deliveries(database, "session-invite:") == []
    zhang = await arrives(world, branch.people["张三"], "📅")
    assert zhang.text == (
        "📅 请参加（每周一次）：\n"
        "学习党章\n"
        "活动：支委会\n"
        "时间：3月6日（周五）19:30（90分钟）\n"
        "地点：村委会会议室\n"
        "日期：3月6日（周五）19:30、3月13日（周五）19:30、3月20日（周五）19:30、"
        "3月27日（周五）19:30\n"
        "\n"
        "第一次能来吗？请点下面的按钮。"
    )
    assert zhang.buttons == [["参加", "请假"]]
    eve = await arrives(world, branch.people["Eve"], "📅")
    assert shown(eve).startswith("📅 You are invited to a session every week:\n学习党章\n")
    assert "Dates: Fri 6 Mar 19:30, Fri 13 Mar 19:30, Fri 20 Mar 19:30, Fri 27 Mar 19:30" in shown(
        eve
    )
    for study in studies:  # every occurrence counts as invited: the roster job sends nothing
        assert study.id is not None
        rows = await attendance_of(database, study.id)
        assert all(row.invited_at is not None for row in rows.values())
    assert shown(await tap(branch.people["张三"], "参加")).endswith("已回复：参加 ✓")
    assert len([t for t in texts(branch.people["张三"]) if t.startswith("📅")]) == 1


def test_a_quarterly_rule_repeats_every_three_months_on_the_same_day() -> None:
    rule = series_rule(Repeat.QUARTERLY, at(2026, 3, 15, 9).astimezone(SHANGHAI).date())
    assert rule == "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=15"
    found = occurrences(
        rule,
        at(2026, 3, 15, 9).astimezone(SHANGHAI).time(),
        SHANGHAI,
        first=at(2026, 3, 15, 9).astimezone(SHANGHAI).date(),
        after=at(2026, 3, 1),
        until=at(2027, 3, 31),
    )
    assert [starts for _slot, starts in found] == [
        at(2026, 3, 15, 9),
        at(2026, 6, 15, 9),
        at(2026, 9, 15, 9),
        at(2026, 12, 15, 9),
        at(2027, 3, 15, 9),
    ]


async def test_a_quarterly_party_lesson_is_scheduled_from_the_form(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, names=("张三",))
    sec = branch.secretary
    await say(sec, "/newsession")
    await tap(sec, "党课")
    await say(sec, "学习新思想")
    await say(sec, "3月15日 9:00")
    await tap(sec, "90分钟")
    await say(sec, "村委会")
    await tap(sec, "下一步")
    await tap(sec, "每季度15日")
    assert "重复：每季度15日" in shown(await tap(sec, "跳过"))
    await tap(sec, "✅ 确认")
    invitation = await arrives(world, branch.people["张三"], "📅")
    assert shown(invitation).startswith("📅 请参加（每季度一次）：\n学习新思想\n")
    assert "日期：3月15日（周日）09:00、6月15日（周一）09:00、9月15日（周二）09:00、" in shown(
        invitation
    )
    clock.set(at(2026, 5, 20, 9))
    assert await run_series(database, clock, settings) == 1
    assert [s.starts_at for s in await sessions_in_db(database)] == [
        at(2026, 3, 15, 9),
        at(2026, 6, 15, 9),
    ]


async def test_a_change_notice_says_old_and_new_in_each_language(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, names=("张三",), english=("Eve",))
    study = await create_session(
        database, settings, clock, branch.org, starts_at=at(2026, 3, 5, 19, 30)
    )
    sec = branch.secretary
    await say(sec, "/sessions")
    await tap(sec, "⚙ 3月5日（周四）19:30 学习党章")
    await tap(sec, "✏️ 改时长")
    await tap(sec, "120分钟")
    zhang = await arrives(world, branch.people["张三"], "✏️")
    assert shown(zhang).startswith("✏️ 活动有变动：\n时长：90分钟 → 120分钟\n\n学习党章\n")
    eve = await arrives(world, branch.people["Eve"], "✏️")
    assert shown(eve).startswith(
        "✏️ This session has changed:\nLength: 90 minutes → 120 minutes\n\n学习党章\n"
    )
    assert study.id is not None
