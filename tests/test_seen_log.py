"""Last-seen times of known accounts are written together, not by every update."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from bot.app import PartyApplication, build_application, polling
from bot.clock import ManualClock
from bot.context import SERVICES_KEY, Services
from bot.settings import Settings
from sandbox import SimUser, World
from storage import Database
from storage.models import TelegramAccount
from tests.support.conversation import settled


async def _last_seen(database: Database, user: SimUser) -> datetime:
    async with database.session_scope() as db:
        account = await db.get(TelegramAccount, user.id)
    assert account is not None
    return account.last_seen_at


async def test_a_member_seen_yesterday_is_read_and_their_time_written_with_others(
    person: Callable[..., SimUser],
    bot_app: PartyApplication,
    database: Database,
    clock: ManualClock,
) -> None:
    services: Services = bot_app.bot_data[SERVICES_KEY]
    alice, bob = person("阿丽"), person("阿波")
    for someone in (alice, bob):
        await someone.send("/start")
        await someone.wait_for_reply()
    first = clock.now()
    today = clock.advance(timedelta(days=1))
    for someone in (alice, bob):
        await someone.send("/start")
        await someone.wait_for_reply()
    await settled(bot_app)
    assert [await _last_seen(database, p) for p in (alice, bob)] == [first, first]
    assert services.seen.waiting == 2

    await services.seen.flush()

    assert [await _last_seen(database, p) for p in (alice, bob)] == [today, today]
    assert services.seen.waiting == 0


async def test_a_new_name_is_written_at_once(
    person: Callable[..., SimUser],
    bot_app: PartyApplication,
    database: Database,
    clock: ManualClock,
) -> None:
    alice = person("阿丽")
    await alice.send("/start")
    await alice.wait_for_reply()
    today = clock.advance(timedelta(days=1))
    alice.first_name = "阿丽丽"
    await alice.send("/start")
    await alice.wait_for_reply()
    await settled(bot_app)
    async with database.session_scope() as db:
        account = await db.get(TelegramAccount, alice.id)
    assert account is not None
    assert (account.first_name, account.last_seen_at) == ("阿丽丽", today)


async def test_the_times_waiting_are_written_when_the_bot_stops(
    settings: Settings, database: Database, clock: ManualClock, world: World
) -> None:
    alice = world.add_user("阿丽", language_code="zh-hans")
    application = build_application(settings, database=database, clock=clock)
    async with polling(application, poll_timeout=5):
        await alice.send("/start")
        await alice.wait_for_reply()
    today = clock.advance(timedelta(days=1))
    application = build_application(settings, database=database, clock=clock)
    async with polling(application, poll_timeout=5):
        await alice.send("/start")
        await alice.wait_for_reply()
        await settled(application)
        assert await _last_seen(database, alice) < today
    assert await _last_seen(database, alice) == today
