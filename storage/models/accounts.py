"""Telegram accounts and the roles granted to them (a role is bound to an org subtree)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage.models.base import big_fk, created_at_column, enum_check, enum_column, fk, utc_column
from storage.types import utcnow

__all__ = ["Language", "Role", "RoleGrant", "TelegramAccount"]


class Language(StrEnum):
    """Interface languages; zh (zh_CN) is the default."""

    ZH = "zh"
    EN = "en"


class Role(StrEnum):
    """What a person may do; each grant reaches the subtree of its ``org_id``."""

    MEMBER = "member"
    DEPUTY_SECRETARY = "deputy_secretary"
    SECRETARY = "secretary"
    TOWNSHIP_ORGANISER = "township_organiser"
    COUNTY_STAFF = "county_staff"
    INSPECTOR = "inspector"
    ADMIN = "admin"


class TelegramAccount(SQLModel, table=True):
    """A Telegram user who has talked to the bot (the PK is Telegram's own user id).

    ``blocked_at`` is set when Telegram answers 403 (the user blocked the bot): the
    account is unreachable until it writes to us again. ``language_chosen`` records that
    the user picked a language explicitly, which Telegram's language_code must not undo.
    """

    __tablename__ = "telegram_account"
    __table_args__ = (enum_check("language", Language),)

    telegram_user_id: int = Field(
        sa_column=sa.Column(sa.BigInteger, primary_key=True, autoincrement=False)
    )
    first_name: str = Field(sa_column=sa.Column(sa.String(255), nullable=False))
    username: str | None = Field(default=None, sa_column=sa.Column(sa.String(64)))
    language: Language = Field(default=Language.ZH, sa_column=enum_column(Language))
    language_chosen: bool = Field(default=False, sa_column=sa.Column(sa.Boolean, nullable=False))
    blocked_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=created_at_column())
    last_seen_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(default=utcnow))


class RoleGrant(SQLModel, table=True):
    """A role held by an account over an org subtree (granting twice is a no-op)."""

    __tablename__ = "role_grant"
    __table_args__ = (
        sa.UniqueConstraint("telegram_user_id", "role", "org_id"),
        enum_check("role", Role),
    )

    id: int | None = Field(default=None, primary_key=True)
    telegram_user_id: int = Field(
        sa_column=big_fk("telegram_account.telegram_user_id", ondelete="CASCADE", index=False)
    )
    role: Role = Field(sa_column=enum_column(Role))
    org_id: int = Field(sa_column=fk("org_unit.id", ondelete="CASCADE"))
    granted_by: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger))
    granted_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(default=utcnow))
