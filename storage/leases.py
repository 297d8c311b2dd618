"""The leader's lease: one row per name, taken by compare-and-set, renewed, left to expire.

Acquiring is one ``INSERT ... ON CONFLICT DO UPDATE ... WHERE`` statement: it succeeds when
the row is new, already ours, or expired, and both SQLite (one writer at a time) and
PostgreSQL (the conflicting row is locked and the condition re-checked) run it atomically,
so two processes can never both come out holding an unexpired lease.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.ext.asyncio.session import AsyncSession

from storage._sql import dialect_name, table_of
from storage.models import LeaderLease

__all__ = ["Lease", "acquire", "current", "release"]

_LEASE = table_of(LeaderLease)


@dataclass(frozen=True, slots=True)
class Lease:
    """Who holds a lease, since when, and until when unless renewed."""

    holder: str
    acquired_at: datetime
    expires_at: datetime


async def acquire(
    *, db: AsyncSession, name: str, holder: str, now: datetime, ttl: timedelta
) -> Lease | None:
    """Take or renew lease ``name`` for ``holder``; None while someone else holds it."""
    t = _LEASE
    dialect = postgresql if await dialect_name(db) == "postgresql" else sqlite
    insert = dialect.insert(t).values(
        name=name, holder=holder, acquired_at=now, expires_at=now + ttl
    )
    new = insert.excluded
    stmt = insert.on_conflict_do_update(
        index_elements=[t.c.name],
        set_={
            "holder": new.holder,
            "expires_at": new.expires_at,
            "acquired_at": sa.case(
                (t.c.holder == new.holder, t.c.acquired_at), else_=new.acquired_at
            ),
        },
        where=sa.or_(t.c.holder == new.holder, t.c.expires_at <= new.acquired_at),
    ).returning(t.c.holder, t.c.acquired_at, t.c.expires_at)
    row = (await db.exec(stmt)).first()
    return Lease(*row) if row is not None else None


async def release(*, db: AsyncSession, name: str, holder: str, now: datetime) -> bool:
    """Let the lease go at once (a clean stop), if ``holder`` still has it."""
    t = _LEASE
    result = await db.exec(
        sa.update(t)
        .where(t.c.name == name, t.c.holder == holder, t.c.expires_at > now)
        .values(expires_at=now)
    )
    return bool(result.rowcount)


async def current(*, db: AsyncSession, name: str) -> Lease | None:
    """The lease row as it stands (it may have expired)."""
    t = _LEASE
    connection = await db.connection()
    query = sa.select(t.c.holder, t.c.acquired_at, t.c.expires_at).where(t.c.name == name)
    row = (await connection.execute(query)).first()
    return Lease(*row) if row is not None else None
