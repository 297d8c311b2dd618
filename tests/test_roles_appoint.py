"""/appoint: giving and removing roles within scope; the appointee is told and re-menued."""

from __future__ import annotations

from sandbox import World
from storage import Database
from storage.models import Role
from tests.support.audit import audit_log
from tests.support.builders import add_member, build_tree, grant
from tests.support.conversation import say, tap
from tests.support.roles import (
    Person,
    buttons,
    forge,
    grants_of,
    menu,
    menu_becomes,
    snapshot,
    speaks,
)


async def test_secretary_appoints_a_deputy_who_is_told_in_english(
    person: Person, database: Database, world: World
) -> None:
    tree = await build_tree(database)
    alice, dan = person("阿丽"), person("Dan", language="en")
    await add_member(database, tree.dongfeng, "王丽", telegram_user_id=alice.id)
    await grant(database, alice.id, Role.SECRETARY, tree.dongfeng)
    dan_member = await add_member(database, tree.dongfeng, "丹丹", telegram_user_id=dan.id)
    await add_member(database, tree.dongfeng, "没绑定的人")  # not linked: not offered
    await speaks(database, dan.id, "en")

    people = await say(alice, "/appoint")
    assert people.text == "东风村党支部\n请选择人员（只列出已绑定 Telegram 的人）。"
    assert people.buttons == [["丹丹"], ["王丽"]]
    card = await tap(alice, "丹丹")
    assert card.text == "丹丹，所在支部：东风村党支部\n职务：无"
    assert card.buttons == [["任命为副书记"], ["返回"]]  # a secretary cannot make secretaries
    confirm = await tap(alice, "任命为副书记")
    assert confirm.text == "任命 丹丹 为东风村党支部副书记？"
    done = await tap(alice, "确认任命")
    assert done.text == "已任命 丹丹 为东风村党支部副书记。"

    told = await dan.wait_for_message()
    assert told.text == (
        "You have been appointed deputy secretary of 东风村党支部. "
        "Send /help to see what you can do."
    )
    assert await grants_of(database, dan.id) == {("deputy_secretary", tree.dongfeng.id)}
    await menu_becomes(world, dan.id, lambda names: "members" in names)
    assert "appoint" not in menu(world, dan.id)
    menu_entry = world.commands({"type": "chat", "chat_id": dan.id})
    assert {"command": "members", "description": "Branch roster"} in menu_entry
    [row] = await audit_log(database, "role.grant")
    assert (row.actor_telegram_id, row.target_id, row.org_id) == (
        alice.id,
        dan.id,
        tree.dongfeng.id,
    )
    assert row.detail == {"role": "deputy_secretary", "member_id": dan_member.id, "name": "丹丹"}


async def test_county_staff_walk_the_tree_and_appoint_a_secretary(
    person: Person, database: Database, world: World
) -> None:
    tree = await build_tree(database)
    carl, vic = person("县里"), person("小维")
    await grant(database, carl.id, Role.COUNTY_STAFF, tree.county)
    await add_member(database, tree.liushu, "维维", telegram_user_id=vic.id)

    top = await say(carl, "/appoint")
    assert top.text == "红旗县\n在哪个组织任命？请选择支部或党委："
    assert top.buttons == [["东风镇党委 ›"], ["前进乡党委 ›"]]  # nothing to give at the county
    township = await tap(carl, "东风镇党委 ›")
    assert township.buttons == [
        ["选择 东风镇党委"],
        ["东风村党支部"],
        ["柳树村党支部"],
        ["⬆ 返回上级"],
    ]
    people = await tap(carl, "柳树村党支部")
    assert people.buttons == [["维维"], ["⬆ 返回上级"]]
    card = await tap(carl, "维维")
    assert card.buttons == [["任命为书记"], ["任命为副书记"], ["返回"]]
    await tap(carl, "任命为书记")
    done = await tap(carl, "确认任命")
    assert done.text == "已任命 维维 为柳树村党支部书记。"
    told = await vic.wait_for_message()
    assert told.text == "您已被任命为柳树村党支部书记。发送 /help 看看可以做什么。"
    await menu_becomes(world, vic.id, lambda names: {"members", "appoint"} <= set(names))

    # The same person can be made township organiser from the township level.
    await say(carl, "/appoint")
    await tap(carl, "东风镇党委 ›")
    people = await tap(carl, "选择 东风镇党委")
    card = await tap(carl, "维维")
    assert card.text == "维维，所在支部：柳树村党支部\n职务：柳树村党支部的书记"
    assert buttons(card) == ["撤销：柳树村党支部书记", "任命为组织委员", "返回"]


async def test_removing_a_role_tells_the_person_and_shrinks_their_menu(
    person: Person, database: Database, world: World
) -> None:
    tree = await build_tree(database)
    tina, sam = person("组织委员"), person("老孙")
    await grant(database, tina.id, Role.TOWNSHIP_ORGANISER, tree.townships["T01"])
    await add_member(database, tree.dongfeng, "孙书记", telegram_user_id=sam.id)
    await grant(database, sam.id, Role.SECRETARY, tree.dongfeng)

    await say(tina, "/appoint")
    await tap(tina, "东风村党支部")
    card = await tap(tina, "孙书记")
    assert card.buttons[0] == ["撤销：东风村党支部书记"]
    confirm = await tap(tina, "撤销：东风村党支部书记")
    assert confirm.text == "撤销 孙书记 的东风村党支部书记职务？"
    done = await tap(tina, "确认撤销")
    assert done.text == "已撤销 孙书记 的东风村党支部书记职务。"
    told = await sam.wait_for_message()
    assert told.text == "您的东风村党支部书记职务已撤销。"
    assert await grants_of(database, sam.id) == set()
    await menu_becomes(
        world, sam.id, lambda names: "me" in names and not {"members", "appoint"} & set(names)
    )
    [row] = await audit_log(database, "role.revoke")
    assert (row.actor_telegram_id, row.target_id, row.detail["role"]) == (
        tina.id,
        sam.id,
        "secretary",
    )


async def test_a_secretary_cannot_remove_another_secretary(
    person: Person, database: Database
) -> None:
    tree = await build_tree(database)
    alice, sam = person("阿丽"), person("老孙")
    await grant(database, alice.id, Role.SECRETARY, tree.dongfeng)
    member = await add_member(database, tree.dongfeng, "孙书记", telegram_user_id=sam.id)
    await grant(database, sam.id, Role.SECRETARY, tree.dongfeng)

    await say(alice, "/appoint")
    card = await tap(alice, "孙书记")
    assert card.buttons == [["任命为副书记"], ["返回"]]  # no remove button
    before = await snapshot(database)
    role_index = 1  # SECRETARY in bot.appointments.APPOINTABLE
    org = tree.dongfeng.id
    answer = await forge(alice, f"apt.ry:{org}:{member.id}:{role_index}:{org}")
    assert answer.text == "您没有权限在这里做这件事。"
    answer = await forge(alice, f"apt.gy:{org}:{member.id}:{role_index}:")  # malformed
    assert answer.text == "这个按钮已经失效。"
    assert await snapshot(database) == before


async def test_nobody_removes_their_own_last_admin_role(
    person: Person, database: Database
) -> None:
    tree = await build_tree(database)
    ada = person("管理员")
    me = await add_member(database, tree.dongfeng, "阿达", telegram_user_id=ada.id)
    await grant(database, ada.id, Role.ADMIN, tree.county)

    await say(ada, "/appoint")
    await tap(ada, "东风镇党委 ›")
    await tap(ada, "东风村党支部")
    card = await tap(ada, "阿达")
    assert "撤销：红旗县管理员" not in buttons(card)
    before = await snapshot(database)
    admin_index = 5  # ADMIN in bot.appointments.APPOINTABLE
    county = tree.county.id
    answer = await forge(ada, f"apt.ry:{county}:{me.id}:{admin_index}:{county}")
    assert answer.text == "不能撤销您自己唯一的管理员职务。"
    assert await snapshot(database) == before


async def test_appointing_outside_the_scope_or_an_unlinked_person_is_refused(
    person: Person, database: Database
) -> None:
    tree = await build_tree(database)
    alice, far = person("阿丽"), person("远方")
    await grant(database, alice.id, Role.SECRETARY, tree.dongfeng)
    stranger = await add_member(database, tree.qianjin, "外村人", telegram_user_id=far.id)
    unlinked = await add_member(database, tree.dongfeng, "没绑定")
    await say(alice, "/appoint")
    before = await snapshot(database)
    deputy = 0  # DEPUTY_SECRETARY in bot.appointments.APPOINTABLE
    answer = await forge(alice, f"apt.gy:{tree.qianjin.id}:{stranger.id}:{deputy}")
    assert answer.text == "您没有权限在这里做这件事。"
    answer = await forge(alice, f"apt.gy:{tree.dongfeng.id}:{stranger.id}:{deputy}")
    assert answer.text == "您没有权限在这里做这件事。"  # not a member of her branch
    answer = await forge(alice, f"apt.gy:{tree.dongfeng.id}:{unlinked.id}:{deputy}")
    assert answer.text == "此人还没有绑定 Telegram。"
    answer = await forge(alice, f"apt.gy:{tree.dongfeng.id}:{unlinked.id}:99")
    assert answer.text == "信息已经有变化，请重新打开党员信息。"
    assert await snapshot(database) == before


async def test_a_plain_member_cannot_appoint(person: Person, database: Database) -> None:
    tree = await build_tree(database)
    bob = person("老王")
    await add_member(database, tree.dongfeng, "王大爷", telegram_user_id=bob.id)
    answer = await say(bob, "/appoint")
    assert answer.text == "只有支部书记和组织部门工作人员可以任命职务。"


async def test_appoint_in_english(person: Person, database: Database) -> None:
    tree = await build_tree(database)
    eve, dan = person("Eve", language="en"), person("丹")
    await grant(database, eve.id, Role.SECRETARY, tree.dongfeng)
    await add_member(database, tree.dongfeng, "Dan", telegram_user_id=dan.id)
    people = await say(eve, "/appoint")
    assert people.text == "东风村党支部\nChoose a person. Only people who have linked Telegram."
    card = await tap(eve, "Dan")
    assert card.text == "Dan, branch: 东风村党支部\nRoles: none"
    confirm = await tap(eve, "Appoint as deputy secretary")
    assert confirm.text == "Appoint Dan as deputy secretary of 东风村党支部?"
    done = await tap(eve, "Yes, appoint")
    assert done.text == "Dan is now deputy secretary of 东风村党支部."
    told = await dan.wait_for_message()
    assert told.text == "您已被任命为东风村党支部副书记。发送 /help 看看可以做什么。"
