"""The secretary's check-in screen (QR code and number), kept current as the code rotates.

The screen is a photo message. Every screen shown is remembered here (chat, message, the
code it shows, its buttons), and `refresh_screens` runs every few seconds: when the code
has rotated it edits the photo and caption in place (editMessageMedia), and when check-in
has closed it says so and forgets the screen. A screen is a view, not a duty: after a
restart the secretary taps 🔄 once, and nothing is lost in the database.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from telegram import Bot, InlineKeyboardMarkup, InputMediaPhoto
from telegram.error import BadRequest, Forbidden

from bot.checkin import CheckinCode, current_code, deep_link, qr_png
from bot.dates import format_time
from bot.htmltext import Markup, html_lines
from bot.i18n import gettext
from bot.session_text import session_card
from bot.sessions import Window, window_state
from bot.settings import Settings
from storage import Database, attendance, sessions
from storage.attendance import AttendanceCounts
from storage.models import StudySession

__all__ = ["SCREENS_KEY", "LiveScreens", "Screen", "refresh_screens", "screen_caption"]

SCREENS_KEY: Final = "checkin.screens"

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Screen:
    """One code screen on an officer's phone."""

    chat_id: int
    message_id: int
    session_id: int
    language: str
    code: str  # the code it shows now
    markup: InlineKeyboardMarkup  # its buttons (drawn by the handler that answers them)


class LiveScreens:
    """The code screens shown and not yet closed, by (chat, message)."""

    def __init__(self) -> None:
        self._screens: dict[tuple[int, int], Screen] = {}

    def shown(self, screen: Screen) -> None:
        self._screens[(screen.chat_id, screen.message_id)] = screen

    def forget(self, chat_id: int, message_id: int) -> None:
        self._screens.pop((chat_id, message_id), None)

    def all(self) -> list[Screen]:
        return list(self._screens.values())


def screen_caption(
    study: StudySession,
    *,
    code: CheckinCode,
    counts: AttendanceCounts,
    language: str,
    settings: Settings,
    now: datetime,
) -> Markup:
    """The card, the number (spaced for reading aloud), how to use it, and the count."""
    spaced = f"{code.code[:3]} {code.code[3:]}"
    return html_lines(
        [
            session_card(study, language=language, tz=settings.tz, now=now),
            "",
            Markup(gettext(language, "Check-in number: <b>{code}</b>")).format(code=spaced),
            gettext(
                language,
                "Scan the QR code with the phone camera and tap Start. "
                'Or tap "Check in" in the bot and type the number.',
            ),
            gettext(
                language, "The number changes every few minutes; this one works until {time}."
            ).format(time=format_time(code.valid_until, tz=settings.tz)),
            gettext(language, "Checked in so far: {done} of {invited}").format(
                done=counts.checked_in, invited=counts.invited
            ),
        ]
    )


async def refresh_screens(
    *, bot: Bot, screens: LiveScreens, database: Database, settings: Settings, now: datetime
) -> int:
    """Edit every screen whose code has rotated; close those whose check-in ended.

    Returns how many screens were edited.
    """
    edited = 0
    for screen in screens.all():
        async with database.session_scope() as db:
            study = await sessions.get_session(db=db, session_id=screen.session_id)
            counts = (
                await attendance.attendance_counts(db=db, session_id=screen.session_id)
                if study is not None
                else None
            )
        try:
            if study is None or counts is None or window_state(study, now) != Window.OPEN:
                screens.forget(screen.chat_id, screen.message_id)
                closed = gettext(screen.language, "Check-in for this session is closed.")
                await bot.edit_message_caption(screen.chat_id, screen.message_id, caption=closed)
                edited += 1
                continue
            code = current_code(settings.signing_key, screen.session_id, now)
            if code.code == screen.code:
                continue
            caption = screen_caption(
                study,
                code=code,
                counts=counts,
                language=screen.language,
                settings=settings,
                now=now,
            )
            photo = qr_png(deep_link(bot.username, screen.session_id, code.code))
            await bot.edit_message_media(
                InputMediaPhoto(photo, caption=caption),
                chat_id=screen.chat_id,
                message_id=screen.message_id,
                reply_markup=screen.markup,
            )
            screen.code = code.code
            edited += 1
        except (BadRequest, Forbidden):  # deleted, or the officer blocked the bot: stop
            log.info("check-in screen %s/%s is gone", screen.chat_id, screen.message_id)
            with contextlib.suppress(KeyError):
                screens.forget(screen.chat_id, screen.message_id)
    return edited
