"""The buttons a rectification message carries, as data: codecs and keyboards the relay
sends.

Orders, reminders and escalations are queued in bot/rectification.py, so their buttons
are built here in bot/; handlers/rectify.py answers the taps it routes on these codecs.
"""

from __future__ import annotations

from typing import Any, Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import CallbackCodec
from bot.i18n import N_, gettext

REPORT: Final = CallbackCodec("rect.r", (int,))  # order: the secretary reports progress
VIEW: Final = CallbackCodec("rect.v", (int,))  # order: its screen (state, reports, close)

REPORT_PROGRESS: Final = N_("📝 Report progress")
VIEW_ORDER: Final = N_("📋 View the order")


def report_markup(order_id: int, language: str) -> dict[str, Any]:
    """The buttons under the secretary's order and reminder: report progress, or view."""
    rows = [
        [
            InlineKeyboardButton(
                gettext(language, REPORT_PROGRESS), callback_data=REPORT.encode(order_id)
            )
        ],
        [InlineKeyboardButton(gettext(language, VIEW_ORDER), callback_data=VIEW.encode(order_id))],
    ]
    return InlineKeyboardMarkup(rows).to_dict()


def view_markup(order_id: int, language: str) -> dict[str, Any]:
    """The button under a message to staff: open the order (its reports, close it)."""
    button = InlineKeyboardButton(
        gettext(language, VIEW_ORDER), callback_data=VIEW.encode(order_id)
    )
    return InlineKeyboardMarkup([[button]]).to_dict()
