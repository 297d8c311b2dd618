"""Alembic owns the schema: the migration must build exactly what the models describe."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel

from storage import current_revision, head_revision, sync_url, upgrade_to_head
from storage.db import alembic_config
from storage.models import metadata


def _table_names(url: str) -> set[str]:
    engine = sa.create_engine(sync_url(url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return set(sa.inspect(conn).get_table_names())
    finally:
        engine.dispose()


def _drift(url: str) -> list[Any]:
    engine = sa.create_engine(sync_url(url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "compare_server_default": True}
            )
            return list(compare_metadata(context, SQLModel.metadata))
    finally:
        engine.dispose()


def test_metadata_is_sqlmodel_metadata() -> None:
    assert metadata is SQLModel.metadata
    assert len(metadata.tables) == 34


def test_upgrade_creates_every_table(sqlite_url: str) -> None:
    upgrade_to_head(sqlite_url)
    assert _table_names(sqlite_url) == set(metadata.tables) | {"alembic_version"}


def test_no_drift_between_migration_and_models_sqlite(sqlite_url: str) -> None:
    upgrade_to_head(sqlite_url)
    assert _drift(sqlite_url) == []


def test_revision_helpers(sqlite_url: str) -> None:
    assert current_revision(sqlite_url) is None
    upgrade_to_head(sqlite_url)
    assert head_revision() is not None
    assert current_revision(sqlite_url) == head_revision()
    upgrade_to_head(sqlite_url)  # idempotent
    assert current_revision(sqlite_url) == head_revision()


def test_downgrade_to_base_removes_everything(sqlite_url: str) -> None:
    upgrade_to_head(sqlite_url)
    command.downgrade(alembic_config(sqlite_url), "base")
    assert _table_names(sqlite_url) == {"alembic_version"}


async def test_upgrade_callable_inside_running_loop(sqlite_url: str, tmp_path: Any) -> None:
    upgrade_to_head(sqlite_url)  # blocking, but no nested event loop is needed
    other = f"sqlite:///{tmp_path / 'other.db'}"
    await asyncio.to_thread(upgrade_to_head, other)
    assert current_revision(sqlite_url) == current_revision(other) == head_revision()


@pytest.mark.postgres
def test_upgrade_and_no_drift_postgres(postgres_url: str) -> None:
    assert current_revision(postgres_url) is None
    upgrade_to_head(postgres_url)
    assert current_revision(postgres_url) == head_revision()
    assert _table_names(postgres_url) == set(metadata.tables) | {"alembic_version"}
    assert _drift(postgres_url) == []


def test_postgres_is_optional_locally_but_required_in_ci(
    postgres_rule: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PARTYBOT_TEST_POSTGRES_URL", raising=False)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        postgres_rule()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="required when CI=true"):
        postgres_rule()
    monkeypatch.setenv("PARTYBOT_TEST_POSTGRES_URL", "postgresql://u@h/db")
    assert postgres_rule() == "postgresql://u@h/db"


# --- Data survives a downgrade and the upgrade after it -------------------------------------


async def _county_with_a_weekly_series(url: str) -> tuple[int, int]:
    """A branch with greetings off and a weekly session series; (branch id, series id)."""
    from bot import session_ops
    from bot.greetings import switch_greetings
    from bot.session_ops import SessionPlan
    from bot.sessions import Repeat
    from bot.settings import load_settings
    from storage import Database, orgs
    from storage.models import AudienceKind, OrgKind, SessionKind

    settings = load_settings(
        env_file=None, TELEGRAM_BOT_TOKEN="123:" + "x" * 35, PARTYBOT_DATABASE_URL=url
    )
    database = Database(url)
    try:
        async with database.session_scope() as db:
            county = await orgs.create_org(db=db, code="C", name="县", kind=OrgKind.COUNTY)
            branch = await orgs.create_org(
                db=db,
                code="V",
                name="村",
                kind=OrgKind.VILLAGE_BRANCH,
                parent_id=county.id,
            )
            assert branch.id is not None
            await switch_greetings(db=db, org_id=branch.id, enabled=False, actor=1, now=_NOW)
            scheduled = await session_ops.schedule(
                db=db,
                plan=SessionPlan(
                    org_id=branch.id,
                    kind=SessionKind.THEME_PARTY_DAY,
                    topic="主题党日",
                    starts_at=_NOW + timedelta(days=1),
                    duration_minutes=90,
                    place="村委会",
                    audience_kind=AudienceKind.BRANCH,
                    audience_org_id=branch.id,
                    reminder_offsets=(),
                    repeat=Repeat.WEEKLY,
                ),
                actor=1,
                settings=settings,
                now=_NOW,
            )
            assert scheduled.study.series_id is not None
            return branch.id, scheduled.study.series_id
    finally:
        await database.dispose()


_NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def _rows(url: str, query: str) -> list[tuple[Any, ...]]:
    engine = sa.create_engine(sync_url(url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(sa.text(query))]
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "url_fixture", ["sqlite_url", pytest.param("postgres_url", marks=pytest.mark.postgres)]
)
async def test_downgrade_to_0001_and_back_keeps_greetings_and_series_slots(
    url_fixture: str, request: pytest.FixtureRequest
) -> None:
    from bot import session_ops
    from bot.settings import load_settings
    from storage import Database
    from storage.models import SessionSeries

    url = request.getfixturevalue(url_fixture)
    await asyncio.to_thread(upgrade_to_head, url)
    branch_id, series_id = await _county_with_a_weekly_series(url)
    sessions_query = "SELECT id, series_slot FROM study_session ORDER BY id"
    before = _rows(url, sessions_query)
    assert len(before) > 1  # the series made its first weeks

    await asyncio.to_thread(command.downgrade, alembic_config(url), "0001")
    await asyncio.to_thread(upgrade_to_head, url)

    greetings = f"SELECT greetings_enabled FROM org_unit WHERE id = {branch_id}"
    assert [bool(value) for (value,) in _rows(url, greetings)] == [False]
    assert _rows(url, sessions_query) == before
    assert not [name for name in _table_names(url) if name.startswith("kept_")]
    settings = load_settings(
        env_file=None, TELEGRAM_BOT_TOKEN="123:" + "x" * 35, PARTYBOT_DATABASE_URL=url
    )
    database = Database(url)
    try:
        async with database.session_scope() as db:
            series = await db.get(SessionSeries, series_id)
            assert series is not None
            created = await session_ops.extend_series(
                db=db, series=series, settings=settings, now=_NOW
            )
    finally:
        await database.dispose()
    assert created == []  # no occurrence generated a second time
    assert _rows(url, sessions_query) == before
