"""Webhook updates processed once across processes, remembered for a bounded time.

Telegram retries an update it got no 200 for, and gives up after about a day; a reverse
proxy or an attacker may resend one. The first process to take an update_id processes
it; the others answer 200 and do nothing. An update taken by a process that died before
finishing may be taken again after ``STALE``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from storage import Database, updates

__all__ = ["RETENTION", "STALE", "finish_update", "forget_old_updates", "take_update"]

RETENTION = timedelta(hours=48)
STALE = timedelta(minutes=2)


async def take_update(database: Database, *, update_id: int, worker: str, now: datetime) -> bool:
    """Whether this process should process the update (nobody else took it)."""
    async with database.session_scope() as db:
        return await updates.take(db=db, update_id=update_id, worker=worker, now=now, stale=STALE)


async def finish_update(database: Database, *, update_id: int, now: datetime) -> None:
    """Mark the update processed, so it is never taken again."""
    async with database.session_scope() as db:
        await updates.finish(db=db, update_id=update_id, now=now)


async def forget_old_updates(database: Database, *, now: datetime) -> int:
    """Drop the record of updates older than RETENTION; how many were dropped."""
    async with database.session_scope() as db:
        return await updates.prune(db=db, before=now - RETENTION)
