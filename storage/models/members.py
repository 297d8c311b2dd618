"""The roster: party members, probationary members, development targets and activists."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage.models.base import big_fk, created_at_column, enum_check, enum_column, fk, utc_column
from storage.types import utcnow

__all__ = ["Gender", "InactiveReason", "Member", "MemberStatus", "MemberStatusChange"]


class Gender(StrEnum):
    MALE = "male"
    FEMALE = "female"
    UNKNOWN = "unknown"


class MemberStatus(StrEnum):
    """正式党员 / 预备党员 / 发展对象 / 入党积极分子 (the path of "developing party members")."""

    FULL = "full"
    PROBATIONARY = "probationary"
    DEVELOPMENT_TARGET = "development_target"
    ACTIVIST = "activist"


class InactiveReason(StrEnum):
    LEFT = "left"
    DECEASED = "deceased"
    TRANSFERRED_OUT = "transferred_out"
    OTHER = "other"


class Member(SQLModel, table=True):
    """A person on a branch roster, linked to a Telegram account once registered.

    Members are deactivated (``active`` false plus a reason), not deleted, so history
    (attendance, training, assessments) keeps pointing at a real row.
    """

    __tablename__ = "member"
    __table_args__ = (
        enum_check("gender", Gender),
        enum_check("status", MemberStatus),
        enum_check("inactive_reason", InactiveReason),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=sa.Column(sa.String(100), nullable=False))
    gender: Gender = Field(
        default=Gender.UNKNOWN, sa_column=enum_column(Gender, default=Gender.UNKNOWN)
    )
    phone: str | None = Field(default=None, sa_column=sa.Column(sa.String(20), index=True))
    status: MemberStatus = Field(sa_column=enum_column(MemberStatus))
    joined_on: date | None = Field(default=None, sa_column=sa.Column(sa.Date))
    org_id: int = Field(sa_column=fk("org_unit.id"))
    party_group_id: int | None = Field(
        default=None, sa_column=fk("org_unit.id", nullable=True, ondelete="SET NULL")
    )
    active: bool = Field(default=True, sa_column=sa.Column(sa.Boolean, nullable=False))
    inactive_reason: InactiveReason | None = Field(
        default=None, sa_column=enum_column(InactiveReason, nullable=True)
    )
    inactive_note: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    telegram_user_id: int | None = Field(
        default=None,
        sa_column=big_fk(
            "telegram_account.telegram_user_id", nullable=True, ondelete="SET NULL", unique=True
        ),
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=created_at_column())
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=utc_column(default=utcnow, onupdate=utcnow)
    )


class MemberStatusChange(SQLModel, table=True):
    """One step on a member's status path (e.g. activist -> development_target)."""

    __tablename__ = "member_status_change"
    __table_args__ = (
        enum_check("from_status", MemberStatus),
        enum_check("to_status", MemberStatus),
    )

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(sa_column=fk("member.id", ondelete="CASCADE"))
    from_status: MemberStatus | None = Field(
        default=None, sa_column=enum_column(MemberStatus, nullable=True)
    )
    to_status: MemberStatus = Field(sa_column=enum_column(MemberStatus))
    changed_on: date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    recorded_by: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger))
    created_at: datetime = Field(default_factory=utcnow, sa_column=created_at_column())
