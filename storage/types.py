"""Column types shared by every table: UTC timestamps and string-backed enums."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

__all__ = ["ENUM_LENGTH", "StrEnumType", "UTCDateTime", "utcnow"]

#: Every enum column is a VARCHAR of this length; CHECK constraints keep the values honest.
ENUM_LENGTH = 32


def utcnow() -> datetime:
    """Aware "now" in UTC; the default clock of every timestamp column."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamp stored in UTC and always read back as an aware UTC datetime.

    Naive datetimes are refused on write: a naive value is ambiguous (Asia/Shanghai or
    UTC?) and that ambiguity is exactly the bug this type exists to prevent. SQLite keeps
    no zone, so values go in as naive UTC there and get their tzinfo back on read.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"UTCDateTime expects a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            raise ValueError(f"naive datetime refused (store aware UTC): {value!r}")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # raw SQL paths on SQLite may hand back text
            value = datetime.fromisoformat(value)
        if not isinstance(value, datetime):
            raise TypeError(f"unexpected timestamp value from database: {value!r}")
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class StrEnumType(TypeDecorator[StrEnum]):
    """A Python StrEnum kept as a short VARCHAR (no native enum: migrations stay trivial).

    Values are validated on write and turned back into enum members on read. The matching
    CHECK constraint is declared on the table (see ``storage.models.base.enum_check``).
    """

    impl = sa.String(ENUM_LENGTH)
    cache_ok = True

    def __init__(self, enum_cls: type[StrEnum], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.enum_cls = enum_cls

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return self.enum_cls(value).value

    def process_result_value(self, value: Any, dialect: Dialect) -> StrEnum | None:
        if value is None:
            return None
        return self.enum_cls(value)

    @property
    def python_type(self) -> type[Any]:
        return self.enum_cls

    def __repr__(self) -> str:
        return f"StrEnumType({self.enum_cls.__name__})"
