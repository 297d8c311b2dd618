"""County staff send a roster file to the bot: preview, then 导入 / 只导入正确的行 / 取消."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import ManualClock
from bot.refusals import Refused
from bot.roster_import import IMPORT_LEASE, import_as
from bot.settings import Settings
from sandbox import SimUser, World
from storage import Database, leases
from storage.models import MemberStatus, Role
from tests.support.audit import audit_log
from tests.support.builders import Tree, add_member, build_tree, grant
from tests.support.conversation import tap
from tests.support.roster_import import (
    ID_1,
    all_members,
    all_orgs,
    counts,
    csv_bytes,
    messy_xlsx,
)
from tests.support.roster_import import person as row

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

ROWS = [
    row(1, "张三", "东风镇党委", "东风村党支部", "正式党员", phone="13800138000", id_number=ID_1),
    row(2, "李四", "东风镇", "柳树村党支部", "预备党员", phone="13900139000"),  # loose name
    row(3, "王五", "城关镇", "东关村党支部", "发展对象", group="第一党小组"),  # all new
]

PREVIEW_ZH = [
    "预览 花名册.xlsx：共读到 3 行，还没有写入任何内容。",
    "新建乡镇（1 个）：城关镇（代码 T03）",
    "新建党支部（1 个）：东关村党支部（代码 T03-V01）",
    "新建党小组（1 个）：第一党小组（代码 T03-V01-G01）",
    "将新增（3 人）：",
    "第 4 行：张三（东风村党支部）",
    "第 5 行：李四（柳树村党支部）",
    "第 6 行：王五（东关村党支部）",
    "没有变化：0 人",
    "没有读取的列：序号；备注",
    "身份证号列已丢弃，没有保存：身份证号",
    "要导入这个文件吗？",
]


@pytest.fixture
async def tree(database: Database) -> Tree:
    return await build_tree(database)


@pytest.fixture
async def staff(
    database: Database, tree: Tree, person: Callable[..., SimUser]
) -> Callable[..., Awaitable[SimUser]]:
    """Make a county staff member (Chinese unless told otherwise)."""

    async def make(language: str = "zh-hans") -> SimUser:
        user = person("县委组织部", language=language)
        await grant(database, user.id, Role.COUNTY_STAFF, tree.county)
        return user

    return make


async def shown(world: World, user: SimUser, start: str) -> str:
    """Wait until the user's latest bot message starts with `start`; its text."""
    text = await world.wait_for(
        lambda: user.last_text if (user.last_text or "").startswith(start) else None
    )
    assert isinstance(text, str)
    return text


async def test_staff_preview_then_import(
    database: Database, world: World, staff: Callable[..., Awaitable[SimUser]], tree: Tree
) -> None:
    boss = await staff()
    await boss.send_document("花名册.xlsx", messy_xlsx(ROWS), XLSX)
    received = await boss.wait_for_reply()
    assert received.text == "已收到 花名册.xlsx，正在检查……"
    preview = await boss.wait_for_reply()
    assert preview.message_id == received.message_id  # the same message, edited
    assert preview.text is not None
    assert preview.text.splitlines() == PREVIEW_ZH
    assert preview.buttons == [["导入"], ["取消"]]
    assert (await counts(database)).members == 0

    await boss.tap("导入")
    result = await shown(world, boss, "已导入")
    assert result.splitlines()[:5] == [
        "已导入 花名册.xlsx：新增 3 人，更新 0 人，0 人没有变化。",
        "新建乡镇（1 个）：城关镇（代码 T03）",
        "新建党支部（1 个）：东关村党支部（代码 T03-V01）",
        "新建党小组（1 个）：第一党小组（代码 T03-V01-G01）",
        "新增（3 人）：",
    ]
    assert boss.last_message is not None
    assert boss.last_message.buttons == []
    people = await all_members(database)
    orgs = await all_orgs(database)
    assert people["张三"].org_id == tree.dongfeng.id
    assert people["李四"].org_id == tree.liushu.id
    assert people["王五"].party_group_id == orgs["T03-V01-G01"].id
    (entry,) = await audit_log(database, "roster.import")
    assert entry.actor_telegram_id == boss.id
    assert entry.detail["via"] == "bot"
    assert entry.detail["created"] == 3


async def test_english_preview_and_import(
    database: Database, world: World, staff: Callable[..., Awaitable[SimUser]]
) -> None:
    boss = await staff(language="en")
    await boss.send_document("roster.xlsx", messy_xlsx(ROWS[:1]), XLSX)
    assert (await boss.wait_for_reply()).text == "Received roster.xlsx. Checking it…"
    preview = await boss.wait_for_reply()
    assert preview.text is not None
    assert preview.text.splitlines() == [
        "Preview of roster.xlsx: 1 rows read. Nothing has been written yet.",
        "To add (1):",
        "row 4: 张三 (东风村党支部)",
        "Unchanged: 0",
        "Columns not read: 序号; 备注",
        "ID number columns were dropped and not stored: 身份证号",
        "Import this file?",
    ]
    assert preview.buttons == [["Import"], ["Cancel"]]
    await boss.tap("Import")
    text = await shown(world, boss, "Imported")
    assert text.splitlines()[0] == "Imported roster.xlsx: 1 created, 0 updated, 0 unchanged."
    assert (await counts(database)).members == 1


BAD = [
    row(1, "张三", "东风镇党委", "东风村党支部", "正式党员", phone="13800138000"),  # row 4
    row(2, "李四", "东风镇党委", "东风村党支部", "党员"),  # row 5: unknown category
    row(3, "王五", "东风镇党委", "柳树村党支部", "预备党员", phone="13700137000"),  # row 6: taken
]


async def test_bad_rows_block_the_import_unless_only_the_correct_rows_are_chosen(
    database: Database, world: World, staff: Callable[..., Awaitable[SimUser]], tree: Tree
) -> None:
    await add_member(database, tree.qianjin, "钱九", phone="+8613700137000")
    boss = await staff()
    await boss.send_document("bad.xlsx", messy_xlsx(BAD), XLSX)
    preview_text = await shown(world, boss, "预览")
    assert preview_text.splitlines()[4:8] == [
        "有问题的行（2 行）：",
        "第 5 行：人员类别 党员 不对，应填正式党员、预备党员、发展对象或入党积极分子",
        "第 6 行：手机号码 13700137000 已经是 前进村党支部 的 钱九 在用",
        "没有读取的列：序号；备注",
    ]
    assert boss.last_message is not None
    assert boss.last_message.buttons == [["导入"], ["只导入正确的行"], ["取消"]]
    preview_id = boss.last_message.message_id
    before = await counts(database)

    await boss.tap("导入")  # refused: the whole file or nothing
    refused = await shown(world, boss, "bad.xlsx 没有导入")
    assert refused.splitlines()[:2] == [
        "bad.xlsx 没有导入：有 2 行有问题。请改好后重新导入，或者只导入正确的行。",
        "有问题的行（2 行）：",
    ]
    assert await counts(database) == before

    await boss.send_document("bad.xlsx", messy_xlsx(BAD), XLSX)
    await shown(world, boss, "预览")
    assert boss.last_message is not None
    assert boss.last_message.message_id != preview_id
    await boss.tap("只导入正确的行")
    done = await shown(world, boss, "已导入")
    assert done.splitlines() == [
        "已导入 bad.xlsx：新增 1 人，更新 0 人，0 人没有变化。",
        "新增（1 人）：",
        "第 4 行：张三（东风村党支部）",
        "跳过的行（2 行）：",
        "第 5 行：人员类别 党员 不对，应填正式党员、预备党员、发展对象或入党积极分子",
        "第 6 行：手机号码 13700137000 已经是 前进村党支部 的 钱九 在用",
        "没有读取的列：序号；备注",
        "身份证号列已丢弃，没有保存：身份证号",
    ]
    assert sorted(await all_members(database)) == ["张三", "钱九"]


async def test_cancel_imports_nothing(
    database: Database, world: World, staff: Callable[..., Awaitable[SimUser]]
) -> None:
    boss = await staff()
    await boss.send_document(
        "花名册.csv", csv_bytes([["姓名", "支部", "类别"], ["张三", "东风村党支部", "正式"]])
    )
    await shown(world, boss, "预览")
    await boss.tap("取消")
    assert await shown(world, boss, "已取消") == "已取消，没有导入任何内容。"
    assert (await counts(database)).members == 0


async def test_cancel_typed_at_the_preview_imports_nothing(
    database: Database, world: World, staff: Callable[..., Awaitable[SimUser]]
) -> None:
    """/cancel works everywhere: the preview's 导入 button is dead after it."""
    boss = await staff()
    await boss.send_document(
        "花名册.csv", csv_bytes([["姓名", "支部", "类别"], ["张三", "东风村党支部", "正式"]])
    )
    await shown(world, boss, "预览")
    await boss.send("/cancel")
    assert (await boss.wait_for_reply()).text == "已取消。"
    late = await boss.tap("导入")
    answer = await boss.wait_for_callback_answer(late)
    assert answer.text == "这次导入已经完成、取消或过期了。如需导入，请重新发送文件。"
    assert (await counts(database)).members == 0


async def test_tapping_import_twice_imports_once(
    database: Database, world: World, staff: Callable[..., Awaitable[SimUser]]
) -> None:
    boss = await staff()
    await boss.send_document("花名册.xlsx", messy_xlsx(ROWS), XLSX)
    await shown(world, boss, "预览")
    first = await boss.tap("导入")
    second = await boss.tap("导入")  # before the bot has answered the first
    await shown(world, boss, "已导入")
    answer = await boss.wait_for_callback_answer(second)
    assert answer.text == "这次导入已经完成、取消或过期了。如需导入，请重新发送文件。"
    assert answer.show_alert
    assert (await boss.wait_for_callback_answer(first)).text in (None, "")
    assert len(await audit_log(database, "roster.import")) == 1
    assert (await counts(database)).members == 3


async def test_a_stale_or_forged_button_does_nothing(
    database: Database, world: World, staff: Callable[..., Awaitable[SimUser]], clock: ManualClock
) -> None:
    boss = await staff()
    await boss.send_document("花名册.xlsx", messy_xlsx(ROWS), XLSX)
    await shown(world, boss, "预览")
    assert boss.last_message is not None
    message_id = boss.last_message.message_id
    forged = await boss.tap_data("rimp:go:deadbeef", message_id=message_id)
    assert (await boss.wait_for_callback_answer(forged)).text == (
        "这次导入已经完成、取消或过期了。如需导入，请重新发送文件。"
    )
    clock.advance(timedelta(minutes=31))
    late = await boss.tap("导入")
    assert (await boss.wait_for_callback_answer(late)).text == (
        "这次导入已经完成、取消或过期了。如需导入，请重新发送文件。"
    )
    assert (await counts(database)).members == 0


async def test_someone_who_is_not_county_staff_is_refused(
    database: Database,
    world: World,
    person: Callable[..., SimUser],
    tree: Tree,
) -> None:
    secretary = person("村支书")
    await grant(database, secretary.id, Role.SECRETARY, tree.dongfeng)
    await secretary.send_document("花名册.xlsx", messy_xlsx(ROWS), XLSX)
    reply = await secretary.wait_for_reply()
    assert reply.text == "只有县委组织部的工作人员才能导入花名册，这个文件没有使用。"
    stranger = person("Tom", language="en")
    await stranger.send_document("roster.xlsx", messy_xlsx(ROWS), XLSX)
    assert (await stranger.wait_for_reply()).text == (
        "Only county staff can import a roster file, so I have not used this file."
    )
    assert world.calls_of("getFile") == []
    assert (await counts(database)).members == 0


async def test_the_use_case_checks_the_right_again_when_it_plans(
    database: Database, clock: ManualClock, settings: Settings, tree: Tree
) -> None:
    """A screen drawn for county staff does not stand in for the import's own check."""
    secretary = 9001
    await grant(database, secretary, Role.SECRETARY, tree.dongfeng)
    for dry_run in (True, False):
        with pytest.raises(Refused):
            await import_as(
                database=database,
                actor=secretary,
                data=messy_xlsx(ROWS),
                filename="花名册.xlsx",
                today=clock.now().date(),
                now=clock.now(),
                settings=settings,
                dry_run=dry_run,
            )
    assert (await counts(database)).members == 0
    assert await audit_log(database, "roster.import") == []


async def test_files_too_big_or_of_another_kind_are_refused_before_downloading(
    database: Database, world: World, staff: Callable[..., Awaitable[SimUser]]
) -> None:
    boss = await staff()
    await boss.send_document("大花名册.xlsx", b"x" * (6 * 1024 * 1024), XLSX)
    assert (await boss.wait_for_reply()).text == (
        "文件 大花名册.xlsx 有 6.0 MB，最大只能收 5 MB。"
        "请删掉里面的图片，或者把花名册分成几个文件。"
    )
    await boss.send_document("照片.pdf", b"%PDF-1.4", "application/pdf")
    assert (await boss.wait_for_reply()).text == (
        "文件 照片.pdf 不是花名册表格，请发送 .xlsx 或 .csv 文件。"
    )
    assert world.calls_of("getFile") == []


async def test_an_unreadable_file_is_explained(
    database: Database, world: World, staff: Callable[..., Awaitable[SimUser]]
) -> None:
    boss = await staff()
    await boss.send_document("坏文件.xlsx", b"not a workbook", XLSX)
    assert await shown(world, boss, "文件") == "文件 坏文件.xlsx 打不开，可能已损坏或设置了密码。"
    assert boss.last_message is not None
    assert boss.last_message.buttons == []


async def test_a_large_file_shows_progress_and_sends_the_full_list(
    database: Database, world: World, staff: Callable[..., Awaitable[SimUser]], tree: Tree
) -> None:
    await add_member(database, tree.dongfeng, "老党员", phone="+8613900000003")
    boss = await staff()
    rows = [["姓名", "所属乡镇", "所在党支部", "人员类别", "手机号码"]]
    rows += [
        [f"党员{n}", "东风镇党委", "东风村党支部", "正式党员", f"1390000{n:04d}"]
        for n in range(1200)
    ]
    await boss.send_document("全县.csv", csv_bytes(rows), "text/csv")
    preview = await shown(world, boss, "预览")
    assert boss.last_message is not None
    versions = [content.text for content in boss.last_message.versions]
    assert "正在检查 全县.csv：500 / 1200 行……" in versions
    lines = preview.splitlines()
    assert lines[:2] == [
        "预览 全县.csv：共读到 1200 行，还没有写入任何内容。",
        "将新增（1199 人）：",
    ]
    assert "……还有 1189 条" in lines
    assert lines[-2:] == ["完整清单见附件。", "要导入这个文件吗？"]
    report = next(m for m in boss.messages if m.document is not None)
    assert report.document is not None
    full = world.file_bytes(report.document["file_id"]).decode().splitlines()
    assert len(full) == 1 + 1 + 1199 + 1 + 1 + 1  # heading, to add, people, to update, unchanged
    assert "第 5 行：党员3：姓名由 老党员 改为 党员3" in full

    await boss.tap("导入")
    done = await shown(world, boss, "已导入")
    assert done.splitlines()[0] == "已导入 全县.csv：新增 1199 人，更新 1 人，0 人没有变化。"
    people = await all_members(database)
    assert len(people) == 1200
    assert people["党员3"].status == MemberStatus.FULL


async def test_a_branch_name_close_to_an_existing_one_is_asked_about(
    database: Database, world: World, staff: Callable[..., Awaitable[SimUser]], tree: Tree
) -> None:
    boss = await staff()
    rows = [
        row(1, "张三", "东风镇党委", "东风村支部", "正式党员", phone="13800138000"),  # row 4
        row(2, "李四", "东风镇党委", "柳树村党支部", "正式党员", phone="13900139000"),
    ]
    await boss.send_document("花名册.xlsx", messy_xlsx(rows), XLSX)
    await boss.wait_for_reply()
    preview = await boss.wait_for_reply()
    assert preview.text is not None
    asked = "第 4 行：还没有 东风村支部，但有 东风村党支部，是同一个吗？请在下面选，或者改好文件"
    assert asked in preview.text.splitlines()
    assert "新建党支部" not in preview.text  # not silently created
    assert preview.buttons == [
        ["导入"],
        ["“东风村支部”就是“东风村党支部”", "“东风村支部”是新的"],
        ["只导入正确的行"],
        ["取消"],
    ]
    answered = await tap(boss, "“东风村支部”就是“东风村党支部”")
    again = answered.text or ""
    assert asked not in again.splitlines()
    assert "第 4 行：张三（东风村党支部）" in again.splitlines()
    await boss.tap("导入")
    await shown(world, boss, "已导入")
    people = await all_members(database)
    assert people["张三"].org_id == tree.dongfeng.id
    assert "东风村支部" not in {org.name for org in (await all_orgs(database)).values()}


async def test_a_new_branch_of_a_close_name_is_created_when_said_so(
    database: Database, world: World, staff: Callable[..., Awaitable[SimUser]]
) -> None:
    boss = await staff(language="en")
    rows = [row(1, "张三", "东风镇党委", "东峰村党支部", "正式党员", phone="13800138000")]
    await boss.send_document("roster.xlsx", messy_xlsx(rows), XLSX)
    await boss.wait_for_reply()
    preview = await boss.wait_for_reply()
    assert preview.text is not None
    assert (
        "row 4: there is no 东峰村党支部 yet, but there is 东风村党支部; is it the same? "
        "Choose below, or correct the file"
    ) in preview.text.splitlines()
    again = (await tap(boss, "东峰村党支部 is new")).text or ""
    assert "New branches (1): 东峰村党支部 (code T01-V03)" in again.splitlines()


async def test_refused_bad_rows_offer_importing_the_correct_ones_as_a_button(
    database: Database, world: World, staff: Callable[..., Awaitable[SimUser]]
) -> None:
    boss = await staff()
    await boss.send_document("花名册.xlsx", messy_xlsx(BAD), XLSX)
    await boss.wait_for_reply()
    await boss.wait_for_reply()
    await boss.tap("导入")
    refused = await shown(world, boss, "花名册.xlsx 没有导入")
    assert "或者只导入正确的行" in refused
    assert boss.last_message is not None
    assert boss.last_message.buttons == [["导入"], ["只导入正确的行"], ["取消"]]
    await boss.tap("只导入正确的行")
    done = await shown(world, boss, "已导入")
    assert done.startswith("已导入 花名册.xlsx：新增 2 人")


async def test_an_upload_while_another_import_writes_is_refused_in_one_line(
    database: Database, world: World, staff: Callable[..., Awaitable[SimUser]]
) -> None:
    boss = await staff()
    await boss.send_document("花名册.xlsx", messy_xlsx(ROWS), XLSX)
    await boss.wait_for_reply()
    await boss.wait_for_reply()  # the preview: a dry run needs no lease
    async with database.session_scope() as db:  # the CLI starts importing meanwhile
        assert await leases.acquire(
            db=db,
            name=IMPORT_LEASE,
            holder="cli",
            now=datetime.now(UTC),
            ttl=timedelta(minutes=5),
        )
    await boss.tap("导入")
    assert await shown(world, boss, "另一份") == "另一份花名册正在导入，请等它导入完成后再试。"
    assert (await counts(database)).members == 0
    assert await audit_log(database, "roster.import") == []
