"""Migration 0006 (funds and duties) upgrades and downgrades with data in place: a contact
point marked as a demonstration becomes a demonstration site and back, visits and funds
survive."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.pool import NullPool

from storage import sync_url, upgrade_to_head
from storage.db import alembic_config

BEFORE = "0004"
THIS = "0006"


def _run(url: str, *statements: str) -> list[tuple[object, ...]]:
    engine = sa.create_engine(sync_url(url), poolclass=NullPool)
    try:
        with engine.begin() as conn:
            rows: list[tuple[object, ...]] = []
            for statement in statements:
                result = conn.exec_driver_sql(statement)
                if result.returns_rows:
                    rows = [tuple(row) for row in result.all()]
            return rows
    finally:
        engine.dispose()


def _seed(url: str) -> None:
    _run(
        url,
        "INSERT INTO org_unit (id, code, name, kind, parent_id, path, active, created_at,"
        " greetings_enabled) VALUES (1, 'C', '县', 'county', NULL, '/1/', TRUE,"
        " '2026-01-01 00:00:00', TRUE)",
        "INSERT INTO org_unit (id, code, name, kind, parent_id, path, active, created_at,"
        " greetings_enabled) VALUES (2, 'T01', '镇', 'township', 1, '/1/2/', TRUE,"
        " '2026-01-01 00:00:00', TRUE)",
        "INSERT INTO member (id, name, gender, status, org_id, active, created_at, updated_at)"
        " VALUES (1, '王', 'unknown', 'full', 2, TRUE, '2026-01-01 00:00:00',"
        " '2026-01-01 00:00:00')",
        "INSERT INTO contact_point (id, leader_member_id, org_id, year, is_demonstration,"
        " created_at) VALUES (1, 1, 2, 2026, TRUE, '2026-01-01 00:00:00')",
        "INSERT INTO contact_point (id, leader_member_id, org_id, year, is_demonstration,"
        " created_at) VALUES (2, 1, 1, 2026, FALSE, '2026-01-01 00:00:00')",
        "INSERT INTO contact_visit (id, contact_point_id, visited_on, recorded_by, created_at)"
        " VALUES (1, 1, '2026-02-01', 5, '2026-02-01 00:00:00')",
        "INSERT INTO fund_allocation (id, org_id, year, source, purpose, amount_yuan,"
        " recorded_by, recorded_at) VALUES (1, 2, 2026, 'county', 'training', 123.45, 7,"
        " '2026-01-01 00:00:00')",
    )


def _round_trip(url: str) -> None:
    upgrade_to_head(url, revision=BEFORE)
    _seed(url)
    upgrade_to_head(url, revision=THIS)
    assert _run(url, "SELECT org_id, year FROM demonstration_site") == [(2, 2026)]
    assert _run(url, "SELECT id, photo_ids FROM contact_visit") == [(1, None)]
    _run(
        url,
        "INSERT INTO fund_allocation (id, org_id, year, source, purpose, amount_yuan,"
        " recorded_by, recorded_at) VALUES (2, 1, 2026, 'municipal', 'training', 5, NULL,"
        " '2026-01-01 00:00:00')",
    )
    command.downgrade(alembic_config(url), BEFORE)
    assert _run(url, "SELECT id, is_demonstration FROM contact_point ORDER BY id") in (
        [(1, True), (2, False)],
        [(1, 1), (2, 0)],
    )
    assert _run(url, "SELECT id, recorded_by FROM fund_allocation ORDER BY id") == [
        (1, 7),
        (2, 0),
    ]
    assert _run(url, "SELECT count(*) FROM contact_visit") == [(1,)]
    upgrade_to_head(url)


def test_round_trip_with_data_sqlite(sqlite_url: str) -> None:
    _round_trip(sqlite_url)


@pytest.mark.postgres
def test_round_trip_with_data_postgres(postgres_url: str) -> None:
    _round_trip(postgres_url)
