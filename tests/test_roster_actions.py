"""Member-card actions: transfer, status steps and corrections, deactivation; all audited."""

from __future__ import annotations

from datetime import date

from sqlmodel import col, select

from bot.app import PartyApplication
from handlers.menus import refresh_menu
from sandbox import World
from storage import Database
from storage.models import InactiveReason, MemberStatus, MemberStatusChange, Role
from tests.support.audit import audit_log
from tests.support.builders import add_member, build_tree, grant
from tests.support.conversation import say, shown, tap, tap_refused
from tests.support.roles import (
    Person,
    buttons,
    forge,
    grants_of,
    member_row,
    menu,
    menu_becomes,
    snapshot,
    speaks,
)


async def _status_changes(database: Database, member_id: int) -> list[MemberStatusChange]:
    async with database.session_scope() as db:
        result = await db.exec(
            select(MemberStatusChange)
            .where(MemberStatusChange.member_id == member_id)
            .order_by(col(MemberStatusChange.id))
        )
        return list(result.all())


# --- transfer -----------------------------------------------------------------------------


async def test_township_organiser_transfers_a_member_and_both_secretaries_are_told(
    person: Person, database: Database
) -> None:
    tree = await build_tree(database)
    tina = person("组织委员")
    dong_sec, liu_sec = person("东风书记"), person("Liu", language="en")
    await grant(database, tina.id, Role.TOWNSHIP_ORGANISER, tree.townships["T01"])
    await grant(database, dong_sec.id, Role.SECRETARY, tree.dongfeng)
    await grant(database, liu_sec.id, Role.SECRETARY, tree.liushu)
    await speaks(database, liu_sec.id, "en")
    zhang = await add_member(database, tree.dongfeng, "张三")

    await say(tina, "/members")
    await tap(tina, "东风村党支部")
    card = await tap(tina, "张三（未绑定）")
    assert card.buttons[0] == ["转接", "状态", "停用"]
    where = await tap(tina, "转接")
    assert where.text == "把 张三 从东风村党支部转到哪个支部？\n红旗县 / 东风镇党委"
    assert where.buttons == [["柳树村党支部"], ["取消"]]  # not its own branch
    confirm = await tap(tina, "柳树村党支部")
    assert confirm.text == "把 张三 从东风村党支部转到柳树村党支部？"
    done = await tap(tina, "确认转接")
    assert done.text == "张三 已从东风村党支部转到柳树村党支部。"

    assert (await member_row(database, zhang.id or 0)).org_id == tree.liushu.id
    told = await dong_sec.wait_for_message()
    assert told.text == "张三 已从东风村党支部转到柳树村党支部。"
    told_en = await liu_sec.wait_for_message()
    assert told_en.text == "张三 has been moved from 东风村党支部 to 柳树村党支部."
    [row] = await audit_log(database, "member.transfer")
    assert (row.actor_telegram_id, row.target_id, row.org_id) == (
        tina.id,
        zhang.id,
        tree.liushu.id,
    )
    assert row.detail["before"] == {"org_id": tree.dongfeng.id}
    assert row.detail["after"] == {"org_id": tree.liushu.id}


async def test_transfer_outside_the_scope_is_refused_and_changes_nothing(
    person: Person, database: Database
) -> None:
    tree = await build_tree(database)
    tina = person("组织委员")
    await grant(database, tina.id, Role.TOWNSHIP_ORGANISER, tree.townships["T01"])
    zhang = await add_member(database, tree.dongfeng, "张三")
    await say(tina, "/members")
    before = await snapshot(database)

    answer = await forge(tina, f"ros.ty:{zhang.id}:{tree.dongfeng.id}:{tree.qianjin.id}")
    assert answer.text == "您没有权限在这里做这件事。"
    answer = await forge(tina, f"ros.ty:{zhang.id}:{tree.dongfeng.id}:{tree.townships['T02'].id}")
    assert answer.text == "只能转到支部。"
    answer = await forge(tina, f"ros.ty:{zhang.id}:{tree.liushu.id}:{tree.dongfeng.id}")
    assert answer.text == "信息已经有变化，请重新打开党员信息。"
    assert await snapshot(database) == before


# --- status -------------------------------------------------------------------------------


async def test_status_moves_one_step_with_todays_date(person: Person, database: Database) -> None:
    tree = await build_tree(database)
    alice = person("阿丽")
    await grant(database, alice.id, Role.SECRETARY, tree.dongfeng)
    zhang = await add_member(
        database, tree.dongfeng, "张三", status=MemberStatus.DEVELOPMENT_TARGET
    )

    await say(alice, "/members")
    await tap(alice, "张三（未绑定）")
    status = await tap(alice, "状态")
    assert status.text == "张三\n身份：发展对象"
    assert status.buttons == [["下一步：转为预备党员"], ["更正身份"], ["取消"]]
    confirm = await tap(alice, "下一步：转为预备党员")
    assert confirm.text == "把 张三 从发展对象转为预备党员，日期 2026年3月2日？"
    done = await tap(alice, "确认")
    assert done.text == "已记录：张三 从 2026年3月2日 起为预备党员。"

    assert (await member_row(database, zhang.id or 0)).status is MemberStatus.PROBATIONARY
    [change] = await _status_changes(database, zhang.id or 0)
    assert (change.from_status, change.to_status) == (
        MemberStatus.DEVELOPMENT_TARGET,
        MemberStatus.PROBATIONARY,
    )
    assert (change.changed_on, change.recorded_by) == (date(2026, 3, 2), alice.id)
    [row] = await audit_log(database, "member.status")
    assert row.detail["before"] == {"status": "development_target"}
    assert row.detail["after"] == {"status": "probationary"}
    assert row.detail["reason"] == "step"

    await tap(alice, "返回党员信息")
    status = await tap(alice, "状态")
    assert status.text == "张三\n身份：预备党员\n预备期开始：2026年3月2日"


async def test_status_correction_needs_a_reason(person: Person, database: Database) -> None:
    tree = await build_tree(database)
    alice = person("阿丽")
    await grant(database, alice.id, Role.SECRETARY, tree.dongfeng)
    zhang = await add_member(database, tree.dongfeng, "张三", status=MemberStatus.FULL)

    await say(alice, "/members")
    await tap(alice, "张三（未绑定）")
    status = await tap(alice, "状态")
    assert status.buttons == [["更正身份"], ["取消"]]  # a full member has no next step
    choose = await tap(alice, "更正身份")
    assert choose.buttons == [["入党积极分子"], ["发展对象"], ["预备党员"], ["取消"]]
    why = await tap(alice, "预备党员")
    assert why.text == "为什么把 张三 更正为预备党员？"
    assert why.buttons == [["原来登记错了"], ["其他原因"], ["取消"]]
    done = await tap(alice, "原来登记错了")
    assert done.text == "已记录：张三 从 2026年3月2日 起为预备党员。"
    [row] = await audit_log(database, "member.status")
    assert row.detail["reason"] == "mistake"
    assert (await member_row(database, zhang.id or 0)).status is MemberStatus.PROBATIONARY


async def test_skipping_steps_without_a_reason_and_stale_taps_are_refused(
    person: Person, database: Database
) -> None:
    tree = await build_tree(database)
    alice = person("阿丽")
    await grant(database, alice.id, Role.SECRETARY, tree.dongfeng)
    zhang = await add_member(database, tree.dongfeng, "张三", status=MemberStatus.ACTIVIST)
    await say(alice, "/members")
    before = await snapshot(database)

    skip = await forge(alice, f"ros.sy:{zhang.id}:0:3:step")
    assert skip.text == "身份只能一步一步往前转；其他变动请用“更正身份”。"
    stale = await forge(alice, f"ros.sy:{zhang.id}:1:2:step")  # she is not a target (1)
    assert stale.text == "信息已经有变化，请重新打开党员信息。"
    bad_reason = await forge(alice, f"ros.sy:{zhang.id}:0:2:whim")
    assert bad_reason.text == "信息已经有变化，请重新打开党员信息。"
    out_of_range = await forge(alice, f"ros.sy:{zhang.id}:0:9:step")
    assert out_of_range.text == "信息已经有变化，请重新打开党员信息。"
    assert await snapshot(database) == before


async def test_status_in_english(person: Person, database: Database) -> None:
    tree = await build_tree(database)
    eve = person("Eve", language="en")
    await grant(database, eve.id, Role.SECRETARY, tree.dongfeng)
    await add_member(database, tree.dongfeng, "Zhang", status=MemberStatus.ACTIVIST)
    await say(eve, "/members")
    await tap(eve, "Zhang (not linked)")
    await tap(eve, "Status")
    confirm = await tap(eve, "Next step: development target")
    assert confirm.text == "Change Zhang from activist to development target, dated 2026-03-02?"
    done = await tap(eve, "Yes, change")
    assert done.text == "Recorded: Zhang is now development target (from 2026-03-02)."


# --- deactivation -------------------------------------------------------------------------


async def test_deactivation_takes_a_member_off_the_roster_and_ends_branch_roles(
    person: Person, database: Database, world: World, bot_app: PartyApplication
) -> None:
    tree = await build_tree(database)
    alice, dora = person("阿丽"), person("小多")
    await grant(database, alice.id, Role.SECRETARY, tree.dongfeng)
    await add_member(database, tree.dongfeng, "王丽", telegram_user_id=alice.id)
    deputy = await add_member(database, tree.dongfeng, "多多", telegram_user_id=dora.id)
    await grant(database, dora.id, Role.DEPUTY_SECRETARY, tree.dongfeng)
    await refresh_menu(bot_app.bot, database=database, telegram_user_id=dora.id, language="zh")
    assert "members" in menu(world, dora.id)

    await say(alice, "/members")
    await tap(alice, "✅ 多多")
    why = await tap(alice, "停用")
    assert why.text == "多多 为什么不在名册上了？"
    assert why.buttons == [["已离开（迁出等）"], ["已去世"], ["其他原因"], ["取消"]]
    confirm = await tap(alice, "已离开（迁出等）")
    assert confirm.text == (
        "确定把 多多 移出名册（已离开（迁出等））？移出后不再列出，也不会再收到消息；"
        "以前的记录都会保留。"
    )
    done = await tap(alice, "确认移出")
    assert done.text == "多多 已移出东风村党支部名册。"

    stored = await member_row(database, deputy.id or 0)
    assert (stored.active, stored.inactive_reason) == (False, InactiveReason.LEFT)
    assert stored.telegram_user_id == dora.id  # the link stays as history
    assert await grants_of(database, dora.id) == set()
    actions = [row.action for row in await audit_log(database)]
    assert actions == ["role.revoke", "member.deactivate"]
    [row] = await audit_log(database, "member.deactivate")
    assert row.detail["after"] == {"active": False, "inactive_reason": "left"}
    # Her menu no longer offers the roster.
    await menu_becomes(world, dora.id, lambda names: names == ["start", "help"])
    roster = await tap(alice, "返回名册")
    assert "✅ 多多" not in buttons(roster)
    assert "共 1 人" in shown(roster)


async def test_nobody_takes_themselves_off_the_roster(person: Person, database: Database) -> None:
    tree = await build_tree(database)
    alice = person("阿丽")
    me = await add_member(database, tree.dongfeng, "王丽", telegram_user_id=alice.id)
    await grant(database, alice.id, Role.SECRETARY, tree.dongfeng)
    await say(alice, "/members")
    await tap(alice, "✅ 王丽")
    await tap(alice, "停用")
    await tap(alice, "已去世")
    before = await snapshot(database)
    answer = await tap_refused(alice, "确认移出")
    assert answer.text == "不能把自己移出名册。"
    assert await snapshot(database) == before
    assert (await member_row(database, me.id or 0)).active is True


async def test_a_deputy_may_look_but_not_change(person: Person, database: Database) -> None:
    tree = await build_tree(database)
    dora = person("小多")
    await grant(database, dora.id, Role.DEPUTY_SECRETARY, tree.dongfeng)
    zhang = await add_member(database, tree.dongfeng, "张三", phone="13812345678")
    await say(dora, "/members")
    card = await tap(dora, "张三（未绑定）")
    assert "电话：13812345678" in shown(card)  # she invites people, so she sees phones
    assert card.buttons == [["返回名册"]]
    before = await snapshot(database)
    for data in (f"ros.dy:{zhang.id}:left", f"ros.sy:{zhang.id}:3:2:mistake", f"ros.d:{zhang.id}"):
        answer = await forge(dora, data)
        assert answer.text == "您没有权限在这里做这件事。"
    assert await snapshot(database) == before
    assert (await member_row(database, zhang.id or 0)).inactive_reason is None
