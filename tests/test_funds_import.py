"""`partybot funds import FILE [--dry-run]`: the county's spreadsheet, all rows or none."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlmodel import col, select

from bot.cli import main
from storage import Database
from storage.models import FundAllocation, OrgKind
from storage.orgs import create_org, get_org, get_org_by_code
from tests.support.audit import audit_actions

Peek = Callable[[Callable[[Database], Awaitable[Any]]], Any]


@pytest.fixture
def cli_env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Peek:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.setenv("PARTYBOT_DATABASE_URL", database_url)
    monkeypatch.setenv("PARTYBOT_LANGUAGE", "zh")
    monkeypatch.setenv("PARTYBOT_LOG_LEVEL", "WARNING")

    def peek(read: Callable[[Database], Awaitable[Any]]) -> Any:
        async def run() -> Any:
            database = Database(database_url)
            try:
                return await read(database)
            finally:
                await database.dispose()

        return asyncio.run(run())

    return peek


@pytest.fixture
def county(cli_env: Peek, capsys: pytest.CaptureFixture[str]) -> None:
    """红旗县 (C) > 东风镇党委 (T01) > 东风村党支部 (T01-V01); and a second 东风村党支部."""
    assert main(["init", "--county", "红旗县"]) == 0

    async def build(database: Database) -> None:
        async with database.session_scope() as db:
            county = await get_org_by_code(db=db, code="C")
            assert county is not None
            t1 = await create_org(
                db=db,
                code="T01",
                name="东风镇党委",
                kind=OrgKind.TOWNSHIP,
                parent_id=county.id,
            )
            t2 = await create_org(
                db=db,
                code="T02",
                name="前进乡党委",
                kind=OrgKind.TOWNSHIP,
                parent_id=county.id,
            )
            for code, parent in (("T01-V01", t1), ("T02-V09", t2)):
                await create_org(
                    db=db,
                    code=code,
                    name="东风村党支部",
                    kind=OrgKind.VILLAGE_BRANCH,
                    parent_id=parent.id,
                )

    cli_env(build)
    capsys.readouterr()


def rows_of(database: Database) -> Awaitable[list[tuple[str, int, str, str, Decimal]]]:
    async def read() -> list[tuple[str, int, str, str, Decimal]]:
        async with database.session_scope() as db:
            found = await db.exec(select(FundAllocation).order_by(col(FundAllocation.id)))
            result = []
            for row in found.all():
                org = await get_org(db=db, org_id=row.org_id)
                assert org is not None
                result.append(
                    (org.code, row.year, row.source.value, row.purpose.value, row.amount_yuan)
                )
            return result

    return read()


def audits_of(database: Database) -> Awaitable[list[str]]:
    return audit_actions(database, prefix="fund.")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["funds", "import", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


GOOD_CSV = (
    "2026年培训经费分配表\n"
    "年度,单位,资金来源,用途,金额（元）,备注\n"
    '2026,红旗县,市级,培训,"12,000.00",市委拨付\n'
    "2026,T01,县级,党员培训,3000.5,\n"
    "2026年,T02-V09,乡镇,办公经费,８００,全角数字\n"
)


def test_a_good_csv_is_imported_whole_with_an_audit_row_each(
    county: None, cli_env: Peek, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "经费.csv"
    path.write_bytes(GOOD_CSV.encode("gbk"))
    code, out, err = run(capsys, str(path))
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "已导入 经费.csv：3 条，共 15,800.50 元。",
        "第 3 行：红旗县，2026年，市级财政，党员培训：12,000.00 元",
        "第 4 行：东风镇党委，2026年，县级财政，党员培训：3,000.50 元",
        "第 5 行：东风村党支部，2026年，乡镇财政，办公经费：800.00 元",
    ]
    assert cli_env(rows_of) == [
        ("C", 2026, "municipal", "training", Decimal("12000.00")),
        ("T01", 2026, "county", "training", Decimal("3000.50")),
        ("T02-V09", 2026, "township", "office", Decimal("800.00")),
    ]
    assert cli_env(audits_of) == ["fund.record"] * 3 + ["fund.import"]


def test_an_xlsx_dry_run_shows_the_records_and_writes_nothing(
    county: None, cli_env: Peek, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["year", "org", "source", "purpose", "amount"])
    sheet.append([2025, "东风镇党委", "county", "training", 1234.5])
    sheet.append([2026.0, "T01-V01", "municipal", "infrastructure", 99])
    sheet.append([2026, "T01-V01", "county", "office", 0.1 + 0.2])  # a formula's float
    buffer = io.BytesIO()
    book.save(buffer)
    path = tmp_path / "funds.xlsx"
    path.write_bytes(buffer.getvalue())
    code, out, _ = run(capsys, str(path), "--dry-run")
    assert code == 0
    assert out.splitlines() == [
        "funds.xlsx 预览：3 条，共 1,333.80 元。尚未写入任何内容。",
        "第 2 行：东风镇党委，2025年，县级财政，党员培训：1,234.50 元",
        "第 3 行：东风村党支部，2026年，市级财政，村级基础设施：99.00 元",
        "第 4 行：东风村党支部，2026年，县级财政，办公经费：0.30 元",
    ]
    assert cli_env(rows_of) == []
    assert cli_env(audits_of) == []
    code, out, _ = run(capsys, str(path))
    assert code == 0
    assert out.startswith("已导入 funds.xlsx：3 条")
    assert [row[0] for row in cli_env(rows_of)] == ["T01", "T01-V01", "T01-V01"]
    assert cli_env(rows_of)[2][4] == Decimal("0.30")


def test_a_float_with_more_than_two_places_is_refused(
    county: None, cli_env: Peek, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["年度", "单位", "来源", "用途", "金额"])
    sheet.append([2026, "T01", "县级", "培训", 12.345])
    buffer = io.BytesIO()
    book.save(buffer)
    path = tmp_path / "f.xlsx"
    path.write_bytes(buffer.getvalue())
    code, out, _ = run(capsys, str(path))
    assert code == 1
    assert out.splitlines()[1] == "第 2 行：金额最多两位小数（到分）：12.345。"
    assert cli_env(rows_of) == []


def test_bad_rows_stop_the_whole_file_with_one_line_each(
    county: None, cli_env: Peek, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "年度,单位,来源,用途,金额\n"
        "2026,T01,县级,培训,500\n"  # good, but the file has bad rows
        "2026,T01,县级,培训,-20\n"
        "2026,T01,县级,培训,0\n"
        "2026,T01,县级,培训,99999999\n"
        "2026,T01,县级,培训,12.345\n"
        "2026,西山村,县级,培训,100\n"
        "2026,东风村党支部,县级,培训,100\n"
        "1999,T01,县级,培训,100\n"
        "2026,T01,省级,培训,100\n"
        "2026,T01,县级,吃饭,100\n"
        "2026,T01,县级,培训,\n",
        encoding="utf-8",
    )
    code, out, err = run(capsys, str(path))
    assert (code, err) == (1, "")
    assert out.splitlines() == [
        "bad.csv 没有导入任何内容：有 10 行有问题。",
        "第 3 行：金额必须大于零元。",
        "第 4 行：金额必须大于零元。",
        "第 5 行：99999999 元超出了一条记录的上限（最多 10,000,000.00 元）。",
        "第 6 行：金额最多两位小数（到分）：12.345。",
        "第 7 行：没有编码或名称为 西山村 的组织",
        "第 8 行：有多个组织叫 东风村党支部，请改写它的编码",
        "第 9 行：1999 不是 2000 到 2027 之间的年份。",
        "第 10 行：未知来源 省级（市级、县级或乡镇）",
        "第 11 行：未知用途 吃饭（培训、村级基础设施或办公经费）",
        "第 12 行：缺少金额",
    ]
    assert cli_env(rows_of) == []
    assert cli_env(audits_of) == []


def test_files_that_cannot_be_used(
    county: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = run(capsys, str(tmp_path / "nope.csv"))
    assert missing[0] == 1
    assert "无法读取" in missing[2]
    doc = tmp_path / "funds.docx"
    doc.write_bytes(b"PK")
    assert run(capsys, str(doc))[2] == (
        "partybot: 文件 funds.docx 不是经费表格。请使用 .xlsx 或 .csv 文件。\n"
    )
    headless = tmp_path / "h.csv"
    headless.write_text("姓名,金额\n张三,100\n", encoding="utf-8")
    assert "找不到表头" in run(capsys, str(headless))[2]
    empty = tmp_path / "e.csv"
    empty.write_text("年度,单位,来源,用途,金额\n", encoding="utf-8")
    assert run(capsys, str(empty))[2] == "partybot: e.csv 的表头下面没有经费数据。\n"
