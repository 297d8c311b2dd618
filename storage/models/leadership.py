"""Contact points (联系点 / 示范点) of leaders and their visits (at least two a year)."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage.models.base import created_at_column, fk
from storage.types import utcnow

__all__ = ["ContactPoint", "ContactVisit"]


class ContactPoint(SQLModel, table=True):
    """A leader's contact point for a year.

    The leader is a roster ``member`` rather than a Telegram account: leaders exist on
    the roster before (or without) registering with the bot.
    """

    __tablename__ = "contact_point"
    __table_args__ = (
        sa.UniqueConstraint("leader_member_id", "org_id", "year"),
        sa.Index("ix_contact_point_org_id_year", "org_id", "year"),
    )

    id: int | None = Field(default=None, primary_key=True)
    leader_member_id: int = Field(sa_column=fk("member.id", ondelete="CASCADE", index=False))
    org_id: int = Field(sa_column=fk("org_unit.id", ondelete="CASCADE", index=False))
    year: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    is_demonstration: bool = Field(default=False, sa_column=sa.Column(sa.Boolean, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=created_at_column())


class ContactVisit(SQLModel, table=True):
    """One visit of the leader to the contact point."""

    __tablename__ = "contact_visit"

    id: int | None = Field(default=None, primary_key=True)
    contact_point_id: int = Field(sa_column=fk("contact_point.id", ondelete="CASCADE"))
    visited_on: date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    note: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    recorded_by: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=created_at_column())
