"""/newtraining: the form step by step with echoes, bad values refused, both languages."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from sqlmodel import select

from bot.app import PartyApplication
from sandbox import SimUser
from storage import Database
from storage.models import FundSource, MemberStatus, Role, Training, TrainingKind, TrainingQuestion
from tests.support.audit import audit_log
from tests.support.builders import add_member, build_tree, grant
from tests.support.conversation import say, shown, tap
from tests.support.trainings import training_deliveries


async def _trainings(database: Database) -> list[Training]:
    async with database.session_scope() as db:
        return list((await db.exec(select(Training))).all())


async def test_a_township_organiser_publishes_a_training_with_a_quiz(
    database: Database, person: Callable[..., SimUser], bot_app: PartyApplication
) -> None:
    tree = await build_tree(database)
    organiser = person("Wang")
    await grant(database, organiser.id, Role.TOWNSHIP_ORGANISER, tree.townships["T01"])
    bob, carol = person("Bob"), person("Carol")
    await add_member(
        database, tree.dongfeng, "李明", telegram_user_id=bob.id, status=MemberStatus.PROBATIONARY
    )
    await add_member(database, tree.liushu, "张华", telegram_user_id=carol.id)
    await add_member(database, tree.liushu, "赵六", status=MemberStatus.PROBATIONARY)
    outsider = person("Dan")
    await add_member(
        database,
        tree.qianjin,
        "刘强",
        telegram_user_id=outsider.id,
        status=MemberStatus.PROBATIONARY,
    )

    first = await say(organiser, "/newtraining")
    assert shown(first).startswith("红旗县 / 东风镇党委\n发布培训。发给哪个单位的党员？")
    assert ["选择 东风镇党委"] in first.buttons
    assert ["取消"] in first.buttons
    status = await tap(organiser, "选择 东风镇党委")
    assert shown(status).startswith("✓ 对象：东风镇党委全体党员")
    kind = await tap(organiser, "预备党员")
    assert shown(kind).startswith("✓ 对象：东风镇党委的预备党员")
    assert kind.buttons[-1] == ["取消"]
    title = await tap(organiser, "专题讲座")
    assert shown(title).endswith("培训标题是什么？请输入。")
    hours = await say(organiser, "预备党员培训：党的纪律")
    assert "✓ 标题：预备党员培训：党的纪律" in shown(hours)

    # Bad hours: one clear line, the same question stays open.
    for bad in ("-2", "0", "500", "两小时"):
        answer = await say(organiser, bad)
        assert answer.text == "请输入学时：大于 0，不超过 200，例如 2 或 1.5。"
    deadline = await say(organiser, "1.5 学时")
    assert "✓ 学时：1.5" in shown(deadline)
    for bad, line in (
        ("下个月吧", "看不懂这个日期。请按下面的格式输入：\n2026-12-20\n12月20日\n明天\n下周五"),
        ("2026-02-30", "看不懂这个日期。请按下面的格式输入：\n2026-12-20\n12月20日\n明天\n下周五"),
        ("2026-03-01", "2026年3月1日已经过去了。请输入今天或以后的日期。"),
    ):
        assert (await say(organiser, bad)).text == line
    materials = await say(organiser, "3月20日")
    assert "✓ 完成期限：2026年3月20日" in shown(materials)
    await say(organiser, "学习《中国共产党纪律处分条例》 https://example.org/rules")
    for bad in ("-5", "99999", "三十"):
        answer = await say(organiser, bad)
        assert shown(answer).startswith("请输入每人费用（元）")
    source = await say(organiser, "30 元")
    assert "费用：每人 30.00 元" in shown(source)
    quiz = await tap(organiser, "县级经费")
    assert "✓ 费用：每人 30.00 元 · 县级经费" in shown(quiz)
    assert quiz.buttons == [["添加一道测验题"], ["不出测验题"], ["取消"]]
    await tap(organiser, "添加一道测验题")
    bad_question = await say(organiser, "只有题目没有选项")
    assert shown(bad_question).startswith("请第一行写题目")
    right = await say(organiser, "党的纪律有几项？\n四项\n六项\n八项")
    assert right.buttons == [["四项"], ["六项"], ["八项"], ["取消"]]
    quiz = await tap(organiser, "六项")
    assert "✓ 测验题：1 道" in shown(quiz)
    preview = await tap(organiser, "测验题已出完")
    assert shown(preview).splitlines() == [
        "请核对这项新培训：",
        "预备党员培训：党的纪律",
        "类型：专题讲座",
        "学时：1.5",
        "完成期限：2026年3月20日",
        "对象：东风镇党委的预备党员",
        "费用：每人 30.00 元 · 县级经费",
        "学习材料：学习《中国共产党纪律处分条例》 https://example.org/rules",
        "第 1 题：党的纪律有几项？（正确答案：六项）",
    ]
    assert preview.buttons == [["✅ 发布"], ["取消"]]
    done = await tap(organiser, "✅ 发布")
    assert shown(done).startswith("✅ 已发布：预备党员培训：党的纪律\n共 2 名党员参加，其中 1 人")

    got = await bob.wait_for_reply()
    assert shown(got).splitlines() == [
        "📚 培训 · 东风镇党委",
        "预备党员培训：党的纪律",
        "专题讲座 · 1.5 学时",
        "完成期限：2026年3月20日",
        "",
        "学习《中国共产党纪律处分条例》 https://example.org/rules",
        "",
        "学完后，请点下面的“已完成学习”。",
    ]
    assert got.buttons == [["已完成学习"]]
    assert carol.messages == []
    assert outsider.messages == []

    (training,) = await _trainings(database)
    assert (training.kind, training.hours, training.cost_per_person_yuan) == (
        TrainingKind.LECTURE,
        Decimal("1.5"),
        Decimal("30.00"),
    )
    assert training.cost_yuan == Decimal("60.00")  # two members in the audience
    assert training.funding_source == FundSource.COUNTY
    assert training.audience_status == MemberStatus.PROBATIONARY
    async with database.session_scope() as db:
        (question,) = (await db.exec(select(TrainingQuestion))).all()
    assert (question.options, question.answer) == (["四项", "六项", "八项"], 1)
    (row,) = await audit_log(database, prefix="training.")
    assert row.action == "training.publish"
    assert row.detail["assigned"] == 2
    assert row.detail["reached"] == 1

    assert done.buttons == []  # the form's message holds no stale buttons
    assert len(await training_deliveries(database)) == 1


async def test_cancel_on_any_step_writes_nothing_and_members_cannot_publish(
    database: Database, person: Callable[..., SimUser], bot_app: PartyApplication
) -> None:
    tree = await build_tree(database)
    secretary, member = person("Sec"), person("Mem")
    await grant(database, secretary.id, Role.SECRETARY, tree.dongfeng)
    await add_member(database, tree.dongfeng, "李明", telegram_user_id=member.id)
    kind = await say(secretary, "/newtraining")  # one branch: straight to its status step?
    assert "取消" in [row[0] for row in kind.buttons]
    await tap(secretary, "选择 东风村党支部")
    await tap(secretary, "全体党员")
    await tap(secretary, "网络学习")
    await say(secretary, "网上学习")
    cancelled = await tap(secretary, "取消")
    assert cancelled.text == "已取消，没有发布任何培训。"
    assert cancelled.buttons == []
    assert "✓" not in shown(await say(secretary, "2"))  # the typed step no longer waits
    assert await _trainings(database) == []
    refused = await say(member, "/newtraining")
    assert refused.text == "您没有权限在这里做这件事。"


async def test_cancel_typed_at_a_button_step_drops_the_form(
    database: Database, person: Callable[..., SimUser], bot_app: PartyApplication
) -> None:
    """/cancel works everywhere: also while the form waits for a tap, not only for text."""
    tree = await build_tree(database)
    secretary = person("Sec")
    await grant(database, secretary.id, Role.SECRETARY, tree.dongfeng)
    await say(secretary, "/newtraining")
    await tap(secretary, "选择 东风村党支部")
    kinds = await tap(secretary, "全体党员")
    assert (await say(secretary, "/cancel")).text == "已取消。"
    course = kinds.callback_data("培训班")
    assert course is not None
    stale = await secretary.tap_data(course, message_id=kinds.message_id)
    answer = await secretary.wait_for_callback_answer(stale)
    assert answer.text == "这张表单已经关闭。请发送 /newtraining 重新开始。"


async def test_the_flow_in_english(
    database: Database, person: Callable[..., SimUser], bot_app: PartyApplication
) -> None:
    tree = await build_tree(database)
    secretary = person("Sec", language="en")
    await grant(database, secretary.id, Role.SECRETARY, tree.dongfeng)
    reader = person("Reader", language="en")
    await add_member(database, tree.dongfeng, "Li", telegram_user_id=reader.id)
    await say(reader, "/start")  # the bot learns that the reader reads English
    first = await say(secretary, "/newtraining")
    assert "New training. Whose members is it for?" in shown(first)
    await tap(secretary, "Choose 东风村党支部")
    await tap(secretary, "All members")
    await tap(secretary, "Course")
    await say(secretary, "Village accounts")
    wrong = await say(secretary, "-1")
    assert (
        wrong.text
        == "Please type the hours as a number greater than 0 and at most 200, e.g. 2 or 1.5."
    )
    await tap(secretary, "4 hours")
    past = await say(secretary, "2026-01-05")
    assert past.text == "2026-01-05 has already passed. Please type today or a later day."
    materials = await tap(secretary, "in 7 days")
    assert "✓ Deadline: 2026-03-09" in shown(materials)
    await tap(secretary, "Skip")
    quiz = await tap(secretary, "Free")
    assert "✓ Cost: none" in shown(quiz)
    preview = await tap(secretary, "No quiz")
    assert shown(preview).startswith(
        "Please check the new training:\nVillage accounts\nKind: Course"
    )
    await tap(secretary, "✅ Publish")
    got = await reader.wait_for_reply()
    assert shown(got).startswith("📚 Training · 东风村党支部\nVillage accounts\nCourse · 4 h\n")
    assert got.buttons == [["Done studying"]]


async def test_a_file_as_materials_and_hostile_text_arrive_verbatim(
    database: Database, person: Callable[..., SimUser], bot_app: PartyApplication
) -> None:
    tree = await build_tree(database)
    secretary, bob = person("Sec"), person("Bob")
    await grant(database, secretary.id, Role.SECRETARY, tree.dongfeng)
    await add_member(database, tree.dongfeng, "李<明>", telegram_user_id=bob.id)
    menu = await say(secretary, "/help")
    assert "/newtraining - 发布培训" in shown(menu)
    assert "/trainings - 我的培训和学时" in shown(menu)
    await say(secretary, "/newtraining")
    await tap(secretary, "选择 东风村党支部")
    await tap(secretary, "全体党员")
    await tap(secretary, "培训班")
    title = "<b>党章</b> & 学习"
    hours = await say(secretary, title)
    assert f"✓ 标题：{title}" in shown(hours)
    await tap(secretary, "2 学时")
    await tap(secretary, "7 天内")
    await secretary.send_document(
        "党章.pdf", b"%PDF-1.4 study", "application/pdf", caption="第<1>章"
    )
    cost = await secretary.wait_for_reply()
    assert shown(cost).endswith("每人费用多少元？请输入金额，或点“免费”。")
    await tap(secretary, "免费")
    preview = await tap(secretary, "不出测验题")
    assert "学习材料：第<1>章" in shown(preview)
    assert "材料文件：已附上" in shown(preview)
    await tap(secretary, "✅ 发布")
    document, card = await bob.wait_for_reply(), await bob.wait_for_reply()
    assert document.document is not None
    assert document.caption == title
    assert shown(card).splitlines()[1] == title
    assert "第<1>章" in shown(card)
    assert "学习材料见上面的文件。" in shown(card)
    assert card.buttons == [["已完成学习"]]
    done = await tap(bob, "已完成学习")
    assert shown(done).splitlines()[1] == title
    listing = await say(bob, "/trainings")
    assert f"• {title} · 2 学时 · 2026年3月2日" in shown(listing)
    staff = await say(secretary, "/trainings")
    assert f"1. {title} · 已完成 1/1 · 期限 2026年3月9日" in shown(staff)
