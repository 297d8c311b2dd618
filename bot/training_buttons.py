"""The button a training message carries, as data: its codec and keyboard, sent by the relay.

Training messages are queued in bot/trainings.py (on publishing and by the reminder job),
so their 已完成学习 button is built here in bot/; handlers/trainings.py answers the taps it
routes on `DONE`.
"""

from __future__ import annotations

from typing import Any, Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import CallbackCodec
from bot.i18n import N_, gettext

DONE: Final = CallbackCodec("trn.done", (int,))  # training id: 已完成学习
DONE_LABEL: Final = N_("Done studying")


def done_markup(training_id: int, language: str) -> dict[str, Any]:
    """The one 已完成学习 button under a training (a delivery payload part)."""
    label = gettext(language, DONE_LABEL)
    button = InlineKeyboardButton(label, callback_data=DONE.encode(training_id))
    return InlineKeyboardMarkup([[button]]).to_dict()
