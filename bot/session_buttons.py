"""The buttons session messages carry, as data: codecs and keyboards the relay sends.

Invitations, reminders, the pushed 签到, leave requests and make-up messages are queued
in bot/ (use cases and jobs) with their keyboard in the outbox row's payload, so the
keyboards are built here, where the queuing happens; handlers/attendance.py and
handlers/checkin.py answer the taps they route on these codecs. Prefixes are unique
project-wide ("att." attendance, "ci." check-in); handlers re-check every id they receive.
"""

from __future__ import annotations

from typing import Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import CallbackCodec
from bot.i18n import N_, gettext

RSVP: Final = CallbackCodec("att.rsvp", (int, str))  # session id, "yes" | "leave"
DECIDE: Final = CallbackCodec("att.dec", (int, str))  # attendance id, "ok" | "no"
MAKEUP: Final = CallbackCodec("att.mk", (int,))  # attendance id
CHECKIN: Final = CallbackCodec("ci.tap", (int,))  # member: 签到 for a session

ATTEND: Final = N_("Attend")
ASK_FOR_LEAVE: Final = N_("Ask for leave")
CHECK_IN: Final = N_("Check in")
STUDIED: Final = N_("I have studied it")
APPROVE: Final = N_("Approve")
REJECT: Final = N_("Reject")


def _button(language: str, label: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(gettext(language, label), callback_data=data)


def rsvp_markup(session_id: int, language: str) -> InlineKeyboardMarkup:
    """参加 / 请假 under an invitation or a reminder."""
    return InlineKeyboardMarkup(
        [
            [
                _button(language, ATTEND, RSVP.encode(session_id, "yes")),
                _button(language, ASK_FOR_LEAVE, RSVP.encode(session_id, "leave")),
            ]
        ]
    )


def checkin_markup(session_id: int, language: str) -> InlineKeyboardMarkup:
    """签到, pushed when check-in opens."""
    return InlineKeyboardMarkup([[_button(language, CHECK_IN, CHECKIN.encode(session_id))]])


def rsvp_and_checkin_markup(session_id: int, language: str) -> InlineKeyboardMarkup:
    """A reminder sent while check-in is open: answer, or check in at once."""
    rows = [
        *rsvp_markup(session_id, language).inline_keyboard,
        *checkin_markup(session_id, language).inline_keyboard,
    ]
    return InlineKeyboardMarkup(rows)


def makeup_markup(attendance_id: int, language: str) -> InlineKeyboardMarkup:
    """已学习 under a make-up study message: one tap records it."""
    return InlineKeyboardMarkup([[_button(language, STUDIED, MAKEUP.encode(attendance_id))]])


def leave_decision_markup(attendance_id: int, language: str) -> InlineKeyboardMarkup:
    """批准 / 不批准 under a leave request sent to the branch's officers."""
    return InlineKeyboardMarkup(
        [
            [
                _button(language, APPROVE, DECIDE.encode(attendance_id, "ok")),
                _button(language, REJECT, DECIDE.encode(attendance_id, "no")),
            ]
        ]
    )
