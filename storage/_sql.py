"""Small SQL helpers shared by the aggregate modules (dialect differences live here)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

__all__ = ["dialect_name", "in_subtree", "insert_ignore", "table_of", "upsert"]


def table_of(model: type[SQLModel]) -> sa.Table:
    """The Core table behind a SQLModel table class."""
    table = sa.inspect(model).local_table
    assert isinstance(table, sa.Table)
    return table


async def dialect_name(db: AsyncSession) -> str:
    """``"sqlite"`` or ``"postgresql"`` for the connection the session is using."""
    connection = await db.connection()
    return connection.dialect.name


def in_subtree(path: Any, top: Any, dialect: str) -> sa.ColumnElement[bool]:
    """Whether materialised ``path`` ("/1/5/23/") lies in the subtree whose path is ``top``
    (both columns, e.g. when joining every org to the orgs below it).

    On SQLite as a range, ``top <= path < top || ':'``, which the path index answers; a
    LIKE with a column pattern compares every pair of orgs (27 ms against 4 ms for a
    county's 320 orgs). Exact because paths hold only digits and '/', all below ':' in
    byte order, and ``top`` ends with '/'. PostgreSQL keeps LIKE: its collation need not
    order bytes.
    """
    if dialect == "sqlite":
        return sa.and_(path >= top, path < top.concat(":"))
    inside: sa.ColumnElement[bool] = path.startswith(top)
    return inside


async def _insert(db: AsyncSession, model: type[SQLModel]) -> Any:
    table = table_of(model)
    if await dialect_name(db) == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


async def insert_ignore(
    db: AsyncSession,
    model: type[SQLModel],
    values: Mapping[str, Any],
    *,
    conflict: Sequence[str],
) -> None:
    """INSERT the row unless one with the same ``conflict`` columns exists (race-free)."""
    stmt = (await _insert(db, model)).values(**values)
    await db.exec(stmt.on_conflict_do_nothing(index_elements=list(conflict)))


async def upsert(
    db: AsyncSession,
    model: type[SQLModel],
    values: Mapping[str, Any],
    *,
    conflict: Sequence[str],
    update: Mapping[str, Any],
) -> None:
    """INSERT the row, or UPDATE ``update`` on the existing one (race-free).

    ``update`` values may be callables taking the ``excluded`` pseudo-table, to refer to
    the values that were about to be inserted.
    """
    stmt = (await _insert(db, model)).values(**values)
    set_ = {
        key: value(stmt.excluded) if callable(value) else value for key, value in update.items()
    }
    await db.exec(stmt.on_conflict_do_update(index_elements=list(conflict), set_=set_))
