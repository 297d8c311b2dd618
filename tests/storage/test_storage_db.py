"""Engine and session scope: URL handling, SQLite PRAGMAs, commit/rollback semantics."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import NullPool
from sqlmodel import select

from storage import Database, create_engine_for, sync_url
from storage._sql import table_of
from storage.db import async_url
from storage.models import OrgKind, OrgUnit
from storage.orgs import create_org


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///data/x.db", "sqlite+aiosqlite:///data/x.db"),
        ("sqlite+pysqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("sqlite+aiosqlite:////abs/x.db", "sqlite+aiosqlite:////abs/x.db"),
        ("postgresql://u:p@h:5432/db", "postgresql+psycopg://u:p@h:5432/db"),
        ("postgres://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
        ("postgresql+psycopg://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
    ],
)
def test_async_url_normalises_drivers(given: str, expected: str) -> None:
    assert async_url(given).render_as_string(hide_password=False) == expected


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite+aiosqlite:///x.db", "sqlite+pysqlite:///x.db"),
        ("sqlite:///x.db", "sqlite+pysqlite:///x.db"),
        ("postgresql+psycopg://u:p%40ss@h/db", "postgresql+psycopg://u:p%40ss@h/db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
    ],
)
def test_sync_url_for_alembic(given: str, expected: str) -> None:
    assert sync_url(given) == expected


@pytest.mark.parametrize("url", ["mysql://u@h/db", "postgresql+psycopg2://u@h/db"])
def test_unsupported_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="unsupported database URL"):
        create_engine_for(url)


async def test_sqlite_pragmas_on_every_connection(sqlite_db: Database) -> None:
    async with sqlite_db.engine.connect() as conn:
        pragmas = {
            name: (await conn.exec_driver_sql(f"PRAGMA {name}")).scalar()
            for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
        }
    assert pragmas == {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "busy_timeout": 5000,
        "synchronous": 1,
    }


async def test_sqlite_parent_directory_is_created(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "er" / "bot.db"
    database = Database(f"sqlite:///{target}")
    try:
        async with database.engine.connect() as conn:
            await conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        assert target.exists()
    finally:
        await database.dispose()


async def test_in_memory_database_with_create_all() -> None:
    database = Database("sqlite+aiosqlite://")
    try:
        await database.create_all()
        async with database.session_scope() as db:
            await create_org(db=db, code="C001", name="县委", kind=OrgKind.COUNTY)
        async with database.engine.connect() as conn:
            assert (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
            assert (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar() == "memory"
    finally:
        await database.dispose()


async def test_session_scope_commits_on_success(sqlite_db: Database) -> None:
    async with sqlite_db.session_scope() as db:
        await create_org(db=db, code="C001", name="县委", kind=OrgKind.COUNTY)
    async with sqlite_db.session_scope() as db:
        org = (await db.exec(select(OrgUnit))).one()
    assert org.code == "C001"
    assert org.path == f"/{org.id}/"  # expire_on_commit=False: usable after the scope


async def test_session_scope_rolls_back_on_error(sqlite_db: Database) -> None:
    async def failing_unit_of_work() -> None:
        async with sqlite_db.session_scope() as db:
            await create_org(db=db, code="C001", name="县委", kind=OrgKind.COUNTY)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await failing_unit_of_work()
    async with sqlite_db.session_scope() as db:
        assert (await db.exec(select(OrgUnit))).all() == []


async def test_dialect_property(sqlite_db: Database) -> None:
    assert sqlite_db.dialect == "sqlite"
    async with sqlite_db.engine.connect() as conn:
        assert (await conn.execute(sa.text("SELECT 1"))).scalar() == 1


async def test_database_errors_never_carry_sql_parameters(sqlite_db: Database) -> None:
    """Names and phone numbers are parameters; an error's text goes to logs and the ops chat."""
    async with sqlite_db.session_scope() as db:
        connection = await db.connection()
        with pytest.raises(sa.exc.DBAPIError) as raised:
            await connection.execute(
                sa.text("INSERT INTO no_such_table (name, phone) VALUES (:name, :phone)"),
                {"name": "张三", "phone": "+8613812345678"},
            )
    assert "no_such_table" in str(raised.value)
    assert "13812345678" not in str(raised.value)
    assert "张三" not in str(raised.value)


def _org_codes(connection: sa.Connection) -> list[str]:
    return list(connection.execute(sa.select(table_of(OrgUnit).c.code)).scalars())


def _add_org(code: str) -> Callable[[sa.Connection], None]:
    def work(connection: sa.Connection) -> None:
        connection.execute(
            sa.insert(table_of(OrgUnit)).values(
                code=code, name="县委", kind=OrgKind.COUNTY, path="/", active=True
            )
        )

    return work


async def test_run_sync_commits_or_rolls_back(each_db: Database) -> None:
    """A synchronous unit of work (the relay's outcome write) on either database: one
    transaction, committed when it returns, rolled back when it raises."""

    def failing(connection: sa.Connection) -> None:
        _add_org("C002")(connection)
        raise RuntimeError("boom")

    await each_db.run_sync(_add_org("C001"))
    with pytest.raises(RuntimeError, match="boom"):
        await each_db.run_sync(failing)
    assert await each_db.run_sync(_org_codes) == ["C001"]


async def test_run_sync_waits_for_a_busy_sqlite_lock_outside_the_event_loop(
    sqlite_db: Database, tmp_path: Path
) -> None:
    """While another connection holds SQLite's write lock, the unit of work waits for it
    in a thread: the loop keeps running, so the holder (here the test itself) can finish.
    Waiting in the loop would hang until busy_timeout and fail "database is locked"."""
    await sqlite_db.run_sync(_add_org("C001"))  # the writer's connections exist now
    path = sa.make_url(sqlite_db.url).database
    assert path is not None
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        holder.execute("UPDATE org_unit SET name = '县委组织部'")
        writing = asyncio.create_task(sqlite_db.run_sync(_add_org("C002")))
        await asyncio.sleep(0)  # it tried the lock in the loop and went to its thread
        assert not writing.done()
        holder.execute("COMMIT")
        await writing
    finally:
        holder.close()
    assert sorted(await sqlite_db.run_sync(_org_codes)) == ["C001", "C002"]


async def test_read_sync_reads_on_either_database_and_leaves_transactions_whole(
    each_db: Database,
) -> None:
    """A hot read (each update's account) sees what was committed; the connection it used
    goes back to the pool transactional again (PostgreSQL reads in autocommit): a unit of
    work after it that raises is still rolled back whole."""

    def failing(connection: sa.Connection) -> None:
        _add_org("C002")(connection)
        raise RuntimeError("boom")

    await each_db.run_sync(_add_org("C001"))
    assert await each_db.read_sync(_org_codes) == ["C001"]
    with pytest.raises(RuntimeError, match="boom"):
        await each_db.run_sync(failing)
    async with each_db.session_scope() as db:  # an ORM unit of work on the same pool
        await db.run_sync(lambda session: _add_org("C003")(session.connection()))
        await db.rollback()
    assert await each_db.read_sync(_org_codes) == ["C001"]


async def test_read_sync_on_sqlite_reads_in_the_loop_while_a_writer_holds_the_lock(
    sqlite_db: Database,
) -> None:
    """In WAL mode a reader does not wait for the writer: the read returns at once (in the
    loop's thread, no task switch) with the last committed rows, not the writer's."""
    await sqlite_db.run_sync(_add_org("C001"))
    path = sa.make_url(sqlite_db.url).database
    assert path is not None
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        holder.execute("UPDATE org_unit SET code = 'C009'")
        reading = sqlite_db.read_sync(_org_codes).__await__()
        with pytest.raises(StopIteration) as done:  # finished without yielding to the loop
            reading.send(None)
        assert done.value.value == ["C001"]
        holder.execute("COMMIT")
    finally:
        holder.close()
    assert await sqlite_db.read_sync(_org_codes) == ["C009"]


def _end_backends(url: str) -> None:
    """A server restart, as far as the pool can tell: every other session is ended."""
    admin = sa.create_engine(sync_url(url), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
    finally:
        admin.dispose()


async def _backend(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.exec_driver_sql("SELECT pg_backend_pid()")).scalar_one())


async def test_a_pooled_connection_idle_long_enough_is_pinged_and_replaced(
    postgres_url: str,
) -> None:
    """After a quiet spell (here: any time at all) a dead pooled connection is found by a
    ping and swapped for a new one: the next unit of work does not notice."""
    engine = create_engine_for(postgres_url, ping_idle_after=0)
    try:
        first = await _backend(engine)
        await asyncio.to_thread(_end_backends, postgres_url)
        assert await _backend(engine) != first
    finally:
        await engine.dispose()


async def test_a_connection_that_died_while_busy_fails_once_and_its_pool_is_renewed(
    postgres_url: str,
) -> None:
    """In use a moment ago, a connection is not pinged (no round trip per transaction in a
    rush): if it died meanwhile its statement fails, marked as a lost connection (what
    handlers/errors.py runs once more), and the pool hands out a new one next."""
    engine = create_engine_for(postgres_url, ping_idle_after=3600)
    try:
        first = await _backend(engine)
        await asyncio.to_thread(_end_backends, postgres_url)
        with pytest.raises(sa.exc.DBAPIError) as failed:
            await _backend(engine)
        assert failed.value.connection_invalidated
        assert await _backend(engine) != first
    finally:
        await engine.dispose()
