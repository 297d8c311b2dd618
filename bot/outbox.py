"""How long the outbox keeps what it sent: finished rows are pruned after a retention.

Every message partybot sends is a ``delivery`` row, and a sent row is no use to the relay
any more; kept for ever, the outbox grows by every reminder and invitation of every year.
What still needs an old row is kept: a notice's rows are its acks (delivered, 已阅,
blocked: /notices, /summary and the export count them), so they stay as long as the notice.
Every other row guards only against queuing the same message twice (``dedupe_key``), and
every job that queues looks at a window of a day or two, so a retention of a week or more
(``PARTYBOT_OUTBOX_RETENTION_DAYS``, at least 7) forgets nothing a job could repeat.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from storage import Database, deliveries

__all__ = ["PRUNE_BATCH", "prune_outbox"]

log = logging.getLogger(__name__)

#: Rows deleted per transaction, so SQLite's write lock is held for a moment at a time.
PRUNE_BATCH = 1000


async def prune_outbox(
    database: Database, *, now: datetime, retention: timedelta, batch: int = PRUNE_BATCH
) -> int:
    """Delete finished rows older than ``retention``, ``batch`` per transaction, until
    none is left; returns how many were deleted."""
    before = now - retention
    pruned = 0
    while True:
        async with database.session_scope() as db:
            deleted = await deliveries.prune_finished(db=db, before=before, limit=batch)
        pruned += deleted
        if deleted < batch:
            if pruned:
                log.info("outbox: deleted %d messages finished before %s", pruned, before)
            return pruned
