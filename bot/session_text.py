"""What session messages say, in the reader's language (HTML, user text escaped).

Handlers answer the person who acted with these texts and jobs queue them for many
people, so both render here: one wording per message, whoever sends it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.dates import format_when
from bot.htmltext import Markup, bold, html_lines, payload_html
from bot.i18n import N_, gettext, ngettext
from bot.sessions import KIND_LABELS, checkin_closes_at
from storage.models import (
    Attendance,
    AttendanceOutcome,
    LeaveReason,
    LeaveState,
    Rsvp,
    SessionKind,
    SessionState,
    StudySession,
)

__all__ = [
    "LEAVE_REASON_LABELS",
    "cadence_label",
    "clip",
    "kind_label",
    "leave_label",
    "names_line",
    "payload",
    "period_label",
    "session_card",
    "status_label",
]

LEAVE_REASON_LABELS: dict[LeaveReason, str] = {
    LeaveReason.SICK: N_("Sick"),
    LeaveReason.MIGRANT_WORK: N_("Working away"),
    LeaveReason.FARMING: N_("Farm work"),
    LeaveReason.OTHER: N_("Other"),
}


def kind_label(kind: SessionKind, language: str) -> str:
    """ "支委会" / "Branch committee meeting"."""
    return gettext(language, KIND_LABELS[kind])


def session_card(
    study: StudySession, *, language: str, tz: ZoneInfo, now: datetime, heading: str = ""
) -> str:
    """The block every session message starts with: kind, topic, time, length, place."""
    _ = lambda message: gettext(language, message)  # noqa: E731
    lines = []
    if heading:
        lines.append(heading)
    lines.append(bold(study.topic))
    lines.append(_("Activity: {kind}").format(kind=kind_label(study.kind, language)))
    when = format_when(study.starts_at, language=language, tz=tz, now=now)
    length = ngettext(language, "{n} minute", "{n} minutes", study.duration_minutes).format(
        n=study.duration_minutes
    )
    lines.append(_("Time: {when} ({length})").format(when=when, length=length))
    lines.append(_("Place: {place}").format(place=study.place))
    if study.state == SessionState.CANCELLED:
        lines.append(Markup(_("<b>Cancelled</b>")))
    return html_lines(lines)


def leave_label(
    reason: LeaveReason | None, note: str | None, state: LeaveState | None, language: str
) -> str:
    """ "生病（待批）" — the reason (the member's own words for 其他) and the decision."""
    said = gettext(language, LEAVE_REASON_LABELS[reason or LeaveReason.OTHER])
    if reason == LeaveReason.OTHER and note:
        said = note
    pattern = {
        LeaveState.PENDING: N_("{reason} (waiting for approval)"),
        LeaveState.APPROVED: N_("{reason} (approved)"),
        LeaveState.REJECTED: N_("{reason} (not approved)"),
    }[state or LeaveState.PENDING]
    return gettext(language, pattern).format(reason=said)


def status_label(
    study: StudySession, attendance: Attendance, *, language: str, now: datetime
) -> str:
    """Where the member stands for one session, in a few words."""
    _ = lambda message: gettext(language, message)  # noqa: E731
    if study.state == SessionState.CANCELLED:
        return _("cancelled")
    if attendance.outcome == AttendanceOutcome.PRESENT or attendance.checked_in_at is not None:
        return _("checked in")
    if attendance.outcome in (AttendanceOutcome.ABSENT, AttendanceOutcome.EXCUSED):
        base = _("absent") if attendance.outcome == AttendanceOutcome.ABSENT else _("on leave")
        if attendance.makeup_done_at is not None:
            return _("{status}, make-up study done").format(status=base)
        if attendance.makeup_sent_at is not None:
            return _("{status}, make-up study to do").format(status=base)
        return base
    if attendance.leave_state is not None and attendance.leave_state != LeaveState.REJECTED:
        leave = leave_label(
            attendance.leave_reason, attendance.leave_note, attendance.leave_state, language
        )
        return _("leave: {leave}").format(leave=leave)
    if attendance.rsvp == Rsvp.ATTEND:
        return _("will attend")
    if now >= checkin_closes_at(study):
        return _("absent")
    return _("not answered yet")


def cadence_label(months: int, language: str) -> str:
    """ "every month" / "every quarter" / "twice a year" / "every year"."""
    label = {
        1: N_("every month"),
        3: N_("every quarter"),
        6: N_("twice a year"),
    }.get(months, N_("every year"))
    return gettext(language, label)


def period_label(kind_months: int, start: date, language: str) -> str:
    """ "2026年3月", "2026年第1季度", "2026年上半年", "2026年"."""
    if kind_months == 1:
        return gettext(language, "{month}/{year}").format(month=start.month, year=start.year)
    if kind_months == 3:
        quarter = (start.month - 1) // 3 + 1
        return gettext(language, "Q{quarter} {year}").format(quarter=quarter, year=start.year)
    if kind_months == 6:
        half = N_("first half of {year}") if start.month == 1 else N_("second half of {year}")
        return gettext(language, half).format(year=start.year)
    return gettext(language, "the year {year}").format(year=start.year)


def payload(
    text: str,
    *,
    markup: Any = None,
    photo: str | None = None,
    document: str | None = None,
) -> dict[str, Any]:
    """A delivery payload in the relay's shape (HTML text, optional keyboard and file)."""
    return {
        "text": payload_html(text),
        "parse_mode": "HTML",
        "reply_markup": markup.to_dict() if markup is not None else None,
        "photo": photo,
        "document": document,
    }


def clip(text: str, limit: int) -> str:
    """Cut a person's text (before escaping) so a message stays within Telegram's limits."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def names_line(names: Sequence[str], language: str) -> str:
    """ "张三、李四" / "Zhang San, Li Si" (escaped); a dash when nobody."""
    if not names:
        return "-"
    separator = "、" if language == "zh" else ", "
    return separator.join(name for name in names)
