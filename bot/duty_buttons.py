"""The button a duty reminder carries, as data: its codec and keyboard, sent by the relay.

A leader's contact-point reminder is queued in bot/duties.py (by the job and when a point
is added), so its "log a visit" button is built here in bot/; handlers/visits.py answers
the taps it routes on `POINT`.
"""

from __future__ import annotations

from typing import Any, Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import CallbackCodec
from bot.i18n import N_, gettext

POINT: Final = CallbackCodec("vis.c", (int,))  # contact point
LOG_A_VISIT: Final = N_("📍 Log a visit")


def visit_markup(point_id: int, language: str) -> dict[str, Any]:
    """The button under a leader's reminder that opens /visit for that contact point."""
    label = gettext(language, LOG_A_VISIT)
    button = InlineKeyboardButton(label, callback_data=POINT.encode(point_id))
    return InlineKeyboardMarkup([[button]]).to_dict()
