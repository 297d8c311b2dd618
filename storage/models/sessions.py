"""Study sessions (三会一课, 主题党日, ...), their series, reminders and attendance."""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage.models.base import created_at_column, enum_check, enum_column, fk, utc_column
from storage.models.notices import AttachmentKind
from storage.types import utcnow

__all__ = [
    "Attendance",
    "AttendanceOutcome",
    "AudienceKind",
    "CheckinMethod",
    "LeaveReason",
    "LeaveState",
    "ReminderState",
    "Rsvp",
    "SessionEscalation",
    "SessionKind",
    "SessionReminder",
    "SessionSeries",
    "SessionState",
    "StudySession",
]


class SessionKind(StrEnum):
    """三会一课 and the other regular activities of a branch."""

    BRANCH_GENERAL_MEETING = "branch_general_meeting"
    BRANCH_COMMITTEE_MEETING = "branch_committee_meeting"
    PARTY_GROUP_MEETING = "party_group_meeting"
    PARTY_LESSON = "party_lesson"
    THEME_PARTY_DAY = "theme_party_day"
    SPECIAL_STUDY = "special_study"
    REPORT_HEARING = "report_hearing"
    OTHER = "other"


class AudienceKind(StrEnum):
    """Who is expected: one branch, one party group, or a whole subtree."""

    BRANCH = "branch"
    PARTY_GROUP = "party_group"
    SUBTREE = "subtree"


class SessionState(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"
    CLOSED = "closed"


class ReminderState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


class Rsvp(StrEnum):
    NONE = "none"
    ATTEND = "attend"
    LEAVE = "leave"


class LeaveReason(StrEnum):
    SICK = "sick"
    MIGRANT_WORK = "migrant_work"
    FARMING = "farming"
    OTHER = "other"


class LeaveState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class CheckinMethod(StrEnum):
    QR = "qr"
    CODE = "code"
    PROXY = "proxy"


class AttendanceOutcome(StrEnum):
    """pending until the session closes; then present, excused (approved leave) or absent."""

    PENDING = "pending"
    PRESENT = "present"
    EXCUSED = "excused"
    ABSENT = "absent"


class SessionSeries(SQLModel, table=True):
    """A repeating session (e.g. the monthly theme party day) that spawns StudySessions.

    ``rule`` is an RFC 5545 RRULE; ``local_time`` is wall-clock time in Asia/Shanghai.
    """

    __tablename__ = "session_series"
    __table_args__ = (
        enum_check("kind", SessionKind),
        enum_check("audience_kind", AudienceKind),
        sa.CheckConstraint("duration_minutes > 0", name="duration_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(sa_column=fk("org_unit.id", ondelete="CASCADE"))
    kind: SessionKind = Field(sa_column=enum_column(SessionKind))
    topic: str = Field(sa_column=sa.Column(sa.String(255), nullable=False))
    rule: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    local_time: time = Field(sa_column=sa.Column(sa.Time, nullable=False))
    duration_minutes: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    place: str = Field(sa_column=sa.Column(sa.String(255), nullable=False))
    audience_kind: AudienceKind = Field(sa_column=enum_column(AudienceKind))
    audience_org_id: int = Field(sa_column=fk("org_unit.id", ondelete="CASCADE"))
    until: date | None = Field(default=None, sa_column=sa.Column(sa.Date))
    created_by: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=created_at_column())
    active: bool = Field(default=True, sa_column=sa.Column(sa.Boolean, nullable=False))
    # Minutes before each occurrence when reminders fall due; NULL means the defaults.
    reminder_offsets: list[int] | None = Field(default=None, sa_column=sa.Column(sa.JSON))


class StudySession(SQLModel, table=True):
    """One meeting, lesson or activity at a fixed time, with its check-in window."""

    __tablename__ = "study_session"
    __table_args__ = (
        enum_check("kind", SessionKind),
        enum_check("audience_kind", AudienceKind),
        enum_check("state", SessionState),
        sa.CheckConstraint("duration_minutes > 0", name="duration_positive"),
        sa.CheckConstraint(
            "checkin_opens_minutes_before >= 0 AND checkin_closes_minutes_after >= 0",
            name="checkin_window",
        ),
        sa.Index("ix_study_session_org_id_starts_at", "org_id", "starts_at"),
        enum_check("materials_file_kind", AttachmentKind),
        # One row per occurrence of a series, even after it is moved or cancelled.
        sa.Index(
            "ix_study_session_series_id_series_slot", "series_id", "series_slot", unique=True
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(sa_column=fk("org_unit.id", ondelete="CASCADE", index=False))
    kind: SessionKind = Field(sa_column=enum_column(SessionKind))
    topic: str = Field(sa_column=sa.Column(sa.String(255), nullable=False))
    starts_at: datetime = Field(sa_column=utc_column(index=True))
    duration_minutes: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    place: str = Field(sa_column=sa.Column(sa.String(255), nullable=False))
    audience_kind: AudienceKind = Field(sa_column=enum_column(AudienceKind))
    audience_org_id: int = Field(sa_column=fk("org_unit.id", ondelete="CASCADE"))
    series_id: int | None = Field(
        default=None, sa_column=fk("session_series.id", nullable=True, ondelete="SET NULL")
    )
    state: SessionState = Field(
        default=SessionState.SCHEDULED,
        sa_column=enum_column(SessionState, index=True, default=SessionState.SCHEDULED),
    )
    materials_text: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    materials_file_id: str | None = Field(default=None, sa_column=sa.Column(sa.String(255)))
    materials_file_kind: AttachmentKind | None = Field(
        default=None, sa_column=enum_column(AttachmentKind, nullable=True)
    )
    minutes_text: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    minutes_photo_ids: list[str] | None = Field(default=None, sa_column=sa.Column(sa.JSON))
    series_slot: date | None = Field(default=None, sa_column=sa.Column(sa.Date))
    created_by: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=created_at_column())
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=utc_column(default=utcnow, onupdate=utcnow)
    )
    checkin_opens_minutes_before: int = Field(
        default=30, sa_column=sa.Column(sa.Integer, nullable=False, default=30)
    )
    # Check-in stays open this long after the session's end (start + duration).
    checkin_closes_minutes_after: int = Field(
        default=30, sa_column=sa.Column(sa.Integer, nullable=False, default=30)
    )


class SessionReminder(SQLModel, table=True):
    """A reminder due ``offset_minutes`` before the session; the scheduler polls ``due_at``."""

    __tablename__ = "session_reminder"
    __table_args__ = (
        sa.UniqueConstraint("session_id", "offset_minutes"),
        enum_check("state", ReminderState),
        sa.CheckConstraint("offset_minutes >= 0", name="offset_not_negative"),
    )

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(sa_column=fk("study_session.id", ondelete="CASCADE", index=False))
    offset_minutes: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    due_at: datetime = Field(sa_column=utc_column(index=True))
    state: ReminderState = Field(
        default=ReminderState.PENDING,
        sa_column=enum_column(ReminderState, default=ReminderState.PENDING),
    )
    sent_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class Attendance(SQLModel, table=True):
    """One expected attendee of one session: RSVP, leave request, check-in, outcome.

    Outcome machine: ``pending`` -> ``present`` (checked in) | ``excused`` (approved
    leave) | ``absent``; excused and absent members get make-up study (补学), tracked by
    ``makeup_sent_at`` / ``makeup_done_at``.
    """

    __tablename__ = "attendance"
    __table_args__ = (
        sa.UniqueConstraint("session_id", "member_id"),
        enum_check("rsvp", Rsvp),
        enum_check("leave_reason", LeaveReason),
        enum_check("leave_state", LeaveState),
        enum_check("checkin_method", CheckinMethod),
        enum_check("outcome", AttendanceOutcome),
        sa.Index("ix_attendance_member_id_outcome", "member_id", "outcome"),
        # The reports' figures read a session's invitees from this index alone.
        sa.Index(
            "ix_attendance_session_outcome", "session_id", "member_id", "outcome", "makeup_done_at"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(sa_column=fk("study_session.id", ondelete="CASCADE", index=False))
    member_id: int = Field(sa_column=fk("member.id", ondelete="CASCADE", index=False))
    rsvp: Rsvp = Field(default=Rsvp.NONE, sa_column=enum_column(Rsvp, default=Rsvp.NONE))
    leave_reason: LeaveReason | None = Field(
        default=None, sa_column=enum_column(LeaveReason, nullable=True)
    )
    leave_note: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    leave_state: LeaveState | None = Field(
        default=None, sa_column=enum_column(LeaveState, nullable=True)
    )
    leave_decided_by: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger))
    checked_in_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    checkin_method: CheckinMethod | None = Field(
        default=None, sa_column=enum_column(CheckinMethod, nullable=True)
    )
    outcome: AttendanceOutcome = Field(
        default=AttendanceOutcome.PENDING,
        sa_column=enum_column(AttendanceOutcome, default=AttendanceOutcome.PENDING),
    )
    marked_by: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger))
    # When the invitation was queued; NULL while the member has no Telegram to reach.
    invited_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    makeup_sent_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    makeup_done_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=utc_column(default=utcnow, onupdate=utcnow)
    )
    # Wrong check-in codes typed for this session; a few too many and only proxy remains.
    checkin_failures: int = Field(
        default=0, sa_column=sa.Column(sa.Integer, nullable=False, default=0, server_default="0")
    )


class SessionEscalation(SQLModel, table=True):
    """The silent-branch ladder for one org, one required kind and one missed period.

    ``level`` is how far it has climbed: 1 the org's own officers were told, 2 the
    parent's, 3 the grandparent's. ``resolved_at`` is set once a session of that kind is
    held, which stops the ladder.
    """

    __tablename__ = "session_escalation"
    __table_args__ = (
        sa.UniqueConstraint("org_id", "kind", "period_start"),
        enum_check("kind", SessionKind),
        sa.CheckConstraint("level BETWEEN 1 AND 3", name="level_range"),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(sa_column=fk("org_unit.id", ondelete="CASCADE"))
    kind: SessionKind = Field(sa_column=enum_column(SessionKind))
    period_start: date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    level: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    last_step_at: datetime = Field(sa_column=utc_column())
    resolved_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=created_at_column())
