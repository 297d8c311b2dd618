"""签到: the secretary's /checkin screen (QR and number) and the member's check-in.

A member scans the QR code with the phone camera, Telegram opens the bot with a Start
button, and that one tap checks them in (``/start ci_<session>_<code>``). Or the member
taps 签到 and types the number on the screen. Either way the code must be the current
one, the window open and the member invited; wrong numbers are counted, and after a few
only the secretary can mark them present.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Final

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError

from bot.access import Action, load_principal, scope_roots
from bot.checkin import CODE_DIGITS, current_code, deep_link, parse_start_payload, qr_png
from bot.checkin import verify_code as code_is_valid
from bot.context import BotContext
from bot.dates import format_time
from bot.htmltext import Markup, html_lines
from bot.session_text import session_card
from bot.sessions import MAX_CHECKIN_FAILURES, Window, checkin_opens_at, window_state
from handlers import awaiting
from handlers.guard import refuse
from handlers.screens import button, callback_values
from handlers.session_access import NOT_ALLOWED, officer_session
from handlers.session_codecs import CHECKIN, CODE, PROXY
from storage import attendance, members, sessions
from storage.models import Attendance, CheckinMethod, SessionState, StudySession

FLOW: Final = "checkin"


def _id(value: int | None) -> int:
    assert value is not None
    return value


# --- the member ---------------------------------------------------------------------------


async def cmd_start_checkin(update: Update, context: BotContext) -> None:
    """The deep link from the QR code: one tap on Start checks the member in."""
    message = update.effective_message
    if message is None:
        return
    parsed = parse_start_payload(context.args[0]) if context.args else None
    if parsed is None:
        await message.reply_text(context._("This check-in code is not valid."))
        return
    session_id, code = parsed
    await message.reply_text(await _check_in(update, context, session_id, code, CheckinMethod.QR))


async def on_tap(update: Update, context: BotContext) -> None:
    """签到: ask for the number shown on the secretary's screen."""
    query = update.callback_query
    if query is None:
        return
    (session_id,) = callback_values(CHECKIN, update)
    refusal = await _refusal(update, context, int(session_id))
    if refusal is not None:
        await refuse(update, context, refusal)
        return
    awaiting.expect(context, FLOW, int(session_id))
    await query.answer()
    await context.bot.send_message(
        query.from_user.id,
        context._("Please type the {n}-digit number shown by the secretary.").format(
            n=CODE_DIGITS
        ),
    )


async def on_number(update: Update, context: BotContext) -> None:
    """The typed number after 签到."""
    message = update.effective_message
    state = awaiting.waiting(context, FLOW)
    if message is None or state is None:
        return
    answer = await _check_in(update, context, state.ref, message.text or "", CheckinMethod.CODE)
    await message.reply_text(answer)


async def _refusal(update: Update, context: BotContext, session_id: int) -> str | None:
    """Why this member cannot check in to this session now (translated), or None."""
    now = context.services.clock.now()
    found = await _member_row(update, context, session_id)
    if found is None:
        return context._("You are not on the list for this session. Please ask the secretary.")
    study, row = found
    if row.checked_in_at is not None:
        return context._("You are already checked in.")
    return _window_refusal(context, study, now)


def _window_refusal(context: BotContext, study: StudySession, now: datetime) -> str | None:
    state = window_state(study, now)
    if study.state == SessionState.CANCELLED:
        return context._("This session has been cancelled.")
    if state == Window.CLOSED:
        return context._("Check-in for this session is closed.")
    if state == Window.NOT_YET:
        return context._("Check-in opens at {time}.").format(
            time=format_time(checkin_opens_at(study), tz=context.services.settings.tz)
        )
    return None


async def _member_row(
    update: Update, context: BotContext, session_id: int
) -> tuple[StudySession, Attendance] | None:
    user = update.effective_user
    if user is None:
        return None
    async with context.services.database.session_scope() as session:
        member = await members.member_by_telegram(session=session, telegram_user_id=user.id)
        study = await sessions.get_session(session=session, session_id=session_id)
        if member is None or member.id is None or study is None:
            return None
        row = await attendance.get_attendance(
            session=session, session_id=session_id, member_id=member.id
        )
    return (study, row) if row is not None else None


async def _check_in(
    update: Update, context: BotContext, session_id: int, code: str, method: CheckinMethod
) -> str:
    """Check the member in with a code; the answer to show them."""
    services = context.services
    now = services.clock.now()
    found = await _member_row(update, context, session_id)
    if found is None:
        return context._("You are not on the list for this session. Please ask the secretary.")
    study, row = found
    if row.checked_in_at is not None:
        awaiting.stop(context)
        return context._("You are already checked in.")
    refusal = _window_refusal(context, study, now)
    if refusal is not None:
        awaiting.stop(context)
        return refusal
    if row.checkin_failures >= MAX_CHECKIN_FAILURES:
        awaiting.stop(context)
        return context._("Too many wrong numbers. Please ask the secretary to mark you present.")
    if code_is_valid(services.settings.signing_key, session_id, code, now):
        async with services.database.session_scope() as session:
            done = await attendance.check_in(
                session=session, attendance_id=_id(row.id), method=method, now=now
            )
        awaiting.stop(context)
        if not done:
            return context._("You are already checked in.")
        return context._("✅ Checked in: {topic}. Welcome!").format(topic=study.topic)
    async with services.database.session_scope() as session:
        failures = await attendance.count_checkin_failure(
            session=session, attendance_id=_id(row.id)
        )
    if failures >= MAX_CHECKIN_FAILURES:
        awaiting.stop(context)
        return context._("Too many wrong numbers. Please ask the secretary to mark you present.")
    return context._(
        "That number is wrong or has expired. Please look at the secretary's screen "
        "and type the number again."
    )


# --- the secretary ------------------------------------------------------------------------


async def cmd_checkin(update: Update, context: BotContext) -> None:
    """Show the code of the session whose check-in is open (or let the officer choose)."""
    user = update.effective_user
    message = update.effective_message
    if user is None or message is None:
        return
    now = context.services.clock.now()
    async with context.services.database.session_scope() as session:
        principal = await load_principal(session=session, telegram_user_id=user.id)
        roots = scope_roots(principal, Action.MANAGE_ATTENDANCE)
        found = (
            await sessions.sessions_of_orgs(
                session=session,
                org_paths=[root.org_path for root in roots],
                states=[SessionState.SCHEDULED],
                limit=50,
            )
            if roots
            else []
        )
    if not roots:
        await refuse(update, context, context._(NOT_ALLOWED))
        return
    open_now = [study for study in found if window_state(study, now) == Window.OPEN]
    if len(open_now) == 1:
        await _send_screen(update, context, open_now[0])
        return
    if not open_now:
        minutes = context.services.settings.checkin_opens_minutes
        await message.reply_text(
            context._(
                "No session is open for check-in now. Check-in opens {n} minutes before the start."
            ).format(n=minutes)
        )
        return
    rows = [
        [button(_label(context, study, now), CODE.encode(_id(study.id)))] for study in open_now
    ]
    await message.reply_text(context._("Which session?"), reply_markup=InlineKeyboardMarkup(rows))


def _label(context: BotContext, study: StudySession, now: datetime) -> str:
    time = format_time(study.starts_at, tz=context.services.settings.tz)
    return f"{time} {study.topic}"[:60]


async def on_screen(update: Update, context: BotContext) -> None:
    """Show the code screen for a chosen session, or a fresh code (🔄)."""
    query = update.callback_query
    if query is None:
        return
    (session_id,) = callback_values(CODE, update)
    study = await officer_session(update, context, int(session_id), Action.MANAGE_ATTENDANCE)
    if study is None:
        return
    refusal = _window_refusal(context, study, context.services.clock.now())
    if refusal is not None:
        await refuse(update, context, refusal)
        return
    await query.answer()
    await _send_screen(update, context, study)
    if isinstance(query.message, Message) and query.message.photo:
        with contextlib.suppress(TelegramError):  # the old code is stale: take it away
            await query.message.delete()


async def _send_screen(update: Update, context: BotContext, study: StudySession) -> None:
    """The QR code of the deep link, with the same code as a number, as a photo."""
    chat = update.effective_chat
    if chat is None:
        return
    services = context.services
    now = services.clock.now()
    code = current_code(services.settings.signing_key, _id(study.id), now)
    link = deep_link(context.bot.username, _id(study.id), code.code)
    async with services.database.session_scope() as session:
        counts = await attendance.attendance_counts(session=session, session_id=_id(study.id))
    spaced = f"{code.code[:3]} {code.code[3:]}"
    caption = html_lines(
        [
            session_card(study, language=context.language, tz=services.settings.tz, now=now),
            "",
            Markup(context._("Check-in number: <b>{code}</b>")).format(code=spaced),
            context._(
                "Scan the QR code with the phone camera and tap Start. "
                'Or tap "Check in" in the bot and type the number.'
            ),
            context._("The number changes every few minutes; this one works until {time}.").format(
                time=format_time(code.valid_until, tz=services.settings.tz)
            ),
            context._("Checked in so far: {done} of {invited}").format(
                done=counts.checked_in, invited=counts.invited
            ),
        ]
    )
    markup = InlineKeyboardMarkup(
        [
            [
                button(context._("🔄 New code"), CODE.encode(_id(study.id))),
                button(context._("Mark from the roster"), PROXY.encode(_id(study.id), 0, 0)),
            ]
        ]
    )
    await context.bot.send_photo(chat.id, qr_png(link), caption=caption, reply_markup=markup)


CALLBACKS: Final = ((CHECKIN, on_tap), (CODE, on_screen))
