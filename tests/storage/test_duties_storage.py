"""Leaders' duty aggregates (storage.duties) on SQLite and PostgreSQL: visit counts per
contact point, leading groups' sessions per Asia/Shanghai year, sites, rungs taken once."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from bot.duties import year_bounds
from storage import Database, duties, members
from storage.models import (
    AudienceKind,
    DutyStep,
    MemberStatus,
    OrgKind,
    SessionKind,
    SessionState,
    StudySession,
)
from tests.support.storage import build_tree

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest) -> Database:
    name = "sqlite_db" if request.param == "sqlite" else "pg_db"
    found: Database = request.getfixturevalue(name)
    return found


@pytest.fixture
async def ids(database: Database) -> dict[str, int]:
    found = await build_tree(database)
    async with database.session_scope() as db:
        for key, org in (("lead_a", "v1"), ("lead_b", "v3")):
            member = await members.create_member(
                db=db, name=key, org_id=found[org], status=MemberStatus.FULL
            )
            assert member.id is not None
            found[key] = member.id
        for key, leader, org, year in (
            ("p1", "lead_a", "v2", 2026),
            ("p2", "lead_b", "v3", 2026),
            ("p3", "lead_a", "v2", 2025),
        ):
            point = await duties.add_contact_point(
                db=db,
                leader_member_id=found[leader],
                org_id=found[org],
                year=year,
                now=NOW,
            )
            assert point is not None
            assert point.id is not None
            found[key] = point.id
        for key, day in (
            ("p1", date(2026, 1, 5)),
            ("p1", date(2026, 2, 5)),
            ("p3", date(2025, 5, 1)),
        ):
            await duties.add_visit(
                db=db,
                contact_point_id=found[key],
                visited_on=day,
                note=None,
                photo_ids=["f1"],
                recorded_by=1,
                now=NOW,
            )
        sessions = [
            (
                "county",
                SessionKind.REPORT_HEARING,
                local(2026, 12, 31, 23, 30),
                SessionState.CLOSED,
            ),
            ("county", SessionKind.REPORT_HEARING, local(2027, 1, 1, 0, 30), SessionState.CLOSED),
            ("county", SessionKind.SPECIAL_STUDY, local(2026, 1, 1, 0, 0), SessionState.CLOSED),
            ("t1", SessionKind.REPORT_HEARING, local(2026, 4, 1, 9), SessionState.CLOSED),
            ("t1", SessionKind.REPORT_HEARING, local(2026, 5, 1, 9), SessionState.CLOSED),
            ("t1", SessionKind.SPECIAL_STUDY, local(2026, 6, 1, 9), SessionState.CANCELLED),
            ("t1", SessionKind.PARTY_LESSON, local(2026, 6, 1, 9), SessionState.CLOSED),
            ("v1", SessionKind.REPORT_HEARING, local(2026, 6, 1, 9), SessionState.CLOSED),
        ]
        for org, kind, starts_at, state in sessions:
            db.add(
                StudySession(
                    org_id=found[org],
                    kind=kind,
                    topic="t",
                    starts_at=starts_at,
                    duration_minutes=60,
                    place="p",
                    audience_kind=AudienceKind.BRANCH,
                    audience_org_id=found[org],
                    state=state,
                    created_by=1,
                )
            )
        await duties.add_site(db=db, org_id=found["t1"], year=2026, created_by=1, now=NOW)
        await duties.add_site(db=db, org_id=found["v3"], year=2026, created_by=1, now=NOW)
    return found


async def test_contact_points_with_their_visits(database: Database, ids: dict[str, int]) -> None:
    async with database.session_scope() as db:
        everywhere = await duties.contact_point_views(db=db, year=2026, under_path="/")
        t1 = await duties.contact_point_views(
            db=db, year=2026, under_path=f"/{ids['county']}/{ids['t1']}/"
        )
        mine = await duties.contact_point_views(db=db, year=2025, leader_member_id=ids["lead_a"])
    assert [(p.id, p.visits, p.last_visit) for p in everywhere] == [
        (ids["p2"], 0, None),
        (ids["p1"], 2, date(2026, 2, 5)),
    ]
    assert [p.id for p in t1] == [ids["p1"]]
    assert [(p.id, p.visits, p.org_name) for p in mine] == [(ids["p3"], 1, "二村")]


async def test_leading_groups_count_closed_sessions_in_the_shanghai_year(
    database: Database, ids: dict[str, int]
) -> None:
    start, end = year_bounds(2026, SHANGHAI)
    async with database.session_scope() as db:
        counts = await duties.leading_group_counts(
            db=db, under_path=f"/{ids['county']}/", start=start, end=end
        )
        next_year = await duties.leading_group_counts(
            db=db,
            under_path=f"/{ids['county']}/",
            start=end,
            end=year_bounds(2027, SHANGHAI)[1],
        )
    assert [(c.org_name, c.kind, c.report_hearings, c.special_studies) for c in counts] == [
        ("县委", OrgKind.COUNTY, 1, 1),
        ("东镇", OrgKind.TOWNSHIP, 2, 0),
        ("西镇", OrgKind.TOWNSHIP, 0, 0),
    ]
    assert [(c.org_name, c.report_hearings) for c in next_year][:1] == [("县委", 1)]


async def test_sites_and_rungs(database: Database, ids: dict[str, int]) -> None:
    async with database.session_scope() as db:
        found = await duties.sites(db=db, year=2026, under_path="/")
        township_sites = await duties.count_sites(db=db, year=2026, kind=OrgKind.TOWNSHIP)
        first = await duties.claim_rung(
            db=db, contact_point_id=ids["p2"], step=DutyStep.NO_VISIT, now=NOW
        )
        second = await duties.claim_rung(
            db=db, contact_point_id=ids["p2"], step=DutyStep.NO_VISIT, now=NOW
        )
        candidates = await duties.ladder_candidates(
            db=db,
            year=2026,
            step=DutyStep.NO_VISIT_COUNTY,
            fewer_than=1,
            created_before=NOW,
            after_step=DutyStep.NO_VISIT,
        )
        removed = await duties.remove_contact_point(db=db, contact_point_id=ids["p1"])
    assert [(s.org_name, s.kind) for s in found] == [
        ("东镇", OrgKind.TOWNSHIP),
        ("一村", OrgKind.VILLAGE_BRANCH),
    ]
    assert township_sites == 1
    assert (first, second) == (True, False)
    assert [p.id for p in candidates] == [ids["p2"]]
    assert removed is True


async def test_removing_a_contact_point_takes_its_visits_and_rungs(
    database: Database, ids: dict[str, int]
) -> None:
    async with database.session_scope() as db:
        await duties.claim_rung(
            db=db, contact_point_id=ids["p1"], step=DutyStep.FEW_VISITS, now=NOW
        )
    async with database.session_scope() as db:
        assert await duties.remove_contact_point(db=db, contact_point_id=ids["p1"])
        assert not await duties.remove_contact_point(db=db, contact_point_id=ids["p1"])
    async with database.session_scope() as db:
        left = await db.exec(
            sa.text(  # type: ignore[call-overload]
                "SELECT (SELECT count(*) FROM contact_visit WHERE contact_point_id = :p),"
                " (SELECT count(*) FROM duty_reminder WHERE contact_point_id = :p)"
            ),
            params={"p": ids["p1"]},
        )
        assert tuple(left.one()) == (0, 0)
