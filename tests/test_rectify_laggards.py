"""/laggards through the emulator on the fixture county (tests/support/reports.py): the
branches below target with their reasons, scoped to the staff member's unit, from the
same figures and targets as /summary; who may not list them is refused.

By hand (2026, judged to 15 April): 东风村 6/8 periods on time, attendance 3/6, read 1/2,
35 yuan a member; 柳树村 2/8, 2/2, 1/1, 20 yuan; 前进村 8/8, 1/2, nothing to read, 20 yuan.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from sqlmodel import func, select

from bot.clock import ManualClock
from bot.i18n import gettext
from bot.refusals import NOT_ALLOWED, STALE_BUTTON
from handlers import rectify
from handlers.rectify import FILTER_HELP, ISSUE, NO_RECTIFY, PAGE
from sandbox import SimUser
from storage import Database, orgs
from storage import assessments as assessment_store
from storage import guidance as guidance_store
from storage.models import (
    FundAllocation,
    FundPurpose,
    FundSource,
    GuidanceClass,
    OrgKind,
    Rating,
    RectificationOrder,
    Role,
)
from tests.support.builders import grant, id_of
from tests.support.conversation import say, tap
from tests.support.reports import NOW, build_county
from tests.support.roles import buttons, forge

Person = Callable[..., SimUser]

DONGFENG = [
    "• 东风村党支部（东风镇党委）：3 项未达标",
    "    组织生活不正常：按时开展 6/8 期",
    "    参会率低：50%（目标 90%）",
    "    通知阅读率低：50%（目标 90%）",
]
LIUSHU = [
    "• 柳树村党支部（东风镇党委）：2 项未达标",
    "    组织生活不正常：按时开展 2/8 期",
    "    培训经费不足：人均 20.00 元（标准 30 元）",
]
FUNDS_SHORT = "    培训经费不足：人均 20.00 元（标准 30 元）"


async def test_county_and_township_staff_see_their_laggards_with_the_reasons(
    database: Database, clock: ManualClock, person: Person
) -> None:
    clock.set(NOW)
    county = await build_county(database, person)
    answer = await say(county.staff, "/laggards")
    assert (answer.text or "").splitlines() == [
        "⚠️ 红旗县，2026年：3 个支部中有 3 个未达标",
        *DONGFENG,
        *LIUSHU,
        "• 前进村党支部（前进乡党委）：2 项未达标",
        "    参会率低：50%（目标 90%）",
        FUNDS_SHORT,
    ]
    assert buttons(answer) == [
        "限期整改：东风村党支部",
        "限期整改：柳树村党支部",
        "限期整改：前进村党支部",
        "📋 整改通知",
    ]
    # The township sees its own two branches only, for the period typed.
    township = await say(county.organiser, "/laggards 2026年第1季度")
    assert (township.text or "").splitlines() == [
        "⚠️ 东风镇党委，2026年第1季度：2 个支部中有 2 个未达标",
        *DONGFENG,
        *LIUSHU,
    ]


async def test_not_five_good_is_a_reason_once_rated(
    database: Database, clock: ManualClock, person: Person
) -> None:
    clock.set(NOW)
    county = await build_county(database, person)
    async with database.session_scope() as db:
        for org, passed in ((county.tree.qianjin, False), (county.tree.dongfeng, True)):
            await assessment_store.save_five_good(
                db=db,
                year=2026,
                org_id=id_of(org),
                criteria=0 if not passed else 31,
                passed=passed,
                rating=Rating.POOR if not passed else Rating.EXCELLENT,
                assessed_by=county.staff.id,
                now=NOW,
            )
    lines = ((await say(county.staff, "/laggards 2026")).text or "").splitlines()
    assert lines[1:] == [
        *DONGFENG,  # five-good: no reason added
        "• 前进村党支部（前进乡党委）：3 项未达标",
        "    参会率低：50%（目标 90%）",
        FUNDS_SHORT,
        "    未达五好",
        *LIUSHU,  # fewer reasons come later
    ]


async def test_an_empty_period_and_refusals(
    database: Database, clock: ManualClock, person: Person
) -> None:
    clock.set(NOW)
    county = await build_county(database, person)
    # November 2025: before partybot was first used, so no session period is judged; but
    # no training money was recorded for 2025, so both branches are short of the floor.
    short = await say(county.organiser, "/laggards 2025年11月")
    assert (short.text or "").splitlines() == [
        "⚠️ 东风镇党委，2025年11月：2 个支部中有 2 个未达标",
        "• 东风村党支部（东风镇党委）：1 项未达标",
        "    培训经费不足：人均 0.00 元（标准 30 元）",
        "• 柳树村党支部（东风镇党委）：1 项未达标",
        "    培训经费不足：人均 0.00 元（标准 30 元）",
    ]
    async with database.session_scope() as db:
        db.add(
            FundAllocation(
                org_id=id_of(county.tree.townships["T01"]),
                year=2025,
                source=FundSource.COUNTY,
                purpose=FundPurpose.TRAINING,
                amount_yuan=Decimal("180.00"),  # 30 yuan for each of 东风镇's six members
                recorded_by=county.staff.id,
            )
        )
    answer = await say(county.organiser, "/laggards 2025年11月")
    assert answer.text == "✅ 东风镇党委，2025年11月：2 个支部全部达标。"
    assert buttons(answer) == ["📋 整改通知"]
    assert (await say(county.secretary, "/laggards")).text == gettext("zh", NO_RECTIFY)
    assert "/laggards 上季度" in ((await say(county.staff, "/laggards 下辈子")).text or "")
    # A forged button: a branch of another township, the county itself, a bad period.
    refused = gettext("zh", NOT_ALLOWED)
    tree = county.tree
    assert (await forge(county.organiser, ISSUE.encode(id_of(tree.qianjin), "y2026"))).text == (
        refused
    )
    assert (await forge(county.staff, ISSUE.encode(id_of(tree.county), "y2026"))).text == refused
    assert (await forge(county.secretary, ISSUE.encode(id_of(tree.dongfeng), "y2026"))).text == (
        refused
    )
    assert (await forge(county.staff, "rect.n:99999:y2026")).text == refused
    assert (await forge(county.staff, f"rect.n:{tree.dongfeng.id}:x2026")).text == gettext(
        "zh", STALE_BUTTON
    )


async def test_laggards_page_and_several_units_are_offered(
    database: Database, clock: ManualClock, person: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock.set(NOW)
    county = await build_county(database, person)
    monkeypatch.setattr(rectify, "LAGGARDS_LISTED", 2)
    first = await say(county.staff, "/laggards")
    assert (first.text or "").splitlines()[-1] == "显示第 1-2 个，共 3 个。"
    assert buttons(first) == [
        "限期整改：东风村党支部",
        "限期整改：柳树村党支部",
        "下一页 ▶",
        "📋 整改通知",
    ]
    second = await tap(county.staff, "下一页 ▶", message_id=first.message_id)
    assert (second.text or "").splitlines()[1] == "• 前进村党支部（前进乡党委）：2 项未达标"
    assert (second.text or "").splitlines()[-1] == "显示第 3-3 个，共 3 个。"
    assert buttons(second) == ["限期整改：前进村党支部", "◀ 上一页", "📋 整改通知"]
    back = await tap(county.staff, "◀ 上一页", message_id=second.message_id)
    assert back.text == first.text
    # Someone on two townships chooses one first; a page of another unit is refused.
    both = person("两镇组织委员")
    await grant(database, both.id, Role.TOWNSHIP_ORGANISER, county.tree.townships["T01"])
    await grant(database, both.id, Role.TOWNSHIP_ORGANISER, county.tree.townships["T02"])
    which = await say(both, "/laggards")
    assert buttons(which) == ["东风镇党委", "前进乡党委"]
    page = await tap(both, "前进乡党委", message_id=which.message_id)
    assert (page.text or "").startswith("⚠️ 前进乡党委，2026年：1 个支部中有 1 个未达标")
    forged = await forge(county.organiser, PAGE.encode(id_of(county.tree.county), "y2026", 0))
    assert forged.text == gettext("zh", NO_RECTIFY)


async def test_laggards_narrowed_by_class_flag_and_unit_typed(
    database: Database, clock: ManualClock, person: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock.set(NOW)
    county = await build_county(database, person)
    tree = county.tree
    async with database.session_scope() as db:
        await guidance_store.set_grade(
            db=db,
            org_id=id_of(tree.dongfeng),
            year=2026,
            grade=GuidanceClass.LAGGING,
            set_by=county.organiser.id,
            now=NOW,
        )
        await guidance_store.set_poverty(db=db, org=tree.liushu, flagged=True)
        await guidance_store.set_poverty(db=db, org=tree.qianjin, flagged=True)
    lagging = await say(county.staff, "/laggards 2026 落后")
    assert (lagging.text or "").splitlines() == [
        "⚠️ 红旗县，2026年：1 个支部中有 1 个未达标",
        "🔎 仅统计2026年的落后支部",
        *DONGFENG,
    ]
    assert buttons(lagging) == ["限期整改：东风村党支部", "📋 整改通知"]
    # A township typed by the start of its name, with a flag, in any order.
    poor = await say(county.staff, "/laggards 贫困村 东风镇")
    assert (poor.text or "").splitlines() == [
        "⚠️ 东风镇党委，2026年：1 个支部中有 1 个未达标",
        "🔎 仅统计2026年的贫困村",
        *LIUSHU,
    ]
    township = await say(county.staff, "/laggards 前进乡党委 2026年第1季度")
    assert (township.text or "").splitlines()[0] == (
        "⚠️ 前进乡党委，2026年第1季度：1 个支部中有 1 个未达标"
    )
    # Pages keep the narrowing: the county's two poverty-stricken villages, one a page.
    monkeypatch.setattr(rectify, "LAGGARDS_LISTED", 1)
    first = await say(county.staff, "/laggards 贫困村")
    assert (first.text or "").splitlines()[:3] == [
        "⚠️ 红旗县，2026年：2 个支部中有 2 个未达标",
        "🔎 仅统计2026年的贫困村",
        LIUSHU[0],
    ]
    second = await tap(county.staff, "下一页 ▶", message_id=first.message_id)
    assert (second.text or "").splitlines()[1:3] == [
        "🔎 仅统计2026年的贫困村",
        "• 前进村党支部（前进乡党委）：2 项未达标",
    ]
    assert buttons(second) == ["限期整改：前进村党支部", "◀ 上一页", "📋 整改通知"]
    # No branch of the township carries the flag: said so, with the narrowing.
    none = await say(county.organiser, "/laggards 示范点")
    assert (none.text or "").splitlines() == [
        "东风镇党委，2026年：没有可评判的支部。",
        "🔎 仅统计2026年的示范点",
    ]


async def test_bad_laggard_filters_get_the_help_and_show_nothing_else(
    database: Database, clock: ManualClock, person: Person
) -> None:
    clock.set(NOW)
    county = await build_county(database, person)
    help_text = gettext("zh", FILTER_HELP)
    # A unit outside one's own (another township), one that does not exist, a bad period
    # beside a good unit, two unknown words.
    for typed, name in (("/laggards 前进乡", "前进乡"), ("/laggards 2026 西山镇", "西山镇")):
        answer = await say(county.organiser, typed)
        assert answer.text == f"您管辖范围内没有名为“{name}”的单位。\n{help_text}"
        assert buttons(answer) == []
    for typed in ("/laggards 2026年13月 东风镇", "/laggards 东风镇 落后 foo"):
        answer = await say(county.staff, typed)
        assert answer.text == help_text
        assert buttons(answer) == []
    assert "/laggards 2026 东风镇 落后" in help_text
    # A name shared by several units: which one, as buttons; the choice keeps the period.
    which = await say(county.staff, "/laggards 2026年第1季度 东风")
    assert which.text == "看哪一个？"
    assert buttons(which) == ["东风镇党委", "东风村党支部"]
    chosen = await tap(county.staff, "东风村党支部", message_id=which.message_id)
    assert (chosen.text or "").splitlines() == [
        "⚠️ 东风村党支部，2026年第1季度：1 个支部中有 1 个未达标",
        *DONGFENG,
    ]
    # The secretary has no unit to name.
    assert (await say(county.secretary, "/laggards 东风村")).text == gettext("zh", NO_RECTIFY)
    async with database.session_scope() as db:
        assert (await db.exec(select(func.count()).select_from(RectificationOrder))).one() == 0


async def test_more_units_of_a_name_than_buttons_are_said_to_be_more(
    database: Database, clock: ManualClock, person: Person
) -> None:
    """Twenty buttons at most; the rest are not silently dropped: the answer says how many
    there are and how to reach them."""
    clock.set(NOW)
    county = await build_county(database, person)
    async with database.session_scope() as db:
        for number in range(1, rectify.UNITS_OFFERED + 2):
            await orgs.create_org(
                db=db,
                code=f"T01-N{number:02d}",
                name=f"新村{number:02d}党支部",
                kind=OrgKind.VILLAGE_BRANCH,
                parent_id=id_of(county.tree.townships["T01"]),
            )
    which = await say(county.staff, "/laggards 新村")
    assert (which.text or "").splitlines() == [
        "看哪一个？",
        "名称以“新村”开头的单位有 21 个，这里只列出前 20 个。请输入更完整的名称查找其余单位。",
    ]
    offered = buttons(which)
    named = {f"新村{number:02d}党支部" for number in range(1, rectify.UNITS_OFFERED + 2)}
    assert len(offered) == len(set(offered)) == rectify.UNITS_OFFERED
    assert set(offered) < named
    last = await say(county.staff, "/laggards 新村21")
    assert (last.text or "").splitlines()[0] == "⚠️ 新村21党支部，2026年：1 个支部中有 1 个未达标"
