"""Attendance: one row per session and invited member, from the invitation to the outcome.

The invited list follows the roster until a session starts (enrol, withdraw, invite).
Every change that many people could race on (a double tap, a replayed update, two
secretaries deciding the same leave) is one conditional UPDATE whose row count says
whether this call made the change. Counts and rates are computed in SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlmodel import Session, col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from storage._sql import table_of
from storage.models.accounts import TelegramAccount
from storage.models.members import Member
from storage.models.orgs import OrgUnit
from storage.models.sessions import (
    Attendance,
    AttendanceOutcome,
    AudienceKind,
    CheckinMethod,
    LeaveReason,
    LeaveState,
    Rsvp,
    SessionState,
    StudySession,
)
from storage.types import UTCDateTime

__all__ = [
    "AttendanceCounts",
    "Invitee",
    "absence_streaks",
    "attendance_counts",
    "attendance_rate",
    "check_in",
    "count_checkin_failure",
    "decide_leave",
    "enrol",
    "finalise_session",
    "get_attendance",
    "get_attendance_by_id",
    "invitees",
    "mark_invited",
    "mark_makeup_done",
    "mark_makeup_sent",
    "own_row",
    "own_row_on",
    "request_leave",
    "set_rsvp",
    "uninvited",
    "withdraw_departed",
]

_ATTENDANCE = table_of(Attendance)
_STUDY = table_of(StudySession)
_MEMBER = table_of(Member)
_ORG = table_of(OrgUnit)


# --- the invited list ---------------------------------------------------------------------


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
    db: AsyncSession,
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
        result = await db.exec(sa.insert(_ATTENDANCE).from_select(columns, chosen))
        added += max(result.rowcount, 0)
    return added


async def withdraw_departed(
    *, db: AsyncSession, now: datetime, member_ids: Sequence[int] | None = None
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
    result = await db.exec(stmt)
    return max(result.rowcount, 0)


async def uninvited(
    *, db: AsyncSession, now: datetime, member_ids: Sequence[int] | None = None
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
    for session_id, member_id in (await db.exec(query)).all():
        found.setdefault(session_id, []).append(member_id)
    return found


async def mark_invited(
    *, db: AsyncSession, session_id: int, member_ids: Sequence[int], now: datetime
) -> None:
    """Note that these invitees' invitations are queued."""
    if not member_ids:
        return
    await db.exec(
        update(Attendance)
        .where(
            col(Attendance.session_id) == session_id,
            col(Attendance.member_id).in_(member_ids),
            col(Attendance.invited_at).is_(None),
        )
        .values(invited_at=now)
    )


# --- reading rows -------------------------------------------------------------------------


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


async def invitees(*, db: AsyncSession, session_id: int) -> list[Invitee]:
    """Everyone invited to a session, by name."""
    result = await db.exec(
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
    *, db: AsyncSession, session_id: int, member_id: int
) -> Attendance | None:
    """The member's row for this session (None: not invited)."""
    result = await db.exec(
        select(Attendance)
        .where(Attendance.session_id == session_id, col(Attendance.member_id) == member_id)
        .execution_options(populate_existing=True)
    )
    return result.first()


def _own_row_query(session_id: int, telegram_user_id: int) -> Select[StudySession, Attendance]:
    """The session joined to the row of the active member behind a Telegram account."""
    return (
        select(StudySession, Attendance)
        .join(Attendance, col(Attendance.session_id) == col(StudySession.id))
        .join(Member, col(Member.id) == col(Attendance.member_id))
        .where(
            col(StudySession.id) == session_id,
            col(Member.telegram_user_id) == telegram_user_id,
            col(Member.active).is_(True),
        )
        .execution_options(populate_existing=True)
    )


async def own_row(
    *, db: AsyncSession, session_id: int, telegram_user_id: int
) -> tuple[StudySession, Attendance] | None:
    """The session and the row of the active member behind this Telegram account (None:
    not invited, or no such session or member), read fresh in ONE statement: a tap on
    参加 or 签到 starts here, thousands at once when a meeting begins.
    """
    found = (await db.exec(_own_row_query(session_id, telegram_user_id))).first()
    return (found[0], found[1]) if found is not None else None


def own_row_on(
    connection: sa.Connection, *, session_id: int, telegram_user_id: int
) -> tuple[StudySession, Attendance] | None:
    """`own_row` on a synchronous connection (`Database.read_sync`), for decisions that
    only read: the objects come back detached, every column loaded."""
    with Session(bind=connection) as db:
        found = db.exec(_own_row_query(session_id, telegram_user_id)).first()
        return (found[0], found[1]) if found is not None else None


async def get_attendance_by_id(*, db: AsyncSession, attendance_id: int) -> Attendance | None:
    """An attendance row by its id, read fresh."""
    return await db.get(Attendance, attendance_id, populate_existing=True)


# --- answers and outcomes -----------------------------------------------------------------


async def set_rsvp(*, db: AsyncSession, attendance_id: int, now: datetime) -> Attendance | None:
    """The member will attend: the row as it now is, or None if that was already the
    answer (a double tap). One statement (UPDATE ... RETURNING): 参加 comes in rushes.

    Saying "attend" withdraws a pending leave request.
    """
    result = await db.exec(
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
        .returning(Attendance)
        .execution_options(populate_existing=True, synchronize_session=False)
    )
    return result.scalars().first()


async def request_leave(
    *,
    db: AsyncSession,
    attendance_id: int,
    reason: LeaveReason,
    note: str | None,
    now: datetime,
) -> bool:
    """Ask for leave; False if a leave request is already pending or approved."""
    result = await db.exec(
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
    *, db: AsyncSession, attendance_id: int, approve: bool, decided_by: int, now: datetime
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
    result = await db.exec(
        update(Attendance)
        .where(
            col(Attendance.id) == attendance_id, col(Attendance.leave_state) == LeaveState.PENDING
        )
        .values(**values)
    )
    return bool(result.rowcount)


async def check_in(
    *,
    db: AsyncSession,
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
    result = await db.exec(
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


async def count_checkin_failure(*, db: AsyncSession, attendance_id: int) -> int:
    """Add one wrong code to the member's count for this session and return the count."""
    await db.exec(
        update(Attendance)
        .where(col(Attendance.id) == attendance_id)
        .values(checkin_failures=col(Attendance.checkin_failures) + 1)
    )
    result = await db.exec(
        select(Attendance.checkin_failures).where(Attendance.id == attendance_id)
    )
    return int(result.one())


async def mark_makeup_sent(
    *, db: AsyncSession, attendance_ids: Sequence[int], now: datetime
) -> None:
    """Note that make-up material went out to these invitees."""
    if attendance_ids:
        await db.exec(
            update(Attendance)
            .where(col(Attendance.id).in_(list(attendance_ids)))
            .values(makeup_sent_at=now)
        )


async def mark_makeup_done(*, db: AsyncSession, attendance_id: int, now: datetime) -> bool:
    """The member studied the material; False if already confirmed."""
    result = await db.exec(
        update(Attendance)
        .where(
            col(Attendance.id) == attendance_id,
            col(Attendance.makeup_done_at).is_(None),
            col(Attendance.outcome).in_([AttendanceOutcome.ABSENT, AttendanceOutcome.EXCUSED]),
        )
        .values(makeup_done_at=now)
    )
    return bool(result.rowcount)


async def finalise_session(
    *, db: AsyncSession, session_id: int, now: datetime, organiser: int | None = None
) -> bool:
    """Close the session and give every invitee an explicit outcome, in one transaction.

    Checked in, or the organiser (``organiser``: the Telegram id of whoever scheduled
    it): present; approved leave: excused; anyone else: absent. False if the session was
    not scheduled any more (another run closed it first).
    """
    result = await db.exec(
        update(StudySession)
        .where(
            col(StudySession.id) == session_id, col(StudySession.state) == SessionState.SCHEDULED
        )
        .values(state=SessionState.CLOSED, updated_at=now)
    )
    if not result.rowcount:
        return False
    present: sa.ColumnElement[bool] = col(Attendance.checked_in_at).is_not(None)
    if organiser is not None:  # (never "IS NULL": members without Telegram are no organiser)
        present = sa.or_(
            present,
            col(Attendance.member_id).in_(
                select(Member.id).where(col(Member.telegram_user_id) == sa.literal(organiser))
            ),
        )
    outcome = sa.case(
        (present, AttendanceOutcome.PRESENT.value),
        (col(Attendance.leave_state) == LeaveState.APPROVED, AttendanceOutcome.EXCUSED.value),
        else_=AttendanceOutcome.ABSENT.value,
    )
    await db.exec(
        update(Attendance)
        .where(
            col(Attendance.session_id) == session_id,
            col(Attendance.outcome) == AttendanceOutcome.PENDING,
        )
        .values(outcome=outcome, updated_at=now)
    )
    return True


# --- reports ------------------------------------------------------------------------------


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


async def attendance_counts(*, db: AsyncSession, session_id: int) -> AttendanceCounts:
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
    connection = await db.connection()
    row = (await connection.execute(stmt)).one()
    return AttendanceCounts(*(int(value) for value in row))


async def attendance_rate(
    *, db: AsyncSession, member_id: int, year: int, tz: tzinfo = UTC
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
    result = await db.exec(
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
    *, db: AsyncSession, member_ids: Sequence[int], length: int
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
    result = await db.exec(
        select(ranked.c.member_id)
        .where(ranked.c.rn <= length + 1)
        .group_by(ranked.c.member_id)
        .having(in_streak == length, before == 0)
        .order_by(ranked.c.member_id)
    )
    return [int(member_id) for member_id in result.all()]
