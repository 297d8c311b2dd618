"""/assess: the five-good assessment through the emulator. Staff toggle five criteria and
save one unit after another; only all five make a unit five-good; the ratings feed the
65 % mark of /summary at county and township scope; the level above rates (township staff
their branches, the county its townships), forged buttons change nothing, and every save
is audited."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import col, select

from bot.clock import ManualClock
from bot.i18n import gettext
from bot.refusals import NOT_ALLOWED, STALE_BUTTON
from handlers.assess import NEXT, SAVE, UNIT
from sandbox import SimUser
from storage import Database
from storage.models import Assessment, AssessmentScheme, Rating
from tests.support.audit import audit_log
from tests.support.builders import id_of
from tests.support.conversation import say, tap
from tests.support.reports import NOW, County, build_county
from tests.support.roles import buttons, forge

Person = Callable[..., SimUser]
CRITERIA = ("班子好", "队伍好", "机制好", "业绩好", "群众反映好")


async def _county(database: Database, clock: ManualClock, person: Person) -> County:
    clock.set(NOW)
    return await build_county(database, person)


async def _ratings(database: Database) -> dict[int, tuple[int | None, bool, Rating]]:
    async with database.session_scope() as db:
        rows = await db.exec(
            select(Assessment).where(Assessment.scheme == AssessmentScheme.FIVE_GOOD)
        )
        return {
            row.org_id: (row.criteria, row.passed, row.rating)
            for row in rows.all()
            if row.org_id is not None
        }


async def _rate(user: SimUser, message_id: int, ticks: tuple[str, ...]) -> str:
    """Tick the given criteria on the unit screen shown, then Save; the next screen's text."""
    for label in ticks:
        screen = await tap(user, f"⬜ {label}", message_id=message_id)
        assert f"✅ {label}" in buttons(screen)
    saved = await tap(user, "💾 保存", message_id=message_id)
    assert saved.text is not None
    return saved.text


async def test_township_staff_rate_their_branches_one_after_another(
    database: Database, clock: ManualClock, person: Person
) -> None:
    county = await _county(database, clock, person)
    organiser = county.organiser
    overview = await say(organiser, "/assess")
    assert overview.text == (
        "🏅 2026年五好评定\n已评定：0/2 个单位\n五好：暂无数据\n五带头：尚未评定"
    )
    assert buttons(overview) == ["▶ 评定下一个未评单位", "选择单位", "🧭 支部分类"]

    first = await tap(organiser, "▶ 评定下一个未评单位", message_id=overview.message_id)
    assert first.text == "东风村党支部 · 2026年五好评定\n点按该单位符合的各项，然后保存。"
    assert buttons(first) == [f"⬜ {c}" for c in CRITERIA] + ["💾 保存", "⬆ 返回"]
    # A tick can be taken back before saving: nothing is written until Save.
    await tap(organiser, "⬜ 业绩好", message_id=first.message_id)
    await tap(organiser, "✅ 业绩好", message_id=first.message_id)
    assert await _ratings(database) == {}

    after_first = await _rate(organiser, first.message_id, CRITERIA)
    assert after_first.startswith(
        "已保存：东风村党支部，符合 5/5 项，五好。\n\n柳树村党支部 · 2026年五好评定"
    )
    after_second = await _rate(organiser, first.message_id, CRITERIA[:4])
    assert after_second.splitlines()[:4] == [
        "已保存：柳树村党支部，符合 4/5 项，未达五好。",
        "",
        "🏅 2026年五好评定",
        "已评定：2/2 个单位",
    ]
    assert "五好：1/2（50%）⚠️ 目标 65%" in after_second
    assert after_second.endswith("五好单位：\n• 东风村党支部")
    tree = county.tree
    assert await _ratings(database) == {
        tree.dongfeng.id: (31, True, Rating.EXCELLENT),
        tree.liushu.id: (15, False, Rating.GOOD),
    }

    # Re-rating 柳树村 shows its saved ticks; ticking the fifth makes it five-good.
    again = await tap(organiser, "选择单位", message_id=first.message_id)
    unit = await tap(organiser, "柳树村党支部", message_id=again.message_id)
    assert "已保存的评定：未达五好" in (unit.text or "")
    assert buttons(unit)[:5] == [f"✅ {c}" for c in CRITERIA[:4]] + ["⬜ 群众反映好"]
    done = await _rate(organiser, unit.message_id, ("群众反映好",))
    assert "五好：2/2（100%）✅ 目标 65%" in done
    entries = await audit_log(database, "assess.five_good")
    assert [(e.actor_telegram_id, e.target_id, e.detail["passed"]) for e in entries] == [
        (organiser.id, id_of(tree.dongfeng), True),
        (organiser.id, tree.liushu.id, False),
        (organiser.id, tree.liushu.id, True),
    ]
    assert entries[-1].detail["before"] == [
        "leadership",
        "members",
        "mechanism",
        "performance",
    ]
    assert entries[-1].detail["criteria"][-1] == "response"


async def test_the_marks_of_summary_at_county_and_township_scope(
    database: Database, clock: ManualClock, person: Person
) -> None:
    county = await _county(database, clock, person)
    staff, organiser = county.staff, county.organiser
    # The county rates its townships and 前进村: 东风镇 five-good, 前进乡 and 前进村 not.
    overview = await say(staff, "/assess 2026")
    assert "已评定：0/5 个单位" in (overview.text or "")
    screen = await tap(staff, "▶ 评定下一个未评单位", message_id=overview.message_id)
    assert (screen.text or "").startswith("东风镇党委 · 2026年五好评定")
    text = await _rate(staff, screen.message_id, CRITERIA)  # 东风镇
    assert "\n\n东风村党支部 · " in text  # the county may rate branches too
    text = await _rate(staff, screen.message_id, CRITERIA)  # 东风村
    text = await _rate(staff, screen.message_id, CRITERIA[1:])  # 柳树村
    assert "\n\n前进乡党委 · " in text
    text = await _rate(staff, screen.message_id, CRITERIA[:2])  # 前进乡
    text = await _rate(staff, screen.message_id, ())  # 前进村
    assert "五好：2/5（40%）⚠️ 目标 65%" in text
    assert text.endswith("五好单位：\n• 东风镇党委\n• 东风村党支部")

    summary = await say(staff, "/summary")
    lines = (summary.text or "").splitlines()
    assert "五好：2/5（40%）⚠️ 目标 65%" in lines
    # By township: 东风镇 2 of 3 (its committee and 东风村), 前进乡 0 of 2.
    assert any("东风镇党委：" in line and "五好 66%" in line for line in lines)
    assert any("前进乡党委" in line and "五好 0%⚠️" in line for line in lines)
    township = await say(organiser, "/summary")
    assert "五好：2/3（66%）✅ 目标 65%" in (township.text or "").splitlines()


async def test_refusals_and_forged_buttons_change_nothing(
    database: Database, clock: ManualClock, person: Person
) -> None:
    county = await _county(database, clock, person)
    tree = county.tree
    secretary, organiser = county.secretary, county.organiser
    # A secretary's /assess is the branch's five-lead roster (tests/test_assess_five_lead.py).
    assert ((await say(secretary, "/assess")).text or "").startswith("东风村党支部 · 2026年五带头")
    assert (await say(county.users["张三"], "/assess")).text == (
        "年度考评只能由乡镇和县委的工作人员评定。"
    )
    assert "20x6" in ((await say(organiser, "/assess 20x6")).text or "")
    refused = gettext("zh", NOT_ALLOWED)
    stale = gettext("zh", STALE_BUTTON)
    # A secretary cannot save, and township staff cannot rate their own township committee
    # or a branch of another township.
    assert (await forge(secretary, SAVE.encode(2026, id_of(tree.dongfeng), 31))).text == refused
    township = tree.townships["T01"]
    assert (await forge(organiser, SAVE.encode(2026, id_of(township), 31))).text == refused
    assert (await forge(organiser, SAVE.encode(2026, id_of(tree.qianjin), 31))).text == refused
    assert (await forge(organiser, UNIT.encode(2026, id_of(tree.qianjin), 0))).text == refused
    # Criteria beyond the five bits, a year far ahead, a county that is not a unit.
    assert (await forge(organiser, f"as.s:2026:{tree.dongfeng.id}:32")).text == stale
    assert (await forge(organiser, f"as.u:2026:{tree.dongfeng.id}:99")).text == stale
    assert (await forge(organiser, SAVE.encode(2999, id_of(tree.dongfeng), 31))).text == stale
    assert (await forge(county.staff, SAVE.encode(2026, id_of(tree.county), 31))).text == refused
    assert (await forge(secretary, NEXT.encode(2026))).text is not None
    assert await _ratings(database) == {}
    assert await audit_log(database, prefix="assess.") == []
    async with database.session_scope() as db:
        assert (await db.exec(select(col(Assessment.id)))).all() == []


async def test_menu_and_help_by_role(
    database: Database, clock: ManualClock, person: Person
) -> None:
    county = await _county(database, clock, person)
    organiser = (await say(county.organiser, "/help")).text or ""
    assert "/assess - 年度考评：五好、五带头" in organiser
    assert "/commend - 年度表彰名单" in organiser
    secretary = (await say(county.secretary, "/help")).text or ""
    assert "/assess - 年度考评：五好、五带头" in secretary  # to propose five-lead members
    assert "/commend" not in secretary
