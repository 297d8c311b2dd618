"""bot/updates.py: one chat's updates in order, different chats side by side, bounded work;
an update waiting for Telegram lends its slot."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from datetime import UTC, datetime
from typing import Any

import pytest
from telegram import Chat, Message, Update, User

from bot.app import PartyApplication, build_application, polling
from bot.clock import ManualClock
from bot.context import SERVICES_KEY
from bot.lanes import LaneRequest
from bot.relay import RelayConfig
from bot.settings import Settings
from bot.updates import PerChatProcessor, SlotReleasingRateLimiter, order_key, slot_released
from sandbox import World
from storage import Database
from storage.models import Rsvp
from tests.support.constants import FAST_CHAT_INTERVAL
from tests.support.conversation import shown
from tests.support.sessions import (
    Person,
    arrives,
    at,
    attendance_of,
    create_session,
    make_branch,
    texts,
)


def _update(update_id: int, chat_id: int) -> Update:
    user = User(id=chat_id, first_name="x", is_bot=False)
    chat = Chat(id=chat_id, type=Chat.PRIVATE)
    message = Message(message_id=update_id, date=datetime.now(UTC), chat=chat, from_user=user)
    return Update(update_id=update_id, message=message)


class _Script:
    """Coroutines that log when they start and end, each ending when released."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.release: dict[str, asyncio.Event] = {}
        self.started: dict[str, asyncio.Event] = {}

    async def step(self, name: str) -> None:
        self.log.append(f"{name} start")
        self.started[name].set()
        await self.release[name].wait()
        self.log.append(f"{name} end")

    def coroutine(self, name: str) -> Coroutine[Any, Any, None]:
        self.release[name], self.started[name] = asyncio.Event(), asyncio.Event()
        return self.step(name)


async def _settled() -> None:
    """Let every task that can run do so (no clock involved)."""
    for _ in range(20):
        await asyncio.sleep(0)


def test_the_order_key_is_the_chat() -> None:
    assert order_key(_update(1, 42)) == 42
    assert order_key(object()) is None


async def test_one_chat_in_order_and_other_chats_alongside() -> None:
    processor = PerChatProcessor(max_concurrent_updates=8)
    script = _Script()
    tasks = [
        asyncio.create_task(processor.process_update(_update(n, chat), script.coroutine(name)))
        for n, (chat, name) in enumerate(((1, "a1"), (1, "a2"), (2, "b1")), start=1)
    ]
    await _settled()
    assert script.log == ["a1 start", "b1 start"]  # a2 waits behind a1; b1 does not
    script.release["b1"].set()
    await _settled()
    assert "a2 start" not in script.log
    script.release["a1"].set()
    await asyncio.wait_for(script.started["a2"].wait(), timeout=5)
    script.release["a2"].set()
    await asyncio.gather(*tasks)
    assert script.log == ["a1 start", "b1 start", "b1 end", "a1 end", "a2 start", "a2 end"]


async def test_no_more_than_the_bound_run_at_once() -> None:
    processor = PerChatProcessor(max_concurrent_updates=2)
    script = _Script()
    tasks = [
        asyncio.create_task(processor.process_update(_update(n, n), script.coroutine(f"c{n}")))
        for n in (1, 2, 3)
    ]
    await _settled()
    assert script.log == ["c1 start", "c2 start"]
    script.release["c1"].set()
    await asyncio.wait_for(script.started["c3"].wait(), timeout=5)
    script.release["c2"].set()
    script.release["c3"].set()
    await asyncio.gather(*tasks)
    assert sorted(script.log) == sorted(f"c{n} {s}" for n in (1, 2, 3) for s in ("start", "end"))


async def test_an_update_waiting_for_telegram_lets_another_work_meanwhile() -> None:
    processor = PerChatProcessor(max_concurrent_updates=1)
    log: list[str] = []
    answered = asyncio.Event()

    async def tap() -> None:
        log.append("a works")
        async with slot_released():  # e.g. an edit held by the rate limiter
            log.append("a waits for Telegram")
            await answered.wait()
        log.append("a goes on")

    async def other() -> None:
        log.append("b works")

    tasks = [
        asyncio.create_task(processor.process_update(_update(1, 1), tap())),
        asyncio.create_task(processor.process_update(_update(2, 2), other())),
    ]
    await _settled()
    assert log == ["a works", "a waits for Telegram", "b works"]
    answered.set()
    await asyncio.gather(*tasks)
    assert log[-1] == "a goes on"


async def test_a_task_started_by_a_handler_does_not_give_the_update_slot_away() -> None:
    processor = PerChatProcessor(max_concurrent_updates=1)
    log: list[str] = []
    answered, finish = asyncio.Event(), asyncio.Event()

    async def in_background() -> None:
        async with slot_released():
            await answered.wait()

    async def handler() -> None:
        background = asyncio.create_task(in_background())
        await finish.wait()
        answered.set()
        await background

    async def other() -> None:
        log.append("b works")

    tasks = [
        asyncio.create_task(processor.process_update(_update(1, 1), handler())),
        asyncio.create_task(processor.process_update(_update(2, 2), other())),
    ]
    await _settled()
    assert log == []  # the handler still works in the only slot
    finish.set()
    await asyncio.gather(*tasks)
    assert log == ["b works"]


async def test_the_rate_limiter_lends_the_slot_while_a_call_waits() -> None:
    processor = PerChatProcessor(max_concurrent_updates=1)
    limiter = SlotReleasingRateLimiter()
    log: list[str] = []
    answered = asyncio.Event()

    async def call() -> dict[str, Any]:
        await answered.wait()
        return {"ok": True}

    async def send() -> None:
        await limiter.process_request(call, (), {}, "sendMessage", {"chat_id": 1}, None)
        log.append("a sent")

    async def other() -> None:
        log.append("b works")

    tasks = [
        asyncio.create_task(processor.process_update(_update(1, 1), send())),
        asyncio.create_task(processor.process_update(_update(2, 2), other())),
    ]
    await _settled()
    assert log == ["b works"]
    answered.set()
    await asyncio.gather(*tasks)
    assert log == ["b works", "a sent"]


# --- through the real Application --------------------------------------------------------


@pytest.fixture
async def bot_app(
    settings: Settings, database: Database, clock: ManualClock, world: World
) -> AsyncIterator[PartyApplication]:
    """The real application with ONE work slot: whoever holds it holds up everyone."""
    application = build_application(
        settings,
        database=database,
        clock=clock,
        updates=PerChatProcessor(max_concurrent_updates=1),
        relay_config=RelayConfig(rate=settings.relay_rate, chat_interval=FAST_CHAT_INTERVAL),
    )
    async with polling(application, poll_timeout=5):
        world.watch_outbox(application.bot_data[SERVICES_KEY].relay.drained)
        yield application


class _HeldEdit:
    """The bot's first editMessageText stays on its way to Telegram until released."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.arrived, self.release = asyncio.Event(), asyncio.Event()
        original = LaneRequest.do_request

        async def do_request(request: LaneRequest, url: str, *args: Any, **kwargs: Any) -> Any:
            if url.endswith("/editMessageText") and not self.arrived.is_set():
                self.arrived.set()
                await self.release.wait()
            return await original(request, url, *args, **kwargs)

        monkeypatch.setattr(LaneRequest, "do_request", do_request)


async def test_a_tap_is_answered_while_another_members_edit_is_on_its_way(
    person: Person,
    database: Database,
    settings: Settings,
    clock: ManualClock,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    branch = await make_branch(database, person, names=("张三", "李四"))
    study = await create_session(
        database, settings, clock, branch.org, starts_at=at(2026, 3, 5, 19, 30)
    )
    zhang, li = branch.people["张三"], branch.people["李四"]
    for user in (zhang, li):
        await arrives(world, user, "📅")
    held = _HeldEdit(monkeypatch)

    try:
        first = await zhang.tap("参加")
        assert (await zhang.wait_for_callback_answer(first)).text == "谢谢！"
        await asyncio.wait_for(held.arrived.wait(), 5)  # 张三's invitation edit, held
        second = await li.tap("参加")  # the only slot was lent: 李四 is answered meanwhile
        assert (await li.wait_for_callback_answer(second)).text == "谢谢！"
        assert "已回复" not in texts(zhang)[-1]
    finally:
        held.release.set()  # (a failure must not leave the application waiting on it)
    for user in (zhang, li):
        assert shown(await user.wait_for_reply()).endswith("已回复：参加 ✓")
    rows = await attendance_of(database, study.id)
    assert {rows[branch.member_id(name)].rsvp for name in ("张三", "李四")} == {Rsvp.ATTEND}
