"""Training spend per member (storage.funds) on SQLite and PostgreSQL: exact yuan figures.

The storage tree: county ─┬─ t1 ─┬─ v1 (3 members, one in party group g1) ; v2 (2)
                           └─ t2 ─── v3 (1)           (plus one inactive member in v1)
Training money 2026: county 120.00, t1 50.00, v1 10.01, v3 0.99; not counted: v2's office
money, t2's 2025 training money.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from storage import Database, funds, members
from storage.models import FundPurpose, FundSource, MemberStatus
from tests.support.storage import build_tree

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
FLOOR = Decimal("30")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest) -> Database:
    name = "sqlite_db" if request.param == "sqlite" else "pg_db"
    found: Database = request.getfixturevalue(name)
    return found


@pytest.fixture
async def ids(database: Database) -> dict[str, int]:
    found = await build_tree(database)
    async with database.session_scope() as db:
        for index, (org, group, active) in enumerate(
            [
                ("v1", "g1", True),
                ("v1", None, True),
                ("v1", None, True),
                ("v1", None, False),
                ("v2", None, True),
                ("v2", None, True),
                ("v3", None, True),
            ]
        ):
            member = await members.create_member(
                db=db,
                name=f"m{index}",
                org_id=found[org],
                status=MemberStatus.FULL,
                party_group_id=found[group] if group else None,
            )
            member.active = active
        for org, year, purpose, amount in [
            ("county", 2026, FundPurpose.TRAINING, "120.00"),
            ("t1", 2026, FundPurpose.TRAINING, "50.00"),
            ("v1", 2026, FundPurpose.TRAINING, "10.01"),
            ("v3", 2026, FundPurpose.TRAINING, "0.99"),
            ("v2", 2026, FundPurpose.OFFICE, "9999.00"),
            ("t2", 2025, FundPurpose.TRAINING, "5000.00"),
        ]:
            await funds.record_fund(
                db=db,
                org_id=found[org],
                year=year,
                source=FundSource.COUNTY,
                purpose=purpose,
                amount_yuan=Decimal(amount),
                recorded_by=1,
                now=NOW,
            )
    return found


async def test_training_spend_per_member_at_every_level(
    database: Database, ids: dict[str, int]
) -> None:
    async with database.session_scope() as db:
        spends = await funds.training_spend(
            db=db, org_id=ids["county"], year=2026, floor_yuan=FLOOR
        )
    got = {
        s.org_id: (s.members, s.recorded_yuan, s.per_member_yuan, s.gap_yuan, s.short)
        for s in spends
    }
    assert ids["g1"] not in got  # party groups are not reported on
    d = Decimal
    # county: 181.00 over 6 members = 30.1666… -> 30.16, met.
    assert got[ids["county"]] == (6, d("181.00"), d("30.16"), d("0"), False)
    # t1: its 60.01 + 5/6 of the county's 120 (100) = 160.01 over 5 = 32.002.
    assert got[ids["t1"]] == (5, d("60.01"), d("32.00"), d("0"), False)
    # v1: 10.01 + 3/5 of t1's 50 (30) + 3/6 of the county's (60) = 100.01 over 3.
    assert got[ids["v1"]] == (3, d("10.01"), d("33.33"), d("0"), False)
    # v2: 2/5 of 50 (20) + 2/6 of 120 (40) = 60 over 2 = 30.00 exactly: met.
    assert got[ids["v2"]] == (2, d("0"), d("30.00"), d("0"), False)
    # t2 and v3: 0.99 + 1/6 of 120 (20) = 20.99; 9.01 short.
    assert got[ids["t2"]] == (1, d("0.99"), d("20.99"), d("9.01"), True)
    assert got[ids["v3"]] == (1, d("0.99"), d("20.99"), d("9.01"), True)


async def test_a_township_scope_still_counts_the_county_share(
    database: Database, ids: dict[str, int]
) -> None:
    async with database.session_scope() as db:
        spends = await funds.training_spend(db=db, org_id=ids["t2"], year=2026, floor_yuan=FLOOR)
        none = await funds.training_spend(db=db, org_id=ids["t2"], year=2024, floor_yuan=FLOOR)
    assert [(s.org_id, s.per_member_yuan) for s in spends] == [
        (ids["t2"], Decimal("20.99")),
        (ids["v3"], Decimal("20.99")),
    ]
    assert [(s.per_member_yuan, s.gap_yuan) for s in none] == [
        (Decimal("0.00"), Decimal("30"))
    ] * 2


async def test_fund_totals_by_source_and_purpose(database: Database, ids: dict[str, int]) -> None:
    async with database.session_scope() as db:
        totals = await funds.fund_totals(db=db, org_id=ids["t1"], year=2026)
    assert [(t.purpose, t.source, t.records, t.total_yuan) for t in totals] == [
        (FundPurpose.OFFICE, FundSource.COUNTY, 1, Decimal("9999.00")),
        (FundPurpose.TRAINING, FundSource.COUNTY, 2, Decimal("60.01")),
    ]
