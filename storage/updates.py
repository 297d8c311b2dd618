"""Updates already taken: a replayed webhook update (Telegram retries, a proxy resends, an
attacker replays) is processed once across every process on the database."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.ext.asyncio.session import AsyncSession

from storage._sql import dialect_name, table_of
from storage.models import ProcessedUpdate

__all__ = ["finish", "prune", "take"]

_UPDATE = table_of(ProcessedUpdate)


async def take(
    *, db: AsyncSession, update_id: int, worker: str, now: datetime, stale: timedelta
) -> bool:
    """Whether ``worker`` may process the update: nobody took it yet, or whoever took it
    did not finish within ``stale`` (it died mid-way; Telegram delivers it again)."""
    t = _UPDATE
    dialect = postgresql if await dialect_name(db) == "postgresql" else sqlite
    stmt = (
        dialect.insert(t)
        .values(update_id=update_id, taken_by=worker, taken_at=now)
        .on_conflict_do_nothing(index_elements=[t.c.update_id])
        .returning(t.c.update_id)
    )
    if (await db.exec(stmt)).first() is not None:
        return True
    retaken = await db.exec(
        sa.update(t)
        .where(t.c.update_id == update_id, t.c.finished_at.is_(None), t.c.taken_at < now - stale)
        .values(taken_by=worker, taken_at=now)
    )
    return bool(retaken.rowcount)


async def finish(*, db: AsyncSession, update_id: int, now: datetime) -> None:
    """The update was processed (handlers ran, with or without an error)."""
    t = _UPDATE
    await db.exec(sa.update(t).where(t.c.update_id == update_id).values(finished_at=now))


async def prune(*, db: AsyncSession, before: datetime) -> int:
    """Forget updates taken before ``before`` (Telegram gives up on an update in a day)."""
    t = _UPDATE
    result = await db.exec(sa.delete(t).where(t.c.taken_at < before))
    return int(result.rowcount)
