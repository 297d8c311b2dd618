"""Screens (text plus buttons) for multi-step flows, shown in place as the user taps.

Flows such as the roster, the member card and appointments edit one message as the user
taps through, so the chat does not fill up with stale keyboards. A screen is built in one
short transaction (`answer_with`), and shown or refused after the transaction has ended.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest

from bot.access import Principal, load_principal
from bot.callbacks import CallbackCodec
from bot.context import BotContext
from bot.refusals import NOT_ALLOWED, Refused
from handlers.guard import refuse

Screen = tuple[str, InlineKeyboardMarkup | None]
Build = Callable[[AsyncSession, Principal], Awaitable[Screen | None]]
Outcome = TypeVar("Outcome")


def button(label: str, data: str) -> InlineKeyboardButton:
    """An inline button carrying callback data."""
    return InlineKeyboardButton(label, callback_data=data)


def callback_values(codec: CallbackCodec, update: Update) -> tuple[int | str, ...]:
    """The typed fields of the tapped button (its handler was routed on `codec.pattern`)."""
    query = update.callback_query
    decoded = codec.decode(query.data if query is not None else None)
    if decoded is None:
        raise ValueError(f"callback data does not fit {codec.prefix}")
    return decoded


def callback_ints(codec: CallbackCodec, update: Update) -> list[int]:
    """The fields of an all-integer button."""
    return [int(value) for value in callback_values(codec, update)]


async def show(
    update: Update,
    context: BotContext,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
) -> None:
    """Edit the tapped message into this screen, or send it as a reply to a command.

    A keyboard left without buttons is sent as none: the Bot API has no empty keyboard.
    """
    if markup is not None and not any(markup.inline_keyboard):
        markup = None
    query = update.callback_query
    if query is not None:
        await query.answer()
        try:
            await query.edit_message_text(text, reply_markup=markup)
        except BadRequest as exc:
            if "not modified" not in exc.message:
                raise
    elif update.effective_message is not None:
        await update.effective_message.reply_text(text, reply_markup=markup)


async def answer_with(
    update: Update, context: BotContext, build: Build, *, refusal: str = NOT_ALLOWED
) -> None:
    """Build a screen for the user in one short transaction, then show it.

    `build` returns None when the user may not see it (refused with `refusal`), or raises
    `Refused` with its own reason; either way nothing is shown or changed.
    """
    user = update.effective_user
    if user is None:
        return
    reason: str | None = None
    screen: Screen | None = None
    async with context.services.database.session_scope() as db:
        principal = await load_principal(db=db, telegram_user_id=user.id)
        try:
            screen = await build(db, principal)
        except Refused as refused:
            reason = refused.text(context.language)
    if screen is None:
        await refuse(update, context, reason or context._(refusal))
        return
    await show(update, context, *screen)


async def perform(
    update: Update,
    context: BotContext,
    act: Callable[[AsyncSession, Principal], Awaitable[Outcome]],
) -> Outcome | None:
    """Run one bot/ use case for the user in one transaction and return its outcome.

    A `Refused` rolls the transaction back (nothing is written) and is answered after it
    has ended; then None is returned and the handler has nothing more to show.
    """
    user = update.effective_user
    if user is None:
        return None
    try:
        async with context.services.database.session_scope() as db:
            principal = await load_principal(db=db, telegram_user_id=user.id)
            return await act(db, principal)
    except Refused as refused:
        await refuse(update, context, refused.text(context.language))
        return None


_TAPPED_KEY = "screens.tapped"
_TAPPED_KEEP = 50


def first_tap(update: Update, context: BotContext) -> bool:
    """True the first time this button of this message is tapped; False for a repeat.

    For buttons whose data alone would act again (e.g. "create"): a double tap, or a tap
    on the same old screen later, must not do the work twice. The taps are remembered per
    user, the most recent few dozen.
    """
    query = update.callback_query
    if query is None or query.message is None or context.user_data is None:
        return True
    key = f"{query.message.chat.id}:{query.message.message_id}:{query.data}"
    tapped: list[str] = context.user_data.setdefault(_TAPPED_KEY, [])
    if key in tapped:
        return False
    tapped.append(key)
    del tapped[:-_TAPPED_KEEP]
    return True
