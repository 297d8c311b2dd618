"""The sandbox's clock control: jump time forward and make the scheduler look at once.

The bot and the emulator share one OffsetClock, so a jump moves "now" for handlers, jobs
and message dates together. The scheduler itself keeps real time (the database decides
what is due), so after a jump every scheduled job is told to run now: reminders, check-in
windows and deadlines that the jump made due are handled within moments, whatever jobs the
features register.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import OffsetClock
from bot.duties import next_rung_due
from bot.rectification import next_ladder_due
from bot.session_duties import next_session_event
from storage import Database
from storage.models import Delivery, DeliveryState, ReminderState, SessionReminder


class Jump(StrEnum):
    """The clock control's buttons."""

    HOUR = "hour"
    DAY = "day"
    NEXT = "next"  # to the next reminder, delivery, check-in opening/closing or digest


STEPS = {Jump.HOUR: timedelta(hours=1), Jump.DAY: timedelta(days=1)}


@dataclass(frozen=True, slots=True)
class JumpResult:
    """What a jump did."""

    now: datetime
    moved: timedelta
    jobs_woken: int
    next_due: datetime | None


async def next_due(*, db: AsyncSession, after: datetime, tz: ZoneInfo) -> datetime | None:
    """The earliest moment after ``after`` when something falls due: a pending session
    reminder, a queued delivery, a check-in opening or closing, an evening digest, a rung
    of the contact-point reminder ladder, a step of the rectification ladder."""
    reminder = await db.exec(
        select(func.min(SessionReminder.due_at)).where(
            SessionReminder.state == ReminderState.PENDING, col(SessionReminder.due_at) > after
        )
    )
    delivery = await db.exec(
        select(func.min(Delivery.next_attempt_at)).where(
            col(Delivery.state).in_([DeliveryState.PENDING, DeliveryState.FAILED]),
            col(Delivery.next_attempt_at) > after,
        )
    )
    event = await next_session_event(db=db, after=after, tz=tz)
    rung = await next_rung_due(db=db, after=after, tz=tz)
    ladder = await next_ladder_due(db=db, after=after, tz=tz)
    moments = (reminder.one(), delivery.one(), event, rung, ladder)
    due = [moment for moment in moments if moment is not None]
    return min(due) if due else None


def wake_jobs(scheduler: Any) -> int:
    """Make every scheduled (not paused) job of an APScheduler run now; returns how many."""
    if scheduler is None:
        return 0
    now = datetime.now(scheduler.timezone)
    woken = 0
    for job in scheduler.get_jobs():
        if job.next_run_time is not None:
            job.modify(next_run_time=now)
            woken += 1
    return woken


class TimeControl:
    """Jumps of the shared clock, followed by a wake-up of the scheduler's jobs."""

    def __init__(
        self,
        clock: OffsetClock,
        database: Database,
        scheduler: Callable[[], Any],
        tz: ZoneInfo,
    ) -> None:
        self.clock = clock
        self.database = database
        self.tz = tz
        self.scheduler = scheduler  # the running AsyncIOScheduler, or None before start-up

    async def next_due(self) -> datetime | None:
        """When something falls due next (see ``next_due``), if anything is pending."""
        async with self.database.session_scope() as db:
            return await next_due(db=db, after=self.clock.now(), tz=self.tz)

    async def jump(self, how: Jump) -> JumpResult:
        """Move the clock (to the next due row: not at all if none is pending), wake jobs."""
        if how is Jump.NEXT:
            due = await self.next_due()
            step = max(due - self.clock.now(), timedelta(0)) if due else timedelta(0)
        else:
            step = STEPS[how]
        now = self.clock.advance(step)
        woken = wake_jobs(self.scheduler())
        return JumpResult(now=now, moved=step, jobs_woken=woken, next_due=await self.next_due())
