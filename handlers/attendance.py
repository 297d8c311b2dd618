"""A member answers an invitation: 参加 / 请假 with a reason; the secretary approves or rejects;
make-up study is confirmed with one tap. Also the keyboards of every session message.

Every tap names a session or attendance row; the handler checks that the row belongs to
the person tapping (or that the officer may manage that session's org) before acting,
and conditional updates make a double tap or a replayed update change nothing twice.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardMarkup, Update

from bot import session_notify as notify
from bot.access import Action, allows, load_principal
from bot.context import BotContext, Services
from bot.dates import format_when
from bot.i18n import N_, gettext
from bot.session_duties import follow_the_roster
from bot.session_text import LEAVE_REASON_LABELS, leave_label, session_card
from bot.sessions import decision_refusal, rsvp_refusal
from handlers import awaiting
from handlers.guard import refuse
from handlers.profile import ProfileView, profile_section
from handlers.screens import button, callback_values
from handlers.session_access import NOT_ALLOWED
from handlers.session_codecs import CHECKIN, DECIDE, MAKEUP, REASON, RSVP
from storage import attendance, audit, members, orgs, sessions
from storage.models import Attendance, LeaveReason, LeaveState, StudySession

LEAVE_FLOW: Final = "leave"
REASONS: Final = (
    LeaveReason.SICK,
    LeaveReason.MIGRANT_WORK,
    LeaveReason.FARMING,
    LeaveReason.OTHER,
)
MAX_NOTE: Final = 200
NOT_INVITED: Final = N_("This session is not for you, so this button does nothing.")

log = logging.getLogger(__name__)


class SessionKeyboards:
    """The buttons under session messages (invitations, reminders, leave, make-up)."""

    def rsvp(self, session_id: int, language: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(
            [
                [
                    button(gettext(language, "Attend"), RSVP.encode(session_id, "yes")),
                    button(gettext(language, "Ask for leave"), RSVP.encode(session_id, "leave")),
                ]
            ]
        )

    def checkin(self, session_id: int, language: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(
            [[button(gettext(language, "Check in"), CHECKIN.encode(session_id))]]
        )

    def rsvp_and_checkin(self, session_id: int, language: str) -> InlineKeyboardMarkup:
        rows = [*self.rsvp(session_id, language).inline_keyboard]
        return InlineKeyboardMarkup([*rows, *self.checkin(session_id, language).inline_keyboard])

    def makeup(self, attendance_id: int, language: str) -> InlineKeyboardMarkup:
        label = gettext(language, "I have studied it")
        return InlineKeyboardMarkup([[button(label, MAKEUP.encode(attendance_id))]])

    def leave_decision(self, attendance_id: int, language: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(
            [
                [
                    button(gettext(language, "Approve"), DECIDE.encode(attendance_id, "ok")),
                    button(gettext(language, "Reject"), DECIDE.encode(attendance_id, "no")),
                ]
            ]
        )


BUTTONS: Final = SessionKeyboards()


async def follow_roster_change(services: Services, member_ids: Sequence[int] | None) -> None:
    """Members joined, registered, moved or left: bring coming sessions in step now.

    ``member_ids`` None: anyone may have changed (a roster import).

    Runs after the change committed and was confirmed to the user; the session_roster
    job does the same every minute, so a failure here is logged and only delays things.
    """
    try:
        async with services.database.session_scope() as session:
            queued = await follow_the_roster(
                session=session,
                settings=services.settings,
                buttons=BUTTONS,
                now=services.clock.now(),
                member_ids=member_ids,
            )
    except Exception:
        log.exception("bringing sessions in step with the roster failed; the job retries")
        return
    if queued:
        services.relay.wake()


async def _own_attendance(
    update: Update, context: BotContext, session_id: int
) -> tuple[StudySession, Attendance] | None:
    """The tapping member's row for this session, or a clear refusal (None)."""
    user = update.effective_user
    if user is None:
        return None
    async with context.services.database.session_scope() as session:
        member = await members.member_by_telegram(session=session, telegram_user_id=user.id)
        study = await sessions.get_session(session=session, session_id=session_id)
        row = None
        if member is not None and member.id is not None and study is not None:
            row = await attendance.get_attendance(
                session=session, session_id=session_id, member_id=member.id
            )
    if study is None or row is None:
        await refuse(update, context, context._(NOT_INVITED))
        return None
    return study, row


async def on_rsvp(update: Update, context: BotContext) -> None:
    """参加: record it once; 请假: offer the reasons."""
    query = update.callback_query
    if query is None:
        return
    session_id, answer = callback_values(RSVP, update)
    found = await _own_attendance(update, context, int(session_id))
    if found is None:
        return
    study, row = found
    now = context.services.clock.now()
    refusal = rsvp_refusal(study, now)
    if refusal is not None:
        await refuse(update, context, context._(refusal))
        return
    awaiting.stop(context)
    if answer == "leave":
        await _offer_reasons(update, context, study, row)
        return
    async with context.services.database.session_scope() as session:
        changed = await attendance.set_rsvp(session=session, attendance_id=_id(row.id), now=now)
    if not changed:
        await query.answer(context._("You have already said you will come."))
        return
    await query.answer(context._("Thank you!"))
    when = format_when(study.starts_at, language=context.language, tz=_tz(context), now=now)
    await context.bot.send_message(
        query.from_user.id,
        context._("✅ Noted: you will attend. See you on {when}.").format(when=when),
    )


async def _offer_reasons(
    update: Update, context: BotContext, study: StudySession, row: Attendance
) -> None:
    query = update.callback_query
    assert query is not None
    if row.leave_state in (LeaveState.PENDING, LeaveState.APPROVED):
        await query.answer(
            context._("You have already asked for leave: {leave}").format(
                leave=leave_label(
                    row.leave_reason, row.leave_note, row.leave_state, context.language
                )
            ),
            show_alert=True,
        )
        return
    await query.answer()
    labels = [
        button(context._(LEAVE_REASON_LABELS[reason]), REASON.encode(_id(study.id), index))
        for index, reason in enumerate(REASONS)
    ]
    await context.bot.send_message(
        query.from_user.id,
        context._("Why can you not come? Please tap a reason."),
        reply_markup=InlineKeyboardMarkup([labels[:2], labels[2:]]),
    )


async def on_reason(update: Update, context: BotContext) -> None:
    """A preset reason sends the request at once; 其他 asks for a few words first."""
    query = update.callback_query
    if query is None:
        return
    session_id, index = (int(value) for value in callback_values(REASON, update))
    found = await _own_attendance(update, context, session_id)
    if found is None or not 0 <= index < len(REASONS):
        return
    study, row = found
    refusal = rsvp_refusal(study, context.services.clock.now())
    if refusal is not None:
        await refuse(update, context, context._(refusal))
        return
    reason = REASONS[index]
    if reason == LeaveReason.OTHER:
        awaiting.expect(context, LEAVE_FLOW, session_id)
        await query.answer()
        await query.edit_message_text(context._("Please type the reason in a few words."))
        return
    await _send_leave_request(update, context, study, row, reason, None)


async def on_leave_note(update: Update, context: BotContext) -> None:
    """The words of a 其他 reason."""
    message = update.effective_message
    state = awaiting.waiting(context, LEAVE_FLOW)
    if message is None or state is None:
        return
    note = (message.text or "").strip()
    if not note or len(note) > MAX_NOTE:
        await message.reply_text(
            context._("Please type the reason in a few words (at most {n} characters).").format(
                n=MAX_NOTE
            )
        )
        return
    found = await _own_attendance(update, context, state.ref)
    awaiting.stop(context)
    if found is None:
        return
    study, row = found
    refusal = rsvp_refusal(study, context.services.clock.now())
    if refusal is not None:
        await message.reply_text(context._(refusal))
        return
    await _send_leave_request(update, context, study, row, LeaveReason.OTHER, note)


async def _send_leave_request(
    update: Update,
    context: BotContext,
    study: StudySession,
    row: Attendance,
    reason: LeaveReason,
    note: str | None,
) -> None:
    services = context.services
    now = services.clock.now()
    async with services.database.session_scope() as session:
        asked = await attendance.request_leave(
            session=session, attendance_id=_id(row.id), reason=reason, note=note, now=now
        )
        if asked:
            fresh = await attendance.get_attendance_by_id(
                session=session, attendance_id=_id(row.id)
            )
            member = await members.get_member(session=session, member_id=row.member_id)
            org = await orgs.get_org(session=session, org_id=study.org_id)
            assert fresh is not None
            assert member is not None
            assert org is not None
            await notify.queue_leave_request(
                session=session,
                study=study,
                org=org,
                attendance=fresh,
                member_name=member.name,
                settings=services.settings,
                buttons=BUTTONS,
                now=now,
            )
    if not asked:
        await refuse(update, context, context._("You have already asked for leave."))
        return
    services.relay.wake()
    text = context._("Your leave request ({reason}) was sent to the secretary.").format(
        reason=html.escape(note) if note else context._(LEAVE_REASON_LABELS[reason])
    )
    query = update.callback_query
    if query is not None:
        await query.answer()
        await query.edit_message_text(text)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(text)


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
    outcome: str | None = None
    summary = ""
    async with services.database.session_scope() as session:
        row = await attendance.get_attendance_by_id(
            session=session, attendance_id=int(attendance_id)
        )
        study = (
            await sessions.get_session(session=session, session_id=row.session_id) if row else None
        )
        org = await orgs.get_org(session=session, org_id=study.org_id) if study else None
        principal = await load_principal(session=session, telegram_user_id=user.id)
        if (
            row is None
            or study is None
            or org is None
            or not allows(principal, Action.MANAGE_ATTENDANCE, org.path)
        ):
            outcome = NOT_ALLOWED
        elif (refusal := decision_refusal(study)) is not None:
            outcome = refusal
        elif not await attendance.decide_leave(
            session=session,
            attendance_id=_id(row.id),
            approve=approve,
            decided_by=user.id,
            now=now,
        ):
            outcome = N_("This request was already decided.")
        else:
            entry = await audit.record(
                session=session,
                actor=user.id,
                action="session.leave.approve" if approve else "session.leave.reject",
                target_kind="attendance",
                target_id=row.id,
                org_id=org.id,
                detail={"session_id": study.id, "member_id": row.member_id},
                at=now,
            )
            person = await notify.queue_leave_decision(
                session=session,
                study=study,
                attendance_id=_id(row.id),
                settings=services.settings,
                buttons=BUTTONS,
                now=now,
                key=str(entry.id),
            )
            summary = _decided_text(context, study, person.name, approve, now)
    if outcome is not None:
        await refuse(update, context, context._(outcome))
        return
    services.relay.wake()
    await query.answer()
    await query.edit_message_text(summary)


def _decided_text(
    context: BotContext, study: StudySession, name: str, approve: bool, now: datetime
) -> str:
    verdict = (
        context._("✅ Leave approved: {name}")
        if approve
        else context._("❌ Leave not approved: {name}")
    ).format(name=html.escape(name))
    card = session_card(study, language=context.language, tz=_tz(context), now=now)
    return f"{verdict}\n{card}"


async def on_makeup(update: Update, context: BotContext) -> None:
    """我已学习: make-up study done, recorded once."""
    query = update.callback_query
    user = update.effective_user
    if query is None or user is None:
        return
    (attendance_id,) = callback_values(MAKEUP, update)
    now = context.services.clock.now()
    async with context.services.database.session_scope() as session:
        row = await attendance.get_attendance_by_id(
            session=session, attendance_id=int(attendance_id)
        )
        member = await members.member_by_telegram(session=session, telegram_user_id=user.id)
        mine = row is not None and member is not None and row.member_id == member.id
        done = mine and await attendance.mark_makeup_done(
            session=session, attendance_id=int(attendance_id), now=now
        )
    if not mine:
        await refuse(update, context, context._(NOT_INVITED))
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
        session=view.session, member_id=view.member.id, year=year, tz=view.tz
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
