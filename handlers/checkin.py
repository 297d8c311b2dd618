"""签到: the secretary's /checkin screen (QR and number) and the member's check-in.

A member scans the QR code with the phone camera, Telegram opens the bot with a Start
button, and that one tap checks them in (``/start ci_<session>_<code>``). Or the member
taps 签到 and types the number on the screen. Either way the code must be the current
one, the window open and the member invited; wrong numbers are counted, and after a few
only the secretary can mark them present.
"""

from __future__ import annotations

import contextlib
from typing import Final

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError

from bot.access import Action, load_principal, scope_roots
from bot.checkin import CODE_DIGITS, current_code, deep_link, parse_start_payload, qr_png
from bot.checkin_screen import SCREENS_KEY, LiveScreens, Screen, screen_caption
from bot.context import BotContext
from bot.dates import format_time
from bot.i18n import N_
from bot.session_buttons import CHECKIN
from bot.session_checkin import (
    Checkin,
    CheckinOutcome,
    check_in,
    may_check_in,
    open_for_member,
    show_code,
)
from bot.sessions import Window, checkin_opens_at, window_state
from handlers import awaiting
from handlers.awaiting import cancel_keyboard
from handlers.guard import refuse
from handlers.screens import button, callback_values, perform
from handlers.session_codecs import CODE, PROXY
from storage import sessions
from storage.models import CheckinMethod, SessionState, StudySession

FLOW: Final = "checkin"


def _id(value: int | None) -> int:
    assert value is not None
    return value


# --- the member ---------------------------------------------------------------------------

_ANSWERS: Final = {
    Checkin.ALREADY: N_("You are already checked in."),
    Checkin.NOT_INVITED: N_("You are not on the list for this session. Please ask the secretary."),
    Checkin.CANCELLED: N_("This session has been cancelled."),
    Checkin.CLOSED: N_("Check-in for this session is closed."),
    Checkin.LOCKED: N_("Too many wrong numbers. Please ask the secretary to mark you present."),
    Checkin.WRONG: N_(
        "That number is wrong or has expired. Please look at the secretary's screen "
        "and type the number again."
    ),
}
TYPE_THE_NUMBER: Final = N_("Please type the {n}-digit number shown by the secretary.")
#: What /checkin tells a member when nothing is open (officers get the code screen).
NOTHING_OPEN: Final = N_("No session is open for check-in now.")


def _answer(context: BotContext, outcome: CheckinOutcome) -> str:
    """What to tell the member about a check-in outcome."""
    if outcome.result == Checkin.DONE and outcome.study is not None:
        return context._("✅ Checked in: {topic}. Welcome!").format(topic=outcome.study.topic)
    if outcome.result == Checkin.NOT_YET and outcome.study is not None:
        return context._("Check-in opens at {time}.").format(
            time=format_time(checkin_opens_at(outcome.study), tz=context.services.settings.tz)
        )
    return context._(_ANSWERS.get(outcome.result, _ANSWERS[Checkin.NOT_INVITED]))


async def cmd_start_checkin(update: Update, context: BotContext) -> None:
    """The deep link from the QR code: one tap on Start checks the member in.

    A wrong or expired code leaves the bot waiting for the number, so the member can
    simply type what the screen shows now.
    """
    message = update.effective_message
    if message is None:
        return
    parsed = parse_start_payload(context.args[0]) if context.args else None
    if parsed is None:
        await message.reply_text(context._("This check-in code is not valid."))
        return
    session_id, code = parsed
    await _check_in(update, context, session_id, code, CheckinMethod.QR)


async def on_tap(update: Update, context: BotContext) -> None:
    """签到: ask for the number shown on the secretary's screen."""
    query = update.callback_query
    if query is None:
        return
    (session_id,) = callback_values(CHECKIN, update)
    await _ask_for_number(update, context, int(session_id))


async def _ask_for_number(update: Update, context: BotContext, session_id: int) -> None:
    """Wait for the number of this session, or say why the member cannot check in."""
    user = update.effective_user
    if user is None:
        return
    outcome = await may_check_in(
        database=context.services.database,
        actor=user.id,
        session_id=session_id,
        now=context.services.clock.now(),
    )
    if outcome.result != Checkin.READY:
        await refuse(update, context, _answer(context, outcome))
        return
    awaiting.expect(context, FLOW, session_id)
    if update.callback_query is not None:
        await update.callback_query.answer()
    await context.bot.send_message(
        user.id,
        context._(TYPE_THE_NUMBER).format(n=CODE_DIGITS),
        reply_markup=cancel_keyboard(context),
    )


async def on_number(update: Update, context: BotContext) -> None:
    """The typed number after 签到 (or after a failed scan).

    Anything but text (a photo, a sticker) is answered and not counted as a wrong number.
    """
    message = update.effective_message
    state = awaiting.waiting(context, FLOW)
    if message is None or state is None:
        return
    if not message.text:
        await message.reply_text(
            context._(TYPE_THE_NUMBER).format(n=CODE_DIGITS),
            reply_markup=cancel_keyboard(context),
        )
        return
    await _check_in(update, context, state.ref, message.text, CheckinMethod.CODE)


async def _check_in(
    update: Update, context: BotContext, session_id: int, code: str, method: CheckinMethod
) -> None:
    """Check the member in with a code, judged at the time the message was sent."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None:
        return
    services = context.services
    async with services.database.session_scope() as db:
        outcome = await check_in(
            db=db,
            actor=user.id,
            session_id=session_id,
            code=code,
            method=method,
            key=services.settings.signing_key,
            sent_at=message.date,
            now=services.clock.now(),
        )
    if outcome.result == Checkin.WRONG:
        awaiting.expect(context, FLOW, session_id)  # the next typed number is the code
    else:
        awaiting.stop(context)
    await message.reply_text(_answer(context, outcome))


async def cmd_checkin(update: Update, context: BotContext) -> None:
    """/checkin: an officer sees the code screen; a member is asked for the number."""
    user = update.effective_user
    message = update.effective_message
    if user is None or message is None:
        return
    now = context.services.clock.now()
    async with context.services.database.session_scope() as db:
        principal = await load_principal(db=db, telegram_user_id=user.id)
        officer = bool(scope_roots(principal, Action.MANAGE_ATTENDANCE))
        mine = await open_for_member(db=db, actor=user.id, now=now)
    if officer:
        await _officer_checkin(update, context)
        return
    if len(mine) == 1:
        await _ask_for_number(update, context, _id(mine[0].id))
        return
    if not mine:
        await message.reply_text(context._(NOTHING_OPEN))
        return
    rows = [[button(_label(context, study), CHECKIN.encode(_id(study.id)))] for study in mine]
    await message.reply_text(context._("Which session?"), reply_markup=InlineKeyboardMarkup(rows))


# --- the secretary ------------------------------------------------------------------------


async def _officer_checkin(update: Update, context: BotContext) -> None:
    """Show the code of the session whose check-in is open (or let the officer choose)."""
    user = update.effective_user
    message = update.effective_message
    if user is None or message is None:
        return
    now = context.services.clock.now()
    async with context.services.database.session_scope() as db:
        principal = await load_principal(db=db, telegram_user_id=user.id)
        roots = scope_roots(principal, Action.MANAGE_ATTENDANCE)
        found = (
            await sessions.sessions_of_orgs(
                db=db,
                org_paths=[root.org_path for root in roots],
                states=[SessionState.SCHEDULED],
                limit=50,
            )
            if roots
            else []
        )
    open_now = [study for study in found if window_state(study, now) == Window.OPEN]
    if len(open_now) == 1:
        await _send_screen(update, context, _id(open_now[0].id))
        return
    if not open_now:
        minutes = context.services.settings.checkin_opens_minutes
        await message.reply_text(
            context._(
                "No session is open for check-in now. Check-in opens {n} minutes before the start."
            ).format(n=minutes)
        )
        return
    rows = [[button(_label(context, study), CODE.encode(_id(study.id)))] for study in open_now]
    await message.reply_text(context._("Which session?"), reply_markup=InlineKeyboardMarkup(rows))


def _label(context: BotContext, study: StudySession) -> str:
    time = format_time(study.starts_at, tz=context.services.settings.tz)
    return f"{time} {study.topic}"[:60]


async def on_screen(update: Update, context: BotContext) -> None:
    """Show the code screen for a chosen session, or a fresh code (🔄)."""
    query = update.callback_query
    if query is None:
        return
    (session_id,) = callback_values(CODE, update)
    if not await _send_screen(update, context, int(session_id)):
        return
    if isinstance(query.message, Message) and query.message.photo:
        screens = context.bot_data.get(SCREENS_KEY)
        if isinstance(screens, LiveScreens):
            screens.forget(query.message.chat_id, query.message.message_id)
        with contextlib.suppress(TelegramError):  # the old code is stale: take it away
            await query.message.delete()


async def _send_screen(update: Update, context: BotContext, session_id: int) -> bool:
    """The QR code of the deep link, with the same code as a number, as a photo that keeps
    itself current (bot.checkin_screen); False if refused (the refusal was shown).

    One use case checks the officer's right and the window, and counts the officer as
    present, in one transaction; the photo is sent after it.
    """
    chat = update.effective_chat
    if chat is None:
        return False
    services = context.services
    now = services.clock.now()
    shown = await perform(
        update,
        context,
        lambda db, principal: show_code(db=db, actor=principal, session_id=session_id, now=now),
    )
    if shown is None:
        return False
    study = shown.study
    if shown.result != Checkin.READY or shown.counts is None:
        await refuse(update, context, _answer(context, CheckinOutcome(shown.result, study)))
        return False
    if update.callback_query is not None:
        await update.callback_query.answer()
    code = current_code(services.settings.signing_key, _id(study.id), now)
    link = deep_link(context.bot.username, _id(study.id), code.code)
    caption = screen_caption(
        study,
        code=code,
        counts=shown.counts,
        language=context.language,
        settings=services.settings,
        now=now,
    )
    markup = InlineKeyboardMarkup(
        [
            [
                button(context._("🔄 New code"), CODE.encode(_id(study.id))),
                button(context._("Mark from the roster"), PROXY.encode(_id(study.id), 0, 0)),
            ]
        ]
    )
    sent = await context.bot.send_photo(
        chat.id, qr_png(link), caption=caption, reply_markup=markup
    )
    screens = context.bot_data.get(SCREENS_KEY)
    if isinstance(screens, LiveScreens):
        screens.shown(
            Screen(chat.id, sent.message_id, _id(study.id), context.language, code.code, markup)
        )
    return True


CALLBACKS: Final = ((CHECKIN, on_tap), (CODE, on_screen))
