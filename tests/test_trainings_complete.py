"""已完成学习: one tap completes; a quiz must be passed (wrong answers show the right one and
allow a retry); forged and outdated buttons change nothing."""

from __future__ import annotations

from collections.abc import Callable

from bot.app import PartyApplication
from bot.clock import ManualClock
from sandbox import SimUser
from storage import Database
from storage.models import Role
from tests.support.builders import add_member, build_tree, grant
from tests.support.conversation import shown, tap
from tests.support.trainings import confirmations, publish_training

QUIZ = [
    ("党的根本宗旨是什么？", ["全心全意为人民服务", "发展经济"], 0),
    ("预备期是多长？", ["半年", "一年", "两年"], 1),
]


async def test_one_tap_completes_and_the_message_shows_the_result(
    database: Database,
    clock: ManualClock,
    person: Callable[..., SimUser],
    bot_app: PartyApplication,
) -> None:
    tree = await build_tree(database)
    secretary, bob = person("Sec"), person("Bob")
    await grant(database, secretary.id, Role.SECRETARY, tree.dongfeng)
    member = await add_member(database, tree.dongfeng, "李明", telegram_user_id=bob.id)
    await publish_training(database, clock, actor=secretary.id, org=tree.dongfeng)
    bot_app.bot_data["services"].relay.wake()
    got = await bob.wait_for_reply()
    assert got.buttons == [["已完成学习"]]

    done = await tap(bob, "已完成学习")
    assert done.message_id == got.message_id  # the tapped message itself is edited
    assert done.text == "✅ 已完成学习\n学习新党章\n计入今年学时 2 小时。"
    assert done.buttons == []
    assert bob.last_callback_answer is not None
    assert bob.last_callback_answer.text == "已完成学习，谢谢！"
    assert await confirmations(database) == {member.id: "self"}


async def test_a_quiz_must_be_passed_and_can_be_retried(
    database: Database,
    clock: ManualClock,
    person: Callable[..., SimUser],
    bot_app: PartyApplication,
) -> None:
    tree = await build_tree(database)
    secretary, bob = person("Sec"), person("Bob")
    await grant(database, secretary.id, Role.SECRETARY, tree.dongfeng)
    member = await add_member(database, tree.dongfeng, "李明", telegram_user_id=bob.id)
    await publish_training(database, clock, actor=secretary.id, org=tree.dongfeng, questions=QUIZ)
    bot_app.bot_data["services"].relay.wake()
    await bob.wait_for_reply()

    first = await tap(bob, "已完成学习")
    assert shown(first).splitlines() == [
        "学习新党章",
        "答对测验题即完成学习。",
        "第 1/2 题：党的根本宗旨是什么？",
    ]
    assert first.buttons == [["全心全意为人民服务"], ["发展经济"]]
    second = await tap(bob, "全心全意为人民服务")
    assert shown(second).splitlines()[1:] == ["✓ 回答正确。", "第 2/2 题：预备期是多长？"]

    # Wrong: the right answer shows, nothing is completed, the quiz can be taken again.
    wrong = await tap(bob, "两年")
    assert shown(wrong).splitlines()[1:] == [
        "第 2/2 题：预备期是多长？",
        "❌ 答错了。正确答案是：一年",
        "请再看一遍学习材料，然后重新答题。",
    ]
    assert wrong.buttons == [["重新答题"]]
    assert await confirmations(database) == {}

    # An old answer button (question 2 while back at question 1) counts for nothing.
    stale = await bob.tap_data("trn.ans:1:1:1", message_id=wrong.message_id)
    assert (await bob.wait_for_callback_answer(stale)).text == "这个按钮已经失效。"
    assert await confirmations(database) == {}

    again = await tap(bob, "重新答题")
    assert "第 1/2 题" in shown(again)
    await tap(bob, "全心全意为人民服务")
    passed = await tap(bob, "一年")
    assert passed.text == "✅ 已完成学习\n学习新党章\n测验通过。\n计入今年学时 2 小时。"
    assert passed.buttons == []
    assert await confirmations(database) == {member.id: "quiz"}


async def test_forged_buttons_for_someone_elses_training_change_nothing(
    database: Database,
    clock: ManualClock,
    person: Callable[..., SimUser],
    bot_app: PartyApplication,
) -> None:
    tree = await build_tree(database)
    secretary, bob, eve = person("Sec"), person("Bob"), person("Eve")
    await grant(database, secretary.id, Role.SECRETARY, tree.dongfeng)
    await add_member(database, tree.dongfeng, "李明", telegram_user_id=bob.id)
    await add_member(database, tree.qianjin, "刘强", telegram_user_id=eve.id)
    training = await publish_training(
        database, clock, actor=secretary.id, org=tree.dongfeng, questions=QUIZ
    )
    bot_app.bot_data["services"].relay.wake()
    got = await bob.wait_for_reply()
    await eve.send("/start")
    await eve.wait_for_reply()
    eve_message = eve.messages[-1].message_id
    for data in (
        f"trn.done:{training}",
        f"trn.ans:{training}:0:0",
        f"trn.ans:{training}:1:1",
        f"trn.retry:{training}",
        "trn.done:999",
    ):
        query = await eve.tap_data(data, message_id=eve_message)
        answer = await eve.wait_for_callback_answer(query)
        assert answer.text == "这项培训不是发给您的。"
    # Bob's own forged answers: out-of-range positions or options are not his quiz either.
    for data in (f"trn.ans:{training}:7:0", f"trn.ans:{training}:0:9"):
        query = await bob.tap_data(data, message_id=got.message_id)
        assert (await bob.wait_for_callback_answer(query)).text == "这项培训不是发给您的。"
    assert await confirmations(database) == {}
    real = await tap(bob, "已完成学习")  # Bob's real button still works: his quiz starts
    assert "第 1/2 题" in shown(real)
