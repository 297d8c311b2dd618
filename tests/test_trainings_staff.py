"""Officers: done/total and who is overdue in their own scope; bulk confirmation for members
who attended in person or have no phone (audited); forged ticks and saves refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from bot.app import PartyApplication
from bot.clock import ManualClock
from sandbox import SimUser
from storage import Database
from storage.models import Role
from tests.support.audit import audit_log
from tests.support.builders import add_member, build_tree, grant
from tests.support.conversation import say, shown, tap
from tests.support.trainings import confirmations, publish_training


async def test_overdue_list_and_bulk_confirmation_in_the_officers_scope(
    database: Database,
    clock: ManualClock,
    person: Callable[..., SimUser],
    bot_app: PartyApplication,
) -> None:
    tree = await build_tree(database)
    staff, secretary, other = person("Staff"), person("Sec"), person("Other")
    await grant(database, staff.id, Role.COUNTY_STAFF, tree.county)
    await grant(database, secretary.id, Role.SECRETARY, tree.dongfeng)
    await grant(database, other.id, Role.SECRETARY, tree.qianjin)
    bob = person("Bob")
    li = await add_member(database, tree.dongfeng, "李明", telegram_user_id=bob.id)
    zhao = await add_member(database, tree.dongfeng, "赵六")  # no phone, no Telegram
    qian = await add_member(database, tree.dongfeng, "钱七")
    far = await add_member(database, tree.qianjin, "刘强")
    await publish_training(database, clock, actor=staff.id, org=tree.county, title="全县冬训")
    bot_app.bot_data["services"].relay.wake()
    await bob.wait_for_reply()
    await tap(bob, "已完成学习")

    # The secretary sees only the members of the branch; the county sees everyone.
    listing = await say(secretary, "/trainings")
    assert shown(listing).splitlines() == [
        "本单位党员的培训（点一项查看谁逾期未完成）：",
        "1. 全县冬训 · 已完成 1/3 · 期限 2026年3月10日",
    ]
    assert listing.buttons == [["1. 全县冬训"]]
    county = await say(staff, "/trainings")
    assert "1. 全县冬训 · 已完成 1/4 · 期限 2026年3月10日" in shown(county)

    # After the deadline the list says who is overdue.
    clock.advance(timedelta(days=9))
    listing = await say(secretary, "/trainings")
    assert shown(listing).splitlines()[1] == (
        "1. 全县冬训 · 已完成 1/3 · 期限 2026年3月10日 · 逾期 2 人"
    )
    detail = await tap(secretary, "1. 全县冬训")
    assert shown(detail).splitlines() == [
        "全县冬训",
        "完成期限：2026年3月10日",
        "已完成：1/3 人",
        "逾期未完成（2）：",
        "赵六、钱七",
    ]
    assert detail.buttons == [["为现场参加的党员确认"], ["◀ 全部培训"]]

    picker = await tap(secretary, "为现场参加的党员确认")
    assert picker.buttons == [
        ["☐ 赵六 · 东风村党支部 📵"],
        ["☐ 钱七 · 东风村党支部 📵"],
        ["◀ 返回"],
    ]
    # A forged tick for a member outside the scope (or already done) is refused.
    for member_id in (far.id, li.id):
        query = await secretary.tap_data(f"trn.tick:1:{member_id}:0", message_id=picker.message_id)
        assert (await secretary.wait_for_callback_answer(query)).text == "这个按钮已经失效。"
    ticked = await tap(secretary, "☐ 赵六 · 东风村党支部 📵")
    assert ticked.buttons[0] == ["☑ 赵六 · 东风村党支部 📵"]
    assert ticked.buttons[-2] == ["确认这 1 人已完成"]
    saved = await tap(secretary, "确认这 1 人已完成")
    assert shown(saved).splitlines()[0] == "已为 1 人确认完成。"
    assert "已完成：2/3 人" in shown(saved)
    assert await confirmations(database) == {li.id: "self", zhao.id: "bulk"}
    (row,) = await audit_log(database, prefix="training.confirm")
    assert (row.actor_telegram_id, row.detail) == (secretary.id, {"members": [zhao.id]})

    # Another branch's secretary cannot confirm for these members, even with forged data.
    theirs = await say(other, "/trainings")
    assert (
        shown(theirs).splitlines()[1]
        == "1. 全县冬训 · 已完成 0/1 · 期限 2026年3月10日 · 逾期 1 人"
    )
    query = await other.tap_data(f"trn.tick:1:{qian.id}:0", message_id=theirs.message_id)
    assert (await other.wait_for_callback_answer(query)).text == "这个按钮已经失效。"
    query = await other.tap_data("trn.save:1", message_id=theirs.message_id)
    assert (await other.wait_for_callback_answer(query)).text == "这个按钮已经失效。"
    view = await other.tap_data("trn.view:999", message_id=theirs.message_id)
    assert (await other.wait_for_callback_answer(view)).text == "您没有权限在这里做这件事。"
    assert qian.id not in await confirmations(database)
    assert len(await audit_log(database, prefix="training.confirm")) == 1
