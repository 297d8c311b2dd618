"""/sessions with my status, editing and cancelling (everyone told), /attendance with names,
repeating series (generated ahead, single occurrences cancellable), and /me's rate."""

from __future__ import annotations

from bot import session_ops
from bot.clock import ManualClock
from bot.sessions import Repeat
from bot.settings import Settings
from handlers.session_codecs import CANCEL, DURATION, EDIT
from sandbox import World
from storage import Database, roles
from storage.models import ReminderState, Role, SessionKind, SessionState
from tests.support.audit import audit_log
from tests.support.builders import grant
from tests.support.conversation import say, shown, tap
from tests.support.sessions import (
    Person,
    arrives,
    at,
    checked_in,
    create_session,
    labels,
    make_branch,
    on_approved_leave,
    reminders_of,
    run_closing,
    run_series,
    sessions_in_db,
    stored_session,
    texts,
)


async def test_sessions_lists_what_is_coming_and_what_was_with_my_status(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, names=("张三", "李四"))
    past = await create_session(
        database, settings, clock, branch.org, starts_at=at(2026, 3, 2, 19, 30), topic="学习党章"
    )
    assert past.id is not None
    await checked_in(database, past.id, branch.member_id("张三"), at(2026, 3, 2, 19, 25))
    clock.set(at(2026, 3, 2, 21, 30))
    await run_closing(database, clock, settings)
    await create_session(
        database,
        settings,
        clock,
        branch.org,
        starts_at=at(2026, 3, 6, 19, 30),
        topic="主题党日活动",
        kind=SessionKind.THEME_PARTY_DAY,
    )
    zhang = branch.people["张三"]
    await arrives(world, zhang, "主题党日活动")
    await tap(zhang, "参加")

    listing = await say(zhang, "/sessions")
    assert listing.text == (
        "即将举行\n"
        "• 3月6日（周五）19:30 主题党日 · 主题党日活动 — 参加\n"
        "\n"
        "最近的活动\n"
        "• 3月2日（周一）19:30 支委会 · 学习党章 — 已签到"
    )
    assert listing.buttons == [["3月6日（周五）19:30 主题党日活动"]]
    li_si = branch.people["李四"]
    # The relay brings 李四 his make-up material and the new invitation on its own time;
    # let them arrive first so the next message in his chat is the answer to /sessions.
    await arrives(world, li_si, "补学")
    await arrives(world, li_si, "主题党日活动")
    li = await say(li_si, "/sessions")
    assert "• 3月2日（周一）19:30 支委会 · 学习党章 — 缺席，待补学" in shown(li)
    assert "主题党日活动 — 未回复" in shown(li)

    view = await tap(zhang, "3月6日（周五）19:30 主题党日活动")
    assert view.text == (
        "主题党日活动\n"
        "活动：主题党日\n"
        "时间：3月6日（周五）19:30（90分钟）\n"
        "地点：村委会会议室\n"
        "您的情况：参加"
    )
    assert view.buttons == [["参加", "请假"]]


async def test_the_secretary_moves_a_session_and_everyone_is_told(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, names=("张三",))
    study = await create_session(
        database, settings, clock, branch.org, starts_at=at(2026, 3, 5, 19, 30)
    )
    sec = branch.secretary
    listing = await say(sec, "/sessions")
    assert "您组织的活动\n• 3月5日（周四）19:30 支委会 · 学习党章" in shown(listing)
    manage = await tap(sec, "⚙ 3月5日（周四）19:30 学习党章")
    assert shown(manage).endswith("应到1 · 参加0 · 请假0 · 未回复1 · 已签到0")
    assert manage.buttons == [
        ["✏️ 改时间", "✏️ 改地点", "✏️ 改主题", "✏️ 改时长"],
        ["❌ 取消活动"],
        ["📋 出勤"],
    ]
    assert shown(await tap(sec, "✏️ 改时间")).startswith("请输入新的日期和时间，例如：")
    assert shown(await say(sec, "昨天")).startswith("没看懂，或者这个时间已经过去了。")
    saved = await say(sec, "周六 9:00")
    assert shown(saved).startswith("已保存，已通知所有参加人员。\n\n学习党章\n")
    assert "时间：3月7日（周六）09:00（90分钟）" in shown(saved)

    told = await arrives(world, branch.people["张三"], "✏️")
    assert told.text == (
        "✏️ 活动有变动：\n"
        "时间：3月5日（周四）19:30 → 3月7日（周六）09:00\n"
        "\n"
        "学习党章\n"
        "活动：支委会\n"
        "时间：3月7日（周六）09:00（90分钟）\n"
        "地点：村委会会议室"
    )
    assert (await stored_session(database, study.id or 0)).starts_at == at(2026, 3, 7, 9, 0)
    assert [(r.due_at, r.state) for r in await reminders_of(database, study.id or 0)] == [
        (at(2026, 3, 6, 9, 0), ReminderState.PENDING),
        (at(2026, 3, 7, 7, 0), ReminderState.PENDING),
    ]
    [entry] = await audit_log(database, prefix="session.edit")
    assert entry.detail == {"starts_at": at(2026, 3, 7, 9, 0).isoformat()}

    await say(sec, "/sessions")
    await tap(sec, "⚙ 3月7日（周六）09:00 学习党章")
    await tap(sec, "✏️ 改地点")
    await say(sec, "党员活动室")
    changed = await arrives(world, branch.people["张三"], "地点：党员活动室")
    assert shown(changed).startswith("✏️ 活动有变动：\n地点：村委会会议室 → 党员活动室\n\n")


async def test_the_length_is_changed_with_one_tap_and_everyone_is_told(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, names=("张三",))
    study = await create_session(
        database, settings, clock, branch.org, starts_at=at(2026, 3, 5, 19, 30)
    )
    sec = branch.secretary
    await say(sec, "/sessions")
    await tap(sec, "⚙ 3月5日（周四）19:30 学习党章")
    choices = await tap(sec, "✏️ 改时长")
    assert choices.text == "大约开多长时间？"
    assert choices.buttons == [["60分钟", "90分钟", "120分钟", "180分钟"], ["返回"]]
    saved = await tap(sec, "120分钟")
    assert shown(saved).startswith("已保存，已通知所有参加人员。\n\n学习党章\n")
    assert "时间：3月5日（周四）19:30（120分钟）" in shown(saved)
    told = await arrives(world, branch.people["张三"], "✏️")
    assert "时间：3月5日（周四）19:30（120分钟）" in shown(told)
    assert (await stored_session(database, study.id or 0)).duration_minutes == 120
    [entry] = await audit_log(database, prefix="session.edit")
    assert entry.detail == {"duration_minutes": 120}
    # A length that was never offered is refused and changes nothing.
    forged = await sec.tap_data(
        DURATION.encode(study.id or 0, 45), message_id=sec.messages[-1].message_id
    )
    assert (await sec.wait_for_callback_answer(forged)).text == "这个按钮已经失效。"
    assert (await stored_session(database, study.id or 0)).duration_minutes == 120
    assert len(await audit_log(database, prefix="session.edit")) == 1


async def test_the_secretary_cancels_a_session_and_everyone_is_told(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, names=("张三",))
    study = await create_session(
        database, settings, clock, branch.org, starts_at=at(2026, 3, 5, 19, 30)
    )
    sec = branch.secretary
    await say(sec, "/sessions")
    await tap(sec, "⚙ 3月5日（周四）19:30 学习党章")
    ask = await tap(sec, "❌ 取消活动")
    assert ask.text == "要取消这次活动吗？会通知所有参加人员。"
    assert ask.buttons == [["确认取消"], ["返回"]]
    assert (await tap(sec, "确认取消")).text == "已取消1次活动，已通知所有参加人员。"
    await arrives(world, branch.people["张三"], "❌ 活动取消了")
    assert (await stored_session(database, study.id or 0)).state == SessionState.CANCELLED
    assert len(await audit_log(database, prefix="session.cancel")) == 1
    # The old confirmation button does nothing more.
    query = await sec.tap_data(
        CANCEL.encode(study.id or 0, "one"), message_id=sec.messages[-1].message_id
    )
    answer = await sec.wait_for_callback_answer(query)
    assert answer.text == "这次活动已经不在计划中，不能再修改。"


async def test_only_its_officers_may_change_a_session(
    person: Person, database: Database, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, names=("张三",))
    study = await create_session(
        database, settings, clock, branch.org, starts_at=at(2026, 3, 5, 19, 30)
    )
    other = person("柳树村书记")
    await grant(database, other.id, Role.SECRETARY, branch.tree.liushu)
    for user in (branch.people["张三"], other):
        start = await say(user, "/start")
        for data in (
            EDIT.encode(study.id or 0, "time"),
            DURATION.encode(study.id or 0, 120),
            CANCEL.encode(study.id or 0, "one"),
        ):
            query = await user.tap_data(data, message_id=start.message_id)
            answer = await user.wait_for_callback_answer(query)
            assert answer.text == "您没有权限在这里做这件事。"
    assert (await stored_session(database, study.id or 0)).state == SessionState.SCHEDULED
    assert [entry.action for entry in await audit_log(database, prefix="session.")] == [
        "session.create"
    ]


async def test_attendance_shows_every_category_with_names(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(
        database, person, names=("张三", "李四", "王五"), offline=("赵老汉",)
    )
    study = await create_session(
        database, settings, clock, branch.org, starts_at=at(2026, 3, 2, 19, 30)
    )
    assert study.id is not None
    zhang = branch.people["张三"]
    await arrives(world, zhang, "📅")
    await tap(zhang, "参加")
    await on_approved_leave(database, study.id, branch.member_id("李四"), clock.now())
    await checked_in(database, study.id, branch.member_id("张三"), at(2026, 3, 2, 19, 20))
    clock.set(at(2026, 3, 2, 21, 30))
    await run_closing(database, clock, settings)

    report = await say(branch.secretary, "/attendance")
    assert report.text == (
        "学习党章\n"
        "活动：支委会\n"
        "时间：3月2日（周一）19:30（90分钟）\n"
        "地点：村委会会议室\n"
        "\n"
        "应到：4人\n"
        "参加（1）：张三\n"
        "请假（1）：李四 生病（已批准）\n"
        "未回复（2）：王五、赵老汉\n"
        "已签到（1）：张三\n"
        "缺席（2）：王五、赵老汉\n"
        "已补学（0）：-"
    )
    assert report.buttons == [["🔄 刷新", "代签到"]]
    assert (await say(branch.people["王五"], "/attendance")).text == "您没有权限在这里做这件事。"


async def test_a_monthly_series_is_generated_a_few_weeks_ahead(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, names=("张三",))
    sec = branch.secretary
    await say(sec, "/newsession")
    await tap(sec, "主题党日")
    await say(sec, "为民服务")
    await say(sec, "3月15日 9:00")
    await tap(sec, "120分钟")
    await say(sec, "村广场")
    await tap(sec, "下一步")
    preview = await tap(sec, "每月15日")
    assert shown(preview).startswith("请发送学习材料")
    assert "重复：每月15日" in shown(await tap(sec, "跳过"))
    await tap(sec, "✅ 确认")
    assert [s.starts_at for s in await sessions_in_db(database)] == [at(2026, 3, 15, 9, 0)]

    clock.set(at(2026, 3, 20, 9, 0))
    assert await run_series(database, clock, settings) == 1
    assert await run_series(database, clock, settings) == 0
    occurrences = await sessions_in_db(database)
    assert [s.starts_at for s in occurrences] == [at(2026, 3, 15, 9, 0), at(2026, 4, 15, 9, 0)]
    assert occurrences[1].kind == SessionKind.THEME_PARTY_DAY
    assert [r.offset_minutes for r in await reminders_of(database, occurrences[1].id or 0)] == [
        1440,
        120,
    ]
    zhang = branch.people["张三"]
    await world.wait_for(lambda: len([t for t in texts(zhang) if "4月15日" in t]) == 2)
    series, april = [m for m in zhang.messages if "4月15日" in (m.text or "")]
    assert shown(series).startswith("📅 请参加（每月一次）：\n为民服务\n")
    dates = "日期：3月15日（周日）09:00、4月15日（周三）09:00、5月15日（周五）09:00、6月15日"
    assert dates in shown(series)
    assert shown(april).startswith("📅 请参加：\n为民服务\n")
    assert april.buttons == [["参加", "请假"]]


async def test_one_occurrence_of_a_weekly_series_is_cancelled_and_stays_cancelled(
    person: Person, database: Database, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, names=("张三",))
    await create_session(
        database,
        settings,
        clock,
        branch.org,
        starts_at=at(2026, 3, 6, 19, 30),
        repeat=Repeat.WEEKLY,
        actor=branch.secretary.id,
    )
    starts = [s.starts_at for s in await sessions_in_db(database)]
    assert starts == [at(2026, 3, d, 19, 30) for d in (6, 13, 20, 27)] + [at(2026, 4, 3, 19, 30)]

    sec = branch.secretary
    await say(sec, "/sessions")
    await tap(sec, "⚙ 3月13日（周五）19:30 学习党章")
    await tap(sec, "❌ 取消活动")
    ask = sec.messages[-1]
    assert labels(ask) == ["确认取消", "取消以后所有的定期活动", "返回"]
    await tap(sec, "确认取消")

    clock.set(at(2026, 3, 10, 9, 0))
    assert await run_series(database, clock, settings) == 1  # 4月10日; 3月13日 not again
    states = {s.starts_at: s.state for s in await sessions_in_db(database)}
    assert states[at(2026, 3, 13, 19, 30)] == SessionState.CANCELLED
    assert states[at(2026, 3, 20, 19, 30)] == SessionState.SCHEDULED
    assert at(2026, 4, 10, 19, 30) in states
    assert len(states) == 6

    await say(sec, "/sessions")
    await tap(sec, "⚙ 3月20日（周五）19:30 学习党章")
    await tap(sec, "❌ 取消活动")
    done = await tap(sec, "取消以后所有的定期活动")
    assert done.text == "已取消4次活动，已通知所有参加人员。"
    clock.set(at(2026, 3, 25, 9, 0))
    assert await run_series(database, clock, settings) == 0
    states = {s.starts_at: s.state for s in await sessions_in_db(database)}
    assert states[at(2026, 3, 6, 19, 30)] == SessionState.SCHEDULED
    assert [states[at(2026, 3, d, 19, 30)] for d in (20, 27)] == [SessionState.CANCELLED] * 2


async def test_me_shows_the_attendance_rate_of_this_year(
    person: Person, database: Database, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, names=("张三",))
    for day in (2, 9):
        study = await create_session(
            database, settings, clock, branch.org, starts_at=at(2026, 3, day, 19, 30)
        )
        if day == 2:
            await checked_in(database, study.id or 0, branch.member_id("张三"), clock.now())
        clock.set(at(2026, 3, day, 21, 30))
        await run_closing(database, clock, settings)
    me = await say(branch.people["张三"], "/me")
    assert "本年出勤率：50%" in shown(me).splitlines()


async def test_a_typed_change_is_checked_again_when_it_is_saved(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    """The edit screen was drawn under one state; what is typed later is judged by the
    state when it is saved (one use case: right, state, write, audit, news)."""
    branch = await make_branch(database, person, names=("张三",))
    study = await create_session(
        database, settings, clock, branch.org, starts_at=at(2026, 3, 5, 19, 30)
    )
    sec = branch.secretary
    await say(sec, "/sessions")
    await tap(sec, "⚙ 3月5日（周四）19:30 学习党章")
    assert shown(await tap(sec, "✏️ 改地点")) == "请输入新的地点。"
    async with database.session_scope() as db:  # meanwhile the role was taken away
        assert await roles.revoke_role(
            db=db,
            telegram_user_id=sec.id,
            role=Role.SECRETARY,
            org_id=branch.org.id or 0,
        )
    assert (await say(sec, "党员活动室")).text == "您没有权限在这里做这件事。"

    await grant(database, sec.id, Role.SECRETARY, branch.org)
    await say(sec, "/sessions")
    await tap(sec, "⚙ 3月5日（周四）19:30 学习党章")
    assert shown(await tap(sec, "✏️ 改主题")) == "请输入新的主题。"
    async with database.session_scope() as db:  # meanwhile it was cancelled
        await session_ops.cancel(
            db=db, study=study, actor=sec.id, settings=settings, now=clock.now()
        )
    assert (await say(sec, "新主题")).text == "这次活动已经不在计划中，不能再修改。"
    stored = await stored_session(database, study.id or 0)
    assert (stored.place, stored.topic) == ("村委会会议室", "学习党章")
    assert await audit_log(database, prefix="session.edit") == []
