"""Typed input a session flow is waiting for (a topic, a date, a reason, a check-in number).

One flow at a time per user: starting another replaces the wait, so free text never lands
in a flow the user has left. A handler routes on `awaiting(user_data, flow)` and only
sees messages while that flow waits; everything else falls through to other features.

Every prompt that waits carries a 取消 button (`cancel_keyboard`), and `/cancel` works
anywhere: both forget the wait and the half-filled forms registered with `forget_on_cancel`.

Telegram apps split a text longer than 4096 characters into several messages sent at
once. A flow refuses an over-long text with `refuse_too_long`; the parts that follow it
(same user, within PART_WINDOW by message date) are the rest of that text, so they are
refused with it (`continuation`, `on_continuation`) and never taken as the answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Generic, TypeVar

from telegram import ForceReply, InlineKeyboardMarkup, Message, ReplyKeyboardMarkup, Update
from telegram.ext import filters

from bot.callbacks import CallbackCodec
from bot.context import BotContext
from bot.i18n import N_
from handlers.screens import button

ReplyMarkup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ForceReply

KEY: Final = "sessions.awaiting"
CANCEL: Final = CallbackCodec("wait.cancel")
CANCEL_LABEL: Final = N_("Cancel")
_FORGET: list[str] = [KEY]  # user_data keys that a cancel clears
TOO_LONG_KEY: Final = "awaiting.too_long"
#: Parts of one split text arrive within a second or two of each other.
PART_WINDOW: Final = timedelta(seconds=3)
#: A part of a split text is this long at least (apps split at 4096, at a break before it).
SPLIT_PART: Final = 3800


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


def forget_on_cancel(key: str) -> str:
    """Register a user_data key (a form in progress) that 取消 and /cancel clear."""
    if key not in _FORGET:
        _FORGET.append(key)
    return key


Form = TypeVar("Form")


class FormSlot(Generic[Form]):
    """Where a flow keeps its half-filled form (a frozen dataclass) while it waits for input.

    Keeping a form also makes the flow the one that waits (about `ref(form)`); dropping it
    stops the wait. 取消 and /cancel clear the form too. One slot serves every flow that
    collects a form over several messages, so none keeps its own copy of this bookkeeping.
    """

    def __init__(self, key: str, kind: type[Form], flow: str, ref: Callable[[Form], int]) -> None:
        self._key = forget_on_cancel(key)
        self._kind = kind
        self._flow = flow
        self._ref = ref

    def get(self, context: BotContext) -> Form | None:
        """The form in progress, if this flow has one."""
        found = context.user_data.get(self._key) if context.user_data is not None else None
        return found if isinstance(found, self._kind) else None

    def keep(self, context: BotContext, form: Form) -> None:
        """Remember the form; the user's next message belongs to this flow."""
        if context.user_data is not None:
            context.user_data[self._key] = form
        expect(context, self._flow, self._ref(form))

    def drop(self, context: BotContext) -> None:
        """Forget the form and stop waiting."""
        stop(context)
        if context.user_data is not None:
            context.user_data.pop(self._key, None)


def cancel_keyboard(context: BotContext) -> InlineKeyboardMarkup:
    """The 取消 button under every prompt that waits for typed input."""
    return InlineKeyboardMarkup([[button(context._(CANCEL_LABEL), CANCEL.encode())]])


def _forget(context: BotContext) -> bool:
    """Drop every wait and form; True if there was something to drop."""
    if context.user_data is None:
        return False
    return bool([context.user_data.pop(key) for key in _FORGET if key in context.user_data])


async def cmd_cancel(update: Update, context: BotContext) -> None:
    """/cancel: stop whatever the bot is waiting for, in any flow."""
    message = update.effective_message
    if message is None:
        return
    if _forget(context):
        await message.reply_text(context._("Cancelled."))
    else:
        await message.reply_text(context._("There is nothing to cancel."))


async def on_cancel(update: Update, context: BotContext) -> None:
    """取消 under a prompt: stop waiting and say so in place of the prompt."""
    query = update.callback_query
    if query is None:
        return
    _forget(context)
    await query.answer()
    await query.edit_message_text(context._("Cancelled."))


@dataclass(slots=True)
class _Refused:
    """An over-long text refused, and the parts of it seen so far."""

    template: str  # the flow's translated refusal, with {limit} or {n}, and {count}
    markup: ReplyMarkup | None
    limit: int
    count: int
    last: datetime  # message date of the latest part
    split: bool  # the latest part was long enough to have been split by the app


async def refuse_too_long(
    message: Message,
    context: BotContext,
    *,
    template: str,
    limit: int,
    count: int,
    markup: ReplyMarkup | None = None,
) -> None:
    """Refuse a typed text over `limit`, remembering it so the rest of it is refused too.

    ``template`` may name the limit ``{limit}`` or ``{n}``, and the length ``{count}``.
    """
    if context.user_data is not None:
        context.user_data[TOO_LONG_KEY] = _Refused(
            template, markup, limit, count, message.date, count >= SPLIT_PART
        )
    await message.reply_text(
        template.format(limit=limit, n=limit, count=count), reply_markup=markup
    )


def _text_length(message: Message) -> int:
    return len(message.text or message.caption or "")


def _refused_before(user_data: Mapping[str, Any], message: Message) -> _Refused | None:
    refused = user_data.get(TOO_LONG_KEY)
    if not isinstance(refused, _Refused) or not refused.split:
        return None
    if not refused.last <= message.date <= refused.last + PART_WINDOW:
        return None
    return refused


class _Continuation(filters.MessageFilter):
    def __init__(self, user_data: Mapping[int, Mapping[str, Any]]) -> None:
        super().__init__(name="continuation")
        self._user_data = user_data

    def filter(self, message: Message) -> bool:
        user = message.from_user
        if user is None or not _text_length(message):
            return False
        return _refused_before(self._user_data.get(user.id, {}), message) is not None


def continuation(user_data: Mapping[int, Mapping[str, Any]]) -> filters.BaseFilter:
    """The next part of a text just refused as too long (a private message, not a command)."""
    return _Continuation(user_data) & ~filters.COMMAND & filters.ChatType.PRIVATE


async def on_continuation(update: Update, context: BotContext) -> None:
    """The rest of an over-long text: refused with the length of the whole."""
    message = update.effective_message
    if message is None or context.user_data is None:
        return
    refused = _refused_before(context.user_data, message)
    if refused is None:
        return
    part = _text_length(message)
    refused.count += part
    refused.last = message.date
    refused.split = part >= SPLIT_PART
    await message.reply_text(
        refused.template.format(limit=refused.limit, n=refused.limit, count=refused.count),
        reply_markup=refused.markup,
    )
