"""Scheduled jobs (`job_*`): each looks in the database for what is due and acts on it.

A job's core takes the bot, the database and a clock, so tests call it directly with an
injected clock; `register_jobs` tells the scheduler when to run each one.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from telegram import Bot

from bot.clock import Clock
from bot.direct_messages import tell
from bot.probation import claim_probation_reminders
from bot.update_log import forget_old_updates
from storage import Database

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def job_probation_reminders(
    bot: Bot, database: Database, clock: Clock, *, tz: ZoneInfo = SHANGHAI
) -> int:
    """Tell branch secretaries whose probationary members' year is up (once per member).

    Returns how many members were reported.
    """
    now = clock.now()
    async with database.session_scope() as session:
        reminders = await claim_probation_reminders(
            session=session, today=now.astimezone(tz).date(), now=now
        )
    for reminder in reminders:
        await tell(bot, database, reminder.told, reminder.text, now=now)
    return sum(len(reminder.due) for reminder in reminders)


async def job_forget_old_updates(database: Database, clock: Clock) -> int:
    """Keep the record of processed webhook updates bounded (see bot/update_log.py)."""
    return await forget_old_updates(database, now=clock.now())


def register_jobs(
    scheduler: AsyncIOScheduler, *, bot: Bot, database: Database, clock: Clock, tz: ZoneInfo
) -> None:
    """Put every job on the scheduler, in the people's time zone."""
    scheduler.add_job(
        job_probation_reminders,
        CronTrigger(hour=9, minute=0, timezone=tz),
        args=(bot, database, clock),
        kwargs={"tz": tz},
        id="probation_reminders",
        replace_existing=True,
    )
    scheduler.add_job(
        job_forget_old_updates,
        IntervalTrigger(hours=1, timezone=tz),
        args=(database, clock),
        id="forget_old_updates",
        replace_existing=True,
    )
