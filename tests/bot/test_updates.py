"""bot/updates.py: one chat's updates in order, different chats side by side, bounded."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any

from telegram import Chat, Message, Update, User

from bot.updates import PerChatProcessor, order_key


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
