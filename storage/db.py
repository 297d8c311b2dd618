"""Engine, session scope and migrations.

One ``Database`` per process. Every unit of work (a handler, a job) opens one short
``session_scope()``: it commits on success and rolls back on error, and it is never held
across a network call. SQLite is the embedded default (WAL, busy_timeout, foreign keys on
every connection); PostgreSQL (psycopg 3) is the production database.

Migrations are Alembic's, shipped inside this package (``storage/alembic.ini`` and
``storage/migrations``); ``upgrade_to_head`` runs them with the synchronous drivers so it
works from plain code, from the CLI, and from inside a running event loop (it blocks;
wrap it in ``asyncio.to_thread`` there).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

import storage.models  # noqa: F401  (registers every table on SQLModel.metadata)

__all__ = [
    "ALEMBIC_INI",
    "Database",
    "alembic_config",
    "async_url",
    "create_engine_for",
    "current_revision",
    "ensure_sqlite_dir",
    "head_revision",
    "sync_url",
    "upgrade_to_head",
]

ALEMBIC_INI = Path(__file__).resolve().parent / "alembic.ini"

T = TypeVar("T")

# busy_timeout comes first so that switching to WAL waits for a lock instead of failing.
SQLITE_PRAGMAS: tuple[str, ...] = (
    "PRAGMA busy_timeout=5000",
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=NORMAL",
)

_SQLITE_DRIVERS = {"sqlite", "sqlite+pysqlite", "sqlite+aiosqlite"}
_POSTGRES_DRIVERS = {"postgres", "postgresql", "postgresql+psycopg", "postgresql+psycopg_async"}


def _parse(url: str | URL) -> URL:
    parsed = make_url(url)
    if parsed.drivername in _SQLITE_DRIVERS or parsed.drivername in _POSTGRES_DRIVERS:
        return parsed
    raise ValueError(
        f"unsupported database URL {parsed.render_as_string(hide_password=True)!r}: "
        "use sqlite[+aiosqlite]:///path or postgresql[+psycopg]://..."
    )


def _is_sqlite(url: URL) -> bool:
    return url.drivername.startswith("sqlite")


def _sqlite_file(url: URL) -> Path | None:
    """The database file of a SQLite URL, or None for in-memory databases."""
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    if url.query.get("mode") == "memory":
        return None
    return Path(database)


def async_url(url: str | URL) -> URL:
    """The URL with the async driver (aiosqlite or psycopg) the application engine uses."""
    parsed = _parse(url)
    if _is_sqlite(parsed):
        return parsed.set(drivername="sqlite+aiosqlite")
    return parsed.set(drivername="postgresql+psycopg")


def sync_url(url: str | URL) -> str:
    """The URL with a synchronous driver, for Alembic (pysqlite; psycopg is both)."""
    parsed = _parse(url)
    driver = "sqlite+pysqlite" if _is_sqlite(parsed) else "postgresql+psycopg"
    return parsed.set(drivername=driver).render_as_string(hide_password=False)


def ensure_sqlite_dir(url: str | URL) -> None:
    """Create the directory of a SQLite database file (no-op for anything else)."""
    parsed = _parse(url)
    if not _is_sqlite(parsed):
        return
    path = _sqlite_file(parsed)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)


def _install_sqlite_pragmas(engine: sa.Engine, *, wal: bool) -> None:
    """Set the SQLite PRAGMAs on every new DBAPI connection of ``engine``.

    WAL is skipped for in-memory databases, which cannot use it.
    """
    pragmas = [p for p in SQLITE_PRAGMAS if wal or "journal_mode" not in p]

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            for pragma in pragmas:
                cursor.execute(pragma)
        finally:
            cursor.close()


# A pooled PostgreSQL connection idle this long is pinged before use (seconds).
PING_IDLE_AFTER = 5.0


def _ping_when_idle(engine: sa.Engine, *, after: float) -> None:
    """Ping a connection taken from the pool only if it sat idle ``after`` seconds or more.

    A server restart or a dropped connection shows up after a quiet spell, and the ping
    then swaps the dead connection for a new one unseen. SQLAlchemy's ``pool_pre_ping``
    pings at every checkout: in a rush, a round trip more for each of an update's two
    short transactions, while the connections were in use a moment before. A connection
    that dies while busy fails its statement instead; the pool is then invalidated and the
    handler is run once more (handlers/errors.py).
    """

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since < after:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise sa.exc.DisconnectionError(f"a pooled connection is gone: {exc}") from exc
        if not alive:
            raise sa.exc.DisconnectionError("a pooled connection is gone")


def create_engine_for(
    url: str, *, echo: bool = False, ping_idle_after: float = PING_IDLE_AFTER
) -> AsyncEngine:
    """An async engine for ``url``; plain sqlite:// and postgresql:// get async drivers.

    Errors and echo never show SQL parameters (``hide_parameters``): they are names and
    phone numbers, and an error's text goes to the log and to the ops chat.
    """
    target = async_url(url)
    if _is_sqlite(target):
        ensure_sqlite_dir(target)
        engine = create_async_engine(
            target, echo=echo, hide_parameters=True, json_serializer=_json_text
        )
        _install_sqlite_pragmas(engine.sync_engine, wal=_sqlite_file(target) is not None)
        return engine
    engine = create_async_engine(
        target, echo=echo, hide_parameters=True, json_serializer=_json_text
    )
    _ping_when_idle(engine.sync_engine, after=ping_idle_after)
    return engine


def _json_text(value: Any) -> str:
    """JSON columns as UTF-8: escaped as ASCII, each Chinese character of an outbox
    payload took six bytes (\\uXXXX) instead of three."""
    return json.dumps(value, ensure_ascii=False)


class _SQLiteDirect:
    """Short write transactions and one-statement reads on a SQLite file through plain
    (pysqlite) connections.

    Through aiosqlite every call is a round trip to its thread (the statement, the
    cursor's close, the commit, the pool's reset), each a hand-over of the GIL with the
    busy event loop, and the hand-overs cost more than the write. Here a transaction
    first tries to take the write lock at once (``BEGIN IMMEDIATE`` with no busy wait)
    and runs in the event loop's thread: a few hundred microseconds, and no thread at
    all. If another connection holds the lock, it must not wait there (that holder may
    need this very loop to finish), so it runs in a thread of its own instead, where
    it waits the usual ``busy_timeout``. The loop's connection never checkpoints the
    WAL (the other connections do, at their commits), so it never waits for a disk sync.
    A read runs in the loop's thread too, on a connection of its own in autocommit: in
    WAL mode a reader never waits for a writer.
    """

    def __init__(self, url: URL, *, echo: bool) -> None:
        self.now = self._engine(url, echo=echo, pragmas=_NO_WAIT_PRAGMAS)
        self.later = self._engine(url, echo=echo, pragmas=())
        self.reader = self._engine(url, echo=echo, pragmas=_NO_WAIT_PRAGMAS, writes=False)
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")

    @staticmethod
    def _engine(
        url: URL, *, echo: bool, pragmas: tuple[str, ...], writes: bool = True
    ) -> sa.Engine:
        engine = sa.create_engine(
            sync_url(url),
            echo=echo,
            hide_parameters=True,
            json_serializer=_json_text,
            pool_size=1,
            max_overflow=0,
        )
        _install_sqlite_pragmas(engine, wal=True)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we say BEGIN, not the driver
            for pragma in pragmas:
                dbapi_connection.execute(pragma)

        if writes:

            @event.listens_for(engine, "begin")
            def _on_begin(connection: sa.Connection) -> None:
                connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine

    @staticmethod
    def _transaction(engine: sa.Engine, work: Callable[[sa.Connection], T]) -> T:
        with engine.begin() as connection:
            return work(connection)

    async def run(self, work: Callable[[sa.Connection], T]) -> T:
        try:
            return self._transaction(self.now, work)
        except sa.exc.OperationalError as exc:
            if not _is_busy(exc):
                raise
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, self._transaction, self.later, work)

    def read(self, work: Callable[[sa.Connection], T]) -> T:
        """``work`` in the loop's thread (autocommit: each statement reads on its own);
        SQLite's busy error if the WAL is being reset just then (rare: the caller
        reads another way)."""
        with self.reader.connect() as connection:
            return work(connection)

    async def close(self) -> None:
        self.now.dispose()
        self.reader.dispose()
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self.executor, self.later.dispose)
        self.executor.shutdown(wait=False)


# The loop's connection: fail at once rather than wait for a lock, never checkpoint.
_NO_WAIT_PRAGMAS = ("PRAGMA busy_timeout=0", "PRAGMA wal_autocheckpoint=0")


def _is_busy(exc: sa.exc.OperationalError) -> bool:
    """Whether SQLite refused because another connection holds the lock (SQLITE_BUSY)."""
    code = getattr(exc.orig, "sqlite_errorcode", None)
    return code is not None and code & 0xFF == sqlite3.SQLITE_BUSY


class Database:
    """The engine plus a session factory; hand this object around, never a session."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self._echo = echo
        self.engine: AsyncEngine = create_engine_for(url, echo=echo)
        self.sessionmaker: async_sessionmaker[AsyncSession] = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )
        target = async_url(url)
        self._sqlite_file_url = target if _is_sqlite(target) and _sqlite_file(target) else None
        self._sqlite_direct: _SQLiteDirect | None = None

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.engine.dialect.name

    @asynccontextmanager
    async def session_scope(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: commit if the block succeeds, roll back if it raises."""
        async with self.sessionmaker() as db:
            try:
                yield db
                await db.commit()
            except BaseException:
                await db.rollback()
                raise

    async def run_sync(self, work: Callable[[sa.Connection], T]) -> T:
        """Run ``work`` on a synchronous connection in one transaction, committed if it
        returns, rolled back if it raises; its result.

        For hot, short writes (the relay's outcomes). On a SQLite file, through plain
        sqlite3 connections (``_SQLiteDirect``): in the event loop's thread when the write
        lock is free at once (no thread hop at all), else in a thread of its own that
        waits for the lock; ``work`` may then run twice, the first try rolled back, so it
        must do nothing but database work, touch no ORM object and never block long.
        Elsewhere (PostgreSQL, in-memory SQLite) it runs on the async engine's connection
        (``AsyncConnection.run_sync``).
        """
        direct = self._direct()
        if direct is not None:
            return await direct.run(work)
        async with self.engine.begin() as connection:
            return await connection.run_sync(work)

    async def read_sync(self, work: Callable[[sa.Connection], T]) -> T:
        """Run ``work``, reads needing no common snapshot, on a synchronous connection.

        For hot reads (the account of each update's sender). On a SQLite file, in the
        event loop's thread on a plain sqlite3 connection (``_SQLiteDirect.read``): no
        hand-over to aiosqlite's thread for each call. Elsewhere, and should SQLite be
        busy, on a connection of the async engine in autocommit (on PostgreSQL no BEGIN
        and no ROLLBACK, two round trips fewer). ``work`` must not write.
        """
        direct = self._direct()
        if direct is not None:
            try:
                return direct.read(work)
            except sa.exc.OperationalError as exc:
                if not _is_busy(exc):
                    raise
        async with self.engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            return await connection.run_sync(work)

    def _direct(self) -> _SQLiteDirect | None:
        """The plain sqlite3 connections of a SQLite file (made on first need); else None."""
        if self._sqlite_direct is None and self._sqlite_file_url is not None:
            self._sqlite_direct = _SQLiteDirect(self._sqlite_file_url, echo=self._echo)
        return self._sqlite_direct

    async def upgrade(self) -> None:
        """Run the migrations to head (in a thread, so the event loop keeps running)."""
        await asyncio.to_thread(upgrade_to_head, self.url)

    async def create_all(self) -> None:
        """Create the tables straight from the models, bypassing Alembic.

        Only for throwaway databases (in-memory tests); real databases use ``upgrade``.
        """
        async with self.engine.begin() as conn:
            await conn.run_sync(SQLModel.metadata.create_all)

    async def dispose(self) -> None:
        """Close every pooled connection."""
        if self._sqlite_direct is not None:
            await self._sqlite_direct.close()
            self._sqlite_direct = None
        await self.engine.dispose()


def alembic_config(url: str | None = None) -> Config:
    """The Alembic config shipped in the package, optionally pointed at ``url``."""
    config = Config(str(ALEMBIC_INI))
    config.attributes["embedded"] = True  # env.py: don't reconfigure the app's logging
    if url is not None:
        # Passed as an attribute rather than through the ini: no %-interpolation issues,
        # and it outranks the environment variable that the CLI path reads.
        config.attributes["database_url"] = sync_url(url)
    return config


def upgrade_to_head(url: str, *, revision: str = "head") -> None:
    """Migrate the database at ``url`` to ``revision``.

    Synchronous and loop-free, so it may run inside ``asyncio.to_thread``; Alembic keeps
    global state, so do not run two migrations at once in one process.
    """
    command.upgrade(alembic_config(url), revision)


def current_revision(url: str) -> str | None:
    """The Alembic revision the database at ``url`` is at (None if never migrated)."""
    parsed = _parse(url)
    if _is_sqlite(parsed):
        path = _sqlite_file(parsed)
        if path is not None and not path.exists():
            return None
    engine = sa.create_engine(sync_url(url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str | None:
    """The newest revision shipped with this code."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
