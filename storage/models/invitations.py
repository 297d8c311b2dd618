"""Invitation codes, registration requests, and the code-attempt log used for throttling."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage.models.accounts import Role
from storage.models.base import big_fk, created_at_column, enum_check, enum_column, fk, utc_column
from storage.types import utcnow

__all__ = ["CodeAttempt", "Invitation", "RegistrationRequest", "RegistrationState"]


class RegistrationState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Invitation(SQLModel, table=True):
    """An invitation code for one org and role; only its sha256 is stored.

    ``uses <= max_uses`` is a CHECK, so claiming a use is one conditional UPDATE and a
    race can never overspend a code.
    """

    __tablename__ = "invitation"
    __table_args__ = (
        enum_check("role", Role),
        sa.CheckConstraint("max_uses >= 1", name="max_uses_positive"),
        sa.CheckConstraint("uses >= 0 AND uses <= max_uses", name="uses_in_range"),
    )

    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, unique=True))
    org_id: int = Field(sa_column=fk("org_unit.id", ondelete="CASCADE"))
    role: Role = Field(sa_column=enum_column(Role))
    created_by: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger))
    max_uses: int = Field(default=1, sa_column=sa.Column(sa.Integer, nullable=False))
    uses: int = Field(default=0, sa_column=sa.Column(sa.Integer, nullable=False, default=0))
    expires_at: datetime = Field(sa_column=utc_column())
    revoked_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=created_at_column())


class RegistrationRequest(SQLModel, table=True):
    """Someone used a code and claims to be ``claimed_name``; a secretary decides."""

    __tablename__ = "registration_request"
    __table_args__ = (enum_check("state", RegistrationState),)

    id: int | None = Field(default=None, primary_key=True)
    telegram_user_id: int = Field(
        sa_column=big_fk("telegram_account.telegram_user_id", ondelete="CASCADE")
    )
    invitation_id: int = Field(sa_column=fk("invitation.id", ondelete="CASCADE"))
    org_id: int = Field(sa_column=fk("org_unit.id", ondelete="CASCADE"))
    claimed_name: str = Field(sa_column=sa.Column(sa.String(100), nullable=False))
    phone: str | None = Field(default=None, sa_column=sa.Column(sa.String(20)))
    state: RegistrationState = Field(
        default=RegistrationState.PENDING,
        sa_column=enum_column(RegistrationState, index=True, default=RegistrationState.PENDING),
    )
    member_id: int | None = Field(
        default=None, sa_column=fk("member.id", nullable=True, ondelete="SET NULL")
    )
    decided_by: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger))
    decided_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=created_at_column())


class CodeAttempt(SQLModel, table=True):
    """One attempt to enter an invitation code; failures in a window throttle the user."""

    __tablename__ = "code_attempt"
    __table_args__ = (sa.Index("ix_code_attempt_telegram_user_id_at", "telegram_user_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    telegram_user_id: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    at: datetime = Field(default_factory=utcnow, sa_column=utc_column(default=utcnow))
    succeeded: bool = Field(default=False, sa_column=sa.Column(sa.Boolean, nullable=False))
