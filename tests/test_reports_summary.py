"""/summary on the fixture county: every figure at each scope, drill-down and back, refusals,
periods, assessments, the split of a long answer, and the chart with its CJK font."""

from __future__ import annotations

from collections.abc import Callable

from matplotlib.font_manager import findfont
from matplotlib.ft2font import FT2Font
from matplotlib.text import Text

from bot.app import PartyApplication
from bot.charts import CJK_FONT, draw_chart
from bot.clock import ManualClock
from bot.periods import Period, PeriodKind
from bot.summary import build_summary
from handlers.menus import refresh_menu
from sandbox import SimUser, World
from storage import Database, members, orgs
from storage.models import (
    Assessment,
    AssessmentScheme,
    AssessmentSubject,
    MemberStatus,
    Rating,
    Role,
)
from tests.support.builders import grant, id_of
from tests.support.conversation import say, tap
from tests.support.reports import NOW, SHANGHAI, County, build_county

Person = Callable[..., SimUser]
PNG = b"\x89PNG\r\n\x1a\n"

COUNTY_2026 = """📊 红旗县 · 2026年
党员：8人
已上 Telegram：6/8（75%）⚠️ 目标 90%
按期开会：16/24（66%）⚠️ 目标 100%
   支部党员大会：按期 2/3，已开 2 次（每季度一次） ⚠️
   支委会：按期 7/9，已开 7 次（每月一次） ⚠️
   党课：按期 2/3，已开 2 次（每季度一次） ⚠️
   主题党日：按期 5/9，已开 5 次（每月一次） ⚠️
   专题学习：已开 1 次，尚未到期（每年一次）
出勤：6/10（60%）⚠️ 目标 90%
   请假 1，无故缺席 3
补学：2/4（50%）⚠️ 目标 100%
通知已阅：2/3（66%）⚠️ 目标 90%
培训完成：5/9（55%）⚠️ 目标 90%
   已完成培训 17.0 学时
培训经费：2026年人均 27.50 元 ⚠️ 目标 30 元
联系点走访：目前 1/3（33%），年底目标 100%
听取汇报：目前 0/3（0%），年底目标 100%
专题学习：目前 1/3（33%），年底目标 100%
   共听取汇报 0 次，专题学习 1 次
五好：尚未评定
五带头：尚未评定

各乡镇（差的在前）：
⚠️6 东风镇党委：已上 Telegram 66%⚠️ · 按期开会 50%⚠️ · 出勤 62%⚠️ · 补学 66%⚠️ · 通知已阅 66%⚠️ \
· 培训完成 57%⚠️ · 培训经费 30.00元 · 联系点走访 50% · 听取汇报 0% · 专题学习 100%
⚠️4 前进乡党委：已上 Telegram 100% · 按期开会 100% · 出勤 50%⚠️ · 补学 0%⚠️ · 通知已阅 - \
· 培训完成 50%⚠️ · 培训经费 20.00元⚠️ · 联系点走访 0% · 听取汇报 0% · 专题学习 0%"""

TOWNSHIP_2026 = """📊 东风镇党委 · 2026年
党员：6人
已上 Telegram：4/6（66%）⚠️ 目标 90%
按期开会：8/16（50%）⚠️ 目标 100%
   支部党员大会：按期 1/2，已开 1 次（每季度一次） ⚠️
   支委会：按期 4/6，已开 4 次（每月一次） ⚠️
   党课：按期 1/2，已开 1 次（每季度一次） ⚠️
   主题党日：按期 2/6，已开 2 次（每月一次） ⚠️
   专题学习：已开 1 次，尚未到期（每年一次）
出勤：5/8（62%）⚠️ 目标 90%
   请假 1，无故缺席 2
补学：2/3（66%）⚠️ 目标 100%
通知已阅：2/3（66%）⚠️ 目标 90%
培训完成：4/7（57%）⚠️ 目标 90%
   已完成培训 14.5 学时
培训经费：2026年人均 30.00 元 ✅ 目标 30 元
联系点走访：目前 1/2（50%），年底目标 100%
听取汇报：目前 0/1（0%），年底目标 100%
专题学习：目前 1/1（100%），年底目标 100%
   共听取汇报 0 次，专题学习 1 次
五好：尚未评定
五带头：尚未评定

各支部（差的在前）：
⚠️6 东风村党支部：已上 Telegram 75%⚠️ · 按期开会 75%⚠️ · 出勤 50%⚠️ · 补学 66%⚠️ · 通知已阅 50%⚠️ \
· 培训完成 60%⚠️ · 培训经费 35.00元
⚠️4 柳树村党支部：已上 Telegram 50%⚠️ · 按期开会 25%⚠️ · 出勤 100% · 补学 - · 通知已阅 100% \
· 培训完成 50%⚠️ · 培训经费 20.00元⚠️ · 联系点走访 100%"""

BRANCH_2026 = """📊 东风村党支部 · 2026年
党员：4人
已上 Telegram：3/4（75%）⚠️ 目标 90%
按期开会：6/8（75%）⚠️ 目标 100%
   支部党员大会：按期 1/1，已开 1 次（每季度一次） ✅
   支委会：按期 3/3，已开 3 次（每月一次） ✅
   党课：按期 0/1，已开 0 次（每季度一次） ⚠️
   主题党日：按期 2/3，已开 2 次（每月一次） ⚠️
出勤：3/6（50%）⚠️ 目标 90%
   请假 1，无故缺席 2
补学：2/3（66%）⚠️ 目标 100%
通知已阅：1/2（50%）⚠️ 目标 90%
培训完成：3/5（60%）⚠️ 目标 90%
   已完成培训 10.5 学时
培训经费：2026年人均 35.00 元 ✅ 目标 30 元
五带头：尚未评定

各党员（差的在前）：
⚠️2 赵六：出勤 0/1⚠️ · 补学 0/1⚠️ · 通知已阅 - · 未上 Telegram
⚠️2 李四：出勤 1/2⚠️ · 补学 1/1 · 通知已阅 0/1⚠️
⚠️1 王五：出勤 0/1⚠️ · 补学 1/1 · 通知已阅 -
✅ 张三：出勤 2/2 · 补学 - · 通知已阅 1/1"""


async def _county(database: Database, clock: ManualClock, person: Person) -> County:
    clock.set(NOW)
    return await build_county(database, person)


async def test_county_by_township_then_branch_then_member_and_back(
    database: Database, clock: ManualClock, person: Person, world: World, bot_app: PartyApplication
) -> None:
    county = await _county(database, clock, person)
    staff = county.staff
    answer = await say(staff, "/summary")
    assert answer.text == COUNTY_2026
    assert answer.buttons == [["⚠️ 东风镇党委", "⚠️ 前进乡党委"], ["📈 图表"]]
    chart = await staff.wait_for_reply()
    assert chart.photo is not None
    assert world.file_bytes(chart.photo[-1]["file_id"]).startswith(PNG)

    township = await tap(staff, "⚠️ 东风镇党委", message_id=answer.message_id)
    assert township.message_id == answer.message_id  # drilled in place
    assert township.text == TOWNSHIP_2026
    assert township.buttons == [["⚠️ 东风村党支部", "⚠️ 柳树村党支部"], ["⬆ 返回红旗县", "📈 图表"]]

    branch = await tap(staff, "⚠️ 东风村党支部", message_id=answer.message_id)
    assert branch.text == BRANCH_2026
    assert branch.buttons == [["⬆ 返回东风镇党委", "📈 图表"]]

    back = await tap(staff, "⬆ 返回东风镇党委", message_id=answer.message_id)
    assert back.text == TOWNSHIP_2026
    top = await tap(staff, "⬆ 返回红旗县", message_id=answer.message_id)
    assert top.text == COUNTY_2026

    again = await tap(staff, "📈 图表", message_id=answer.message_id)
    assert again.photo is not None
    assert again.message_id != chart.message_id


async def test_each_role_starts_at_its_own_scope(
    database: Database, clock: ManualClock, person: Person, bot_app: PartyApplication
) -> None:
    county = await _county(database, clock, person)
    township = await say(county.organiser, "/summary")
    assert township.text == TOWNSHIP_2026
    # The organiser may not see the county: no button goes up there.
    assert township.buttons == [["⚠️ 东风村党支部", "⚠️ 柳树村党支部"], ["📈 图表"]]
    branch = await say(county.secretary, "/summary")
    assert branch.text == BRANCH_2026
    assert branch.buttons == [["📈 图表"]]
    refused = await say(county.users["张三"], "/summary")
    assert refused.text == "您没有权限在这里做这件事。"


async def test_forged_drill_down_is_refused(
    database: Database, clock: ManualClock, person: Person, bot_app: PartyApplication
) -> None:
    county = await _county(database, clock, person)
    secretary = county.secretary
    shown = await say(secretary, "/summary")
    await secretary.wait_for_reply()  # the chart
    other_branch = county.tree.qianjin.id
    township = county.tree.townships["T01"].id
    for data, alert in (
        (f"rep.sum:{other_branch}:y2026", "您没有权限在这里做这件事。"),
        (f"rep.sum:{township}:y2026", "您没有权限在这里做这件事。"),
        ("rep.sum:999999:y2026", "您没有权限在这里做这件事。"),
        (f"rep.chart:{other_branch}:y2026", "您没有权限在这里做这件事。"),
        (f"rep.sum:{county.tree.dongfeng.id}:y20x6", "这个按钮已经失效。"),
    ):
        await secretary.world.outboxes_drained()
        query = await secretary.tap_data(data, message_id=shown.message_id)
        answer = await secretary.wait_for_callback_answer(query)
        assert (answer.text, answer.show_alert) == (alert, True)
    message = secretary.chat.message(shown.message_id)
    assert message is not None
    assert message.text == BRANCH_2026  # nothing changed


async def test_periods_typed_after_the_command(
    database: Database, clock: ManualClock, person: Person, bot_app: PartyApplication
) -> None:
    county = await _county(database, clock, person)
    december = await say(county.staff, "/summary 2025年12月")
    assert december.text is not None
    lines = december.text.splitlines()
    assert lines[0] == "📊 红旗县 · 2025年12月"
    # December 2025 is judged for the monthly kinds only: 3 branches x 2 kinds.
    assert "按期开会：1/6（16%）⚠️ 目标 100%" in lines
    assert "出勤：0/1（0%）⚠️ 目标 90%" in lines
    assert "补学：0/1（0%）⚠️ 目标 100%" in lines
    assert "通知已阅：暂无数据" in lines
    await county.staff.wait_for_reply()  # its chart
    quarter = await say(county.staff, "/summary 上季度")  # Q1 2026: everything happened then
    assert quarter.text is not None
    assert quarter.text.splitlines()[0] == "📊 红旗县 · 2026年第1季度"
    assert quarter.text.splitlines()[2:] == COUNTY_2026.splitlines()[2:]
    await county.staff.wait_for_reply()
    wrong = await say(county.staff, "/summary 明年吧")
    assert wrong.text == (
        "没看懂这个时间段。例如：/summary 2026、/summary 2026年3月、"
        "/summary 上季度、/summary 本月。"
    )


async def test_five_good_and_five_lead_once_assessed(
    database: Database, clock: ManualClock, person: Person, bot_app: PartyApplication
) -> None:
    county = await _county(database, clock, person)
    async with database.session_scope() as db:
        for org, passed in ((county.tree.dongfeng, True), (county.tree.liushu, False)):
            db.add(
                Assessment(
                    year=2026,
                    subject_kind=AssessmentSubject.ORG,
                    org_id=org.id,
                    scheme=AssessmentScheme.FIVE_GOOD,
                    rating=Rating.GOOD if passed else Rating.FAIR,
                    passed=passed,
                    assessed_by=county.staff.id,
                )
            )
        for name, passed in (("张三", True), ("李四", False), ("王五", True)):
            db.add(
                Assessment(
                    year=2026,
                    subject_kind=AssessmentSubject.MEMBER,
                    member_id=county.members[name].id,
                    scheme=AssessmentScheme.FIVE_LEAD,
                    rating=Rating.GOOD if passed else Rating.POOR,
                    passed=passed,
                    assessed_by=county.staff.id,
                )
            )
    answer = await say(county.staff, "/summary")
    assert answer.text is not None
    lines = answer.text.splitlines()
    assert "五好：1/2（50%）⚠️ 目标 65%" in lines
    # Five lead counts the confirmed of all active members, not of those rated.
    assert "五带头：2/8（25%）⚠️ 目标 60%" in lines
    assert lines[-2].startswith("⚠️8 东风镇党委：")
    assert lines[-2].endswith("· 五好 50%⚠️ · 五带头 33%⚠️")
    assert lines[-1].endswith("专题学习 0%")  # 前进乡 was not assessed: nothing shown


async def test_a_long_summary_is_split_below_telegrams_limit(
    database: Database, clock: ManualClock, person: Person, bot_app: PartyApplication
) -> None:
    county = await _county(database, clock, person)
    names = [f"第{n:03d}号党员同志名字很长很长很长很长" for n in range(90)]
    async with database.session_scope() as db:
        for name in names:
            await members.create_member(
                db=db,
                name=name,
                org_id=id_of(county.tree.dongfeng),
                status=MemberStatus.FULL,
            )
    secretary = county.secretary
    first = await say(secretary, "/summary")
    parts = [first]
    while True:
        message = await secretary.wait_for_reply()
        if message.photo is not None:
            break
        parts.append(message)
    assert len(parts) >= 2
    texts = [part.text or "" for part in parts]
    assert all(len(text) <= 4096 for text in texts)
    assert texts[0].startswith("📊 东风村党支部 · 2026年\n党员：94人")
    joined = "\n".join(texts)
    assert all(f"✅ {name}：" in joined for name in names)  # no figures: nothing to warn about
    assert [bool(part.buttons) for part in parts] == [False] * (len(parts) - 1) + [True]


async def test_the_chart_draws_every_label_with_the_cjk_font(
    database: Database, clock: ManualClock, person: Person, bot_app: PartyApplication
) -> None:
    county = await _county(database, clock, person)
    async with database.session_scope() as db:
        org = await orgs.get_org(db=db, org_id=id_of(county.tree.county))
        assert org is not None
        summary = await build_summary(
            db=db, org=org, period=Period(PeriodKind.YEAR, 2026), now=NOW, tz=SHANGHAI
        )
    chart = draw_chart(summary, "zh")
    chart.canvas.draw()
    texts = [t for t in chart.findobj(Text) if t.get_text().strip() and t.get_visible()]
    shown = "".join(t.get_text() for t in texts)
    for label in ("东风镇党委", "前进乡党委", "出勤", "按期开会", "红旗县 · 2026年"):
        assert label in shown
    for text in texts:
        assert findfont(text.get_fontproperties()) == str(CJK_FONT), text.get_text()
    glyphs = FT2Font(str(CJK_FONT)).get_charmap()
    missing = {char for char in shown if not char.isspace() and ord(char) not in glyphs}
    assert not missing


async def test_menus_and_help_by_role(
    database: Database, clock: ManualClock, person: Person, world: World, bot_app: PartyApplication
) -> None:
    county = await _county(database, clock, person)
    for user in (county.staff, county.organiser, county.secretary, county.users["张三"]):
        await refresh_menu(bot_app.bot, database=database, telegram_user_id=user.id, language="zh")
    for officer in (county.staff, county.organiser):
        menu = {
            c["command"]: c["description"]
            for c in world.commands({"type": "chat", "chat_id": officer.id})
        }
        assert menu["summary"] == "对照全县目标的汇总"
        assert menu["export"] == "导出工作簿（.xlsx）"
        shown = await say(officer, "/help")
        assert shown.text is not None
        assert "/summary - 对照全县目标的汇总" in shown.text.splitlines()
        assert "/export - 导出工作簿（.xlsx）" in shown.text.splitlines()
    member = county.users["张三"]
    menu_names = {c["command"] for c in world.commands({"type": "chat", "chat_id": member.id})}
    assert not {"summary", "export"} & menu_names
    help_text = (await say(member, "/help")).text or ""
    assert "/summary" not in help_text
    assert "/export" not in help_text


async def test_names_are_text_not_html(
    database: Database, clock: ManualClock, person: Person, bot_app: PartyApplication
) -> None:
    county = await _county(database, clock, person)
    async with database.session_scope() as db:
        await members.create_member(
            db=db,
            name="<b>王</b> & 李",
            org_id=id_of(county.tree.dongfeng),
            status=MemberStatus.FULL,
        )
    answer = await say(county.secretary, "/summary")
    assert answer.text is not None
    assert "✅ <b>王</b> & 李：出勤 - · 补学 - · 通知已阅 - · 未上 Telegram" in answer.text
    # One bold entity, the branch's name after "📊 " (offsets count UTF-16 units: 📊 is two).
    bold = [(e["offset"], e["length"]) for e in answer.entities if e["type"] == "bold"]
    assert bold == [(3, len("东风村党支部"))]


async def test_someone_with_two_scopes_is_asked_which(
    database: Database, clock: ManualClock, person: Person, world: World, bot_app: PartyApplication
) -> None:
    county = await _county(database, clock, person)
    await grant(database, county.secretary.id, Role.SECRETARY, county.tree.qianjin)
    asked = await say(county.secretary, "/summary 2026")
    assert asked.text == "看哪一个？"
    assert asked.buttons == [["东风村党支部"], ["前进村党支部"]]
    chosen = await tap(county.secretary, "前进村党支部")
    assert chosen.message_id == asked.message_id
    assert chosen.text is not None
    assert chosen.text.startswith("📊 前进村党支部 · 2026年\n党员：2人")

    asked = await say(county.secretary, "/export 2026年3月")
    assert asked.buttons == [["东风村党支部"], ["前进村党支部"]]
    progress = await tap(county.secretary, "东风村党支部")
    assert progress.text == "正在生成东风村党支部2026年3月的工作簿…"
    document = await county.secretary.wait_for_reply()
    assert document.document is not None
    assert document.document["file_name"] == "partybot-T01-V01-m2026_03.xlsx"


async def test_an_english_reader_gets_english_figures(
    database: Database, clock: ManualClock, person: Person, bot_app: PartyApplication
) -> None:
    county = await _county(database, clock, person)
    reader = person("Staff", language="en")
    await grant(database, reader.id, Role.COUNTY_STAFF, county.tree.county)
    answer = await say(reader, "/summary")
    assert answer.text is not None
    lines = answer.text.splitlines()
    assert lines[:4] == [
        "📊 红旗县 · the year 2026",
        "Members: 8",
        "On Telegram: 6/8 (75%) ⚠️ target 90%",
        "Sessions on time: 16/24 (66%) ⚠️ target 100%",
    ]
    assert "Training funds: 27.50 yuan a member in the year 2026 ⚠️ target 30 yuan" in lines
    assert "Contact visits: 1/3 (33%) so far, target 100% by the year's end" in lines
    assert lines[-3] == "By township, worst first:"
    assert answer.buttons[-1] == ["📈 Chart"]
