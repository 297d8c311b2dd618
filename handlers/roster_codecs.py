"""Button payloads of the roster and of the member-card actions, shared by both modules."""

from __future__ import annotations

from typing import Final

from telegram import InlineKeyboardButton

from bot.callbacks import CallbackCodec
from bot.i18n import gettext
from handlers.org_picker import OrgPicker
from handlers.screens import button

PICKER: Final = OrgPicker(
    CallbackCodec("ros.n", (int, int, int)), CallbackCodec("ros.o", (int, int))
)
PAGE: Final = CallbackCodec("ros.p", (int, int))  # org, page
CARD: Final = CallbackCodec("ros.m", (int, int))  # member, roster page to go back to
TRANSFER: Final = OrgPicker(  # subject: the member
    CallbackCodec("ros.tn", (int, int, int)), CallbackCodec("ros.tp", (int, int))
)
TRANSFER_DO: Final = CallbackCodec("ros.ty", (int, int, int))  # member, from org, to org
STATUS: Final = CallbackCodec("ros.s", (int,))  # member
# Statuses travel as their index in STATUS_PATH ("development_target" is too long a token).
STATUS_STEP: Final = CallbackCodec("ros.sc", (int, int, int))  # member, from, to
STATUS_FIX: Final = CallbackCodec("ros.sf", (int, int))  # member, from
STATUS_WHY: Final = CallbackCodec("ros.sw", (int, int, int))  # member, from, to
STATUS_DO: Final = CallbackCodec("ros.sy", (int, int, int, str))  # member, from, to, reason
DEACTIVATE: Final = CallbackCodec("ros.d", (int,))  # member
DEACTIVATE_ASK: Final = CallbackCodec("ros.dc", (int, str))  # member, reason
DEACTIVATE_DO: Final = CallbackCodec("ros.dy", (int, str))  # member, reason


def back_to_card(member_id: int, lang: str) -> list[InlineKeyboardButton]:
    """The row that leaves an action and returns to the member's card."""
    return [button(gettext(lang, "Cancel"), CARD.encode(member_id, 0))]
