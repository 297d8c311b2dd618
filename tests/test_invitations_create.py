"""/invite through the emulator: the button flow, the QR code photo, and scope checks."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col

from bot import invitations as rules
from bot.clock import ManualClock
from handlers.invitations import CREATE, PICKER
from sandbox import World
from storage import Database
from storage.models import AuditLog, Invitation, Role
from tests.support.builders import add_member, build_tree, grant
from tests.support.invitations import (
    ZH_DONGFENG,
    Person,
    code_in,
    invitation_of,
    rows,
)

PNG = b"\x89PNG\r\n\x1a\n"


async def test_secretary_creates_an_invitation_with_a_qr_code(
    person: Person, database: Database, clock: ManualClock, world: World
) -> None:
    tree = await build_tree(database)
    sec = person("王书记")
    await grant(database, sec.id, Role.SECRETARY, tree.dongfeng)

    await sec.send("/invite")
    step = await sec.wait_for_reply()
    assert step.text == f"邀请加入：{ZH_DONGFENG}\n新成员是什么身份？"
    assert step.buttons == [["党员"], ["副书记"]]  # a secretary cannot make secretaries

    await sec.tap("党员")
    step = await sec.wait_for_reply()
    assert step.text == f"邀请加入：{ZH_DONGFENG}（党员）\n这个邀请可以给几个人用？"
    assert step.buttons == [["1", "10", "50", "不限"]]

    await sec.tap("10")
    step = await sec.wait_for_reply()
    assert step.buttons == [["1 天", "7 天（常用）", "30 天"]]

    await sec.tap("7 天（常用）")
    assert (await sec.wait_for_reply()).text == "邀请已生成，二维码如下："
    photo = await sec.wait_for_reply()
    assert photo.photo is not None
    assert world.file_bytes(photo.photo[-1]["file_id"]).startswith(PNG)
    code = code_in(photo.caption)
    assert photo.caption == (
        f"邀请加入：{ZH_DONGFENG}\n身份：党员\n剩余次数：10\n有效期至：3月9日（周一）09:00\n"
        f"https://t.me/partybot_test_bot?start={code}\n"
        "请打印这张二维码，贴在村委会。用 Telegram 扫码就能加入。"
    )
    assert 10 <= len(code) <= 12

    invitation = await invitation_of(database, code)
    assert invitation.code_hash == rules.hash_code(code) != code
    assert (invitation.org_id, invitation.role, invitation.max_uses) == (
        tree.dongfeng.id,
        Role.MEMBER,
        10,
    )
    assert invitation.expires_at == clock.now() + timedelta(days=7)
    assert invitation.created_by == sec.id
    audit = await rows(database, AuditLog)
    assert [(a.action, a.actor_telegram_id, a.target_id) for a in audit] == [
        ("invitation.create", sec.id, invitation.id)
    ]


async def test_the_caption_speaks_english_to_english_users(
    person: Person, database: Database
) -> None:
    tree = await build_tree(database)
    sec = person("Wang", language="en")
    await grant(database, sec.id, Role.DEPUTY_SECRETARY, tree.dongfeng)

    await sec.send("/invite")
    step = await sec.wait_for_reply()  # a deputy may only invite members: no role step
    assert (
        step.text == f"Invitation to {ZH_DONGFENG} as party member.\nHow many people may use it?"
    )
    await sec.tap("unlimited")
    step = await sec.wait_for_reply()
    assert step.buttons == [["1 day", "7 days (usual)", "30 days"]]
    await sec.tap("1 day")
    assert (await sec.wait_for_reply()).text == "Invitation created. Here is its QR code:"
    photo = await sec.wait_for_reply()
    code = code_in(photo.caption)
    assert (photo.caption or "").splitlines()[:4] == [
        f"Invitation to join {ZH_DONGFENG}",
        "Role: party member",
        "Uses left: unlimited",
        "Valid until: Tue 3 Mar 09:00",
    ]
    invitation = await invitation_of(database, code)
    assert invitation.max_uses == rules.UNLIMITED_USES


async def test_county_staff_walk_from_township_to_branch_and_may_give_any_branch_role(
    person: Person, database: Database
) -> None:
    tree = await build_tree(database)
    staff = person("县组织部")
    await grant(database, staff.id, Role.COUNTY_STAFF, tree.county)

    await staff.send("/invite")
    step = await staff.wait_for_reply()
    assert step.text == "红旗县\n邀请加入哪个支部？请选择："
    assert step.buttons == [["东风镇党委 ›"], ["前进乡党委 ›"]]
    await staff.tap("前进乡党委 ›")
    step = await staff.wait_for_reply()
    assert step.text == "红旗县 / 前进乡党委\n邀请加入哪个支部？请选择："
    assert step.buttons[0] == ["前进村党支部"]
    await staff.tap("前进村党支部")
    step = await staff.wait_for_reply()
    assert step.buttons == [["党员"], ["副书记"], ["书记"]]


async def test_township_organiser_picks_among_the_branches_of_the_township(
    person: Person, database: Database
) -> None:
    tree = await build_tree(database)
    organiser = person("镇组织委员")
    await grant(database, organiser.id, Role.TOWNSHIP_ORGANISER, tree.townships["T01"])

    await organiser.send("/invite")
    step = await organiser.wait_for_reply()
    assert step.text == "红旗县 / 东风镇党委\n邀请加入哪个支部？请选择："
    assert step.buttons == [["东风村党支部"], ["柳树村党支部"]]
    for label in ("柳树村党支部", "书记", "30 天"):  # a role is for one person: no uses step
        await organiser.tap(label)
        await organiser.wait_for_reply()
    assert (await organiser.wait_for_reply()).photo is not None
    invitations = await rows(database, Invitation)
    assert [(i.org_id, i.role, i.max_uses) for i in invitations] == [
        (tree.liushu.id, Role.SECRETARY, 1)
    ]


async def test_a_member_cannot_invite_at_all(person: Person, database: Database) -> None:
    tree = await build_tree(database)
    alice = person("阿丽")
    await add_member(database, tree.dongfeng, "阿丽", telegram_user_id=alice.id)

    await alice.send("/invite")
    reply = await alice.wait_for_reply()
    assert reply.text == "只有支部书记、副书记和乡镇、县里的工作人员才能生成邀请。"
    await alice.send("/invites")
    reply = await alice.wait_for_reply()
    assert reply.text == "只有支部书记、副书记和乡镇、县里的工作人员才能管理邀请。"
    assert await rows(database, Invitation) == []
    assert await rows(database, AuditLog) == []


async def test_forged_buttons_outside_the_scope_write_nothing(
    person: Person, database: Database
) -> None:
    tree = await build_tree(database)
    sec = person("王书记")
    await grant(database, sec.id, Role.SECRETARY, tree.dongfeng)
    await sec.send("/invite")
    step = await sec.wait_for_reply()
    assert tree.qianjin.id is not None
    assert tree.dongfeng.id is not None

    forged = CREATE.encode(tree.qianjin.id, Role.MEMBER.value, 1, 7)
    answer = await sec.wait_for_callback_answer(
        await sec.tap_data(forged, message_id=step.message_id)
    )
    assert (answer.text, answer.show_alert) == ("您没有权限在这里做这件事。", True)

    too_high = CREATE.encode(tree.dongfeng.id, Role.SECRETARY.value, 1, 7)
    answer = await sec.wait_for_callback_answer(
        await sec.tap_data(too_high, message_id=step.message_id)
    )
    assert answer.text == "您不能在这里给这个身份。"

    odd_uses = CREATE.encode(tree.dongfeng.id, Role.MEMBER.value, 7, 7)
    answer = await sec.wait_for_callback_answer(
        await sec.tap_data(odd_uses, message_id=step.message_id)
    )
    assert answer.text == "这个按钮已经失效。"

    elsewhere = PICKER.pick.encode(0, tree.qianjin.id)
    answer = await sec.wait_for_callback_answer(
        await sec.tap_data(elsewhere, message_id=step.message_id)
    )
    assert answer.text == "您没有权限在这里做这件事。"
    assert await rows(database, Invitation) == []
    assert await rows(database, AuditLog) == []


async def test_higher_roles_only_where_the_inviter_outranks_them(
    person: Person, database: Database
) -> None:
    tree = await build_tree(database)
    organiser = person("镇组织委员")
    await grant(database, organiser.id, Role.TOWNSHIP_ORGANISER, tree.townships["T01"])
    await grant(database, organiser.id, Role.DEPUTY_SECRETARY, tree.qianjin)

    await organiser.send("/invite")
    step = await organiser.wait_for_reply()  # two scopes: both at the top
    assert step.buttons == [["东风镇党委 ›"], ["前进村党支部"]]
    await organiser.tap("前进村党支部")
    step = await organiser.wait_for_reply()
    # Only a deputy there: members only, straight to the number of uses.
    assert step.text == "邀请加入：前进乡党委 / 前进村党支部（党员）\n这个邀请可以给几个人用？"
    assert step.buttons == [["1", "10", "50", "不限"]]
    assert tree.qianjin.id is not None
    forged = CREATE.encode(tree.qianjin.id, Role.DEPUTY_SECRETARY.value, 1, 7)
    answer = await organiser.wait_for_callback_answer(
        await organiser.tap_data(forged, message_id=step.message_id)
    )
    assert answer.text == "您不能在这里给这个身份。"
    assert await rows(database, Invitation, col(Invitation.role) != Role.MEMBER) == []


async def test_a_double_tap_on_create_makes_one_invitation(
    person: Person, database: Database
) -> None:
    tree = await build_tree(database)
    sec = person("王书记")
    await grant(database, sec.id, Role.SECRETARY, tree.dongfeng)
    await sec.send("/invite")
    await sec.wait_for_reply()
    await sec.tap("党员")
    await sec.wait_for_reply()
    await sec.tap("10")
    step = await sec.wait_for_reply()
    create = CREATE.encode(tree.dongfeng.id or 0, Role.MEMBER.value, 10, 7)
    first = await sec.tap_data(create, message_id=step.message_id)
    second = await sec.tap_data(create, message_id=step.message_id)
    await sec.wait_for_callback_answer(first)
    answer = await sec.wait_for_callback_answer(second)
    assert answer.text == "这个邀请已经生成过了。"
    assert len(await rows(database, Invitation)) == 1
