"""Notice reminders and political-birthday greetings: the scheduler looks, the DB decides.

Both jobs only queue deliveries (idempotently, by dedupe key) and wake the relay, so a
missed run is made up by the next one and a restart sends nothing twice.
"""

from __future__ import annotations

import logging
from typing import Final

from bot.context import Services
from bot.greetings import queue_greetings
from bot.notices import remind_unacked
from storage import notices

log = logging.getLogger(__name__)

REMINDER_EVERY_MINUTES: Final = 5
GREETINGS_EVERY_MINUTES: Final = 15


async def job_ack_reminders(services: Services) -> int:
    """Remind who has not acked (已阅) each notice whose reminder delay has passed (once each)."""
    now = services.clock.now()
    queued = 0
    async with services.database.session_scope() as db:
        for notice in await notices.due_ack_reminders(db=db, now=now):
            queued += await remind_unacked(
                db=db,
                notice=notice,
                key="auto",
                now=now,
                actor=None,
            )
    if queued:
        log.info("queued %s notice reminders", queued)
        services.relay.wake()
    return queued


async def job_greetings(services: Services) -> int:
    """Queue today's political-birthday greetings (once per member and year)."""
    async with services.database.session_scope() as db:
        queued = await queue_greetings(db=db, now=services.clock.now(), tz=services.settings.tz)
    if queued:
        log.info("queued %s political-birthday greetings", queued)
        services.relay.wake()
    return queued
