"""The period typed after a report command (/summary, /export, /attendance)."""

from __future__ import annotations

from bot.context import BotContext
from bot.dates import local_date
from bot.periods import Period, parse_period


def requested_period(context: BotContext, text: str) -> Period | None:
    """The period typed (empty: this year) as of today in the people's zone; None if the
    text is not a period."""
    today = local_date(context.services.clock.now(), context.services.settings.tz)
    return parse_period(text, today=today)
