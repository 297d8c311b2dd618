"""The buttons under a five-lead proposal sent to the township, as data: its codec and
keyboard, queued by bot/five_lead.py when a secretary proposes a member.

One tap decides: 确认 or 不确认. The button names the member as well as the proposal, so
a proposal withdrawn (and its id taken again by another one) is never decided by an old
message; handlers/five_lead.py answers the taps it routes on `VERDICT`.
"""

from __future__ import annotations

from typing import Any, Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import CallbackCodec
from bot.i18n import N_, gettext

VERDICT: Final = CallbackCodec("fl.t", (int, int, int))  # proposal, member, 1 confirm / 0 not
CONFIRM_LABEL: Final = N_("Confirm")
REJECT_LABEL: Final = N_("Do not confirm")


def verdict_markup(proposal_id: int, member_id: int, language: str) -> dict[str, Any]:
    """确认 / 不确认 under the message to the township (a delivery payload part)."""
    row = [
        InlineKeyboardButton(
            gettext(language, CONFIRM_LABEL),
            callback_data=VERDICT.encode(proposal_id, member_id, 1),
        ),
        InlineKeyboardButton(
            gettext(language, REJECT_LABEL),
            callback_data=VERDICT.encode(proposal_id, member_id, 0),
        ),
    ]
    return InlineKeyboardMarkup([row]).to_dict()
