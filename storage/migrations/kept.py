"""Data a downgrade would drop, kept aside so the upgrade after it puts it back.

A downgrade that drops a column (or a table) with data in it copies those values into a
table of their own (``kept_<revision>_<table>``, by row id); the upgrade that adds them
again restores them from there and drops the copy. So downgrading and upgrading again
changes nothing: no branch's greetings switch back on, no repeating session loses the
slot that stops its occurrences being generated twice. Imports nothing of ours.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


def kept_name(revision: str, table: str) -> str:
    """The table that holds what the downgrade of ``revision`` dropped from ``table``."""
    return f"kept_{revision}_{table}"


def _exists(name: str) -> bool:
    return sa.inspect(op.get_bind()).has_table(name)


def keep_columns(revision: str, table: str, columns: Sequence[str]) -> None:
    """Before a downgrade drops ``columns`` of ``table``: copy them with each row's id."""
    name = kept_name(revision, table)
    if _exists(name):
        op.drop_table(name)
    listed = ", ".join(["id", *columns])
    op.execute(sa.text(f"CREATE TABLE {name} AS SELECT {listed} FROM {table}"))


def restore_columns(revision: str, table: str, columns: Sequence[str]) -> None:
    """After an upgrade re-adds ``columns``: the values a downgrade kept, by row id."""
    name = kept_name(revision, table)
    if not _exists(name):
        return
    for column in columns:
        op.execute(
            sa.text(
                f"UPDATE {table} SET {column} = "
                f"(SELECT k.{column} FROM {name} k WHERE k.id = {table}.id) "
                f"WHERE id IN (SELECT id FROM {name} WHERE {column} IS NOT NULL)"
            )
        )
    op.drop_table(name)


def keep_table(revision: str, table: str) -> None:
    """Before a downgrade drops ``table``: copy its rows aside."""
    name = kept_name(revision, table)
    if _exists(name):
        op.drop_table(name)
    op.execute(sa.text(f"CREATE TABLE {name} AS SELECT * FROM {table}"))


def restore_table(revision: str, table: str) -> None:
    """After an upgrade re-creates ``table``: the rows a downgrade copied aside."""
    name = kept_name(revision, table)
    if not _exists(name):
        return
    op.execute(sa.text(f"INSERT INTO {table} SELECT * FROM {name}"))
    op.drop_table(name)
    _continue_ids(table)


def _continue_ids(table: str) -> None:
    """PostgreSQL: the id sequence goes on after the restored rows (it restarted at 1 with
    the re-created table, so the next insert would take a kept row's id)."""
    bind = op.get_bind()
    columns = {column["name"] for column in sa.inspect(bind).get_columns(table)}
    if bind.dialect.name != "postgresql" or "id" not in columns:
        return
    op.execute(
        sa.text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
        )
    )


def drop_kept() -> None:
    """Drop every table of kept values (the downgrade to nothing at all)."""
    for name in sa.inspect(op.get_bind()).get_table_names():
        if name.startswith("kept_"):
            op.drop_table(name)
