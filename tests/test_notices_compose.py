"""/notice end to end: write, choose the audience, preview with counts, send once, progress."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlmodel import col, select

from bot.app import PartyApplication
from bot.clock import ManualClock
from sandbox import SimUser, World
from sandbox.files import photo_sizes
from sandbox.models import Content
from storage import Database
from storage.models import AuditLog, Delivery, DeliveryState, Member, Notice, OrgUnit, Role
from tests.support.builders import Tree, add_member, build_tree, grant
from tests.support.conversation import shown
from tests.support.notices import compose


@dataclass
class Branch:
    tree: Tree
    secretary: SimUser
    members: list[SimUser]
    offline: Member  # on the roster, not on Telegram


@pytest.fixture
async def branch(database: Database, person: Callable[..., SimUser]) -> Branch:
    """东风村党支部 with a secretary (also a member), two members on Telegram and one not."""
    tree = await build_tree(database)
    alice = person("Alice")
    bob, carol = person("Bob"), person("Carol")
    await add_member(database, tree.dongfeng, "王书记", telegram_user_id=alice.id)
    await grant(database, alice.id, Role.SECRETARY, tree.dongfeng)
    await add_member(database, tree.dongfeng, "李明", telegram_user_id=bob.id)
    await add_member(database, tree.dongfeng, "张华", telegram_user_id=carol.id)
    offline = await add_member(database, tree.dongfeng, "赵大爷")
    return Branch(tree, alice, [alice, bob, carol], offline)


async def _deliveries(database: Database) -> list[Delivery]:
    async with database.session_scope() as db:
        return list((await db.exec(select(Delivery).order_by(col(Delivery.id)))).all())


async def test_a_secretary_sends_a_notice_to_her_branch(
    branch: Branch, world: World, database: Database, bot_app: PartyApplication
) -> None:
    alice, bob, carol = branch.members
    await alice.send("/notice")
    prompt = await alice.wait_for_reply()
    assert shown(prompt).startswith("请把通知内容写好发给我。")
    assert prompt.buttons == [["取消"]]
    await alice.send("明天上午9点在村委会开党员大会，请准时参加。")
    menu = await alice.wait_for_reply()
    assert menu.text == "这条通知发给谁？"
    assert menu.buttons == [["东风村党支部全体"], ["东风村党支部：按党员类别发"], ["取消"]]
    await alice.tap("东风村党支部全体")
    question = await alice.wait_for_reply()
    assert question.text == "要不要大家读完点“已阅”回执？"
    await alice.tap("要，请大家点“已阅”")
    assert (await alice.wait_for_reply()).text == "通知发出去是这个样子："
    looks = await alice.wait_for_reply()
    assert looks.text == "📢 通知 · 东风村党支部\n\n明天上午9点在村委会开党员大会，请准时参加。"
    summary = await alice.wait_for_reply()
    assert summary.text == (
        "发给：东风村党支部全体\n"
        "回执：需要点“已阅”\n"
        "将通过 Telegram 发给 3 人。\n"
        "有 1 人无法通过 Telegram 收到（未登记 1 人，屏蔽了机器人 0 人），请当面通知：赵大爷"
    )
    assert summary.buttons == [["发给 3 人"], ["取消"]]
    await alice.tap("发给 3 人")
    for member in (bob, carol):
        got = await member.wait_for_reply()
        assert got.text == "📢 通知 · 东风村党支部\n\n明天上午9点在村委会开党员大会，请准时参加。"
        assert got.buttons == [["已阅"]]

    def final() -> str | None:
        message = alice.chat.message(summary.message_id)
        text = message.shown_text if message is not None else None
        return text if text is not None and text.startswith("通知已发送完毕") else None

    report = await world.wait_for(final, timeout=10)
    assert report == (
        "通知已发送完毕。\n已送达：3/3 人\n发送前就联系不上的：1 人\n发送 /notices 查看谁已阅读。"
    )
    rows = await _deliveries(database)
    assert [row.state for row in rows] == [DeliveryState.SENT] * 3
    async with database.session_scope() as db:
        notice = (await db.exec(select(Notice))).one()
        entry = (await db.exec(select(AuditLog).where(AuditLog.action == "notice.send"))).one()
    assert notice.requires_ack
    assert entry.actor_telegram_id == alice.id
    assert entry.detail["recipients"] == 3


async def test_a_double_tap_on_send_sends_once(
    branch: Branch, world: World, database: Database, bot_app: PartyApplication
) -> None:
    alice, bob, _ = branch.members
    await compose(alice, "周五打扫卫生", "东风村党支部全体", "不需要回执")
    await alice.wait_for_reply()  # "this is how it will look"
    await alice.wait_for_reply()  # the notice itself
    summary = await alice.wait_for_reply()
    data = summary.callback_data("发给 3 人")
    assert data is not None
    first = await alice.tap_data(data, message_id=summary.message_id)
    second = await alice.tap_data(data, message_id=summary.message_id)
    answer = await alice.wait_for_callback_answer(second)
    assert answer.text == "这条通知已经发出去了。"
    assert (await alice.wait_for_callback_answer(first)).text == "正在发给 3 人。"
    got = await bob.wait_for_reply()
    assert got.buttons == []  # no 已阅 asked
    await world.wait_for(lambda: len(world.calls_of("sendMessage")) >= 3 + 4, timeout=10)
    async with database.session_scope() as db:
        assert len((await db.exec(select(Notice))).all()) == 1
    assert len(await _deliveries(database)) == 3


async def test_cancel_and_stale_buttons_change_nothing(
    branch: Branch, database: Database, bot_app: PartyApplication
) -> None:
    alice = branch.secretary
    await alice.send("/notice")
    await alice.wait_for_reply()
    await alice.send("一条会被取消的通知")
    menu = await alice.wait_for_reply()
    everyone = menu.callback_data("东风村党支部全体")
    assert everyone is not None
    await alice.tap("取消")
    assert (await alice.wait_for_reply()).text == "已取消，没有发送。"
    stale = await alice.tap_data(everyone, message_id=menu.message_id)
    answer = await alice.wait_for_callback_answer(stale)
    assert answer.text == "这条通知草稿已失效。请发送 /notice 重新开始。"
    await alice.send("随便说一句")  # no draft waits for text any more
    assert (await alice.wait_for_reply()).text != "这条通知发给谁？"
    assert await _deliveries(database) == []


async def test_members_may_not_send_notices(
    branch: Branch, bot_app: PartyApplication, database: Database
) -> None:
    bob = branch.members[1]
    await bob.send("/notice")
    assert (await bob.wait_for_reply()).text == "您没有权限在这里做这件事。"
    await bob.send("/notices")
    assert (await bob.wait_for_reply()).text == "您没有权限在这里做这件事。"


async def test_forged_audience_outside_the_scope_is_refused(
    branch: Branch, bot_app: PartyApplication, database: Database
) -> None:
    alice = branch.secretary
    await alice.send("/notice")
    await alice.wait_for_reply()
    await alice.send("试试别的支部")
    menu = await alice.wait_for_reply()
    data = menu.callback_data("东风村党支部全体")
    assert data is not None
    token = data.split(":")[1]
    forged = f"ntc.aud:{token}:all:{branch.tree.qianjin.id}"
    answer = await alice.wait_for_callback_answer(
        await alice.tap_data(forged, message_id=menu.message_id)
    )
    assert answer.text == "您没有权限在这里做这件事。"
    forged = f"ntc.aud:{token}:pick:{branch.tree.dongfeng.id}"  # a branch has no units
    answer = await alice.wait_for_callback_answer(
        await alice.tap_data(forged, message_id=menu.message_id)
    )
    assert answer.text == "您没有权限在这里做这件事。"


async def test_too_long_text_is_refused_with_the_limit(
    branch: Branch, bot_app: PartyApplication, clock: ManualClock
) -> None:
    alice = branch.secretary
    await alice.send("/notice")
    await alice.wait_for_reply()
    await alice.send("长" * 4000)
    answer = await alice.wait_for_reply()
    assert answer.text == "通知太长了：最多 3896 个字，现在有 4000 个字。请删短一些再发。"
    clock.advance(timedelta(minutes=1))  # time to shorten it
    await alice.send("短一点的通知")
    assert (await alice.wait_for_reply()).text == "这条通知发给谁？"


async def test_a_notice_split_by_the_app_is_refused_whole_not_taken_by_its_tail(
    branch: Branch, bot_app: PartyApplication, clock: ManualClock
) -> None:
    """Apps send a text over 4096 characters as several messages at once."""
    alice = branch.secretary
    await alice.send("/notice")
    await alice.wait_for_reply()
    await alice.send("长" * 4096)
    first = await alice.wait_for_reply()
    assert first.text == "通知太长了：最多 3896 个字，现在有 4096 个字。请删短一些再发。"
    await alice.send("这是通知的结尾")
    rest = await alice.wait_for_reply()
    assert rest.text == "通知太长了：最多 3896 个字，现在有 4103 个字。请删短一些再发。"
    clock.advance(timedelta(minutes=1))
    await alice.send("短一点的通知")
    assert (await alice.wait_for_reply()).text == "这条通知发给谁？"


async def test_a_notice_with_a_file(
    branch: Branch, world: World, database: Database, bot_app: PartyApplication
) -> None:
    alice, bob, _ = branch.members
    await alice.send("/notice")
    await alice.wait_for_reply()
    await alice.send_document("学习材料.pdf", b"%PDF-1.4 study", "application/pdf")
    assert (await alice.wait_for_reply()).text == (
        "请把图片或文件重新发一次，并把通知内容写在说明里。"
    )
    await alice.send_document(
        "学习材料.pdf", b"%PDF-1.4 study", "application/pdf", caption="请大家学习附件"
    )
    await alice.wait_for_reply()
    await alice.tap("东风村党支部全体")
    await alice.wait_for_reply()
    await alice.tap("要，请大家点“已阅”")
    await alice.wait_for_reply()
    looks = await alice.wait_for_reply()
    assert looks.document is not None
    assert looks.caption == "📢 通知 · 东风村党支部\n\n请大家学习附件"
    await alice.wait_for_reply()
    await alice.tap("发给 3 人")
    got = await bob.wait_for_reply()
    assert got.document is not None
    assert world.file_bytes(got.document["file_id"]) == b"%PDF-1.4 study"
    assert got.caption == "📢 通知 · 东风村党支部\n\n请大家学习附件"
    assert got.buttons == [["已阅"]]


async def test_a_township_chooses_branches(
    database: Database, world: World, person: Callable[..., SimUser], bot_app: PartyApplication
) -> None:
    tree = await build_tree(database)
    organiser = person("Olga")
    await grant(database, organiser.id, Role.TOWNSHIP_ORGANISER, tree.townships["T01"])
    in_dongfeng, in_liushu, in_qianjin = person("D"), person("L"), person("Q")
    await add_member(database, tree.dongfeng, "东风人", telegram_user_id=in_dongfeng.id)
    await add_member(database, tree.liushu, "柳树人", telegram_user_id=in_liushu.id)
    await add_member(database, tree.qianjin, "前进人", telegram_user_id=in_qianjin.id)
    await organiser.send("/notice")
    await organiser.wait_for_reply()
    await organiser.send("柳树村的通知")
    menu = await organiser.wait_for_reply()
    assert menu.buttons == [
        ["东风镇党委全体"],
        ["东风镇党委：选择部分单位"],
        ["东风镇党委：按职务发"],
        ["东风镇党委：按党员类别发"],
        ["取消"],
    ]
    await organiser.tap("东风镇党委：选择部分单位")
    pick = await organiser.wait_for_reply()
    assert pick.buttons == [
        ["☐ 东风村党支部"],
        ["☐ 柳树村党支部"],
        ["选好了（已选 0 个）"],
        ["取消"],
    ]
    await organiser.tap("选好了（已选 0 个）")
    assert organiser.last_callback_answer is not None
    await organiser.tap("☐ 柳树村党支部")
    assert (await organiser.wait_for_reply()).buttons[1] == ["☑ 柳树村党支部"]
    await organiser.tap("选好了（已选 1 个）")
    await organiser.wait_for_reply()
    await organiser.tap("不需要回执")
    await organiser.wait_for_reply()
    await organiser.wait_for_reply()
    summary = await organiser.wait_for_reply()
    assert shown(summary).startswith(
        "发给：柳树村党支部全体\n回执：不需要\n将通过 Telegram 发给 1 人。"
    )
    await organiser.tap("发给 1 人")
    assert (await in_liushu.wait_for_reply()).text == "📢 通知 · 东风镇党委\n\n柳树村的通知"
    rows = await _deliveries(database)
    assert [row.chat_id for row in rows] == [in_liushu.id]


async def test_the_county_writes_to_all_secretaries_in_english(
    database: Database, world: World, person: Callable[..., SimUser], bot_app: PartyApplication
) -> None:
    tree = await build_tree(database)
    staff = person("Sam", language="en")
    await grant(database, staff.id, Role.COUNTY_STAFF, tree.county)
    secretaries = [person(f"S{n}") for n in range(3)]
    for secretary, branch in zip(secretaries, tree.branches.values(), strict=True):
        await grant(database, secretary.id, Role.SECRETARY, branch)
    member = person("M")
    await add_member(database, tree.dongfeng, "普通党员", telegram_user_id=member.id)
    await staff.send("/notice")
    prompt = await staff.wait_for_reply()
    assert shown(prompt).startswith("Write the notice and send it to me.")
    await staff.send("Secretaries: reports are due on Friday.")
    menu = await staff.wait_for_reply()
    assert menu.text == "Who should get this notice?"
    await staff.tap("By role in 红旗县")
    roles = await staff.wait_for_reply()
    assert roles.buttons == [
        ["secretary"],
        ["deputy secretary"],
        ["township organiser"],
        ["Cancel"],
    ]
    await staff.tap("secretary")
    await staff.wait_for_reply()
    await staff.tap("Yes, ask them to tap “Mark as read”")
    assert (await staff.wait_for_reply()).text == "This is how the notice will look:"
    assert (await staff.wait_for_reply()).text == (
        "📢 Notice · 红旗县\n\nSecretaries: reports are due on Friday."
    )
    summary = await staff.wait_for_reply()
    assert summary.text == (
        "Audience: every secretary in 红旗县\nRead receipt: asked\n"
        "It will reach 3 people on Telegram."
    )
    await staff.tap("Send to 3 people")
    for secretary in secretaries:
        got = await secretary.wait_for_reply()
        assert got.text == "📢 通知 · 红旗县\n\nSecretaries: reports are due on Friday."
    report = await world.wait_for(
        lambda: (
            (staff.last_text or "").startswith("The notice has been sent.") and staff.last_text
        ),
        timeout=10,
    )
    assert report == (
        "The notice has been sent.\nDelivered: 3 of 3\nSend /notices to see who has read it."
    )
    assert member.messages == []


def _photo_from(world: World, user: SimUser, caption: str, bold: int) -> None:
    """The user sends a photo whose caption starts with ``bold`` characters in bold (as
    formatted in the Telegram app; SimUser has no helper for photos)."""
    png = (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06"
        b"\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00"
        b"\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
    )
    stored = world.files.add(png, "photo", "poster.png", "image/png")
    entities = ({"type": "bold", "offset": 0, "length": bold},)
    message = world.store_message(
        user.chat,
        Content(caption=caption, caption_entities=entities),
        sender=user.to_api(),
        photo=photo_sizes(stored),
    )
    world.push_update("message", message.to_api())


async def test_a_notice_with_a_photo(
    branch: Branch, world: World, database: Database, bot_app: PartyApplication
) -> None:
    alice, bob, _ = branch.members
    await alice.send("/notice")
    await alice.wait_for_reply()
    mark = world.mark()
    _photo_from(world, alice, "主题党日海报 <见附件>", bold=4)
    menu = await alice.wait_for_message(after=mark)
    assert menu.text == "这条通知发给谁？"
    await alice.tap("东风村党支部全体")
    await alice.wait_for_reply()
    await alice.tap("不需要回执")
    await alice.wait_for_reply()
    looks = await alice.wait_for_reply()
    assert looks.photo is not None
    # The bold made in the app stays bold; the "<" typed by Alice stays a "<".
    assert looks.caption == "📢 通知 · 东风村党支部\n\n主题党日海报 <见附件>"
    bolds = [e for e in looks.versions[-1].caption_entities if e["type"] == "bold"]
    header = len("📢 通知 · 东风村党支部".encode("utf-16-le")) // 2  # Telegram counts UTF-16
    assert [e["length"] for e in bolds] == [header, 4]
    await alice.wait_for_reply()
    await alice.tap("发给 3 人")
    got = await bob.wait_for_reply()
    assert got.photo is not None
    assert got.caption == looks.caption


async def test_a_unit_picked_earlier_is_checked_again_when_the_notice_is_sent(
    database: Database, world: World, person: Callable[..., SimUser], bot_app: PartyApplication
) -> None:
    """The units were chosen on earlier screens; the send judges them as they are then."""
    tree = await build_tree(database)
    organiser = person("Olga")
    await grant(database, organiser.id, Role.TOWNSHIP_ORGANISER, tree.townships["T01"])
    in_liushu = person("L")
    await add_member(database, tree.liushu, "柳树人", telegram_user_id=in_liushu.id)
    await organiser.send("/notice")
    await organiser.wait_for_reply()
    await organiser.send("柳树村的通知")
    await organiser.wait_for_reply()
    await organiser.tap("东风镇党委：选择部分单位")
    await organiser.wait_for_reply()
    await organiser.tap("☐ 柳树村党支部")
    await organiser.wait_for_reply()
    await organiser.tap("选好了（已选 1 个）")
    await organiser.wait_for_reply()
    await organiser.tap("不需要回执")
    await organiser.wait_for_reply()
    await organiser.wait_for_reply()
    summary = await organiser.wait_for_reply()
    async with database.session_scope() as db:  # meanwhile 柳树村 moved to 前进乡
        moved = await db.get(OrgUnit, tree.liushu.id)
        assert moved is not None
        moved.parent_id = tree.townships["T02"].id
        moved.path = f"{tree.townships['T02'].path}{moved.id}/"
        db.add(moved)
    query = await organiser.tap("发给 1 人")
    answer = await organiser.wait_for_callback_answer(query)
    assert answer.text == "您没有权限在这里做这件事。"

    def told_nothing_was_sent() -> bool:
        shown_now = organiser.chat.message(summary.message_id)
        return shown_now is not None and shown_now.text == "没有发送。"

    await world.wait_for(told_nothing_was_sent)
    assert await _deliveries(database) == []
    async with database.session_scope() as db:
        assert (await db.exec(select(Notice))).all() == []


async def test_cancel_typed_at_a_button_step_drops_the_draft(
    branch: Branch, database: Database, bot_app: PartyApplication
) -> None:
    """/cancel works everywhere: also while the form waits for a tap, not only for text."""
    alice = branch.secretary
    await alice.send("/notice")
    await alice.wait_for_reply()
    await alice.send("一条会被 /cancel 取消的通知")
    menu = await alice.wait_for_reply()
    everyone = menu.callback_data("东风村党支部全体")
    assert everyone is not None
    await alice.send("/cancel")
    assert (await alice.wait_for_reply()).text == "已取消。"
    stale = await alice.tap_data(everyone, message_id=menu.message_id)
    answer = await alice.wait_for_callback_answer(stale)
    assert answer.text == "这条通知草稿已失效。请发送 /notice 重新开始。"
    assert await _deliveries(database) == []
