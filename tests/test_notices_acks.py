"""已阅 (ack): one tap acks a notice; /notices shows exact ack rates; reminders, once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlmodel import col, select

from bot.app import PartyApplication
from bot.clock import ManualClock
from bot.context import SERVICES_KEY, Services
from sandbox import SimUser, World
from schedules.notices import job_ack_reminders
from storage import Database
from storage.models import AuditLog, Delivery, Role
from tests.support.builders import add_member, build_tree, grant
from tests.support.conversation import say, shown
from tests.support.notices import compose


async def _acks(database: Database) -> dict[int, bool]:
    async with database.session_scope() as db:
        rows = (await db.exec(select(Delivery).where(col(Delivery.notice_id).is_not(None)))).all()
    return {row.chat_id: row.acknowledged_at is not None for row in rows}


async def _send_branch_notice(alice: SimUser, members: list[SimUser], text: str) -> None:
    await compose(alice, text, "东风村党支部全体", "要，请大家点“已阅”")
    for _ in range(3):
        await alice.wait_for_reply()
    await alice.tap(f"发给 {len(members)} 人")
    for member in members:
        await member.wait_for_reply()


async def test_acks_rates_and_reminders(
    database: Database,
    world: World,
    clock: ManualClock,
    person: Callable[..., SimUser],
    bot_app: PartyApplication,
) -> None:
    tree = await build_tree(database)
    alice = person("Alice")
    await grant(database, alice.id, Role.SECRETARY, tree.dongfeng)
    bob, carol, dan = person("Bob"), person("Carol"), person("Dan")
    for name, who in (("李明", bob), ("张华", carol), ("刘强", dan)):
        await add_member(database, tree.dongfeng, name, telegram_user_id=who.id)
    await _send_branch_notice(alice, [bob, carol, dan], "本周六上午义务植树")

    # Bob reads it: one tap, the button becomes 已阅 ✓.
    tap = await bob.tap("已阅")
    assert (await bob.wait_for_callback_answer(tap)).text == "已收到，谢谢！"
    notice_message = await bob.wait_for_reply()
    assert notice_message.buttons == [["已阅 ✓"]]
    again = await bob.tap("已阅 ✓")
    assert (await bob.wait_for_callback_answer(again)).text == "您已经点过“已阅”了。"
    assert (await _acks(database))[bob.id] is True

    # A forged 已阅 for a notice Carol never got changes nothing.
    forged = await carol.tap_data("ntc.ack:999", message_id=notice_message.message_id)
    assert (await carol.wait_for_callback_answer(forged)).text == "这个按钮已经失效。"

    listing = await say(alice, "/notices")
    assert "已阅 1/3 人（33%）" in shown(listing)
    assert listing.buttons == [["1. 本周六上午义务植树"]]
    await alice.tap("1. 本周六上午义务植树")
    detail = await alice.wait_for_reply()
    assert shown(detail).splitlines()[1:] == [
        "本周六上午义务植树",
        "",
        "已送达 3/3 人 · 已阅 1 人（33%）",
        "还没阅读：2 人",
        "刘强、张华",
    ]
    assert detail.buttons == [["提醒还没阅读的 2 人"], ["◀ 全部通知"]]

    # Remind the two; a second tap on the same screen sends nothing more.
    reminded = await alice.tap("提醒还没阅读的 2 人")
    assert (await alice.wait_for_callback_answer(reminded)).text == "提醒正在发给 2 人。"
    reminder = await carol.wait_for_reply()
    assert shown(reminder).startswith("⏰ 提醒：请阅读这条通知，读完点下面的“已阅”。\n\n📢 通知")
    assert reminder.buttons == [["已阅"]]
    again = await alice.tap("提醒还没阅读的 2 人")
    assert (await alice.wait_for_callback_answer(again)).text == "已经提醒过了。"
    assert len(bob.messages) == 1  # Bob had acked it: no reminder

    # Carol acks it from the reminder: the notice counts as acked.
    await carol.tap("已阅", message_id=reminder.message_id)
    await carol.wait_for_reply()
    assert await _acks(database) == {bob.id: True, carol.id: True, dan.id: False}
    await alice.tap("◀ 全部通知")
    listing = await alice.wait_for_reply()
    assert "已阅 2/3 人（66%）" in shown(listing)

    # The automatic reminder comes once, a day after the notice, to Dan alone.
    services: Services = bot_app.bot_data[SERVICES_KEY]
    assert await job_ack_reminders(services) == 0
    clock.advance(timedelta(hours=24))
    assert await job_ack_reminders(services) == 1
    assert await job_ack_reminders(services) == 0
    auto = await dan.wait_for_reply()
    assert shown(auto).startswith("⏰ 提醒")
    async with database.session_scope() as db:
        actions = [
            row.action
            for row in (await db.exec(select(AuditLog).order_by(col(AuditLog.id)))).all()
            if row.action.startswith("notice.")
        ]
    assert actions == ["notice.send", "notice.remind", "notice.remind"]


async def test_no_ack_asked_means_no_button_and_no_reminder(
    database: Database,
    clock: ManualClock,
    person: Callable[..., SimUser],
    bot_app: PartyApplication,
) -> None:
    tree = await build_tree(database)
    alice, bob = person("Alice", language="en"), person("Bob", language="en")
    await grant(database, alice.id, Role.SECRETARY, tree.dongfeng)
    await add_member(database, tree.dongfeng, "Bob", telegram_user_id=bob.id)
    await bob.send("/start")  # the bot learns that Bob reads English
    await bob.wait_for_reply()
    await compose(
        alice, "The office is closed on Monday.", "Everyone in 东风村党支部", "No read receipt"
    )
    for _ in range(3):
        await alice.wait_for_reply()
    await alice.tap("Send to 1 people")
    got = await bob.wait_for_reply()
    assert got.text == "📢 Notice · 东风村党支部\n\nThe office is closed on Monday."
    assert got.buttons == []
    listing = await say(alice, "/notices")
    assert "delivered 1 of 1 · no read receipt" in shown(listing)
    await alice.tap("1. The office is closed")
    detail = await alice.wait_for_reply()
    assert "Delivered 1 of 1 · read receipts were not asked for" in shown(detail)
    assert detail.buttons == [["◀ All notices"]]
    clock.advance(timedelta(days=2))
    services: Services = bot_app.bot_data[SERVICES_KEY]
    assert await job_ack_reminders(services) == 0


async def test_staff_see_unacked_rolled_up_by_township_and_branch(
    database: Database, person: Callable[..., SimUser], bot_app: PartyApplication
) -> None:
    tree = await build_tree(database)
    staff = person("Sam")
    await grant(database, staff.id, Role.COUNTY_STAFF, tree.county)
    people = {}
    for code, count in (("T01-V01", 2), ("T01-V02", 1), ("T02-V01", 3)):
        for n in range(count):
            who = person(f"{code}-{n}")
            await add_member(database, tree.branches[code], f"{code}-{n}", telegram_user_id=who.id)
            people[who.id] = who
    await compose(staff, "全县通知", "红旗县全体", "要，请大家点“已阅”")
    for _ in range(3):
        await staff.wait_for_reply()
    await staff.tap("发给 6 人")
    for who in people.values():
        await who.wait_for_reply()
    first = next(iter(people.values()))
    await first.tap("已阅")
    await first.wait_for_reply()
    await say(staff, "/notices")
    await staff.tap("1. 全县通知")
    detail = await staff.wait_for_reply()
    assert shown(detail).splitlines()[3:] == [
        "已送达 6/6 人 · 已阅 1 人（16%）",
        "还没阅读：5 人",
        "  东风镇党委 · 东风村党支部: 1",
        "  东风镇党委 · 柳树村党支部: 1",
        "  前进乡党委 · 前进村党支部: 3",
    ]


async def test_forged_views_and_reminders_outside_the_scope_are_refused(
    database: Database, person: Callable[..., SimUser], bot_app: PartyApplication
) -> None:
    tree = await build_tree(database)
    alice, other = person("Alice"), person("Other")
    await grant(database, alice.id, Role.SECRETARY, tree.dongfeng)
    await grant(database, other.id, Role.SECRETARY, tree.qianjin)
    bob = person("Bob")
    await add_member(database, tree.dongfeng, "李明", telegram_user_id=bob.id)
    await _send_branch_notice(alice, [bob], "东风村的通知")
    listing = await say(other, "/notices")
    assert listing.text == "还没有通知。发送 /notice 写一条。"
    async with database.session_scope() as db:
        (notice_id,) = (await db.exec(select(col(Delivery.notice_id)))).all()
    for data in (f"ntc.view:{notice_id}", f"ntc.remind:{notice_id}"):
        tap = await other.tap_data(data, message_id=listing.message_id)
        assert (await other.wait_for_callback_answer(tap)).text == "您没有权限在这里做这件事。"
    assert len(bob.messages) == 1  # no reminder went out
