"""When known accounts were last seen, written a few at a time instead of once per update.

Every update reads the sender's account (bot/accounts.remember_user). A member last seen
over an hour ago used to cost a write transaction as well, only to move ``last_seen_at``:
when a meeting starts, thousands of members last seen yesterday tap at once, and each
tap took SQLite's write lock for a field no answer depends on. Now such a tap only reads;
the time waits here and `flush` writes all waiting times in one statement, every
`FLUSH_SECONDS` and when the bot stops. A crash loses at most that long of "last seen",
never a name, a language or a reachability change: those are still written at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime
from typing import Final

from storage import Database, accounts

FLUSH_SECONDS: Final = 10.0

log = logging.getLogger(__name__)


class SeenLog:
    """Account -> the latest time it was seen and not yet written."""

    def __init__(self, database: Database, *, every: float = FLUSH_SECONDS) -> None:
        self.database = database
        self.every = every
        self._waiting: dict[int, datetime] = {}
        self._task: asyncio.Task[None] | None = None

    def note(self, telegram_user_id: int, at: datetime) -> None:
        """Remember that this account was seen at ``at`` (the later time wins)."""
        known = self._waiting.get(telegram_user_id)
        if known is None or at > known:
            self._waiting[telegram_user_id] = at

    @property
    def waiting(self) -> int:
        """Accounts whose time is not written yet."""
        return len(self._waiting)

    async def flush(self) -> None:
        """Write every waiting time in one transaction; on failure they wait for the next."""
        if not self._waiting:
            return
        taken, self._waiting = self._waiting, {}
        try:
            async with self.database.session_scope() as db:
                await accounts.write_seen(db=db, seen=taken)
        except Exception:
            log.warning("writing %d last-seen times failed; trying again later", len(taken))
            for account, at in taken.items():
                self.note(account, at)

    def start(self) -> None:
        """Flush every ``every`` seconds until `stop`."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="partybot-seen-log")

    async def stop(self) -> None:
        """Stop the timer and write what is waiting."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.flush()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            await self.flush()
