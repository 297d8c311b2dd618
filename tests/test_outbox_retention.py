"""The outbox forgets what it sent after the retention, but never a notice's acks (已阅)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from bot.app import PartyApplication
from bot.clock import ManualClock
from bot.context import SERVICES_KEY, Services
from bot.settings import SettingsError, load_settings
from sandbox import SimUser
from schedules.jobs import job_prune_outbox
from schedules.notices import job_greetings
from storage import Database, exports, notices
from storage.models import Delivery, DeliveryKind, DeliveryState, Role
from tests.support.builders import add_member, build_tree, grant
from tests.support.conversation import say, shown
from tests.support.notices import compose


async def _outbox(database: Database) -> list[tuple[DeliveryKind, int, DeliveryState]]:
    async with database.session_scope() as db:
        rows = (await db.exec(select(Delivery).order_by(col(Delivery.id)))).all()
    return [(row.kind, row.chat_id, row.state) for row in rows]


async def _figures(database: Database, path: str, notice_id: int) -> tuple[Any, ...]:
    """What the reports and the export count from the outbox, for the whole county."""
    start, end = datetime(2026, 1, 1).astimezone(), datetime(2027, 1, 1).astimezone()
    async with database.session_scope() as db:
        counts = await notices.delivery_counts(db=db, notice_ids=[notice_id])
        listed = await exports.notice_rows(db=db, path=path, start=start, end=end)
        acks = await exports.ack_rows(db=db, path=path, start=start, end=end)
    return counts, listed, acks


async def test_old_sent_rows_go_and_acks_stay(
    database: Database,
    clock: ManualClock,
    person: Callable[..., SimUser],
    bot_app: PartyApplication,
) -> None:
    services: Services = bot_app.bot_data[SERVICES_KEY]
    retention = services.settings.outbox_retention
    assert retention == timedelta(days=90)  # the default
    tree = await build_tree(database)
    alice = person("Alice")
    await grant(database, alice.id, Role.SECRETARY, tree.dongfeng)
    bob, carol, dan = person("Bob"), person("Carol"), person("Dan")
    # Bob's political birthday is today, Carol's falls 91 days later (1 June).
    await add_member(
        database, tree.dongfeng, "李明", telegram_user_id=bob.id, joined_on=date(2020, 3, 2)
    )
    await add_member(
        database, tree.dongfeng, "张华", telegram_user_id=carol.id, joined_on=date(2012, 6, 1)
    )
    await add_member(database, tree.dongfeng, "刘强", telegram_user_id=dan.id)

    # A notice to the three; Bob reads it; Alice reminds Carol and Dan.
    await compose(alice, "本周六上午义务植树", "东风村党支部全体", "要，请大家点“已阅”")
    for _ in range(3):
        await alice.wait_for_reply()
    await alice.tap("发给 3 人")
    for member in (bob, carol, dan):
        await member.wait_for_reply()
    await bob.tap("已阅")
    await bob.wait_for_reply()
    listing = await say(alice, "/notices")
    await alice.tap("1. 本周六上午义务植树")
    detail = await alice.wait_for_reply()
    await alice.tap("提醒还没阅读的 2 人")
    await carol.wait_for_reply()
    await dan.wait_for_reply()
    # And Bob's greeting.
    assert await job_greetings(services) == 1
    await bob.wait_for_reply()
    await services.relay.drained()

    async with database.session_scope() as db:
        notice_id = (
            await db.exec(select(Delivery.notice_id).where(col(Delivery.notice_id).is_not(None)))
        ).first()
    assert notice_id is not None
    path = tree.county.path
    before = await _figures(database, path, notice_id)
    old = await _outbox(database)
    assert [kind for kind, _, _ in old].count(DeliveryKind.NOTICE) == 5  # 3 + 2 reminders
    assert {state for _, _, state in old} == {DeliveryState.SENT}

    # Not yet old enough: nothing goes.
    clock.advance(retention - timedelta(minutes=1))
    assert await job_prune_outbox(database, clock, retention=retention) == 0

    # 91 days on: Carol's greeting is sent today, then the job runs.
    clock.advance(timedelta(days=1, minutes=1))
    assert await job_greetings(services) == 1
    await carol.wait_for_reply()
    await services.relay.drained()
    assert await job_prune_outbox(database, clock, retention=retention) == 1
    assert await job_prune_outbox(database, clock, retention=retention) == 0

    # Bob's old greeting is gone; the notice, its reminders and today's greeting stay.
    greeting = [(DeliveryKind.GREETING, carol.id, DeliveryState.SENT)]
    assert (
        await _outbox(database)
        == [row for row in old if row[0] != DeliveryKind.GREETING] + greeting
    )
    assert await _figures(database, path, notice_id) == before
    assert shown(await say(alice, "/notices")) == shown(listing)
    await alice.tap("1. 本周六上午义务植树")
    assert shown(await alice.wait_for_reply()) == shown(detail)
    # The old reminder button still remembers that it reminded.
    again = await alice.tap("提醒还没阅读的 2 人", message_id=detail.message_id)
    assert (await alice.wait_for_callback_answer(again)).text == "已经提醒过了。"


def test_the_job_runs_daily_and_the_retention_is_a_week_or_more(
    bot_app: PartyApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = bot_app.bot_data["scheduler"].get_job("prune_outbox")
    assert job is not None
    assert str(job.trigger) == "cron[hour='3', minute='30']"
    assert str(job.trigger.timezone) == "Asia/Shanghai"
    monkeypatch.delenv("PARTYBOT_OUTBOX_RETENTION_DAYS", raising=False)
    assert load_settings(env_file=None).outbox_retention == timedelta(days=90)
    days = load_settings(env_file=None, PARTYBOT_OUTBOX_RETENTION_DAYS="30")
    assert days.outbox_retention == timedelta(days=30)
    with pytest.raises(SettingsError, match="PARTYBOT_OUTBOX_RETENTION_DAYS"):
        load_settings(env_file=None, PARTYBOT_OUTBOX_RETENTION_DAYS="6")
