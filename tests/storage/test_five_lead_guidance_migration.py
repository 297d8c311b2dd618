"""Migration 0013 (five-lead proposals, branch classes, the poverty flag): a downgrade to
0012 and the upgrade after it keep every proposal, class and flag, and new rows can be
written afterwards (the ids go on from the kept ones)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.pool import NullPool

from storage import Database, guidance, members, orgs, sync_url, upgrade_to_head
from storage import five_lead as proposals
from storage.db import alembic_config
from storage.models import GuidanceClass, MemberStatus, OrgKind

_NOW = datetime(2026, 4, 15, 2, 0, tzinfo=UTC)


def _rows(url: str, query: str) -> list[tuple[Any, ...]]:
    engine = sa.create_engine(sync_url(url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(sa.text(query))]
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(sync_url(url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return set(sa.inspect(conn).get_table_names())
    finally:
        engine.dispose()


async def _marked_county(url: str) -> tuple[int, int]:
    """A branch flagged poor and lagging, with a pending proposal; (branch id, member id)."""
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
            member = await members.create_member(
                db=db, name="张三", org_id=branch.id, status=MemberStatus.FULL
            )
            assert member.id is not None
            await proposals.add_proposal(
                db=db, year=2026, member_id=member.id, proposed_by=7, now=_NOW
            )
            await guidance.set_grade(
                db=db,
                org_id=branch.id,
                year=2026,
                grade=GuidanceClass.LAGGING,
                set_by=8,
                now=_NOW,
            )
            await guidance.set_poverty(db=db, org=branch, flagged=True)
            return branch.id, member.id
    finally:
        await database.dispose()


@pytest.mark.parametrize(
    "url_fixture", ["sqlite_url", pytest.param("postgres_url", marks=pytest.mark.postgres)]
)
async def test_downgrade_to_0012_and_back_keeps_proposals_classes_and_flags(
    url_fixture: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue(url_fixture)
    await asyncio.to_thread(upgrade_to_head, url)
    branch_id, member_id = await _marked_county(url)
    proposal_query = (
        "SELECT id, year, member_id, proposed_by, assessment_id FROM five_lead_proposal"
    )
    grade_query = "SELECT id, year, org_id, grade, set_by FROM branch_guidance"
    flag_query = f"SELECT poverty_village FROM org_unit WHERE id = {branch_id}"
    before = (_rows(url, proposal_query), _rows(url, grade_query))
    assert len(before[0]) == 1
    assert len(before[1]) == 1

    await asyncio.to_thread(command.downgrade, alembic_config(url), "0012")
    assert not {"five_lead_proposal", "branch_guidance"} & _tables(url)
    await asyncio.to_thread(upgrade_to_head, url)

    assert (_rows(url, proposal_query), _rows(url, grade_query)) == before
    assert [bool(value) for (value,) in _rows(url, flag_query)] == [True]
    assert not [name for name in _tables(url) if name.startswith("kept_")]
    # New rows after the round trip get fresh ids.
    database = Database(url)
    try:
        async with database.session_scope() as db:
            other = await members.create_member(
                db=db, name="李四", org_id=branch_id, status=MemberStatus.FULL
            )
            assert other.id is not None
            row = await proposals.add_proposal(
                db=db, year=2026, member_id=other.id, proposed_by=7, now=_NOW
            )
            assert row.id is not None
            assert row.id != before[0][0][0]
            await guidance.set_grade(
                db=db,
                org_id=branch_id,
                year=2027,
                grade=GuidanceClass.ADVANCED,
                set_by=8,
                now=_NOW,
            )
    finally:
        await database.dispose()
    assert len(_rows(url, proposal_query)) == 2
    assert member_id != other.id
