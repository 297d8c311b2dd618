"""Study sessions aggregate: sessions, series, reminders, attendance and their reports.

Every change that many people could race on (a double tap, a replayed update, two
secretaries deciding the same leave) is one conditional UPDATE whose row count says
whether this call made the change. Counts and rates are computed in SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, tzinfo
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage._sql import insert_ignore, table_of
from storage.models.accounts import TelegramAccount
from storage.models.members import Member
from storage.models.notices import AttachmentKind
from storage.models.orgs import OrgKind, OrgUnit
from storage.models.sessions import (
    Attendance,
    AttendanceOutcome,
    AudienceKind,
    CheckinMethod,
    LeaveReason,
    LeaveState,
    ReminderState,
    Rsvp,
    SessionEscalation,
    SessionKind,
    SessionReminder,
    SessionSeries,
    SessionState,
    StudySession,
)
from storage.types import UTCDateTime

__all__ = [
    "AttendanceCounts",
    "Invitee",
    "MemberSession",
    "absence_streaks",
    "active_series",
    "add_minutes",
    "attendance_counts",
    "attendance_rate",
    "cancel_series",
    "cancel_session",
    "check_in",
    "count_checkin_failure",
    "create_series",
    "create_session",
    "decide_leave",
    "due_reminders",
    "enrol",
    "finalise_session",
    "first_session_created_at",
    "get_attendance",
    "get_attendance_by_id",
    "get_session",
    "invitees",
    "last_held",
    "mark_invited",
    "mark_makeup_done",
    "mark_makeup_sent",
    "member_sessions",
    "open_escalation",
    "open_escalations",
    "orgs_of_kinds",
    "party_groups",
    "recent_places",
    "reminder_offsets",
    "replan_reminders",
    "request_leave",
    "resolve_escalation",
    "series_slots",
    "sessions_of_orgs",
    "sessions_starting",
    "sessions_to_close",
    "set_reminder_state",
    "set_rsvp",
    "step_escalation",
    "uninvited",
    "update_session",
    "withdraw_departed",
]

_ATTENDANCE = table_of(Attendance)
_STUDY = table_of(StudySession)
_MEMBER = table_of(Member)
_ORG = table_of(OrgUnit)


# --- sessions ---------------------------------------------------------------------------


async def create_session(
    *,
    session: AsyncSession,
    org_id: int,
    kind: SessionKind,
    topic: str,
    starts_at: datetime,
    duration_minutes: int,
    place: str,
    audience_kind: AudienceKind,
    audience_org_id: int,
    created_by: int,
    reminders: Sequence[tuple[int, datetime, ReminderState]],
    now: datetime,
    materials_text: str | None = None,
    materials_file_id: str | None = None,
    materials_file_kind: AttachmentKind | None = None,
    checkin_opens_minutes_before: int = 30,
    checkin_closes_minutes_after: int = 60,
    series_id: int | None = None,
    series_slot: date | None = None,
) -> StudySession:
    """Insert a session, its reminders and one attendance row per invited member.

    The audience is resolved now, in SQL, so the invited list is fixed and every invitee
    has an explicit row from the start (RSVP, leave and check-in then only update it).
    """
    row = StudySession(
        org_id=org_id,
        kind=kind,
        topic=topic,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        place=place,
        audience_kind=audience_kind,
        audience_org_id=audience_org_id,
        series_id=series_id,
        series_slot=series_slot,
        materials_text=materials_text,
        materials_file_id=materials_file_id,
        materials_file_kind=materials_file_kind,
        created_by=created_by,
        created_at=now,
        updated_at=now,
        checkin_opens_minutes_before=checkin_opens_minutes_before,
        checkin_closes_minutes_after=checkin_closes_minutes_after,
    )
    session.add(row)
    await session.flush()
    assert row.id is not None
    for offset, due_at, state in reminders:
        session.add(
            SessionReminder(session_id=row.id, offset_minutes=offset, due_at=due_at, state=state)
        )
    await enrol(session=session, now=now, session_ids=[row.id])
    await session.flush()
    return row


def _audience_match(
    kind: AudienceKind, study: sa.FromClause, member: sa.FromClause
) -> sa.ColumnElement[bool]:
    """For sessions whose audience is of ``kind``: the member row belongs to it (SQL).

    Each kind is an equality or an indexed path prefix, so it can serve as a join.
    """
    if kind == AudienceKind.BRANCH:
        return member.c.org_id == study.c.audience_org_id
    if kind == AudienceKind.PARTY_GROUP:
        return member.c.party_group_id == study.c.audience_org_id
    audience_org = _ORG.alias("audience_org")
    member_org = _ORG.alias("member_org")
    return (
        sa.exists()
        .where(audience_org.c.id == study.c.audience_org_id)
        .where(member_org.c.id == member.c.org_id)
        .where(member_org.c.path.startswith(audience_org.c.path))
    )


def _in_audience(study: sa.FromClause, member: sa.FromClause) -> sa.ColumnElement[bool]:
    """Whether the member row is expected at the study session (any audience kind)."""
    return sa.and_(
        member.c.active.is_(True),
        sa.or_(
            *(
                sa.and_(study.c.audience_kind == kind.value, _audience_match(kind, study, member))
                for kind in AudienceKind
            )
        ),
    )


def _not_started(study: sa.FromClause, now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(
        study.c.state == SessionState.SCHEDULED.value,
        study.c.starts_at > sa.literal(now, type_=UTCDateTime()),
    )


async def enrol(
    *,
    session: AsyncSession,
    now: datetime,
    session_ids: Sequence[int] | None = None,
    member_ids: Sequence[int] | None = None,
) -> int:
    """Give every audience member of the sessions an attendance row if they lack one.

    ``session_ids`` None means every session not started yet: members who joined a branch
    (or moved into it) after its sessions were scheduled are expected too. Returns how
    many rows were added.
    """
    study, member = _STUDY.alias("study"), _MEMBER.alias("m")
    columns = ["session_id", "member_id", "rsvp", "outcome", "updated_at", "checkin_failures"]
    added = 0
    for kind in AudienceKind:  # one join per kind keeps each an indexed lookup
        chosen = (
            sa.select(
                study.c.id,
                member.c.id,
                sa.literal(Rsvp.NONE.value),
                sa.literal(AttendanceOutcome.PENDING.value),
                sa.literal(now, type_=UTCDateTime()),
                sa.literal(0),
            )
            .select_from(study.join(member, _audience_match(kind, study, member)))
            .where(
                study.c.audience_kind == kind.value,
                member.c.active.is_(True),
                ~sa.exists().where(
                    _ATTENDANCE.c.session_id == study.c.id,
                    _ATTENDANCE.c.member_id == member.c.id,
                ),
            )
        )
        if session_ids is None:
            chosen = chosen.where(_not_started(study, now))
        else:
            chosen = chosen.where(study.c.id.in_(session_ids))
        if member_ids is not None:
            chosen = chosen.where(member.c.id.in_(member_ids))
        result = await session.exec(sa.insert(_ATTENDANCE).from_select(columns, chosen))
        added += max(result.rowcount, 0)
    return added


async def withdraw_departed(
    *, session: AsyncSession, now: datetime, member_ids: Sequence[int] | None = None
) -> int:
    """Take members who left an audience (moved, deactivated) off sessions not started.

    A row with a check-in stays: the person came, whatever the roster says now.
    """
    study, member = _STUDY.alias("study"), _MEMBER.alias("m")
    upcoming = sa.select(study.c.id).where(_not_started(study, now))
    still_expected = sa.exists().where(
        study.c.id == _ATTENDANCE.c.session_id,
        member.c.id == _ATTENDANCE.c.member_id,
        _in_audience(study, member),
    )
    stmt = sa.delete(_ATTENDANCE).where(
        _ATTENDANCE.c.session_id.in_(upcoming),
        _ATTENDANCE.c.checked_in_at.is_(None),
        ~still_expected,
    )
    if member_ids is not None:
        stmt = stmt.where(_ATTENDANCE.c.member_id.in_(member_ids))
    result = await session.exec(stmt)
    return max(result.rowcount, 0)


async def uninvited(
    *, session: AsyncSession, now: datetime, member_ids: Sequence[int] | None = None
) -> dict[int, list[int]]:
    """Invitees of sessions not started who are on Telegram but were never invited.

    Maps session id to member ids: members who registered, or joined the audience, after
    the session was scheduled.
    """
    query = (
        select(col(Attendance.session_id), col(Attendance.member_id))
        .join(StudySession, col(StudySession.id) == col(Attendance.session_id))
        .join(Member, col(Member.id) == col(Attendance.member_id))
        .where(
            col(Attendance.invited_at).is_(None),
            col(Member.telegram_user_id).is_not(None),
            col(StudySession.state) == SessionState.SCHEDULED,
            col(StudySession.starts_at) > now,
        )
        .order_by(col(StudySession.starts_at), col(Attendance.member_id))
    )
    if member_ids is not None:
        query = query.where(col(Attendance.member_id).in_(member_ids))
    found: dict[int, list[int]] = {}
    for session_id, member_id in (await session.exec(query)).all():
        found.setdefault(session_id, []).append(member_id)
    return found


async def mark_invited(
    *, session: AsyncSession, session_id: int, member_ids: Sequence[int], now: datetime
) -> None:
    """Note that these invitees' invitations are queued."""
    if not member_ids:
        return
    await session.exec(
        update(Attendance)
        .where(
            col(Attendance.session_id) == session_id,
            col(Attendance.member_id).in_(member_ids),
            col(Attendance.invited_at).is_(None),
        )
        .values(invited_at=now)
    )


async def get_session(*, session: AsyncSession, session_id: int) -> StudySession | None:
    """The session with this id, read fresh (another tap may just have changed it)."""
    return await session.get(StudySession, session_id, populate_existing=True)


async def update_session(
    *, session: AsyncSession, session_id: int, changes: dict[str, Any], now: datetime
) -> StudySession | None:
    """Change topic, time, place or materials of a scheduled session; None if not scheduled."""
    allowed = {
        "topic",
        "starts_at",
        "place",
        "duration_minutes",
        "materials_text",
        "materials_file_id",
        "materials_file_kind",
    }
    if not set(changes) <= allowed:
        raise ValueError(f"cannot change {sorted(set(changes) - allowed)}")
    result = await session.exec(
        update(StudySession)
        .where(
            col(StudySession.id) == session_id, col(StudySession.state) == SessionState.SCHEDULED
        )
        .values(**changes, updated_at=now)
    )
    if not result.rowcount:
        return None
    return await get_session(session=session, session_id=session_id)


async def cancel_session(*, session: AsyncSession, session_id: int, now: datetime) -> bool:
    """Cancel a scheduled session and its pending reminders; False if it was not scheduled."""
    result = await session.exec(
        update(StudySession)
        .where(
            col(StudySession.id) == session_id, col(StudySession.state) == SessionState.SCHEDULED
        )
        .values(state=SessionState.CANCELLED, updated_at=now)
    )
    if not result.rowcount:
        return False
    await session.exec(
        update(SessionReminder)
        .where(
            col(SessionReminder.session_id) == session_id,
            col(SessionReminder.state) == ReminderState.PENDING,
        )
        .values(state=ReminderState.CANCELLED)
    )
    return True


async def party_groups(*, session: AsyncSession, org_id: int) -> list[OrgUnit]:
    """The active party groups (党小组) of a branch, by name: possible audiences."""
    result = await session.exec(
        select(OrgUnit)
        .where(
            OrgUnit.parent_id == org_id,
            OrgUnit.kind == OrgKind.PARTY_GROUP,
            col(OrgUnit.active).is_(True),
        )
        .order_by(col(OrgUnit.name))
    )
    return list(result.all())


async def recent_places(*, session: AsyncSession, org_id: int, limit: int = 3) -> list[str]:
    """Places this org used lately, newest first, for one-tap choice."""
    latest = sa.func.max(StudySession.created_at)
    result = await session.exec(
        select(StudySession.place)
        .where(StudySession.org_id == org_id)
        .group_by(col(StudySession.place))
        .order_by(latest.desc())
        .limit(limit)
    )
    return list(result.all())


# --- reminders ----------------------------------------------------------------------------


async def due_reminders(
    *, session: AsyncSession, now: datetime, limit: int = 100
) -> list[tuple[SessionReminder, StudySession]]:
    """Pending reminders whose moment has come, oldest first, with their session."""
    result = await session.exec(
        select(SessionReminder, StudySession)
        .join(StudySession, col(StudySession.id) == col(SessionReminder.session_id))
        .where(SessionReminder.state == ReminderState.PENDING, col(SessionReminder.due_at) <= now)
        .order_by(col(SessionReminder.due_at), col(SessionReminder.id))
        .limit(limit)
    )
    return [(reminder, study) for reminder, study in result.all()]


async def set_reminder_state(
    *, session: AsyncSession, reminder_id: int, state: ReminderState, now: datetime
) -> bool:
    """Move a pending reminder to sent, skipped or cancelled; False if no longer pending."""
    result = await session.exec(
        update(SessionReminder)
        .where(
            col(SessionReminder.id) == reminder_id,
            col(SessionReminder.state) == ReminderState.PENDING,
        )
        .values(state=state, sent_at=now if state == ReminderState.SENT else None)
    )
    return bool(result.rowcount)


async def reminder_offsets(*, session: AsyncSession, session_id: int) -> list[int]:
    """The offsets (minutes before the start) a session is reminded at."""
    result = await session.exec(
        select(SessionReminder.offset_minutes).where(SessionReminder.session_id == session_id)
    )
    return list(result.all())


async def replan_reminders(
    *,
    session: AsyncSession,
    session_id: int,
    reminders: Sequence[tuple[int, datetime, ReminderState]],
) -> None:
    """After a move: every offset gets its new due time and is pending (or skipped) again."""
    for offset, due_at, state in reminders:
        await session.exec(
            update(SessionReminder)
            .where(
                col(SessionReminder.session_id) == session_id,
                col(SessionReminder.offset_minutes) == offset,
            )
            .values(due_at=due_at, state=state, sent_at=None)
        )


# --- attendance ---------------------------------------------------------------------------


class Invitee(NamedTuple):
    """One invited member, how to reach them, and where their attendance stands."""

    attendance_id: int
    member_id: int
    name: str
    telegram_user_id: int | None
    language: str | None
    rsvp: Rsvp
    leave_state: LeaveState | None
    leave_reason: LeaveReason | None
    leave_note: str | None
    checked_in: bool
    outcome: AttendanceOutcome
    makeup_sent: bool
    makeup_done: bool


async def invitees(*, session: AsyncSession, session_id: int) -> list[Invitee]:
    """Everyone invited to a session, by name."""
    result = await session.exec(
        select(Attendance, Member.name, Member.telegram_user_id, TelegramAccount.language)
        .join(Member, col(Member.id) == col(Attendance.member_id))
        .outerjoin(
            TelegramAccount,
            col(TelegramAccount.telegram_user_id) == col(Member.telegram_user_id),
        )
        .where(Attendance.session_id == session_id)
        .order_by(col(Member.name), col(Member.id))
        .execution_options(populate_existing=True)
    )
    return [
        Invitee(
            attendance_id=_id(row.id),
            member_id=row.member_id,
            name=name,
            telegram_user_id=telegram_user_id,
            language=None if language is None else str(language),
            rsvp=row.rsvp,
            leave_state=row.leave_state,
            leave_reason=row.leave_reason,
            leave_note=row.leave_note,
            checked_in=row.checked_in_at is not None,
            outcome=row.outcome,
            makeup_sent=row.makeup_sent_at is not None,
            makeup_done=row.makeup_done_at is not None,
        )
        for row, name, telegram_user_id, language in result.all()
    ]


def _id(value: int | None) -> int:
    assert value is not None
    return value


async def get_attendance(
    *, session: AsyncSession, session_id: int, member_id: int
) -> Attendance | None:
    """The member's row for this session (None: not invited)."""
    result = await session.exec(
        select(Attendance)
        .where(Attendance.session_id == session_id, col(Attendance.member_id) == member_id)
        .execution_options(populate_existing=True)
    )
    return result.first()


async def get_attendance_by_id(*, session: AsyncSession, attendance_id: int) -> Attendance | None:
    """An attendance row by its id, read fresh."""
    return await session.get(Attendance, attendance_id, populate_existing=True)


async def set_rsvp(*, session: AsyncSession, attendance_id: int, now: datetime) -> bool:
    """The member will attend; False if that was already the answer (a double tap).

    Saying "attend" withdraws a pending leave request.
    """
    result = await session.exec(
        update(Attendance)
        .where(col(Attendance.id) == attendance_id, col(Attendance.rsvp) != Rsvp.ATTEND)
        .values(
            rsvp=Rsvp.ATTEND,
            leave_reason=None,
            leave_note=None,
            leave_state=None,
            leave_decided_by=None,
            updated_at=now,
        )
    )
    return bool(result.rowcount)


async def request_leave(
    *,
    session: AsyncSession,
    attendance_id: int,
    reason: LeaveReason,
    note: str | None,
    now: datetime,
) -> bool:
    """Ask for leave; False if a leave request is already pending or approved."""
    result = await session.exec(
        update(Attendance)
        .where(
            col(Attendance.id) == attendance_id,
            sa.or_(
                col(Attendance.leave_state).is_(None),
                col(Attendance.leave_state) == LeaveState.REJECTED,
            ),
        )
        .values(
            rsvp=Rsvp.LEAVE,
            leave_reason=reason,
            leave_note=note,
            leave_state=LeaveState.PENDING,
            leave_decided_by=None,
            updated_at=now,
        )
    )
    return bool(result.rowcount)


async def decide_leave(
    *, session: AsyncSession, attendance_id: int, approve: bool, decided_by: int, now: datetime
) -> bool:
    """Approve or reject a pending request; False if someone decided it already.

    A rejected request puts the member back to "not answered": they are expected.
    """
    values: dict[str, Any] = {
        "leave_state": LeaveState.APPROVED if approve else LeaveState.REJECTED,
        "leave_decided_by": decided_by,
        "updated_at": now,
    }
    if not approve:
        values["rsvp"] = Rsvp.NONE
    result = await session.exec(
        update(Attendance)
        .where(
            col(Attendance.id) == attendance_id, col(Attendance.leave_state) == LeaveState.PENDING
        )
        .values(**values)
    )
    return bool(result.rowcount)


async def check_in(
    *,
    session: AsyncSession,
    attendance_id: int,
    method: CheckinMethod,
    now: datetime,
    marked_by: int | None = None,
) -> bool:
    """Record presence once; False if already checked in (a replay or a double tap).

    On a session already finalised (a proxy mark after the fact) the outcome becomes
    present at once.
    """
    finalised = col(Attendance.outcome) != AttendanceOutcome.PENDING
    result = await session.exec(
        update(Attendance)
        .where(col(Attendance.id) == attendance_id, col(Attendance.checked_in_at).is_(None))
        .values(
            checked_in_at=now,
            checkin_method=method,
            marked_by=marked_by,
            outcome=sa.case(
                (finalised, AttendanceOutcome.PRESENT.value), else_=col(Attendance.outcome)
            ),
            updated_at=now,
        )
    )
    return bool(result.rowcount)


async def count_checkin_failure(*, session: AsyncSession, attendance_id: int) -> int:
    """Add one wrong code to the member's count for this session and return the count."""
    await session.exec(
        update(Attendance)
        .where(col(Attendance.id) == attendance_id)
        .values(checkin_failures=col(Attendance.checkin_failures) + 1)
    )
    result = await session.exec(
        select(Attendance.checkin_failures).where(Attendance.id == attendance_id)
    )
    return int(result.one())


async def mark_makeup_sent(
    *, session: AsyncSession, attendance_ids: Sequence[int], now: datetime
) -> None:
    """Note that make-up material went out to these invitees."""
    if attendance_ids:
        await session.exec(
            update(Attendance)
            .where(col(Attendance.id).in_(list(attendance_ids)))
            .values(makeup_sent_at=now)
        )


async def mark_makeup_done(*, session: AsyncSession, attendance_id: int, now: datetime) -> bool:
    """The member studied the material; False if already confirmed."""
    result = await session.exec(
        update(Attendance)
        .where(
            col(Attendance.id) == attendance_id,
            col(Attendance.makeup_done_at).is_(None),
            col(Attendance.outcome).in_([AttendanceOutcome.ABSENT, AttendanceOutcome.EXCUSED]),
        )
        .values(makeup_done_at=now)
    )
    return bool(result.rowcount)


async def sessions_to_close(*, session: AsyncSession, now: datetime) -> list[StudySession]:
    """Scheduled sessions that have started; the caller decides whose window has closed."""
    result = await session.exec(
        select(StudySession)
        .where(StudySession.state == SessionState.SCHEDULED, col(StudySession.starts_at) <= now)
        .order_by(col(StudySession.starts_at))
    )
    return list(result.all())


async def sessions_starting(
    *, session: AsyncSession, start: datetime, end: datetime
) -> list[StudySession]:
    """Scheduled sessions starting in [start, end), soonest first."""
    result = await session.exec(
        select(StudySession)
        .where(
            StudySession.state == SessionState.SCHEDULED,
            StudySession.starts_at >= start,
            StudySession.starts_at < end,
        )
        .order_by(col(StudySession.starts_at), col(StudySession.id))
    )
    return list(result.all())


async def finalise_session(*, session: AsyncSession, session_id: int, now: datetime) -> bool:
    """Close the session and give every invitee an explicit outcome, in one transaction.

    Checked in: present; approved leave: excused; anyone else: absent. False if the
    session was not scheduled any more (another run closed it first).
    """
    result = await session.exec(
        update(StudySession)
        .where(
            col(StudySession.id) == session_id, col(StudySession.state) == SessionState.SCHEDULED
        )
        .values(state=SessionState.CLOSED, updated_at=now)
    )
    if not result.rowcount:
        return False
    outcome = sa.case(
        (col(Attendance.checked_in_at).is_not(None), AttendanceOutcome.PRESENT.value),
        (col(Attendance.leave_state) == LeaveState.APPROVED, AttendanceOutcome.EXCUSED.value),
        else_=AttendanceOutcome.ABSENT.value,
    )
    await session.exec(
        update(Attendance)
        .where(
            col(Attendance.session_id) == session_id,
            col(Attendance.outcome) == AttendanceOutcome.PENDING,
        )
        .values(outcome=outcome, updated_at=now)
    )
    return True


async def add_minutes(
    *,
    session: AsyncSession,
    session_id: int,
    text: str | None = None,
    photo_id: str | None = None,
    now: datetime,
) -> StudySession | None:
    """Append a paragraph or a photo to the minutes."""
    study = await get_session(session=session, session_id=session_id)
    if study is None:
        return None
    if text:
        study.minutes_text = f"{study.minutes_text}\n{text}" if study.minutes_text else text
    if photo_id:
        study.minutes_photo_ids = [*(study.minutes_photo_ids or []), photo_id]
    study.updated_at = now
    session.add(study)
    await session.flush()
    return study


# --- views and reports --------------------------------------------------------------------


class MemberSession(NamedTuple):
    """A session as one member sees it."""

    study: StudySession
    attendance: Attendance


async def member_sessions(
    *, session: AsyncSession, member_id: int, now: datetime, limit: int = 5
) -> tuple[list[MemberSession], list[MemberSession]]:
    """(upcoming, recent) sessions the member is invited to.

    Upcoming: not finalised yet (and cancelled ones still ahead), soonest first. Recent:
    finalised, newest first.
    """
    base = (
        select(StudySession, Attendance)
        .join(Attendance, col(Attendance.session_id) == col(StudySession.id))
        .where(Attendance.member_id == member_id)
    )
    upcoming = await session.exec(
        base.where(
            sa.or_(
                col(StudySession.state) == SessionState.SCHEDULED,
                sa.and_(
                    col(StudySession.state) == SessionState.CANCELLED,
                    col(StudySession.starts_at) > now,
                ),
            )
        )
        .order_by(col(StudySession.starts_at), col(StudySession.id))
        .limit(limit)
    )
    recent = await session.exec(
        base.where(StudySession.state == SessionState.CLOSED)
        .order_by(col(StudySession.starts_at).desc(), col(StudySession.id).desc())
        .limit(limit)
    )
    return (
        [MemberSession(s, a) for s, a in upcoming.all()],
        [MemberSession(s, a) for s, a in recent.all()],
    )


async def sessions_of_orgs(
    *,
    session: AsyncSession,
    org_paths: Sequence[str],
    states: Sequence[SessionState],
    since: datetime | None = None,
    newest_first: bool = False,
    limit: int = 8,
) -> list[StudySession]:
    """Sessions organised inside these subtrees, in these states."""
    under = sa.or_(*(col(OrgUnit.path).startswith(path) for path in org_paths))
    stmt = (
        select(StudySession)
        .join(OrgUnit, col(OrgUnit.id) == col(StudySession.org_id))
        .where(under, col(StudySession.state).in_(list(states)))
    )
    if since is not None:
        stmt = stmt.where(StudySession.starts_at >= since)
    order = col(StudySession.starts_at).desc() if newest_first else col(StudySession.starts_at)
    result = await session.exec(stmt.order_by(order, col(StudySession.id)).limit(limit))
    return list(result.all())


class AttendanceCounts(NamedTuple):
    """The numbers of /attendance, counted in SQL."""

    invited: int
    attend: int
    no_answer: int
    leave_pending: int
    leave_approved: int
    checked_in: int
    absent: int
    made_up: int


async def attendance_counts(*, session: AsyncSession, session_id: int) -> AttendanceCounts:
    """Invited, will attend, not answered, leave, checked in, absent, made up."""
    t = _ATTENDANCE.c

    def count_if(condition: Any) -> Any:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

    stmt = sa.select(
        sa.func.count(),
        count_if(t.rsvp == Rsvp.ATTEND.value),
        count_if(t.rsvp == Rsvp.NONE.value),
        count_if(t.leave_state == LeaveState.PENDING.value),
        count_if(t.leave_state == LeaveState.APPROVED.value),
        count_if(t.checked_in_at.is_not(None)),
        count_if(t.outcome == AttendanceOutcome.ABSENT.value),
        count_if(t.makeup_done_at.is_not(None)),
    ).where(t.session_id == session_id)
    connection = await session.connection()
    row = (await connection.execute(stmt)).one()
    return AttendanceCounts(*(int(value) for value in row))


async def attendance_rate(
    *, session: AsyncSession, member_id: int, year: int, tz: tzinfo = UTC
) -> float | None:
    """Share of the member's finalised sessions this year at which they were present.

    Excused absences count as not present; None when no session of the year is finalised.
    ``tz`` says where the year begins (the people's zone).
    """
    start = datetime(year, 1, 1, tzinfo=tz)
    end = datetime(year + 1, 1, 1, tzinfo=tz)
    present = sa.func.sum(
        sa.case((col(Attendance.outcome) == AttendanceOutcome.PRESENT, 1), else_=0)
    )
    result = await session.exec(
        select(sa.func.count(), present)
        .select_from(Attendance)
        .join(StudySession, col(StudySession.id) == col(Attendance.session_id))
        .where(
            col(Attendance.member_id) == member_id,
            col(Attendance.outcome) != AttendanceOutcome.PENDING,
            col(StudySession.starts_at) >= start,
            col(StudySession.starts_at) < end,
        )
    )
    total, attended = result.one()
    if not total:
        return None
    return int(attended or 0) / int(total)


async def absence_streaks(
    *, session: AsyncSession, member_ids: Sequence[int], length: int
) -> list[int]:
    """Members whose last ``length`` finalised sessions were all plain absences, exactly.

    "Exactly": the session before those was not an absence, so a member is named once,
    when the streak reaches ``length``, not again at every further absence.
    """
    if not member_ids:
        return []
    ranked = (
        select(
            Attendance.member_id,
            Attendance.outcome,
            sa.func.row_number()
            .over(
                partition_by=col(Attendance.member_id),
                order_by=(col(StudySession.starts_at).desc(), col(StudySession.id).desc()),
            )
            .label("rn"),
        )
        .join(StudySession, col(StudySession.id) == col(Attendance.session_id))
        .where(
            col(Attendance.member_id).in_(list(member_ids)),
            col(Attendance.outcome) != AttendanceOutcome.PENDING,
        )
        .subquery()
    )
    absent = ranked.c.outcome == AttendanceOutcome.ABSENT.value
    in_streak = sa.func.sum(sa.case((sa.and_(ranked.c.rn <= length, absent), 1), else_=0))
    before = sa.func.sum(sa.case((sa.and_(ranked.c.rn == length + 1, absent), 1), else_=0))
    result = await session.exec(
        select(ranked.c.member_id)
        .where(ranked.c.rn <= length + 1)
        .group_by(ranked.c.member_id)
        .having(in_streak == length, before == 0)
        .order_by(ranked.c.member_id)
    )
    return [int(member_id) for member_id in result.all()]


# --- series -------------------------------------------------------------------------------


async def create_series(
    *,
    session: AsyncSession,
    org_id: int,
    kind: SessionKind,
    topic: str,
    rule: str,
    local_time: time,
    duration_minutes: int,
    place: str,
    audience_kind: AudienceKind,
    audience_org_id: int,
    reminder_offsets: Sequence[int],
    created_by: int,
    now: datetime,
) -> SessionSeries:
    """A repeating session; its occurrences are generated a few weeks ahead by a job."""
    series = SessionSeries(
        org_id=org_id,
        kind=kind,
        topic=topic,
        rule=rule,
        local_time=local_time,
        duration_minutes=duration_minutes,
        place=place,
        audience_kind=audience_kind,
        audience_org_id=audience_org_id,
        reminder_offsets=list(reminder_offsets),
        created_by=created_by,
        created_at=now,
    )
    session.add(series)
    await session.flush()
    return series


async def active_series(*, session: AsyncSession) -> list[SessionSeries]:
    """Series still generating occurrences."""
    result = await session.exec(
        select(SessionSeries)
        .where(col(SessionSeries.active).is_(True))
        .order_by(col(SessionSeries.id))
    )
    return list(result.all())


async def series_slots(*, session: AsyncSession, series_id: int) -> set[date]:
    """Occurrence days already generated (moved and cancelled ones included)."""
    result = await session.exec(
        select(col(StudySession.series_slot)).where(StudySession.series_id == series_id)
    )
    return {slot for slot in result.all() if slot is not None}


async def cancel_series(*, session: AsyncSession, series_id: int, now: datetime) -> list[int]:
    """Stop a series and cancel its occurrences still ahead; returns their ids."""
    await session.exec(
        update(SessionSeries).where(col(SessionSeries.id) == series_id).values(active=False)
    )
    result = await session.exec(
        select(StudySession.id).where(
            col(StudySession.series_id) == series_id,
            col(StudySession.state) == SessionState.SCHEDULED,
            col(StudySession.starts_at) > now,
        )
    )
    cancelled = []
    for session_id in result.all():
        if session_id is not None and await cancel_session(
            session=session, session_id=session_id, now=now
        ):
            cancelled.append(session_id)
    return cancelled


# --- the silent-branch ladder -------------------------------------------------------------


async def orgs_of_kinds(*, session: AsyncSession, kinds: Sequence[OrgKind]) -> list[OrgUnit]:
    """Active org units of these kinds, by path."""
    result = await session.exec(
        select(OrgUnit)
        .where(col(OrgUnit.kind).in_(list(kinds)), col(OrgUnit.active).is_(True))
        .order_by(col(OrgUnit.path))
    )
    return list(result.all())


async def last_held(
    *, session: AsyncSession, now: datetime
) -> dict[tuple[int, SessionKind], datetime]:
    """When each org last held each kind (started and not cancelled).

    A party group meeting held for one party group counts for that group, not its branch.
    """
    holder = sa.case(
        (
            sa.and_(
                col(StudySession.kind) == SessionKind.PARTY_GROUP_MEETING,
                col(StudySession.audience_kind) == AudienceKind.PARTY_GROUP,
            ),
            col(StudySession.audience_org_id),
        ),
        else_=col(StudySession.org_id),
    )
    latest = sa.func.max(StudySession.starts_at)
    result = await session.exec(
        select(holder, StudySession.kind, latest)
        .where(StudySession.state != SessionState.CANCELLED, col(StudySession.starts_at) <= now)
        .group_by(holder, col(StudySession.kind))
    )
    return {(int(org_id), SessionKind(kind)): moment for org_id, kind, moment in result.all()}


async def first_session_created_at(*, session: AsyncSession) -> datetime | None:
    """When partybot first scheduled anything: periods before it are not judged."""
    result = await session.exec(select(sa.func.min(StudySession.created_at)))
    return result.one()


async def open_escalation(
    *, session: AsyncSession, org_id: int, kind: SessionKind, period_start: date, now: datetime
) -> bool:
    """Start the ladder for a missed period at level 1; False if it was started before."""
    before = await session.exec(
        select(sa.func.count())
        .select_from(SessionEscalation)
        .where(
            col(SessionEscalation.org_id) == org_id,
            col(SessionEscalation.kind) == kind,
            col(SessionEscalation.period_start) == period_start,
        )
    )
    if before.one():
        return False
    await insert_ignore(
        session,
        SessionEscalation,
        {
            "org_id": org_id,
            "kind": kind,
            "period_start": period_start,
            "level": 1,
            "last_step_at": now,
            "created_at": now,
        },
        conflict=["org_id", "kind", "period_start"],
    )
    return True


async def open_escalations(*, session: AsyncSession) -> list[SessionEscalation]:
    """Ladders not yet stopped by a held session."""
    result = await session.exec(
        select(SessionEscalation)
        .where(col(SessionEscalation.resolved_at).is_(None))
        .order_by(col(SessionEscalation.id))
        .execution_options(populate_existing=True)
    )
    return list(result.all())


async def step_escalation(
    *, session: AsyncSession, escalation_id: int, from_level: int, now: datetime
) -> bool:
    """Climb one level; False if another run climbed already."""
    result = await session.exec(
        update(SessionEscalation)
        .where(
            col(SessionEscalation.id) == escalation_id,
            col(SessionEscalation.level) == from_level,
            col(SessionEscalation.resolved_at).is_(None),
        )
        .values(level=from_level + 1, last_step_at=now)
    )
    return bool(result.rowcount)


async def resolve_escalation(*, session: AsyncSession, escalation_id: int, now: datetime) -> None:
    """A session was held: the ladder stops."""
    await session.exec(
        update(SessionEscalation)
        .where(col(SessionEscalation.id) == escalation_id)
        .values(resolved_at=now)
    )
