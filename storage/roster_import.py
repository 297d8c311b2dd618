"""The SQL side of a roster import: read the org tree once, write people in bulk.

A county roster has thousands of rows. Matching them one SELECT at a time would take
minutes on a slow disk, so the import reads what it needs in a few set-based queries and
writes with executemany; these functions are those queries and writes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage._sql import table_of
from storage.models.members import Member, MemberStatusChange
from storage.models.orgs import OrgUnit

__all__ = [
    "WRITE_CHUNK",
    "insert_members",
    "org_codes",
    "org_units_under",
    "record_status_changes",
    "update_members",
]

#: Rows per executemany: keeps each statement's parameter list a sane size.
WRITE_CHUNK: Final = 1000


async def org_units_under(*, db: AsyncSession, path: str) -> list[OrgUnit]:
    """Every org unit in the subtree at ``path`` (active or not), parents before children."""
    result = await db.exec(
        select(OrgUnit).where(col(OrgUnit.path).startswith(path)).order_by(col(OrgUnit.path))
    )
    return list(result.all())


async def org_codes(*, db: AsyncSession) -> set[str]:
    """Every org code in use; new codes must avoid all of them (codes are unique)."""
    result = await db.exec(select(OrgUnit.code))
    return set(result.all())


async def insert_members(*, db: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert roster people in bulk; each mapping holds Member column values."""
    table = table_of(Member)
    for start in range(0, len(rows), WRITE_CHUNK):
        await db.exec(sa.insert(table), params=list(rows[start : start + WRITE_CHUNK]))


async def update_members(*, db: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Update people by primary key in bulk; each mapping has "id" plus the changed columns.

    Rows that change the same columns go out together as one executemany.
    """
    groups: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    table = table_of(Member)
    for keys, group in groups.items():
        columns = [key for key in keys if key != "id"]
        stmt = (
            sa.update(table)
            .where(table.c.id == sa.bindparam("_id"))
            .values({key: sa.bindparam(f"_{key}", type_=table.c[key].type) for key in columns})
        )
        params = [{f"_{key}": row[key] for key in keys} for row in group]
        for start in range(0, len(params), WRITE_CHUNK):
            await db.exec(stmt, params=params[start : start + WRITE_CHUNK])


async def record_status_changes(*, db: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Append MemberStatusChange rows in bulk (member_id, from/to status, changed_on...)."""
    table = table_of(MemberStatusChange)
    for start in range(0, len(rows), WRITE_CHUNK):
        await db.exec(sa.insert(table), params=list(rows[start : start + WRITE_CHUNK]))
