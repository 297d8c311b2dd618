"""Rectification orders (限期整改) through the emulator, the whole ladder with the injected
clock: county staff issue an order from /laggards, the secretary is told and reports
progress with a photo, is reminded once two days before the deadline, the township hears
the day after it and the county a week later (each once, across restarts), and the
county closes it with evidence. Every step is an outbox row and an audit row."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime

import pytest
from sqlmodel import col, select

from bot.app import PartyApplication
from bot.clock import ManualClock
from bot.context import SERVICES_KEY, Services
from bot.i18n import gettext
from bot.rectification import CLOSED, next_ladder_due
from bot.refusals import STALE_BUTTON
from handlers import rectify
from handlers.rectify import CONFIRM
from sandbox import SimUser, World
from schedules.rectification import job_rectification_ladder
from storage import Database
from storage.models import (
    Delivery,
    RectificationOrder,
    RectificationReport,
    RectificationState,
)
from tests.support.audit import audit_log
from tests.support.builders import id_of
from tests.support.conversation import say, tap, tap_refused
from tests.support.reports import NOW, County, build_county
from tests.support.roles import buttons, forge
from tests.support.sessions import SHANGHAI, arrives, at, send_photo

Person = Callable[..., SimUser]

CRITICISM = "三会一课不正常，参会率和通知阅读率偏低，予以通报批评。"
ACTIONS = "每月按时召开支委会，补开党员大会，督促党员阅读通知。"


async def orders(database: Database) -> list[RectificationOrder]:
    async with database.session_scope() as db:
        rows = await db.exec(select(RectificationOrder).order_by(col(RectificationOrder.id)))
        return list(rows.all())


async def rect_keys(database: Database) -> list[str]:
    async with database.session_scope() as db:
        rows = await db.exec(
            select(Delivery.dedupe_key)
            .where(col(Delivery.dedupe_key).startswith("rect:"))
            .order_by(col(Delivery.id))
        )
        return [str(key) for key in rows.all()]


async def issue(county: County, database: Database) -> int:
    """County staff order 东风村 to rectify by 30 April, from /laggards; the order's id."""
    staff = county.staff
    listed = await say(staff, "/laggards")
    prompt = await tap(staff, "限期整改：东风村党支部", message_id=listed.message_id)
    assert (prompt.text or "").splitlines() == [
        "东风村党支部限期整改通知",
        "• 组织生活不正常：按时开展 6/8 期",
        "• 参会率低：50%（目标 90%）",
        "• 通知阅读率低：50%（目标 90%）",
        "",
        "请输入通报批评的内容。",
    ]
    assert buttons(prompt) == ["取消"]
    assert (await say(staff, CRITICISM)).text == "请输入整改要求。"
    assert (await say(staff, ACTIONS)).text == "整改期限到哪天？请输入日期，例如 2026-05-15。"
    assert (await say(staff, "2026-04-15")).text == "整改期限必须在今天之后。"
    assert (await say(staff, "下辈子")).text == "没有看懂这个日期。请按 2026-05-31 的格式输入。"
    confirm = await say(staff, "2026-04-30")
    assert (confirm.text or "").splitlines() == [
        "东风村党支部限期整改通知",
        f"通报批评：{CRITICISM}",
        f"整改要求：{ACTIONS}",
        "完成期限：2026年4月30日",
    ]
    assert buttons(confirm) == ["✅ 下达整改通知", "取消"]
    assert await orders(database) == []  # nothing is written before the tap
    done = await tap(staff, "✅ 下达整改通知", message_id=confirm.message_id)
    assert (done.text or "").splitlines() == [
        "已向东风村党支部下达限期整改通知，期限2026年4月30日。",
        "已通知支部书记。",
    ]
    assert buttons(done) == ["📋 查看整改通知"]
    [order] = await orders(database)
    # A second tap (a double tap, or the button forged again) issues nothing more.
    tree = county.tree
    again = await forge(staff, CONFIRM.encode(id_of(tree.dongfeng)))
    assert again.text == gettext("zh", STALE_BUTTON)
    assert len(await orders(database)) == 1
    return id_of(order)


async def test_the_whole_ladder_once_each_across_restarts(
    database: Database,
    database_url: str,
    clock: ManualClock,
    world: World,
    person: Person,
    bot_app: PartyApplication,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    services: Services = bot_app.bot_data[SERVICES_KEY]
    clock.set(NOW)
    county = await build_county(database, person)
    staff, organiser, secretary = county.staff, county.organiser, county.secretary
    order_id = await issue(county, database)

    async def next_step() -> datetime | None:
        async with database.session_scope() as db:
            return await next_ladder_due(db=db, after=clock.now(), tz=SHANGHAI)

    assert await next_step() == at(2026, 4, 28, 9, 0)  # the sandbox's clock jumps there
    [order] = await orders(database)
    assert (order.org_id, order.reason, order.actions, order.state, order.level) == (
        id_of(county.tree.dongfeng),
        CRITICISM,
        ACTIONS,
        RectificationState.OPEN,
        0,
    )
    assert (str(order.issued_on), str(order.deadline), str(order.remind_on)) == (
        "2026-04-15",
        "2026-04-30",
        "2026-04-28",
    )

    # The secretary is told through the outbox, with the way to report on the message.
    told = await arrives(world, secretary, "📢")
    assert (told.text or "").splitlines() == [
        "📢 东风村党支部通报批评及限期整改通知，期限2026年4月30日：",
        f"通报批评：{CRITICISM}",
        f"整改要求：{ACTIONS}",
        "请在期限前用下方按钮报告整改进展。",
    ]
    assert buttons(told) == ["📝 报告整改进展", "📋 查看整改通知"]
    ask = await tap(secretary, "📝 报告整改进展", message_id=told.message_id)
    assert ask.text == "东风村党支部：整改做了哪些工作？请输入几句话。"
    photos = await say(secretary, "4月20日已召开支委会，研究整改措施。")
    assert photos.text == "如有照片请发送，然后点按下方按钮。"
    assert buttons(photos) == ["📤 提交进展报告", "取消"]
    added = await send_photo(world, secretary)
    assert added.text == "已添加第 1 张照片。可继续发送，或点按下方按钮。"
    sent = await tap(secretary, "📤 提交进展报告", message_id=added.message_id)
    assert sent.text == "已报告东风村党支部的整改进展（累计 1 次）。"
    # The issuer hears of it, with the way to the order.
    heard = await arrives(world, staff, "📝 东风村党支部")
    assert (heard.text or "").splitlines() == [
        "📝 东风村党支部报告了整改进展：4月20日已召开支委会，研究整改措施。",
        "照片：1 张",
    ]
    async with database.session_scope() as db:
        [report] = (await db.exec(select(RectificationReport))).all()
    assert (report.order_id, report.reported_by, len(report.photo_ids or [])) == (
        order_id,
        secretary.id,
        1,
    )

    # Two days before the deadline, at 09:00: the reminder, once.
    clock.set(at(2026, 4, 28, 8, 59))
    assert await job_rectification_ladder(services) == 0
    clock.set(at(2026, 4, 28, 9, 0))
    assert await job_rectification_ladder(services) == 1
    reminder = await arrives(world, secretary, "⏰")
    assert reminder.text == (
        "⏰ 东风村党支部的限期整改将于2026年4月30日到期。请用下方按钮报告整改进展。"
    )
    assert buttons(reminder) == ["📝 报告整改进展", "📋 查看整改通知"]
    assert await job_rectification_ladder(services) == 0
    assert await next_step() == at(2026, 5, 1, 9, 0)

    # A restart in the middle: a new engine on the same database; nothing is sent again.
    restarted = Database(database_url)
    try:
        again = dataclasses.replace(services, database=restarted)
        assert await job_rectification_ladder(again) == 0
        # The deadline day itself is not overdue yet; the next morning at 09:00 it is.
        clock.set(at(2026, 4, 30, 23, 0))
        assert await job_rectification_ladder(again) == 0
        clock.set(at(2026, 5, 1, 8, 59))
        assert await job_rectification_ladder(again) == 0
        clock.set(at(2026, 5, 1, 9, 0))
        assert await job_rectification_ladder(again) == 1  # the township's organiser
    finally:
        await restarted.dispose()
    assert await job_rectification_ladder(services) == 0
    overdue = await arrives(world, organiser, "⚠️ 东风村党支部")
    assert overdue.text == (
        "⚠️ 东风村党支部的限期整改已逾期：期限为2026年4月30日，目前进展报告 1 次。请督促落实。"
    )
    assert buttons(overdue) == ["📋 查看整改通知"]
    [order] = await orders(database)
    assert (order.state, order.level) == (RectificationState.OVERDUE, 1)
    assert await next_step() == at(2026, 5, 8, 9, 0)

    # A week later the county hears, once.
    clock.set(at(2026, 5, 8, 8, 59))
    assert await job_rectification_ladder(services) == 0
    clock.set(at(2026, 5, 8, 9, 0))
    assert await job_rectification_ladder(services) == 1
    assert await job_rectification_ladder(services) == 0
    escalated = await arrives(world, staff, "⚠️ 东风村党支部")
    assert "已逾期" in (escalated.text or "")

    # The county opens the order from that message and closes it with evidence.
    screen = await tap(staff, "📋 查看整改通知", message_id=escalated.message_id)
    assert (screen.text or "").splitlines() == [
        "📋 东风村党支部限期整改通知",
        "状态：已逾期",
        "下达：2026年4月15日，期限：2026年4月30日",
        f"通报批评：{CRITICISM}",
        f"整改要求：{ACTIONS}",
        "进展报告：1 次",
        "• 2026年4月15日：4月20日已召开支委会，研究整改措施。（照片 1 张）",
    ]
    assert buttons(screen) == ["🖼 照片（1 张）", "✅ 凭佐证销号", "⬆ 整改通知"]
    photo = await tap(staff, "🖼 照片（1 张）", message_id=screen.message_id)
    assert photo.photo
    assert photo.media_group_id is None  # one photo: sent alone, not as an album
    assert photo.shown_text == "东风村党支部：2026年4月15日的整改进展"
    ask = await tap(staff, "✅ 凭佐证销号", message_id=screen.message_id)
    assert ask.text == "东风村党支部：有什么能证明整改到位？请输入整改佐证。"
    evidence = "5月9日已补开党员大会，会议记录和照片已核实。"
    await say(secretary, "/start")  # someone else's chat goes on meanwhile
    more = await say(staff, evidence)
    assert buttons(more) == ["✅ 销号", "取消"]
    await send_photo(world, staff)
    last = await send_photo(world, staff)
    assert last.text == "已添加第 2 张照片。可继续发送，或点按下方按钮。"
    closed = await tap(staff, "✅ 销号", message_id=last.message_id)
    assert closed.text == "东风村党支部的整改通知已销号。"
    told_closed = await arrives(world, secretary, "✅ 东风村党支部")
    assert told_closed.text == f"✅ 东风村党支部的整改通知已销号。整改佐证：{evidence}"
    [order] = await orders(database)
    assert (order.state, order.level, order.closed_by, order.closed_note) == (
        RectificationState.DONE,
        2,
        staff.id,
        evidence,
    )
    assert len(order.closed_photo_ids or []) == 2
    assert await job_rectification_ladder(services) == 0  # nothing more once closed
    assert await next_step() is None

    # The secretary's old button now says it is closed, and writes nothing.
    refused = await tap_refused(secretary, "📝 报告整改进展", message_id=told.message_id)
    assert refused.text == gettext("zh", CLOSED)
    # The secretary still sees the closed order.
    seen = await tap(secretary, "📋 查看整改通知", message_id=reminder.message_id)
    assert "状态：已销号" in (seen.text or "")
    assert f"2026年5月8日已销号。整改佐证：{evidence}" in (seen.text or "")
    assert buttons(seen) == ["🖼 照片（3 张）", "⬆ 整改通知"]
    # Several photos come as one album, each with its caption: the progress photo first.
    album = [await tap(secretary, "🖼 照片（3 张）", message_id=seen.message_id)]
    album += [await secretary.wait_for_reply() for _ in range(2)]
    assert [m.caption for m in album] == [
        "东风村党支部：2026年4月15日的整改进展",
        "东风村党支部：销号佐证",
        "东风村党支部：销号佐证",
    ]
    assert all(m.photo for m in album)
    assert album[0].media_group_id is not None
    assert {m.media_group_id for m in album} == {album[0].media_group_id}
    assert secretary.messages[-3:] == album  # nothing else was sent
    # More photos than an album holds: the latest, and a note says how many there are.
    monkeypatch.setattr(rectify, "PHOTOS_SHOWN", 2)
    query = await secretary.tap("🖼 照片（3 张）", message_id=seen.message_id)
    assert (await secretary.wait_for_callback_answer(query)).text == "最近 2 张，共 3 张照片。"
    latest = [await secretary.wait_for_reply() for _ in range(2)]
    assert [m.caption for m in latest] == ["东风村党支部：销号佐证"] * 2
    assert latest[0].media_group_id == latest[1].media_group_id != album[0].media_group_id

    entries = await audit_log(database, prefix="rectify.")
    assert [(e.action, e.actor_telegram_id) for e in entries] == [
        ("rectify.issue", staff.id),
        ("rectify.report", secretary.id),
        ("rectify.remind", None),
        ("rectify.township", None),
        ("rectify.county", None),
        ("rectify.close", staff.id),
    ]
    assert {e.target_id for e in entries} == {order_id}
    assert await rect_keys(database) == [
        f"rect:told:{order_id}:{secretary.id}",
        "rect:report:1",
        f"rect:remind:{order_id}:{secretary.id}",
        f"rect:township:{order_id}:{organiser.id}",
        f"rect:county:{order_id}:{staff.id}",
        f"rect:closed:{order_id}:{secretary.id}",
    ]
