"""Trainings for members: what, for whom, by when, an optional quiz, and who completed it.

A training is published to an audience (an org subtree, optionally one member status);
the audience is written down once as ``training_assignee`` rows, so "who is in it",
done/total and reminders never change when the roster does afterwards. Completion is a
``training_confirmation`` (the member's own tap, a passed quiz, or a secretary's bulk
confirmation); hours count in the year of the confirmation.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage.models.base import (
    created_at_column,
    enum_check,
    enum_column,
    fk,
    money_column,
    utc_column,
)
from storage.models.funds import FundSource
from storage.models.members import MemberStatus
from storage.models.notices import AttachmentKind
from storage.types import utcnow

__all__ = [
    "ConfirmationMethod",
    "Training",
    "TrainingAssignee",
    "TrainingConfirmation",
    "TrainingKind",
    "TrainingQuestion",
]


class TrainingKind(StrEnum):
    COURSE = "course"
    LECTURE = "lecture"
    FIELD_VISIT = "field_visit"
    ONLINE_STUDY = "online_study"


class ConfirmationMethod(StrEnum):
    """How completion was recorded."""

    SELF = "self"  # the member tapped 已完成学习 (training without a quiz)
    QUIZ = "quiz"  # the member passed the quiz
    BULK = "bulk"  # a secretary confirmed for them (attended in person, no phone)


class Training(SQLModel, table=True):
    """One training organised by an org, with its length, deadline, audience and cost.

    ``cost_yuan`` is the total (cost per person times the audience when published);
    ``cost_per_person_yuan`` is what the author typed (NULL for trainings recorded before
    it existed). ``deadline`` is a calendar day in the people's zone.
    """

    __tablename__ = "training"
    __table_args__ = (
        sa.CheckConstraint("hours >= 0", name="hours_not_negative"),
        sa.CheckConstraint("cost_yuan >= 0", name="cost_not_negative"),
        sa.CheckConstraint(
            "cost_per_person_yuan IS NULL OR cost_per_person_yuan >= 0",
            name="cost_per_person_not_negative",
        ),
        enum_check("kind", TrainingKind),
        enum_check("audience_status", MemberStatus),
        enum_check("funding_source", FundSource),
        enum_check("materials_file_kind", AttachmentKind),
        sa.Index("ix_training_org_id_held_on", "org_id", "held_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(sa_column=fk("org_unit.id", ondelete="CASCADE", index=False))
    title: str = Field(sa_column=sa.Column(sa.String(255), nullable=False))
    kind: TrainingKind = Field(
        default=TrainingKind.COURSE,
        sa_column=enum_column(TrainingKind, default=TrainingKind.COURSE),
    )
    held_on: date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    deadline: date | None = Field(default=None, sa_column=sa.Column(sa.Date, index=True))
    hours: Decimal = Field(sa_column=sa.Column(sa.Numeric(5, 1), nullable=False))
    cost_yuan: Decimal = Field(default=Decimal("0.00"), sa_column=money_column())
    cost_per_person_yuan: Decimal | None = Field(
        default=None, sa_column=money_column(nullable=True)
    )
    funding_source: FundSource | None = Field(
        default=None, sa_column=enum_column(FundSource, nullable=True)
    )
    audience_org_id: int | None = Field(
        default=None, sa_column=fk("org_unit.id", nullable=True, ondelete="SET NULL")
    )
    audience_status: MemberStatus | None = Field(
        default=None, sa_column=enum_column(MemberStatus, nullable=True)
    )
    materials_text: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    materials_file_id: str | None = Field(default=None, sa_column=sa.Column(sa.String(255)))
    materials_file_kind: AttachmentKind | None = Field(
        default=None, sa_column=enum_column(AttachmentKind, nullable=True)
    )
    created_by: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=created_at_column())


class TrainingQuestion(SQLModel, table=True):
    """One multiple-choice question of a training's quiz (1-5 per training)."""

    __tablename__ = "training_question"
    __table_args__ = (
        sa.UniqueConstraint("training_id", "position"),
        sa.CheckConstraint("position >= 0 AND position < 5", name="position_in_range"),
        sa.CheckConstraint("answer >= 0", name="answer_not_negative"),
    )

    id: int | None = Field(default=None, primary_key=True)
    training_id: int = Field(sa_column=fk("training.id", ondelete="CASCADE", index=False))
    position: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    text: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    options: list[Any] = Field(default_factory=list, sa_column=sa.Column(sa.JSON, nullable=False))
    answer: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))


class TrainingAssignee(SQLModel, table=True):
    """A member a training was published to: in it, quiz progress, reminded once.

    ``quiz_next`` is the position of the question to answer next (a wrong answer sets it
    back to 0); ``reminded_at`` is when the deadline reminder was queued (once).
    """

    __tablename__ = "training_assignee"
    __table_args__ = (
        sa.UniqueConstraint("training_id", "member_id"),
        sa.CheckConstraint("quiz_next >= 0", name="quiz_next_not_negative"),
        sa.CheckConstraint("quiz_failures >= 0", name="quiz_failures_not_negative"),
    )

    id: int | None = Field(default=None, primary_key=True)
    training_id: int = Field(sa_column=fk("training.id", ondelete="CASCADE", index=False))
    member_id: int = Field(sa_column=fk("member.id", ondelete="CASCADE"))
    assigned_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(default=utcnow))
    quiz_next: int = Field(default=0, sa_column=sa.Column(sa.Integer, nullable=False, default=0))
    quiz_failures: int = Field(
        default=0, sa_column=sa.Column(sa.Integer, nullable=False, default=0)
    )
    reminded_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class TrainingConfirmation(SQLModel, table=True):
    """A member confirmed (or a secretary marked) completing a training."""

    __tablename__ = "training_confirmation"
    __table_args__ = (
        sa.UniqueConstraint("training_id", "member_id"),
        enum_check("method", ConfirmationMethod),
    )

    id: int | None = Field(default=None, primary_key=True)
    training_id: int = Field(sa_column=fk("training.id", ondelete="CASCADE", index=False))
    member_id: int = Field(sa_column=fk("member.id", ondelete="CASCADE"))
    confirmed_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(default=utcnow))
    marked_by: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger))
    method: ConfirmationMethod = Field(
        default=ConfirmationMethod.SELF,
        sa_column=enum_column(ConfirmationMethod, default=ConfirmationMethod.SELF),
    )
