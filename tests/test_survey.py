"""The satisfaction survey through the emulator: county staff open it, every rater gets
one message with a button per unit, one answer per person and unit (double taps make one
row), changeable until the survey closes, results by unit against 65 % satisfied (满意 +
基本满意), and no path that shows who rated what."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import fields

from openpyxl import load_workbook
from sqlmodel import col, select

from bot.clock import ManualClock
from bot.i18n import gettext
from bot.refusals import STALE_BUTTON
from bot.satisfaction import NOT_A_RATER, SURVEY_CLOSED
from bot.survey_buttons import UNIT
from handlers.survey import CHOOSE, NO_SURVEY, OPEN
from sandbox import SimUser, World
from storage import Database, orgs
from storage.models import OrgKind, OrgUnit, Role, Satisfaction, SatisfactionAnswer
from storage.satisfaction import UnitResult
from tests.support.audit import audit_log
from tests.support.builders import grant, id_of
from tests.support.conversation import next_document, say, tap, tap_refused
from tests.support.reports import NOW, County, build_county
from tests.support.roles import buttons, forge, speaks
from tests.support.sessions import arrives

Person = Callable[..., SimUser]
UNITS = ["县农业农村局", "县市场监管局", "东风镇农技站"]


async def rated_units(database: Database, county: County) -> dict[str, OrgUnit]:
    """Two county departments and a grassroots station of 东风镇."""
    tree = county.tree
    found = {}
    async with database.session_scope() as db:
        for code, name, kind, parent in (
            ("D01", "县农业农村局", OrgKind.COUNTY_DEPARTMENT, tree.county),
            ("D02", "县市场监管局", OrgKind.COUNTY_DEPARTMENT, tree.county),
            ("T01-S01", "东风镇农技站", OrgKind.GRASSROOTS_STATION, tree.townships["T01"]),
        ):
            found[name] = await orgs.create_org(
                db=db, code=code, name=name, kind=kind, parent_id=parent.id
            )
    return found


async def answers(database: Database) -> list[tuple[int, int, Satisfaction, str | None]]:
    async with database.session_scope() as db:
        rows = await db.exec(select(SatisfactionAnswer).order_by(col(SatisfactionAnswer.id)))
        return [(a.unit_id, a.rater_id, a.choice, a.comment) for a in rows.all()]


async def rate(user: SimUser, message_id: int, unit: str, choice: str) -> str:
    """Open the unit on the survey message and answer; the list shown after."""
    screen = await tap(user, unit, message_id=message_id)
    assert (screen.text or "").startswith(f"{unit.removeprefix('✓ ')}：您对其今年的工作满意吗？")
    saved = await tap(user, choice, message_id=message_id)
    return saved.text or ""


async def test_secretaries_rate_once_per_unit_anonymously_until_closed(
    database: Database, clock: ManualClock, world: World, person: Person
) -> None:
    clock.set(NOW)
    county = await build_county(database, person)
    units = await rated_units(database, county)
    secretaries = [county.secretary, person("柳树村书记"), person("前进村书记")]
    await grant(database, secretaries[1].id, Role.SECRETARY, county.tree.liushu)
    await grant(database, secretaries[2].id, Role.SECRETARY, county.tree.qianjin)
    staff = county.staff

    start = await say(staff, "/survey")
    assert start.text == ("2026年县直部门和基层站所满意度测评还没有开始。由谁评议？")
    assert buttons(start) == ["开始测评：支部书记评议", "开始测评：全体党员评议"]
    opened = await tap(staff, "开始测评：支部书记评议", message_id=start.message_id)
    assert (opened.text or "").splitlines()[:7] == [
        "测评已开始，已发送给 3 位评议人。",
        "",
        "📊 2026年满意度测评（评议人：支部书记；进行中）",
        "满意率 =（满意 + 基本满意）÷ 全部评价，目标 65%。",
        "达标单位：已评 0 个中 0 个",
        "• 县农业农村局：暂无评价",
        "• 县市场监管局：暂无评价",
    ]
    # A second opening: a double tap on the same button, or the button forged later.
    assert (await forge(staff, OPEN.encode(2026, 0))).text == gettext("zh", STALE_BUTTON)
    await say(staff, "/survey")
    assert (await forge(staff, OPEN.encode(2026, 1))).text == "2026年满意度测评已经开始了。"

    messages = [await arrives(world, user, "📊") for user in secretaries]
    for message in messages:
        assert (message.text or "").startswith("📊 2026年县直部门和基层站所满意度测评。")
        assert buttons(message) == UNITS
    first, second, third = secretaries
    one = messages[0].message_id
    listed = await rate(first, one, "县农业农村局", "满意")
    assert listed.startswith("已保存：县农业农村局，满意。\n\n📊 2026年")
    survey_message = first.chat.message(one)
    assert survey_message is not None
    assert buttons(survey_message) == ["✓ 县农业农村局", "县市场监管局", "东风镇农技站"]
    # Double taps and repeats make one row; changing the answer changes that row.
    agri = id_of(units["县农业农村局"])
    for _ in range(2):
        await forge(first, CHOOSE.encode(1, agri, 0))
    assert await answers(database) == [(agri, first.id, Satisfaction.SATISFIED, None)]
    screen = await tap(first, "✓ 县农业农村局", message_id=one)
    assert (screen.text or "").splitlines()[1] == "您的评价：满意"
    assert buttons(screen) == ["● 满意", "基本满意", "不满意", "💬 添加意见", "⬆ 全部单位"]
    await tap(first, "不满意", message_id=one)
    # A comment on the answer, asked for in a new message.
    await tap(first, "✓ 县农业农村局", message_id=one)
    prompt = await tap(first, "💬 添加意见", message_id=one)
    assert prompt.text == "县农业农村局：请输入您的意见（不会显示是谁写的）。"
    assert (await say(first, "办事效率有待提高")).text == "意见已保存：县农业农村局。"
    assert await answers(database) == [
        (agri, first.id, Satisfaction.DISSATISFIED, "办事效率有待提高")
    ]

    await rate(second, messages[1].message_id, "县农业农村局", "满意")
    await rate(second, messages[1].message_id, "县市场监管局", "基本满意")
    await rate(third, messages[2].message_id, "县农业农村局", "基本满意")
    await rate(third, messages[2].message_id, "县市场监管局", "不满意")
    assert len(await answers(database)) == 5

    results = await say(staff, "/survey 2026")
    assert (results.text or "").splitlines() == [
        "📊 2026年满意度测评（评议人：支部书记；进行中）",
        "满意率 =（满意 + 基本满意）÷ 全部评价，目标 65%。",
        "达标单位：已评 2 个中 1 个",
        "• 县农业农村局：满意 1，基本满意 1，不满意 1；满意率 66% ✅",
        "• 县市场监管局：满意 0，基本满意 1，不满意 1；满意率 50% ⚠️",
        "• 东风镇农技站：暂无评价",
    ]
    assert buttons(results) == ["💬 意见", "🔒 结束测评"]
    comments = await tap(staff, "💬 意见", message_id=results.message_id)
    assert comments.text == "💬 2026年意见：\n• 关于县农业农村局：办事效率有待提高"
    # Anonymity: no screen names or numbers a rater; no audit row records an answer.
    for shown in (results.text or "", comments.text or ""):
        for user in secretaries:
            assert user.first_name not in shown
            assert str(user.id) not in shown
    entries = await audit_log(database)
    assert [e.action for e in entries if e.action.startswith("survey.")] == ["survey.open"]
    for entry in entries:
        assert not {str(u.id) for u in secretaries} & set(str(entry.detail).split())
        assert entry.actor_telegram_id not in {u.id for u in secretaries}
    assert {f.name for f in fields(UnitResult)} == {
        "unit_id",
        "name",
        "satisfied",
        "basically",
        "dissatisfied",
    }

    # Nobody but county staff reads results; nobody but a rater answers.
    for user in (county.secretary, county.organiser):
        assert (await say(user, "/survey")).text == gettext("zh", NO_SURVEY)
    member = county.users["张三"]
    refused = await forge(member, CHOOSE.encode(1, agri, 0))
    assert refused.text == gettext("zh", NOT_A_RATER)
    assert (await forge(member, UNIT.encode(1, agri))).text == gettext("zh", NOT_A_RATER)
    assert len(await answers(database)) == 5

    # Closed: answers are final.
    back = await tap(staff, "⬆ 返回", message_id=results.message_id)
    closed = await tap(staff, "🔒 结束测评", message_id=back.message_id)
    assert (closed.text or "").startswith("📊 2026年满意度测评（评议人：支部书记；已结束）")
    assert buttons(closed) == ["💬 意见"]
    before = await answers(database)
    # 东风村书记's message still shows 县农业农村局 from the comment; 满意 is refused now.
    alert = await tap_refused(first, "满意", message_id=one)
    assert alert.text == gettext("zh", SURVEY_CLOSED)
    assert (await tap_refused(first, "⬆ 全部单位", message_id=one)).text == gettext(
        "zh", SURVEY_CLOSED
    )
    assert (await forge(second, CHOOSE.encode(1, agri, 2))).text == gettext("zh", SURVEY_CLOSED)
    assert await answers(database) == before
    assert [e.action for e in await audit_log(database, prefix="survey.")] == [
        "survey.open",
        "survey.close",
    ]


async def test_all_members_rate_when_chosen(
    database: Database, clock: ManualClock, world: World, person: Person
) -> None:
    clock.set(NOW)
    county = await build_county(database, person)
    await rated_units(database, county)
    sun = county.users["孙七"]
    await speaks(database, sun.id, "en")  # one rater reads English
    start = await say(county.staff, "/survey")
    opened = await tap(county.staff, "开始测评：全体党员评议", message_id=start.message_id)
    # The members on Telegram of the three village branches.
    assert (opened.text or "").startswith("测评已开始，已发送给 6 位评议人。")
    assert "评议人：全体党员" in (opened.text or "")
    message = await arrives(world, sun, "📊")
    assert (message.text or "").startswith(
        "📊 The 2026 satisfaction survey of county departments and grassroots stations."
    )
    assert buttons(message) == UNITS
    screen = await tap(sun, "东风镇农技站", message_id=message.message_id)
    assert screen.text == "东风镇农技站: how satisfied are you with its work this year?"
    assert buttons(screen) == ["Satisfied", "Basically satisfied", "Dissatisfied", "⬆ All units"]
    text = (await tap(sun, "Satisfied", message_id=message.message_id)).text or ""
    assert text.startswith("Saved: 东风镇农技站, Satisfied.")
    zhang = await arrives(world, county.users["张三"], "📊")
    chosen = await rate(county.users["张三"], zhang.message_id, "东风镇农技站", "满意")
    assert chosen.startswith("已保存：东风镇农技站，满意。")
    # A secretary who is no member does not rate in this survey.
    refused = await forge(county.secretary, CHOOSE.encode(1, 1, 0))
    assert refused.text == gettext("zh", NOT_A_RATER)
    last_year = await say(county.staff, "/survey 2025")
    assert (last_year.text or "").startswith("2025年县直部门和基层站所满意度测评还没有开始。")
    assert (await say(county.staff, "/survey 2020")).text == "2020年没有开展满意度测评。"


def _unzipped(content: bytes) -> str:
    """Every part of an XLSX file (a zip of XML), decompressed and joined."""
    with zipfile.ZipFile(io.BytesIO(content)) as book:
        return "\n".join(book.read(name).decode("utf-8", "replace") for name in book.namelist())


async def test_the_county_sees_results_in_summary_and_export_and_no_rater_anywhere(
    database: Database, clock: ManualClock, world: World, person: Person
) -> None:
    clock.set(NOW)
    county = await build_county(database, person)
    await rated_units(database, county)
    raters = [county.secretary, person("柳树村书记"), person("前进村书记")]
    await grant(database, raters[1].id, Role.SECRETARY, county.tree.liushu)
    await grant(database, raters[2].id, Role.SECRETARY, county.tree.qianjin)
    staff = county.staff
    start = await say(staff, "/survey")
    await tap(staff, "开始测评：支部书记评议", message_id=start.message_id)
    messages = [await arrives(world, user, "📊") for user in raters]
    for user, message, picks in zip(
        raters,
        messages,
        (
            (("县农业农村局", "不满意"),),
            (("县农业农村局", "满意"), ("县市场监管局", "基本满意")),
            (("县农业农村局", "基本满意"), ("县市场监管局", "不满意")),
        ),
        strict=True,
    ):
        for unit, choice in picks:
            await rate(user, message.message_id, unit, choice)
    await tap(raters[0], "✓ 县农业农村局", message_id=messages[0].message_id)
    await tap(raters[0], "💬 添加意见", message_id=messages[0].message_id)
    await say(raters[0], "办事效率有待提高")
    results = [
        "📊 2026年满意度测评（评议人：支部书记；进行中）",
        "满意率 =（满意 + 基本满意）÷ 全部评价，目标 65%。",
        "达标单位：已评 2 个中 1 个",
        "• 县农业农村局：满意 1，基本满意 1，不满意 1；满意率 66% ✅",
        "• 县市场监管局：满意 0，基本满意 1，不满意 1；满意率 50% ⚠️",
        "• 东风镇农技站：暂无评价",
    ]

    # The county's /summary ends with the survey's results by unit against 65 %.
    summary = await say(staff, "/summary")
    assert (await staff.wait_for_reply()).photo is not None  # the chart
    lines = (summary.text or "").splitlines()
    assert lines[-7:] == ["", *results]
    # /survey shows the same lines; a drill into a township, or a narrowed summary, not.
    assert ((await say(staff, "/survey")).text or "").splitlines() == results
    township = await tap(staff, "⚠️ 东风镇党委", message_id=summary.message_id)
    assert "满意度测评" not in (township.text or "")
    narrowed = await say(staff, "/summary 贫困村")
    assert "满意度测评" not in (narrowed.text or "")
    organiser = await say(county.organiser, "/summary")
    assert "满意度测评" not in (organiser.text or "")

    # The county's workbook has a sheet of results by unit: counts, never a rater.
    await say(staff, "/export")
    document = await staff.wait_for_reply()
    assert document.document is not None
    content = world.file_bytes(document.document["file_id"])
    book = load_workbook(io.BytesIO(content))
    sheet = book["满意度测评"]
    assert [list(row) for row in sheet.iter_rows(values_only=True)] == [
        ["年度", "单位", "满意", "基本满意", "不满意", "评价数", "满意率（%）", "达标"],
        [2026, "县农业农村局", 1, 1, 1, 3, 66, "是"],
        [2026, "县市场监管局", 0, 1, 1, 2, 50, "否"],
        [2026, "东风镇农技站", 0, 0, 0, 0, None, None],
    ]
    await staff.wait_for_reply()  # the progress message, edited

    # Anonymity: no rater's name, username or id is in the workbook (any of its parts)
    # or on any screen the county saw, and no answer's comment leaves /survey's 💬.
    everything = _unzipped(content)
    screens = "\n".join(m.shown_text or "" for m in staff.messages)
    for user in raters:
        for trace in (user.first_name, str(user.id), user.username):
            if trace:
                assert trace not in everything
                assert trace.encode() not in content
                assert trace not in screens
    assert "办事效率有待提高" not in everything
    assert "办事效率有待提高" not in "\n".join(lines)
    # A township's workbook has the sheet, empty: the survey's results are the county's.
    await say(county.organiser, "/export")
    township_book = await next_document(county.organiser)
    assert township_book.document is not None
    kept = load_workbook(io.BytesIO(world.file_bytes(township_book.document["file_id"])))
    assert kept["满意度测评"].max_row == 1
