"""After the session: explicit absences, make-up study confirmed with one tap, minutes with
photos, the evening-before digest and the three-absences warning."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import ManualClock
from bot.session_buttons import MAKEUP
from bot.settings import Settings
from sandbox import World
from schedules import sessions as jobs
from storage import Database
from storage.models import AttachmentKind, AttendanceOutcome, SessionState
from tests.support.audit import audit_log
from tests.support.conversation import say, shown, tap
from tests.support.sessions import (
    Branch,
    Person,
    arrives,
    at,
    attendance_of,
    checked_in,
    create_session,
    deliveries,
    make_branch,
    on_approved_leave,
    run_closing,
    send_photo,
    stored_session,
    texts,
    uploaded,
)

START = at(2026, 3, 2, 19, 30)
CARD = "学习党章\n活动：支委会\n时间：3月2日（周一）19:30（90分钟）\n地点：村委会会议室"


async def held_tonight(
    database: Database,
    settings: Settings,
    clock: ManualClock,
    branch: Branch,
    *,
    materials_text: str | None = None,
    materials_file: tuple[str, AttachmentKind] | None = None,
) -> int:
    """Tonight's session: 张三 checked in, 李四 on approved leave, the rest did nothing."""
    study = await create_session(
        database,
        settings,
        clock,
        branch.org,
        starts_at=START,
        materials_text=materials_text,
        materials_file=materials_file,
    )
    assert study.id is not None
    await on_approved_leave(database, study.id, branch.member_id("李四"), clock.now())
    clock.set(at(2026, 3, 2, 19, 20))
    await checked_in(database, study.id, branch.member_id("张三"), clock.now())
    return study.id


async def test_after_the_window_everyone_unmarked_is_absent_in_an_explicit_row(
    person: Person, database: Database, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, offline=("赵老汉",))
    session_id = await held_tonight(database, settings, clock, branch)

    clock.set(at(2026, 3, 2, 21, 29))
    assert await run_closing(database, clock, settings) == 0
    clock.set(at(2026, 3, 2, 21, 30))
    assert await run_closing(database, clock, settings) == 1
    assert await run_closing(database, clock, settings) == 0

    assert (await stored_session(database, session_id)).state == SessionState.CLOSED
    outcomes = {
        name: (await attendance_of(database, session_id))[branch.member_id(name)].outcome
        for name in ("张三", "李四", "王五", "赵老汉")
    }
    assert outcomes == {
        "张三": AttendanceOutcome.PRESENT,
        "李四": AttendanceOutcome.EXCUSED,
        "王五": AttendanceOutcome.ABSENT,
        "赵老汉": AttendanceOutcome.ABSENT,
    }


async def test_absentees_get_the_materials_and_confirm_the_make_up_with_one_tap(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person)
    session_id = await held_tonight(
        database, settings, clock, branch, materials_text="学习《党章》第一章：总纲"
    )
    clock.set(at(2026, 3, 2, 21, 30))
    await run_closing(database, clock, settings)

    wang, li = branch.people["王五"], branch.people["李四"]
    makeup = await arrives(world, wang, "📖")
    assert makeup.text == (
        f"📖 补学：您没参加的这次活动\n{CARD}\n学习《党章》第一章：总纲\n学完后请点下面的按钮。"
    )
    assert makeup.buttons == [["我已学习"]]
    await arrives(world, li, "📖")  # excused: make-up too
    assert not any(text.startswith("📖") for text in texts(branch.people["张三"]))
    assert len(await deliveries(database, "makeup:")) == 2

    query = await wang.tap("我已学习")
    assert (await wang.wait_for_callback_answer(query)).text == "谢谢！"
    await arrives(world, wang, "已记下您完成补学")
    row = (await attendance_of(database, session_id))[branch.member_id("王五")]
    assert row.makeup_sent_at is not None
    assert row.makeup_done_at == clock.now()
    again = await wang.tap_data(MAKEUP.encode(row.id or 0), message_id=makeup.message_id)
    assert (await wang.wait_for_callback_answer(again)).text == "已经记下了，谢谢！"
    assert texts(wang).count("✅ 已记下您完成补学，辛苦了！") == 1


async def test_a_materials_file_comes_with_the_make_up(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person)
    file_id = uploaded(world, "党章.pdf", AttachmentKind.DOCUMENT)
    await held_tonight(
        database, settings, clock, branch, materials_file=(file_id, AttachmentKind.DOCUMENT)
    )
    clock.set(at(2026, 3, 2, 21, 30))
    await run_closing(database, clock, settings)
    makeup = await arrives(world, branch.people["王五"], "📖")
    assert makeup.document is not None
    assert world.file_bytes(makeup.document["file_id"]) == b"%PDF-1.4 study material"
    assert (
        makeup.caption
        == f"📖 补学：您没参加的这次活动\n{CARD}\n请学习上面的内容。\n学完后请点下面的按钮。"
    )


async def test_the_secretary_records_minutes_and_photos(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person)
    session_id = await held_tonight(database, settings, clock, branch)
    sec = branch.secretary
    clock.set(at(2026, 3, 2, 21, 0))
    prompt = await say(sec, "/minutes")
    assert prompt.text == "请发送“学习党章”的会议记录（文字），有照片也可以发。发完点“完成”。"
    assert prompt.buttons == [["完成"], ["取消"]]
    assert (await say(sec, "一、学习党章第一章。二、讨论发展党员。")).text == (
        "已保存。可以继续发，发完点“完成”。"
    )
    assert (await send_photo(world, sec, caption="会场照片")).text == (
        "已保存。可以继续发，发完点“完成”。"
    )
    done = await tap(sec, "完成")
    assert done.text == "“学习党章”的会议记录已保存：文字24字，照片1张。"

    study = await stored_session(database, session_id)
    assert study.minutes_text == "一、学习党章第一章。二、讨论发展党员。\n会场照片"
    assert len(study.minutes_photo_ids or []) == 1
    assert len(await audit_log(database, prefix="session.minutes")) == 2
    # After Done, text is no longer taken as minutes (another feature answers it).
    assert not shown(await say(sec, "随便说一句")).startswith("已保存")
    assert (await stored_session(database, session_id)).minutes_text == study.minutes_text


async def test_long_minutes_are_kept_whole_even_when_the_app_splits_them(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person)
    session_id = await held_tonight(database, settings, clock, branch)
    sec = branch.secretary
    clock.set(at(2026, 3, 2, 21, 0))
    await say(sec, "/minutes")
    long_text = "记" * 3500
    assert (await say(sec, long_text)).text == "已保存。可以继续发，发完点“完成”。"
    assert (await say(sec, "录" * 4096)).text == "已保存。可以继续发，发完点“完成”。"
    assert (await say(sec, "尾")).text == "已保存。可以继续发，发完点“完成”。"
    done = await tap(sec, "完成")
    assert done.text == "“学习党章”的会议记录已保存：文字7599字，照片0张。"
    study = await stored_session(database, session_id)
    assert study.minutes_text == f"{long_text}\n{'录' * 4096}\n尾"


async def test_a_member_cannot_record_minutes(person: Person, database: Database) -> None:
    branch = await make_branch(database, person, names=("张三",))
    assert (await say(branch.people["张三"], "/minutes")).text == "您没有权限在这里做这件事。"


async def test_the_evening_before_the_secretary_hears_who_has_not_answered(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person)
    await create_session(database, settings, clock, branch.org, starts_at=at(2026, 3, 3, 19, 30))
    zhang = branch.people["张三"]
    await arrives(world, zhang, "📅")
    await tap(zhang, "参加")

    clock.set(at(2026, 3, 2, 19, 59))
    assert await jobs.job_evening_digest(database, clock, settings=settings) == 0
    clock.set(at(2026, 3, 2, 20, 0))
    assert await jobs.job_evening_digest(database, clock, settings=settings) == 1
    assert await jobs.job_evening_digest(database, clock, settings=settings) == 0
    digest = await arrives(world, branch.secretary, "🌙")
    assert digest.text == (
        "🌙 明天的活动：\n"
        "学习党章\n"
        "活动：支委会\n"
        "时间：3月3日（周二）19:30（90分钟）\n"
        "地点：村委会会议室\n"
        "\n"
        "还没回复（2人）：李四、王五"
    )


async def test_three_absences_in_a_row_tell_the_member_and_the_secretary(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, names=("张三", "王五"))
    wang = branch.people["王五"]
    for week in range(4):
        start = START + timedelta(days=7 * week)
        study = await create_session(database, settings, clock, branch.org, starts_at=start)
        assert study.id is not None
        clock.set(start)
        await checked_in(database, study.id, branch.member_id("张三"), clock.now())
        clock.set(start + timedelta(hours=2))
        await run_closing(database, clock, settings)
        warnings = await deliveries(database, "absences:")
        if week < 2:
            assert warnings == []
        if week == 2:
            assert len(warnings) == 2
    assert len(await deliveries(database, "absences:")) == 2  # the 4th absence adds none

    # 王五's chat has nine messages queued; the relay sends one a second to a chat.
    told = await arrives(world, wang, "⚠️", timeout=20)
    assert told.text == "⚠️ 您已连续3次没参加活动。下次请一定来，来不了请提前请假。"
    officer = await arrives(world, branch.secretary, "⚠️", timeout=20)
    assert officer.text == "⚠️ 连续3次缺席：王五。请找他们谈谈。"
    assert not any(text.startswith("⚠️") for text in texts(branch.people["张三"]))
