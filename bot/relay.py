"""The delivery relay: the outbox (``delivery`` rows) -> Telegram, paced, retried, resumable.

Everything partybot sends in bulk is first a row (``storage.deliveries.enqueue``) written in
the same transaction as the change that caused it. The relay claims due rows in short
transactions, sends them with no transaction open, and writes each outcome back. The
rules, the crash bound and the choice of a separate ``Bot`` are in docs/relay.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import time
import uuid
import warnings
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

from bot.clock import Clock
from bot.lanes import LaneRequest
from bot.metrics import Metrics
from bot.pacing import Pacer
from storage import Database, accounts, deliveries
from storage.deliveries import BLOCKED_ERROR, ClaimedDelivery, Outcome
from storage.models import DeliveryState

__all__ = [
    "Relay",
    "RelayBot",
    "RelayConfig",
    "delivery_request",
    "judge",
    "relay_bot",
    "retry_after_seconds",
]

log = logging.getLogger(__name__)

ProgressHook = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class RelayConfig:
    """How fast, how patient and how stubborn the relay is."""

    rate: float = 25.0  # messages per second overall (Telegram allows about 30)
    chat_interval: float = 1.0  # seconds between two messages to one chat
    max_in_flight: int = 32  # sends whose outcome is not yet recorded (the crash bound)
    lease: timedelta = timedelta(seconds=60)  # a claim older than this, not renewed, is stale
    poll_interval: float = 1.0  # idle: how often to look for rows enqueued elsewhere
    max_attempts: int = 6  # 5xx / timeouts: give up (dead) after this many tries
    backoff_base: float = 10.0  # seconds before the 2nd try; doubles each time, jittered
    backoff_cap: float = 1800.0
    request_timeout: float = 10.0  # seconds to wait for Telegram's answer
    progress_interval: float = 2.0  # how often the progress hook runs
    write_linger: float = 0.02  # seconds an outcome may wait for others to share its commit

    @property
    def batch(self) -> int:
        """Rows claimed at a time: about a second of work."""
        return max(10, min(500, round(self.rate)))


class RelayBot(Bot):
    """A ``Bot`` that sends an outbox payload as it is stored and keeps only the message id.

    ``Bot.send_message`` turns the stored keyboard into an ``InlineKeyboardMarkup`` and
    back into the same dict, and parses Telegram's whole answer into a ``Message`` (its
    chat, sender, entities, keyboard) of which the relay keeps one number. Here the
    payload goes to ``Bot._post`` as it is, so the request is the same (PTB's request
    layer builds and checks it, and raises the same errors: 429, 403, 400, timeouts),
    and the answer is read as the plain dict the request layer has already decoded.
    """

    async def send_delivery(self, chat_id: int, payload: dict[str, Any]) -> int:
        """Send one delivery payload (text, or a photo / document with the text as
        caption); the sent message's id."""
        endpoint, data = delivery_request(chat_id, payload)
        result = await self._post(endpoint, data)
        return int(result["message_id"])


def delivery_request(chat_id: int, payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The Bot API method and parameters for one stored payload (None values are left out
    by ``Bot._post``, as ``send_message`` leaves them out)."""
    data: dict[str, Any] = {
        "chat_id": chat_id,
        "parse_mode": payload.get("parse_mode"),
        "reply_markup": payload.get("reply_markup") or None,
    }
    text = payload["text"]
    if payload.get("photo"):
        return "sendPhoto", {**data, "photo": payload["photo"], "caption": text}
    if payload.get("document"):
        return "sendDocument", {**data, "document": payload["document"], "caption": text}
    return "sendMessage", {**data, "text": text}


def relay_bot(
    token: str, *, base_url: str, base_file_url: str, config: RelayConfig = RelayConfig()
) -> RelayBot:
    """A Bot of the relay's own: no rate limiter and its own connections.

    The Application's bot goes through PTB's AIORateLimiter, whose queue and retries
    would hold people's replies behind a broadcast and hide 429s from the relay. One
    connection per send in flight, plus a few for the notices' progress edits, each in a
    lane of its own (bot/lanes.py: httpcore's shared pool scans them all per request).
    """
    timeout = config.request_timeout
    request = LaneRequest(
        config.max_in_flight + 4,
        read_timeout=timeout,
        write_timeout=timeout,
        connect_timeout=timeout,
        pool_timeout=timeout,
    )
    return RelayBot(token, base_url=base_url, base_file_url=base_file_url, request=request)


def judge(
    row: ClaimedDelivery,
    error: BaseException | None,
    *,
    message_id: int | None,
    now: datetime,
    config: RelayConfig,
    rng: random.Random,
) -> Outcome:
    """The new state of a row after one try (a 429 never gets here: it is retried as is).

    Sent; 403 -> dead (blocked); 5xx and timeouts -> failed with jittered exponential
    backoff, dead after ``max_attempts``; anything else Telegram refuses -> dead.
    """
    attempts = row.attempts + 1
    if error is None:
        return Outcome(row.id, DeliveryState.SENT, attempts, now, telegram_message_id=message_id)
    reason = f"{type(error).__name__}: {error}"[:500]
    if isinstance(error, Forbidden):
        return Outcome(
            row.id, DeliveryState.DEAD, attempts, now, error=f"{BLOCKED_ERROR}: {error}"
        )
    if isinstance(error, NetworkError) and not isinstance(error, BadRequest):
        if attempts >= config.max_attempts:
            return Outcome(row.id, DeliveryState.DEAD, attempts, now, error=reason)
        backoff = min(config.backoff_cap, config.backoff_base * 2 ** (attempts - 1))
        delay = timedelta(seconds=backoff * rng.uniform(0.5, 1.0))
        return Outcome(row.id, DeliveryState.FAILED, attempts, now + delay, error=reason)
    return Outcome(row.id, DeliveryState.DEAD, attempts, now, error=reason)


class Relay:
    """The long-lived sender: ``start()`` in post_init, ``stop()`` in post_shutdown.

    ``wake()`` is cheap and safe anywhere: call it after enqueuing so a fresh row goes
    out at once instead of at the next poll.
    """

    def __init__(
        self,
        *,
        bot: RelayBot,
        database: Database,
        clock: Clock,
        config: RelayConfig = RelayConfig(),
        on_progress: ProgressHook | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        worker: str | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.bot = bot
        self.metrics = metrics
        self.database = database
        self.clock = clock
        self.config = config
        self.worker = worker or f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._on_progress = on_progress
        self._monotonic = monotonic
        self._rng = rng or random.Random()
        self.pacer = Pacer(config.rate, chat_interval=config.chat_interval)
        self._buffer: OrderedDict[int, deque[ClaimedDelivery]] = OrderedDict()
        self._buffered = 0
        self._holding = 0  # sends started whose outcome is not recorded yet
        self._sending: set[asyncio.Task[None]] = set()
        self._pending_writes: list[tuple[ClaimedDelivery, Outcome, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._company: asyncio.Future[None] | None = None  # the writer waits for more outcomes
        self._idle_until = -float("inf")
        self._changed = asyncio.Event()
        self._settled = asyncio.Event()
        self._settled.set()
        self._wakes = 0  # wake() calls so far; a claim remembers the count it started at
        self._drained_at = -1  # the wake count of the latest claim that emptied the queue
        self._claimed = asyncio.Condition()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    # --- lifecycle --------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether the relay task is alive."""
        return self._task is not None and not self._task.done()

    def wake(self) -> None:
        """Look for due rows now (something was just enqueued)."""
        self._wakes += 1
        self._idle_until = -float("inf")
        self._changed.set()

    async def settled(self) -> None:
        """Wait until no claimed row is waiting, in flight or unrecorded."""
        await self._settled.wait()

    async def drained(self) -> None:
        """Wait until every row due now is sent and its outcome recorded.

        Unlike :meth:`settled` this also covers rows still in the table: it waits for a
        claim that began after this call and took the last due row. Tests use it so that
        a member's next message is answered after, not among, the relay's messages.
        """
        self.wake()
        asked_at = self._wakes
        async with self._claimed:
            await self._claimed.wait_for(lambda: self._drained_at >= asked_at)
        await self.settled()

    def _note_settled(self) -> None:
        if self._holding == 0 and self._buffered == 0:
            self._settled.set()
        else:
            self._settled.clear()

    async def start(self) -> None:
        """Connect the relay's bot and start sending in the background."""
        await self.bot.initialize()
        self._stopping = False
        self._task = asyncio.create_task(self.run(), name="delivery-relay")
        self._task.add_done_callback(_report_crash)

    async def stop(self) -> None:
        """Finish the sends in flight, give back unsent claims, close the bot."""
        self._stopping = True
        self._changed.set()
        if self._task is not None:
            with contextlib.suppress(Exception):  # already logged by _report_crash
                await self._task
            self._task = None
        await self.bot.shutdown()

    async def run(self) -> None:
        """Send until ``stop()``; cancelling it is a crash (claims stay, leases expire)."""
        maintenance = asyncio.create_task(self._maintain(), name="relay-maintenance")
        progress = asyncio.create_task(self._progress_loop(), name="relay-progress")
        try:
            await self._dispatch()
            if self._sending:
                await asyncio.gather(*self._sending, return_exceptions=True)
            await self._release_buffer()
            await self._report_progress()
        finally:
            chores = [maintenance, progress, *self._sending]
            if self._writer is not None:
                chores.append(self._writer)
            for task in chores:
                task.cancel()
            await asyncio.gather(*chores, return_exceptions=True)

    # --- dispatching ------------------------------------------------------------------------

    async def _dispatch(self) -> None:
        while not self._stopping:
            now = self._monotonic()
            if self._should_claim(now):
                await self._claim(now)
                continue
            row = self._next_ready(now)
            if row is not None:
                self._launch(row, now)
                continue
            await self._idle(self._wait_hint(now))

    def _should_claim(self, now: float) -> bool:
        if now < self._idle_until:
            return False
        batch = self.config.batch
        if self._buffered < batch // 2 + 1:
            return True
        return self._buffered < 4 * batch and not self._any_chat_ready(now)

    async def _claim(self, now: float) -> None:
        limit = self.config.batch
        started_at = self._wakes
        stale = 0
        looked = False
        try:
            async with self.database.session_scope() as db:
                rows = await deliveries.claim_due(
                    db=db, worker=self.worker, now=self.clock.now(), limit=limit
                )
                if len(rows) < limit:  # the queue is drained: anything left by a dead worker?
                    stale = await deliveries.reclaim_stale(
                        db=db,
                        now=self.clock.now(),
                        lease=self.config.lease,
                        worker=self.worker,
                    )
            looked = True  # committed: the claim really saw the queue
        except Exception:
            log.exception("claiming deliveries failed; trying again shortly")
            rows = []
        for row in rows:
            self._buffer.setdefault(row.chat_id, deque()).append(row)
        self._buffered += len(rows)
        self._note_settled()
        if stale:
            log.warning("took back %s deliveries from a worker that stopped", stale)
        elif len(rows) < limit:  # drained: wait for wake() or the next poll
            self._idle_until = now + self.config.poll_interval
        if looked and not stale and len(rows) < limit:
            async with self._claimed:
                self._drained_at = max(self._drained_at, started_at)
                self._claimed.notify_all()

    def _any_chat_ready(self, now: float) -> bool:
        return any(self.pacer.chat_delay(chat, now) == 0 for chat in self._buffer)

    def _next_ready(self, now: float) -> ClaimedDelivery | None:
        if self._holding >= self.config.max_in_flight or self.pacer.global_delay(now) > 0:
            return None
        for chat_id, rows in self._buffer.items():
            if self.pacer.chat_delay(chat_id, now) == 0:
                row = rows.popleft()
                if not rows:
                    del self._buffer[chat_id]
                self._buffered -= 1
                return row
        return None

    def _wait_hint(self, now: float) -> float:
        hint = self.config.poll_interval
        if now < self._idle_until:
            hint = min(hint, self._idle_until - now)
        if self._buffer and self._holding < self.config.max_in_flight:
            chat_wait = min(self.pacer.chat_delay(chat, now) for chat in self._buffer)
            hint = min(hint, max(self.pacer.global_delay(now), chat_wait))
        return max(hint, 0.0)

    async def _idle(self, timeout: float) -> None:  # noqa: ASYNC109
        if timeout > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout)
        self._changed.clear()

    def _requeue_first(self, row: ClaimedDelivery) -> None:
        self._buffer.setdefault(row.chat_id, deque()).appendleft(row)
        self._buffer.move_to_end(row.chat_id, last=False)
        self._buffered += 1

    async def _release_buffer(self) -> None:
        ids = [row.id for rows in self._buffer.values() for row in rows]
        if not ids:
            return
        async with self.database.session_scope() as db:
            await deliveries.release(db=db, worker=self.worker, ids=ids)
        self._buffer.clear()
        self._buffered = 0
        self._note_settled()

    # --- sending ----------------------------------------------------------------------------

    def _launch(self, row: ClaimedDelivery, now: float) -> None:
        self.pacer.start(row.chat_id, now)
        self._holding += 1
        task = asyncio.create_task(self._send(row), name=f"relay-send-{row.id}")
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, row: ClaimedDelivery) -> None:
        error: BaseException | None = None
        message_id: int | None = None
        try:
            try:
                message_id = await self.bot.send_delivery(row.chat_id, row.payload)
            except RetryAfter as exc:
                self._rate_limited(row, exc)
                return
            except TelegramError as exc:
                error = exc
            except Exception as exc:  # a payload we cannot send: record it, do not loop
                log.exception("delivery %s could not be sent", row.id)
                error = exc
            finally:
                self.pacer.finish(row.chat_id, self._monotonic())
            outcome = judge(
                row,
                error,
                message_id=message_id,
                now=self.clock.now(),
                config=self.config,
                rng=self._rng,
            )
            if self.metrics is not None:
                self.metrics.sent(outcome.state)
            await self._record(row, outcome)
        finally:
            self._holding -= 1
            self._note_settled()
            self._changed.set()
            self._stop_lingering()

    def _rate_limited(self, row: ClaimedDelivery, exc: RetryAfter) -> None:
        seconds = retry_after_seconds(exc)
        if self.metrics is not None:
            self.metrics.rate_limited.inc()
        log.warning("Telegram asked to slow down: pausing all sends for %.0f s", seconds)
        self.pacer.pause(seconds, self._monotonic())
        self._requeue_first(row)

    # --- recording outcomes (group commit) --------------------------------------------------

    async def _record(self, row: ClaimedDelivery, outcome: Outcome) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending_writes.append((row, outcome, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_outcomes(), name="relay-writer")
        else:
            self._stop_lingering()
        await done

    def _enough_company(self) -> bool:
        """Whether the next commit should go now: half the slots wait for it, or every
        send held is waiting for it (no other answer is on its way)."""
        waiting = len(self._pending_writes)
        return waiting >= self.config.max_in_flight // 2 or waiting >= self._holding

    def _stop_lingering(self) -> None:
        if self._company is not None and not self._company.done() and self._enough_company():
            self._company.set_result(None)

    async def _linger(self) -> None:
        """Wait up to ``write_linger`` for more answers to share the next commit.

        Written as soon as the writer was free, a broadcast's outcomes went in batches of
        about ten; waiting for half the slots (or for every answer still due) makes it
        about sixteen and a third fewer write transactions (SQLite's one write lock is
        shared with every handler). Each slot still waits for its own row's commit, so the
        crash bound is the same; a send only holds its slot a little longer.
        """
        if self.config.write_linger <= 0 or self._enough_company():
            return
        loop = asyncio.get_running_loop()
        self._company = loop.create_future()
        timer = loop.call_later(self.config.write_linger, _resolve, self._company)
        try:
            await self._company
        finally:
            timer.cancel()
            self._company = None

    async def _write_outcomes(self) -> None:
        while self._pending_writes:
            await self._linger()
            batch, self._pending_writes = self._pending_writes, []
            while True:
                try:
                    await self._write(batch)
                    break
                except Exception:
                    log.exception("recording %s delivery outcomes failed; retrying", len(batch))
                    await asyncio.sleep(1.0)
            for _, _, done in batch:
                if not done.done():
                    done.set_result(None)

    async def _write(self, batch: list[tuple[ClaimedDelivery, Outcome, Any]]) -> None:
        """One transaction for the batch: outcomes, then the users found blocked.

        Through ``Database.run_sync``: on SQLite a plain connection, in the loop's thread
        when the write lock is free (a few hundred microseconds). Through aiosqlite each
        statement, the commit and the pool's reset was a round trip to its thread, each a
        hand-over of the GIL with the busy event loop: 0.2 ms of CPU a message, more than
        the write itself.
        """
        now = self.clock.now()
        worker = self.worker
        outcomes = [outcome for _, outcome, _ in batch]
        blocked = [
            row.chat_id for row, outcome, _ in batch if _is_blocked(outcome) and row.chat_id > 0
        ]

        def write(connection: sa.Connection) -> None:
            deliveries.record_outcomes_on(connection, worker=worker, outcomes=outcomes, now=now)
            if blocked:
                accounts.mark_blocked_on(connection, telegram_user_ids=blocked, at=now)

        await self.database.run_sync(write)

    # --- background chores ------------------------------------------------------------------

    async def _maintain(self) -> None:
        """Renew the lease on the rows this relay holds, a few times per lease."""
        period = max(self.config.lease.total_seconds() / 3, 0.05)
        while True:
            await asyncio.sleep(period)
            try:
                async with self.database.session_scope() as db:
                    await deliveries.renew_claims(db=db, worker=self.worker, now=self.clock.now())
            except Exception:
                log.exception("renewing delivery claims failed")

    async def _progress_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.progress_interval)
            await self._report_progress()

    async def _report_progress(self) -> None:
        if self._on_progress is None:
            return
        try:
            await self._on_progress()
        except Exception:
            log.exception("reporting delivery progress failed")


def _resolve(future: asyncio.Future[None]) -> None:
    """End a wait (a timer's callback; the wait may have ended already)."""
    if not future.done():
        future.set_result(None)


def _report_crash(task: asyncio.Task[None]) -> None:
    """A relay that dies sends nothing more: say so loudly (the rows wait for a restart)."""
    if not task.cancelled() and task.exception() is not None:
        log.error("the delivery relay stopped", exc_info=task.exception())


def retry_after_seconds(exc: RetryAfter) -> float:
    """The pause a 429 asks for, in seconds (PTB 22 returns int or timedelta)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _is_blocked(outcome: Outcome) -> bool:
    return outcome.state == DeliveryState.DEAD and (outcome.error or "").startswith(BLOCKED_ERROR)
