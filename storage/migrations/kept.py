"""Data a downgrade would drop, kept aside so the upgrade after it puts it back.

A downgrade that drops a column (or a table) with data in it copies those values into a
table of their own (``kept_<revision>_<table>``, by row id); the upgrade that adds them
again restores them from there and drops the copy. So downgrading and upgrading again
changes nothing: no branch's greetings switch back on, no repeating session loses the
slot that stops its occurrences being generated twice. A downgrade that rewrites values
the older schema cannot hold (a kind it does not know) keeps the rows it rewrites the same
way (``where``). Imports nothing of ours.

Rows deleted while downgraded stay deleted: a kept row whose parent is gone is not
restored (a ``SET NULL`` reference comes back empty), like the foreign key would have had it.
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


def _columns(table: str) -> list[str]:
    return [column["name"] for column in sa.inspect(op.get_bind()).get_columns(table)]


def keep_columns(
    revision: str, table: str, columns: Sequence[str], *, where: str | None = None
) -> None:
    """Before a downgrade drops (or rewrites) ``columns`` of ``table``: copy them with each
    row's id; only the rows matching ``where`` (SQL on ``table``) if given."""
    name = kept_name(revision, table)
    if _exists(name):
        op.drop_table(name)
    listed = ", ".join(["id", *columns])
    condition = f" WHERE {where}" if where else ""
    op.execute(sa.text(f"CREATE TABLE {name} AS SELECT {listed} FROM {table}{condition}"))


def restore_columns(
    revision: str, table: str, columns: Sequence[str], *, where: str | None = None
) -> None:
    """After an upgrade re-adds ``columns``: the values a downgrade kept, by row id, empty
    ones too (they win over whatever the upgrade derived); only on the rows that still
    match ``where`` (SQL on ``table``) if given."""
    name = kept_name(revision, table)
    if not _exists(name):
        return
    references = _references(table)
    condition = f" AND ({where})" if where else ""
    for column in columns:
        value = _kept_value(column, references.get(column), nullify=True)
        op.execute(
            sa.text(
                f"UPDATE {table} SET {column} = "
                f"(SELECT {value} FROM {name} k WHERE k.id = {table}.id) "
                f"WHERE id IN (SELECT id FROM {name}){condition}"
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
    """After an upgrade re-creates ``table``: the rows a downgrade copied aside (restore a
    parent table before its children)."""
    name = kept_name(revision, table)
    if not _exists(name):
        return
    kept = set(_columns(name))
    columns = [column for column in _columns(table) if column in kept]
    references = _references(table)
    values = [
        _kept_value(column, references.get(column), nullify=_sets_null(references, column))
        for column in columns
    ]
    conditions = [
        _parent_exists(column, reference)
        for column, reference in references.items()
        if column in kept and not _sets_null(references, column)
    ]
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    op.execute(
        sa.text(
            f"INSERT INTO {table} ({', '.join(columns)}) "
            f"SELECT {', '.join(values)} FROM {name} k{where}"
        )
    )
    op.drop_table(name)
    _continue_ids(table)


#: A column's reference: (parent table, parent column, ON DELETE action or None).
_Reference = tuple[str, str, str | None]


def _references(table: str) -> dict[str, _Reference]:
    """The single-column foreign keys of ``table``, by column."""
    found: dict[str, _Reference] = {}
    for key in sa.inspect(op.get_bind()).get_foreign_keys(table):
        if len(key["constrained_columns"]) != 1:
            continue
        ondelete = (key.get("options") or {}).get("ondelete")
        found[key["constrained_columns"][0]] = (
            key["referred_table"],
            key["referred_columns"][0],
            ondelete.upper() if ondelete else None,
        )
    return found


def _sets_null(references: dict[str, _Reference], column: str) -> bool:
    reference = references.get(column)
    return reference is not None and reference[2] == "SET NULL"


def _parent_exists(column: str, reference: _Reference) -> str:
    parent, key, _ = reference
    return f"(k.{column} IS NULL OR EXISTS (SELECT 1 FROM {parent} p WHERE p.{key} = k.{column}))"


def _kept_value(column: str, reference: _Reference | None, *, nullify: bool) -> str:
    """``k.column``; a reference to a row gone meanwhile comes back empty if ``nullify``."""
    if reference is None or not nullify:
        return f"k.{column}"
    return f"CASE WHEN {_parent_exists(column, reference)} THEN k.{column} END"


def _continue_ids(table: str) -> None:
    """PostgreSQL: the id sequence goes on after the restored rows (it restarted at 1 with
    the re-created table, so the next insert would take a kept row's id)."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql" or "id" not in _columns(table):
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
