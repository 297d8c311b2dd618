"""/members: the roster with link state, paging, member cards, and who may see what."""

from __future__ import annotations

from datetime import date

from sandbox import World
from storage import Database
from storage.models import MemberStatus, Role
from tests.support.builders import add_member, build_tree, grant
from tests.support.conversation import say, shown, tap
from tests.support.roles import (
    Person,
    buttons,
    forge,
    snapshot,
)


async def test_secretary_sees_her_branch_with_link_state_in_chinese(
    person: Person, database: Database
) -> None:
    tree = await build_tree(database)
    alice = person("阿丽")
    await add_member(database, tree.dongfeng, "王丽", telegram_user_id=alice.id)
    await grant(database, alice.id, Role.SECRETARY, tree.dongfeng)
    await add_member(database, tree.dongfeng, "张三", phone="13800000001")
    await add_member(database, tree.liushu, "别村的人")

    roster = await say(alice, "/members")

    assert roster.text == (
        "红旗县 / 东风镇党委 / 东风村党支部\n"
        "共 2 人：已绑定 1 人，未绑定 1 人\n"
        "第 1/1 页，点姓名查看详情。"
    )
    assert roster.buttons == [["张三（未绑定）"], ["✅ 王丽"]]


async def test_roster_pages_ten_at_a_time(person: Person, database: Database) -> None:
    tree = await build_tree(database)
    alice = person("阿丽")
    await grant(database, alice.id, Role.SECRETARY, tree.dongfeng)
    for n in range(12):
        await add_member(database, tree.dongfeng, f"党员{n:02d}")

    first = await say(alice, "/members")
    assert "共 12 人：已绑定 0 人，未绑定 12 人" in shown(first)
    assert "第 1/2 页" in shown(first)
    assert buttons(first)[-1] == "下一页 ▶"
    assert len(first.buttons) == 11

    second = await tap(alice, "下一页 ▶")
    assert "第 2/2 页" in shown(second)
    assert second.buttons == [["党员10（未绑定）"], ["党员11（未绑定）"], ["◀ 上一页"]]


async def test_member_card_shows_details_and_actions_to_the_secretary(
    person: Person, database: Database
) -> None:
    tree = await build_tree(database)
    alice = person("阿丽")
    await grant(database, alice.id, Role.SECRETARY, tree.dongfeng)
    await add_member(
        database,
        tree.dongfeng,
        "张三",
        phone="13812345678",
        status=MemberStatus.PROBATIONARY,
        joined_on=date(2025, 7, 1),
    )

    await say(alice, "/members")
    card = await tap(alice, "张三（未绑定）")

    assert card.text == (
        "张三\n"
        "支部：红旗县 / 东风镇党委 / 东风村党支部\n"
        "电话：13812345678\n"
        "身份：预备党员\n"
        "入党日期：2025年7月1日\n"
        "Telegram：未绑定"
    )
    # One branch in reach: nowhere to transfer to, so no transfer button.
    assert card.buttons == [["状态", "停用"], ["返回名册"]]
    back = await tap(alice, "返回名册")
    assert back.buttons[0] == ["张三（未绑定）"]


async def test_members_without_phone_stay_on_the_roster(
    person: Person, database: Database
) -> None:
    tree = await build_tree(database)
    alice = person("阿丽")
    await grant(database, alice.id, Role.SECRETARY, tree.dongfeng)
    await add_member(database, tree.dongfeng, "李四")
    await say(alice, "/members")
    card = await tap(alice, "李四（未绑定）")
    assert "电话：未登记" in shown(card)
    assert "入党日期：未登记" in shown(card)


async def test_inspector_sees_masked_phones_and_no_actions(
    person: Person, database: Database
) -> None:
    tree = await build_tree(database)
    ivan = person("督查")
    await grant(database, ivan.id, Role.INSPECTOR, tree.county)
    await add_member(database, tree.dongfeng, "张三", phone="13812345678")

    picker = await say(ivan, "/members")
    assert picker.text == "红旗县\n查看哪个支部的名册？请选择："
    assert picker.buttons == [["东风镇党委 ›"], ["前进乡党委 ›"]]
    township = await tap(ivan, "东风镇党委 ›")
    assert township.text == "红旗县 / 东风镇党委\n查看哪个支部的名册？请选择："
    assert township.buttons == [["东风村党支部"], ["柳树村党支部"], ["⬆ 返回上级"]]
    roster = await tap(ivan, "东风村党支部")
    assert roster.buttons[-1] == ["其他支部"]
    card = await tap(ivan, "张三（未绑定）")
    assert "电话：*******5678" in shown(card)
    assert card.buttons == [["返回名册"]]


async def test_township_organiser_picks_a_branch_in_her_township(
    person: Person, database: Database
) -> None:
    tree = await build_tree(database)
    tina = person("组织委员")
    await grant(database, tina.id, Role.TOWNSHIP_ORGANISER, tree.townships["T01"])
    await add_member(database, tree.liushu, "柳树人")
    picker = await say(tina, "/members")
    assert picker.buttons == [["东风村党支部"], ["柳树村党支部"]]
    roster = await tap(tina, "柳树村党支部")
    assert shown(roster).startswith("红旗县 / 东风镇党委 / 柳树村党支部\n共 1 人")


async def test_a_member_without_a_role_is_refused(person: Person, database: Database) -> None:
    tree = await build_tree(database)
    bob = person("老王")
    await add_member(database, tree.dongfeng, "王大爷", telegram_user_id=bob.id)
    answer = await say(bob, "/members")
    assert answer.text == "只有支部委员和组织部门工作人员可以查看名册。"


async def test_forged_card_outside_the_scope_is_refused(
    person: Person, database: Database
) -> None:
    tree = await build_tree(database)
    alice = person("阿丽")
    await grant(database, alice.id, Role.SECRETARY, tree.dongfeng)
    stranger = await add_member(database, tree.qianjin, "外村人", phone="13900000000")
    await say(alice, "/members")
    before = await snapshot(database)

    answer = await forge(alice, f"ros.m:{stranger.id}:0")
    assert answer.text == "您没有权限在这里做这件事。"
    assert answer.show_alert is True
    answer = await forge(alice, f"ros.p:{tree.qianjin.id}:0")
    assert answer.text == "您没有权限在这里做这件事。"
    assert await snapshot(database) == before
    assert "外村人" not in (alice.last_text or "")


async def test_roster_in_english(person: Person, database: Database, world: World) -> None:
    tree = await build_tree(database)
    eve = person("Eve", language="en")
    await grant(database, eve.id, Role.SECRETARY, tree.dongfeng)
    await add_member(database, tree.dongfeng, "Zhang San", phone="13812345678")
    roster = await say(eve, "/members")
    assert roster.text == (
        "红旗县 / 东风镇党委 / 东风村党支部\n"
        "Members: 1 (0 on Telegram, 1 not linked)\n"
        "Page 1 of 1. Tap a name to open the card."
    )
    card = await tap(eve, "Zhang San (not linked)")
    assert shown(card).splitlines()[1:] == [
        "Branch: 红旗县 / 东风镇党委 / 东风村党支部",
        "Phone: 13812345678",
        "Status: full member",
        "Joined: not recorded",
        "Telegram: not linked",
    ]
    assert card.buttons == [["Status", "Deactivate"], ["Back to the roster"]]
