"""Roles have no side doors: every path that gives or ends a role keeps the one rank rule.

Deactivating (停用), transferring, appointing and invitations that carry a role all ask
the same question: may this person give (or end) this role here? Forged buttons show
nothing outside the actor's scope, and a public invitation does not list the roster.
"""

from __future__ import annotations

from bot.clock import ManualClock
from bot.registration_buttons import APPROVE
from handlers.invitations import CREATE, PICK_USES, REVOKE
from handlers.registration_decide import LINK
from handlers.roles import GIVE, PERSON, TAKE
from storage import Database
from storage.models import Role
from tests.support.builders import add_member, build_tree, grant
from tests.support.conversation import say, shown, tap, tap_refused
from tests.support.invitations import (
    ZH_BY_NAME,
    ZH_DONGFENG,
    ZH_SHARE,
    invitation_of,
    issue_code,
    member,
    open_invitation,
    requests,
)
from tests.support.roles import Person, buttons, forge, grants_of, member_row, snapshot

NOT_ALLOWED = "您没有权限在这里做这件事。"


# --- 1. ending a role: deactivation and transfer ------------------------------------------


async def test_a_secretary_cannot_end_a_fellow_secretarys_role_by_deactivating_her(
    person: Person, database: Database
) -> None:
    tree = await build_tree(database)
    alice, bella = person("阿丽"), person("贝拉")
    await add_member(database, tree.dongfeng, "王丽", telegram_user_id=alice.id)
    fellow = await add_member(database, tree.dongfeng, "白拉", telegram_user_id=bella.id)
    await grant(database, alice.id, Role.SECRETARY, tree.dongfeng)
    await grant(database, bella.id, Role.SECRETARY, tree.dongfeng)

    await say(alice, "/members")
    await tap(alice, "✅ 白拉")
    await tap(alice, "停用")
    await tap(alice, "已离开（迁出等）")
    before = await snapshot(database)
    answer = await tap_refused(alice, "确认移出")
    assert answer.text == "白拉 在东风村党支部担任的职务您无权结束，所以不能移出名册。"
    assert await snapshot(database) == before
    assert (await member_row(database, fellow.id or 0)).active is True
    assert await grants_of(database, bella.id) == {("secretary", tree.dongfeng.id)}


async def test_a_secretary_still_takes_a_deputy_off_the_roster(
    person: Person, database: Database
) -> None:
    tree = await build_tree(database)
    alice, dora = person("阿丽"), person("小多")
    await grant(database, alice.id, Role.SECRETARY, tree.dongfeng)
    deputy = await add_member(database, tree.dongfeng, "多多", telegram_user_id=dora.id)
    await grant(database, dora.id, Role.DEPUTY_SECRETARY, tree.dongfeng)
    await say(alice, "/members")
    await tap(alice, "✅ 多多")
    await tap(alice, "停用")
    await tap(alice, "已离开（迁出等）")
    assert (await tap(alice, "确认移出")).text == "多多 已移出东风村党支部名册。"
    assert (await member_row(database, deputy.id or 0)).active is False
    assert await grants_of(database, dora.id) == set()


async def test_a_transferred_secretary_loses_the_role_on_the_old_branch(
    person: Person, database: Database
) -> None:
    tree = await build_tree(database)
    tina, sec = person("组织委员"), person("东风书记")
    await grant(database, tina.id, Role.TOWNSHIP_ORGANISER, tree.townships["T01"])
    await grant(database, sec.id, Role.SECRETARY, tree.dongfeng)
    moved = await add_member(database, tree.dongfeng, "刘书记", telegram_user_id=sec.id)

    await say(tina, "/members")
    await tap(tina, "东风村党支部")
    await tap(tina, "✅ 刘书记")
    await tap(tina, "转接")
    await tap(tina, "柳树村党支部")
    done = await tap(tina, "确认转接")
    assert done.text == "刘书记 已从东风村党支部转到柳树村党支部。"
    assert (await member_row(database, moved.id or 0)).org_id == tree.liushu.id
    assert await grants_of(database, sec.id) == set()


# --- 3a. forged appointment buttons show nobody outside the scope -------------------------


async def test_forged_appointment_buttons_show_no_names_or_roles_outside_the_scope(
    person: Person, database: Database
) -> None:
    tree = await build_tree(database)
    alice, far = person("阿丽"), person("远方书记")
    await grant(database, alice.id, Role.SECRETARY, tree.dongfeng)
    stranger = await add_member(database, tree.qianjin, "前进书记", telegram_user_id=far.id)
    await grant(database, far.id, Role.SECRETARY, tree.qianjin)
    await say(alice, "/appoint")
    deputy = 0  # appointments.APPOINTABLE[0]
    org, who = tree.dongfeng.id or 0, stranger.id or 0
    secretary = [Role.DEPUTY_SECRETARY, Role.SECRETARY].index(Role.SECRETARY) + deputy
    for data in (
        GIVE.encode(org, who, deputy),
        TAKE.encode(org, who, secretary, tree.qianjin.id or 0),
        PERSON.encode(org, who),
    ):
        answer = await forge(alice, data)
        assert answer.text == NOT_ALLOWED
    for message in alice.messages:
        assert "前进书记" not in (message.text or "")
        assert "前进村" not in (message.text or "")


# --- 2. invitations that carry a role -----------------------------------------------------


async def test_an_invitation_with_a_role_is_for_one_person(
    person: Person, database: Database
) -> None:
    tree = await build_tree(database)
    tina = person("组织委员")
    await grant(database, tina.id, Role.TOWNSHIP_ORGANISER, tree.townships["T01"])
    await say(tina, "/invite")
    await tap(tina, "东风村党支部")
    how_long = await tap(tina, "书记")
    assert shown(how_long).startswith("邀请加入：东风镇党委 / 东风村党支部（书记），可用次数：1\n")
    org = tree.dongfeng.id or 0
    before = await snapshot(database)
    for data in (
        PICK_USES.encode(org, Role.SECRETARY.value, 10),
        CREATE.encode(org, Role.SECRETARY.value, 50, 7),
        CREATE.encode(org, Role.DEPUTY_SECRETARY.value, 1000, 7),
    ):
        answer = await forge(tina, data)
        assert answer.text == "带职务的邀请只能给一个人用。"
    assert await snapshot(database) == before


async def test_a_deputy_cannot_revoke_an_invitation_that_carries_a_role(
    person: Person, database: Database, clock: ManualClock
) -> None:
    tree = await build_tree(database)
    dora = person("小多")
    await grant(database, dora.id, Role.DEPUTY_SECRETARY, tree.dongfeng)
    await issue_code(database, clock, tree.dongfeng, role=Role.SECRETARY)
    plain = await issue_code(database, clock, tree.dongfeng, uses=10)
    listing = await say(dora, "/invites")
    assert buttons(listing) == ["撤销 1"]  # only the plain one (newest, first) she could make
    secretary_invitation = 1
    before = await snapshot(database)
    answer = await forge(dora, REVOKE.encode(secretary_invitation, 0))
    assert answer.text == NOT_ALLOWED
    assert await snapshot(database) == before
    assert (await invitation_of(database, plain)).revoked_at is None


async def test_only_someone_who_may_give_the_role_approves_it_and_sees_it_on_approval(
    person: Person, database: Database, clock: ManualClock
) -> None:
    tree = await build_tree(database)
    deputy, tina = person("李副书记"), person("组织委员")
    await grant(database, deputy.id, Role.DEPUTY_SECRETARY, tree.dongfeng)
    await grant(database, tina.id, Role.TOWNSHIP_ORGANISER, tree.townships["T01"])
    entry = await add_member(database, tree.dongfeng, "王小", phone="+8613800000003")
    code = await issue_code(database, clock, tree.dongfeng, role=Role.SECRETARY)
    newcomer = person("小", phone="+8613700000007")
    await open_invitation(newcomer, code)
    await newcomer.press(ZH_SHARE)
    await newcomer.wait_for_reply()
    [request] = await requests(database)

    # The township organiser is asked (the branch's deputy may not make a secretary).
    asked = await tina.wait_for_reply()
    assert "身份：书记" in shown(asked)
    assert deputy.messages == []
    before = await snapshot(database)
    for data in (APPROVE.encode(request.id or 0, 0), LINK.encode(request.id or 0, entry.id or 0)):
        answer = await forge(deputy, data)
        assert answer.text == NOT_ALLOWED
    assert await snapshot(database) == before

    await tina.tap("批准")
    choice = await tina.wait_for_reply()
    assert shown(choice).startswith(
        f"小（手机：+8613700000007）申请加入{ZH_DONGFENG}，身份：书记。"
    )
    await tina.tap("王小 …0003")
    await tina.wait_for_reply()
    assert (await member(database, entry.id)).telegram_user_id == newcomer.id
    assert await grants_of(database, newcomer.id) == {("secretary", tree.dongfeng.id)}


# --- 3b. a public invitation does not list the roster -------------------------------------


async def test_the_name_path_lists_no_names_and_asks_the_secretary(
    person: Person, database: Database, clock: ManualClock
) -> None:
    tree = await build_tree(database)
    sec = person("王书记")
    await grant(database, sec.id, Role.SECRETARY, tree.dongfeng)
    await add_member(database, tree.dongfeng, "李四", phone="+8613800000002")
    await add_member(database, tree.dongfeng, "王五", phone="+8613800000003")
    code = await issue_code(database, clock, tree.dongfeng, uses=50)
    stranger = person("路人")
    await open_invitation(stranger, code)

    await stranger.press(ZH_BY_NAME)
    asked = await stranger.wait_for_reply()
    assert asked.text == "请输入您在名册上的姓名，我请支部书记确认。"
    assert asked.buttons == []
    await stranger.send("李四")
    told = await stranger.wait_for_reply()
    assert told.text == (
        f"谢谢！{ZH_DONGFENG}的名册上没找到您，我已请支部书记确认。有结果了我会在这里告诉您。"
    )
    [request] = await requests(database)
    assert (request.claimed_name, request.phone) == ("李四", None)
    for message in stranger.messages:
        assert "王五" not in (message.text or "")
    assert "李四" in shown(await sec.wait_for_reply())
