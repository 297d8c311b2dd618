"""Scheduled jobs (`job_*`): each looks in the database for what is due and acts on it.

A job's core takes the bot, the database and a clock, so tests call it directly with an
injected clock; the table in schedules/registry.py says when each one runs.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

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
