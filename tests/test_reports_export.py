"""/export and `partybot export`: the requester's subtree as an XLSX workbook."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from bot.app import PartyApplication
from bot.cli import main
from bot.clock import ManualClock
from bot.export import ExportData, Sheet, gather, workbook_bytes
from bot.i18n import N_
from bot.periods import Period, PeriodKind
from sandbox import SimUser, World
from storage import Database, upgrade_to_head
from storage.models import OrgKind, OrgUnit
from tests.support.conversation import say
from tests.support.reports import NOW, SHANGHAI, accounts_only, build_county

Person = Callable[..., SimUser]
SHEETS_ZH = [
    "党员", "组织生活", "出勤", "通知", "已阅回执",
    "培训", "经费", "人均培训经费", "联系点", "领导班子", "满意度测评",
]  # fmt: skip


def _book(world: World, document: dict[str, str] | None) -> Workbook:
    assert document is not None
    return load_workbook(io.BytesIO(world.file_bytes(document["file_id"])))


def _column(book: Workbook, sheet: str, header: str) -> list[object]:
    page = book[sheet]
    headers = [cell.value for cell in page[1]]
    index = headers.index(header)
    return [row[index] for row in page.iter_rows(min_row=2, values_only=True)]


async def test_a_secretarys_export_holds_only_her_branch(
    database: Database, clock: ManualClock, person: Person, world: World, bot_app: PartyApplication
) -> None:
    clock.set(NOW)
    county = await build_county(database, person)
    secretary = county.secretary
    progress = await say(secretary, "/export")
    assert progress.text == "正在生成东风村党支部2026年的工作簿…"
    document = await secretary.wait_for_reply()
    assert document.document is not None
    assert document.document["file_name"] == "partybot-T01-V01-y2026.xlsx"
    done = await secretary.wait_for_reply()
    assert done.message_id == progress.message_id  # the progress message, edited
    assert done.text == "东风村党支部2026年的工作簿已生成：共25行。"

    book = _book(world, document.document)
    assert book.sheetnames == SHEETS_ZH
    members = book["党员"]
    assert [c.value for c in members[1]] == [
        "姓名", "组织代码", "组织", "状态", "入党日期", "已上 Telegram", "在册"
    ]  # fmt: skip
    assert members.freeze_panes == "A2"
    assert members.auto_filter.ref == "A1:G5"
    assert _column(book, "党员", "姓名") == ["张三", "李四", "王五", "赵六"]
    assert _column(book, "党员", "已上 Telegram") == ["是", "是", "是", "否"]
    # Six sessions of 东风村 in 2026, oldest first, their times in Shanghai.
    assert _column(book, "组织生活", "时间")[0] == datetime(2026, 1, 10, 19, 0)
    assert _column(book, "组织生活", "类型") == [
        "支委会", "主题党日", "支委会", "支委会", "主题党日", "支部党员大会"
    ]  # fmt: skip
    assert _column(book, "组织生活", "应到")[-1] == 4
    assert _column(book, "组织生活", "出席")[-1] == 2
    assert _column(book, "出勤", "结果") == ["出席", "缺席", "出席", "出席", "请假", "缺席"]
    assert _column(book, "出勤", "姓名") == ["张三", "李四", "张三", "李四", "王五", "赵六"]
    assert book["通知"].max_row == 1  # the township sent the notice, not the branch
    assert _column(book, "已阅回执", "姓名") == ["张三", "李四"]
    assert _column(book, "已阅回执", "已阅") == [datetime(2026, 3, 1, 12, 0), None]
    everything = {
        str(value) for page in book for row in page.iter_rows(values_only=True) for value in row
    }
    for other in ("柳树村党支部", "前进村党支部", "孙七", "周八", "吴九", "郑十"):
        assert other not in everything
    assert members.column_dimensions["C"].width >= 12  # 东风村党支部: six wide characters
    assert _column(book, "经费", "金额（元）") == [60.0]  # the county's money is not hers
    # Her members in the county's training, then in the township's; done or not.
    assert _column(book, "培训", "姓名") == ["张三", "张三", "李四", "王五", "赵六"]
    assert _column(book, "培训", "学时") == [2.5, 4.0, 4.0, 4.0, 4.0]
    assert _column(book, "培训", "完成时间")[3:] == [None, None]
    assert _column(book, "人均培训经费", "人均（元）") == [35.0]
    assert book["联系点"].max_row == 1
    assert book["领导班子"].max_row == 1


async def test_county_export_for_a_month_and_refusals(
    database: Database, clock: ManualClock, person: Person, world: World, bot_app: PartyApplication
) -> None:
    clock.set(NOW)
    county = await build_county(database, person)
    await say(county.staff, "/export 2026年3月")
    book = _book(world, (await county.staff.wait_for_reply()).document)
    await county.staff.wait_for_reply()
    assert book["党员"].max_row == 1 + 8
    assert book["组织生活"].max_row == 1 + 6  # March: 3 at 东风村, 3 at 前进村
    assert _column(book, "通知", "送达") == [3]
    assert _column(book, "通知", "已阅") == [2]
    assert (await say(county.users["张三"], "/export")).text == "您没有权限在这里做这件事。"
    wrong = await say(county.staff, "/export 后年")
    assert wrong.text == (
        "没看懂这个时间段。例如：/export 2026、/export 2026年3月、/export 上季度。"
    )


async def test_english_headers_for_an_english_reader(database: Database) -> None:
    county = await build_county(database, accounts_only())
    async with database.session_scope() as db:
        data = await gather(
            db=db,
            org=county.tree.county,
            period=Period(PeriodKind.YEAR, 2026),
            tz=SHANGHAI,
            language="en",
        )
    book = load_workbook(io.BytesIO(workbook_bytes(data, "en")))
    assert book.sheetnames == [
        "Members", "Sessions", "Attendance", "Notices", "Read receipts", "Trainings", "Funds",
        "Training funds per member", "Contact points", "Leading groups", "Satisfaction survey",
    ]  # fmt: skip
    assert _column(book, "Contact points", "Visits") == [0, 1, 2]  # fewest first
    assert _column(book, "Leading groups", "Special studies") == [0, 1, 0]
    assert [c.value for c in book["Attendance"][1]][:4] == ["Starts", "Topic", "Kind", "Name"]
    assert book["Attendance"]["H2"].value == "present"


@pytest.fixture
def cli_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)  # no stray .env from the developer's checkout
    for name in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_API_BASE_URL", "PARTYBOT_LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    url = f"sqlite+aiosqlite:///{tmp_path / 'export.db'}"
    monkeypatch.setenv("PARTYBOT_DATABASE_URL", url)
    monkeypatch.setenv("PARTYBOT_TIMEZONE", "Asia/Shanghai")
    return url


async def _fill(url: str) -> None:
    upgrade_to_head(url)
    database = Database(url)
    await build_county(database, accounts_only())
    await database.dispose()


def test_the_command_line_writes_the_same_workbook(
    cli_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(_fill(cli_database))
    target = tmp_path / "东风镇.xlsx"
    assert main(["export", "--org", "T01", "--period", "2026Q1", str(target)]) == 0
    out = capsys.readouterr().out.strip()
    assert out == (
        f"{target}: 东风镇党委 2026年第1季度 (党员 6, 组织生活 10, 出勤 8, 通知 1, 已阅回执 3, "
        "培训 7, 经费 1, 人均培训经费 3, 联系点 2, 领导班子 1, 满意度测评 0)"
    )
    book = load_workbook(target)
    assert book.sheetnames == SHEETS_ZH
    assert book["出勤"].max_row == 1 + 8

    assert main(["export", "--org", "NOPE", str(target)]) == 2
    assert "no org with code 'NOPE'" in capsys.readouterr().err
    assert main(["export", "--org", "T01", "--period", "soon", str(target)]) == 2
    assert "not a period" in capsys.readouterr().err


def test_what_people_typed_stays_text_and_times_stay_times() -> None:
    county = OrgUnit(code="C", name="县委", kind=OrgKind.COUNTY, path="/1/")
    sheet = Sheet(
        N_("Notices"),
        (N_("Sent"), N_("Org"), N_("Text"), N_("Asks to confirm"), N_("Delivered"), N_("Read")),
        [
            (datetime(2026, 3, 1, 9, 30), "县委", "=1+1", "是", 3, None),
            (datetime(2026, 3, 2, 9, 30), "县委", "https://example.org 请阅", "否", 0, 2.5),
        ],
    )
    data = ExportData(county, Period(PeriodKind.YEAR, 2026), [sheet])
    page = load_workbook(io.BytesIO(workbook_bytes(data, "en")))["Notices"]
    assert [c.value for c in page[1]] == [
        "Sent", "Org", "Text", "Asks to confirm", "Delivered", "Read"
    ]  # fmt: skip
    assert list(page.iter_rows(min_row=2, values_only=True)) == [
        (datetime(2026, 3, 1, 9, 30), "县委", "=1+1", "是", 3, None),
        (datetime(2026, 3, 2, 9, 30), "县委", "https://example.org 请阅", "否", 0, 2.5),
    ]
    assert page["C2"].data_type == "s"  # text, not a formula
    assert page.freeze_panes == "A2"
    assert page.auto_filter.ref == "A1:F3"
    assert page.column_dimensions["C"].width >= 24  # the link and two wide characters
