"""Typed input a session flow is waiting for (a topic, a date, a reason, a check-in number).

One flow at a time per user: starting another replaces the wait, so free text never lands
in a flow the user has left. A handler routes on `awaiting(user_data, flow)` and only
sees messages while that flow waits; everything else falls through to other features.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from telegram import Message
from telegram.ext import filters

from bot.context import BotContext

KEY: Final = "sessions.awaiting"


@dataclass(frozen=True, slots=True)
class Awaiting:
    """Which flow waits for input, and about what (a session or attendance id, or 0)."""

    flow: str
    ref: int = 0


def expect(context: BotContext, flow: str, ref: int = 0) -> None:
    """From now on the user's next message belongs to `flow`."""
    if context.user_data is not None:
        context.user_data[KEY] = Awaiting(flow, ref)


def waiting(context: BotContext, flow: str) -> Awaiting | None:
    """What `flow` waits for, if it is the one waiting."""
    state = context.user_data.get(KEY) if context.user_data is not None else None
    return state if isinstance(state, Awaiting) and state.flow == flow else None


def stop(context: BotContext) -> None:
    """Nothing is awaited any more."""
    if context.user_data is not None:
        context.user_data.pop(KEY, None)


class _Awaiting(filters.MessageFilter):
    def __init__(self, user_data: Mapping[int, Mapping[str, Any]], flow: str) -> None:
        super().__init__(name=f"awaiting_{flow}")
        self._user_data = user_data
        self._flow = flow

    def filter(self, message: Message) -> bool:
        user = message.from_user
        state = self._user_data.get(user.id, {}).get(KEY) if user else None
        return isinstance(state, Awaiting) and state.flow == self._flow


def awaiting(user_data: Mapping[int, Mapping[str, Any]], flow: str) -> filters.BaseFilter:
    """Private messages (not commands) from users whose `flow` waits for input."""
    return _Awaiting(user_data, flow) & ~filters.COMMAND & filters.ChatType.PRIVATE
