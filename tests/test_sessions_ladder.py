"""The silent-branch ladder: the secretary first, the township a week later, the county a week
after that; a held session stops it; periods before partybot was in use are not judged."""

from __future__ import annotations

from sqlmodel import col, select

from bot.clock import ManualClock
from bot.settings import Settings
from sandbox import SimUser, World
from schedules import sessions as jobs
from storage import Database, orgs
from storage.models import (
    AudienceKind,
    OrgKind,
    Role,
    SessionEscalation,
    SessionKind,
    StudySession,
)
from tests.support.builders import grant
from tests.support.conversation import say, shown
from tests.support.sessions import (
    Person,
    arrives,
    at,
    create_session,
    make_branch,
    texts,
)


async def ladder(database: Database, clock: ManualClock, settings: Settings) -> int:
    return await jobs.job_silent_ladder(database, clock, settings=settings)


async def escalations(database: Database) -> list[SessionEscalation]:
    async with database.session_scope() as db:
        rows = await db.exec(select(SessionEscalation).order_by(col(SessionEscalation.id)))
        return list(rows.all())


def warnings(user: SimUser) -> list[str]:
    return [text for text in texts(user) if text.startswith("⚠️")]


async def test_the_full_ladder_and_how_a_held_session_stops_it(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, names=("张三",))
    township = person("镇组织委员")
    county = person("县委组织部")
    await grant(database, township.id, Role.TOWNSHIP_ORGANISER, branch.tree.townships["T01"])
    await grant(database, county.id, Role.COUNTY_STAFF, branch.tree.county)
    for officer in (branch.secretary, township, county):
        await say(officer, "/start")
    # partybot is in use from today; 东风村 holds its theme party day in March.
    await create_session(
        database,
        settings,
        clock,
        branch.org,
        starts_at=at(2026, 3, 10, 19, 30),
        kind=SessionKind.THEME_PARTY_DAY,
        topic="主题党日",
    )
    assert await ladder(database, clock, settings) == 0  # February is not judged

    clock.set(at(2026, 4, 1, 9, 0))
    assert await ladder(database, clock, settings) == 1  # 东风村's secretary; 柳树村 has none
    first = await arrives(world, branch.secretary, "⚠️")
    assert first.text == (
        "⚠️ 以下规定的活动还没有开：\n"
        "• 东风村党支部：支部党员大会，2026年第1季度（要求每季度一次）\n"
        "• 东风村党支部：支委会，2026年3月（要求每月一次）\n"
        "• 东风村党支部：党课，2026年第1季度（要求每季度一次）\n"
        "请用 /newsession 安排。"
    )
    assert await ladder(database, clock, settings) == 0  # once
    clock.set(at(2026, 4, 7, 23, 0))
    assert await ladder(database, clock, settings) == 0  # not a week yet
    assert warnings(township) == []

    clock.set(at(2026, 4, 8, 9, 0))
    assert await ladder(database, clock, settings) == 1
    second = await arrives(world, township, "⚠️")
    assert shown(second).startswith(
        "⚠️ 以下规定的活动还没有开，一周前已提醒支部：\n"
        "• 东风村党支部：支部党员大会，2026年第1季度（要求每季度一次）\n"
        "• 东风村党支部：支委会，2026年3月（要求每月一次）\n"
        "• 东风村党支部：党课，2026年第1季度（要求每季度一次）\n"
        "• 柳树村党支部：支部党员大会，2026年第1季度（要求每季度一次）\n"
    )
    assert shown(second).endswith("请督促落实。")
    assert "前进村党支部" not in shown(second)  # another township's branch
    assert len(warnings(branch.secretary)) == 1

    # 东风村 holds a branch committee meeting: that ladder stops before the county hears.
    await create_session(
        database, settings, clock, branch.org, starts_at=at(2026, 4, 10, 19, 30), topic="支委会"
    )
    clock.set(at(2026, 4, 15, 9, 0))
    assert await ladder(database, clock, settings) == 1
    third = await arrives(world, county, "⚠️")
    assert shown(third).startswith(
        "⚠️ 以下规定的活动仍然没有开，支部和上一级都已提醒过：\n"
        "• 东风村党支部：支部党员大会，2026年第1季度（要求每季度一次）\n"
        "• 东风村党支部：党课，2026年第1季度（要求每季度一次）\n"
        "• 柳树村党支部：支部党员大会，2026年第1季度（要求每季度一次）\n"
    )
    assert "东风村党支部：支委会" not in shown(third)
    assert "前进村党支部：支部党员大会" in shown(third)  # via its own township's ladder

    clock.set(at(2026, 4, 29, 9, 0))
    assert await ladder(database, clock, settings) == 0  # the top has been reached
    rows = {
        (row.org_id, row.kind): row
        for row in await escalations(database)
        if row.org_id == branch.org.id
    }
    assert branch.org.id is not None
    committee = rows[(branch.org.id, SessionKind.BRANCH_COMMITTEE_MEETING)]
    assert (committee.level, committee.resolved_at) == (2, at(2026, 4, 15, 9, 0))
    lesson = rows[(branch.org.id, SessionKind.PARTY_LESSON)]
    assert (lesson.level, lesson.resolved_at) == (3, None)
    assert [len(warnings(u)) for u in (branch.secretary, township, county)] == [1, 1, 1]


async def test_a_new_silent_month_starts_a_new_ladder(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, names=("张三",))
    await say(branch.secretary, "/start")
    await create_session(
        database,
        settings,
        clock,
        branch.org,
        starts_at=at(2026, 3, 10, 19, 30),
        kind=SessionKind.THEME_PARTY_DAY,
    )
    clock.set(at(2026, 4, 1, 9, 0))
    await ladder(database, clock, settings)
    clock.set(at(2026, 5, 1, 9, 0))  # April: no theme party day either now
    await ladder(database, clock, settings)
    may = await world.wait_for(
        lambda: next((t for t in warnings(branch.secretary) if "主题党日" in t), None)
    )
    assert "• 东风村党支部：主题党日，2026年4月（要求每月一次）" in may


async def test_a_silent_party_group_goes_to_its_branch_then_township_then_county(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, names=("张三", "李四"))
    async with database.session_scope() as db:
        groups = [
            await orgs.create_org(
                db=db,
                code=f"T01-V01-G{n}",
                name=name,
                kind=OrgKind.PARTY_GROUP,
                parent_id=branch.org.id,
            )
            for n, name in ((1, "第一党小组"), (2, "第二党小组"))
        ]
    first_group, second_group = groups
    township = person("镇组织委员")
    county = person("县委组织部")
    await grant(database, township.id, Role.TOWNSHIP_ORGANISER, branch.tree.townships["T01"])
    await grant(database, county.id, Role.COUNTY_STAFF, branch.tree.county)
    for officer in (branch.secretary, township, county):
        await say(officer, "/start")
    # The second group meets in March; a branch-wide meeting does not count for the first.
    for audience, org_id in ((AudienceKind.PARTY_GROUP, second_group.id), (None, None)):
        study = await create_session(
            database,
            settings,
            clock,
            branch.org,
            starts_at=at(2026, 3, 12, 19, 30),
            kind=SessionKind.PARTY_GROUP_MEETING,
        )
        if audience is not None:
            async with database.session_scope() as db:
                row = await db.get(StudySession, study.id)
                assert row is not None
                row.audience_kind, row.audience_org_id = audience, org_id or 0
    silent_line = "• 东风村党支部 · 第一党小组：党小组会，2026年3月（要求每月一次）"

    clock.set(at(2026, 4, 1, 9, 0))
    await ladder(database, clock, settings)
    first = await arrives(world, branch.secretary, "⚠️")
    assert silent_line in shown(first).splitlines()
    assert "第二党小组" not in shown(first)
    clock.set(at(2026, 4, 8, 9, 0))
    await ladder(database, clock, settings)
    assert silent_line in shown(await arrives(world, township, "⚠️")).splitlines()
    clock.set(at(2026, 4, 15, 9, 0))
    await ladder(database, clock, settings)
    assert silent_line in shown(await arrives(world, county, "⚠️")).splitlines()
    [escalation] = [e for e in await escalations(database) if e.org_id == first_group.id]
    assert (escalation.kind, escalation.level, escalation.resolved_at) == (
        SessionKind.PARTY_GROUP_MEETING,
        3,
        None,
    )
