"""The leaders' duty ladder: the scheduler looks a few times an hour, the database decides.

Each rung (30 June, 30 July, 30 September, 30 October) is taken once per contact point
and recorded with the messages it queues, in one transaction, so a restart or a missed
run sends nothing twice and forgets nothing.
"""

from __future__ import annotations

import logging
from typing import Final

from bot.context import Services
from bot.duties import queue_duty_reminders

log = logging.getLogger(__name__)

EVERY_MINUTES: Final = 15


async def job_duty_reminders(services: Services) -> int:
    """Queue the visit reminders that are due (to leaders, then to the county)."""
    async with services.database.session_scope() as db:
        queued = await queue_duty_reminders(
            db=db,
            now=services.clock.now(),
            tz=services.settings.tz,
        )
    if queued:
        log.info("queued %s contact-point reminders", queued)
        services.relay.wake()
    return queued
