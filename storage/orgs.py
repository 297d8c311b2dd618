"""Org tree aggregate: create units and answer subtree questions via the materialized path."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models.orgs import OrgKind, OrgUnit

__all__ = [
    "child_units",
    "count_child_units",
    "create_org",
    "get_county",
    "get_org",
    "get_org_by_code",
    "is_within",
    "lineage",
    "named_within",
    "subtree_ids",
]


async def create_org(
    *,
    db: AsyncSession,
    code: str,
    name: str,
    kind: OrgKind | str,
    parent_id: int | None = None,
) -> OrgUnit:
    """Insert an org unit under ``parent_id`` and fill its path ("/<parent path>/<id>/").

    Raises LookupError if the parent does not exist; the county is the one unit without
    a parent (a CHECK constraint enforces it).
    """
    parent_path = "/"
    if parent_id is not None:
        parent = await db.get(OrgUnit, parent_id)
        if parent is None:
            raise LookupError(f"no org unit with id {parent_id}")
        parent_path = parent.path
    org = OrgUnit(code=code, name=name, kind=OrgKind(kind), parent_id=parent_id)
    db.add(org)
    await db.flush()  # the path needs the id
    org.path = f"{parent_path}{org.id}/"
    await db.flush()
    return org


async def get_org(*, db: AsyncSession, org_id: int) -> OrgUnit | None:
    """The org unit with this id, if any."""
    return await db.get(OrgUnit, org_id)


async def get_org_by_code(*, db: AsyncSession, code: str) -> OrgUnit | None:
    """The org unit with this short code ("C001", "T01-V03"), if any."""
    result = await db.exec(select(OrgUnit).where(OrgUnit.code == code))
    return result.first()


async def get_county(*, db: AsyncSession) -> OrgUnit | None:
    """The root of the tree (the county), if it has been created."""
    result = await db.exec(
        select(OrgUnit).where(col(OrgUnit.parent_id).is_(None)).order_by(col(OrgUnit.id))
    )
    return result.first()


async def subtree_ids(*, db: AsyncSession, org_id: int, active_only: bool = False) -> list[int]:
    """Ids of ``org_id`` and every unit below it (empty if ``org_id`` does not exist)."""
    org = await db.get(OrgUnit, org_id)
    if org is None:
        return []
    stmt = select(OrgUnit.id).where(col(OrgUnit.path).startswith(org.path))
    if active_only:
        stmt = stmt.where(col(OrgUnit.active).is_(True))
    result = await db.exec(stmt.order_by(col(OrgUnit.path)))
    return [org_id for org_id in result.all() if org_id is not None]


async def lineage(*, db: AsyncSession, org: OrgUnit) -> list[OrgUnit]:
    """The org and its ancestors, from the county down, in one query (ids from the path)."""
    ids = [int(part) for part in org.path.strip("/").split("/") if part]
    result = await db.exec(select(OrgUnit).where(col(OrgUnit.id).in_(ids)))
    by_id = {unit.id: unit for unit in result.all()}
    return [by_id[org_id] for org_id in ids if org_id in by_id]


async def is_within(*, db: AsyncSession, org_id: int, ancestor_id: int) -> bool:
    """True if ``org_id`` is ``ancestor_id`` or lies below it."""
    result = await db.exec(select(OrgUnit.path).where(OrgUnit.id == org_id))
    path = result.first()
    return path is not None and f"/{ancestor_id}/" in path


async def named_within(*, db: AsyncSession, paths: list[str], name: str) -> list[OrgUnit]:
    """Active units in the subtrees at ``paths`` called ``name``, or whose name begins with
    it ("东风镇" finds 东风镇党委), by path: a unit typed after a report command. An exact
    name wins over names that only begin with it."""
    if not paths or not name:
        return []
    stmt = select(OrgUnit).where(
        col(OrgUnit.active).is_(True),
        OrgUnit.kind != OrgKind.PARTY_GROUP,
        sa.or_(*(col(OrgUnit.path).startswith(path) for path in paths)),
        col(OrgUnit.name).startswith(name, autoescape=True),
    )
    found = list((await db.exec(stmt.order_by(col(OrgUnit.path)))).all())
    exact = [org for org in found if org.name == name]
    return exact or found


def _child_units_of(org_id: int) -> tuple[Any, ...]:
    return (
        OrgUnit.parent_id == org_id,
        col(OrgUnit.active).is_(True),
        OrgUnit.kind != OrgKind.PARTY_GROUP,
    )


async def child_units(
    *, db: AsyncSession, org_id: int, offset: int = 0, limit: int | None = None
) -> list[OrgUnit]:
    """Active units directly below ``org_id`` (party groups aside), by code: a tree level."""
    stmt = (
        select(OrgUnit)
        .where(*_child_units_of(org_id))
        .order_by(col(OrgUnit.code), col(OrgUnit.id))
        .offset(offset)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return list((await db.exec(stmt)).all())


async def count_child_units(*, db: AsyncSession, org_id: int) -> int:
    """How many units `child_units` would list without paging."""
    result = await db.exec(
        select(func.count()).select_from(OrgUnit).where(*_child_units_of(org_id))
    )
    return int(result.one())
