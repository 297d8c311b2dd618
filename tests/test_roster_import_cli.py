"""`partybot import roster FILE [--dry-run] [--skip-bad]`: what staff see and what is stored."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.clock import ManualClock
from bot.roster_report import ProgressLine, run_cli
from bot.settings import load_settings
from storage import Database
from storage.models import Gender, MemberStatus, OrgKind
from tests.support.audit import audit_log
from tests.support.roster_import import (
    FIRST_ROWS,
    ID_1,
    ID_2,
    Counts,
    all_members,
    all_orgs,
    counts,
    csv_bytes,
    messy_xlsx,
    person,
    status_changes,
    stored_text,
)

Peek = Callable[[Callable[[Database], Awaitable[Any]]], Any]


@pytest.fixture
def cli_env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Peek:
    """A migrated database for the CLI, in Chinese; returns a way to peek into it."""
    monkeypatch.chdir(tmp_path)  # no stray .env
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
    assert main(["init", "--county", "红旗县"]) == 0
    capsys.readouterr()


def write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["import", "roster", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_messy_xlsx_creates_townships_branches_and_people(
    cli_env: Peek, county: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "党员花名册.xlsx", messy_xlsx(FIRST_ROWS))
    code, out, err = run(capsys, path)
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "已导入 党员花名册.xlsx：新增 4 人，更新 0 人，0 人没有变化。",
        "新建乡镇（2 个）：城关镇（代码 T01）；河口乡（代码 T02）",
        "新建党支部（3 个）：东关村党支部（代码 T01-V01）；西河村党支部（代码 T01-V02）；"
        "河口村党支部（代码 T02-V01）",
        "新建党小组（1 个）：第一党小组（代码 T01-V01-G01）",
        "新增（4 人）：",
        "第 4 行：张三（东关村党支部）",
        "第 5 行：李四（东关村党支部）",
        "第 6 行：王五（西河村党支部）",
        "第 7 行：赵六（河口村党支部）",
        "没有读取的列：序号；备注",
        "身份证号列已丢弃，没有保存：身份证号",
    ]
    orgs = cli_env(all_orgs)
    assert {code: (org.name, org.kind) for code, org in orgs.items()} == {
        "C": ("红旗县", OrgKind.COUNTY),
        "T01": ("城关镇", OrgKind.TOWNSHIP),
        "T02": ("河口乡", OrgKind.TOWNSHIP),
        "T01-V01": ("东关村党支部", OrgKind.VILLAGE_BRANCH),
        "T01-V02": ("西河村党支部", OrgKind.VILLAGE_BRANCH),
        "T02-V01": ("河口村党支部", OrgKind.VILLAGE_BRANCH),
        "T01-V01-G01": ("第一党小组", OrgKind.PARTY_GROUP),
    }
    assert orgs["T01-V01-G01"].path.startswith(orgs["T01-V01"].path)
    people = cli_env(all_members)
    zhang = people["张三"]
    assert zhang.phone == "+8613800138000"
    assert zhang.org_id == orgs["T01-V01"].id
    assert zhang.party_group_id == orgs["T01-V01-G01"].id
    assert (zhang.status, zhang.gender, zhang.joined_on) == (
        MemberStatus.PROBATIONARY,
        Gender.MALE,
        date(2020, 7, 1),
    )
    assert people["李四"].joined_on == date(2018, 3, 5)
    assert people["王五"].phone is None
    stored = cli_env(stored_text)
    assert ID_1 not in stored
    assert ID_2 not in stored
    (entry,) = cli_env(lambda database: audit_log(database, "roster.import"))
    assert entry.actor_telegram_id is None
    assert entry.org_id == orgs["C"].id
    assert entry.detail == {
        "file": "党员花名册.xlsx",
        "via": "cli",
        "created": 4,
        "updated": 0,
        "unchanged": 0,
        "skipped_rows": 0,
        "orgs_created": 6,
    }


def test_importing_the_same_file_again_changes_nothing(
    cli_env: Peek, county: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "花名册.xlsx", messy_xlsx(FIRST_ROWS))
    assert run(capsys, path)[0] == 0
    before = cli_env(counts)
    stamps = {m.name: m.updated_at for m in cli_env(all_members).values()}
    code, out, _ = run(capsys, path)
    assert code == 0
    assert out.splitlines()[0] == "已导入 花名册.xlsx：新增 0 人，更新 0 人，4 人没有变化。"
    assert "新建" not in out
    after = cli_env(counts)
    assert after == Counts(before.orgs, before.members, 0, before.audits + 1)
    assert {m.name: m.updated_at for m in cli_env(all_members).values()} == stamps


async def test_updated_file_updates_people_by_phone_and_by_name(
    database: Database, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clock = ManualClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))
    settings = load_settings(env_file=None, PARTYBOT_DATABASE_URL=database_url)
    from storage import orgs as org_store

    async with database.session_scope() as db:
        await org_store.create_org(db=db, code="C", name="红旗县", kind=OrgKind.COUNTY)
    first = tmp_path / "v1.xlsx"
    first.write_bytes(messy_xlsx(FIRST_ROWS))
    out = io.StringIO()
    assert await run_cli(settings, first, dry_run=False, skip_bad=False, clock=clock, out=out) == 0
    updated_rows = [
        # by phone: probationary -> full, moved to 西河村 (a transfer), leaves his party group
        person(1, "张三", "城关镇", "西河村党支部", "正式党员", phone="13800138000", gender="男"),
        # by phone: same branch, the name was misspelt before
        person(2, "李 肆", "城关镇", "东关村党支部", "正式党员", phone="13900139000"),
        # by name: now has a phone, and became a probationary member; date joined now known
        person(
            3,
            "王五",
            "城关镇",
            "西河村党支部",
            "预备党员",
            phone="13600136000",
            joined="2025-12-01",
        ),
        # unchanged; the blank gender does not erase anything
        person(4, "赵六", "河口乡", "河口村党支部", "入党积极分子", phone="13700137000"),
        # new
        person(5, "孙七", "城关镇", "东关村党支部", "入党积极分子", group="第一党小组"),
    ]
    second = tmp_path / "v2.xlsx"
    second.write_bytes(messy_xlsx(updated_rows))
    preview = io.StringIO()
    assert (
        await run_cli(settings, second, dry_run=True, skip_bad=False, clock=clock, out=preview)
        == 0
    )
    out = io.StringIO()
    assert (
        await run_cli(settings, second, dry_run=False, skip_bad=False, clock=clock, out=out) == 0
    )
    changes = [
        "第 4 行：张三：人员类别由 预备党员 改为 正式党员；"
        "所在党支部由 东关村党支部 改为 西河村党支部；党小组由 第一党小组 改为 —",
        "第 5 行：李肆：姓名由 李四 改为 李肆",
        "第 6 行：王五：手机号码由 — 改为 13600136000；人员类别由 发展对象 改为 预备党员；"
        "入党时间由 — 改为 2025-12-01",
    ]
    assert preview.getvalue().splitlines()[:7] == [
        "预览 v2.xlsx：共读到 5 行，还没有写入任何内容。",
        "将新增（1 人）：",
        "第 8 行：孙七（东关村党支部）",
        "将更新（3 人）：",
        *changes,
    ]
    assert "没有变化：1 人" in preview.getvalue()
    assert out.getvalue().splitlines()[:7] == [
        "已导入 v2.xlsx：新增 1 人，更新 3 人，1 人没有变化。",
        "新增（1 人）：",
        "第 8 行：孙七（东关村党支部）",
        "已更新（3 人）：",
        *changes,
    ]
    orgs = await all_orgs(database)
    people = await all_members(database)
    zhang, li, wang, zhao = people["张三"], people["李肆"], people["王五"], people["赵六"]
    assert "李四" not in people
    assert (zhang.org_id, zhang.party_group_id, zhang.status) == (
        orgs["T01-V02"].id,
        None,
        MemberStatus.FULL,
    )
    assert (wang.phone, wang.status, wang.joined_on) == (
        "+8613600136000",
        MemberStatus.PROBATIONARY,
        date(2025, 12, 1),
    )
    assert (li.phone, li.gender) == ("+8613900139000", Gender.FEMALE)  # blank keeps gender
    assert zhao.updated_at == zhao.created_at
    assert people["孙七"].party_group_id == orgs["T01-V01-G01"].id
    recorded = [
        (change.member_id, change.from_status, change.to_status, change.changed_on)
        for change in await status_changes(database)
    ]
    assert recorded == [
        (zhang.id, MemberStatus.PROBATIONARY, MemberStatus.FULL, date(2026, 3, 2)),
        (wang.id, MemberStatus.DEVELOPMENT_TARGET, MemberStatus.PROBATIONARY, date(2026, 3, 2)),
    ]
    entries = await audit_log(database, "roster.import")
    assert [entry.detail["updated"] for entry in entries] == [0, 3]


BAD_ROWS = [
    person(1, "张三", "城关镇", "东关村党支部", "正式党员", phone="13800138000"),  # row 4
    person(2, "李四", "城关镇", "东关村党支部", "正式党员", phone="1380000"),  # row 5: bad phone
    person(3, "王五", "城关镇", "东关村党支部", "党员"),  # row 6: unknown category
    # row 7: the phone is someone else's; its new township must not be created with --skip-bad
    person(4, "赵六", "新华乡", "新华村党支部", "预备党员", phone="13700137000"),
    person(5, "孙七", None, "不存在村党支部", "正式党员"),  # row 8: unknown branch, no township
    person(6, "周八", "河口乡", "河口村党支部", "正式党员", joined="2019-02-30"),  # row 9
    person(7, "吴十", "河口乡", "河口村党支部", "发展对象"),  # row 10
]
PROBLEM_LINES = [
    "第 5 行：手机号码 1380000 不是有效的手机号",
    "第 6 行：人员类别 党员 不对，应填正式党员、预备党员、发展对象或入党积极分子",
    "第 7 行：手机号码 13700137000 已经是 河口村党支部 的 钱九 在用",
    "第 8 行：没有叫 不存在村党支部 的党支部；请填上所属乡镇，才能新建这个支部",
    "第 9 行：入党时间 2019-02-30 不是有效的日期",
]


def test_a_bad_row_in_the_middle_imports_nothing(
    cli_env: Peek, county: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    existing = [person(1, "钱九", "河口乡", "河口村党支部", "正式党员", phone="13700137000")]
    assert run(capsys, write(tmp_path, "old.xlsx", messy_xlsx(existing)))[0] == 0
    before = cli_env(counts)
    code, out, err = run(capsys, write(tmp_path, "new.xlsx", messy_xlsx(BAD_ROWS)))
    assert (code, err) == (1, "")
    assert out.splitlines() == [
        "new.xlsx 没有导入：有 5 行有问题。请改好后重新导入，或者只导入正确的行。",
        "有问题的行（5 行）：",
        *PROBLEM_LINES,
        "没有读取的列：序号；备注",
        "身份证号列已丢弃，没有保存：身份证号",
        "加上 --skip-bad 再运行一次，就只导入正确的行。",
    ]
    assert cli_env(counts) == before


def test_skip_bad_imports_the_good_rows_and_lists_the_skipped(
    cli_env: Peek, county: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    existing = [person(1, "钱九", "河口乡", "河口村党支部", "正式党员", phone="13700137000")]
    assert run(capsys, write(tmp_path, "old.xlsx", messy_xlsx(existing)))[0] == 0
    code, out, err = run(capsys, write(tmp_path, "new.xlsx", messy_xlsx(BAD_ROWS)), "--skip-bad")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "已导入 new.xlsx：新增 2 人，更新 0 人，0 人没有变化。",
        "新建乡镇（1 个）：城关镇（代码 T02）",
        "新建党支部（1 个）：东关村党支部（代码 T02-V01）",
        "新增（2 人）：",
        "第 4 行：张三（东关村党支部）",
        "第 10 行：吴十（河口村党支部）",
        "跳过的行（5 行）：",
        *PROBLEM_LINES,
        "没有读取的列：序号；备注",
        "身份证号列已丢弃，没有保存：身份证号",
    ]
    assert sorted(cli_env(all_members)) == ["吴十", "张三", "钱九"]
    assert "新华乡" not in {org.name for org in cli_env(all_orgs).values()}
    (_, entry) = cli_env(lambda database: audit_log(database, "roster.import"))
    assert entry.detail["skipped_rows"] == 5


def test_dry_run_writes_nothing(
    cli_env: Peek, county: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = cli_env(counts)
    code, out, err = run(capsys, write(tmp_path, "r.xlsx", messy_xlsx(FIRST_ROWS)), "--dry-run")
    assert (code, err) == (0, "")
    assert out.splitlines()[:4] == [
        "预览 r.xlsx：共读到 4 行，还没有写入任何内容。",
        "新建乡镇（2 个）：城关镇（代码 T01）；河口乡（代码 T02）",
        "新建党支部（3 个）：东关村党支部（代码 T01-V01）；西河村党支部（代码 T01-V02）；"
        "河口村党支部（代码 T02-V01）",
        "新建党小组（1 个）：第一党小组（代码 T01-V01-G01）",
    ]
    assert "将新增（4 人）：" in out
    assert "没有变化：0 人" in out
    assert cli_env(counts) == before


def test_gbk_csv_without_township_finds_existing_branches(
    cli_env: Peek, county: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, write(tmp_path, "first.xlsx", messy_xlsx(FIRST_ROWS)))[0] == 0
    rows = [
        ["姓名", "性别", "联系电话", "党支部", "党员类别", "入党日期", "身份证号码"],
        ["吴十", "男", "13500135000", "东关村", "正式党员", "2001/7/1", ID_1],  # loose name
        ["郑十一", "女", "", "西河村党支部", "预备", "2024.6", ""],
        ["冯十二", "女", "", "北山村党支部", "正式", "", ""],  # unknown, no township to make it
    ]
    path = write(tmp_path, "花名册.csv", csv_bytes(rows, encoding="gbk"))
    code, out, _ = run(capsys, path, "--skip-bad")
    assert code == 0
    assert out.splitlines() == [
        "已导入 花名册.csv：新增 2 人，更新 0 人，0 人没有变化。",
        "新增（2 人）：",
        "第 2 行：吴十（东关村党支部）",
        "第 3 行：郑十一（西河村党支部）",
        "跳过的行（1 行）：",
        "第 4 行：没有叫 北山村党支部 的党支部；请填上所属乡镇，才能新建这个支部",
        "身份证号列已丢弃，没有保存：身份证号码",
    ]
    people = cli_env(all_members)
    orgs = cli_env(all_orgs)
    assert people["吴十"].org_id == orgs["T01-V01"].id
    assert people["郑十一"].joined_on == date(2024, 6, 1)
    assert ID_1 not in cli_env(stored_text)


def test_without_a_county_the_import_stops_with_a_clear_line(
    cli_env: Peek, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, write(tmp_path, "r.xlsx", messy_xlsx(FIRST_ROWS)))
    assert (code, out) == (1, "")
    assert err == "partybot: 数据库里还没有县。请先创建：partybot init --county 县名\n"
    assert cli_env(counts) == Counts(0, 0, 0, 0)


def test_a_database_never_migrated_has_no_county_either(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PARTYBOT_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'new.db'}")
    monkeypatch.setenv("PARTYBOT_LANGUAGE", "en")
    code, _, err = run(capsys, write(tmp_path, "r.xlsx", messy_xlsx(FIRST_ROWS)))
    assert code == 1
    assert err == (
        "partybot: There is no county in the database yet. "
        "Create it first: partybot init --county NAME\n"
    )


def test_file_problems_and_missing_files_give_one_line(
    cli_env: Peek, county: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, write(tmp_path, "old.xls", b"\xd0\xcf\x11\xe0"))
    assert code == 1
    assert err.startswith("partybot: 文件 old.xls 是旧的 .xls 格式。")
    code, _, err = run(capsys, str(tmp_path / "missing.xlsx"))
    assert code == 1
    assert err.startswith(f"partybot: 无法读取 {tmp_path / 'missing.xlsx'}：")


def test_english_report(
    cli_env: Peek,
    county: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PARTYBOT_LANGUAGE", "en")
    path = write(tmp_path, "roster.xlsx", messy_xlsx(FIRST_ROWS[:2]))
    code, out, _ = run(capsys, path)
    assert code == 0
    assert out.splitlines()[:5] == [
        "Imported roster.xlsx: 2 created, 0 updated, 0 unchanged.",
        "New townships (1): 城关镇 (code T01)",
        "New branches (1): 东关村党支部 (code T01-V01)",
        "New party groups (1): 第一党小组 (code T01-V01-G01)",
        "Added (2):",
    ]
    assert "ID number columns were dropped and not stored: 身份证号" in out


def test_large_files_show_a_progress_line(
    cli_env: Peek, county: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [["姓名", "所属乡镇", "所在党支部", "人员类别", "手机号码"]]
    rows += [
        [f"党员{n}", "城关镇", f"第{n % 7}村党支部", "正式党员", f"1390000{n:04d}"]
        for n in range(1200)
    ]
    code, _, err = run(capsys, write(tmp_path, "big.csv", csv_bytes(rows)))
    assert code == 0
    assert err.split("\r")[1:] == [
        "正在检查: 500/1200",
        "正在检查: 1000/1200",
        "正在检查: 1200/1200\n",
        "正在写入: 1200/1200\n",
    ]
    assert cli_env(counts).members == 1200


def test_progress_line_stays_quiet_for_small_files() -> None:
    stream = io.StringIO()
    show = ProgressLine(stream, lambda text: text)
    show("check", 100, 500)
    assert stream.getvalue() == ""
    show("check", 501, 501)
    assert stream.getvalue() == "\rChecking rows: 501/501\n"


def test_a_close_name_stops_the_import_until_said_to_be_new(
    cli_env: Peek, county: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, write(tmp_path, "a.xlsx", messy_xlsx(FIRST_ROWS)))[0] == 0
    close = [person(1, "钱七", "城关镇", "东关村支部", "正式党员", phone="13600136001")]
    path = write(tmp_path, "b.xlsx", messy_xlsx(close))
    code, out, _err = run(capsys, path)
    assert code == 1
    assert (
        "第 4 行：还没有 东关村支部，但有 东关村党支部，是同一个吗？请在下面选，或者改好文件"
        in (out.splitlines())
    )
    assert out.splitlines()[-1] == (
        "如果这些名称确实是新的，请加上 --new-name 东关村支部 再运行一次；否则请改好文件。"
    )
    code, out, err = run(capsys, path, "--new-name", "东关村支部")
    assert (code, err) == (0, ""), out
    assert "新建党支部（1 个）：东关村支部（代码 T01-V03）" in out.splitlines()
