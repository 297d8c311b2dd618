"""/trainings and /me: pending, done and the hours of the year in Asia/Shanghai (a training
completed at 23:30 on 31 December counts for that year; at 00:05 on 1 January, the next)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

from bot.app import PartyApplication
from bot.clock import ManualClock
from sandbox import SimUser
from storage import Database
from storage.models import Role
from tests.support.builders import add_member, build_tree, grant
from tests.support.conversation import say, shown, tap
from tests.support.trainings import publish_training


async def test_hours_of_the_year_follow_shanghai_time(
    database: Database,
    clock: ManualClock,
    person: Callable[..., SimUser],
    bot_app: PartyApplication,
) -> None:
    tree = await build_tree(database)
    secretary, bob = person("Sec"), person("Bob")
    await grant(database, secretary.id, Role.SECRETARY, tree.dongfeng)
    await add_member(database, tree.dongfeng, "李明", telegram_user_id=bob.id)
    clock.set(datetime(2026, 12, 31, 15, 0, tzinfo=UTC))  # 23:00 in Shanghai
    for title, hours in (("年终学习", "2"), ("新年第一课", "1.5")):
        await publish_training(
            database,
            clock,
            actor=secretary.id,
            org=tree.dongfeng,
            title=title,
            hours=hours,
            deadline=date(2027, 1, 10),
        )
    bot_app.bot_data["services"].relay.wake()
    first, second = await bob.wait_for_reply(), await bob.wait_for_reply()

    before = await say(bob, "/trainings")
    assert shown(before).splitlines() == [
        "我的培训",
        "今年培训学时：0",
        "待完成（2）：",
        "• 年终学习 · 2 学时 · 期限 2027年1月10日",
        "• 新年第一课 · 1.5 学时 · 期限 2027年1月10日",
    ]
    assert before.buttons == [["已完成：年终学习"], ["已完成：新年第一课"]]

    clock.set(datetime(2026, 12, 31, 15, 30, tzinfo=UTC))  # 23:30 on 31 December
    await tap(bob, "已完成学习", message_id=first.message_id)
    assert "今年培训学时：2" in shown(await say(bob, "/me"))

    clock.set(datetime(2026, 12, 31, 16, 5, tzinfo=UTC))  # 00:05 on 1 January 2027
    # Completed from the /trainings list (its button), without the original message.
    listing = await say(bob, "/trainings")
    assert "今年培训学时：0" in shown(listing)  # a new year has begun in Shanghai
    done = await tap(bob, "已完成：新年第一课")
    assert done.text == "✅ 已完成学习\n新年第一课\n计入今年学时 1.5 小时。"
    assert second.buttons == [["已完成学习"]]  # the original message is another message

    after = await say(bob, "/trainings")
    assert shown(after).splitlines() == [
        "我的培训",
        "今年培训学时：1.5",
        "没有待完成的培训，很好！",
        "已完成（2）：",
        "• 新年第一课 · 1.5 学时 · 2027年1月1日",
        "• 年终学习 · 2 学时 · 2026年12月31日",
    ]
    assert after.buttons == []
    assert "今年培训学时：1.5" in shown(await say(bob, "/me"))


async def test_trainings_needs_a_roster_entry_or_a_role(
    database: Database, person: Callable[..., SimUser], bot_app: PartyApplication
) -> None:
    stranger = person("Stranger", language="en")
    answer = await say(stranger, "/trainings")
    assert answer.text == "You are not on a branch roster yet."
