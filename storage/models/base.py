"""Shared pieces of the table definitions: naming convention and column factories.

Importing this module sets the constraint naming convention on ``SQLModel.metadata``;
every model module imports it first, so all constraints get stable, predictable names
(Alembic migrations can then refer to them by name).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import SQLModel

from storage.types import StrEnumType, UTCDateTime, utcnow

__all__ = [
    "NAMING_CONVENTION",
    "big_fk",
    "created_at_column",
    "enum_check",
    "enum_column",
    "fk",
    "money_column",
    "utc_column",
]

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLModel.metadata.naming_convention = NAMING_CONVENTION


def enum_column(
    enum_cls: type[StrEnum],
    *,
    nullable: bool = False,
    index: bool = False,
    default: StrEnum | None = None,
) -> Any:
    """A VARCHAR column for a StrEnum; pair it with :func:`enum_check` in ``__table_args__``."""
    return sa.Column(StrEnumType(enum_cls), nullable=nullable, index=index, default=default)


def enum_check(column: str, enum_cls: type[StrEnum]) -> sa.CheckConstraint:
    """CHECK that ``column`` holds one of the enum's values (named ``ck_<table>_<column>``)."""
    values = ", ".join(f"'{member.value}'" for member in enum_cls)
    return sa.CheckConstraint(f"{column} IN ({values})", name=column)


def utc_column(
    *, nullable: bool = False, index: bool = False, default: Any = None, onupdate: Any = None
) -> Any:
    """A UTC timestamp column (aware datetimes only)."""
    return sa.Column(
        UTCDateTime(), nullable=nullable, index=index, default=default, onupdate=onupdate
    )


def created_at_column() -> Any:
    """``created_at``: set by Python at insert, in UTC."""
    return sa.Column(UTCDateTime(), nullable=False, default=utcnow)


def money_column(*, nullable: bool = False) -> Any:
    """Yuan amounts: exact decimals with two places (never floats)."""
    return sa.Column(sa.Numeric(12, 2), nullable=nullable)


def fk(
    target: str,
    *,
    nullable: bool = False,
    ondelete: str | None = None,
    index: bool = True,
    unique: bool = False,
) -> Any:
    """An INTEGER foreign key column, indexed by default."""
    return sa.Column(
        sa.Integer,
        sa.ForeignKey(target, ondelete=ondelete),
        nullable=nullable,
        index=index and not unique,
        unique=unique,
    )


def big_fk(
    target: str,
    *,
    nullable: bool = False,
    ondelete: str | None = None,
    index: bool = True,
    unique: bool = False,
) -> Any:
    """A BIGINT foreign key column (Telegram user ids exceed 32 bits)."""
    return sa.Column(
        sa.BigInteger,
        sa.ForeignKey(target, ondelete=ondelete),
        nullable=nullable,
        index=index and not unique,
        unique=unique,
    )
