"""Hostile names, topics, notes and org names show exactly as typed on every screen.

Telegram refuses a whole message whose HTML does not parse (the emulator too), so one
unescaped ``<`` would break a screen for everyone who opens it; one escape too many shows
``&amp;``. Values enter HTML through bot/htmltext.py only, so both are impossible.
"""

from __future__ import annotations

from datetime import timedelta

from bot.app import PartyApplication
from bot.clock import ManualClock
from bot.context import SERVICES_KEY, Services
from bot.settings import Settings
from sandbox import SimUser, World
from sandbox.models import ChatMessage
from schedules.notices import job_greetings
from storage import Database
from storage.models import OrgUnit, Role
from tests.support.builders import add_member, build_tree, grant
from tests.support.conversation import say, shown, tap
from tests.support.invitations import ZH_SHARE, code_in, open_invitation
from tests.support.sessions import Person, arrives, at, create_session, make_branch, texts

ORG = "东风村<党支部> & <script>"
TOPIC = "<script>alert(1)</script> & 学习<b>党章</b>"
PLACE = "会议室<1> & 2"
NOTE = "家里 & <忙>"
NAMES = ("张<华", "<b>粗</b>", "A & B")
NOTICE = "明天 <开会> & 带上笔"


async def _rename(database: Database, org: OrgUnit, name: str) -> None:
    async with database.session_scope() as db:
        row = await db.get(OrgUnit, org.id)
        assert row is not None
        row.name = name
        db.add(row)


def _clean(user: SimUser) -> None:
    """Nothing over-escaped, and no apology: every message the user got parsed."""
    for text in texts(user):
        for entity in ("&amp;", "&lt;", "&gt;"):
            assert entity not in text, text
        assert "出了点问题" not in text, text


async def test_hostile_values_show_verbatim_on_every_screen(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, names=NAMES)
    await _rename(database, branch.org, ORG)
    sec = branch.secretary
    zhang, bold, amp = (branch.people[name] for name in NAMES)

    # The welcome back names the member as the roster spells her.
    assert "张<华" in shown(await say(zhang, "/start"))

    # A session invitation (sent by the relay) with a hostile topic and place.
    clock.set(at(2026, 3, 2, 9, 0))
    study = await create_session(
        database,
        settings,
        clock,
        branch.org,
        starts_at=at(2026, 3, 2, 19, 30),
        topic=TOPIC,
        place=PLACE,
    )
    assert study.id is not None
    for user in (zhang, bold, amp):
        invitation = await arrives(world, user, "📅")
        assert TOPIC in shown(invitation)
        assert PLACE in shown(invitation)
    assert TOPIC in shown(await say(zhang, "/sessions"))

    # Leave with the member's own words: the secretary reads them as typed.
    await tap(amp, "请假")
    await tap(amp, "其他")
    assert NOTE in shown(await say(amp, NOTE))
    request = await arrives(world, sec, "🙋")
    assert "A & B" in shown(request)
    assert NOTE in shown(request)
    assert TOPIC in shown(request)
    report = await say(sec, "/attendance")
    assert NOTE in shown(report)
    assert "张<华" in shown(report)

    clock.set(at(2026, 3, 2, 21, 0))
    assert TOPIC in shown(await say(sec, "/minutes"))
    assert "已保存" in shown(await say(sec, "纪要 <第一条> & 第二条"))
    await tap(sec, "完成")

    assert ORG in shown(await say(sec, "/greetings"))

    # A notice with a "<" in it: members read it, /notices lists it with names.
    await say(sec, "/notice")
    menu = await say(sec, NOTICE)
    everyone = next(label for row in menu.buttons for label in row if ORG in label)
    await tap(sec, everyone)
    await tap(sec, "要，请大家点“已阅”")
    preview = await sec.wait_for_reply()
    assert ORG in shown(preview)
    assert NOTICE in shown(preview)
    summary = await sec.wait_for_reply()
    while not summary.buttons:
        summary = await sec.wait_for_reply()
    send = next(label for row in summary.buttons for label in row if label.startswith("发给"))
    await sec.tap(send)
    for user in (zhang, bold, amp):
        received = await arrives(world, user, NOTICE)
        assert ORG in shown(received)
    clock.advance(timedelta(minutes=1))
    listing = await say(sec, "/notices")
    assert NOTICE in shown(listing)
    assert ORG in shown(listing)
    detail = await tap(sec, listing.buttons[0][0])
    assert all(name in shown(detail) for name in NAMES), shown(detail)

    for user in (sec, zhang, bold, amp):
        _clean(user)


async def test_hostile_names_on_the_roster_card_profile_and_greeting(
    person: Person, database: Database, world: World, clock: ManualClock, bot_app: PartyApplication
) -> None:
    tree = await build_tree(database)
    await _rename(database, tree.dongfeng, ORG)
    sec, hua = person("书记"), person("Hua")
    await grant(database, sec.id, Role.SECRETARY, tree.dongfeng)
    await add_member(
        database,
        tree.dongfeng,
        "张<华",
        telegram_user_id=hua.id,
        phone="+8613800000001",
        joined_on=clock.now().date().replace(year=2020),
    )
    await add_member(database, tree.dongfeng, "A & B")

    roster = await say(sec, "/members")
    assert ORG in shown(roster)
    assert "张<华" in " ".join(label for row in roster.buttons for label in row)
    card = await tap(sec, "✅ 张<华")
    assert "张<华" in shown(card)
    assert ORG in shown(card)
    profile = await say(hua, "/me")
    assert "张<华" in shown(profile)
    assert ORG in shown(profile)

    services: Services = bot_app.bot_data[SERVICES_KEY]
    assert await job_greetings(services) == 1
    greeting = await arrives(world, hua, "🎉")
    assert "张<华" in shown(greeting)
    assert ORG in shown(greeting)
    for user in (sec, hua):
        _clean(user)


TOWN = "东风镇<党委> & <i>"
TITLE = "<b>党章</b> & 学习<script>"
MATERIALS = "第<1>章 & https://example.org/a?b=1&c=<2>"
QUESTION = "<b>几</b>项 & 什么？"


async def test_hostile_values_in_trainings(
    person: Person, database: Database, world: World, clock: ManualClock
) -> None:
    tree = await build_tree(database)
    await _rename(database, tree.townships["T01"], TOWN)
    await _rename(database, tree.dongfeng, ORG)
    organiser, sec = person("组织委员"), person("书记")
    await grant(database, organiser.id, Role.TOWNSHIP_ORGANISER, tree.townships["T01"])
    await grant(database, sec.id, Role.SECRETARY, tree.dongfeng)
    hua, amp = person("Hua"), person("Amp")
    await add_member(database, tree.dongfeng, "张<华", telegram_user_id=hua.id)
    await add_member(database, tree.dongfeng, "A & B", telegram_user_id=amp.id)

    first = await say(organiser, "/newtraining")
    assert TOWN in shown(first)
    await tap(organiser, f"选择 {TOWN}")
    await tap(organiser, "全体党员")
    await tap(organiser, "专题讲座")
    assert TITLE in shown(await say(organiser, TITLE))
    await say(organiser, "2")
    await say(organiser, "3月20日")
    await say(organiser, MATERIALS)
    await say(organiser, "30")
    await tap(organiser, "县级经费")
    await tap(organiser, "添加一道测验题")
    await say(organiser, f"{QUESTION}\n<四>项\n六 & 七")
    await tap(organiser, "<四>项")
    preview = await tap(organiser, "测验题已出完")
    for value in (TITLE, MATERIALS, QUESTION, "<四>项", TOWN):
        assert value in shown(preview), shown(preview)
    assert TITLE in shown(await tap(organiser, "✅ 发布"))

    got = await arrives(world, hua, "📚")
    for value in (TITLE, MATERIALS, TOWN):
        assert value in shown(got), shown(got)
    quiz = await tap(hua, "已完成学习")
    assert TITLE in shown(quiz)
    assert QUESTION in shown(quiz)
    assert quiz.buttons == [["<四>项"], ["六 & 七"]]
    assert TITLE in shown(await tap(hua, "<四>项"))

    listing = await say(sec, "/trainings")
    assert TITLE in shown(listing)
    clock.advance(timedelta(days=30))  # 'A & B' is overdue now
    detail = await tap(sec, listing.buttons[0][0])
    assert TITLE in shown(detail)
    assert "A & B" in shown(detail)
    picker = await tap(sec, detail.buttons[0][0])
    assert "A & B" in " ".join(label for row in picker.buttons for label in row)
    for user in (organiser, sec, hua, amp):
        _clean(user)


async def _press(user: SimUser, message: ChatMessage, part: str) -> ChatMessage:
    """Tap the first button of ``message`` whose label contains ``part``."""
    label = next(label for row in message.buttons for label in row if part in label)
    return await tap(user, label, message_id=message.message_id)


def _labels(message: ChatMessage) -> str:
    return " ".join(label for row in message.buttons for label in row)


async def test_hostile_values_in_funds_and_leaders_duties(
    person: Person, database: Database, world: World, clock: ManualClock
) -> None:
    tree = await build_tree(database)
    await _rename(database, tree.townships["T01"], TOWN)
    await _rename(database, tree.dongfeng, ORG)
    staff, organiser, leader = person("县委组织部"), person("组织委员"), person("Hua")
    await grant(database, staff.id, Role.COUNTY_STAFF, tree.county)
    await grant(database, organiser.id, Role.TOWNSHIP_ORGANISER, tree.townships["T01"])
    await add_member(database, tree.dongfeng, "张<华", telegram_user_id=leader.id)
    await add_member(database, tree.dongfeng, "A & B")

    # /fund: the org picker, the question and the receipt name the org as it is spelt.
    picker = await say(organiser, "/fund")
    assert TOWN in _labels(picker)
    assert ORG in _labels(picker)
    years = await tap(organiser, ORG)
    assert ORG in shown(years)
    await tap(organiser, "2026")
    await tap(organiser, "县级财政")
    assert ORG in shown(await tap(organiser, "党员培训"))
    assert ORG in shown(await say(organiser, "10"))  # short of 30 a member: listed
    report = await say(organiser, "/funds")
    assert TOWN in shown(report)
    assert ORG in shown(report)
    assert ORG in shown(await say(staff, "/funds"))

    # /leaders: a contact point for 张<华 in ORG, the leader told, /visit, /duties.
    home = await say(staff, "/leaders")
    picker = await _press(staff, home, "➕")
    towns = await _press(staff, picker, TOWN)
    people = await tap(staff, ORG, message_id=towns.message_id)
    assert "张<华" in _labels(people)
    assert "A & B" in _labels(people)
    where = await tap(staff, "张<华", message_id=people.message_id)
    assert "张<华" in shown(where)
    towns = await _press(staff, where, TOWN)
    done = await tap(staff, ORG, message_id=towns.message_id)
    assert "张<华" in shown(done)
    assert ORG in shown(done)
    told = await arrives(world, leader, "📍")
    assert ORG in shown(told)
    listing = await _press(staff, await say(staff, "/leaders"), "✖")
    assert f"张<华 → {ORG}" in _labels(listing)
    confirm = await tap(staff, f"张<华 → {ORG}", message_id=listing.message_id)
    assert "张<华" in shown(confirm)
    assert ORG in shown(confirm)
    await say(staff, "/cancel")

    first = await say(leader, "/visit")
    assert ORG in shown(first)
    ask = await _press(leader, first, "今天")
    assert ORG in shown(ask)
    prompt = await say(leader, NOTE)
    saved = await _press(leader, prompt, "保存走访")
    assert ORG in shown(saved)
    duties = await say(staff, "/duties")
    assert "张<华" in shown(duties)
    assert ORG in shown(duties)
    for user in (staff, organiser, leader):
        _clean(user)


async def test_hostile_values_in_appointments_and_invitations(
    person: Person, database: Database, world: World, clock: ManualClock
) -> None:
    tree = await build_tree(database)
    await _rename(database, tree.townships["T01"], TOWN)
    await _rename(database, tree.dongfeng, ORG)
    sec, amp = person("书记"), person("Amp")
    await add_member(database, tree.dongfeng, "张<华", telegram_user_id=sec.id)
    await grant(database, sec.id, Role.SECRETARY, tree.dongfeng)
    await add_member(database, tree.dongfeng, "A & B", telegram_user_id=amp.id)
    await add_member(database, tree.dongfeng, "王<小>")  # on the roster, not on Telegram yet

    people = await say(sec, "/appoint")
    assert ORG in shown(people)
    assert "A & B" in _labels(people)
    card = await tap(sec, "A & B", message_id=people.message_id)
    assert "A & B" in shown(card)
    assert ORG in shown(card)
    confirm = await _press(sec, card, "副书记")
    assert "A & B" in shown(confirm)
    done = await _press(sec, confirm, "确认")
    assert "A & B" in shown(done)
    assert ORG in shown(await amp.wait_for_message())

    # /invite: the steps and the QR caption; /invites lists it.
    step = await say(sec, "/invite")
    assert ORG in shown(step)
    await tap(sec, "党员", message_id=step.message_id)
    await tap(sec, "10", message_id=step.message_id)
    await sec.tap("7 天（常用）", message_id=step.message_id)
    await sec.wait_for_reply()
    photo = await sec.wait_for_reply()
    assert ORG in (photo.caption or "")
    code = code_in(photo.caption)
    assert ORG in shown(await say(sec, "/invites"))

    # A newcomer with a hostile Telegram name, not on the roster: asked, approved, linked.
    newcomer = person("<b>小</b> &", phone="+8613700000007")
    newcomer.last_name = "王<"
    assert ORG in await open_invitation(newcomer, code)
    await newcomer.press(ZH_SHARE)
    assert ORG in shown(await newcomer.wait_for_reply())
    asked = await sec.wait_for_reply()
    assert "<b>小</b> & 王<" in shown(asked)
    assert ORG in shown(asked)
    choice = await _press(sec, asked, "批准")
    assert "<b>小</b> & 王<" in shown(choice)
    assert "王<小>" in _labels(choice)
    linked = await tap(sec, "王<小>", message_id=choice.message_id)
    assert "王<小>" in shown(linked)
    assert ORG in shown(linked)
    welcome = await newcomer.wait_for_reply()
    assert "王<小>" in shown(welcome)
    assert ORG in shown(welcome)
    for user in (sec, amp, newcomer):
        _clean(user)


async def test_hostile_values_in_summary_attendance_and_assessment(
    person: Person, database: Database, clock: ManualClock, settings: Settings
) -> None:
    tree = await build_tree(database)
    await _rename(database, tree.townships["T01"], TOWN)
    await _rename(database, tree.dongfeng, ORG)
    staff, organiser, sec = person("县委组织部"), person("组织委员"), person("书记")
    await grant(database, staff.id, Role.COUNTY_STAFF, tree.county)
    await grant(database, organiser.id, Role.TOWNSHIP_ORGANISER, tree.townships["T01"])
    await grant(database, sec.id, Role.SECRETARY, tree.dongfeng)
    for name in NAMES:
        await add_member(database, tree.dongfeng, name)
    start = clock.now() + timedelta(hours=1)
    for topic in (TOPIC, NOTICE):
        await create_session(
            database, settings, clock, tree.dongfeng, starts_at=start, topic=topic
        )
        start += timedelta(hours=2)
    clock.advance(timedelta(days=1))  # held: the officers look back at it

    # /attendance: the list names the branch on every button; a session shows its topic
    # and who was absent.
    for officer in (staff, sec):
        listing = await say(officer, "/attendance")
        assert _labels(listing).count(ORG) == 2
        opened = await tap(officer, listing.buttons[1][0], message_id=listing.message_id)
        assert TOPIC in shown(opened)
        for name in NAMES:
            assert name in shown(opened)

    async def summary(user: SimUser) -> ChatMessage:
        answer = await say(user, "/summary")
        assert (await user.wait_for_reply()).photo is not None  # the chart comes next
        return answer

    county = await summary(staff)
    assert TOWN in _labels(county)
    township = await _press(staff, county, TOWN)
    assert TOWN in shown(township)
    assert ORG in _labels(township)
    branch = await _press(staff, township, ORG)
    assert ORG in shown(branch)
    assert "A & B" in shown(branch)
    assert ORG in _labels(await summary(organiser))
    mine = await summary(sec)
    assert ORG in shown(mine)
    assert "张<华" in shown(mine)

    overview = await say(organiser, "/assess")
    screen = await _press(organiser, overview, "▶")
    assert ORG in shown(screen)
    for row in list(screen.buttons):
        if row[0].startswith("⬜"):
            await tap(organiser, row[0], message_id=screen.message_id)
    saved = await tap(organiser, "💾 保存", message_id=screen.message_id)
    assert ORG in shown(saved)
    overview = await say(organiser, "/assess")
    assert ORG in shown(overview)  # the commendation list
    units = await _press(organiser, overview, "选择单位")
    assert ORG in _labels(units)
    for user in (staff, organiser, sec):
        _clean(user)
