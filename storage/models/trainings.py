"""Trainings held for members and who confirmed attending them (hours count per year)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage.models.base import created_at_column, fk, money_column, utc_column
from storage.types import utcnow

__all__ = ["Training", "TrainingConfirmation"]


class Training(SQLModel, table=True):
    """One training event organised by an org, with its length and what it cost."""

    __tablename__ = "training"
    __table_args__ = (
        sa.CheckConstraint("hours >= 0", name="hours_not_negative"),
        sa.CheckConstraint("cost_yuan >= 0", name="cost_not_negative"),
        sa.Index("ix_training_org_id_held_on", "org_id", "held_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(sa_column=fk("org_unit.id", ondelete="CASCADE", index=False))
    title: str = Field(sa_column=sa.Column(sa.String(255), nullable=False))
    held_on: date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    hours: Decimal = Field(sa_column=sa.Column(sa.Numeric(5, 1), nullable=False))
    cost_yuan: Decimal = Field(default=Decimal("0.00"), sa_column=money_column())
    created_by: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=created_at_column())


class TrainingConfirmation(SQLModel, table=True):
    """A member confirmed (or a secretary marked) attending a training."""

    __tablename__ = "training_confirmation"
    __table_args__ = (sa.UniqueConstraint("training_id", "member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    training_id: int = Field(sa_column=fk("training.id", ondelete="CASCADE", index=False))
    member_id: int = Field(sa_column=fk("member.id", ondelete="CASCADE"))
    confirmed_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(default=utcnow))
    marked_by: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger))
