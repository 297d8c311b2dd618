"""Joining a branch with an invitation: what every way of joining shares, and `/start <code>`.

A newcomer opens an invitation link, then is found on the roster (handlers/registration_match.py)
or becomes a request the branch officers decide (handlers/registration_decide.py). Every step
is one use case of bot/joining.py or bot/registration.py run by `perform_step`; the state kept
between messages and the rendering of outcomes live here, so both can use them without
importing each other.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import (
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)

from bot import invitations as rules
from bot import joining
from bot import registration as reg
from bot.context import BotContext
from bot.i18n import N_
from bot.refusals import NOT_ALLOWED
from handlers import awaiting
from handlers.attendance import follow_roster_change
from handlers.guard import STALE_BUTTON, refuse
from handlers.menus import refresh_menu

Result = TypeVar("Result")

STATE_KEY: Final = "registration.invitation"  # user_data: the invitation being used
TYPED_NAME: Final = "registration.name"  # awaited typed input: the name; ref: the invitation


SHARE_PHONE: Final = N_("📱 Share my phone number")
BY_NAME: Final = N_("No phone? Find me by name")
CODE_PROBLEMS: Final = {
    rules.CodeStatus.UNKNOWN: N_(
        "I do not know this invitation code. Please check the link, "
        "or ask your branch secretary for a new one."
    ),
    rules.CodeStatus.EXPIRED: N_(
        "This invitation has expired. Please ask your branch secretary for a new one."
    ),
    rules.CodeStatus.REVOKED: N_(
        "This invitation has been withdrawn. Please ask your branch secretary for a new one."
    ),
    rules.CodeStatus.USED_UP: N_(
        "This invitation has been used up. Please ask your branch secretary for a new one."
    ),
}
REFUSALS: Final = {
    reg.Refusal.MEMBER_TAKEN: N_(
        "This roster entry is already linked to another Telegram account. "
        "Please see your branch secretary."
    ),
    reg.Refusal.ACCOUNT_TAKEN: N_(
        "Your Telegram account is already linked to someone on a roster. "
        "Please see your branch secretary."
    ),
}
DECIDER_REFUSALS: Final = {
    reg.Refusal.NOT_ALLOWED: NOT_ALLOWED,
    reg.Refusal.MEMBER_TAKEN: N_(
        "This person on the roster is already linked to another Telegram account. "
        "Please pick another name."
    ),
    reg.Refusal.ACCOUNT_TAKEN: N_(
        "This Telegram account is already linked to someone on a roster, so nothing was changed."
    ),
}


# --- state between messages ---------------------------------------------------------------


def invitation_id(context: BotContext) -> int | None:
    """The invitation this user opened with /start (None after a restart or when done)."""
    found = context.user_data.get(STATE_KEY) if context.user_data is not None else None
    return found if isinstance(found, int) else None


def _remember(context: BotContext, invitation_id: int) -> None:
    if context.user_data is not None:
        context.user_data[STATE_KEY] = invitation_id


def forget(context: BotContext) -> None:
    """Registration is over (or cannot go on): drop the invitation and any awaited name."""
    if context.user_data is not None:
        context.user_data.pop(STATE_KEY, None)
    if awaiting.waiting(context, TYPED_NAME) is not None:
        awaiting.stop(context)


def join_keyboard(context: BotContext) -> ReplyKeyboardMarkup:
    """The two ways to be found on the roster, as reply buttons: one tap each."""
    return ReplyKeyboardMarkup(
        [
            [KeyboardButton(context._(SHARE_PHONE), request_contact=True)],
            [KeyboardButton(context._(BY_NAME))],
        ],
        resize_keyboard=True,
    )


# --- shared steps -------------------------------------------------------------------------


async def perform_step(
    update: Update,
    context: BotContext,
    step: Callable[[AsyncSession], Awaitable[Result]],
    *,
    deciding: bool = False,
) -> Result | None:
    """Run one registration use case in one transaction and return its outcome.

    A refusal rolls the transaction back and is explained after it has ended (to the
    newcomer, or to the officer when ``deciding``); then None is returned.
    """
    try:
        async with context.services.database.session_scope() as db:
            return await step(db)
    except reg.RegistrationRefused as refused:
        await explain_refusal(update, context, refused, deciding=deciding)
        return None


async def conclude(update: Update, context: BotContext, outcome: joining.Outcome) -> None:
    """Tell the user how the step ended, and whoever else needs to know."""
    chat = update.effective_chat
    if chat is None:
        return
    _ = context._
    if isinstance(outcome, joining.Notice):
        if outcome.done:
            forget(context)
        text = _(outcome.text).format(name=outcome.name, branch=outcome.branch)
        await context.bot.send_message(chat.id, text, reply_markup=ReplyKeyboardRemove())
    elif isinstance(outcome, joining.Welcome):
        forget(context)
        await context.bot.send_message(
            chat.id, joining.welcome_text(outcome), reply_markup=ReplyKeyboardRemove()
        )
        await settle_in(context, outcome)
        # The one step after the join's transaction: invitations to the branch's coming
        # sessions. The welcome is this update's answer, sent directly (it takes the reply
        # keyboard away, which an outbox row cannot), and the relay sends a committed row
        # at its next look (within its poll interval), so invitations queued in the join's
        # transaction could reach the newcomer before the welcome. Losing this step loses
        # nothing: it queues only what is missing (`attendance.uninvited`, dedupe keys),
        # a failure is logged, and the session_roster job does the same every minute.
        await follow_roster_change(context.services, [outcome.member_id])
    else:
        forget(context)
        text = _(
            "Thank you! I could not find you on the roster of {branch}, so I have asked "
            "the branch secretary to confirm. I will tell you here when they decide."
        ).format(branch=outcome.branch)
        await context.bot.send_message(chat.id, text, reply_markup=ReplyKeyboardRemove())
        context.services.relay.wake()  # the request, to the officers who decide it


async def settle_in(context: BotContext, welcome: joining.Welcome) -> None:
    """After joining: the member's own menu (a Telegram call, not a change of ours)."""
    await refresh_menu(
        context.bot,
        database=context.services.database,
        telegram_user_id=welcome.telegram_user_id,
        language=welcome.language,
    )


async def explain_refusal(
    update: Update,
    context: BotContext,
    refused: reg.RegistrationRefused,
    *,
    deciding: bool = False,
) -> None:
    """Explain a refused step to the person who took it (the newcomer, or an officer)."""
    _ = context._
    if not deciding and awaiting.waiting(context, TYPED_NAME) is not None:
        awaiting.stop(context)
    if refused.reason is reg.Refusal.INVITATION:
        forget(context)
        text = _(CODE_PROBLEMS[refused.status or rules.CodeStatus.UNKNOWN])
    elif refused.reason is reg.Refusal.ALREADY_DECIDED:
        user = update.effective_user
        if user is not None and refused.decided_by == user.id:
            text = _("You have already decided this request.")
        else:
            name = refused.decided_by_name or "?"
            text = _("Already decided by {name}.").format(name=name)
    else:
        text = _((DECIDER_REFUSALS if deciding else REFUSALS).get(refused.reason, STALE_BUTTON))
    await refuse(update, context, text)


def no_invitation_text(context: BotContext) -> str:
    """The invitation is gone from this chat (a restart, or another one was opened)."""
    return context._(
        "Please open your invitation link again (scan the QR code or tap the link), "
        "then try once more."
    )


# --- /start <code> ------------------------------------------------------------------------


async def start_with_code(update: Update, context: BotContext, code: str) -> None:
    """Check an invitation code and offer the ways to find the user on the roster."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return
    now = context.services.clock.now()
    opened = await perform_step(
        update,
        context,
        lambda db: joining.open_code(db=db, actor=user.id, code=code, now=now),
    )
    _ = context._
    if opened is None:
        return
    if isinstance(opened, joining.Notice):
        await conclude(update, context, opened)
    elif isinstance(opened, joining.CodeRefused):
        if opened.status is rules.CodeStatus.THROTTLED:
            assert opened.retry_at is not None
            minutes = rules.minutes_until(opened.retry_at, now)
            text = context.n_(
                "Too many wrong codes. Please try again in {minutes} minute.",
                "Too many wrong codes. Please try again in {minutes} minutes.",
                minutes,
            )
            await message.reply_text(text.format(minutes=minutes))
        else:
            await message.reply_text(_(CODE_PROBLEMS[opened.status]))
    else:
        _remember(context, opened.invitation_id)
        text = _(
            "Welcome! This invitation is for {branch}.\n"
            "Tap “{share}” below, so I can find you on the branch roster."
        ).format(branch=opened.branch, share=_(SHARE_PHONE))
        await message.reply_text(text, reply_markup=join_keyboard(context))
