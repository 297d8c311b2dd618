"""The meeting day as members live it: 签到 pushed when check-in opens (two taps at most),
/checkin typed by a member, a failed scan followed by the typed number, full-width digits,
photos while the number is awaited, codes judged by when they were sent, the organiser
present, and check-in closing after the session's end."""

from __future__ import annotations

from datetime import timedelta

from bot.app import PartyApplication
from bot.checkin import current_code
from bot.checkin_screen import SCREENS_KEY
from bot.clock import ManualClock
from bot.settings import Settings
from sandbox import World
from sandbox.models import Content
from schedules import sessions as jobs
from storage import Database
from storage.models import AttendanceOutcome, CheckinMethod, Role
from tests.support.builders import add_member, grant
from tests.support.conversation import say, shown, tap
from tests.support.sessions import (
    Branch,
    Person,
    arrives,
    at,
    attendance_of,
    create_session,
    deliveries,
    make_branch,
    on_approved_leave,
    run_closing,
    run_reminders,
    send_photo,
    texts,
)

START = at(2026, 3, 2, 19, 30)
CARD = "学习党章\n活动：支委会\n时间：3月2日（周一）19:30（90分钟）\n地点：村委会会议室"
OPENED = f"📍 签到开始了：\n{CARD}\n\n点“签到”，再输入书记屏幕上的数字。"


def code_now(settings: Settings, clock: ManualClock, session_id: int) -> str:
    return current_code(settings.signing_key, session_id, clock.now()).code


async def open_checkin(database: Database, clock: ManualClock, settings: Settings) -> int:
    return await jobs.job_open_checkin(database, clock, settings=settings)


async def tonight(
    database: Database, settings: Settings, clock: ManualClock, branch: Branch, actor: int = 1
) -> int:
    study = await create_session(
        database, settings, clock, branch.org, starts_at=START, actor=actor
    )
    assert study.id is not None
    return study.id


async def test_checkin_opening_pushes_a_checkin_button_once_in_each_language(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, english=("Eve",))
    session_id = await tonight(database, settings, clock, branch)
    await on_approved_leave(database, session_id, branch.member_id("李四"), clock.now())
    clock.set(at(2026, 3, 2, 18, 59))
    assert await open_checkin(database, clock, settings) == 0  # not open yet
    clock.set(at(2026, 3, 2, 19, 0))
    assert await open_checkin(database, clock, settings) == 3  # 张三, 王五, Eve; not 李四
    clock.set(at(2026, 3, 2, 19, 1))
    assert await open_checkin(database, clock, settings) == 0  # once, also after a restart

    pushed = await arrives(world, branch.people["张三"], "📍")
    assert pushed.text == OPENED
    assert pushed.buttons == [["签到"]]
    eve = await arrives(world, branch.people["Eve"], "📍")
    assert eve.text == (
        "📍 Check-in is open:\n"
        "学习党章\n"
        "Activity: Branch committee meeting\n"
        "Time: Mon 2 Mar 19:30 (90 minutes)\n"
        "Place: 村委会会议室\n"
        "\n"
        'Tap "Check in", then type the number on the secretary\'s screen.'
    )
    assert eve.buttons == [["Check in"]]
    assert not [text for text in texts(branch.people["李四"]) if text.startswith("📍")]
    assert len(await deliveries(database, f"checkin-open:{session_id}:")) == 3


async def test_from_the_pushed_message_to_checked_in_takes_one_tap_and_the_code(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, english=("Eve",))
    session_id = await tonight(database, settings, clock, branch)
    clock.set(at(2026, 3, 2, 19, 5))
    await open_checkin(database, clock, settings)
    for name, check_in, prompt, done in (
        ("张三", "签到", "请输入书记屏幕上的6位数字。", "✅ 签到成功：学习党章。欢迎！"),
        (
            "Eve",
            "Check in",
            "Please type the 6-digit number shown by the secretary.",
            "✅ Checked in: 学习党章. Welcome!",
        ),
    ):
        user = branch.people[name]
        pushed = await arrives(world, user, "📍")
        taps = 0
        asked = await tap(user, check_in, message_id=pushed.message_id)
        taps += 1
        assert asked.text == prompt
        assert asked.buttons == [["取消" if name == "张三" else "Cancel"]]
        assert (await say(user, code_now(settings, clock, session_id))).text == done
        assert taps <= 2
    rows = await attendance_of(database, session_id)
    assert rows[branch.member_id("张三")].checkin_method == CheckinMethod.CODE
    assert rows[branch.member_id("Eve")].checked_in_at == clock.now()


async def test_a_reminder_after_checkin_opened_carries_checkin(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, names=("张三", "李四"))
    study = await create_session(
        database, settings, clock, branch.org, starts_at=START, offsets=(120, 30)
    )
    zhang, li = branch.people["张三"], branch.people["李四"]
    invitation = await arrives(world, zhang, "📅")
    await tap(zhang, "参加", message_id=invitation.message_id)
    clock.set(at(2026, 3, 2, 17, 30))
    await run_reminders(database, clock, settings)
    early = await arrives(world, li, "⏰")
    assert early.buttons == [["参加", "请假"]]  # check-in not open yet: no 签到
    clock.set(at(2026, 3, 2, 19, 0))
    assert await run_reminders(database, clock, settings) == 2
    await world.wait_for(lambda: len([t for t in texts(li) if t.startswith("⏰")]) == 2)
    assert li.messages[-1].buttons == [["参加", "请假"], ["签到"]]
    seen = [m for m in zhang.messages if (m.shown_text or "").startswith("⏰")]
    assert shown(seen[-1]).endswith("到时见！")
    assert seen[-1].buttons == [["签到"]]
    assert study.id is not None
    asked = await tap(zhang, "签到", message_id=seen[-1].message_id)
    assert asked.text == "请输入书记屏幕上的6位数字。"


async def test_a_member_types_checkin(
    person: Person, database: Database, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, names=("张三",), english=("Eve",))
    zhang, eve = branch.people["张三"], branch.people["Eve"]
    assert (await say(zhang, "/checkin")).text == "现在没有可以签到的活动。"
    assert (await say(eve, "/checkin")).text == "No session is open for check-in now."
    session_id = await tonight(database, settings, clock, branch)
    clock.set(at(2026, 3, 2, 19, 0))
    assert (await say(zhang, "/checkin")).text == "请输入书记屏幕上的6位数字。"
    code = code_now(settings, clock, session_id)
    assert (await say(zhang, code)).text == "✅ 签到成功：学习党章。欢迎！"
    assert (await say(zhang, "/checkin")).text == "现在没有可以签到的活动。"
    assert (await say(eve, "/checkin")).text == (
        "Please type the 6-digit number shown by the secretary."
    )


async def test_after_an_expired_scan_the_typed_number_is_the_code(
    person: Person, database: Database, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, names=("张三",), english=("Eve",))
    session_id = await tonight(database, settings, clock, branch)
    clock.set(at(2026, 3, 2, 19, 0))
    old = code_now(settings, clock, session_id)
    clock.set(at(2026, 3, 2, 19, 10))  # the photographed QR code has expired
    for name, wrong, done in (
        (
            "张三",
            "数字不对或已过期。请看书记屏幕上的数字，再输入一次。",
            "✅ 签到成功：学习党章。欢迎！",
        ),
        (
            "Eve",
            "That number is wrong or has expired. Please look at the secretary's screen and "
            "type the number again.",
            "✅ Checked in: 学习党章. Welcome!",
        ),
    ):
        user = branch.people[name]
        assert (await say(user, f"/start ci_{session_id}_{old}")).text == wrong
        assert (await say(user, code_now(settings, clock, session_id))).text == done
    rows = await attendance_of(database, session_id)
    assert rows[branch.member_id("张三")].checkin_method == CheckinMethod.CODE


async def test_full_width_digits_count_and_a_photo_is_not_a_wrong_number(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, names=("张三",), english=("Eve",))
    session_id = await tonight(database, settings, clock, branch)
    clock.set(at(2026, 3, 2, 19, 0))
    for name, again in (
        ("张三", "请输入书记屏幕上的6位数字。"),
        ("Eve", "Please type the 6-digit number shown by the secretary."),
    ):
        user = branch.people[name]
        await say(user, "/checkin")
        for _ in range(6):  # more photos than wrong numbers allowed: none of them counts
            assert (await send_photo(world, user)).text == again
        code = code_now(settings, clock, session_id)
        wide = "".join(chr(ord(digit) - ord("0") + ord("０")) for digit in code)
        answer = await say(user, f"{wide[:3]} {wide[3:]}")
        assert shown(answer).startswith("✅")
    rows = await attendance_of(database, session_id)
    assert [rows[branch.member_id(n)].checkin_failures for n in ("张三", "Eve")] == [0, 0]
    assert rows[branch.member_id("张三")].checked_in_at == clock.now()


async def test_a_code_is_judged_by_when_the_member_sent_it(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, names=("张三", "李四"))
    session_id = await tonight(database, settings, clock, branch)
    clock.set(at(2026, 3, 2, 19, 0))
    code = code_now(settings, clock, session_id)  # works until 19:06
    zhang, li = branch.people["张三"], branch.people["李四"]
    await say(zhang, "/checkin")
    await say(li, "/checkin")
    clock.set(at(2026, 3, 2, 19, 5) + timedelta(seconds=50))
    await world.outboxes_drained()
    # Typed at 19:05:50, handled after 19:06 (a busy minute): still in time.
    sent = world.store_message(zhang.chat, Content(text=code), sender=zhang.to_api())
    clock.set(at(2026, 3, 2, 19, 6) + timedelta(seconds=20))
    after = zhang.mark()
    world.push_update("message", sent.to_api())
    assert (await zhang.wait_for_message(after)).text == "✅ 签到成功：学习党章。欢迎！"
    # The same code typed after 19:06 is too late, however fast it is handled.
    assert shown(await say(li, code)).startswith("数字不对或已过期")
    rows = await attendance_of(database, session_id)
    assert rows[branch.member_id("张三")].checked_in_at == clock.now()
    assert rows[branch.member_id("李四")].checked_in_at is None


async def test_the_organiser_counts_as_present(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, names=("张三", "李四"))
    deputy = branch.people["李四"]  # scheduled it; the secretary runs the check-in
    secretary = branch.secretary
    await grant(database, deputy.id, Role.DEPUTY_SECRETARY, branch.org)
    runner = await add_member(database, branch.org, "书记老刘", telegram_user_id=secretary.id)
    session_id = await tonight(database, settings, clock, branch, actor=deputy.id)
    clock.set(at(2026, 3, 2, 19, 0))
    await open_checkin(database, clock, settings)
    await arrives(world, branch.people["张三"], "📍")
    assert not [t for t in texts(deputy) if t.startswith("📍")]  # the organiser is not asked
    screen = await say(secretary, "/checkin")
    assert (screen.caption or "").endswith("已签到：1/3人")
    clock.set(at(2026, 3, 2, 21, 30))
    assert await run_closing(database, clock, settings) == 1
    rows = await attendance_of(database, session_id)
    assert runner.id is not None
    outcomes = {
        name: rows[member_id].outcome
        for name, member_id in (
            ("张三", branch.member_id("张三")),
            ("李四", branch.member_id("李四")),
            ("书记老刘", runner.id),
        )
    }
    assert outcomes == {
        "张三": AttendanceOutcome.ABSENT,
        "李四": AttendanceOutcome.PRESENT,
        "书记老刘": AttendanceOutcome.PRESENT,
    }
    makeup = {d.chat_id for d in await deliveries(database, "makeup:")}
    assert makeup == {branch.people["张三"].id}


async def test_checkin_closes_after_the_sessions_end_plus_the_grace(
    person: Person, database: Database, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, names=("张三", "李四"))
    session_id = await tonight(database, settings, clock, branch)  # 19:30, 90 minutes
    clock.set(at(2026, 3, 2, 20, 30))  # an hour in: the meeting is still running
    assert await run_closing(database, clock, settings) == 0
    zhang = branch.people["张三"]
    code = code_now(settings, clock, session_id)
    assert shown(await say(zhang, f"/start ci_{session_id}_{code}")).startswith("✅")
    clock.set(at(2026, 3, 2, 21, 29))  # 21:00 end + 30 minutes grace, less a minute
    assert await run_closing(database, clock, settings) == 0
    clock.set(at(2026, 3, 2, 21, 30))
    assert await run_closing(database, clock, settings) == 1
    rows = await attendance_of(database, session_id)
    assert rows[branch.member_id("张三")].outcome == AttendanceOutcome.PRESENT
    assert rows[branch.member_id("李四")].outcome == AttendanceOutcome.ABSENT


async def test_sessions_without_any_sends_no_keyboard(person: Person, database: Database) -> None:
    branch = await make_branch(database, person, names=("张三",))
    listing = await say(branch.people["张三"], "/sessions")
    assert listing.text == "即将举行\n无\n\n最近的活动\n无"
    assert listing.reply_markup is None


async def test_cancel_stops_the_wait_by_button_or_command_in_each_language(
    person: Person, database: Database, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, names=("张三",), english=("Eve",))
    session_id = await tonight(database, settings, clock, branch)
    clock.set(at(2026, 3, 2, 19, 0))
    zhang, eve = branch.people["张三"], branch.people["Eve"]
    assert (await say(zhang, "/cancel")).text == "现在没有要取消的事。"
    await say(zhang, "/checkin")
    assert (await say(zhang, "/cancel")).text == "已取消。"
    code = code_now(settings, clock, session_id)
    assert not shown(await say(zhang, code)).startswith("✅")  # no longer taken as the code
    prompt = await say(eve, "/checkin")
    cancelled = await tap(eve, "Cancel", message_id=prompt.message_id)
    assert (cancelled.message_id, cancelled.text) == (prompt.message_id, "Cancelled.")
    assert cancelled.buttons == []
    assert (await say(eve, "/cancel")).text == "There is nothing to cancel."
    rows = await attendance_of(database, session_id)
    assert rows[branch.member_id("张三")].checked_in_at is None


async def test_the_code_screen_refreshes_itself_as_the_code_rotates(
    person: Person,
    database: Database,
    world: World,
    clock: ManualClock,
    settings: Settings,
    bot_app: PartyApplication,
) -> None:
    branch = await make_branch(database, person, names=("张三",))
    session_id = await tonight(database, settings, clock, branch)
    screens = bot_app.bot_data[SCREENS_KEY]

    async def refresh() -> int:
        return await jobs.job_refresh_screens(
            bot_app.bot, screens, database, clock, settings=settings
        )

    clock.set(at(2026, 3, 2, 19, 0))
    first = code_now(settings, clock, session_id)
    screen = await say(branch.secretary, "/checkin")
    await bot_app.update_queue.join()  # the handler has noted the screen it sent
    assert screen.photo is not None
    old_photo = screen.photo[-1]["file_id"]
    clock.set(at(2026, 3, 2, 19, 2))
    assert len(screens.all()) == 1, screens.all()
    assert await refresh() == 0  # the same code: nothing to edit
    clock.set(at(2026, 3, 2, 19, 3))
    fresh = code_now(settings, clock, session_id)
    assert fresh != first
    assert await refresh() == 1
    edited = branch.secretary.chat.message(screen.message_id)
    assert edited is not None
    assert f"签到码：{fresh[:3]} {fresh[3:]}\n" in (edited.caption or "")
    assert "这个到19:09有效" in (edited.caption or "")
    assert edited.photo is not None
    assert edited.photo[-1]["file_id"] != old_photo
    assert edited.buttons == [["🔄 换新码", "代签到"]]
    assert len([m for m in branch.secretary.messages if m.photo]) == 1  # edited, not resent
    png = world.file_bytes(edited.photo[-1]["file_id"])
    assert png.startswith(b"\x89PNG")
    link = f"/start ci_{session_id}_{fresh}"
    assert ((await say(branch.people["张三"], link)).text or "").startswith("✅")

    clock.set(at(2026, 3, 2, 21, 30))  # check-in has closed: the screen says so, once
    assert await refresh() == 1
    closed = branch.secretary.chat.message(screen.message_id)
    assert closed is not None
    assert (closed.caption, closed.buttons) == ("这次活动的签到已经结束。", [])
    assert await refresh() == 0
