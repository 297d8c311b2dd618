"""The contact-point reminder ladder, with the injected clock.

30 June: leaders without a visit are reminded; 30 July, still none: the county
organisation department hears. 30 September: fewer than two visits; 30 October: the
county. Each rung once per contact point, also across a restart; a contact point set up
after a rung fell due is not blamed for it; a leader without Telegram still reaches the
county's list.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime

from sqlmodel import col, select

from bot.app import PartyApplication
from bot.clock import ManualClock
from bot.context import SERVICES_KEY, Services
from bot.duties import next_rung_due, queue_duty_reminders
from sandbox import SimUser, World
from schedules.duties import job_duty_reminders
from storage import Database
from storage.models import Delivery, DeliveryKind, DutyReminder, Role
from tests.support.builders import add_member, build_tree, grant
from tests.support.conversation import say, shown, tap
from tests.support.duties import contact_point, visit
from tests.support.roles import Person, buttons
from tests.support.sessions import SHANGHAI, arrives, at, texts


def reminders(user: SimUser) -> list[str]:
    return [text for text in texts(user) if text.startswith(("⏰", "⚠️"))]


async def warnings_queued(database: Database) -> list[Delivery]:
    async with database.session_scope() as db:
        rows = await db.exec(
            select(Delivery)
            .where(Delivery.kind == DeliveryKind.WARNING)
            .order_by(col(Delivery.id))
        )
        return list(rows.all())


async def test_the_ladder_from_june_to_october_once_each_across_a_restart(
    person: Person,
    database: Database,
    database_url: str,
    clock: ManualClock,
    world: World,
    bot_app: PartyApplication,
) -> None:
    services: Services = bot_app.bot_data[SERVICES_KEY]
    tree = await build_tree(database)
    users = {name: person(name) for name in ("甲", "乙", "丙", "丁")}
    leaders = {
        name: await add_member(database, tree.dongfeng, name, telegram_user_id=user.id)
        for name, user in users.items()
    }
    leaders["戊"] = await add_member(database, tree.dongfeng, "戊")  # not on Telegram
    staff = person("县委组织部")
    await grant(database, staff.id, Role.COUNTY_STAFF, tree.county)
    for user in (*users.values(), staff):
        await say(user, "/start")
    now = clock.now()
    point = {
        name: await contact_point(database, leaders[name], org, 2026, now)
        for name, org in (
            ("甲", tree.liushu),
            ("乙", tree.liushu),
            ("丙", tree.qianjin),
            ("戊", tree.qianjin),
        )
    }
    await visit(database, point["乙"], date(2026, 3, 1), now)
    await visit(database, point["丙"], date(2026, 3, 1), now)
    await visit(database, point["丙"], date(2026, 5, 1), now)

    clock.set(at(2026, 6, 30, 8, 59))
    assert await job_duty_reminders(services) == 0
    clock.set(at(2026, 6, 30, 9, 0))
    assert await job_duty_reminders(services) == 1  # 甲; 戊 has no Telegram
    june = await arrives(world, users["甲"], "⏰")
    assert june.text == (
        "⏰ 你今年还没有走访联系点 柳树村党支部。每位领导干部每年至少走访两次。"
        "走访后请发送 /visit 登记。"
    )
    assert await job_duty_reminders(services) == 0  # once
    # The reminder carries the way in: one tap opens /visit for that contact point.
    assert buttons(june) == ["📍 登记走访"]
    days = await tap(users["甲"], "📍 登记走访", message_id=june.message_id)
    assert shown(days).startswith("柳树村党支部：今年已走访 0 次（要求 2 次）。")
    assert buttons(days)[0] == "今天 6-30"

    # A restart: a new engine on the same database, a new Services; nothing is sent again.
    restarted = Database(database_url)
    try:
        again = dataclasses.replace(services, database=restarted)
        assert await job_duty_reminders(again) == 0
    finally:
        await restarted.dispose()

    clock.set(at(2026, 7, 30, 9, 0))
    assert await job_duty_reminders(services) == 1  # one message to the county
    county = await arrives(world, staff, "⚠️")
    assert county.text == (
        "⚠️ 以下联系点今年还没有走访，一个月前已提醒领导干部本人：\n"
        "• 戊 → 前进村党支部：走访 0 次\n"
        "• 甲 → 柳树村党支部：走访 0 次\n"
        "请督促落实。"
    )
    await visit(database, point["甲"], date(2026, 8, 1), clock.now())
    clock.set(at(2026, 8, 5, 10, 0))
    point["丁"] = await contact_point(database, leaders["丁"], tree.dongfeng, 2026, clock.now())
    assert await job_duty_reminders(services) == 0  # 丁 is not blamed for June

    clock.set(at(2026, 9, 30, 9, 0))
    assert await job_duty_reminders(services) == 3  # 甲 (1), 乙 (1), 丁 (0); 丙 has two
    for name, count in (("甲", 1), ("乙", 1), ("丁", 0)):
        september = await arrives(world, users[name], "⏰ 你今年走访")
        assert f"{count} 次，至少需要两次" in shown(september)
    assert reminders(users["丙"]) == []
    await visit(database, point["乙"], date(2026, 10, 10), clock.now())

    clock.set(at(2026, 10, 30, 9, 0))
    assert await job_duty_reminders(services) == 1
    october = await world.wait_for(
        lambda: next((t for t in reminders(staff) if "不足两次" in t), None)
    )
    assert october == (
        "⚠️ 以下联系点今年走访不足两次，一个月前已提醒领导干部本人：\n"
        "• 丁 → 东风村党支部：走访 0 次\n"
        "• 戊 → 前进村党支部：走访 0 次\n"
        "• 甲 → 柳树村党支部：走访 1 次\n"
        "请督促落实。"
    )
    clock.set(at(2026, 12, 31, 23, 0))
    assert await job_duty_reminders(services) == 0
    # 甲's June reminder became the visit form when he tapped it; September's is there.
    assert [len(reminders(u)) for u in (*users.values(), staff)] == [1, 1, 0, 1, 2]
    async with database.session_scope() as db:
        rungs = (await db.exec(select(DutyReminder))).all()
    assert len(rungs) == 2 + 2 + 4 + 3  # June 2 (甲 戊), July 2, September 4, October 3
    assert len(await warnings_queued(database)) == 1 + 1 + 3 + 1


async def test_a_new_year_starts_a_new_ladder(
    person: Person, database: Database, clock: ManualClock, world: World, bot_app: PartyApplication
) -> None:
    services: Services = bot_app.bot_data[SERVICES_KEY]
    tree = await build_tree(database)
    user = person("甲")
    leader = await add_member(database, tree.dongfeng, "甲", telegram_user_id=user.id)
    await say(user, "/start")
    await contact_point(database, leader, tree.liushu, 2026, clock.now())
    await contact_point(database, leader, tree.liushu, 2027, clock.now())
    clock.set(at(2026, 6, 30, 9, 0))
    assert await job_duty_reminders(services) == 1
    clock.set(at(2027, 6, 30, 8, 0))
    assert await job_duty_reminders(services) == 0  # the 2026 rungs are past; 2027's not due
    clock.set(at(2027, 6, 30, 9, 0))
    assert await job_duty_reminders(services) == 1
    await world.wait_for(lambda: len(reminders(user)) == 2 or None)


async def test_the_sandbox_clock_can_jump_to_the_next_rung(
    database: Database, clock: ManualClock
) -> None:
    """next_rung_due: the next rung that would tell someone, as the database stands."""
    tree = await build_tree(database)
    leader = await add_member(database, tree.dongfeng, "甲")
    tz = SHANGHAI

    async def next_rung() -> datetime | None:
        async with database.session_scope() as db:
            return await next_rung_due(db=db, after=clock.now(), tz=tz)

    assert await next_rung() is None  # no contact points
    point = await contact_point(database, leader, tree.liushu, 2026, clock.now())
    assert await next_rung() == at(2026, 6, 30, 9, 0)
    await visit(database, point, date(2026, 3, 1), clock.now())
    assert await next_rung() == at(2026, 9, 30, 9, 0)  # one visit: only September's
    clock.set(at(2026, 9, 30, 9, 0))
    async with database.session_scope() as db:
        await queue_duty_reminders(db=db, now=clock.now(), tz=tz)
    assert await next_rung() == at(2026, 10, 30, 9, 0)  # then the county
    await visit(database, point, date(2026, 9, 30), clock.now())
    assert await next_rung() is None
