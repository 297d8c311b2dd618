"""/newsession: the form step by step, every date form people type, refusals, invitations."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from bot.clock import ManualClock
from sandbox import SimUser, World
from sandbox.models import ChatMessage
from storage import Database, orgs
from storage.models import (
    AttachmentKind,
    AudienceKind,
    Member,
    OrgKind,
    ReminderState,
    Role,
    SessionKind,
)
from tests.support.audit import audit_log
from tests.support.builders import add_member, grant
from tests.support.conversation import say, shown, tap
from tests.support.sessions import (
    Person,
    arrives,
    at,
    attendance_of,
    make_branch,
    reminders_of,
    sessions_in_db,
)

INVITATION = (
    "📅 请参加：\n"
    "学习党章\n"
    "活动：支委会\n"
    "时间：3月3日（周二）19:30（90分钟）\n"
    "地点：村委会会议室\n"
    "学习材料：学习《中国共产党章程》第一章\n"
    "\n"
    "能来吗？请点下面的按钮。"
)


async def fill_form(
    secretary: SimUser,
    when: str,
    *,
    kind: str = "支委会",
    topic: str = "学习党章",
    place: str = "村委会会议室",
    duration: str = "90分钟",
) -> ChatMessage:
    """Go through the form in Chinese up to the preview; returns the preview."""
    await say(secretary, "/newsession")
    await tap(secretary, kind)
    await say(secretary, topic)
    await say(secretary, when)
    await tap(secretary, duration)
    await say(secretary, place)
    await tap(secretary, "下一步")
    await tap(secretary, "只开一次")
    return await tap(secretary, "跳过")


async def test_secretary_schedules_a_session_step_by_step(
    person: Person, database: Database, world: World
) -> None:
    branch = await make_branch(database, person)
    sec = branch.secretary

    assert (await say(sec, "/newsession")).text == "为东风村党支部安排活动。\n是哪一种活动？"
    kinds = await tap(sec, "支委会")
    assert (kinds.text, kinds.buttons) == ("主题是什么？请输入。", [["取消"]])
    when = await say(sec, "学习党章")
    assert when.text == (  # examples in the future, in Chinese
        "什么时候开始？请输入日期和时间，例如：\n3月4日（周三）19:30\n明晚7点半\n下周三上午9点"
    )
    length = await say(sec, "明晚7点半")
    assert length.text == "已识别：3月3日（周二）19:30\n大约开多长时间？"  # echoed at once
    assert length.buttons == [["60分钟", "90分钟", "120分钟", "180分钟"], ["取消"]]
    assert (await tap(sec, "90分钟")).text == "在哪里开？请输入地点。"
    reminders = await say(sec, "村委会会议室")
    assert reminders.buttons == [
        ["⬜ 提前3天"],
        ["✅ 提前1天"],
        ["✅ 提前2小时"],
        ["⬜ 提前30分钟"],
        ["下一步"],
        ["取消"],
    ]
    toggled = await tap(sec, "⬜ 提前30分钟")
    assert toggled.buttons[3] == ["✅ 提前30分钟"]
    await tap(sec, "✅ 提前30分钟")
    repeat = await tap(sec, "下一步")
    assert repeat.text == "要定期重复吗？"
    assert repeat.buttons == [["只开一次"], ["每周同一天"], ["每月3日"], ["每季度3日"], ["取消"]]
    materials = await tap(sec, "只开一次")
    assert materials.text == "请发送学习材料：文字、链接或文件。没有就点“跳过”。"
    preview = await say(sec, "学习《中国共产党章程》第一章")
    assert preview.text == (
        "请核对新活动：\n"
        "学习党章\n"
        "活动：支委会\n"
        "时间：3月3日（周二）19:30（90分钟）\n"
        "地点：村委会会议室\n"
        "参加人员：东风村党支部\n"
        "提醒：提前1天、提前2小时\n"
        "重复：只开一次\n"
        "学习材料：学习《中国共产党章程》第一章"
    )
    assert preview.buttons == [["✅ 确认", "取消"]]

    done = await tap(sec, "✅ 确认")
    assert shown(done).startswith("✅ 已安排。应到3人，其中3人马上会在 Telegram 收到通知。")

    [study] = await sessions_in_db(database)
    assert (study.kind, study.topic, study.place) == (
        SessionKind.BRANCH_COMMITTEE_MEETING,
        "学习党章",
        "村委会会议室",
    )
    assert (study.starts_at, study.duration_minutes) == (at(2026, 3, 3, 19, 30), 90)
    assert (study.audience_kind, study.audience_org_id) == (AudienceKind.BRANCH, branch.org.id)
    assert (study.checkin_opens_minutes_before, study.checkin_closes_minutes_after) == (30, 30)
    assert study.materials_text == "学习《中国共产党章程》第一章"
    assert [
        (r.offset_minutes, r.due_at, r.state) for r in await reminders_of(database, study.id)
    ] == [
        (1440, at(2026, 3, 2, 19, 30), ReminderState.PENDING),
        (120, at(2026, 3, 3, 17, 30), ReminderState.PENDING),
    ]
    assert set(await attendance_of(database, study.id)) == {
        branch.member_id(n) for n in ("张三", "李四", "王五")
    }
    [entry] = await audit_log(database, prefix="session.create")
    assert (entry.actor_telegram_id, entry.target_id) == (sec.id, study.id)

    for name in ("张三", "李四", "王五"):
        invitation = await arrives(world, branch.people[name], "📅 请参加")
        assert invitation.text == INVITATION
        assert invitation.buttons == [["参加", "请假"]]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2026-12-03 19:30", datetime(2026, 12, 3, 19, 30)),
        ("12-03 19:30", datetime(2026, 12, 3, 19, 30)),
        ("12月3日 19:30", datetime(2026, 12, 3, 19, 30)),
        ("明天 19:30", datetime(2026, 3, 3, 19, 30)),
        ("周五 19:30", datetime(2026, 3, 6, 19, 30)),
    ],
)
async def test_every_date_form_people_type_is_accepted(
    person: Person, database: Database, typed: str, expected: datetime
) -> None:
    branch = await make_branch(database, person, names=("张三",))
    await fill_form(branch.secretary, typed)
    await tap(branch.secretary, "✅ 确认")
    [study] = await sessions_in_db(database)
    assert study.starts_at == at(
        expected.year, expected.month, expected.day, expected.hour, expected.minute
    )


async def test_an_unreadable_date_gets_examples_and_changes_nothing(
    person: Person, database: Database
) -> None:
    branch = await make_branch(database, person, names=("张三",))
    sec = branch.secretary
    await say(sec, "/newsession")
    await tap(sec, "党课")
    await say(sec, "学习新思想")
    answer = await say(sec, "下个月中旬吧")
    assert answer.text == (
        "没看懂这个日期和时间。请照下面的样子输入：\n3月4日（周三）19:30\n明晚7点半\n下周三上午9点"
    )
    assert answer.buttons == [["取消"]]
    assert shown(await say(sec, "13月40日 19:30")).startswith("没看懂这个日期和时间。")
    assert shown(await say(sec, "明天 25:00")).startswith("没看懂这个日期和时间。")
    past = await say(sec, "今天 08:00")
    assert past.text == "3月2日（周一）08:00已经过去了。请输入以后的时间。"
    assert await sessions_in_db(database) == []
    assert (
        await say(sec, "后天 晚上7点半")
    ).text == "已识别：3月4日（周三）19:30\n大约开多长时间？"


async def test_a_day_alone_asks_only_for_the_time_in_each_language(
    person: Person, database: Database
) -> None:
    branch = await make_branch(database, person, names=())
    deputy = person("Deputy", language="en")
    await grant(database, deputy.id, Role.DEPUTY_SECRETARY, branch.org)
    for officer, kind, day, asked, typed, echoed, cancel in (
        (
            branch.secretary,
            "党课",
            "明天",
            "3月3日（周二）几点？例如：19:30",
            "晚上7点半",
            "已识别：3月3日（周二）19:30\n大约开多长时间？",
            "取消",
        ),
        (
            deputy,
            "Party lesson",
            "Fri",
            "What time on Fri 6 Mar? For example: 19:30",
            "7:30pm",
            "Understood: Fri 6 Mar 19:30\nHow long will it take?",
            "Cancel",
        ),
    ):
        await say(officer, "/newsession")
        await tap(officer, kind)
        await say(officer, "学习新思想")
        ask = await say(officer, day)
        assert (ask.text, ask.buttons) == (asked, [[cancel]])
        assert (await say(officer, typed)).text == echoed


async def test_someone_without_the_right_cannot_schedule(
    person: Person, database: Database
) -> None:
    branch = await make_branch(database, person, names=("张三",))
    answer = await say(branch.people["张三"], "/newsession")
    assert answer.text == "您没有权限在这里做这件事。"
    assert await sessions_in_db(database) == []


async def test_a_tap_on_a_closed_form_is_refused(person: Person, database: Database) -> None:
    branch = await make_branch(database, person, names=("张三",))
    sec = branch.secretary
    kinds = await say(sec, "/newsession")
    stale = kinds.callback_data("支委会")
    assert stale is not None
    await tap(sec, "主题党日")
    fresh = await say(sec, "/newsession")  # a new form: the first one's buttons are stale
    query = await sec.tap_data(stale, message_id=fresh.message_id)
    alert = await sec.wait_for_callback_answer(query)
    assert alert.text == "这张表已经关闭了。请发送 /newsession 重新开始。"
    assert alert.show_alert is True


async def test_cancel_on_the_preview_schedules_nothing(person: Person, database: Database) -> None:
    branch = await make_branch(database, person, names=("张三",))
    await fill_form(branch.secretary, "明天 19:30")
    assert (await tap(branch.secretary, "取消")).text == "已取消，没有安排活动。"
    assert await sessions_in_db(database) == []


async def test_a_party_group_can_be_the_audience(person: Person, database: Database) -> None:
    branch = await make_branch(database, person, names=("张三", "李四"))
    async with database.session_scope() as db:
        group = await orgs.create_org(
            db=db,
            code="T01-V01-G1",
            name="第一党小组",
            kind=OrgKind.PARTY_GROUP,
            parent_id=branch.org.id,
        )
        member = await db.get(Member, branch.member_id("张三"))
        assert member is not None
        member.party_group_id = group.id
    sec = branch.secretary
    await say(sec, "/newsession")
    await tap(sec, "党小组会")
    await say(sec, "学习交流")
    await say(sec, "周五 19:30")
    await tap(sec, "60分钟")
    audience = await say(sec, "张三家")
    assert audience.text == "请谁参加？"
    assert audience.buttons == [["全体支部党员"], ["第一党小组"], ["取消"]]
    await tap(sec, "第一党小组")
    await tap(sec, "下一步")
    await tap(sec, "只开一次")
    preview = await tap(sec, "跳过")
    assert "参加人员：第一党小组" in shown(preview)
    await tap(sec, "✅ 确认")
    [study] = await sessions_in_db(database)
    assert (study.audience_kind, study.audience_org_id) == (AudienceKind.PARTY_GROUP, group.id)
    assert set(await attendance_of(database, study.id)) == {branch.member_id("张三")}


async def test_township_staff_invite_their_whole_subtree(
    person: Person, database: Database
) -> None:
    branch = await make_branch(database, person, names=("张三",))
    await add_member(database, branch.tree.liushu, "柳树村党员")
    await add_member(database, branch.tree.qianjin, "前进村党员")
    organiser = person("镇组织委员")
    await grant(database, organiser.id, Role.TOWNSHIP_ORGANISER, branch.tree.townships["T01"])
    answer = await say(organiser, "/newsession")
    assert answer.text == "为东风镇党委安排活动。\n是哪一种活动？"
    await tap(organiser, "专题学习")
    await say(organiser, "农村党建专题")
    await say(organiser, "12月3日 9:00")
    await tap(organiser, "180分钟")
    await say(organiser, "镇政府大会议室")
    await tap(organiser, "下一步")
    await tap(organiser, "只开一次")
    preview = await tap(organiser, "跳过")
    assert "参加人员：东风镇党委" in shown(preview)
    await tap(organiser, "✅ 确认")
    [study] = await sessions_in_db(database)
    assert study.audience_kind == AudienceKind.SUBTREE
    async with database.session_scope() as db:
        names = {
            m.name
            for m in (await db.exec(select(Member))).all()
            if m.id in await attendance_of(database, study.id)
        }
    assert names == {"张三", "柳树村党员"}


async def test_a_file_can_be_the_materials(person: Person, database: Database) -> None:
    branch = await make_branch(database, person, names=("张三",))
    sec = branch.secretary
    await say(sec, "/newsession")
    await tap(sec, "党课")
    await say(sec, "学习新思想")
    await say(sec, "周五 19:30")
    await tap(sec, "60分钟")
    await say(sec, "村委会")
    await tap(sec, "下一步")
    await tap(sec, "只开一次")
    await sec.send_document(
        "学习材料.pdf", b"%PDF-1.4 material", "application/pdf", caption="第一课"
    )
    preview = await sec.wait_for_reply()
    assert shown(preview).endswith("学习材料：第一课\n学习材料文件：已附上")
    await tap(sec, "✅ 确认")
    [study] = await sessions_in_db(database)
    assert study.materials_file_kind == AttachmentKind.DOCUMENT
    assert study.materials_file_id
    assert study.materials_text == "第一课"


async def test_the_form_in_english(person: Person, database: Database, world: World) -> None:
    branch = await make_branch(database, person, english=("Eve",), secretary_language="en")
    sec = branch.secretary
    await say(sec, "/newsession")
    await tap(sec, "Theme party day")
    await say(sec, "Serve the village")
    await say(sec, "tomorrow 7:30pm")
    await tap(sec, "120 minutes")
    await say(sec, "Village hall")
    await tap(sec, "Next")
    await tap(sec, "Only once")
    preview = await tap(sec, "Skip")
    assert preview.text == (
        "Please check the new session:\n"
        "Serve the village\n"
        "Activity: Theme party day\n"
        "Time: Tue 3 Mar 19:30 (120 minutes)\n"
        "Place: Village hall\n"
        "Invited: 东风村党支部\n"
        "Reminders: 1 day before, 2 hours before\n"
        "Repeats: Only once"
    )
    await tap(sec, "✅ Confirm")
    invitation = await arrives(world, branch.people["Eve"], "You are invited")
    assert invitation.text == (
        "📅 You are invited:\n"
        "Serve the village\n"
        "Activity: Theme party day\n"
        "Time: Tue 3 Mar 19:30 (120 minutes)\n"
        "Place: Village hall\n"
        "\n"
        "Will you come? Please tap a button."
    )
    assert invitation.buttons == [["Attend", "Ask for leave"]]
    chinese = await arrives(world, branch.people["张三"], "请参加")
    assert "时间：3月3日（周二）19:30（120分钟）" in shown(chinese)


async def test_long_typed_answers_are_refused_whole_never_cut_or_taken_by_their_tail(
    person: Person, database: Database, clock: ManualClock
) -> None:
    """A topic an app split into parts: every part refused; materials over the limit are
    refused with it, not cut to fit."""
    branch = await make_branch(database, person, names=("张三",))
    sec = branch.secretary
    await say(sec, "/newsession")
    await tap(sec, "党课")
    assert shown(await say(sec, "长" * 4096)) == "太长了，请不超过100个字。"
    assert shown(await say(sec, "题目的结尾")) == "太长了，请不超过100个字。"
    clock.advance(timedelta(minutes=1))
    await say(sec, "学习新思想")
    await say(sec, "周五 19:30")
    await tap(sec, "60分钟")
    await say(sec, "村委会")
    await tap(sec, "下一步")
    await tap(sec, "只开一次")
    assert shown(await say(sec, "材" * 2001)) == "太长了，请不超过2000个字。"
    clock.advance(timedelta(minutes=1))
    preview = await say(sec, "材" * 2000)
    assert shown(preview).endswith("学习材料：" + "材" * 299 + "…")
    await tap(sec, "✅ 确认")
    [study] = await sessions_in_db(database)
    assert study.topic == "学习新思想"
    assert study.materials_text == "材" * 2000
