"""Who is told what about a session, each in their language, through the outbox.

Every function queues delivery rows inside the caller's transaction, with a dedupe key
that names the event and the person, so a replay, a double tap or a restart in the
middle never sends anything twice. The relay does the sending.

The keyboards travel in the rows' payloads and come from bot/session_buttons.py, the
codecs the answering handlers route on.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.dates import format_when
from bot.htmltext import html_lines
from bot.i18n import N_, gettext, ngettext
from bot.session_buttons import (
    checkin_markup,
    leave_decision_markup,
    makeup_markup,
    rsvp_and_checkin_markup,
    rsvp_markup,
)
from bot.session_text import (
    LEAVE_REASON_LABELS,
    cadence_label,
    clip,
    kind_label,
    names_line,
    payload,
    period_label,
    session_card,
)
from bot.sessions import CADENCE_MONTHS, OFFICER_ROLES, Window, rule_parts, window_state
from bot.settings import Settings
from storage import attendance, deliveries, roles
from storage.deliveries import Outgoing
from storage.models import (
    AttachmentKind,
    Attendance,
    AttendanceOutcome,
    DeliveryKind,
    LeaveReason,
    LeaveState,
    OrgUnit,
    Rsvp,
    SessionKind,
    SessionReminder,
    SessionSeries,
    SessionState,
    StudySession,
)
from storage.roles import Holder

__all__ = [
    "Silence",
    "change_lines",
    "officers",
    "queue_absence_warnings",
    "queue_change",
    "queue_checkin_open",
    "queue_digest",
    "queue_invitations",
    "queue_leave_decision",
    "queue_leave_request",
    "queue_makeup",
    "queue_reminder",
    "queue_series_invitation",
    "queue_silence",
]

_MATERIALS_IN_CAPTION = 600
_MATERIALS_IN_TEXT = 3000


async def officers(*, db: AsyncSession, org: OrgUnit) -> list[Holder]:
    """The people who answer for an org (a branch's secretaries, a township's organisers)."""
    assert org.id is not None
    wanted = OFFICER_ROLES.get(org.kind, ())
    if not wanted:
        return []
    return await roles.holders(db=db, org_id=org.id, roles=wanted)


def _id(value: int | None) -> int:
    assert value is not None
    return value


async def _queue(
    db: AsyncSession,
    kind: DeliveryKind,
    items: Sequence[Outgoing],
    now: datetime,
    study: StudySession | None = None,
) -> int:
    """Queue the messages in one statement; returns how many were new (a replayed key
    queues nothing)."""
    return await deliveries.enqueue_many(
        db=db,
        kind=kind,
        items=items,
        due_at=now,
        session_id=study.id if study is not None else None,
    )


async def queue_invitations(
    *,
    db: AsyncSession,
    study: StudySession,
    settings: Settings,
    now: datetime,
    only: Collection[int] | None = None,
) -> int:
    """The invitation with 参加 / 请假 to every invitee (or the ``only`` member ids) on Telegram.

    Each queued invitation is noted on the attendance row, so a member who is not on
    Telegram yet is invited later, once, when they register.
    """
    items = []
    for person in await attendance.invitees(db=db, session_id=_id(study.id)):
        if person.telegram_user_id is None or (only is not None and person.member_id not in only):
            continue
        language = person.language or settings.language
        text = html_lines(
            [
                session_card(
                    study,
                    language=language,
                    tz=settings.tz,
                    now=now,
                    heading=gettext(language, "📅 You are invited:"),
                ),
                *_materials_lines(study, language),
                "",
                gettext(language, "Will you come? Please tap a button."),
            ]
        )
        items.append(
            Outgoing(
                person.telegram_user_id,
                payload(text, markup=rsvp_markup(_id(study.id), language)),
                f"session-invite:{study.id}:{person.member_id}",
                person.member_id,
            )
        )
    queued = await _queue(db, DeliveryKind.SESSION_INVITATION, items, now, study)
    await attendance.mark_invited(
        db=db,
        session_id=_id(study.id),
        member_ids=[item.member_id for item in items if item.member_id is not None],
        now=now,
    )
    return queued


_SERIES_HEADING = {
    "weekly": N_("📅 You are invited to a session every week:"),
    "monthly": N_("📅 You are invited to a session every month:"),
    "quarterly": N_("📅 You are invited to a session every three months:"),
}


async def queue_series_invitation(
    *,
    db: AsyncSession,
    series: SessionSeries,
    studies: Sequence[StudySession],
    dates: Sequence[datetime],
    settings: Settings,
    now: datetime,
) -> int:
    """ONE invitation for a new series: the first session, the dates ahead, and 参加 /
    请假 for the first one (reminders ask again before each of the others).

    Every occurrence already created counts as invited, so none sends its own.
    """
    first = studies[0]
    repeat = rule_parts(series.rule)[0]
    items = []
    for person in await attendance.invitees(db=db, session_id=_id(first.id)):
        if person.telegram_user_id is None:
            continue
        language = person.language or settings.language
        listed = [
            format_when(moment, language=language, tz=settings.tz, now=now) for moment in dates
        ]
        text = html_lines(
            [
                session_card(
                    first,
                    language=language,
                    tz=settings.tz,
                    now=now,
                    heading=gettext(language, _SERIES_HEADING[repeat.value]),
                ),
                *_materials_lines(first, language),
                gettext(language, "Dates: {dates}").format(dates=names_line(listed, language)),
                "",
                gettext(language, "Will you come to the first one? Please tap a button."),
            ]
        )
        items.append(
            Outgoing(
                person.telegram_user_id,
                payload(text, markup=rsvp_markup(_id(first.id), language)),
                f"series-invite:{series.id}:{person.member_id}",
                person.member_id,
            )
        )
    queued = await _queue(db, DeliveryKind.SESSION_INVITATION, items, now, first)
    told = [item.member_id for item in items if item.member_id is not None]
    for study in studies:
        await attendance.mark_invited(db=db, session_id=_id(study.id), member_ids=told, now=now)
    return queued


def _materials_lines(study: StudySession, language: str) -> list[str]:
    lines = []
    if study.materials_text:
        text = clip(study.materials_text, _MATERIALS_IN_TEXT)
        lines.append(gettext(language, "Materials: {text}").format(text=text))
    if study.materials_file_id:
        lines.append(gettext(language, "The materials file will come with the make-up study."))
    return lines


_CHANGE_LINES = {
    "starts_at": N_("Time: {old} → {new}"),
    "place": N_("Place: {old} → {new}"),
    "topic": N_("Topic: {old} → {new}"),
    "duration_minutes": N_("Length: {old} → {new}"),
}


def _change_value(field: str, value: Any, language: str, settings: Settings, now: datetime) -> str:
    if field == "starts_at":
        return format_when(value, language=language, tz=settings.tz, now=now)
    if field == "duration_minutes":
        return ngettext(language, "{n} minute", "{n} minutes", value).format(n=value)
    return str(value)


def change_lines(
    before: Mapping[str, Any],
    study: StudySession,
    language: str,
    settings: Settings,
    now: datetime,
) -> list[str]:
    """ "时间：3月5日（周四）19:30 → 3月7日（周六）09:00": what changed, old → new."""
    lines = []
    for field, pattern in _CHANGE_LINES.items():
        if field in before and before[field] != getattr(study, field):
            lines.append(
                gettext(language, pattern).format(
                    old=_change_value(field, before[field], language, settings, now),
                    new=_change_value(field, getattr(study, field), language, settings, now),
                )
            )
    return lines


async def queue_change(
    *,
    db: AsyncSession,
    study: StudySession,
    settings: Settings,
    now: datetime,
    key: str,
    before: Mapping[str, Any] | None = None,
) -> int:
    """Tell every invitee that the session moved, changed, or was cancelled.

    ``before`` holds the changed fields' old values, so the notice says old → new.
    ``key`` names this change (e.g. the audit row's id), so each change is told once.
    """
    if study.state == SessionState.CANCELLED:
        heading = N_("❌ This session is cancelled:")
    else:
        heading = N_("✏️ This session has changed:")
    items = []
    for person in await attendance.invitees(db=db, session_id=_id(study.id)):
        if person.telegram_user_id is None:
            continue
        language = person.language or settings.language
        changed = change_lines(before or {}, study, language, settings, now)
        card = session_card(study, language=language, tz=settings.tz, now=now)
        text = html_lines([gettext(language, heading), *changed, *([""] if changed else []), card])
        items.append(
            Outgoing(
                person.telegram_user_id,
                payload(text),
                f"session-change:{study.id}:{key}:{person.member_id}",
                person.member_id,
            )
        )
    return await _queue(db, DeliveryKind.SESSION_INVITATION, items, now, study)


async def queue_reminder(
    *,
    db: AsyncSession,
    reminder: SessionReminder,
    study: StudySession,
    settings: Settings,
    now: datetime,
) -> int:
    """One reminder to each invitee: "see you there" if they said yes, else "please answer".

    Members on (requested or approved) leave are not reminded. Once check-in is open the
    reminder carries 签到 too (unless they are in already).
    """
    checkin_open = window_state(study, now) == Window.OPEN
    items = []
    moment = int(reminder.due_at.timestamp())
    for person in await attendance.invitees(db=db, session_id=_id(study.id)):
        if person.telegram_user_id is None or person.leave_state in (
            LeaveState.PENDING,
            LeaveState.APPROVED,
        ):
            continue
        language = person.language or settings.language
        card = session_card(
            study,
            language=language,
            tz=settings.tz,
            now=now,
            heading=gettext(language, "⏰ Reminder:"),
        )
        can_check_in = checkin_open and not person.checked_in
        if person.rsvp == Rsvp.ATTEND:
            content = payload(
                card + "\n\n" + gettext(language, "See you there!"),
                markup=checkin_markup(_id(study.id), language) if can_check_in else None,
            )
        else:
            content = payload(
                card + "\n\n" + gettext(language, "Will you come? Please tap a button."),
                markup=(rsvp_and_checkin_markup if can_check_in else rsvp_markup)(
                    _id(study.id), language
                ),
            )
        items.append(
            Outgoing(
                person.telegram_user_id,
                content,
                f"reminder:{reminder.id}:{moment}:{person.member_id}",
                person.member_id,
            )
        )
    return await _queue(db, DeliveryKind.SESSION_REMINDER, items, now, study)


async def queue_checkin_open(
    *,
    db: AsyncSession,
    study: StudySession,
    settings: Settings,
    now: datetime,
) -> int:
    """Check-in has opened: 签到 to every invitee who is not in yet, once each.

    Not to those on (requested or approved) leave, nor to the organiser, who runs the
    check-in and counts as present. The key names the session and the member, so running
    again (every minute, or after a restart) queues nothing twice.
    """
    items = []
    for person in await attendance.invitees(db=db, session_id=_id(study.id)):
        if (
            person.telegram_user_id is None
            or person.checked_in
            or person.telegram_user_id == study.created_by
            or person.leave_state in (LeaveState.PENDING, LeaveState.APPROVED)
        ):
            continue
        language = person.language or settings.language
        card = session_card(
            study,
            language=language,
            tz=settings.tz,
            now=now,
            heading=gettext(language, "📍 Check-in is open:"),
        )
        hint = gettext(
            language, 'Tap "Check in", then type the number on the secretary\'s screen.'
        )
        items.append(
            Outgoing(
                person.telegram_user_id,
                payload(card + "\n\n" + hint, markup=checkin_markup(_id(study.id), language)),
                f"checkin-open:{study.id}:{person.member_id}",
                person.member_id,
            )
        )
    return await _queue(db, DeliveryKind.SESSION_REMINDER, items, now, study)


async def queue_leave_request(
    *,
    db: AsyncSession,
    study: StudySession,
    org: OrgUnit,
    attendance: Attendance,
    member_name: str,
    settings: Settings,
    now: datetime,
) -> int:
    """Ask the org's officers to approve or reject a leave request."""
    reason_key = LEAVE_REASON_LABELS[attendance.leave_reason or LeaveReason.OTHER]
    items = []
    for officer in await officers(db=db, org=org):
        language = officer.language
        reason = gettext(language, reason_key)
        if attendance.leave_note:  # 其他: the member's own words say it best
            reason = attendance.leave_note
        text = html_lines(
            [
                gettext(language, "🙋 {name} asks for leave. Reason: {reason}").format(
                    name=member_name, reason=reason
                ),
                session_card(study, language=language, tz=settings.tz, now=now),
            ]
        )
        items.append(
            Outgoing(
                officer.telegram_user_id,
                payload(text, markup=leave_decision_markup(_id(attendance.id), language)),
                f"leave-request:{attendance.id}:{attendance.updated_at.timestamp():.3f}:"
                f"{officer.telegram_user_id}",
            )
        )
    return await _queue(db, DeliveryKind.OTHER, items, now, study)


async def queue_leave_decision(
    *,
    db: AsyncSession,
    study: StudySession,
    attendance_id: int,
    settings: Settings,
    now: datetime,
    key: str,
) -> attendance.Invitee:
    """Tell the member whether their leave was approved (rejected: please come).

    Returns the member as invited, so the caller can name them.
    """
    person = next(
        p
        for p in await attendance.invitees(db=db, session_id=_id(study.id))
        if p.attendance_id == attendance_id
    )
    if person.telegram_user_id is None:
        return person
    language = person.language or settings.language
    if person.leave_state == LeaveState.APPROVED:
        heading = gettext(
            language, "✅ Your leave was approved. Please do the make-up study afterwards."
        )
        markup = None
    else:
        heading = gettext(language, "Your leave was not approved. Please come if you can.")
        markup = rsvp_markup(_id(study.id), language)
    text = html_lines([heading, session_card(study, language=language, tz=settings.tz, now=now)])
    item = Outgoing(
        person.telegram_user_id,
        payload(text, markup=markup),
        f"leave-decision:{attendance_id}:{key}",
        person.member_id,
    )
    await _queue(db, DeliveryKind.OTHER, [item], now, study)
    return person


async def queue_makeup(
    *,
    db: AsyncSession,
    study: StudySession,
    settings: Settings,
    now: datetime,
) -> int:
    """Send the materials to everyone absent (excused or not) as make-up study (补学)."""
    items, sent = [], []
    for person in await attendance.invitees(db=db, session_id=_id(study.id)):
        if person.outcome not in (AttendanceOutcome.ABSENT, AttendanceOutcome.EXCUSED):
            continue
        if person.telegram_user_id is None or person.makeup_sent:
            continue
        language = person.language or settings.language
        items.append(
            Outgoing(
                person.telegram_user_id,
                _makeup_payload(study, language, settings, person.attendance_id, now),
                f"makeup:{person.attendance_id}",
                person.member_id,
            )
        )
        sent.append(person.attendance_id)
    await attendance.mark_makeup_sent(db=db, attendance_ids=sent, now=now)
    return await _queue(db, DeliveryKind.MAKEUP, items, now, study)


def _makeup_payload(
    study: StudySession,
    language: str,
    settings: Settings,
    attendance_id: int,
    now: datetime,
) -> dict[str, Any]:
    lines = [
        session_card(
            study,
            language=language,
            tz=settings.tz,
            now=now,
            heading=gettext(language, "📖 Make-up study for a session you missed:"),
        )
    ]
    limit = _MATERIALS_IN_CAPTION if study.materials_file_id else _MATERIALS_IN_TEXT
    if study.materials_text:
        lines.append(clip(study.materials_text, limit))
    else:
        lines.append(gettext(language, "Please study the topic above."))
    lines.append(gettext(language, "When you have studied it, tap the button."))
    markup = makeup_markup(attendance_id, language)
    file_id = study.materials_file_id
    photo = file_id if study.materials_file_kind == AttachmentKind.PHOTO else None
    document = file_id if study.materials_file_kind == AttachmentKind.DOCUMENT else None
    return payload(html_lines(lines), markup=markup, photo=photo, document=document)


async def queue_digest(
    *, db: AsyncSession, study: StudySession, org: OrgUnit, settings: Settings, now: datetime
) -> int:
    """The evening before: tell the officers who has not answered yet."""
    waiting = [
        person.name
        for person in await attendance.invitees(db=db, session_id=_id(study.id))
        if person.rsvp == Rsvp.NONE
    ]
    items = []
    for officer in await officers(db=db, org=org):
        language = officer.language
        card = session_card(
            study,
            language=language,
            tz=settings.tz,
            now=now,
            heading=gettext(language, "🌙 Tomorrow:"),
        )
        if waiting:
            line = gettext(language, "Not answered yet ({n}): {names}").format(
                n=len(waiting), names=names_line(waiting, language)
            )
        else:
            line = gettext(language, "Everyone has answered.")
        items.append(
            Outgoing(
                officer.telegram_user_id,
                payload(card + "\n\n" + line),
                f"digest:{study.id}:{officer.telegram_user_id}",
            )
        )
    return await _queue(db, DeliveryKind.OTHER, items, now, study)


async def queue_absence_warnings(
    *,
    db: AsyncSession,
    study: StudySession,
    org: OrgUnit,
    member_ids: Sequence[int],
    streak: int,
    settings: Settings,
    now: datetime,
) -> int:
    """Three absences in a row: tell the member and the officers."""
    if not member_ids:
        return 0
    wanted = set(member_ids)
    people = [
        person
        for person in await attendance.invitees(db=db, session_id=_id(study.id))
        if person.member_id in wanted
    ]
    items = []
    for person in people:
        if person.telegram_user_id is not None:
            language = person.language or settings.language
            text = gettext(
                language,
                "⚠️ You have missed {n} sessions in a row. Please come to the next one, "
                "or ask for leave if you cannot.",
            ).format(n=streak)
            items.append(
                Outgoing(
                    person.telegram_user_id,
                    payload(text),
                    f"absences:{study.id}:{person.member_id}:member",
                    person.member_id,
                )
            )
    for officer in await officers(db=db, org=org):
        language = officer.language
        text = gettext(
            language, "⚠️ Missed {n} sessions in a row: {names}. Please talk with them."
        ).format(n=streak, names=names_line([p.name for p in people], language))
        items.append(
            Outgoing(
                officer.telegram_user_id,
                payload(text),
                f"absences:{study.id}:officer:{officer.telegram_user_id}",
            )
        )
    return await _queue(db, DeliveryKind.WARNING, items, now, study)


@dataclass(frozen=True, slots=True)
class Silence:
    """One required kind an org has not held in a period."""

    org_name: str
    kind: SessionKind
    period_start: date


_SILENCE_HEADING = {
    1: N_("⚠️ These required sessions have not been held:"),
    2: N_("⚠️ These required sessions have not been held, and the branch was told a week ago:"),
    3: N_(
        "⚠️ These required sessions have still not been held, although the branch and the "
        "level above were told:"
    ),
}
_SILENCE_FOOTER = {
    1: N_("Please schedule them with /newsession."),
    2: N_("Please follow up with them."),
    3: N_("Please follow up with them."),
}


async def queue_silence(
    *,
    db: AsyncSession,
    level: int,
    tell: OrgUnit,
    items: Sequence[Silence],
    key: str,
    settings: Settings,
    now: datetime,
) -> int:
    """One step of the silent-branch ladder: one message to each officer of ``tell``.

    ``key`` names this step (the escalation rows it covers), so it is told once.
    """
    queued = []
    for officer in await officers(db=db, org=tell):
        language = officer.language
        lines = [gettext(language, _SILENCE_HEADING[level])]
        for item in items:
            months = CADENCE_MONTHS[item.kind] or 12
            lines.append(
                gettext(language, "• {org}: {kind}, {period} (required {cadence})").format(
                    org=item.org_name,
                    kind=kind_label(item.kind, language),
                    period=period_label(months, item.period_start, language),
                    cadence=cadence_label(months, language),
                )
            )
        lines.append(gettext(language, _SILENCE_FOOTER[level]))
        queued.append(
            Outgoing(
                officer.telegram_user_id,
                payload(html_lines(lines)),
                f"silence:{level}:{key}:{officer.telegram_user_id}",
            )
        )
    return await _queue(db, DeliveryKind.WARNING, queued, now)
