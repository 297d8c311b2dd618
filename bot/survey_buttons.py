"""The buttons of a satisfaction survey message, as data: the survey is queued to every
rater in bot/satisfaction.py with a button per unit, built here; handlers/survey.py
answers the taps it routes on these codecs and redraws the same list after each answer.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any, Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import CallbackCodec
from storage.models import OrgUnit

UNIT: Final = CallbackCodec("sv.u", (int, int))  # survey, unit: its three answers
PER_ROW: Final = 2
MAX_UNITS: Final = 98  # Telegram shows at most 100 buttons under a message


def unit_rows(
    survey_id: int, units: Sequence[OrgUnit], answered: Collection[int] = ()
) -> list[list[InlineKeyboardButton]]:
    """A button per unit, two to a row; units the rater has answered carry a ✓."""
    buttons = [
        InlineKeyboardButton(
            f"✓ {unit.name}" if unit.id in answered else unit.name,
            callback_data=UNIT.encode(survey_id, unit.id or 0),
        )
        for unit in units[:MAX_UNITS]
    ]
    return [buttons[i : i + PER_ROW] for i in range(0, len(buttons), PER_ROW)]


def units_markup(survey_id: int, units: Sequence[OrgUnit]) -> dict[str, Any]:
    """The keyboard of the survey message as queued (nothing answered yet)."""
    return InlineKeyboardMarkup(unit_rows(survey_id, units)).to_dict()
