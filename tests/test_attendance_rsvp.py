"""参加 / 请假: answers recorded once, leave with a reason to the secretary, approve or reject,
the member told, and buttons about other branches or cancelled sessions refused."""

from __future__ import annotations

from bot import session_ops
from bot.clock import ManualClock
from bot.session_buttons import DECIDE, RSVP
from bot.settings import Settings
from sandbox import World
from storage import Database
from storage.models import AttendanceOutcome, LeaveReason, LeaveState, Role, Rsvp
from tests.support.audit import audit_log
from tests.support.builders import add_member, grant
from tests.support.conversation import say, shown, tap
from tests.support.sessions import (
    Branch,
    Person,
    arrives,
    at,
    attendance_of,
    create_session,
    make_branch,
    refused,
    run_closing,
    texts,
)

CARD = "学习党章\n活动：支委会\n时间：3月5日（周四）19:30（90分钟）\n地点：村委会会议室"
INVITE = f"📅 请参加：\n{CARD}"


async def invited(
    database: Database, settings: Settings, clock: ManualClock, world: World, branch: Branch
) -> int:
    """A session on Thursday evening; every member has its invitation on screen."""
    study = await create_session(
        database, settings, clock, branch.org, starts_at=at(2026, 3, 5, 19, 30)
    )
    for user in branch.people.values():
        await arrives(world, user, "📅")
    assert study.id is not None
    return study.id


async def test_attend_is_recorded_once_even_on_a_double_tap(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, names=("张三",))
    session_id = await invited(database, settings, clock, world, branch)
    zhang = branch.people["张三"]
    invitation = zhang.messages[-1]

    first = await zhang.tap("参加")
    assert (await zhang.wait_for_callback_answer(first)).text == "谢谢！"
    answered = await zhang.wait_for_reply()  # the invitation itself now shows the answer
    assert (answered.message_id, answered.text) == (
        invitation.message_id,
        f"{INVITE}\n\n已回复：参加 ✓",
    )
    assert answered.buttons == [["更改回复"]]
    replay = await zhang.tap_data(RSVP.encode(session_id, "yes"), message_id=invitation.message_id)
    assert (await zhang.wait_for_callback_answer(replay)).text == "您已经说过要参加了。"

    assert len(zhang.messages) == 1  # answered in place: no new message
    row = (await attendance_of(database, session_id))[branch.member_id("张三")]
    assert row.rsvp == Rsvp.ATTEND


async def test_leave_goes_to_the_secretary_and_the_member_hears_the_approval(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, names=("李四",))
    session_id = await invited(database, settings, clock, world, branch)
    li, sec = branch.people["李四"], branch.secretary

    reasons = await tap(li, "请假")
    assert reasons.text == f"{INVITE}\n\n为什么来不了？请点一个原因。"
    assert reasons.buttons == [["生病", "外出务工"], ["农忙", "其他"]]
    query = await li.tap("外出务工")
    toast = await li.wait_for_callback_answer(query)
    assert toast.text == "请假（外出务工）已发给书记，请等回复。"
    sent = await li.wait_for_reply()
    assert sent.text == f"{INVITE}\n\n已回复：请假，外出务工（待批准）"
    assert sent.buttons == [["更改回复"]]
    assert len(li.messages) == 1

    request = await arrives(world, sec, "🙋")
    assert request.text == f"🙋 李四 请假。原因：外出务工\n{CARD}"
    assert request.buttons == [["批准", "拒绝"]]
    row = (await attendance_of(database, session_id))[branch.member_id("李四")]
    assert (row.rsvp, row.leave_reason, row.leave_state) == (
        Rsvp.LEAVE,
        LeaveReason.MIGRANT_WORK,
        LeaveState.PENDING,
    )

    decided = await tap(sec, "批准")
    assert decided.text == f"✅ 已批准请假：李四\n{CARD}"
    told = await arrives(world, li, "请假已批准")
    assert told.text == f"✅ 您的请假已批准。会后请补学。\n{CARD}"
    [entry] = await audit_log(database, prefix="session.leave.approve")
    assert entry.actor_telegram_id == sec.id

    clock.set(at(2026, 3, 5, 21, 30))
    assert await run_closing(database, clock, settings) == 1
    row = (await attendance_of(database, session_id))[branch.member_id("李四")]
    assert (row.leave_state, row.outcome) == (LeaveState.APPROVED, AttendanceOutcome.EXCUSED)


async def test_rejected_leave_puts_the_member_back_to_expected(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, names=("李四",))
    session_id = await invited(database, settings, clock, world, branch)
    li, sec = branch.people["李四"], branch.secretary
    await tap(li, "请假")
    await tap(li, "农忙")
    await arrives(world, sec, "🙋")
    assert (await tap(sec, "拒绝")).text == f"❌ 没有批准请假：李四\n{CARD}"
    told = await arrives(world, li, "没有批准")
    assert told.text == f"您的请假没有批准，能来请尽量来。\n{CARD}"
    assert told.buttons == [["参加", "请假"]]
    row = (await attendance_of(database, session_id))[branch.member_id("李四")]
    assert (row.rsvp, row.leave_state) == (Rsvp.NONE, LeaveState.REJECTED)
    assert len(await audit_log(database, prefix="session.leave.reject")) == 1


async def test_other_reason_takes_the_members_own_words(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, names=("王五",))
    session_id = await invited(database, settings, clock, world, branch)
    wang = branch.people["王五"]
    await tap(wang, "请假")
    prompt = await tap(wang, "其他")
    assert (prompt.text, prompt.buttons) == (f"{INVITE}\n\n请简单写一下原因。", [["取消"]])
    sent = await say(wang, "家里有<事>")
    assert (
        sent.text == "请假（家里有<事>）已发给书记，请等回复。\n已回复：请假，家里有<事>（待批准）"
    )
    assert sent.buttons == [["更改回复"]]
    request = await arrives(world, branch.secretary, "🙋")
    assert shown(request).startswith("🙋 王五 请假。原因：家里有<事>\n")
    row = (await attendance_of(database, session_id))[branch.member_id("王五")]
    assert (row.leave_reason, row.leave_note) == (LeaveReason.OTHER, "家里有<事>")


async def test_the_second_officer_finds_the_request_decided(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, names=("李四",))
    deputy = person("副书记")
    await grant(database, deputy.id, Role.DEPUTY_SECRETARY, branch.org)
    await say(deputy, "/start")
    await invited(database, settings, clock, world, branch)
    li = branch.people["李四"]
    await tap(li, "请假")
    await tap(li, "生病")
    await arrives(world, branch.secretary, "🙋")
    await arrives(world, deputy, "🙋")
    await tap(branch.secretary, "批准")
    assert await refused(deputy, "拒绝") == "这个请假已经处理过了。"
    assert len(await audit_log(database, prefix="session.leave")) == 1


async def test_buttons_about_another_branchs_session_are_refused(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, names=("李四",))
    session_id = await invited(database, settings, clock, world, branch)
    li = branch.people["李四"]
    await tap(li, "请假")
    await tap(li, "生病")
    await arrives(world, branch.secretary, "🙋")
    row = (await attendance_of(database, session_id))[branch.member_id("李四")]

    outsider = person("柳树村党员")
    await add_member(database, branch.tree.liushu, "柳树村党员", telegram_user_id=outsider.id)
    other_secretary = person("柳树村书记")
    await grant(database, other_secretary.id, Role.SECRETARY, branch.tree.liushu)
    for user in (outsider, other_secretary):
        await say(user, "/start")

    query = await outsider.tap_data(
        RSVP.encode(session_id, "yes"), message_id=outsider.messages[-1].message_id
    )
    answer = await outsider.wait_for_callback_answer(query)
    assert (answer.text, answer.show_alert) == ("这次活动不是您参加的，这个按钮没有用。", True)
    query = await other_secretary.tap_data(
        DECIDE.encode(row.id or 0, "ok"), message_id=other_secretary.messages[-1].message_id
    )
    answer = await other_secretary.wait_for_callback_answer(query)
    assert answer.text == "您没有权限在这里做这件事。"
    row = (await attendance_of(database, session_id))[branch.member_id("李四")]
    assert row.leave_state == LeaveState.PENDING
    assert await audit_log(database, prefix="session.leave") == []


async def test_buttons_of_a_cancelled_or_started_session_are_refused(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, names=("张三", "李四"))
    session_id = await invited(database, settings, clock, world, branch)
    later = await create_session(
        database, settings, clock, branch.org, starts_at=at(2026, 3, 6, 19, 30), topic="党课"
    )
    async with database.session_scope() as db:
        await session_ops.cancel(
            db=db,
            study=later,
            actor=branch.secretary.id,
            settings=settings,
            now=clock.now(),
        )
    zhang = branch.people["张三"]
    cancelled_invitation = await arrives(world, zhang, "❌")
    invitation = next(m for m in zhang.messages if "党课" in shown(m) and "📅" in shown(m))
    assert shown(cancelled_invitation).startswith("❌ 活动取消了：\n党课")
    assert await refused(zhang, "参加", message_id=invitation.message_id) == "这次活动已经取消了。"

    clock.set(at(2026, 3, 5, 19, 35))
    first = next(m for m in zhang.messages if "学习党章" in shown(m))
    assert (
        await refused(zhang, "请假", message_id=first.message_id)
        == "活动已经开始，这个按钮不能再用了。"
    )
    row = (await attendance_of(database, session_id))[branch.member_id("张三")]
    assert row.rsvp == Rsvp.NONE


async def test_leave_in_english(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, names=(), english=("Eve",))
    await invited(database, settings, clock, world, branch)
    eve = branch.people["Eve"]
    reasons = await tap(eve, "Ask for leave")
    assert shown(reasons).endswith("\n\nWhy can you not come? Please tap a reason.")
    assert reasons.buttons == [["Sick", "Working away"], ["Farm work", "Other"]]
    query = await eve.tap("Sick")
    toast = await eve.wait_for_callback_answer(query)
    assert toast.text == "Your leave request (Sick) was sent to the secretary."
    await arrives(world, branch.secretary, "🙋")
    await tap(branch.secretary, "批准")
    told = await arrives(world, eve, "approved")
    assert shown(told).startswith(
        "✅ Your leave was approved. Please do the make-up study afterwards.\n学习党章\n"
    )


async def test_leave_can_be_decided_until_the_session_is_finalised(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, names=("李四", "王五"))
    session_id = await invited(database, settings, clock, world, branch)
    sec = branch.secretary
    for name in ("李四", "王五"):
        await tap(branch.people[name], "请假")
        await tap(branch.people[name], "生病")
    await world.wait_for(lambda: len([t for t in texts(sec) if t.startswith("🙋")]) == 2)
    li_request, wang_request = [m for m in sec.messages if (m.text or "").startswith("🙋")]

    clock.set(at(2026, 3, 5, 19, 45))  # started, not yet finalised
    await tap(sec, "批准", message_id=li_request.message_id)
    clock.set(at(2026, 3, 5, 21, 30))
    await run_closing(database, clock, settings)
    assert (
        await refused(sec, "批准", message_id=wang_request.message_id)
        == "活动已经结束，这个请假不能再处理了。"
    )
    rows = await attendance_of(database, session_id)
    assert rows[branch.member_id("李四")].outcome == AttendanceOutcome.EXCUSED
    assert rows[branch.member_id("王五")].outcome == AttendanceOutcome.ABSENT


async def test_an_answer_can_be_changed_from_the_invitation_in_each_language(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, names=("张三",), english=("Eve",))
    session_id = await invited(database, settings, clock, world, branch)
    zhang, eve = branch.people["张三"], branch.people["Eve"]
    await tap(zhang, "参加")
    again = await tap(zhang, "更改回复")
    assert (again.text, again.buttons) == (
        f"{INVITE}\n\n能来吗？请点下面的按钮。",
        [["参加", "请假"]],
    )
    await tap(zhang, "请假")
    left = await tap(zhang, "生病")
    assert (left.text, left.buttons) == (
        f"{INVITE}\n\n已回复：请假，生病（待批准）",
        [["更改回复"]],
    )
    await tap(zhang, "更改回复")
    back = await tap(zhang, "参加")  # attending withdraws the pending leave request
    assert back.text == f"{INVITE}\n\n已回复：参加 ✓"
    row = (await attendance_of(database, session_id))[branch.member_id("张三")]
    assert (row.rsvp, row.leave_state) == (Rsvp.ATTEND, None)
    assert len(zhang.messages) == 1

    answered = await tap(eve, "Attend")
    assert shown(answered).endswith("\n\nAnswered: attend ✓")
    assert answered.buttons == [["Change my answer"]]
    assert (await tap(eve, "Change my answer")).buttons == [["Attend", "Ask for leave"]]
    await tap(eve, "Ask for leave")
    english = await tap(eve, "Sick")
    assert shown(english).endswith("\n\nAnswered: leave, Sick (waiting for approval)")
