"""Leaders' duties: contact points (联系点), their visits, demonstration sites (示范点), and
the reminders the duty ladder has sent."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage.models.base import created_at_column, enum_check, enum_column, fk, utc_column
from storage.types import utcnow

__all__ = ["ContactPoint", "ContactVisit", "DemonstrationSite", "DutyReminder", "DutyStep"]


class ContactPoint(SQLModel, table=True):
    """A leader's contact point for a year; the leader must visit it at least twice.

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
    created_at: datetime = Field(default_factory=utcnow, sa_column=created_at_column())


class ContactVisit(SQLModel, table=True):
    """One visit of the leader to the contact point, on a day in Asia/Shanghai."""

    __tablename__ = "contact_visit"

    id: int | None = Field(default=None, primary_key=True)
    contact_point_id: int = Field(sa_column=fk("contact_point.id", ondelete="CASCADE"))
    visited_on: date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    note: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    # Telegram file ids of the photos taken there (none is fine).
    photo_ids: list[str] | None = Field(default=None, sa_column=sa.Column(sa.JSON))
    recorded_by: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=created_at_column())


class DemonstrationSite(SQLModel, table=True):
    """A demonstration site for a year: a township is a county-level site (one or two a
    year), a village branch a township-level site (one per township a year)."""

    __tablename__ = "demonstration_site"
    __table_args__ = (sa.UniqueConstraint("org_id", "year"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(sa_column=fk("org_unit.id", ondelete="CASCADE", index=False))
    year: int = Field(sa_column=sa.Column(sa.Integer, nullable=False, index=True))
    created_by: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger))
    created_at: datetime = Field(default_factory=utcnow, sa_column=created_at_column())


class DutyStep(StrEnum):
    """The rungs of the visit reminder ladder of one contact point and year."""

    NO_VISIT = "no_visit"  # 30 June: no visit yet -> the leader
    NO_VISIT_COUNTY = "no_visit_county"  # a month later, still none -> the county
    FEW_VISITS = "few_visits"  # 30 September: fewer than two -> the leader
    FEW_VISITS_COUNTY = "few_visits_county"  # a month later, still fewer -> the county


class DutyReminder(SQLModel, table=True):
    """A rung of the ladder that has been taken (so it is taken once, even after a restart)."""

    __tablename__ = "duty_reminder"
    __table_args__ = (
        sa.UniqueConstraint("contact_point_id", "step"),
        enum_check("step", DutyStep),
    )

    id: int | None = Field(default=None, primary_key=True)
    contact_point_id: int = Field(
        sa_column=fk("contact_point.id", ondelete="CASCADE", index=False)
    )
    step: DutyStep = Field(sa_column=enum_column(DutyStep))
    sent_at: datetime = Field(sa_column=utc_column())
