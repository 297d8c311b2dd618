"""Training deadline reminders: the scheduler looks, the database decides.

The job only queues deliveries (each member's reminder has a fixed dedupe key and the
assignee row is marked in the same transaction) and wakes the relay, so a missed run is
made up by the next one and a restart sends nothing twice.
"""

from __future__ import annotations

import logging
from typing import Final

from bot.context import Services
from bot.trainings import remind_due

log = logging.getLogger(__name__)

REMINDER_EVERY_MINUTES: Final = 30


async def job_training_reminders(services: Services) -> int:
    """Remind members not done of trainings whose deadline is near (once each)."""
    async with services.database.session_scope() as db:
        queued = await remind_due(
            db=db,
            now=services.clock.now(),
            tz=services.settings.tz,
        )
    if queued:
        log.info("queued %s training reminders", queued)
        services.relay.wake()
    return queued
