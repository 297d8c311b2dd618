"""/sessions: everyone's coming and recent sessions with their own status; officers also
manage the sessions they organise (change time, place, topic or length; cancel one or a
series).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot import session_ops
from bot.access import Action, Principal, load_principal, scope_roots
from bot.context import BotContext
from bot.dates import format_when, parse_when
from bot.htmltext import Markup, html_lines
from bot.session_buttons import CHECKIN, MAKEUP, rsvp_markup
from bot.session_ops import NOT_SCHEDULED
from bot.session_text import clip, kind_label, session_card, status_label
from bot.sessions import DURATION_CHOICES, Window, rsvp_refusal, window_state
from handlers import awaiting
from handlers.attendance import NOT_INVITED
from handlers.awaiting import cancel_keyboard
from handlers.guard import STALE_BUTTON, refuse
from handlers.newsession import MAX_PLACE, MAX_TOPIC, examples
from handlers.screens import button, callback_values, perform, show
from handlers.session_access import officer_session
from handlers.session_codecs import (
    CANCEL,
    CODE,
    DURATION,
    EDIT,
    MANAGE,
    MINUTES,
    REPORT,
    VIEW,
)
from storage import attendance, members, sessions
from storage.models import Attendance, AttendanceOutcome, SessionState, StudySession

EDIT_FLOW: Final = "edit"
FIELD_KEY: Final = awaiting.forget_on_cancel("sessions.edit_field")
FIELDS: Final = ("time", "place", "topic", "duration")
ORGANISERS: Final = (Action.SCHEDULE_SESSION, Action.MANAGE_ATTENDANCE)


def _id(value: int | None) -> int:
    assert value is not None
    return value


async def cmd_sessions(update: Update, context: BotContext) -> None:
    """Coming and recent sessions with my status; the ones I organise, to manage."""
    user = update.effective_user
    message = update.effective_message
    if user is None or message is None:
        return
    awaiting.stop(context)
    now = context.services.clock.now()
    async with context.services.database.session_scope() as db:
        member = await members.member_by_telegram(db=db, telegram_user_id=user.id)
        upcoming, recent = (
            await sessions.member_sessions(db=db, member_id=member.id, now=now)
            if member is not None and member.id is not None
            else ([], [])
        )
        principal = await load_principal(db=db, telegram_user_id=user.id)
        paths = sorted({root.org_path for a in ORGANISERS for root in scope_roots(principal, a)})
        organised = (
            await sessions.sessions_of_orgs(
                db=db, org_paths=paths, states=[SessionState.SCHEDULED]
            )
            if paths
            else []
        )
    if member is None and not paths:
        await message.reply_text(
            context._("You are not on a branch roster yet, so there are no sessions for you.")
        )
        return
    _ = context._
    lines: list[str] = [Markup(_("<b>Coming up</b>"))]
    lines += [_line(context, m.study, m.attendance, now) for m in upcoming] or [_("none")]
    lines += ["", Markup(_("<b>Recent</b>"))]
    lines += [_line(context, m.study, m.attendance, now) for m in recent] or [_("none")]
    rows = [
        [button(_short(context, m.study, now), VIEW.encode(_id(m.study.id)))] for m in upcoming
    ]
    if organised:
        lines += ["", Markup(_("<b>Sessions you organise</b>"))]
        lines += [_line(context, study, None, now) for study in organised]
        rows += [
            [button("⚙ " + _short(context, study, now), MANAGE.encode(_id(study.id)))]
            for study in organised
        ]
    markup = InlineKeyboardMarkup(rows) if rows else None  # never an empty keyboard
    await message.reply_text(html_lines(lines), reply_markup=markup)


def _line(context: BotContext, study: StudySession, row: Attendance | None, now: datetime) -> str:
    when = format_when(study.starts_at, language=context.language, tz=_tz(context), now=now)
    text = f"• {when} {kind_label(study.kind, context.language)} · {study.topic}"
    if row is not None:
        text += " — " + status_label(study, row, language=context.language, now=now)
    elif study.state == SessionState.CANCELLED:
        text += " — " + context._("cancelled")
    return text


def _short(context: BotContext, study: StudySession, now: datetime) -> str:
    when = format_when(study.starts_at, language=context.language, tz=_tz(context), now=now)
    return clip(f"{when} {study.topic}", 40)


# --- a member's view ----------------------------------------------------------------------


async def on_view(update: Update, context: BotContext) -> None:
    """One session as I see it, with what I can do now (answer, 签到, make-up)."""
    user = update.effective_user
    if user is None:
        return
    (session_id,) = callback_values(VIEW, update)
    now = context.services.clock.now()
    async with context.services.database.session_scope() as db:
        member = await members.member_by_telegram(db=db, telegram_user_id=user.id)
        study = await sessions.get_session(db=db, session_id=int(session_id))
        row = (
            await attendance.get_attendance(db=db, session_id=int(session_id), member_id=member.id)
            if member is not None and member.id is not None and study is not None
            else None
        )
    if study is None or row is None:
        await refuse(update, context, context._(NOT_INVITED))
        return
    status = status_label(study, row, language=context.language, now=now)
    text = html_lines(
        [
            session_card(study, language=context.language, tz=_tz(context), now=now),
            context._("Your status: {status}").format(status=status),
        ]
    )
    rows: list[list[InlineKeyboardButton]] = []
    if rsvp_refusal(study, now) is None:
        rows += [list(r) for r in rsvp_markup(_id(study.id), context.language).inline_keyboard]
    if window_state(study, now) == Window.OPEN and row.checked_in_at is None:
        rows.append([button(context._("Check in"), CHECKIN.encode(_id(study.id)))])
    if (
        row.outcome in (AttendanceOutcome.ABSENT, AttendanceOutcome.EXCUSED)
        and row.makeup_done_at is None
    ):
        rows.append([button(context._("I have studied it"), MAKEUP.encode(_id(row.id)))])
    await show(update, context, text, InlineKeyboardMarkup(rows) if rows else None)


# --- an officer's view --------------------------------------------------------------------


async def on_manage(update: Update, context: BotContext) -> None:
    """One session I organise: numbers at a glance and what I can do with it."""
    (session_id,) = callback_values(MANAGE, update)
    study = await officer_session(update, context, int(session_id), *ORGANISERS)
    if study is None:
        return
    _ = context._
    now = context.services.clock.now()
    async with context.services.database.session_scope() as db:
        counts = await attendance.attendance_counts(db=db, session_id=_id(study.id))
    summary = _(
        "Invited {invited} · will attend {attend} · on leave {leave} · not answered {none} · "
        "checked in {checked}"
    ).format(
        invited=counts.invited,
        attend=counts.attend,
        leave=counts.leave_pending + counts.leave_approved,
        none=counts.no_answer,
        checked=counts.checked_in,
    )
    sid = _id(study.id)
    rows: list[list[InlineKeyboardButton]] = []
    if study.state == SessionState.SCHEDULED and study.starts_at > now:
        rows.append(
            [
                button(_("✏️ Time"), EDIT.encode(sid, "time")),
                button(_("✏️ Place"), EDIT.encode(sid, "place")),
                button(_("✏️ Topic"), EDIT.encode(sid, "topic")),
                button(_("✏️ Length"), EDIT.encode(sid, "duration")),
            ]
        )
        rows.append([button(_("❌ Cancel the session"), CANCEL.encode(sid, "ask"))])
    rows.append([button(_("📋 Attendance"), REPORT.encode(sid))])
    if window_state(study, now) == Window.OPEN:
        rows[-1].append(button(_("Check-in code"), CODE.encode(sid)))
    if study.starts_at <= now and study.state != SessionState.CANCELLED:
        rows[-1].append(button(_("📝 Minutes"), MINUTES.encode(sid, "pick")))
    card = session_card(study, language=context.language, tz=_tz(context), now=now)
    await show(update, context, html_lines([card, summary]), InlineKeyboardMarkup(rows))


async def on_edit(update: Update, context: BotContext) -> None:
    """Ask for the new time, place or topic (typed), or length (buttons)."""
    session_id, field = callback_values(EDIT, update)
    study = await officer_session(update, context, int(session_id), Action.SCHEDULE_SESSION)
    if study is None or field not in FIELDS:
        return
    if study.state != SessionState.SCHEDULED:
        await refuse(update, context, context._(NOT_SCHEDULED))
        return
    sid = _id(study.id)
    if field == "duration":
        lengths = [
            button(
                context.n_("{n} minute", "{n} minutes", minutes).format(n=minutes),
                DURATION.encode(sid, minutes),
            )
            for minutes in DURATION_CHOICES
        ]
        back = [button(context._("Back"), MANAGE.encode(sid))]
        markup = InlineKeyboardMarkup([lengths, back])
        await show(update, context, context._("How long will it take?"), markup)
        return
    awaiting.expect(context, EDIT_FLOW, sid)
    if context.user_data is not None:
        context.user_data[FIELD_KEY] = field
    prompts = {
        "time": context._("Please type the new date and time, for example:\n{examples}").format(
            examples=examples(context)
        ),
        "place": context._("Please type the new place."),
        "topic": context._("Please type the new topic."),
    }
    await show(update, context, prompts[str(field)], cancel_keyboard(context))


async def on_edit_input(update: Update, context: BotContext) -> None:
    """The new value: checked, saved, and every invitee told."""
    message = update.effective_message
    user = update.effective_user
    state = awaiting.waiting(context, EDIT_FLOW)
    field = context.user_data.get(FIELD_KEY) if context.user_data is not None else None
    if message is None or user is None or state is None or field not in FIELDS:
        return
    text = (message.text or "").strip()
    services = context.services
    now = services.clock.now()
    changes: dict[str, Any] = {}
    if field == "time":
        moment = parse_when(text, now=now, tz=services.settings.tz)
        if moment is None or moment <= now:
            await message.reply_text(
                context._(
                    "I could not read that as a time in the future. Please type it like one "
                    "of these:\n{examples}"
                ).format(examples=examples(context)),
                reply_markup=cancel_keyboard(context),
            )
            return
        changes["starts_at"] = moment
    else:
        limit = MAX_PLACE if field == "place" else MAX_TOPIC
        template = context._("Please type it in at most {n} characters.")
        if not text:
            await message.reply_text(
                template.format(n=limit), reply_markup=cancel_keyboard(context)
            )
            return
        if len(text) > limit:
            await awaiting.refuse_too_long(
                message,
                context,
                template=template,
                limit=limit,
                count=len(text),
                markup=cancel_keyboard(context),
            )
            return
        changes[str(field)] = text
    awaiting.stop(context)
    answer = await _save_change(update, context, state.ref, changes)
    if answer is not None:
        await message.reply_text(answer)


async def on_duration(update: Update, context: BotContext) -> None:
    """A new length was tapped: saved, and every invitee told."""
    session_id, minutes = callback_values(DURATION, update)
    user = update.effective_user
    if user is None or minutes not in DURATION_CHOICES:
        await refuse(update, context, context._(STALE_BUTTON))
        return
    answer = await _save_change(update, context, int(session_id), {"duration_minutes": minutes})
    if answer is not None:
        await show(update, context, answer)


async def _save_change(
    update: Update, context: BotContext, session_id: int, changes: dict[str, Any]
) -> str | None:
    """Apply an officer's change (one use case: checked, saved, every invitee told); what
    to answer, or None after a refusal was shown."""
    services = context.services
    now = services.clock.now()

    async def act(db: AsyncSession, principal: Principal) -> StudySession:
        return await session_ops.change_as(
            db=db,
            actor=principal,
            session_id=session_id,
            changes=changes,
            settings=services.settings,
            now=now,
        )

    updated = await perform(update, context, act)
    if updated is None:
        return None
    services.relay.wake()
    card = session_card(updated, language=context.language, tz=_tz(context), now=now)
    return html_lines([context._("Saved. Everyone invited is told about the change."), "", card])


async def on_cancel(update: Update, context: BotContext) -> None:
    """Ask first; then cancel this occurrence, or the whole series from here on."""
    session_id, step = callback_values(CANCEL, update)
    if step == "ask":
        await _ask_cancel(update, context, int(session_id))
        return
    services = context.services
    now = services.clock.now()

    async def act(db: AsyncSession, principal: Principal) -> list[int]:
        return await session_ops.cancel_as(
            db=db,
            actor=principal,
            session_id=int(session_id),
            whole_series=step == "all",
            settings=services.settings,
            now=now,
        )

    cancelled = await perform(update, context, act)
    if cancelled is None:
        return
    services.relay.wake()
    await show(
        update,
        context,
        context.n_(
            "Cancelled {n} session. Everyone invited is told.",
            "Cancelled {n} sessions. Everyone invited is told.",
            len(cancelled),
        ).format(n=len(cancelled)),
    )


async def _ask_cancel(update: Update, context: BotContext, session_id: int) -> None:
    """Cancel this one, or all coming ones of its series? (Nothing is written yet.)"""
    study = await officer_session(update, context, session_id, Action.SCHEDULE_SESSION)
    if study is None:
        return
    if study.state != SessionState.SCHEDULED:
        await refuse(update, context, context._(NOT_SCHEDULED))
        return
    sid = _id(study.id)
    _ = context._
    rows = [[button(_("Yes, cancel it"), CANCEL.encode(sid, "one"))]]
    if study.series_id is not None:
        whole = _("Cancel all coming ones of this series")
        rows.append([button(whole, CANCEL.encode(sid, "all"))])
    rows.append([button(_("Back"), MANAGE.encode(sid))])
    text = _("Cancel this session? Everyone invited will be told.")
    await show(update, context, text, InlineKeyboardMarkup(rows))


def _tz(context: BotContext) -> ZoneInfo:
    return context.services.settings.tz


CALLBACKS: Final = (
    (VIEW, on_view),
    (MANAGE, on_manage),
    (EDIT, on_edit),
    (DURATION, on_duration),
    (CANCEL, on_cancel),
)
