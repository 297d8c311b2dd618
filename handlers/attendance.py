"""A member answers an invitation: 参加 / 请假 with a reason; the secretary approves or rejects;
make-up study is confirmed with one tap (the keyboards are in bot/session_buttons.py).

Every tap names a session or attendance row; the handler checks that the row belongs to
the person tapping (or that the officer may manage that session's org) before acting,
and conditional updates make a double tap or a replayed update change nothing twice.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, TelegramError

from bot import session_answers as answers
from bot.access import Principal
from bot.context import BotContext, Services
from bot.htmltext import Markup, html_lines
from bot.session_answers import Answer, Decision
from bot.session_buttons import (
    DECIDE,
    MAKEUP,
    RSVP,
    checkin_markup,
    rsvp_and_checkin_markup,
    rsvp_markup,
)
from bot.session_duties import follow_the_roster
from bot.session_text import LEAVE_REASON_LABELS, clip, leave_label, session_card
from bot.sessions import Window, window_state
from handlers import awaiting
from handlers.awaiting import cancel_keyboard
from handlers.guard import STALE_BUTTON, refuse
from handlers.profile import ProfileView, profile_section
from handlers.screens import button, callback_values, perform
from handlers.session_access import NOT_ALLOWED
from handlers.session_codecs import REASON
from storage import attendance
from storage.models import Attendance, LeaveReason, LeaveState, StudySession

LEAVE_FLOW: Final = "leave"
LEAVE_MESSAGE_KEY: Final = awaiting.forget_on_cancel("sessions.leave_message")
REASONS: Final = (
    LeaveReason.SICK,
    LeaveReason.MIGRANT_WORK,
    LeaveReason.FARMING,
    LeaveReason.OTHER,
)
MAX_NOTE: Final = 200
ALERT_NOTE: Final = 60  # of those words quoted in an alert (at most 200 characters in all)
NOT_INVITED: Final = answers.NOT_INVITED

log = logging.getLogger(__name__)


async def follow_roster_change(services: Services, member_ids: Sequence[int]) -> None:
    """A newcomer joined by themselves: bring coming sessions in step now. An approval, a
    transfer, a deactivation and a roster import do this inside their own use case.

    Runs after the join committed and its welcome, the direct answer, went out (why, see
    handlers/registration.conclude); the session_roster job does the same every minute,
    so a failure here is logged and only delays things.
    """
    try:
        async with services.database.session_scope() as db:
            queued = await follow_the_roster(
                db=db,
                settings=services.settings,
                now=services.clock.now(),
                member_ids=member_ids,
            )
    except Exception:
        log.exception("bringing sessions in step with the roster failed; the job retries")
        return
    if queued:
        services.relay.wake()


def _answered_keyboard(
    context: BotContext, study: StudySession, row: Attendance | None
) -> InlineKeyboardMarkup:
    """Under an answered invitation: change the answer (and 签到 while check-in is open)."""
    sid = _id(study.id)
    rows = [[button(context._("Change my answer"), RSVP.encode(sid, "change"))]]
    if _can_check_in(context, study, row):
        rows += [list(row) for row in checkin_markup(sid, context.language).inline_keyboard]
    return InlineKeyboardMarkup(rows)


def _question_keyboard(
    context: BotContext, study: StudySession, row: Attendance | None
) -> InlineKeyboardMarkup:
    sid = _id(study.id)
    if _can_check_in(context, study, row):
        return rsvp_and_checkin_markup(sid, context.language)
    return rsvp_markup(sid, context.language)


def _can_check_in(context: BotContext, study: StudySession, row: Attendance | None) -> bool:
    now = context.services.clock.now()
    checked = row is not None and row.checked_in_at is not None
    return window_state(study, now) == Window.OPEN and not checked


def _with_last_line(update: Update, line: str) -> str:
    """The tapped message with its last paragraph (the question) replaced by ``line``.

    Invitations and reminders end with a paragraph that asks or answers; a message of one
    paragraph keeps it and gets ``line`` below.
    """
    query = update.callback_query
    message = query.message if query is not None else None
    if not isinstance(message, Message):
        return line
    shown = message.text_html if message.text else (message.caption_html or "")
    paragraphs = [Markup(paragraph) for paragraph in shown.split("\n\n")]  # already HTML
    if len(paragraphs) > 1:
        paragraphs = paragraphs[:-1]
    return Markup("\n\n").join([*paragraphs, line])


async def _edit_tapped(update: Update, text: str, markup: InlineKeyboardMarkup) -> None:
    """Show the new state in the tapped message itself (text or caption)."""
    query = update.callback_query
    assert query is not None
    message = query.message
    with contextlib.suppress(BadRequest):  # unchanged (a double tap): nothing to edit
        if isinstance(message, Message) and message.text is None:
            await query.edit_message_caption(caption=text, reply_markup=markup)
        else:
            await query.edit_message_text(text, reply_markup=markup)


def _leave_line(context: BotContext, row: Attendance) -> str:
    leave = leave_label(row.leave_reason, row.leave_note, row.leave_state, context.language)
    return context._("Answered: leave, {leave}").format(leave=leave)


async def on_rsvp(update: Update, context: BotContext) -> None:
    """参加: recorded once, the invitation shows the answer; 请假: the reasons, in place;
    更改回复: the question again."""
    query = update.callback_query
    user = update.effective_user
    if query is None or user is None:
        return
    session_id, answer = callback_values(RSVP, update)
    now = context.services.clock.now()
    async with context.services.database.session_scope() as db:
        if answer == "yes":
            outcome = await answers.attend(
                db=db, actor=user.id, session_id=int(session_id), now=now
            )
        else:
            outcome = await answers.own_answer(
                db=db, actor=user.id, session_id=int(session_id), now=now
            )
    if outcome.study is None or outcome.row is None:
        await refuse(update, context, context._(outcome.refusal or NOT_INVITED))
        return
    study, row = outcome.study, outcome.row
    awaiting.stop(context)
    if answer == "leave":
        await _offer_reasons(update, context, study, row)
        return
    if answer == "change":
        await query.answer()
        question = context._("Will you come? Please tap a button.")
        await _edit_tapped(
            update, _with_last_line(update, question), _question_keyboard(context, study, row)
        )
        return
    if outcome.result == Answer.DONE:
        await query.answer(context._("Thank you!"))
    else:
        await query.answer(context._("You have already said you will come."))
    line = context._("Answered: attend ✓")
    await _edit_tapped(
        update, _with_last_line(update, line), _answered_keyboard(context, study, row)
    )


async def _offer_reasons(
    update: Update, context: BotContext, study: StudySession, row: Attendance
) -> None:
    query = update.callback_query
    assert query is not None
    if row.leave_state in (LeaveState.PENDING, LeaveState.APPROVED):
        # The member's own words (up to MAX_NOTE) are cut to leave room in the alert.
        note = clip(row.leave_note, ALERT_NOTE) if row.leave_note else None
        await query.answer(
            context._("You have already asked for leave: {leave}").format(
                leave=leave_label(row.leave_reason, note, row.leave_state, context.language)
            ),
            show_alert=True,
        )
        return
    await query.answer()
    labels = [
        button(context._(LEAVE_REASON_LABELS[reason]), REASON.encode(_id(study.id), index))
        for index, reason in enumerate(REASONS)
    ]
    prompt = context._("Why can you not come? Please tap a reason.")
    await _edit_tapped(
        update, _with_last_line(update, prompt), InlineKeyboardMarkup([labels[:2], labels[2:]])
    )


async def on_reason(update: Update, context: BotContext) -> None:
    """A preset reason sends the request at once; 其他 asks for a few words first."""
    query = update.callback_query
    user = update.effective_user
    if query is None or user is None:
        return
    session_id, index = (int(value) for value in callback_values(REASON, update))
    if not 0 <= index < len(REASONS):
        await refuse(update, context, context._(STALE_BUTTON))
        return
    reason = REASONS[index]
    if reason == LeaveReason.OTHER:
        async with context.services.database.session_scope() as db:
            found = await answers.own_answer(
                db=db,
                actor=user.id,
                session_id=session_id,
                now=context.services.clock.now(),
            )
        if found.row is None:
            await refuse(update, context, context._(found.refusal or NOT_INVITED))
            return
        awaiting.expect(context, LEAVE_FLOW, session_id)
        if context.user_data is not None and isinstance(query.message, Message):
            context.user_data[LEAVE_MESSAGE_KEY] = query.message.message_id
        await query.answer()
        prompt = context._("Please type the reason in a few words.")
        await _edit_tapped(update, _with_last_line(update, prompt), cancel_keyboard(context))
        return
    await _send_leave_request(update, context, session_id, reason, None)


async def on_leave_note(update: Update, context: BotContext) -> None:
    """The words of a 其他 reason."""
    message = update.effective_message
    state = awaiting.waiting(context, LEAVE_FLOW)
    if message is None or state is None:
        return
    note = (message.text or "").strip()
    template = context._("Please type the reason in a few words (at most {n} characters).")
    if not note:
        await message.reply_text(
            template.format(n=MAX_NOTE), reply_markup=cancel_keyboard(context)
        )
        return
    if len(note) > MAX_NOTE:
        await awaiting.refuse_too_long(
            message,
            context,
            template=template,
            limit=MAX_NOTE,
            count=len(note),
            markup=cancel_keyboard(context),
        )
        return
    awaiting.stop(context)
    await _send_leave_request(update, context, state.ref, LeaveReason.OTHER, note)


async def _send_leave_request(
    update: Update,
    context: BotContext,
    session_id: int,
    reason: LeaveReason,
    note: str | None,
) -> None:
    user = update.effective_user
    if user is None:
        return
    services = context.services
    async with services.database.session_scope() as db:
        outcome = await answers.ask_leave(
            db=db,
            actor=user.id,
            session_id=session_id,
            reason=reason,
            note=note,
            settings=services.settings,
            now=services.clock.now(),
        )
    if outcome.result == Answer.REFUSED or outcome.study is None or outcome.row is None:
        await refuse(update, context, context._(outcome.refusal or NOT_INVITED))
        return
    if outcome.result == Answer.ALREADY:
        await refuse(update, context, context._("You have already asked for leave."))
        return
    services.relay.wake()
    text = context._("Your leave request ({reason}) was sent to the secretary.").format(
        reason=note if note else context._(LEAVE_REASON_LABELS[reason])
    )
    markup = _answered_keyboard(context, outcome.study, outcome.row)
    query = update.callback_query
    if query is not None:
        await query.answer(text)
        await _edit_tapped(
            update, _with_last_line(update, _leave_line(context, outcome.row)), markup
        )
        return
    if update.effective_message is not None:
        await update.effective_message.reply_text(
            html_lines([text, _leave_line(context, outcome.row)]), reply_markup=markup
        )
    message_id = context.user_data.pop(LEAVE_MESSAGE_KEY, None) if context.user_data else None
    if isinstance(message_id, int):  # the prompt's 取消 under the invitation is done with
        with contextlib.suppress(TelegramError):
            await context.bot.edit_message_reply_markup(user.id, message_id, reply_markup=None)


async def on_decide(update: Update, context: BotContext) -> None:
    """The secretary approves or rejects a leave request; the member is told."""
    query = update.callback_query
    user = update.effective_user
    if query is None or user is None:
        return
    attendance_id, verdict = callback_values(DECIDE, update)
    approve = verdict == "ok"
    services = context.services
    now = services.clock.now()
    async with services.database.session_scope() as db:
        outcome = await answers.decide_leave(
            db=db,
            actor=user.id,
            attendance_id=int(attendance_id),
            approve=approve,
            settings=services.settings,
            now=now,
        )
    if outcome.result == Decision.REFUSED or outcome.study is None:
        await refuse(update, context, context._(outcome.refusal or NOT_ALLOWED))
        return
    services.relay.wake()
    await query.answer()
    await query.edit_message_text(
        _decided_text(context, outcome.study, outcome.member_name, approve, now)
    )


def _decided_text(
    context: BotContext, study: StudySession, name: str, approve: bool, now: datetime
) -> str:
    verdict = (
        context._("✅ Leave approved: {name}")
        if approve
        else context._("❌ Leave not approved: {name}")
    ).format(name=name)
    card = session_card(study, language=context.language, tz=_tz(context), now=now)
    return html_lines([verdict, card])


async def on_makeup(update: Update, context: BotContext) -> None:
    """我已学习: make-up study done, recorded once."""
    query = update.callback_query
    user = update.effective_user
    if query is None or user is None:
        return
    (attendance_id,) = callback_values(MAKEUP, update)
    now = context.services.clock.now()

    async def act(db: AsyncSession, principal: Principal) -> bool:
        return await answers.record_makeup(
            db=db, principal=principal, attendance_id=int(attendance_id), now=now
        )

    done = await perform(update, context, act)
    if done is None:
        return
    if not done:
        await query.answer(context._("Already recorded. Thank you!"))
        return
    await query.answer(context._("Thank you!"))
    await query.edit_message_reply_markup(None)
    await context.bot.send_message(
        user.id, context._("✅ Make-up study recorded. Thank you for studying!")
    )


@profile_section
async def attendance_this_year(view: ProfileView) -> list[str]:
    """The member's attendance rate this year (present / finalised sessions), if any."""
    if view.member is None or view.member.id is None:
        return []
    year = view.now.astimezone(view.tz).year
    rate = await attendance.attendance_rate(
        db=view.db, member_id=view.member.id, year=year, tz=view.tz
    )
    if rate is None:  # nothing finalised yet this year: no line rather than an empty one
        return []
    return [view._("Attendance this year: {rate}").format(rate=f"{rate:.0%}")]


def _tz(context: BotContext) -> ZoneInfo:
    return context.services.settings.tz


def _id(value: int | None) -> int:
    assert value is not None
    return value


CALLBACKS: Final = (
    (RSVP, on_rsvp),
    (REASON, on_reason),
    (DECIDE, on_decide),
    (MAKEUP, on_makeup),
)
