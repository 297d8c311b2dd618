"""/funds [year]: training money per member against the 30-yuan floor, shortfalls worst
first, with exact yuan figures at county, township and branch level.

The fixture county 红旗县: 东风镇 (东风村 4 active members and 1 who left, 柳树村 2) and 前进乡
(前进村 4). Training money 2026: the county 190.00, 东风镇 60.00, 东风村 40.00, 前进村 10.00;
also 5000.00 for 东风村's infrastructure (not training) and 1000.00 for 前进乡 in 2025.
Money recorded at an org counts for the members of its whole subtree, spread evenly.
"""

from __future__ import annotations

from decimal import Decimal

from bot.clock import ManualClock
from bot.i18n import gettext
from handlers import funds as fund_handlers
from storage import Database
from storage import funds as fund_store
from storage.models import FundPurpose, FundSource, Member, OrgUnit, Role
from tests.support.builders import Tree, add_member, build_tree, grant
from tests.support.conversation import say, shown
from tests.support.roles import Person


async def fund(
    database: Database,
    clock: ManualClock,
    org: OrgUnit,
    amount: str,
    *,
    year: int = 2026,
    source: FundSource = FundSource.COUNTY,
    purpose: FundPurpose = FundPurpose.TRAINING,
) -> None:
    assert org.id is not None
    async with database.session_scope() as db:
        await fund_store.record_fund(
            db=db,
            org_id=org.id,
            year=year,
            source=source,
            purpose=purpose,
            amount_yuan=Decimal(amount),
            recorded_by=1,
            now=clock.now(),
        )


async def fixture_county(database: Database, clock: ManualClock) -> Tree:
    tree = await build_tree(database)
    for org, count in ((tree.dongfeng, 4), (tree.liushu, 2), (tree.qianjin, 4)):
        for index in range(count):
            await add_member(database, org, f"{org.name[:2]}{index}")
    left = await add_member(database, tree.dongfeng, "已离开")
    async with database.session_scope() as db:
        stored = await db.get(Member, left.id)
        assert stored is not None
        stored.active = False
    await fund(database, clock, tree.county, "190.00")
    await fund(database, clock, tree.townships["T01"], "60", source=FundSource.TOWNSHIP)
    await fund(database, clock, tree.dongfeng, "40.00")
    await fund(database, clock, tree.qianjin, "10.00")
    await fund(database, clock, tree.dongfeng, "5000", purpose=FundPurpose.INFRASTRUCTURE)
    await fund(database, clock, tree.townships["T02"], "1000", year=2025)
    return tree


async def test_the_county_sees_every_level_and_the_shortfalls_worst_first(
    person: Person, database: Database, clock: ManualClock
) -> None:
    tree = await fixture_county(database, clock)
    staff = person("县委组织部", language="en")
    await grant(database, staff.id, Role.COUNTY_STAFF, tree.county)
    report = await say(staff, "/funds")
    assert report.text == (
        "Training funds 2026 (at least 30.00 yuan per member):\n"
        "红旗县: 30.00 yuan per member (10 members)\n"
        "• village infrastructure, county budget: 5,000.00 yuan\n"
        "• training, county budget: 240.00 yuan\n"
        "• training, township budget: 60.00 yuan\n"
        "Below the floor (3), worst first:\n"
        "前进乡党委: 21.50 yuan per member (4 members), short 34.00 yuan\n"
        "前进村党支部: 21.50 yuan per member (4 members), short 34.00 yuan\n"
        "柳树村党支部: 29.00 yuan per member (2 members), short 2.00 yuan"
    )
    # 东风镇: (60 + 40) / 6 + 19 = 35.666… and 东风村: 19 + 10 + 10 = 39 are not short.
    async with database.session_scope() as db:
        spends = await fund_store.training_spend(
            db=db, org_id=tree.county.id or 0, year=2026, floor_yuan=Decimal(30)
        )
    figures = {s.name: s.per_member_yuan for s in spends}
    assert figures["东风镇党委"] == Decimal("35.66")
    assert figures["东风村党支部"] == Decimal("39.00")


async def test_a_township_sees_its_subtree_another_year_and_bad_years(
    person: Person, database: Database, clock: ManualClock
) -> None:
    tree = await fixture_county(database, clock)
    organiser = person("乡组织委员", language="zh-hans")
    await grant(database, organiser.id, Role.TOWNSHIP_ORGANISER, tree.townships["T02"])
    this_year = await say(organiser, "/funds")
    assert shown(this_year).splitlines()[:2] == [
        "2026年培训经费（每名党员每年不少于 30.00 元）：",
        "前进乡党委：人均 21.50 元（4 名党员）",
    ]
    assert "柳树村党支部" not in shown(this_year)
    last_year = await say(organiser, "/funds 2025")
    assert last_year.text == (
        "2025年培训经费（每名党员每年不少于 30.00 元）：\n"
        "前进乡党委：人均 250.00 元（4 名党员）\n"
        "• 党员培训，县级财政：1,000.00 元\n"
        "这里的每个组织都达到人均 30.00 元。"
    )
    assert (await say(organiser, "/funds 1999")).text == "1999 不是 2000 到 2027 之间的年份。"
    assert shown(await say(organiser, "/funds 二〇二六")).startswith("二〇二六 不是")


async def test_members_without_a_reporting_role_are_refused(
    person: Person, database: Database, clock: ManualClock
) -> None:
    tree = await fixture_county(database, clock)
    villager = person("党员")
    await add_member(database, tree.dongfeng, "党员", telegram_user_id=villager.id)
    assert (await say(villager, "/funds")).text == gettext("zh", fund_handlers.NO_REPORT)
