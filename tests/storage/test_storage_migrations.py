"""Alembic owns the schema: the migration must build exactly what the models describe."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
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
    assert len(metadata.tables) == 25


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
