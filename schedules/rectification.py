"""The rectification ladder: the scheduler looks a few times an hour, the database decides.

Each step (the reminder before the deadline, the township after it, the county a week
later) is claimed on the order's row and recorded with the messages it queues, in one
transaction, so a restart or a missed run sends nothing twice and forgets nothing.
"""

from __future__ import annotations

import logging
from typing import Final

from bot.context import Services
from bot.rectification import queue_rectification_ladder

log = logging.getLogger(__name__)

EVERY_MINUTES: Final = 15


async def job_rectification_ladder(services: Services) -> int:
    """Queue the reminders and escalations of rectification orders that are due."""
    async with services.database.session_scope() as db:
        queued = await queue_rectification_ladder(
            db=db, now=services.clock.now(), tz=services.settings.tz
        )
    if queued:
        log.info("queued %s rectification messages", queued)
        services.relay.wake()
    return queued
