"""Fixtures for the storage tests: a freshly migrated database per test.

SQLite (a file under tmp_path) always; PostgreSQL when PARTYBOT_TEST_POSTGRES_URL points
at a server where the user may CREATE DATABASE (each test gets its own database).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from storage import Database, sync_url, upgrade_to_head
from tests.support.storage import build_tree, require_postgres_url


@pytest.fixture
def postgres_rule() -> Callable[[], str]:
    """``require_postgres_url`` itself, so its CI rule can be tested."""
    return require_postgres_url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """URL of a not-yet-created SQLite file (in a directory that does not exist yet)."""
    return f"sqlite+aiosqlite:///{tmp_path / 'data' / 'partybot.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """URL of a brand-new, empty PostgreSQL database, dropped after the test."""
    base = require_postgres_url()
    name = f"partybot_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(sync_url(base), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


@pytest.fixture
async def sqlite_db(sqlite_url: str) -> AsyncIterator[Database]:
    """A migrated SQLite database."""
    await asyncio.to_thread(upgrade_to_head, sqlite_url)
    database = Database(sqlite_url)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
async def pg_db(postgres_url: str) -> AsyncIterator[Database]:
    """A migrated PostgreSQL database."""
    await asyncio.to_thread(upgrade_to_head, postgres_url)
    database = Database(postgres_url)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def each_db(request: pytest.FixtureRequest) -> Database:
    """A migrated database of each kind (PostgreSQL: skipped locally without a server)."""
    name = "sqlite_db" if request.param == "sqlite" else "pg_db"
    found: Database = request.getfixturevalue(name)
    return found


@pytest.fixture
async def tree(sqlite_db: Database) -> dict[str, int]:
    return await build_tree(sqlite_db)


@pytest.fixture
async def pg_tree(pg_db: Database) -> dict[str, int]:
    return await build_tree(pg_db)
