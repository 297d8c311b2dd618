"""Study sessions aggregate: sessions, their reminders and series, and the lists that show them.

Every change that two runs or two taps could race on (moving or cancelling a session, a
reminder job run twice) is one conditional UPDATE whose row count says whether this call
made the change. Who is invited and how they answered live in ``storage.attendance``; the
silent-branch ladder in ``storage.escalations``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.attendance import enrol
from storage.models.notices import AttachmentKind
from storage.models.orgs import OrgKind, OrgUnit
from storage.models.sessions import (
    Attendance,
    AudienceKind,
    ReminderState,
    SessionKind,
    SessionReminder,
    SessionSeries,
    SessionState,
    StudySession,
)

__all__ = [
    "MemberSession",
    "OfficerSession",
    "active_series",
    "add_minutes",
    "cancel_series",
    "cancel_session",
    "create_series",
    "create_session",
    "due_reminders",
    "get_session",
    "member_sessions",
    "officer_sessions",
    "party_groups",
    "recent_places",
    "reminder_offsets",
    "replan_reminders",
    "series_slots",
    "sessions_of_orgs",
    "sessions_starting",
    "sessions_to_close",
    "set_reminder_state",
    "update_session",
]


# --- sessions -----------------------------------------------------------------------------


async def create_session(
    *,
    db: AsyncSession,
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
    checkin_closes_minutes_after: int = 30,
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
    db.add(row)
    await db.flush()
    assert row.id is not None
    for offset, due_at, state in reminders:
        db.add(
            SessionReminder(session_id=row.id, offset_minutes=offset, due_at=due_at, state=state)
        )
    await enrol(db=db, now=now, session_ids=[row.id])
    await db.flush()
    return row


async def get_session(*, db: AsyncSession, session_id: int) -> StudySession | None:
    """The session with this id, read fresh (another tap may just have changed it)."""
    return await db.get(StudySession, session_id, populate_existing=True)


async def update_session(
    *, db: AsyncSession, session_id: int, changes: dict[str, Any], now: datetime
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
    result = await db.exec(
        update(StudySession)
        .where(
            col(StudySession.id) == session_id, col(StudySession.state) == SessionState.SCHEDULED
        )
        .values(**changes, updated_at=now)
    )
    if not result.rowcount:
        return None
    return await get_session(db=db, session_id=session_id)


async def cancel_session(*, db: AsyncSession, session_id: int, now: datetime) -> bool:
    """Cancel a scheduled session and its pending reminders; False if it was not scheduled."""
    result = await db.exec(
        update(StudySession)
        .where(
            col(StudySession.id) == session_id, col(StudySession.state) == SessionState.SCHEDULED
        )
        .values(state=SessionState.CANCELLED, updated_at=now)
    )
    if not result.rowcount:
        return False
    await db.exec(
        update(SessionReminder)
        .where(
            col(SessionReminder.session_id) == session_id,
            col(SessionReminder.state) == ReminderState.PENDING,
        )
        .values(state=ReminderState.CANCELLED)
    )
    return True


async def add_minutes(
    *,
    db: AsyncSession,
    session_id: int,
    text: str | None = None,
    photo_id: str | None = None,
    now: datetime,
) -> StudySession | None:
    """Append a paragraph or a photo to the minutes."""
    study = await get_session(db=db, session_id=session_id)
    if study is None:
        return None
    if text:
        study.minutes_text = f"{study.minutes_text}\n{text}" if study.minutes_text else text
    if photo_id:
        study.minutes_photo_ids = [*(study.minutes_photo_ids or []), photo_id]
    study.updated_at = now
    db.add(study)
    await db.flush()
    return study


async def party_groups(*, db: AsyncSession, org_id: int) -> list[OrgUnit]:
    """The active party groups (党小组) of a branch, by name: possible audiences."""
    result = await db.exec(
        select(OrgUnit)
        .where(
            OrgUnit.parent_id == org_id,
            OrgUnit.kind == OrgKind.PARTY_GROUP,
            col(OrgUnit.active).is_(True),
        )
        .order_by(col(OrgUnit.name))
    )
    return list(result.all())


async def recent_places(*, db: AsyncSession, org_id: int, limit: int = 3) -> list[str]:
    """Places this org used lately, newest first, for one-tap choice."""
    latest = sa.func.max(StudySession.created_at)
    result = await db.exec(
        select(StudySession.place)
        .where(StudySession.org_id == org_id)
        .group_by(col(StudySession.place))
        .order_by(latest.desc())
        .limit(limit)
    )
    return list(result.all())


# --- reminders ----------------------------------------------------------------------------


async def due_reminders(
    *, db: AsyncSession, now: datetime, limit: int = 100
) -> list[tuple[SessionReminder, StudySession]]:
    """Pending reminders whose moment has come, oldest first, with their session."""
    result = await db.exec(
        select(SessionReminder, StudySession)
        .join(StudySession, col(StudySession.id) == col(SessionReminder.session_id))
        .where(SessionReminder.state == ReminderState.PENDING, col(SessionReminder.due_at) <= now)
        .order_by(col(SessionReminder.due_at), col(SessionReminder.id))
        .limit(limit)
    )
    return [(reminder, study) for reminder, study in result.all()]


async def set_reminder_state(
    *, db: AsyncSession, reminder_id: int, state: ReminderState, now: datetime
) -> bool:
    """Move a pending reminder to sent, skipped or cancelled; False if no longer pending."""
    result = await db.exec(
        update(SessionReminder)
        .where(
            col(SessionReminder.id) == reminder_id,
            col(SessionReminder.state) == ReminderState.PENDING,
        )
        .values(state=state, sent_at=now if state == ReminderState.SENT else None)
    )
    return bool(result.rowcount)


async def reminder_offsets(*, db: AsyncSession, session_id: int) -> list[int]:
    """The offsets (minutes before the start) a session is reminded at."""
    result = await db.exec(
        select(SessionReminder.offset_minutes).where(SessionReminder.session_id == session_id)
    )
    return list(result.all())


async def replan_reminders(
    *,
    db: AsyncSession,
    session_id: int,
    reminders: Sequence[tuple[int, datetime, ReminderState]],
) -> None:
    """After a move: every offset gets its new due time and is pending (or skipped) again."""
    for offset, due_at, state in reminders:
        await db.exec(
            update(SessionReminder)
            .where(
                col(SessionReminder.session_id) == session_id,
                col(SessionReminder.offset_minutes) == offset,
            )
            .values(due_at=due_at, state=state, sent_at=None)
        )


# --- series -------------------------------------------------------------------------------


async def create_series(
    *,
    db: AsyncSession,
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
    db.add(series)
    await db.flush()
    return series


async def active_series(*, db: AsyncSession) -> list[SessionSeries]:
    """Series still generating occurrences."""
    result = await db.exec(
        select(SessionSeries)
        .where(col(SessionSeries.active).is_(True))
        .order_by(col(SessionSeries.id))
    )
    return list(result.all())


async def series_slots(*, db: AsyncSession, series_id: int) -> set[date]:
    """Occurrence days already generated (moved and cancelled ones included)."""
    result = await db.exec(
        select(col(StudySession.series_slot)).where(StudySession.series_id == series_id)
    )
    return {slot for slot in result.all() if slot is not None}


async def cancel_series(*, db: AsyncSession, series_id: int, now: datetime) -> list[int]:
    """Stop a series and cancel its occurrences still ahead; returns their ids."""
    await db.exec(
        update(SessionSeries).where(col(SessionSeries.id) == series_id).values(active=False)
    )
    result = await db.exec(
        select(StudySession.id).where(
            col(StudySession.series_id) == series_id,
            col(StudySession.state) == SessionState.SCHEDULED,
            col(StudySession.starts_at) > now,
        )
    )
    cancelled = []
    for session_id in result.all():
        if session_id is not None and await cancel_session(db=db, session_id=session_id, now=now):
            cancelled.append(session_id)
    return cancelled


# --- lists --------------------------------------------------------------------------------


async def sessions_to_close(*, db: AsyncSession, now: datetime) -> list[StudySession]:
    """Scheduled sessions that have started; the caller decides whose window has closed."""
    result = await db.exec(
        select(StudySession)
        .where(StudySession.state == SessionState.SCHEDULED, col(StudySession.starts_at) <= now)
        .order_by(col(StudySession.starts_at))
    )
    return list(result.all())


async def sessions_starting(
    *, db: AsyncSession, start: datetime, end: datetime
) -> list[StudySession]:
    """Scheduled sessions starting in [start, end), soonest first."""
    result = await db.exec(
        select(StudySession)
        .where(
            StudySession.state == SessionState.SCHEDULED,
            StudySession.starts_at >= start,
            StudySession.starts_at < end,
        )
        .order_by(col(StudySession.starts_at), col(StudySession.id))
    )
    return list(result.all())


class MemberSession(NamedTuple):
    """A session as one member sees it."""

    study: StudySession
    attendance: Attendance


async def member_sessions(
    *, db: AsyncSession, member_id: int, now: datetime, limit: int = 5
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
    upcoming = await db.exec(
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
    recent = await db.exec(
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
    db: AsyncSession,
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
    result = await db.exec(stmt.order_by(order, col(StudySession.id)).limit(limit))
    return list(result.all())


class OfficerSession(NamedTuple):
    """A session in an officer's list, with the name of the org that holds it."""

    study: StudySession
    org_name: str


async def officer_sessions(
    *,
    db: AsyncSession,
    org_paths: Sequence[str],
    now: datetime,
    start: datetime | None = None,
    end: datetime | None = None,
    offset: int = 0,
    limit: int = 8,
) -> tuple[list[OfficerSession], int]:
    """One page of the sessions organised in these subtrees (not cancelled), and how many
    there are: those that have started first, most recent first, then those ahead."""
    under = sa.or_(*(col(OrgUnit.path).startswith(path) for path in org_paths))
    conditions = [under, col(StudySession.state) != SessionState.CANCELLED]
    if start is not None:
        conditions.append(col(StudySession.starts_at) >= start)
    if end is not None:
        conditions.append(col(StudySession.starts_at) < end)
    started = col(StudySession.starts_at) <= now
    total = await db.exec(
        select(sa.func.count())
        .select_from(StudySession)
        .join(OrgUnit, col(OrgUnit.id) == col(StudySession.org_id))
        .where(*conditions)
    )
    page = await db.exec(
        select(StudySession, OrgUnit.name)
        .join(OrgUnit, col(OrgUnit.id) == col(StudySession.org_id))
        .where(*conditions)
        .order_by(
            sa.case((started, 0), else_=1),
            sa.case((started, col(StudySession.starts_at)), else_=None).desc(),
            col(StudySession.starts_at),
            col(StudySession.id),
        )
        .offset(offset)
        .limit(limit)
    )
    return [OfficerSession(study, str(name)) for study, name in page.all()], int(total.one())
