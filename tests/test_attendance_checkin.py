"""签到: the secretary's QR and number, scan-and-Start, typing the number, stale and wrong
codes, the window, proxy marking from the roster (audited), and the signing key."""

from __future__ import annotations

import pytest

from bot.checkin import current_code
from bot.clock import ManualClock
from bot.settings import Settings, SettingsError, load_settings
from handlers.session_codecs import PROXY
from sandbox import World
from storage import Database, roles
from storage.models import CheckinMethod, Role
from tests.support.audit import audit_log
from tests.support.builders import add_member
from tests.support.constants import TOKEN
from tests.support.conversation import deleted, say, shown, tap
from tests.support.sessions import (
    Branch,
    Person,
    arrives,
    at,
    attendance_of,
    create_session,
    labels,
    make_branch,
    refused,
)

START = at(2026, 3, 2, 19, 30)  # tonight
CARD = "学习党章\n活动：支委会\n时间：3月2日（周一）19:30（90分钟）\n地点：村委会会议室"


async def tonight(
    database: Database, settings: Settings, clock: ManualClock, branch: Branch
) -> int:
    study = await create_session(database, settings, clock, branch.org, starts_at=START)
    assert study.id is not None
    return study.id


def code_now(settings: Settings, clock: ManualClock, session_id: int) -> str:
    return current_code(settings.signing_key, session_id, clock.now()).code


async def test_the_checkin_screen_shows_a_qr_code_and_the_same_code_as_a_number(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person)
    session_id = await tonight(database, settings, clock, branch)
    clock.set(at(2026, 3, 2, 19, 0))
    code = code_now(settings, clock, session_id)

    screen = await say(branch.secretary, "/checkin")
    assert screen.photo is not None
    png = world.file_bytes(screen.photo[-1]["file_id"])
    assert png.startswith(b"\x89PNG")
    assert screen.caption == (
        f"{CARD}\n"
        "\n"
        f"签到码：{code[:3]} {code[3:]}\n"
        "用手机相机扫二维码，再点“开始”就签到了。也可以在机器人里点“签到”，输入这个数字。\n"
        "数字每隔几分钟换一次，这个到19:06有效。\n"
        "已签到：0/3人"
    )
    assert screen.buttons == [["🔄 换新码", "代签到"]]


async def test_scan_and_start_checks_in_once(
    person: Person, database: Database, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person)
    session_id = await tonight(database, settings, clock, branch)
    clock.set(at(2026, 3, 2, 19, 10))
    link = f"/start ci_{session_id}_{code_now(settings, clock, session_id)}"
    zhang = branch.people["张三"]

    assert (await say(zhang, link)).text == "✅ 签到成功：学习党章。欢迎！"
    assert (await say(zhang, link)).text == "您已经签到了。"  # a replayed Start
    row = (await attendance_of(database, session_id))[branch.member_id("张三")]
    assert (row.checked_in_at, row.checkin_method) == (clock.now(), CheckinMethod.QR)


async def test_an_old_code_stops_working_within_minutes(
    person: Person, database: Database, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person)
    session_id = await tonight(database, settings, clock, branch)
    clock.set(at(2026, 3, 2, 19, 0))
    old = code_now(settings, clock, session_id)
    clock.set(at(2026, 3, 2, 19, 4))  # the next slot: still accepted
    zhang, li = branch.people["张三"], branch.people["李四"]
    assert shown(await say(zhang, f"/start ci_{session_id}_{old}")).startswith("✅ 签到成功")
    clock.set(at(2026, 3, 2, 19, 7))  # two slots on: a forwarded photo no longer works
    stale = await say(li, f"/start ci_{session_id}_{old}")
    assert stale.text == "数字不对或已过期。请看书记屏幕上的数字，再输入一次。"
    rows = await attendance_of(database, session_id)
    assert rows[branch.member_id("李四")].checked_in_at is None
    assert rows[branch.member_id("李四")].checkin_failures == 1
    fresh = code_now(settings, clock, session_id)
    assert shown(await say(li, f"/start ci_{session_id}_{fresh}")).startswith("✅ 签到成功")


async def test_tap_check_in_and_type_the_number(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person)
    session_id = await tonight(database, settings, clock, branch)
    wang = branch.people["王五"]
    await arrives(world, wang, "📅")
    clock.set(at(2026, 3, 2, 19, 20))
    listing = await say(wang, "/sessions")
    view = await tap(wang, labels(listing)[0])
    assert "签到" in labels(view)
    prompt = await tap(wang, "签到")
    assert prompt.text == "请输入书记屏幕上的6位数字。"
    assert (await say(wang, "000000")).text == (
        "数字不对或已过期。请看书记屏幕上的数字，再输入一次。"
    )
    code = code_now(settings, clock, session_id)
    assert (await say(wang, f"{code[:3]} {code[3:]}")).text == "✅ 签到成功：学习党章。欢迎！"
    row = (await attendance_of(database, session_id))[branch.member_id("王五")]
    assert (row.checkin_method, row.checkin_failures) == (CheckinMethod.CODE, 1)


async def test_too_many_wrong_numbers_leave_only_the_secretary(
    person: Person, database: Database, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person)
    session_id = await tonight(database, settings, clock, branch)
    clock.set(at(2026, 3, 2, 19, 20))
    zhang = branch.people["张三"]
    for guess in range(4):
        await say(zhang, f"/start ci_{session_id}_{guess:06d}")
    assert (await say(zhang, f"/start ci_{session_id}_999999")).text == (
        "输错太多次了。请书记帮您签到。"
    )
    right = f"/start ci_{session_id}_{code_now(settings, clock, session_id)}"
    assert (await say(zhang, right)).text == "输错太多次了。请书记帮您签到。"
    row = (await attendance_of(database, session_id))[branch.member_id("张三")]
    assert row.checked_in_at is None


async def test_outside_the_window_and_outside_the_list(
    person: Person, database: Database, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person)
    session_id = await tonight(database, settings, clock, branch)
    zhang = branch.people["张三"]
    clock.set(at(2026, 3, 2, 18, 50))
    early = await say(zhang, f"/start ci_{session_id}_{code_now(settings, clock, session_id)}")
    assert early.text == "19:00开始签到。"
    assert (await say(branch.secretary, "/checkin")).text == (
        "现在没有可以签到的活动。活动开始前30分钟开始签到。"
    )

    outsider = person("柳树村党员")
    await add_member(database, branch.tree.liushu, "柳树村党员", telegram_user_id=outsider.id)
    clock.set(at(2026, 3, 2, 19, 30))
    link = f"/start ci_{session_id}_{code_now(settings, clock, session_id)}"
    assert (await say(outsider, link)).text == "您不在这次活动的名单上，请问一下书记。"

    clock.set(at(2026, 3, 2, 21, 30))  # 19:30 + 90 minutes + 30 minutes of grace
    late = f"/start ci_{session_id}_{code_now(settings, clock, session_id)}"
    assert (await say(zhang, late)).text == "这次活动的签到已经结束。"
    # Not a check-in payload, so an invitation code (unknown to a newcomer), never check-in.
    assert (await say(person("新人"), "/start ci_x")).text == (
        "这个邀请码不对。请检查链接，或向支部书记要一个新的邀请。"
    )
    invited = await attendance_of(database, session_id)
    assert {member_id: row.checked_in_at for member_id, row in invited.items()} == {
        branch.member_id(name): None for name in ("张三", "李四", "王五")
    }


async def test_the_secretary_marks_members_present_from_the_roster(
    person: Person, database: Database, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, names=("张三",), offline=("赵老汉",))
    session_id = await tonight(database, settings, clock, branch)
    clock.set(at(2026, 3, 2, 19, 10))
    sec = branch.secretary
    await say(sec, "/checkin")
    roster = await tap(sec, "代签到")
    assert roster.text == "点名字即为他签到（学习党章）。"
    assert roster.buttons == [["☐ 张三"], ["☐ 赵老汉"], ["返回出勤情况"]]

    query = await sec.tap("☐ 赵老汉")
    assert (await sec.wait_for_callback_answer(query)).text == "已为赵老汉签到"
    updated = await sec.wait_for_reply()
    assert updated.buttons == [["☐ 张三"], ["返回出勤情况"]]
    replay = await sec.tap_data(
        PROXY.encode(session_id, branch.member_id("赵老汉"), 0), message_id=updated.message_id
    )
    assert (await sec.wait_for_callback_answer(replay)).text == "赵老汉已经签到了。"

    row = (await attendance_of(database, session_id))[branch.member_id("赵老汉")]
    assert (row.checkin_method, row.marked_by) == (CheckinMethod.PROXY, sec.id)
    [entry] = await audit_log(database, prefix="attendance.proxy")
    assert (entry.actor_telegram_id, entry.target_id) == (sec.id, row.id)


async def test_a_new_code_replaces_the_old_screen(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, names=("张三",))
    session_id = await tonight(database, settings, clock, branch)
    clock.set(at(2026, 3, 2, 19, 0))
    first = await say(branch.secretary, "/checkin")
    clock.set(at(2026, 3, 2, 19, 9))
    await branch.secretary.tap("🔄 换新码")
    second = await arrives(world, branch.secretary, "这个到19:15有效")
    code = code_now(settings, clock, session_id)
    assert f"签到码：{code[:3]} {code[3:]}" in (second.caption or "")
    await world.wait_for(lambda: deleted(branch.secretary, first.message_id))


async def test_checkin_typed_by_a_member_asks_for_the_number_not_the_screen(
    person: Person, database: Database, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, names=("张三",))
    await tonight(database, settings, clock, branch)
    clock.set(at(2026, 3, 2, 19, 0))
    answer = await say(branch.people["张三"], "/checkin")
    assert (answer.text, answer.photo) == ("请输入书记屏幕上的6位数字。", None)


def test_the_signing_key_comes_from_the_secret_or_the_token() -> None:
    derived = load_settings(env_file=None, TELEGRAM_BOT_TOKEN=TOKEN)
    assert len(derived.signing_key) == 32
    assert TOKEN.encode() not in derived.signing_key
    chosen = load_settings(
        env_file=None, TELEGRAM_BOT_TOKEN=TOKEN, PARTYBOT_SECRET_KEY="a-long-random-secret"
    )
    assert chosen.signing_key == b"a-long-random-secret"
    with pytest.raises(SettingsError, match="invalid setting PARTYBOT_SECRET_KEY: must be at"):
        load_settings(env_file=None, PARTYBOT_SECRET_KEY="short")
    with pytest.raises(ValueError, match="PARTYBOT_SECRET_KEY or TELEGRAM_BOT_TOKEN"):
        _ = load_settings(env_file=None).signing_key


async def test_buttons_of_a_closed_checkin_window_are_refused(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, names=("张三",))
    await tonight(database, settings, clock, branch)
    zhang, sec = branch.people["张三"], branch.secretary
    await arrives(world, zhang, "📅")
    clock.set(at(2026, 3, 2, 19, 20))
    listing = await say(zhang, "/sessions")
    await tap(zhang, labels(listing)[0])
    screen = await say(sec, "/checkin")
    clock.set(at(2026, 3, 2, 21, 31))
    assert await refused(zhang, "签到") == "这次活动的签到已经结束。"
    assert await refused(sec, "🔄 换新码", message_id=screen.message_id) == (
        "这次活动的签到已经结束。"
    )


async def test_a_new_code_is_refused_once_the_role_is_gone(
    person: Person, database: Database, clock: ManualClock, settings: Settings
) -> None:
    """🔄 on an old screen is checked again: the right is judged when it is tapped."""
    branch = await make_branch(database, person, names=("张三",))
    await tonight(database, settings, clock, branch)
    clock.set(at(2026, 3, 2, 19, 0))
    first = await say(branch.secretary, "/checkin")
    async with database.session_scope() as db:
        assert await roles.revoke_role(
            db=db,
            telegram_user_id=branch.secretary.id,
            role=Role.SECRETARY,
            org_id=branch.org.id or 0,
        )
    query = await branch.secretary.tap("🔄 换新码", message_id=first.message_id)
    answer = await branch.secretary.wait_for_callback_answer(query)
    assert answer.text == "您没有权限在这里做这件事。"
    assert [m.message_id for m in branch.secretary.messages if m.photo] == [first.message_id]
