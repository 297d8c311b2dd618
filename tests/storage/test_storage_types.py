"""UTCDateTime and StrEnumType: what goes in is what comes out, in UTC and as enums."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import select

from storage import Database
from storage.models import Language, OrgKind, TelegramAccount
from storage.types import UTCDateTime

SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")


async def test_utc_datetime_round_trips_aware_utc(sqlite_db: Database) -> None:
    local = datetime(2025, 3, 1, 9, 30, 15, 123456, tzinfo=SHANGHAI)
    async with sqlite_db.session_scope() as db:
        db.add(
            TelegramAccount(
                telegram_user_id=1, first_name="A", created_at=local, last_seen_at=local
            )
        )
    async with sqlite_db.session_scope() as db:
        account = (await db.exec(select(TelegramAccount))).one()
    assert account.created_at == local
    assert account.created_at.tzinfo is UTC
    assert account.created_at == datetime(2025, 3, 1, 1, 30, 15, 123456, tzinfo=UTC)
    async with sqlite_db.engine.connect() as conn:
        raw = (await conn.exec_driver_sql("SELECT created_at FROM telegram_account")).scalar()
    assert str(raw).startswith("2025-03-01 01:30:15")  # stored as UTC


async def test_utc_datetime_refuses_naive(sqlite_db: Database) -> None:
    with pytest.raises(StatementError, match="naive datetime refused"):
        async with sqlite_db.session_scope() as db:
            db.add(
                TelegramAccount(
                    telegram_user_id=1, first_name="A", last_seen_at=datetime(2025, 1, 1, 8, 0)
                )
            )


async def test_utc_datetime_in_where_clauses(sqlite_db: Database) -> None:
    t = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    async with sqlite_db.session_scope() as db:
        db.add(TelegramAccount(telegram_user_id=1, first_name="A", last_seen_at=t))
    async with sqlite_db.session_scope() as db:
        later = t.astimezone(SHANGHAI) - timedelta(seconds=1)
        found = await db.exec(select(TelegramAccount).where(TelegramAccount.last_seen_at > later))
        assert len(found.all()) == 1


def test_utc_datetime_processors_directly() -> None:
    kind = UTCDateTime()
    pg = sa.create_engine("postgresql+psycopg://u@h/db").dialect
    aware = datetime(2025, 1, 1, 8, tzinfo=SHANGHAI)
    assert kind.process_bind_param(aware, pg) == datetime(2025, 1, 1, 0, tzinfo=UTC)
    assert kind.process_result_value(aware, pg) == aware
    assert kind.process_result_value(aware, pg).tzinfo is UTC  # type: ignore[union-attr]
    assert kind.process_bind_param(None, pg) is None
    with pytest.raises(ValueError, match="naive"):
        kind.process_bind_param(datetime(2025, 1, 1), pg)


async def test_enums_come_back_as_enum_members(sqlite_db: Database) -> None:
    async with sqlite_db.session_scope() as db:
        db.add(TelegramAccount(telegram_user_id=1, first_name="A", language="en"))  # type: ignore[arg-type]
    async with sqlite_db.session_scope() as db:
        account = (await db.exec(select(TelegramAccount))).one()
    assert account.language is Language.EN


async def test_enum_values_are_checked_in_python_and_in_sql(sqlite_db: Database) -> None:
    with pytest.raises(StatementError):
        async with sqlite_db.session_scope() as db:
            db.add(TelegramAccount(telegram_user_id=1, first_name="A", language="fr"))  # type: ignore[arg-type]
    with pytest.raises(IntegrityError, match="CHECK constraint failed"):
        async with sqlite_db.engine.begin() as conn:
            await conn.exec_driver_sql(
                "INSERT INTO org_unit (code, name, kind, path, active, created_at)"
                " VALUES ('X', 'x', 'galaxy', '', 1, '2025-01-01 00:00:00')"
            )
    assert OrgKind("county") is OrgKind.COUNTY
