"""People who blocked the bot: marked on the 403, listed to be told in person, skipped by
the next notice, and reachable again once Telegram says they are back."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import select

from bot.app import PartyApplication
from bot.clock import ManualClock
from sandbox import SimUser, World
from storage import Database
from storage.models import Delivery, DeliveryState, Role, TelegramAccount
from tests.support.builders import add_member, build_tree, grant
from tests.support.conversation import settled, shown
from tests.support.notices import compose


async def _blocked_at(database: Database, user: SimUser) -> object:
    async with database.session_scope() as db:
        account = await db.get(TelegramAccount, user.id)
        assert account is not None
        return account.blocked_at


async def _summary(alice: SimUser, text: str) -> str:
    await compose(alice, text, "东风村党支部全体", "不需要回执")
    await alice.wait_for_reply()
    await alice.wait_for_reply()
    return shown(await alice.wait_for_reply())


async def test_a_403_marks_the_member_who_is_skipped_next_time(
    database: Database,
    world: World,
    clock: ManualClock,
    person: Callable[..., SimUser],
    bot_app: PartyApplication,
) -> None:
    tree = await build_tree(database)
    alice = person("Alice")
    await grant(database, alice.id, Role.SECRETARY, tree.dongfeng)
    bob, dave = person("Bob"), person("Dave")
    await add_member(database, tree.dongfeng, "李明", telegram_user_id=bob.id)
    await add_member(database, tree.dongfeng, "陈刚", telegram_user_id=dave.id)
    dave.blocked = True  # blocked without the bot hearing of it: the send will get 403

    summary = await _summary(alice, "第一条通知")
    assert summary.endswith("将通过 Telegram 发给 2 人。")
    await alice.tap("发给 2 人")
    report = await world.wait_for(
        lambda: (alice.last_text or "").startswith("通知已发送完毕") and alice.last_text,
        timeout=10,
    )
    assert report == (
        "通知已发送完毕。\n已送达：1/2 人\n已屏蔽机器人，请当面通知（1 人）：陈刚\n"
        "发送 /notices 查看谁已阅读。"
    )
    assert await _blocked_at(database, dave) == clock.now()

    summary = await _summary(alice, "第二条通知")
    assert summary.endswith(
        "将通过 Telegram 发给 1 人。\n"
        "有 1 人无法通过 Telegram 收到（未登记 0 人，屏蔽了机器人 1 人），请当面通知：陈刚"
    )
    await alice.tap("发给 1 人")
    await world.wait_for(lambda: (alice.last_text or "").startswith("通知已发送完毕"), timeout=10)
    async with database.session_scope() as db:
        rows = (await db.exec(select(Delivery).where(Delivery.chat_id == dave.id))).all()
    assert [row.state for row in rows] == [DeliveryState.DEAD]  # the second notice skipped him

    # Dave unblocks the bot: Telegram says so, and he gets notices again.
    await dave.unblock_bot()
    await alice.send("/help")  # taken after Dave's update: once answered, Dave's is taken
    await alice.wait_for_reply()
    await settled(bot_app)
    assert await _blocked_at(database, dave) is None
    summary = await _summary(alice, "第三条通知")
    assert summary.endswith("将通过 Telegram 发给 2 人。")


async def test_blocking_the_bot_is_noticed_at_once(
    database: Database, world: World, person: Callable[..., SimUser], bot_app: PartyApplication
) -> None:
    tree = await build_tree(database)
    bob = person("Bob")
    await add_member(database, tree.dongfeng, "李明", telegram_user_id=bob.id)
    await bob.send("/start")
    await bob.wait_for_reply()
    await bob.block_bot()
    helper = person("Helper")
    await helper.send("/help")  # taken after Bob's update: once answered, Bob's is taken
    await helper.wait_for_reply()
    await settled(bot_app)
    assert await _blocked_at(database, bob) is not None
    await bob.unblock_bot()
    await helper.send("/help")
    await helper.wait_for_reply()
    await settled(bot_app)
    assert await _blocked_at(database, bob) is None
