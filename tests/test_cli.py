"""The `partybot` command line: bootstrap commands, and one-line refusals."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.cli import main
from storage import Database
from storage import roles as role_store


@pytest.fixture
def database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)  # no stray .env from the developer's checkout
    for name in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_API_BASE_URL", "PARTYBOT_LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("PARTYBOT_DATABASE_URL", url)
    return url


def _one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        ([], "the following arguments are required"),
        (["init"], "--county"),
        (
            ["admin", "grant", "--telegram-id", "abc", "--role", "admin", "--org", "C"],
            "invalid int",
        ),
        (["frobnicate"], "invalid choice"),
        (["db"], "the following arguments are required"),
    ],
)
def test_wrong_arguments_give_one_line_and_exit_2(
    database_url: str, capsys: pytest.CaptureFixture[str], argv: list[str], fragment: str
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    assert fragment in _one_line(capsys.readouterr().err)


def test_invalid_setting_stops_with_one_line(
    database_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARTYBOT_TIMEZONE", "Nowhere/Land")
    assert main(["db", "current"]) == 2
    assert "PARTYBOT_TIMEZONE" in _one_line(capsys.readouterr().err)


def test_run_without_token_starts_the_sandbox_and_says_what_to_set(
    database_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[int] = []

    async def serve_sandbox(settings: object, *, port: int, fresh: bool) -> None:
        started.append(port)

    monkeypatch.setattr("demo.app.serve_sandbox", serve_sandbox)
    assert main(["run"]) == 0
    assert started == [8080]
    err = capsys.readouterr().err
    assert "TELEGRAM_BOT_TOKEN is not set, so the sandbox starts instead" in err
    assert "@BotFather" in err


def test_db_upgrade_then_current(database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "current"]) == 0
    assert "database is empty" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    assert "database at revision" in capsys.readouterr().out
    assert main(["db", "current"]) == 0
    assert "(newest)" in capsys.readouterr().out


def test_init_creates_the_county_once(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", "--county", "红旗县"]) == 0
    assert "created county 红旗县" in capsys.readouterr().out
    assert main(["init", "--county", "红旗县"]) == 0
    assert "already exists" in capsys.readouterr().out
    assert main(["init", "--county", "别的县"]) == 1
    assert "already belongs to 红旗县" in _one_line(capsys.readouterr().err)


def test_admin_grant_bootstraps_county_staff(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", "--county", "红旗县"]) == 0
    argv = ["admin", "grant", "--telegram-id", "42", "--role", "county_staff", "--org", "C"]
    assert main(argv) == 0
    assert "granted county_staff" in capsys.readouterr().out
    held = asyncio.run(_roles_of(database_url, 42))
    assert [(grant.role, grant.org_path) for grant in held] == [("county_staff", "/1/")]


async def _roles_of(url: str, telegram_user_id: int) -> list[role_store.RoleScope]:
    database = Database(url)
    async with database.session_scope() as db:
        held = await role_store.roles_of(db=db, telegram_user_id=telegram_user_id)
    await database.dispose()
    return held


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--role", "emperor", "--org", "C"], "unknown role 'emperor'"),
        (["--role", "county_staff", "--org", "NOPE"], "no org with code 'NOPE'"),
        (["--role", "secretary", "--org", "C"], "secretary is held on a"),
    ],
)
def test_admin_grant_refusals(
    database_url: str, capsys: pytest.CaptureFixture[str], argv: list[str], fragment: str
) -> None:
    assert main(["init", "--county", "红旗县"]) == 0
    capsys.readouterr()
    assert main(["admin", "grant", "--telegram-id", "42", *argv]) == 1
    assert fragment in _one_line(capsys.readouterr().err)
