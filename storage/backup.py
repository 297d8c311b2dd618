"""Backups: SQLite's online backup API, pg_dump for PostgreSQL, and a guarded SQLite restore.

SQLite's backup API copies a consistent snapshot while the bot keeps writing. A restore
never moves the schema backwards: a backup older than the database it would replace is
refused (the code expects the newer schema), and so is a backup from a newer partybot.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from storage.db import _is_sqlite, _parse, _sqlite_file, alembic_config, current_revision

__all__ = [
    "BackupError",
    "PgDump",
    "backup_sqlite",
    "pg_dump_command",
    "restore_sqlite",
    "revision_of_file",
    "sqlite_path",
]


class BackupError(Exception):
    """A refused backup or restore; the message is one line for the operator."""


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL; None for PostgreSQL (or in-memory SQLite)."""
    parsed = _parse(url)
    return _sqlite_file(parsed) if _is_sqlite(parsed) else None


def backup_sqlite(url: str, target: Path) -> None:
    """Copy the live SQLite database at ``url`` to ``target`` (a new file)."""
    source = sqlite_path(url)
    if source is None or not source.exists():
        raise BackupError(f"no SQLite database file at {url}")
    if target.exists():
        raise BackupError(f"{target} exists; choose a new file name")
    with closing(sqlite3.connect(source)) as live, closing(sqlite3.connect(target)) as copy:
        live.execute("PRAGMA busy_timeout=5000")
        live.backup(copy)


@dataclass(frozen=True, slots=True)
class PgDump:
    """A pg_dump invocation: the arguments to show and run, the password kept aside."""

    argv: list[str]
    password: str | None

    def run(self) -> int:
        """Run pg_dump; its exit status."""
        env = dict(os.environ)
        if self.password is not None:
            env["PGPASSWORD"] = self.password
        return subprocess.run(self.argv, env=env, check=False).returncode


def pg_dump_command(url: str, target: Path) -> PgDump:
    """pg_dump in its custom format (restore with pg_restore); no password on the line."""
    parsed = make_url(url)
    plain = parsed.set(drivername="postgresql", password=None)
    dsn = plain.render_as_string(hide_password=False)
    argv = ["pg_dump", "--format=custom", f"--file={target}", f"--dbname={dsn}"]
    return PgDump(argv=argv, password=parsed.password)


def revision_of_file(path: Path) -> str | None:
    """The Alembic revision stored in a SQLite file (None if it has none)."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a partybot SQLite backup ({exc})") from None
    return str(row[0]) if row else None


def _history() -> list[str]:
    """Revisions shipped with this code, oldest first."""
    script = ScriptDirectory.from_config(alembic_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def restore_sqlite(url: str, source: Path) -> str:
    """Replace the SQLite database at ``url`` with the backup ``source``; its revision.

    Stop every bot process first: the copy replaces the file's pages in one go.
    """
    target = sqlite_path(url)
    if target is None:
        raise BackupError("restore works on SQLite; for PostgreSQL use pg_restore")
    if not source.is_file():
        raise BackupError(f"no backup file {source}")
    history = _history()
    restored = revision_of_file(source)
    if restored is None:
        raise BackupError(f"{source} has no schema revision; it is not a partybot backup")
    if restored not in history:
        raise BackupError(
            f"{source} has schema {restored}, unknown to this partybot (newer?); "
            "install the partybot that made it"
        )
    present = current_revision(url)
    if present is not None and present in history:
        if history.index(present) > history.index(restored):
            raise BackupError(
                f"the database has a newer schema ({present}) than the backup ({restored}); "
                "refusing to overwrite it"
            )
    elif present is not None:
        raise BackupError(f"the database has schema {present}, unknown to this partybot")
    target.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(source)) as backup, closing(sqlite3.connect(target)) as live:
        live.execute("PRAGMA busy_timeout=5000")
        backup.backup(live)
    return restored
