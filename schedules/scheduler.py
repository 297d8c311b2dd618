"""The APScheduler instance partybot runs in its event loop.

The scheduler decides when to look; the database decides what is due. Jobs therefore hold
no state of their own, and a restart loses nothing.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler


def build_scheduler(tz: ZoneInfo) -> AsyncIOScheduler:
    """A scheduler in the people's time zone that coalesces missed runs into one."""
    return AsyncIOScheduler(
        timezone=tz,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
    )
