"""Scheduled jobs (`job_*`): each looks in the database for what is due and acts on it.

A job's core takes the bot, the database and a clock, so tests call it directly with an
injected clock; the table in schedules/registry.py says when each one runs.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.outbox import prune_outbox
from bot.probation import queue_probation_reminders
from bot.update_log import forget_old_updates
from storage import Database

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def job_probation_reminders(
    database: Database, clock: Clock, *, tz: ZoneInfo = SHANGHAI
) -> int:
    """Queue a reminder to branch secretaries whose probationary members' year is up
    (once per member), through the outbox. Returns how many members were reported."""
    now = clock.now()
    async with database.session_scope() as db:
        return await queue_probation_reminders(db=db, today=now.astimezone(tz).date(), now=now)


async def job_forget_old_updates(database: Database, clock: Clock) -> int:
    """Keep the record of processed webhook updates bounded (see bot/update_log.py)."""
    return await forget_old_updates(database, now=clock.now())


async def job_prune_outbox(database: Database, clock: Clock, *, retention: timedelta) -> int:
    """Delete outbox rows that finished more than ``retention`` ago (see bot/outbox.py)."""
    return await prune_outbox(database, now=clock.now(), retention=retention)
