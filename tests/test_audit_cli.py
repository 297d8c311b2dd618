"""`partybot audit`: newest first, readable columns, org subtree and Shanghai-day filters."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.audit_report import AuditLine, render, window
from bot.cli import main
from storage import Database, accounts, audit, upgrade_to_head
from tests.support.builders import build_tree

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)  # no stray .env from the developer's checkout
    for name in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_API_BASE_URL", "PARTYBOT_LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    url = f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}"
    monkeypatch.setenv("PARTYBOT_DATABASE_URL", url)
    monkeypatch.setenv("PARTYBOT_TIMEZONE", "Asia/Shanghai")
    return url


async def _fill(url: str) -> None:
    upgrade_to_head(url)
    database = Database(url)
    tree = await build_tree(database)
    async with database.session_scope() as db:
        await accounts.ensure_account(db=db, telegram_user_id=7, first_name="阿丽")
        entries = [
            # 2026-03-01 23:30 in Shanghai (still the 1st there, the 1st in UTC too)
            (datetime(2026, 3, 1, 15, 30, tzinfo=UTC), 7, "member.status", tree.dongfeng.id),
            # 2026-03-02 00:30 in Shanghai, but 2026-03-01 in UTC
            (datetime(2026, 3, 1, 16, 30, tzinfo=UTC), 7, "role.grant", tree.liushu.id),
            (datetime(2026, 3, 3, 2, 0, tzinfo=UTC), None, "probation.reminded", tree.qianjin.id),
        ]
        for at, actor, action, org_id in entries:
            await audit.record(
                db=db,
                actor=actor,
                action=action,
                target_kind="member",
                target_id=12,
                org_id=org_id,
                detail={"name": "张三"},
                at=at,
            )
    await database.dispose()


def test_prints_newest_first_with_shanghai_times_and_names(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(_fill(database_url))
    assert main(["audit"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["time", "actor", "action", "target", "org", "detail"]
    assert lines[1].startswith(
        "2026-03-03 10:00  system    probation.reminded  member 12  前进村党支部"
    )
    assert lines[1].endswith('{"name": "张三"}')
    assert lines[2].startswith("2026-03-02 00:30  阿丽 (7)  role.grant")
    assert lines[3].startswith("2026-03-01 23:30  阿丽 (7)  member.status")
    assert len(lines) == 4


def test_filters_by_org_subtree_days_and_limit(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(_fill(database_url))
    assert main(["audit", "--org", "T01"]) == 0  # 东风镇: both of its branches
    out = capsys.readouterr().out
    assert "role.grant" in out
    assert "member.status" in out
    assert "probation" not in out

    assert main(["audit", "--since", "2026-03-02", "--until", "2026-03-02"]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert [row.split()[4] for row in rows] == ["role.grant"]

    assert main(["audit", "--limit", "1"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2

    assert main(["audit", "--org", "T02", "--until", "2026-03-01"]) == 0
    assert capsys.readouterr().out.strip() == "no audit entries match"


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--since", "2026-13-01"], "expected a date like 2026-03-01, got '2026-13-01'"),
        (["--until", "yesterday"], "expected a date like 2026-03-01, got 'yesterday'"),
        (["--limit", "0"], "expected a whole number above 0, got '0'"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(
    database_url: str, capsys: pytest.CaptureFixture[str], argv: list[str], fragment: str
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["audit", *argv])
    assert stopped.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert fragment in err[0]


def test_unknown_org_and_backwards_window_exit_2(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(_fill(database_url))
    assert main(["audit", "--org", "NOPE"]) == 2
    assert capsys.readouterr().err.strip() == "partybot: no org with code 'NOPE'"
    assert main(["audit", "--since", "2026-03-05", "--until", "2026-03-01"]) == 2
    assert capsys.readouterr().err.strip() == (
        "partybot: --since 2026-03-05 is after --until 2026-03-01"
    )


def test_an_empty_database_says_what_to_do(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit"]) == 1
    assert "run `partybot db upgrade` first" in capsys.readouterr().err


def test_window_covers_whole_shanghai_days() -> None:
    start, end = window(date(2026, 3, 2), date(2026, 3, 2), SHANGHAI)
    assert start == datetime(2026, 3, 1, 16, 0, tzinfo=UTC)
    assert end == datetime(2026, 3, 2, 16, 0, tzinfo=UTC)
    assert window(None, None, SHANGHAI) == (None, None)


def test_columns_line_up_by_display_width() -> None:
    lines = [
        AuditLine("2026-03-02 09:00", "阿丽 (7)", "role.grant", "account 9", "东风村党支部", "{}"),
        AuditLine("2026-03-02 08:00", "Bob (8)", "member.status", "member 1", "C", "{}"),
    ]
    table = render(lines).splitlines()

    def column(line: str, text: str) -> int:  # where `text` starts on screen
        return sum(2 if "一" <= ch <= "鿿" else 1 for ch in line[: line.index(text)])

    assert column(table[1], "role.grant") == column(table[2], "member.status")
    assert table[1].endswith("东风村党支部  {}")
    assert table[2].endswith("C             {}")
