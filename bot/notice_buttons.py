"""The buttons a notice carries, as data: codecs and keyboards the relay sends.

A notice's 已阅 button travels in the outbox row's payload, so it is built here in bot/,
where queuing happens (sending, reminders, the reminder job), and handlers/notice_acks.py
answers the taps it routes on these codecs.
"""

from __future__ import annotations

from typing import Any, Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import CallbackCodec
from bot.i18n import N_, gettext

ACK: Final = CallbackCodec("ntc.ack", (int,))  # notice id
ACKED: Final = CallbackCodec("ntc.acked", (int,))  # notice id

ACK_LABEL: Final = N_("Mark as read")
ACKED_LABEL: Final = N_("Read ✓")


def ack_markup(notice_id: int, language: str) -> dict[str, Any]:
    """The 已阅 button under a notice, in the reader's language (a delivery payload part)."""
    label = gettext(language, ACK_LABEL)
    button = InlineKeyboardButton(label, callback_data=ACK.encode(notice_id))
    return InlineKeyboardMarkup([[button]]).to_dict()


def acked_markup(notice_id: int, language: str) -> InlineKeyboardMarkup:
    """The button after the tap: "已阅 ✓" (tapping it again changes nothing)."""
    label = gettext(language, ACKED_LABEL)
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=ACKED.encode(notice_id))]]
    )
