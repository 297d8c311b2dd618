"""The buttons a registration request carries to the officers, as data: codecs, keyboard.

The request is queued in bot/joining.py when a newcomer is not found on the roster, so its
批准 / 拒绝 buttons are built here in bot/; handlers/registration_decide.py answers the taps
it routes on these codecs (and re-checks that the tapping officer may decide).
"""

from __future__ import annotations

from typing import Any, Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import CallbackCodec
from bot.i18n import N_, gettext

APPROVE: Final = CallbackCodec("reg.ok", (int, int))  # request id, page
REJECT: Final = CallbackCodec("reg.no", (int,))  # request id

APPROVE_LABEL: Final = N_("Approve")
REJECT_LABEL: Final = N_("Reject")


def decide_markup(request_id: int, language: str) -> dict[str, Any]:
    """批准 / 拒绝 under a request, in the officer's language (a delivery payload part)."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    gettext(language, APPROVE_LABEL), callback_data=APPROVE.encode(request_id, 0)
                ),
                InlineKeyboardButton(
                    gettext(language, REJECT_LABEL), callback_data=REJECT.encode(request_id)
                ),
            ]
        ]
    ).to_dict()
