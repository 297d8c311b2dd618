"""Fixtures for the storage tests: a freshly migrated database per test.

SQLite (a file under tmp_path) always; PostgreSQL when PARTYBOT_TEST_POSTGRES_URL points
at a server where the user may CREATE DATABASE (each test gets its own database).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from storage import Database, sync_url, upgrade_to_head
from storage.models import OrgKind
from storage.orgs import create_org

POSTGRES_ENV = "PARTYBOT_TEST_POSTGRES_URL"


def require_postgres_url() -> str:
    """The test server's URL; skip without one, but fail under CI (CI=true) instead.

    CI starts a PostgreSQL server, so a missing URL there is a broken pipeline, not an
    optional extra.
    """
    url = os.environ.get(POSTGRES_ENV, "").strip()
    if url:
        return url
    message = f"{POSTGRES_ENV} is not set: no PostgreSQL server to test against"
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"{message} (required when CI=true)", pytrace=False)
    pytest.skip(message)


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
async def db(sqlite_url: str) -> AsyncIterator[Database]:
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


async def build_tree(database: Database) -> dict[str, int]:
    """A small county; returns ids by short name.

    county C001 ─┬─ t1 T01 ─┬─ v1 T01-V01 ── g1 T01-V01-G1 (party group)
                 │          └─ v2 T01-V02
                 └─ t2 T02 ─── v3 T02-V01
    """
    layout = [
        ("county", "C001", "县委", OrgKind.COUNTY, None),
        ("t1", "T01", "东镇", OrgKind.TOWNSHIP, "county"),
        ("t2", "T02", "西镇", OrgKind.TOWNSHIP, "county"),
        ("v1", "T01-V01", "一村", OrgKind.VILLAGE_BRANCH, "t1"),
        ("v2", "T01-V02", "二村", OrgKind.VILLAGE_BRANCH, "t1"),
        ("v3", "T02-V01", "一村", OrgKind.VILLAGE_BRANCH, "t2"),
        ("g1", "T01-V01-G1", "第一党小组", OrgKind.PARTY_GROUP, "v1"),
    ]
    ids: dict[str, int] = {}
    async with database.session_scope() as session:
        for key, code, name, kind, parent in layout:
            org = await create_org(
                session=session,
                code=code,
                name=name,
                kind=kind,
                parent_id=ids[parent] if parent else None,
            )
            assert org.id is not None
            ids[key] = org.id
    return ids


@pytest.fixture
async def tree(db: Database) -> dict[str, int]:
    return await build_tree(db)


@pytest.fixture
async def pg_tree(pg_db: Database) -> dict[str, int]:
    return await build_tree(pg_db)
