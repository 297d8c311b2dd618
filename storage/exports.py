"""Rows of the /export workbook: members, sessions, attendance, notices, 已阅 (acks).

Each function lists what lies inside one org subtree (a materialised path prefix) and,
where it has a date, inside ``[start, end)``; the per-session and per-notice counts are
grouped in SQL. Rows are plain tuples in sheet column order; times are UTC. The session
and attendance rows give enum columns as their stored text (a StrEnum member equals it). ``only``
narrows a workbook to the subtrees of the units of one class or flag (storage/guidance.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from storage._sql import table_of
from storage.guidance import Only, within
from storage.models.funds import FundAllocation
from storage.models.members import Member
from storage.models.notices import Delivery, Notice
from storage.models.orgs import OrgUnit
from storage.models.sessions import Attendance, AttendanceOutcome, StudySession
from storage.models.trainings import Training, TrainingAssignee, TrainingConfirmation
from storage.reports import delivered_notice, notices_between
from storage.types import UTCDateTime

__all__ = [
    "ack_rows",
    "attendance_rows",
    "fund_rows",
    "member_rows",
    "notice_rows",
    "session_rows",
    "training_rows",
]

_ORG = table_of(OrgUnit)
_MEMBER = table_of(Member)
_ATTENDANCE = table_of(Attendance)
_STUDY = table_of(StudySession)
_NOTICE = table_of(Notice)
_DELIVERY = table_of(Delivery)
_FUND = table_of(FundAllocation)
_TRAINING = table_of(Training)
_ASSIGNEE = table_of(TrainingAssignee)
_CONFIRMATION = table_of(TrainingConfirmation)


_PART = 5000  # rows read at a time: between two parts the event loop serves others


async def _rows(
    db: AsyncSession, stmt: sa.Select[Any], times: tuple[int, ...] = ()
) -> list[tuple[Any, ...]]:
    """The rows, read a part at a time (a county-year's attendance is 300,000 rows).

    The columns at ``times`` were selected raw (``_raw``) and are turned into aware UTC
    datetimes here, each distinct value once: a session's start repeats for every
    invitee, and the column type's own conversion per value was most of the read."""
    await db.flush()
    connection = await db.connection()
    result = await connection.stream(stmt)
    rows: list[tuple[Any, ...]] = []
    seen: dict[Any, datetime | None] = {None: None}
    async for part in result.partitions(_PART):
        if not times:
            rows.extend(tuple(row) for row in part)
            continue
        for row in part:
            values = list(row)
            for index in times:
                raw = values[index]
                moment = seen.get(raw, _UNSEEN)
                if moment is _UNSEEN:
                    moment = seen[raw] = _as_utc(raw)
                values[index] = moment
            rows.append(tuple(values))
    return rows


_UNSEEN: Any = object()


def _raw(column: Any) -> Any:
    """A timestamp or enum column as the driver gives it (no per-value conversion)."""
    return sa.type_coerce(column, sa.String())


def _as_utc(raw: Any) -> datetime:
    """A raw timestamp (text on SQLite, a datetime on PostgreSQL) as aware UTC."""
    moment = datetime.fromisoformat(raw) if isinstance(raw, str) else raw
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _utc(moment: datetime) -> Any:
    return sa.literal(moment, type_=UTCDateTime())


def _in(org: Any, path: str, only: Only | None) -> sa.ColumnElement[bool]:
    """The row's org lies in the subtree (and, narrowed, in a flagged unit's subtree)."""
    inside: sa.ColumnElement[bool] = org.c.path.startswith(path)
    return inside if only is None else sa.and_(inside, within(only, org.c.id))


async def member_rows(
    *, db: AsyncSession, path: str, only: Only | None = None
) -> list[tuple[Any, ...]]:
    """(name, org code, org name, status, joined on, on Telegram, active), by org and name."""
    return await _rows(
        db,
        sa.select(
            _MEMBER.c.name,
            _ORG.c.code,
            _ORG.c.name,
            _MEMBER.c.status,
            _MEMBER.c.joined_on,
            _MEMBER.c.telegram_user_id.is_not(None),
            _MEMBER.c.active,
        )
        .join(_ORG, _ORG.c.id == _MEMBER.c.org_id)
        .where(_in(_ORG, path, only))
        .order_by(_ORG.c.code, _MEMBER.c.name, _MEMBER.c.id),
    )


async def session_rows(
    *, db: AsyncSession, path: str, only: Only | None = None, start: datetime, end: datetime
) -> list[tuple[Any, ...]]:
    """(starts at, org name, kind, topic, place, state, invited, present, excused, absent)
    of the sessions organised in the subtree, oldest first."""
    outcome = _ATTENDANCE.c.outcome
    return await _rows(
        db,
        sa.select(
            _raw(_STUDY.c.starts_at),
            _ORG.c.name,
            _raw(_STUDY.c.kind),
            _STUDY.c.topic,
            _STUDY.c.place,
            _raw(_STUDY.c.state),
            sa.func.count(_ATTENDANCE.c.id),
            sa.func.count(_ATTENDANCE.c.id).filter(outcome == AttendanceOutcome.PRESENT.value),
            sa.func.count(_ATTENDANCE.c.id).filter(outcome == AttendanceOutcome.EXCUSED.value),
            sa.func.count(_ATTENDANCE.c.id).filter(outcome == AttendanceOutcome.ABSENT.value),
        )
        .join(_ORG, _ORG.c.id == _STUDY.c.org_id)
        .outerjoin(_ATTENDANCE, _ATTENDANCE.c.session_id == _STUDY.c.id)
        .where(
            _in(_ORG, path, only),
            _STUDY.c.starts_at >= _utc(start),
            _STUDY.c.starts_at < _utc(end),
        )
        .group_by(_STUDY.c.id, _ORG.c.name)
        .order_by(_STUDY.c.starts_at, _STUDY.c.id),
        times=(0,),
    )


async def attendance_rows(
    *, db: AsyncSession, path: str, only: Only | None = None, start: datetime, end: datetime
) -> list[tuple[Any, ...]]:
    """(starts at, session topic, kind, member, member's org, rsvp, leave, outcome,
    checked in at, make-up done at) of the subtree's members, oldest session first."""
    return await _rows(
        db,
        sa.select(
            _raw(_STUDY.c.starts_at),
            _STUDY.c.topic,
            _raw(_STUDY.c.kind),
            _MEMBER.c.name,
            _ORG.c.name,
            _raw(_ATTENDANCE.c.rsvp),
            _raw(_ATTENDANCE.c.leave_state),
            _raw(_ATTENDANCE.c.outcome),
            _raw(_ATTENDANCE.c.checked_in_at),
            _raw(_ATTENDANCE.c.makeup_done_at),
        )
        .select_from(_ATTENDANCE)
        .join(_STUDY, _STUDY.c.id == _ATTENDANCE.c.session_id)
        .join(_MEMBER, _MEMBER.c.id == _ATTENDANCE.c.member_id)
        .join(_ORG, _ORG.c.id == _MEMBER.c.org_id)
        .where(
            _in(_ORG, path, only),
            _STUDY.c.starts_at >= _utc(start),
            _STUDY.c.starts_at < _utc(end),
        )
        .order_by(_STUDY.c.starts_at, _STUDY.c.id, _MEMBER.c.name),
        times=(0, 8, 9),
    )


async def notice_rows(
    *, db: AsyncSession, path: str, only: Only | None = None, start: datetime, end: datetime
) -> list[tuple[Any, ...]]:
    """(sent at, org name, text, asks 已阅, delivered, acked) of notices sent by the
    subtree's orgs, oldest first."""
    return await _rows(
        db,
        sa.select(
            _NOTICE.c.created_at,
            _ORG.c.name,
            _NOTICE.c.text,
            _NOTICE.c.requires_ack,
            sa.func.count(_DELIVERY.c.id),
            sa.func.count(_DELIVERY.c.acknowledged_at),
        )
        .join(_ORG, _ORG.c.id == _NOTICE.c.org_id)
        .outerjoin(_DELIVERY, sa.and_(_DELIVERY.c.notice_id == _NOTICE.c.id, delivered_notice()))
        .where(
            _in(_ORG, path, only),
            _NOTICE.c.created_at >= _utc(start),
            _NOTICE.c.created_at < _utc(end),
        )
        .group_by(_NOTICE.c.id, _ORG.c.name)
        .order_by(_NOTICE.c.created_at, _NOTICE.c.id),
    )


async def ack_rows(
    *, db: AsyncSession, path: str, only: Only | None = None, start: datetime, end: datetime
) -> list[tuple[Any, ...]]:
    """(notice sent at, notice text, member, member's org, delivered at, acked at) for the
    subtree's members, whoever sent the notice."""
    return await _rows(
        db,
        sa.select(
            _NOTICE.c.created_at,
            _NOTICE.c.text,
            _MEMBER.c.name,
            _ORG.c.name,
            _DELIVERY.c.sent_at,
            _DELIVERY.c.acknowledged_at,
        )
        .select_from(_DELIVERY)
        .join(_NOTICE, _NOTICE.c.id == _DELIVERY.c.notice_id)
        .join(_MEMBER, _MEMBER.c.id == _DELIVERY.c.member_id)
        .join(_ORG, _ORG.c.id == _MEMBER.c.org_id)
        .where(
            _DELIVERY.c.notice_id.in_(notices_between(start, end)),
            delivered_notice(),
            _in(_ORG, path, only),
        )
        .order_by(_NOTICE.c.created_at, _NOTICE.c.id, _MEMBER.c.name),
    )


async def fund_rows(
    *, db: AsyncSession, path: str, only: Only | None = None, years: list[int]
) -> list[tuple[Any, ...]]:
    """(year, org name, source, purpose, amount, note, recorded at) of the money recorded
    in the subtree in these years, by year, org and time."""
    return await _rows(
        db,
        sa.select(
            _FUND.c.year,
            _ORG.c.name,
            _FUND.c.source,
            _FUND.c.purpose,
            _FUND.c.amount_yuan,
            _FUND.c.note,
            _FUND.c.recorded_at,
        )
        .join(_ORG, _ORG.c.id == _FUND.c.org_id)
        .where(_in(_ORG, path, only), _FUND.c.year.in_(years))
        .order_by(_FUND.c.year, _ORG.c.code, _FUND.c.recorded_at, _FUND.c.id),
    )


async def training_rows(
    *, db: AsyncSession, path: str, only: Only | None = None, start: datetime, end: datetime
) -> list[tuple[Any, ...]]:
    """(published, title, organiser, held on, deadline, hours, member, member's org,
    completed at): one row per member of the subtree in a training published in
    [start, end), the trainings' own notion of a period."""
    author = _ORG.alias("author")
    return await _rows(
        db,
        sa.select(
            _TRAINING.c.created_at,
            _TRAINING.c.title,
            author.c.name,
            _TRAINING.c.held_on,
            _TRAINING.c.deadline,
            _TRAINING.c.hours,
            _MEMBER.c.name,
            _ORG.c.name,
            _CONFIRMATION.c.confirmed_at,
        )
        .select_from(_ASSIGNEE)
        .join(_TRAINING, _TRAINING.c.id == _ASSIGNEE.c.training_id)
        .join(author, author.c.id == _TRAINING.c.org_id)
        .join(_MEMBER, _MEMBER.c.id == _ASSIGNEE.c.member_id)
        .join(_ORG, _ORG.c.id == _MEMBER.c.org_id)
        .outerjoin(
            _CONFIRMATION,
            sa.and_(
                _CONFIRMATION.c.training_id == _ASSIGNEE.c.training_id,
                _CONFIRMATION.c.member_id == _ASSIGNEE.c.member_id,
            ),
        )
        .where(
            _in(_ORG, path, only),
            _TRAINING.c.created_at >= _utc(start),
            _TRAINING.c.created_at < _utc(end),
        )
        .order_by(_TRAINING.c.created_at, _TRAINING.c.id, _ORG.c.code, _MEMBER.c.name),
    )
