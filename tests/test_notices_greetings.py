"""Political birthdays: a greeting on the anniversary of joining, switchable per branch."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from bot.app import PartyApplication
from bot.clock import ManualClock
from bot.context import SERVICES_KEY, Services
from bot.greetings import queue_greetings
from sandbox import SimUser, World
from schedules.notices import job_greetings
from storage import Database
from storage.models import AuditLog, MemberStatus, Role
from tests.support.builders import add_member, build_tree, grant
from tests.support.conversation import shown

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def test_members_are_greeted_on_their_political_birthday(
    database: Database,
    world: World,
    clock: ManualClock,
    person: Callable[..., SimUser],
    bot_app: PartyApplication,
) -> None:
    tree = await build_tree(database)
    wang, li, zhang, zhao, liu = (person(n) for n in ("Wang", "Li", "Zhang", "Zhao", "Liu"))
    await add_member(
        database, tree.dongfeng, "王芳", telegram_user_id=wang.id, joined_on=date(2020, 3, 2)
    )
    await add_member(
        database,
        tree.dongfeng,
        "李四",
        telegram_user_id=li.id,
        joined_on=date(2021, 3, 2),
        status=MemberStatus.ACTIVIST,  # has not joined yet: no political birthday
    )
    await add_member(
        database, tree.dongfeng, "张三", telegram_user_id=zhang.id, joined_on=date(2026, 3, 2)
    )
    await add_member(
        database, tree.dongfeng, "赵六", telegram_user_id=zhao.id, joined_on=date(2019, 3, 3)
    )
    await add_member(
        database, tree.liushu, "刘七", telegram_user_id=liu.id, joined_on=date(2015, 3, 2)
    )
    services: Services = bot_app.bot_data[SERVICES_KEY]
    assert await job_greetings(services) == 2
    assert await job_greetings(services) == 0  # once a year
    greeting = await wang.wait_for_reply()
    assert greeting.text == (
        "🎉 王芳同志，今天是您的政治生日！2020年的今天，您光荣地加入了中国共产党。\n"
        "东风村党支部祝您政治生日快乐，身体健康，生活幸福！"
    )
    assert shown(await liu.wait_for_reply()).startswith("🎉 刘七同志")
    assert li.messages == zhang.messages == zhao.messages == []


async def test_not_before_nine_in_the_morning(database: Database, clock: ManualClock) -> None:
    tree = await build_tree(database)
    await add_member(
        database, tree.dongfeng, "王芳", telegram_user_id=5, joined_on=date(2020, 3, 2)
    )
    early = ManualClock(clock.now() - timedelta(minutes=1))
    async with database.session_scope() as db:
        assert await queue_greetings(db=db, now=early.now(), tz=SHANGHAI) == 0
        assert await queue_greetings(db=db, now=clock.now(), tz=SHANGHAI) == 1


async def test_a_secretary_switches_greetings_off_for_the_branch(
    database: Database, person: Callable[..., SimUser], bot_app: PartyApplication
) -> None:
    tree = await build_tree(database)
    lily = person("Lily")
    await grant(database, lily.id, Role.SECRETARY, tree.liushu)
    liu = person("Liu")
    await add_member(
        database, tree.liushu, "刘七", telegram_user_id=liu.id, joined_on=date(2015, 3, 2)
    )
    await lily.send("/greetings")
    screen = await lily.wait_for_reply()
    assert screen.text == (
        "党员政治生日（入党那天）时，支部会给他发一句祝福。\n柳树村党支部：祝福已打开"
    )
    assert screen.buttons == [["关闭柳树村党支部的祝福"]]
    forged = await lily.tap_data(f"grt.set:{tree.dongfeng.id}:0", message_id=screen.message_id)
    assert (await lily.wait_for_callback_answer(forged)).text == "您没有权限在这里做这件事。"
    await lily.tap("关闭柳树村党支部的祝福")
    screen = await lily.wait_for_reply()
    assert shown(screen).endswith("柳树村党支部：祝福已关闭")
    assert screen.buttons == [["打开柳树村党支部的祝福"]]
    services: Services = bot_app.bot_data[SERVICES_KEY]
    assert await job_greetings(services) == 0
    async with database.session_scope() as db:
        entry = (await db.exec(select(AuditLog))).one()
    assert (entry.action, entry.actor_telegram_id, entry.detail) == (
        "greetings.switch",
        lily.id,
        {"enabled": False},
    )
    await lily.tap("打开柳树村党支部的祝福")
    await lily.wait_for_reply()
    assert await job_greetings(services) == 1


async def test_who_may_switch_greetings(
    database: Database, person: Callable[..., SimUser], bot_app: PartyApplication
) -> None:
    tree = await build_tree(database)
    member, organiser = person("Bob"), person("Olga")
    await add_member(database, tree.dongfeng, "李明", telegram_user_id=member.id)
    await grant(database, organiser.id, Role.TOWNSHIP_ORGANISER, tree.townships["T01"])
    await member.send("/greetings")
    assert (await member.wait_for_reply()).text == "您没有权限在这里做这件事。"
    await organiser.send("/greetings")
    assert (await organiser.wait_for_reply()).text == "政治生日祝福由各支部书记开关。"


async def test_a_township_organiser_switching_a_branch_below_sees_that_branch(
    database: Database, person: Callable[..., SimUser], bot_app: PartyApplication
) -> None:
    """An old or forwarded button: the switch is allowed below the township, and the
    screen shows the branch switched (never a keyboard without buttons, which Telegram
    refuses)."""
    tree = await build_tree(database)
    organiser = person("Olga")
    await grant(database, organiser.id, Role.TOWNSHIP_ORGANISER, tree.townships["T01"])
    await organiser.send("/greetings")
    told = await organiser.wait_for_reply()
    tapped = await organiser.tap_data(f"grt.set:{tree.dongfeng.id}:0", message_id=told.message_id)
    await organiser.wait_for_callback_answer(tapped)
    screen = await organiser.wait_for_reply()
    assert shown(screen).endswith("东风村党支部：祝福已关闭")
    assert screen.buttons == [["打开东风村党支部的祝福"]]
