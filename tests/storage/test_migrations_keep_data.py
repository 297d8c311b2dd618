"""A migration's downgrade keeps what it drops: a county with rows in every table goes down
to 0001 and back up to head, and every table holds exactly what it held before.

The test knows every table and column: one the fill (tests/support/every_table.py) leaves
empty fails it, so a new table or column comes with data here and its migration is held
to the rule (storage/migrations/kept.py; docs/data-model.md).
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.pool import NullPool

from storage import Database, members, orgs, sync_url, upgrade_to_head
from storage.db import alembic_config
from storage.models import (
    Assessment,
    AssessmentScheme,
    AssessmentSubject,
    ContactPoint,
    DutyReminder,
    DutyStep,
    FiveLeadProposal,
    MemberStatus,
    OrgKind,
    Rating,
    Training,
    TrainingKind,
    metadata,
)
from tests.support.every_table import SEEDED_AT, fill_every_table

#: Rows of a table, each as its values in column-name order, sorted.
Dump = dict[str, list[tuple[Any, ...]]]

_ALEMBIC = "alembic_version"


def _connect(url: str) -> sa.Engine:
    return sa.create_engine(sync_url(url), poolclass=NullPool)


def _columns(url: str) -> dict[str, list[str]]:
    """Every table's column names (sorted), Alembic's own table aside."""
    engine = _connect(url)
    try:
        with engine.connect() as conn:
            inspector = sa.inspect(conn)
            return {
                table: sorted(column["name"] for column in inspector.get_columns(table))
                for table in inspector.get_table_names()
                if table != _ALEMBIC
            }
    finally:
        engine.dispose()


def _dump(url: str) -> Dump:
    """Every row of every table, sorted, so two dumps compare table by table."""
    columns = _columns(url)
    engine = _connect(url)
    try:
        with engine.connect() as conn:
            dump: Dump = {}
            for table, names in columns.items():
                listed = ", ".join(names)
                rows = conn.execute(sa.text(f"SELECT {listed} FROM {table}"))
                dump[table] = sorted((tuple(row) for row in rows), key=repr)
            return dump
    finally:
        engine.dispose()


def _values(dump: Dump, columns: dict[str, list[str]], table: str, column: str) -> list[Any]:
    index = columns[table].index(column)
    return [row[index] for row in dump[table]]


def _changed(before: Dump, after: Dump, columns: dict[str, list[str]]) -> dict[str, list[str]]:
    """Per table, what the round trip changed: ``rows`` (how many) or the columns."""
    changed: dict[str, list[str]] = {}
    for table in sorted(set(before) | set(after)):
        if table not in before or table not in after:
            changed[table] = ["table"]
        elif len(before[table]) != len(after[table]):
            changed[table] = ["rows"]
        elif before[table] != after[table]:
            changed[table] = [
                column
                for column in columns[table]
                if sorted(map(repr, _values(before, columns, table, column)))
                != sorted(map(repr, _values(after, columns, table, column)))
            ] or ["rows"]
    return changed


def _columns_of(conn: sa.Connection, table: str) -> set[str]:
    return {column["name"] for column in sa.inspect(conn).get_columns(table)}


def _sequences_behind(url: str, dump: Dump) -> list[str]:
    """PostgreSQL: tables whose id sequence would hand out an id a row already has."""
    engine = _connect(url)
    behind: list[str] = []
    try:
        with engine.connect() as conn:
            if conn.dialect.name != "postgresql":
                return []
            for table in dump:
                if "id" not in _columns_of(conn, table):
                    continue
                sequence = conn.execute(
                    sa.text(f"SELECT pg_get_serial_sequence('{table}', 'id')")
                ).scalar()
                if sequence is None:
                    continue
                last, called = conn.execute(
                    sa.text(f"SELECT last_value, is_called FROM {sequence}")
                ).one()
                ids = [row[0] for row in conn.execute(sa.text(f"SELECT id FROM {table}"))]
                if (last + 1 if called else last) <= max(ids, default=0):
                    behind.append(table)
    finally:
        engine.dispose()
    return behind


@pytest.mark.parametrize(
    "url_fixture", ["sqlite_url", pytest.param("postgres_url", marks=pytest.mark.postgres)]
)
async def test_downgrade_to_0001_and_upgrade_again_changes_no_row(
    url_fixture: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue(url_fixture)
    await asyncio.to_thread(upgrade_to_head, url)
    database = Database(url)
    try:
        await fill_every_table(database)
    finally:
        await database.dispose()

    head = _columns(url)
    assert set(head) == set(metadata.tables)
    before = _dump(url)
    # The fill knows every table and column: each table has rows, each column a value.
    assert [table for table, rows in before.items() if not rows] == []
    assert [
        f"{table}.{column}"
        for table, names in head.items()
        for column in names
        if all(value is None for value in _values(before, head, table, column))
    ] == []

    await asyncio.to_thread(command.downgrade, alembic_config(url), "0001")
    at_0001 = {
        (table, column)
        for table, names in _columns(url).items()
        if not table.startswith("kept_")
        for column in names
    }
    await asyncio.to_thread(upgrade_to_head, url)

    # What the later migrations add holds two different values, so a column put back
    # with its default (or re-derived) instead of what it held cannot pass for kept.
    assert [
        f"{table}.{column}"
        for table, names in head.items()
        for column in names
        if (table, column) not in at_0001
        and len(set(map(repr, _values(before, head, table, column)))) < 2
    ] == []
    assert _columns(url) == head  # no table of kept values is left behind
    after = _dump(url)
    changed = _changed(before, after, head)
    assert not changed, f"the round trip changed {changed}"
    assert after == before
    assert _sequences_behind(url, after) == []


async def _kept_rows_with_parents(url: str) -> dict[str, int]:
    """Two contact points with a rung each, a verdict with its proposal, a training for a
    township's members (the township holds nothing else); ids by name."""
    now = SEEDED_AT
    database = Database(url)
    try:
        async with database.session_scope() as db:
            county = await orgs.create_org(db=db, code="C", name="县", kind=OrgKind.COUNTY)
            township = await orgs.create_org(
                db=db, code="T01", name="镇", kind=OrgKind.TOWNSHIP, parent_id=county.id
            )
            assert county.id is not None
            assert township.id is not None
            leader = await members.create_member(
                db=db, name="王", org_id=county.id, status=MemberStatus.FULL
            )
            assert leader.id is not None
            points = [
                ContactPoint(leader_member_id=leader.id, org_id=county.id, year=year)
                for year in (2025, 2026)
            ]
            verdict = Assessment(
                year=2025,
                subject_kind=AssessmentSubject.MEMBER,
                member_id=leader.id,
                scheme=AssessmentScheme.FIVE_LEAD,
                rating=Rating.GOOD,
                passed=True,
                assessed_by=7,
            )
            training = Training(
                org_id=county.id,
                title="春季培训",
                kind=TrainingKind.LECTURE,
                held_on=now.date(),
                hours=Decimal(2),
                created_by=7,
                audience_org_id=township.id,
            )
            db.add_all([*points, verdict, training])
            await db.flush()
            point_ids = [point.id for point in points if point.id is not None]
            assert len(point_ids) == 2
            assert verdict.id is not None
            assert training.id is not None
            db.add_all(
                [
                    DutyReminder(contact_point_id=point_id, step=DutyStep.NO_VISIT, sent_at=now)
                    for point_id in point_ids
                ]
            )
            db.add(
                FiveLeadProposal(
                    year=2025, member_id=leader.id, proposed_by=7, assessment_id=verdict.id
                )
            )
            return {
                "gone point": point_ids[0],
                "point": point_ids[1],
                "verdict": verdict.id,
                "township": township.id,
                "training": training.id,
            }
    finally:
        await database.dispose()


def _run(url: str, statement: str) -> list[tuple[Any, ...]]:
    engine = _connect(url)
    try:
        with engine.begin() as conn:
            result = conn.execute(sa.text(statement))
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "url_fixture", ["sqlite_url", pytest.param("postgres_url", marks=pytest.mark.postgres)]
)
async def test_kept_rows_follow_what_was_deleted_while_downgraded(
    url_fixture: str, request: pytest.FixtureRequest
) -> None:
    """A contact point, a verdict and a township deleted at 0001: the rung kept for the
    point goes with it (ON DELETE CASCADE), the proposal and the training come back without
    the reference (SET NULL), and the upgrade does not fail on a foreign key."""
    url = request.getfixturevalue(url_fixture)
    await asyncio.to_thread(upgrade_to_head, url)
    ids = await _kept_rows_with_parents(url)
    await asyncio.to_thread(command.downgrade, alembic_config(url), "0001")
    _run(url, f"DELETE FROM contact_point WHERE id = {ids['gone point']}")
    _run(url, f"DELETE FROM assessment WHERE id = {ids['verdict']}")
    _run(url, f"DELETE FROM org_unit WHERE id = {ids['township']}")
    await asyncio.to_thread(upgrade_to_head, url)

    assert _run(url, "SELECT contact_point_id FROM duty_reminder") == [(ids["point"],)]
    assert _run(url, "SELECT assessment_id FROM five_lead_proposal") == [(None,)]
    assert _run(
        url, f"SELECT kind, audience_org_id FROM training WHERE id = {ids['training']}"
    ) == [("lecture", None)]
