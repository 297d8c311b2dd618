"""/attendance for officers (who is invited, coming, on leave, checked in, absent, made up),
marking members present from the roster (代签到, audited), and /minutes with photos.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

from bot.access import Action, Principal, load_principal, scope_roots
from bot.context import BotContext
from bot.dates import format_time, format_when, local_date
from bot.htmltext import html_lines
from bot.i18n import N_
from bot.periods import Period, period_from_token
from bot.session_checkin import Checkin, mark_present
from bot.session_ops import add_minutes
from bot.session_text import clip, kind_label, leave_label, names_line, session_card
from bot.sessions import checkin_opens_at
from handlers import awaiting
from handlers.awaiting import cancel_keyboard
from handlers.guard import STALE_BUTTON, refuse
from handlers.period_input import requested_period
from handlers.screens import button, callback_values, perform, show
from handlers.session_access import NOT_ALLOWED, officer_session
from handlers.session_codecs import LIST, MINUTES, PROXY, REPORT
from storage import attendance, sessions
from storage.models import (
    AttendanceOutcome,
    LeaveState,
    Rsvp,
    SessionState,
    StudySession,
)

MINUTES_FLOW: Final = "minutes"
PAGE: Final = 8
NAMES_SHOWN: Final = 40
RECENT: Final = timedelta(days=60)
VIEWERS: Final = (Action.MANAGE_ATTENDANCE, Action.VIEW_REPORTS)
NO_SESSIONS: Final = N_("There are no sessions from the last two months or coming up.")
ALL: Final = "all"
PERIOD_HELP: Final = N_(
    "I did not understand that period. Examples: /attendance 2026年3月, /attendance 本月, "
    "/attendance 上季度."
)


def _id(value: int | None) -> int:
    assert value is not None
    return value


async def _candidates(
    update: Update, context: BotContext, actions: tuple[Action, ...], *, started_only: bool
) -> list[StudySession] | None:
    """Recent and coming sessions inside the user's scope; None if the user has no scope."""
    user = update.effective_user
    if user is None:
        return None
    now = context.services.clock.now()
    async with context.services.database.session_scope() as db:
        principal = await load_principal(db=db, telegram_user_id=user.id)
        paths = sorted({root.org_path for a in actions for root in scope_roots(principal, a)})
        if not paths:
            return None
        found = await sessions.sessions_of_orgs(
            db=db,
            org_paths=paths,
            states=[SessionState.SCHEDULED, SessionState.CLOSED],
            since=now - RECENT,
            newest_first=True,
        )
    return [study for study in found if not started_only or study.starts_at <= now]


def _choice(
    context: BotContext, study: StudySession, now: datetime, org_name: str | None = None
) -> str:
    """ "3月10日 19:00 东风村党支部 · 支委会 · 学习党章" (the org when the list spans several)."""
    when = format_when(study.starts_at, language=context.language, tz=_tz(context), now=now)
    kind = kind_label(study.kind, context.language)
    where = f"{org_name} · " if org_name else ""
    return clip(f"{when} {where}{kind} · {study.topic}", 60)


async def _pick_or_open(
    update: Update,
    context: BotContext,
    found: list[StudySession] | None,
    encode: Callable[[int], str],
) -> StudySession | None:
    """One session: return it. Several: offer them as buttons. None: say why."""
    message = update.effective_message
    if found is None:
        await refuse(update, context, context._(NOT_ALLOWED))
        return None
    if len(found) == 1:
        return found[0]
    if message is None:
        return None
    if not found:
        await message.reply_text(context._(NO_SESSIONS))
        return None
    now = context.services.clock.now()
    rows = [[button(_choice(context, study, now), encode(_id(study.id)))] for study in found]
    await message.reply_text(context._("Which session?"), reply_markup=InlineKeyboardMarkup(rows))
    return None


# --- /attendance --------------------------------------------------------------------------


async def cmd_attendance(update: Update, context: BotContext) -> None:
    """The sessions of one's scope, past first, to see one's attendance (optionally of a
    period: ``/attendance 2026年3月``); a single session opens at once."""
    message = update.effective_message
    if message is None:
        return
    typed = " ".join(context.args or [])
    period = requested_period(context, typed) if typed else None
    if typed and period is None:
        await message.reply_text(context._(PERIOD_HELP))
        return
    await _session_list(update, context, period, 0, open_single=True)


async def on_list(update: Update, context: BotContext) -> None:
    """Another page of the list, or another period (the filter buttons)."""
    token, page = callback_values(LIST, update)
    period = None if token == ALL else period_from_token(str(token))
    if token != ALL and period is None:
        await refuse(update, context, context._(STALE_BUTTON))
        return
    await _session_list(update, context, period, int(page), open_single=False)


async def _session_list(
    update: Update, context: BotContext, period: Period | None, page: int, *, open_single: bool
) -> None:
    """One page of sessions with the branch on every button, page arrows and period filters."""
    user = update.effective_user
    if user is None:
        return
    now = context.services.clock.now()
    start, end = period.bounds(_tz(context)) if period is not None else (None, None)
    found: list[sessions.OfficerSession] = []
    total = 0
    async with context.services.database.session_scope() as db:
        principal = await load_principal(db=db, telegram_user_id=user.id)
        paths = sorted({root.org_path for a in VIEWERS for root in scope_roots(principal, a)})
        if paths:
            found, total = await sessions.officer_sessions(
                db=db,
                org_paths=paths,
                now=now,
                start=start,
                end=end,
                offset=max(page, 0) * PAGE,
                limit=PAGE,
            )
    if not paths:
        await refuse(update, context, context._(NOT_ALLOWED))
        return
    if open_single and total == 1 and period is None:
        await _show_report(update, context, found[0].study)
        return
    token = period.token if period is not None else ALL
    rows = [
        [
            button(
                _choice(context, item.study, now, item.org_name), REPORT.encode(_id(item.study.id))
            )
        ]
        for item in found
    ]
    nav = []
    if page > 0:
        nav.append(button("◀", LIST.encode(token, page - 1)))
    if (page + 1) * PAGE < total:
        nav.append(button("▶", LIST.encode(token, page + 1)))
    if nav:
        rows.append(nav)
    rows.append(_filters(context, token))
    pages = max(1, -(-total // PAGE))
    scope = period.label(context.language) if period is not None else context._("all sessions")
    text = context._("Sessions ({scope}), past first. Page {page} of {pages}.").format(
        scope=scope, page=min(page, pages - 1) + 1, pages=pages
    )
    if not total:
        text = context._("There are no sessions in {scope}.").format(scope=scope)
    await show(update, context, text, InlineKeyboardMarkup(rows))


def _filters(context: BotContext, current: str) -> list[InlineKeyboardButton]:
    """This month, last month, this quarter, this year, all: the period filter buttons."""
    today = local_date(context.services.clock.now(), _tz(context))
    month = Period.month_of(today)
    choices = [
        (month.token, context._("This month")),
        (month.previous().token, context._("Last month")),
        (Period.quarter_of(today).token, context._("This quarter")),
        (Period.year_of(today).token, context._("This year")),
        (ALL, context._("All")),
    ]
    return [
        button(f"• {label}" if token == current else label, LIST.encode(token, 0))
        for token, label in choices
    ]


async def on_report(update: Update, context: BotContext) -> None:
    """The attendance of a chosen session (also the 🔄 refresh)."""
    (session_id,) = callback_values(REPORT, update)
    study = await officer_session(update, context, int(session_id), *VIEWERS)
    if study is not None:
        await _show_report(update, context, study)


async def _show_report(update: Update, context: BotContext, study: StudySession) -> None:
    _ = context._
    now = context.services.clock.now()
    async with context.services.database.session_scope() as db:
        counts = await attendance.attendance_counts(db=db, session_id=_id(study.id))
        people = await attendance.invitees(db=db, session_id=_id(study.id))

    def names(chosen: list[str]) -> str:
        shown = names_line(chosen[:NAMES_SHOWN], context.language)
        more = len(chosen) - NAMES_SHOWN
        return shown + (_(" and {n} more").format(n=more) if more > 0 else "")

    on_leave = [
        f"{p.name} {leave_label(p.leave_reason, p.leave_note, p.leave_state, context.language)}"
        for p in people
        if p.leave_state in (LeaveState.PENDING, LeaveState.APPROVED)
    ]
    lines = [
        session_card(study, language=context.language, tz=_tz(context), now=now),
        "",
        _("Invited: {n}").format(n=counts.invited),
        _("Will attend ({n}): {names}").format(
            n=counts.attend, names=names([p.name for p in people if p.rsvp == Rsvp.ATTEND])
        ),
        _("On leave ({n}): {names}").format(
            n=counts.leave_pending + counts.leave_approved, names=names(on_leave)
        ),
        _("Not answered ({n}): {names}").format(
            n=counts.no_answer, names=names([p.name for p in people if p.rsvp == Rsvp.NONE])
        ),
        _("Checked in ({n}): {names}").format(
            n=counts.checked_in, names=names([p.name for p in people if p.checked_in])
        ),
        _("Absent ({n}): {names}").format(
            n=counts.absent,
            names=names([p.name for p in people if p.outcome == AttendanceOutcome.ABSENT]),
        ),
        _("Made up ({n}): {names}").format(
            n=counts.made_up, names=names([p.name for p in people if p.makeup_done])
        ),
    ]
    rows = [[button(_("🔄 Refresh"), REPORT.encode(_id(study.id)))]]
    if study.state != SessionState.CANCELLED and now >= checkin_opens_at(study):
        rows[0].append(button(_("Mark from the roster"), PROXY.encode(_id(study.id), 0, 0)))
    await show(update, context, html_lines(lines), InlineKeyboardMarkup(rows))


# --- marking from the roster --------------------------------------------------------------


async def on_proxy(update: Update, context: BotContext) -> None:
    """The roster of who is not checked in; a tap marks that person present (audited)."""
    query = update.callback_query
    user = update.effective_user
    if query is None or user is None:
        return
    session_id, member_id, page = (int(v) for v in callback_values(PROXY, update))
    study = await officer_session(update, context, session_id, Action.MANAGE_ATTENDANCE)
    if study is None:
        return
    now = context.services.clock.now()
    if study.state == SessionState.CANCELLED:
        await refuse(update, context, context._("This session has been cancelled."))
        return
    if now < checkin_opens_at(study):
        await refuse(update, context, _opens_at(context, study))
        return
    toast = None
    if member_id:
        toast = await _mark(update, context, session_id, member_id, now)
        if toast is None:
            return
    await _roster_screen(update, context, study, page, toast)


def _opens_at(context: BotContext, study: StudySession) -> str:
    return context._("Check-in opens at {time}.").format(
        time=format_time(checkin_opens_at(study), tz=_tz(context))
    )


async def _mark(
    update: Update, context: BotContext, session_id: int, member_id: int, now: datetime
) -> str | None:
    """Mark one invitee present (one use case, one transaction); the toast to show, or
    None after a refusal."""
    user = update.effective_user
    assert user is not None
    async with context.services.database.session_scope() as db:
        outcome = await mark_present(
            db=db, actor=user.id, session_id=session_id, member_id=member_id, now=now
        )
    refusals = {
        Checkin.LOCKED: context._(NOT_ALLOWED),
        Checkin.CANCELLED: context._("This session has been cancelled."),
        Checkin.NOT_INVITED: context._("This person is not invited to this session."),
    }
    if outcome.result in refusals:
        await refuse(update, context, refusals[outcome.result])
        return None
    if outcome.result == Checkin.NOT_YET and outcome.study is not None:
        await refuse(update, context, _opens_at(context, outcome.study))
        return None
    if outcome.result == Checkin.ALREADY:
        return context._("{name} is already checked in.").format(name=outcome.name)
    return context._("Marked present: {name}").format(name=outcome.name)


async def _roster_screen(
    update: Update, context: BotContext, study: StudySession, page: int, toast: str | None
) -> None:
    query = update.callback_query
    assert query is not None
    async with context.services.database.session_scope() as db:
        people = [
            p
            for p in await attendance.invitees(db=db, session_id=_id(study.id))
            if not p.checked_in
        ]
    pages = max(1, -(-len(people) // PAGE))
    page = min(max(page, 0), pages - 1)
    shown = people[page * PAGE : (page + 1) * PAGE]
    rows: list[list[InlineKeyboardButton]] = [
        [button(f"☐ {p.name}", PROXY.encode(_id(study.id), p.member_id, page))] for p in shown
    ]
    nav = []
    if page > 0:
        nav.append(button("◀", PROXY.encode(_id(study.id), 0, page - 1)))
    if page + 1 < pages:
        nav.append(button("▶", PROXY.encode(_id(study.id), 0, page + 1)))
    if nav:
        rows.append(nav)
    rows.append([button(context._("Back to attendance"), REPORT.encode(_id(study.id)))])
    text = context._("Tap a name to mark that person present ({topic}).").format(topic=study.topic)
    if not people:
        text = context._("Everyone invited is checked in.")
    await query.answer(toast)
    markup = InlineKeyboardMarkup(rows)
    if isinstance(query.message, Message) and query.message.text is not None:
        await query.edit_message_text(text, reply_markup=markup, parse_mode=None)
    else:  # from the check-in photo: keep the code on screen, list below it
        await context.bot.send_message(query.from_user.id, text, reply_markup=markup)


# --- /minutes -----------------------------------------------------------------------------


async def cmd_minutes(update: Update, context: BotContext) -> None:
    """Pick a session that has taken place and record its minutes."""
    found = await _candidates(update, context, (Action.MANAGE_ATTENDANCE,), started_only=True)
    study = await _pick_or_open(update, context, found, lambda sid: MINUTES.encode(sid, "pick"))
    if study is not None:
        await _start_minutes(update, context, study)


async def on_minutes(update: Update, context: BotContext) -> None:
    """Choose the session (pick) or finish (done)."""
    session_id, step = callback_values(MINUTES, update)
    study = await officer_session(update, context, int(session_id), Action.MANAGE_ATTENDANCE)
    if study is None:
        return
    if step == "pick":
        await _start_minutes(update, context, study)
        return
    awaiting.stop(context)
    photos = len(study.minutes_photo_ids or [])
    chars = len(study.minutes_text or "")
    await show(
        update,
        context,
        context._("Minutes of {topic} saved: {chars} characters of text, {photos} photos.").format(
            topic=study.topic, chars=chars, photos=photos
        ),
    )


async def _start_minutes(update: Update, context: BotContext, study: StudySession) -> None:
    if study.state == SessionState.CANCELLED:
        await refuse(update, context, context._("This session has been cancelled."))
        return
    if study.starts_at > context.services.clock.now():
        await refuse(update, context, context._("This session has not taken place yet."))
        return
    awaiting.expect(context, MINUTES_FLOW, _id(study.id))
    await show(
        update,
        context,
        context._(
            "Send the minutes of {topic} as text, and photos if you have them. "
            "Tap Done when finished."
        ).format(topic=study.topic),
        _done(context, study),
    )


def _done(context: BotContext, study: StudySession) -> InlineKeyboardMarkup:
    """完成, and 取消 (what was sent so far stays saved)."""
    done = [button(context._("Done"), MINUTES.encode(_id(study.id), "done"))]
    return InlineKeyboardMarkup([done, *cancel_keyboard(context).inline_keyboard])


async def on_minutes_input(update: Update, context: BotContext) -> None:
    """A paragraph or a photo of the minutes; the officer's right is checked again."""
    message = update.effective_message
    user = update.effective_user
    state = awaiting.waiting(context, MINUTES_FLOW)
    if message is None or user is None or state is None:
        return
    text = (message.text or message.caption or "").strip()
    photo = message.photo[-1].file_id if message.photo else None
    if not text and photo is None:
        await message.reply_text(context._("Please send text or a photo."))
        return
    now = context.services.clock.now()

    async def act(db: AsyncSession, principal: Principal) -> StudySession:
        return await add_minutes(
            db=db,
            principal=principal,
            session_id=state.ref,
            text=text or None,
            photo_id=photo,
            now=now,
        )

    study = await perform(update, context, act)
    if study is None:
        awaiting.stop(context)
        return
    await message.reply_text(
        context._("Saved. Send more, or tap Done."), reply_markup=_done(context, study)
    )


def _tz(context: BotContext) -> ZoneInfo:
    return context.services.settings.tz


CALLBACKS: Final = (
    (REPORT, on_report),
    (PROXY, on_proxy),
    (MINUTES, on_minutes),
    (LIST, on_list),
)
