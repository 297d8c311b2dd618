"""Updates handled concurrently, one chat at a time: PTB's update processor for partybot.

Handled one after another, 5,000 members tapping 参加 within a minute waited up to 106 s
for their answer. Handled all at once, two taps of one person could overtake each other
(and a flow's state in user_data with them). So: updates of different chats run in
parallel, updates of the same chat (or, without a chat, the same user) run strictly in
the order Telegram sent them.

At most `MAX_CONCURRENT_UPDATES` updates *work* at once (run Python, use the database).
An update waiting for Telegram (a Bot API call on its way, or held by the rate limiter:
Telegram allows about 30 messages a second) gives its slot to the next update meanwhile
(`SlotReleasingRateLimiter`). Holding it, 64 updates each waiting to send or edit a
message filled every slot, and the taps behind them were answered at 30 a second
(answerCallbackQuery itself names no chat, so PTB's limiter lets it through at once).
Lending is safe because no update holds a database scope across a Bot API call
(storage/db.py): a lent slot never leaves a connection or SQLite's write lock behind.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Final

from telegram import Update
from telegram.ext import AIORateLimiter, BaseUpdateProcessor

#: Updates working at once; each holds a database connection only for its short scopes.
MAX_CONCURRENT_UPDATES: Final = 64
#: Updates taken from Telegram and not yet done (waiting for their chat, a slot, or
#: Telegram); what PTB itself is told, so that it never holds an update back.
MAX_PENDING_UPDATES: Final = 100_000


def order_key(update: object) -> int | None:
    """What must be handled in order: the chat, else the user; None for neither."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return None


@dataclass(eq=False, slots=True)
class _Slot:
    """The work slot of the update the task `owner` handles."""

    semaphore: asyncio.Semaphore
    owner: asyncio.Task[Any] | None
    held: bool = False

    async def take(self) -> None:
        await self.semaphore.acquire()
        self.held = True

    def give_back(self) -> None:
        if self.held:
            self.held = False
            self.semaphore.release()


_SLOT: ContextVar[_Slot | None] = ContextVar("partybot_update_slot", default=None)


@asynccontextmanager
async def slot_released() -> AsyncIterator[None]:
    """While the current update waits (for Telegram), another update works in its slot.

    Only the task handling the update gives its slot away (a task it started inherits the
    context, not the slot); the slot is taken back before the handler goes on.
    """
    slot = _SLOT.get()
    if slot is None or not slot.held or slot.owner is not asyncio.current_task():
        yield
        return
    slot.give_back()
    try:
        yield
    finally:
        await slot.take()


class PerChatProcessor(BaseUpdateProcessor):
    """Different chats in parallel (bounded work), the updates of one chat in order."""

    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES) -> None:
        super().__init__(MAX_PENDING_UPDATES)
        self._slots = asyncio.Semaphore(max_concurrent_updates)
        self._last: dict[int, asyncio.Future[None]] = {}
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def settled(self) -> None:
        """Return once no update is being handled (every update taken so far is done)."""
        await self._idle.wait()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Handle the update once the chat's previous update is done and a slot is free.

        PTB starts one task per update in the order they arrived; each queues behind the
        chat's previous update, then for a slot (first come, first served).
        """
        self._in_flight += 1
        self._idle.clear()
        try:
            await self._in_order(order_key(update), coroutine)
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._idle.set()

    async def _in_order(self, key: int | None, coroutine: Awaitable[Any]) -> None:
        if key is None:
            await self._in_slot(coroutine)
            return
        previous = self._last.get(key)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._last[key] = done
        try:
            if previous is not None:
                await asyncio.shield(previous)
            await self._in_slot(coroutine)
        finally:
            done.set_result(None)
            if self._last.get(key) is done:
                del self._last[key]

    async def _in_slot(self, coroutine: Awaitable[Any]) -> None:
        slot = _Slot(self._slots, asyncio.current_task())
        token = _SLOT.set(slot)
        try:
            await slot.take()
            await coroutine
        finally:
            slot.give_back()
            _SLOT.reset(token)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down: PTB waits for the running updates itself."""


JSONDict = dict[str, Any]
Request = Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]]


class SlotReleasingRateLimiter(AIORateLimiter):
    """PTB's AIORateLimiter (Telegram's flood limits, retries after a 429) that lets the
    update making the call give its work slot away while the call waits and travels."""

    async def process_request(
        self,
        callback: Request,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        async with slot_released():
            return await super().process_request(
                callback, args, kwargs, endpoint, data, rate_limit_args
            )
