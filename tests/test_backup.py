"""`partybot backup` and `partybot restore`: a round trip gives back the same rows; a
restore never moves the schema backwards."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from bot.cli import main
from storage import current_revision, head_revision, upgrade_to_head
from tests.support.process import new_postgres_database


@pytest.fixture
def database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    for name in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_API_BASE_URL", "PARTYBOT_LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    url = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'live.db'}"
    monkeypatch.setenv("PARTYBOT_DATABASE_URL", url)
    return url


def _snapshot(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, in a stable order."""
    with closing(sqlite3.connect(path)) as conn:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        return {
            table: conn.execute(f'SELECT * FROM "{table}" ORDER BY rowid').fetchall()
            for table in tables
        }


def _seed(grantee: int) -> None:
    assert main(["init", "--county", "清河县"]) == 0
    assert main(["admin", "grant", "--telegram-id", str(grantee), "--role", "county_staff",
                 "--org", "C"]) == 0  # fmt: skip


def test_backup_and_restore_give_back_the_same_rows(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    live = tmp_path / "data" / "live.db"
    _seed(111)
    before = _snapshot(live)
    assert before["org_unit"]
    assert before["role_grant"]
    copy = tmp_path / "backup.db"
    assert main(["backup", str(copy)]) == 0
    assert _snapshot(copy) == before

    _seed(222)  # life goes on after the backup ...
    with closing(sqlite3.connect(live)) as conn, conn:
        conn.execute("DELETE FROM audit_log")
    assert _snapshot(live) != before
    capsys.readouterr()

    assert main(["restore", str(copy)]) == 0  # ... and the restore takes it back
    assert _snapshot(live) == before
    assert capsys.readouterr().out.strip() == f"restored {copy} (schema {head_revision()})"


def test_backup_refuses_to_overwrite_a_file(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(111)
    existing = tmp_path / "taken.db"
    existing.write_bytes(b"keep me")
    assert main(["backup", str(existing)]) == 1
    assert "exists" in capsys.readouterr().err
    assert existing.read_bytes() == b"keep me"


def _older_backup(tmp_path: Path) -> tuple[Path, str]:
    """A backup made by an older partybot: the schema one revision before head."""
    path = tmp_path / "old.db"
    older = _previous_revision()
    upgrade_to_head(f"sqlite+aiosqlite:///{path}", revision=older)
    return path, older


def _previous_revision() -> str:
    from alembic.script import ScriptDirectory

    from storage.db import alembic_config

    head = ScriptDirectory.from_config(alembic_config()).get_revision("head")
    assert head is not None
    assert isinstance(head.down_revision, str)
    return head.down_revision


def test_restore_refuses_to_overwrite_a_newer_schema(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    live = tmp_path / "data" / "live.db"
    _seed(111)
    before = _snapshot(live)
    old, older = _older_backup(tmp_path)
    capsys.readouterr()
    assert main(["restore", str(old)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "newer schema" in err[0]
    assert older in err[0]
    assert _snapshot(live) == before


def test_restore_of_an_older_backup_into_an_empty_place_asks_for_an_upgrade(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, older = _older_backup(tmp_path)
    assert main(["restore", str(old)]) == 0
    assert "run `partybot db upgrade`" in capsys.readouterr().out
    assert current_revision(database_url) == older
    assert main(["db", "upgrade"]) == 0
    assert current_revision(database_url) == head_revision()


def test_restore_refuses_a_backup_from_a_newer_partybot(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(111)
    future = tmp_path / "future.db"
    shutil.copyfile(tmp_path / "data" / "live.db", future)
    with closing(sqlite3.connect(future)) as conn, conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    assert main(["restore", str(future)]) == 1
    assert "unknown to this partybot" in capsys.readouterr().err
    assert current_revision(database_url) == head_revision()


def test_restore_refuses_a_file_that_is_no_backup(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(111)
    junk = tmp_path / "junk.db"
    junk.write_text("not a database at all, just text " * 100)
    assert main(["restore", str(junk)]) == 1
    assert "not a partybot SQLite backup" in capsys.readouterr().err


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with new_postgres_database("partybot_backup") as url:
        yield url


@pytest.mark.postgres
def test_postgres_backup_prints_and_runs_pg_dump(
    postgres_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PARTYBOT_DATABASE_URL", postgres_url)
    _seed(111)
    capfd.readouterr()
    archive = tmp_path / "county.dump"
    assert main(["backup", str(archive)]) == 0
    printed = capfd.readouterr().out.strip().splitlines()[0]
    assert printed.startswith("pg_dump --format=custom")
    assert f"--file={archive}" in printed
    listing = subprocess.run(
        ["pg_restore", "--list", str(archive)], capture_output=True, text=True, check=True
    ).stdout
    assert "TABLE DATA public org_unit" in listing
    assert "TABLE DATA public role_grant" in listing
