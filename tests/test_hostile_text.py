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
from schedules.notices import job_greetings
from storage import Database
from storage.models import OrgUnit, Role
from tests.support.builders import add_member, build_tree, grant
from tests.support.conversation import say, shown, tap
from tests.support.sessions import Person, arrives, at, create_session, make_branch, texts

ORG = "东风村<党支部> & <script>"
TOPIC = "<script>alert(1)</script> & 学习<b>党章</b>"
PLACE = "会议室<1> & 2"
NOTE = "家里 & <忙>"
NAMES = ("张<华", "<b>粗</b>", "A & B")
NOTICE = "明天 <开会> & 带上笔"


async def _rename(database: Database, org: OrgUnit, name: str) -> None:
    async with database.session_scope() as session:
        row = await session.get(OrgUnit, org.id)
        assert row is not None
        row.name = name
        session.add(row)


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
