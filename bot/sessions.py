"""Rules of study sessions (三会一课) that are not about Telegram.

How often each kind must be held, who is invited, when reminders fall due, when check-in
is open, what a finished session means for each invitee, how a series repeats and how
the silent-branch ladder climbs. Handlers and jobs ask here; the database only stores.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.dates import local_date, to_utc
from bot.i18n import N_
from storage.models import (
    AudienceKind,
    OrgKind,
    ReminderState,
    Role,
    SessionKind,
    SessionState,
    StudySession,
)

__all__ = [
    "ABSENCE_STREAK",
    "CADENCE_MONTHS",
    "DEFAULT_REMINDER_OFFSETS",
    "DIGEST_HOUR",
    "DURATION_CHOICES",
    "KIND_LABELS",
    "KIND_ORDER",
    "LADDER_STEP",
    "MAX_CHECKIN_FAILURES",
    "OFFICER_ROLES",
    "REMINDER_CHOICES",
    "REMINDER_LABELS",
    "REQUIRED_KINDS",
    "SERIES_HORIZON",
    "PlannedReminder",
    "Repeat",
    "Window",
    "audience_kinds_for",
    "checkin_closes_at",
    "checkin_opens_at",
    "decision_refusal",
    "ladder_distance",
    "ladder_step_due",
    "monthly_repeat_possible",
    "occurrences",
    "period_containing",
    "plan_reminders",
    "previous_period",
    "rsvp_refusal",
    "series_rule",
    "session_ends_at",
    "window_state",
]

KIND_ORDER: tuple[SessionKind, ...] = (
    SessionKind.BRANCH_GENERAL_MEETING,
    SessionKind.BRANCH_COMMITTEE_MEETING,
    SessionKind.PARTY_GROUP_MEETING,
    SessionKind.PARTY_LESSON,
    SessionKind.THEME_PARTY_DAY,
    SessionKind.SPECIAL_STUDY,
    SessionKind.REPORT_HEARING,
    SessionKind.OTHER,
)

KIND_LABELS: dict[SessionKind, str] = {
    SessionKind.BRANCH_GENERAL_MEETING: N_("Branch general meeting"),
    SessionKind.BRANCH_COMMITTEE_MEETING: N_("Branch committee meeting"),
    SessionKind.PARTY_GROUP_MEETING: N_("Party group meeting"),
    SessionKind.PARTY_LESSON: N_("Party lesson"),
    SessionKind.THEME_PARTY_DAY: N_("Theme party day"),
    SessionKind.SPECIAL_STUDY: N_("Special study"),
    SessionKind.REPORT_HEARING: N_("Report hearing"),
    SessionKind.OTHER: N_("Other activity"),
}

# The longest a kind may go unheld, in calendar months (None: no requirement).
CADENCE_MONTHS: dict[SessionKind, int | None] = {
    SessionKind.BRANCH_GENERAL_MEETING: 3,
    SessionKind.BRANCH_COMMITTEE_MEETING: 1,
    SessionKind.PARTY_GROUP_MEETING: 1,
    SessionKind.PARTY_LESSON: 3,
    SessionKind.THEME_PARTY_DAY: 1,
    SessionKind.SPECIAL_STUDY: 12,
    SessionKind.REPORT_HEARING: 6,
    SessionKind.OTHER: None,
}

_BRANCH_KINDS = (OrgKind.VILLAGE_BRANCH, OrgKind.COUNTY_DEPARTMENT, OrgKind.GRASSROOTS_STATION)
_BRANCH_REQUIRED = (
    SessionKind.BRANCH_GENERAL_MEETING,
    SessionKind.BRANCH_COMMITTEE_MEETING,
    SessionKind.PARTY_LESSON,
    SessionKind.THEME_PARTY_DAY,
)
_LEADERSHIP_REQUIRED = (SessionKind.SPECIAL_STUDY, SessionKind.REPORT_HEARING)

# Which kinds each org must hold on its own (the silent-branch ladder watches these).
REQUIRED_KINDS: dict[OrgKind, tuple[SessionKind, ...]] = {
    **dict.fromkeys(_BRANCH_KINDS, _BRANCH_REQUIRED),
    OrgKind.PARTY_GROUP: (SessionKind.PARTY_GROUP_MEETING,),
    OrgKind.TOWNSHIP: _LEADERSHIP_REQUIRED,
    OrgKind.COUNTY: _LEADERSHIP_REQUIRED,
}

# Who answers for an org: told about leave requests, non-responders, absences, silence.
OFFICER_ROLES: dict[OrgKind, tuple[Role, ...]] = {
    **dict.fromkeys(_BRANCH_KINDS, (Role.SECRETARY, Role.DEPUTY_SECRETARY)),
    OrgKind.TOWNSHIP: (Role.TOWNSHIP_ORGANISER,),
    OrgKind.COUNTY: (Role.COUNTY_STAFF,),
    OrgKind.PARTY_GROUP: (),
}

DEFAULT_REMINDER_OFFSETS: tuple[int, ...] = (24 * 60, 120)
REMINDER_LABELS: dict[int, str] = {
    3 * 24 * 60: N_("3 days before"),
    24 * 60: N_("1 day before"),
    120: N_("2 hours before"),
    30: N_("30 minutes before"),
}
REMINDER_CHOICES: tuple[int, ...] = tuple(REMINDER_LABELS)
DURATION_CHOICES: tuple[int, ...] = (60, 90, 120, 180)
SERIES_HORIZON = timedelta(weeks=5)
DIGEST_HOUR = 20  # the evening before, in the people's zone
ABSENCE_STREAK = 3
MAX_CHECKIN_FAILURES = 5
LADDER_STEP = timedelta(days=7)


def audience_kinds_for(org_kind: OrgKind) -> tuple[AudienceKind, ...]:
    """A branch invites itself or one of its party groups; higher orgs their subtree."""
    if org_kind in _BRANCH_KINDS:
        return (AudienceKind.BRANCH, AudienceKind.PARTY_GROUP)
    return (AudienceKind.SUBTREE,)


@dataclass(frozen=True, slots=True)
class PlannedReminder:
    """A reminder row to create: skipped when its moment has already passed."""

    offset_minutes: int
    due_at: datetime
    state: ReminderState


def plan_reminders(
    starts_at: datetime, offsets: tuple[int, ...] | list[int], now: datetime
) -> list[PlannedReminder]:
    """One reminder per offset; offsets already behind us are skipped, not sent in a burst."""
    planned = []
    for offset in sorted(set(offsets), reverse=True):
        due = starts_at - timedelta(minutes=offset)
        state = ReminderState.PENDING if due > now else ReminderState.SKIPPED
        planned.append(PlannedReminder(offset, due, state))
    return planned


class Window(StrEnum):
    """Where a session's check-in window stands."""

    NOT_YET = "not_yet"
    OPEN = "open"
    CLOSED = "closed"


def checkin_opens_at(study_session: StudySession) -> datetime:
    return study_session.starts_at - timedelta(minutes=study_session.checkin_opens_minutes_before)


def session_ends_at(study_session: StudySession) -> datetime:
    """The planned end: the start plus the session's length."""
    return study_session.starts_at + timedelta(minutes=study_session.duration_minutes)


def checkin_closes_at(study_session: StudySession) -> datetime:
    """When check-in ends: the grace after the session's end (a latecomer still checks in
    while the meeting runs). After this the session is finalised (absences written)."""
    return session_ends_at(study_session) + timedelta(
        minutes=study_session.checkin_closes_minutes_after
    )


def window_state(study_session: StudySession, now: datetime) -> Window:
    """Closed also for cancelled or already finalised sessions."""
    if study_session.state != SessionState.SCHEDULED or now >= checkin_closes_at(study_session):
        return Window.CLOSED
    if now < checkin_opens_at(study_session):
        return Window.NOT_YET
    return Window.OPEN


def rsvp_refusal(study_session: StudySession, now: datetime) -> str | None:
    """Why a member can no longer answer (a msgid), or None while answering makes sense."""
    if study_session.state == SessionState.CANCELLED:
        return N_("This session has been cancelled.")
    if study_session.state == SessionState.CLOSED or now >= study_session.starts_at:
        return N_("This session has already started, so this button no longer works.")
    return None


def decision_refusal(study_session: StudySession) -> str | None:
    """Why leave can no longer be decided (a msgid): only until the session is finalised,
    so a request sent just before the start can still be approved as an excused absence."""
    if study_session.state == SessionState.CANCELLED:
        return N_("This session has been cancelled.")
    if study_session.state == SessionState.CLOSED:
        return N_("This session is over, so the request can no longer be decided.")
    return None


class Repeat(StrEnum):
    NONE = "none"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"  # branch general meetings and party lessons


_WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_RULE = re.compile(
    r"^FREQ=(?P<freq>WEEKLY|MONTHLY);(?:INTERVAL=(?P<iv>[13]);)?"
    r"(?:BYDAY=(?P<wd>[A-Z]{2})|BYMONTHDAY=(?P<md>\d+))$"
)
_MONTHS_APART = {Repeat.MONTHLY: 1, Repeat.QUARTERLY: 3}


def monthly_repeat_possible(day: date) -> bool:
    """Monthly series keep to days every month has, so no month is skipped."""
    return day.day <= 28


def series_rule(repeat: Repeat, first_day: date) -> str:
    """The RFC 5545 RRULE for "every week on this weekday", "every month on this day" or
    "every three months on this day"."""
    if repeat == Repeat.WEEKLY:
        return f"FREQ=WEEKLY;BYDAY={_WEEKDAY_CODES[first_day.weekday()]}"
    if repeat == Repeat.MONTHLY and monthly_repeat_possible(first_day):
        return f"FREQ=MONTHLY;BYMONTHDAY={first_day.day}"
    if repeat == Repeat.QUARTERLY and monthly_repeat_possible(first_day):
        return f"FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY={first_day.day}"
    raise ValueError(f"no series rule for {repeat} from {first_day}")


def rule_parts(rule: str) -> tuple[Repeat, int]:
    """(WEEKLY, weekday 0-6), (MONTHLY, day of month) or (QUARTERLY, day of month)."""
    match = _RULE.match(rule)
    if match is None:
        raise ValueError(f"unsupported series rule {rule!r}")
    if match["freq"] == "WEEKLY":
        return Repeat.WEEKLY, _WEEKDAY_CODES.index(match["wd"])
    return (Repeat.QUARTERLY if match["iv"] == "3" else Repeat.MONTHLY), int(match["md"])


def occurrences(
    rule: str, local_time: time, tz: ZoneInfo, *, first: date, after: datetime, until: datetime
) -> list[tuple[date, datetime]]:
    """(slot day, start in UTC) of each occurrence from ``first`` starting in (after, until]."""
    repeat, value = rule_parts(rule)
    found: list[tuple[date, datetime]] = []
    day = first
    while True:
        if repeat == Repeat.WEEKLY:
            day += timedelta(days=(value - day.weekday()) % 7)
        elif day.day > value:
            day = _months_later(day, _MONTHS_APART[repeat]).replace(day=value)
        else:
            day = day.replace(day=value)
        start = to_utc(datetime.combine(day, local_time, tzinfo=tz))
        if start > until:
            return found
        if start > after:
            found.append((day, start))
        day += timedelta(days=1)


def _months_later(day: date, months: int) -> date:
    """The first of the month ``months`` after ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def period_containing(kind: SessionKind, day: date) -> tuple[date, date]:
    """The calendar period (month, quarter, half-year, year) of ``day``: [start, end)."""
    months = CADENCE_MONTHS[kind]
    if months is None:
        raise ValueError(f"{kind} has no cadence")
    first_month = (day.month - 1) // months * months + 1
    start = date(day.year, first_month, 1)
    end_month = first_month + months
    end = date(day.year + (end_month - 1) // 12, (end_month - 1) % 12 + 1, 1)
    return start, end


def previous_period(kind: SessionKind, today: date) -> tuple[date, date]:
    """The last complete period before the one ``today`` is in."""
    start, _ = period_containing(kind, today)
    return period_containing(kind, start - timedelta(days=1))


def ladder_distance(silent: OrgKind, level: int) -> int:
    """How many levels above the silent org the ladder's ``level`` (1-3) tells.

    A branch's own secretary hears first. A party group has no officers of its own, so
    its branch's secretary hears first, then the township, then the county.
    """
    return level - 1 + (1 if silent == OrgKind.PARTY_GROUP else 0)


def ladder_step_due(level: int, last_step_at: datetime, now: datetime) -> bool:
    """A week after each step the next level up is told, up to the third."""
    return level < 3 and now >= last_step_at + LADDER_STEP


def is_silent(last_held: datetime | None, period_start: date, tz: ZoneInfo) -> bool:
    """Nothing of the kind was held in the period or since."""
    return last_held is None or local_date(last_held, tz) < period_start
