"""One leader among many processes: it alone runs the scheduler's jobs and the relay.

Every process campaigns for one lease row (storage.leases) a few times per lease period.
The holder renews it; if it dies, the row expires and another process takes it. A leader
that cannot renew steps down by itself before its lease can have expired (two thirds of
the period after its last renewal), so two processes never send at once except for the
sends already in flight when a leader is cut off (at most the relay's ``max_in_flight``).
A new leader takes back every delivery the previous one had claimed, at once.

Times here are real (wall clock for the row, monotonic for our own deadline), never the
injectable clock: the sandbox moves that clock by days, and a lease must not notice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from storage import Database, deliveries, leases

__all__ = ["LEASE_NAME", "Leadership", "process_identity"]

log = logging.getLogger(__name__)

LEASE_NAME = "leader"
STOPPING = "stopping"
Hook = Callable[[], Awaitable[None]]


def process_identity() -> str:
    """host:pid:random, at most 64 characters: who holds a lease or a claim."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _wall() -> datetime:
    return datetime.now(UTC)


class Leadership:
    """Campaign for the lease; ``on_elected`` when it is won, ``on_deposed`` when lost."""

    def __init__(
        self,
        *,
        database: Database,
        identity: str,
        ttl: timedelta,
        on_elected: Hook,
        on_deposed: Hook,
        wall: Callable[[], datetime] = _wall,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.database = database
        self.identity = identity
        self.ttl = ttl
        self._on_elected = on_elected
        self._on_deposed = on_deposed
        self._wall = wall
        self._monotonic = monotonic
        self.leading = False
        self._valid_until = -float("inf")
        self._task: asyncio.Task[None] | None = None
        self._stopped = asyncio.Event()

    @property
    def period(self) -> float:
        """Seconds between two campaigns: a third of the lease."""
        return self.ttl.total_seconds() / 3

    async def start(self) -> None:
        """Campaign once now (a lone process leads before it serves), then keep at it."""
        self._stopped.clear()
        await self.campaign()
        self._task = asyncio.create_task(self._run(), name="leadership")

    async def stop(self) -> None:
        """Stop campaigning; a leader finishes its work and lets the lease go at once."""
        self._stopped.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.leading:
            await self._step_down(STOPPING)
            try:
                async with self.database.session_scope() as db:
                    await leases.release(
                        db=db, name=LEASE_NAME, holder=self.identity, now=self._wall()
                    )
            except Exception:
                log.exception("could not release the leader lease; it expires by itself")

    async def _run(self) -> None:
        while not self._stopped.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), self.period)
            if not self._stopped.is_set():
                await self.campaign()

    async def campaign(self) -> None:
        """Take or renew the lease once, and act on the result."""
        asked_at = self._monotonic()
        try:
            async with asyncio.timeout(self.period), self.database.session_scope() as db:
                lease = await leases.acquire(
                    db=db,
                    name=LEASE_NAME,
                    holder=self.identity,
                    now=self._wall(),
                    ttl=self.ttl,
                )
                taken_back = 0
                if lease is not None and not self.leading:
                    taken_back = await deliveries.release_others(db=db, worker=self.identity)
        except Exception as exc:  # a database that hangs counts as one that fails
            log.warning("could not renew the leader lease: %s", type(exc).__name__, exc_info=exc)
            if self.leading and self._monotonic() >= self._valid_until:
                await self._step_down("the lease could not be renewed in time")
            return
        if lease is None:
            if self.leading:
                await self._step_down("another process holds the lease")
            return
        self._valid_until = asked_at + self.ttl.total_seconds() * 2 / 3
        if not self.leading:
            self.leading = True
            log.info(
                "this process leads now (jobs and relay); took back %d deliveries", taken_back
            )
            await self._on_elected()

    async def _step_down(self, reason: str) -> None:
        self.leading = False
        level = logging.INFO if reason == STOPPING else logging.WARNING
        log.log(level, "this process no longer leads: %s", reason)
        try:
            await self._on_deposed()
        except Exception:
            log.exception("stopping the leader's work failed")
