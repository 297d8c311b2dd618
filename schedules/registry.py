"""Every scheduled job in one table: which job, when it runs, under which id.

The scheduler decides when to look and the database what is due, so a job is just a
coroutine to call; this table is the one place that says when. The ids stay stable: the
sandbox's clock control and the tests find jobs by them. A session job that did something
wakes the relay at once (the others queue through services and wake it themselves).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from telegram import Bot

from bot.checkin_screen import LiveScreens
from bot.context import Services
from schedules import duties, jobs, notices, rectification, sessions, trainings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Job:
    """One row of the table: the scheduler's id, when to run, what to run."""

    id: str
    trigger: BaseTrigger
    run: Callable[[], Awaitable[object]]


def _waking(
    services: Services, name: str, job: Callable[[], Awaitable[int]]
) -> Callable[[], Awaitable[None]]:
    """Run a job that only writes rows; if it queued anything, log it and wake the relay."""

    async def tick() -> None:
        done = await job()
        if done:
            log.info("%s: %d", name, done)
            services.relay.wake()

    return tick


def job_table(services: Services, *, bot: Bot, screens: LiveScreens) -> list[Job]:
    """Every job partybot runs, in the people's time zone."""
    database, clock, settings, tz = (
        services.database,
        services.clock,
        services.settings,
        services.settings.tz,
    )

    def every(**interval: int) -> IntervalTrigger:
        return IntervalTrigger(**interval, timezone=tz)

    def session_job(name: str, job: Callable[..., Awaitable[int]], **extra: object) -> Job:
        run = partial(job, database, clock, settings=settings, **extra)
        seconds = SESSION_SECONDS[name]
        return Job(name, every(seconds=seconds), _waking(services, name, run))

    return [
        Job(
            "probation_reminders",
            CronTrigger(hour=9, minute=0, timezone=tz),
            _waking(
                services,
                "probation_reminders",
                partial(jobs.job_probation_reminders, database, clock, tz=tz),
            ),
        ),
        Job(
            "forget_old_updates",
            every(hours=1),
            partial(jobs.job_forget_old_updates, database, clock),
        ),
        Job(
            "prune_outbox",
            CronTrigger(hour=3, minute=30, timezone=tz),
            partial(jobs.job_prune_outbox, database, clock, retention=settings.outbox_retention),
        ),
        session_job("session_reminders", sessions.job_due_reminders),
        session_job("session_checkin", sessions.job_open_checkin),
        session_job("session_closing", sessions.job_close_sessions),
        session_job("session_series", sessions.job_extend_series),
        session_job("session_roster", sessions.job_follow_the_roster),
        session_job("session_digest", sessions.job_evening_digest),
        session_job("silent_ladder", sessions.job_silent_ladder),
        Job(
            "checkin_screens",
            every(seconds=sessions.SCREEN_REFRESH_SECONDS),
            partial(
                sessions.job_refresh_screens, bot, screens, database, clock, settings=settings
            ),
        ),
        Job(
            "notice-ack-reminders",
            every(minutes=notices.REMINDER_EVERY_MINUTES),
            partial(notices.job_ack_reminders, services),
        ),
        Job(
            "political-birthday-greetings",
            every(minutes=notices.GREETINGS_EVERY_MINUTES),
            partial(notices.job_greetings, services),
        ),
        Job(
            "training-reminders",
            every(minutes=trainings.REMINDER_EVERY_MINUTES),
            partial(trainings.job_training_reminders, services),
        ),
        Job(
            "duty-reminders",
            every(minutes=duties.EVERY_MINUTES),
            partial(duties.job_duty_reminders, services),
        ),
        Job(
            "rectification-ladder",
            every(minutes=rectification.EVERY_MINUTES),
            partial(rectification.job_rectification_ladder, services),
        ),
    ]


#: How often each study-session job looks, in seconds.
SESSION_SECONDS: dict[str, int] = {
    "session_reminders": 60,
    "session_checkin": 60,
    "session_closing": 60,
    "session_series": 3600,
    "session_roster": 60,
    "session_digest": 600,
    "silent_ladder": 3600,
}


def register(scheduler: AsyncIOScheduler, table: list[Job]) -> None:
    """Put every job of the table on the scheduler (replacing one with the same id)."""
    for job in table:
        scheduler.add_job(job.run, job.trigger, id=job.id, replace_existing=True)
