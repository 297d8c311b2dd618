"""Annual assessments (五好 / 五带头 / satisfaction) and rectification orders (限期整改)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage.models.base import enum_check, enum_column, fk, utc_column
from storage.types import utcnow

__all__ = [
    "Assessment",
    "AssessmentScheme",
    "AssessmentSubject",
    "BranchGuidance",
    "FiveLeadProposal",
    "GuidanceClass",
    "Rating",
    "RectificationOrder",
    "RectificationReport",
    "RectificationState",
]


class AssessmentSubject(StrEnum):
    ORG = "org"
    MEMBER = "member"


class AssessmentScheme(StrEnum):
    """five_good rates townships/branches, five_lead rates members, satisfaction the rest."""

    FIVE_GOOD = "five_good"
    FIVE_LEAD = "five_lead"
    SATISFACTION = "satisfaction"


class Rating(StrEnum):
    EXCELLENT = "excellent"
    GOOD = "good"
    FAIR = "fair"
    POOR = "poor"


class GuidanceClass(StrEnum):
    """How a branch is classified for guidance in a year (先进 / 一般 / 落后)."""

    ADVANCED = "advanced"
    AVERAGE = "average"
    LAGGING = "lagging"


class RectificationState(StrEnum):
    OPEN = "open"
    DONE = "done"
    OVERDUE = "overdue"


class Assessment(SQLModel, table=True):
    """One yearly rating of an org or a member; ``passed`` feeds the 65% / 60% targets."""

    __tablename__ = "assessment"
    __table_args__ = (
        enum_check("subject_kind", AssessmentSubject),
        enum_check("scheme", AssessmentScheme),
        enum_check("rating", Rating),
        sa.CheckConstraint(
            "(subject_kind = 'org' AND org_id IS NOT NULL AND member_id IS NULL)"
            " OR (subject_kind = 'member' AND member_id IS NOT NULL AND org_id IS NULL)",
            name="one_subject",
        ),
        sa.CheckConstraint(
            "criteria IS NULL OR (criteria >= 0 AND criteria <= 31)", name="criteria_bits"
        ),
        sa.UniqueConstraint("year", "scheme", "org_id"),
        sa.UniqueConstraint("year", "scheme", "member_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    subject_kind: AssessmentSubject = Field(sa_column=enum_column(AssessmentSubject))
    org_id: int | None = Field(
        default=None, sa_column=fk("org_unit.id", nullable=True, ondelete="CASCADE")
    )
    member_id: int | None = Field(
        default=None, sa_column=fk("member.id", nullable=True, ondelete="CASCADE")
    )
    scheme: AssessmentScheme = Field(sa_column=enum_column(AssessmentScheme))
    rating: Rating = Field(sa_column=enum_column(Rating))
    passed: bool = Field(sa_column=sa.Column(sa.Boolean, nullable=False))
    # five_good: a bit per criterion met (bot.assessments.Criterion); None for other schemes.
    criteria: int | None = Field(default=None, sa_column=sa.Column(sa.SmallInteger))
    score: Decimal | None = Field(default=None, sa_column=sa.Column(sa.Numeric(6, 2)))
    note: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    assessed_by: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    assessed_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(default=utcnow))


class FiveLeadProposal(SQLModel, table=True):
    """A secretary's proposal that a member meets "five lead" (五带头) in a year.

    Pending while ``assessment_id`` is empty; the township's verdict is the member's
    five_lead `Assessment` (passed: confirmed), so the verdict is kept in one place.
    """

    __tablename__ = "five_lead_proposal"
    __table_args__ = (sa.UniqueConstraint("year", "member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    member_id: int = Field(sa_column=fk("member.id", ondelete="CASCADE"))
    proposed_by: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    proposed_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(default=utcnow))
    assessment_id: int | None = Field(
        default=None, sa_column=fk("assessment.id", nullable=True, ondelete="SET NULL")
    )


class BranchGuidance(SQLModel, table=True):
    """A branch's class for guidance in a year (advanced / average / lagging)."""

    __tablename__ = "branch_guidance"
    __table_args__ = (
        enum_check("grade", GuidanceClass),
        sa.UniqueConstraint("year", "org_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    org_id: int = Field(sa_column=fk("org_unit.id", ondelete="CASCADE"))
    grade: GuidanceClass = Field(sa_column=enum_column(GuidanceClass))
    set_by: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    set_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(default=utcnow))


class RectificationOrder(SQLModel, table=True):
    """An order to fix something by ``deadline``, optionally with a notice of criticism.

    ``reason`` is the criticism, ``actions`` what must be done. The ladder's progress is
    in the row: ``reminded_at`` once the secretary was reminded (on ``remind_on``),
    ``level`` 1 once the township staff were told it is overdue, 2 once the county was.
    """

    __tablename__ = "rectification_order"
    __table_args__ = (
        enum_check("state", RectificationState),
        sa.CheckConstraint("deadline >= issued_on", name="deadline_after_issue"),
        sa.CheckConstraint("level >= 0 AND level <= 2", name="level_range"),
        sa.Index("ix_rectification_order_state_deadline", "state", "deadline"),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(sa_column=fk("org_unit.id", ondelete="CASCADE"))
    year: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    assessment_id: int | None = Field(
        default=None, sa_column=fk("assessment.id", nullable=True, ondelete="SET NULL")
    )
    reason: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    criticised: bool = Field(default=False, sa_column=sa.Column(sa.Boolean, nullable=False))
    issued_on: date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    deadline: date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    state: RectificationState = Field(
        default=RectificationState.OPEN,
        sa_column=enum_column(RectificationState, default=RectificationState.OPEN),
    )
    closed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    closed_note: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    issued_by: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    actions: str = Field(
        default="", sa_column=sa.Column(sa.Text, nullable=False, server_default=sa.text("''"))
    )
    level: int = Field(
        default=0, sa_column=sa.Column(sa.SmallInteger, nullable=False, server_default="0")
    )
    remind_on: date | None = Field(default=None, sa_column=sa.Column(sa.Date))
    reminded_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    closed_by: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger))
    # Telegram file ids of the photos given as evidence when the order was closed.
    closed_photo_ids: list[str] | None = Field(default=None, sa_column=sa.Column(sa.JSON))


class RectificationReport(SQLModel, table=True):
    """The branch's progress on an order: a few words and photos, as often as it likes."""

    __tablename__ = "rectification_report"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(sa_column=fk("rectification_order.id", ondelete="CASCADE"))
    note: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    photo_ids: list[str] | None = Field(default=None, sa_column=sa.Column(sa.JSON))
    reported_by: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    reported_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(default=utcnow))
