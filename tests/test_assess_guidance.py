"""Branches classified for guidance and flagged (from /assess), /summary and /export
narrowed by a class or flag, and /commend, through the emulator.

The fixture county (tests/support/reports.py): 东风镇 has 东风村 (4 members, attendance
3/6) and 柳树村 (2 members, 2/2); 前进乡 has 前进村 (2 members, 1/2).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime
from typing import Any

from openpyxl import Workbook, load_workbook
from sqlmodel import func, select

from bot.clock import ManualClock
from bot.i18n import gettext
from bot.refusals import NOT_ALLOWED, STALE_BUTTON
from handlers.assess_codecs import GRADE, POVERTY, SITE
from sandbox import SimUser, World
from storage import Database
from storage.models import (
    Assessment,
    AssessmentScheme,
    AssessmentSubject,
    BranchGuidance,
    DemonstrationSite,
    GuidanceClass,
    OrgUnit,
    Rating,
)
from tests.support.audit import audit_actions
from tests.support.builders import id_of
from tests.support.conversation import next_document, say, tap
from tests.support.reports import NOW, County, build_county
from tests.support.roles import buttons, forge

Person = Callable[..., SimUser]


async def _county(database: Database, clock: ManualClock, person: Person) -> County:
    clock.set(NOW)
    return await build_county(database, person)


async def _summary(user: SimUser, text: str) -> list[str]:
    """The lines of a /summary answer; the chart that follows it is read too."""
    answer = await say(user, text)
    chart = await user.wait_for_reply()
    assert chart.photo is not None
    return (answer.text or "").splitlines()


def _rows(book: Workbook, sheet: str) -> list[tuple[Any, ...]]:
    """A workbook sheet's rows under its heading."""
    return list(book[sheet].iter_rows(min_row=2, values_only=True))


async def _workbook(user: SimUser, world: World) -> Workbook:
    """The workbook that follows an /export's progress line."""
    document = await next_document(user)
    assert document.document is not None
    return load_workbook(io.BytesIO(world.file_bytes(document.document["file_id"])))


async def _marks(database: Database) -> tuple[dict[int, GuidanceClass], set[int], set[int]]:
    """(org id -> class of 2026, poverty-flagged org ids, 2026 demonstration sites)."""
    async with database.session_scope() as db:
        grades = await db.exec(select(BranchGuidance).where(BranchGuidance.year == 2026))
        poor = await db.exec(select(OrgUnit.id).where(OrgUnit.poverty_village == True))  # noqa: E712
        sites = await db.exec(select(DemonstrationSite.org_id))
        return (
            {row.org_id: row.grade for row in grades.all()},
            {int(i) for i in poor.all() if i is not None},
            set(sites.all()),
        )


async def _classify(county: County) -> None:
    """东风镇's organiser: 东风村 lagging, 柳树村 poverty-stricken; the county makes 前进村
    the year's demonstration site. All with buttons."""
    organiser, staff = county.organiser, county.staff
    overview = await say(organiser, "/assess")
    listing = await tap(organiser, "🧭 支部分类", message_id=overview.message_id)
    assert listing.text == "🧭 2026年支部分类\n点按支部，设置类别和标记。"
    assert buttons(listing) == ["东风村党支部", "柳树村党支部", "⬆ 返回"]
    branch = await tap(organiser, "东风村党支部", message_id=listing.message_id)
    assert branch.text == "东风村党支部 · 2026年分类"
    # Township staff keep no demonstration sites: no button for it.
    assert buttons(branch) == ["先进", "一般", "落后", "⬜ 贫困村", "⬆ 返回"]
    saved = await tap(organiser, "落后", message_id=branch.message_id)
    assert saved.text == "已保存：东风村党支部为落后。\n\n东风村党支部 · 2026年分类"
    assert buttons(saved)[:3] == ["先进", "一般", "✅ 落后"]
    listing = await tap(organiser, "⬆ 返回", message_id=branch.message_id)
    assert buttons(listing)[0] == "东风村党支部 · 落后"
    branch = await tap(organiser, "柳树村党支部", message_id=listing.message_id)
    flagged = await tap(organiser, "⬜ 贫困村", message_id=branch.message_id)
    assert "✅ 贫困村" in buttons(flagged)
    listing = await tap(organiser, "⬆ 返回", message_id=branch.message_id)
    assert buttons(listing)[:2] == ["东风村党支部 · 落后", "柳树村党支部 · 贫困村"]

    overview = await say(staff, "/assess")
    listing = await tap(staff, "🧭 支部分类", message_id=overview.message_id)
    assert buttons(listing)[:3] == ["东风村党支部 · 落后", "柳树村党支部 · 贫困村", "前进村党支部"]
    branch = await tap(staff, "前进村党支部", message_id=listing.message_id)
    assert buttons(branch)[4] == "⬜ 2026年示范点"
    site = await tap(staff, "⬜ 2026年示范点", message_id=branch.message_id)
    assert "✅ 2026年示范点" in buttons(site)


async def test_classify_and_flag_branches_with_buttons_double_taps_once(
    database: Database, clock: ManualClock, person: Person
) -> None:
    county = await _county(database, clock, person)
    await _classify(county)
    tree = county.tree
    dongfeng, liushu, qianjin = id_of(tree.dongfeng), id_of(tree.liushu), id_of(tree.qianjin)
    assert await _marks(database) == ({dongfeng: GuidanceClass.LAGGING}, {liushu}, {qianjin})
    # The same buttons again (a double tap, an old screen): nothing more is written.
    await forge(county.organiser, GRADE.encode(2026, dongfeng, "lagging"))
    await forge(county.organiser, POVERTY.encode(2026, liushu, 1))
    await forge(county.staff, SITE.encode(2026, qianjin, 1))
    assert await _marks(database) == ({dongfeng: GuidanceClass.LAGGING}, {liushu}, {qianjin})
    assert await audit_actions(database, prefix="assess.guidance.") == [
        "assess.guidance.class",
        "assess.guidance.poverty",
    ]
    assert await audit_actions(database, prefix="duty.site.") == ["duty.site.add"]
    # Reclassified: still one row for the year, the change audited.
    await forge(county.organiser, GRADE.encode(2026, dongfeng, "average"))
    async with database.session_scope() as db:
        rows = (await db.exec(select(func.count()).select_from(BranchGuidance))).one()
    assert rows == 1
    assert (await _marks(database))[0] == {dongfeng: GuidanceClass.AVERAGE}


async def test_forged_classification_buttons_change_nothing(
    database: Database, clock: ManualClock, person: Person
) -> None:
    county = await _county(database, clock, person)
    tree = county.tree
    refused, stale = gettext("zh", NOT_ALLOWED), gettext("zh", STALE_BUTTON)
    dongfeng, qianjin = id_of(tree.dongfeng), id_of(tree.qianjin)
    # A secretary does not classify her own branch; a township not another's branches,
    # nor its own committee; township staff keep no demonstration sites.
    assert (await forge(county.secretary, GRADE.encode(2026, dongfeng, "advanced"))).text == (
        refused
    )
    assert (await forge(county.organiser, GRADE.encode(2026, qianjin, "lagging"))).text == (
        refused
    )
    township = id_of(tree.townships["T01"])
    assert (await forge(county.staff, GRADE.encode(2026, township, "lagging"))).text == refused
    assert (await forge(county.organiser, POVERTY.encode(2026, qianjin, 1))).text == refused
    assert (await forge(county.organiser, SITE.encode(2026, dongfeng, 1))).text == refused
    # Shapes the codec takes but nothing means: a class we do not have, a flag of 2, a
    # year far ahead.
    assert (await forge(county.staff, GRADE.encode(2026, dongfeng, "best"))).text == stale
    assert (await forge(county.staff, POVERTY.encode(2026, dongfeng, 2))).text == stale
    assert (await forge(county.staff, GRADE.encode(2999, dongfeng, "lagging"))).text == stale
    assert await _marks(database) == ({}, set(), set())
    assert await audit_actions(database, prefix="assess.") == []


async def test_summary_and_export_narrowed_by_class_or_flag(
    database: Database, clock: ManualClock, person: Person, world: World
) -> None:
    county = await _county(database, clock, person)
    await _classify(county)
    organiser, staff = county.organiser, county.staff
    whole = await _summary(organiser, "/summary 2026")
    assert "党员：6人" in whole
    assert "出勤：5/8（62%）⚠️ 目标 90%" in whole

    lagging = await _summary(organiser, "/summary 2026 落后")
    assert lagging[:3] == [
        "📊 东风镇党委 · 2026年",
        "🔎 仅统计2026年的落后支部；领导班子是县、乡镇党委本身的，未按此筛选",
        "党员：4人",
    ]
    assert "出勤：3/6（50%）⚠️ 目标 90%" in lagging
    assert "按期开会：6/8（75%）⚠️ 目标 100%" in lagging
    # Training and funds count the flagged branch alone (东风村: 3/5 done, 10.5 hours, 35
    # yuan a member, as its own line says); the leading group is the township's own.
    assert lagging[lagging.index("培训完成：3/5（60%）⚠️ 目标 90%") + 1 :][:2] == [
        "   已完成培训 10.5 学时",
        "培训经费：2026年人均 35.00 元 ✅ 目标 30 元",
    ]
    assert "培训完成：4/7（57%）⚠️ 目标 90%" in whole  # the whole township: both branches
    assert "培训经费：2026年人均 30.00 元 ✅ 目标 30 元" in whole
    leading = [
        "听取汇报：目前 0/1（0%），年底目标 100%",
        "专题学习：目前 1/1（100%），年底目标 100%",
    ]
    assert all(line in lagging and line in whole for line in leading)
    assert lagging[-2:] == ["各支部（差的在前）：", lagging[-1]]
    assert lagging[-1].startswith("⚠️")
    assert "东风村党支部：" in lagging[-1]

    poor = await _summary(organiser, "/summary 贫困村")
    assert "党员：2人" in poor
    assert "出勤：2/2（100%）✅ 目标 90%" in poor
    assert "柳树村党支部：" in poor[-1]
    assert "东风村" not in "".join(poor)

    # The county, narrowed to the year's demonstration sites: 前进村 alone (前进乡 listed).
    sites = await _summary(staff, "/summary 2026 示范点")
    assert sites[1] == "🔎 仅统计2026年的示范点；领导班子是县、乡镇党委本身的，未按此筛选"
    # 前进村's training (1/2, 2.5 hours) and money (20 yuan a member: its share of the
    # county's); the county's and both townships' committees, not narrowed.
    assert "培训完成：1/2（50%）⚠️ 目标 90%" in sites
    assert "   已完成培训 2.5 学时" in sites
    assert "培训经费：2026年人均 20.00 元 ⚠️ 目标 30 元" in sites
    assert "听取汇报：目前 0/3（0%），年底目标 100%" in sites
    assert "党员：2人" in sites
    assert "出勤：1/2（50%）⚠️ 目标 90%" in sites
    assert [line for line in sites if "党委：" in line] == [sites[-1]]
    assert "前进乡党委：" in sites[-1]
    # A class nobody has: nothing counts.
    advanced = await say(staff, "/summary 2026 先进")
    assert "党员：0人" in (advanced.text or "").splitlines()

    # Drilling keeps the narrowing: 东风镇 in the county's lagging summary is 东风村 alone.
    county_lagging = await say(staff, "/summary 2026 落后")
    await staff.wait_for_reply()  # the chart
    label = next(b for b in buttons(county_lagging) if "东风镇党委" in b)
    drilled = await tap(staff, label, message_id=county_lagging.message_id)
    assert (drilled.text or "").splitlines()[1:3] == [
        "🔎 仅统计2026年的落后支部；领导班子是县、乡镇党委本身的，未按此筛选",
        "党员：4人",
    ]

    # /export narrowed: the poverty-stricken village's rows only.
    progress = await say(organiser, "/export 2026 贫困村")
    assert progress.text == "正在生成东风镇党委2026年的工作簿…"
    document = await organiser.wait_for_reply()
    assert document.document is not None
    assert document.document["file_name"] == "partybot-T01-y2026-poverty.xlsx"
    book = load_workbook(io.BytesIO(world.file_bytes(document.document["file_id"])))
    names = [row[0] for row in book["党员"].iter_rows(min_row=2, values_only=True)]
    assert sorted(names) == sorted(["孙七", "周八"])
    orgs = {row[1] for row in book["组织生活"].iter_rows(min_row=2, values_only=True)}
    assert orgs == {"柳树村党支部"}
    # Money per member: the village's own row, as /summary counts it (its share of the
    # county's money); its leader's contact point; the township's committee whole.
    assert _rows(book, "人均培训经费") == [("柳树村党支部", 2, 0, 40, 20, 20)]
    assert _rows(book, "联系点") == [("张三", "柳树村党支部", 2, datetime(2026, 3, 30))]
    assert _rows(book, "领导班子") == [("东风镇党委", 0, 1)]
    # Narrowed to the lagging branch: its row alone, and no contact point lies there.
    await say(organiser, "/export 2026 落后")
    lagging_book = await _workbook(organiser, world)
    assert [row[0] for row in _rows(lagging_book, "人均培训经费")] == ["东风村党支部"]
    assert _rows(lagging_book, "联系点") == []
    assert _rows(lagging_book, "领导班子") == [("东风镇党委", 0, 1)]


async def test_commendation_list_best_attendance_first(
    database: Database, clock: ManualClock, person: Person
) -> None:
    county = await _county(database, clock, person)
    tree = county.tree
    async with database.session_scope() as db:
        for org, passed in (
            (tree.dongfeng, True),
            (tree.liushu, True),
            (tree.townships["T01"], True),
            (tree.qianjin, False),
        ):
            db.add(
                Assessment(
                    year=2026,
                    subject_kind=AssessmentSubject.ORG,
                    org_id=org.id,
                    scheme=AssessmentScheme.FIVE_GOOD,
                    rating=Rating.EXCELLENT if passed else Rating.FAIR,
                    passed=passed,
                    criteria=31 if passed else 7,
                    assessed_by=county.staff.id,
                )
            )
        for name, passed in (("张三", True), ("李四", False), ("吴九", True)):
            db.add(
                Assessment(
                    year=2026,
                    subject_kind=AssessmentSubject.MEMBER,
                    member_id=county.members[name].id,
                    scheme=AssessmentScheme.FIVE_LEAD,
                    rating=Rating.EXCELLENT if passed else Rating.POOR,
                    passed=passed,
                    assessed_by=county.staff.id,
                )
            )
    # 柳树村 2/2, 东风镇 5/8 (its two branches), 东风村 3/6; 前进村 is not five-good.
    assert (await say(county.staff, "/commend 2026")).text == (
        "🎖 2026年表彰名单\n\n"
        "五好单位（按出勤率从高到低）：\n"
        "1. 柳树村党支部 · 出勤率 100%\n"
        "2. 东风镇党委 · 出勤率 62%\n"
        "3. 东风村党支部 · 出勤率 50%\n\n"
        "五带头党员：\n"
        "• 张三 · 东风村党支部\n"
        "• 吴九 · 前进村党支部"
    )
    assert (await say(county.organiser, "/commend")).text == (
        "🎖 2026年表彰名单\n\n"
        "五好单位（按出勤率从高到低）：\n"
        "1. 柳树村党支部 · 出勤率 100%\n"
        "2. 东风村党支部 · 出勤率 50%\n\n"
        "五带头党员：\n"
        "• 张三 · 东风村党支部"
    )
    assert (await say(county.organiser, "/commend 2025")).text == (
        "🎖 2025年表彰名单\n\n五好单位（按出勤率从高到低）：\n暂无\n\n五带头党员：\n暂无"
    )
    assert (await say(county.secretary, "/commend")).text == (
        "年度考评只能由乡镇和县委的工作人员评定。"
    )
    assert "20x6" in ((await say(county.organiser, "/commend 20x6")).text or "")
