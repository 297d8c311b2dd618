"""Joining a branch with an invitation: `/start <code>`, the roster match, and approvals.

A newcomer shares their phone contact (one tap) or picks their name and types the last
four digits of their phone. Someone the roster does not know becomes a request that the
branch officers approve or reject with buttons. The invitation being used lives in
user_data between messages; every button re-checks it on the server.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import (
    Contact,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import TelegramError
from telegram.ext import filters

from bot import invitations as rules
from bot import registration as reg
from bot.access import Action, allows, load_principal
from bot.context import BotContext
from bot.direct_messages import Recipient, recipient, tell
from bot.i18n import LANGUAGES, N_, gettext
from handlers import awaiting
from handlers.attendance import follow_roster_change
from handlers.callbacks import CallbackCodec
from handlers.guard import permitted, refuse
from handlers.invitations import PAGE_SIZE, in_rows, keyboard, paging_row
from handlers.menus import refresh_menu
from handlers.screens import button, callback_ints, callback_values, show
from storage import invitations as store
from storage import members, orgs
from storage.models import Invitation, Language, Member, MemberStatus, RegistrationRequest

log = logging.getLogger(__name__)

STATE_KEY: Final = "registration.invitation"  # user_data: the invitation being used
LAST_FOUR: Final = "registration.last_four"  # awaited typed input; ref: the member chosen

NAMES = CallbackCodec("reg.n", (int, int))  # invitation id, page
PICK_NAME = CallbackCodec("reg.p", (int, int))  # invitation id, member id
NOT_LISTED = CallbackCodec("reg.x", (int,))  # invitation id
APPROVE = CallbackCodec("reg.ok", (int, int))  # request id, page
LINK = CallbackCodec("reg.ln", (int, int))  # request id, member id
NEW_ENTRY = CallbackCodec("reg.nw", (int,))  # request id
NEW_STATUS = CallbackCodec("reg.ns", (int, str))  # request id, member status
REJECT = CallbackCodec("reg.no", (int,))  # request id

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
STALE: Final = N_("This button is no longer valid.")
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
    reg.Refusal.MEMBER_TAKEN: N_(
        "This person on the roster is already linked to another Telegram account. "
        "Please pick another name."
    ),
    reg.Refusal.ACCOUNT_TAKEN: N_(
        "This Telegram account is already linked to someone on a roster, so nothing was changed."
    ),
}


# --- what a step ends with ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Notice:
    """Just tell the user something (already registered, waiting, ...)."""

    text: str  # an English msgid
    branch: str = ""
    name: str = ""
    done: bool = False  # the registration state can be forgotten


@dataclass(frozen=True, slots=True)
class Welcome:
    """Someone joined a branch."""

    telegram_user_id: int
    member_id: int
    name: str
    branch: str
    role: str | None
    language: str


@dataclass(frozen=True, slots=True)
class Asked:
    """No roster match: a request went to these officers."""

    request: RegistrationRequest
    branch: str
    deciders: list[Recipient]


Outcome = Notice | Welcome | Asked

ALREADY_REGISTERED: Final = N_("You are already registered as {name} in {branch}.")
WAITING: Final = N_(
    "Your request to join {branch} is waiting for the branch secretary. "
    "I will tell you here when it is decided."
)


# --- state between messages ---------------------------------------------------------------


def _invitation_id(context: BotContext) -> int | None:
    found = context.user_data.get(STATE_KEY) if context.user_data is not None else None
    return found if isinstance(found, int) else None


def _remember(context: BotContext, invitation_id: int) -> None:
    if context.user_data is not None:
        context.user_data[STATE_KEY] = invitation_id


def _forget(context: BotContext) -> None:
    if context.user_data is not None:
        context.user_data.pop(STATE_KEY, None)
    if awaiting.waiting(context, LAST_FOUR) is not None:
        awaiting.stop(context)


def awaiting_last_four(user_data: Mapping[int, Mapping[str, Any]]) -> filters.BaseFilter:
    """Text from a user who was just asked for the last four digits of their phone."""
    return awaiting.awaiting(user_data, LAST_FOUR) & filters.TEXT


def by_name_labels() -> list[str]:
    """The "find me by name" button as it reads in every language."""
    return [gettext(language, BY_NAME) for language in LANGUAGES]


def _join_keyboard(context: BotContext) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        [
            [KeyboardButton(context._(SHARE_PHONE), request_contact=True)],
            [KeyboardButton(context._(BY_NAME))],
        ],
        resize_keyboard=True,
    )


# --- shared steps -------------------------------------------------------------------------


async def _branch_of(session: AsyncSession, org_id: int) -> str:
    org = await orgs.get_org(session=session, org_id=org_id)
    return await rules.org_label(session=session, org=org) if org else ""


async def _settled(session: AsyncSession, telegram_user_id: int) -> Notice | None:
    """Already registered, or waiting for a decision: nothing more to do here."""
    member = await members.member_by_telegram(session=session, telegram_user_id=telegram_user_id)
    if member is not None:
        branch = await _branch_of(session, member.org_id)
        return Notice(ALREADY_REGISTERED, branch=branch, name=member.name, done=True)
    pending = await store.pending_request_of(session=session, telegram_user_id=telegram_user_id)
    if pending is not None:
        return Notice(WAITING, branch=await _branch_of(session, pending.org_id), done=True)
    return None


async def _usable_invitation(session: AsyncSession, context: BotContext) -> Invitation | None:
    invitation_id = _invitation_id(context)
    if invitation_id is None:
        return None
    return await store.get_invitation(session=session, invitation_id=invitation_id)


async def _welcome(
    session: AsyncSession, joined: reg.Joined, language: str | None = None
) -> Welcome:
    if language is None:
        found = await recipient(session=session, telegram_user_id=joined.telegram_user_id)
        language = found.language if found else Language.ZH.value
    assert joined.member.id is not None
    return Welcome(
        telegram_user_id=joined.telegram_user_id,
        member_id=joined.member.id,
        name=joined.member.name,
        branch=await _branch_of(session, joined.org_id),
        role=rules.role_label(language, joined.role) if joined.role else None,
        language=language,
    )


async def _ask(
    session: AsyncSession,
    invitation: Invitation,
    telegram_user_id: int,
    claimed_name: str,
    phone: str | None,
    now: datetime,
) -> Asked:
    request = await reg.ask_deciders(
        session=session,
        invitation=invitation,
        telegram_user_id=telegram_user_id,
        claimed_name=claimed_name,
        phone=phone,
        now=now,
    )
    return Asked(
        request=request,
        branch=await _branch_of(session, invitation.org_id),
        deciders=await reg.deciders(session=session, org_id=invitation.org_id),
    )


def _welcome_text(welcome: Welcome) -> str:
    lines = [
        gettext(welcome.language, "Welcome, {name}! You have joined {branch}.").format(
            name=html.escape(welcome.name), branch=html.escape(welcome.branch)
        )
    ]
    if welcome.role is not None:
        lines.append(gettext(welcome.language, "Your role: {role}.").format(role=welcome.role))
    lines.append(gettext(welcome.language, "Send /help to see what I can do."))
    return "\n".join(lines)


async def _conclude(update: Update, context: BotContext, outcome: Outcome) -> None:
    """Tell the user how the step ended, and whoever else needs to know."""
    chat = update.effective_chat
    if chat is None:
        return
    _ = context._
    if isinstance(outcome, Notice):
        if outcome.done:
            _forget(context)
        text = _(outcome.text).format(
            name=html.escape(outcome.name), branch=html.escape(outcome.branch)
        )
        await context.bot.send_message(chat.id, text, reply_markup=ReplyKeyboardRemove())
    elif isinstance(outcome, Welcome):
        _forget(context)
        await context.bot.send_message(
            chat.id, _welcome_text(outcome), reply_markup=ReplyKeyboardRemove()
        )
        await _settle_in(context, outcome)
    else:
        _forget(context)
        text = _(
            "Thank you! I could not find you on the roster of {branch}, so I have asked "
            "the branch secretary to confirm. I will tell you here when they decide."
        ).format(branch=html.escape(outcome.branch))
        await context.bot.send_message(chat.id, text, reply_markup=ReplyKeyboardRemove())
        await _notify_deciders(context, outcome)


async def _settle_in(context: BotContext, welcome: Welcome) -> None:
    """After joining: the member's own menu, and invitations to the coming sessions."""
    await refresh_menu(
        context.bot,
        database=context.services.database,
        telegram_user_id=welcome.telegram_user_id,
        language=welcome.language,
    )
    await follow_roster_change(context.services, [welcome.member_id])


async def _notify_deciders(context: BotContext, asked: Asked) -> None:
    request = asked.request
    assert request.id is not None
    if not asked.deciders:
        log.warning("registration request %s has nobody to decide it", request.id)
    for account in asked.deciders:
        language = account.language
        text = gettext(
            language,
            "New member request for {branch}:\nName: {name}\nPhone: {phone}\n"
            "This person is not on the roster yet. Please check and decide.",
        ).format(
            branch=html.escape(asked.branch),
            name=html.escape(request.claimed_name),
            phone=html.escape(request.phone or gettext(language, "not given")),
        )
        markup = InlineKeyboardMarkup(
            [
                [
                    button(gettext(language, "Approve"), APPROVE.encode(request.id, 0)),
                    button(gettext(language, "Reject"), REJECT.encode(request.id)),
                ]
            ]
        )
        try:
            await context.bot.send_message(account.telegram_user_id, text, reply_markup=markup)
        except TelegramError as exc:
            log.warning("could not ask %s about request %s: %s", account, request.id, exc)


async def _refused(
    update: Update,
    context: BotContext,
    refused: reg.RegistrationRefused,
    *,
    deciding: bool = False,
) -> None:
    """Explain a refused step to the person who took it (the newcomer, or an officer)."""
    _ = context._
    if not deciding and awaiting.waiting(context, LAST_FOUR) is not None:
        awaiting.stop(context)
    if refused.reason is reg.Refusal.INVITATION:
        _forget(context)
        text = _(CODE_PROBLEMS[refused.status or rules.CodeStatus.UNKNOWN])
    elif refused.reason is reg.Refusal.ALREADY_DECIDED:
        user = update.effective_user
        if user is not None and refused.decided_by == user.id:
            text = _("You have already decided this request.")
        else:
            name = refused.decided_by_name or "?"
            text = _("Already decided by {name}.").format(name=html.escape(name))
    else:
        text = _((DECIDER_REFUSALS if deciding else REFUSALS).get(refused.reason, STALE))
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(text)


def _no_invitation_text(context: BotContext) -> str:
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
    async with context.services.database.session_scope() as session:
        settled = await _settled(session, user.id)
        check = None
        if settled is None:
            check = await rules.check_code(
                session=session, telegram_user_id=user.id, code=code, now=now
            )
        branch = ""
        if check is not None and check.invitation is not None:
            branch = await _branch_of(session, check.invitation.org_id)
    _ = context._
    if settled is not None or check is None:
        await _conclude(update, context, settled or Notice(WAITING))
    elif check.status is rules.CodeStatus.THROTTLED:
        assert check.retry_at is not None
        minutes = rules.minutes_until(check.retry_at, now)
        text = context.n_(
            "Too many wrong codes. Please try again in {minutes} minute.",
            "Too many wrong codes. Please try again in {minutes} minutes.",
            minutes,
        )
        await message.reply_text(text.format(minutes=minutes))
    elif check.status is not rules.CodeStatus.VALID or check.invitation is None:
        await message.reply_text(_(CODE_PROBLEMS[check.status]))
    else:
        assert check.invitation.id is not None
        _remember(context, check.invitation.id)
        text = _(
            "Welcome! This invitation is for {branch}.\n"
            "Tap “{share}” below, so I can find you on the branch roster."
        ).format(branch=html.escape(branch), share=_(SHARE_PHONE))
        await message.reply_text(text, reply_markup=_join_keyboard(context))


# --- (a) by phone contact -----------------------------------------------------------------


async def on_contact(update: Update, context: BotContext) -> None:
    """A shared contact: match its phone on the roster, or ask the branch officers."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None or message.contact is None:
        return
    contact = message.contact
    now = context.services.clock.now()
    outcome: Outcome | None = None
    try:
        async with context.services.database.session_scope() as session:
            outcome = await _settled(session, user.id)
            invitation = await _usable_invitation(session, context)
            if outcome is None and invitation is not None and contact.user_id == user.id:
                outcome = await _match_contact(session, context, invitation, contact, now)
    except reg.RegistrationRefused as refused:
        await _refused(update, context, refused)
        return
    if outcome is not None:
        await _conclude(update, context, outcome)
    elif invitation is None:
        await message.reply_text(_no_invitation_text(context))
    else:
        text = context._("Please share your own number: tap “{share}” below.")
        await message.reply_text(
            text.format(share=context._(SHARE_PHONE)), reply_markup=_join_keyboard(context)
        )


async def _match_contact(
    session: AsyncSession,
    context: BotContext,
    invitation: Invitation,
    contact: Contact,
    now: datetime,
) -> Outcome:
    assert contact.user_id is not None
    telegram_user_id = contact.user_id
    member = await reg.find_by_phone(
        session=session, invitation=invitation, phone=contact.phone_number
    )
    if member is not None and member.id is not None:
        joined = await reg.join(
            session=session,
            invitation=invitation,
            member_id=member.id,
            telegram_user_id=telegram_user_id,
            now=now,
            via="phone",
        )
        return await _welcome(session, joined, context.language)
    name = " ".join(part for part in (contact.first_name, contact.last_name) if part)
    return await _ask(session, invitation, telegram_user_id, name, contact.phone_number, now)


# --- (b) by name and the last four digits -------------------------------------------------


async def on_find_by_name(update: Update, context: BotContext) -> None:
    """The "find me by name" button: list the unregistered names of the branch."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return
    async with context.services.database.session_scope() as session:
        settled = await _settled(session, user.id)
        invitation = await _usable_invitation(session, context)
        view = None
        if settled is None and invitation is not None:
            view = await _name_list(session, context, invitation, 0)
    if settled is not None:
        await _conclude(update, context, settled)
    elif view is None:
        await message.reply_text(_no_invitation_text(context))
    else:
        await message.reply_text(view[0], reply_markup=view[1])


async def _name_list(
    session: AsyncSession, context: BotContext, invitation: Invitation, page: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    assert invitation.id is not None
    invitation_id = invitation.id
    total = await members.count_unlinked(session=session, org_id=invitation.org_id)
    people = await members.list_unlinked(
        session=session, org_id=invitation.org_id, offset=page * PAGE_SIZE, limit=PAGE_SIZE
    )
    _ = context._
    buttons = [button(m.name, PICK_NAME.encode(invitation_id, m.id or 0)) for m in people]
    rows = [
        *in_rows(buttons),
        paging_row(_, page, total, lambda p: NAMES.encode(invitation_id, p)),
        [button(_("My name is not on the list"), NOT_LISTED.encode(invitation_id))],
    ]
    branch = html.escape(await _branch_of(session, invitation.org_id))
    text = (
        _("Tap your name on the roster of {branch}:")
        if people
        else _("Everyone on the roster of {branch} has registered already.")
    )
    return text.format(branch=branch), keyboard(rows)


async def _tapped_invitation(
    session: AsyncSession, context: BotContext, invitation_id: int
) -> Invitation | None:
    """The invitation a button names, if it is the one this user opened."""
    if _invitation_id(context) != invitation_id:
        return None
    return await store.get_invitation(session=session, invitation_id=invitation_id)


async def on_names_page(update: Update, context: BotContext) -> None:
    """Another page of names."""
    invitation_id, page = callback_ints(NAMES, update)
    async with context.services.database.session_scope() as session:
        invitation = await _tapped_invitation(session, context, invitation_id)
        view = await _name_list(session, context, invitation, page) if invitation else None
    if view is None:
        await refuse(update, context, _no_invitation_text(context))
        return
    await show(update, context, *view)


async def on_pick_name(update: Update, context: BotContext) -> None:
    """A name was tapped: ask for the last four digits of that member's phone."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    invitation_id, member_id = callback_ints(PICK_NAME, update)
    now = context.services.clock.now()
    outcome: Outcome | None = None
    member: Member | None = None
    try:
        async with context.services.database.session_scope() as session:
            outcome = await _settled(session, user.id)
            invitation = await _tapped_invitation(session, context, invitation_id)
            if outcome is None and invitation is not None:
                member = await _unlinked_member(session, invitation, member_id)
                if member is not None and member.phone is None:
                    outcome = await _ask(session, invitation, user.id, member.name, None, now)
    except reg.RegistrationRefused as refused:
        await _refused(update, context, refused)
        return
    if outcome is not None:
        await query.answer()
        await _conclude(update, context, outcome)
    elif invitation is None:
        await refuse(update, context, _no_invitation_text(context))
    elif member is None:
        await refuse(update, context, context._(STALE))
    else:
        awaiting.expect(context, LAST_FOUR, member_id)
        text = context._(
            "You chose {name}. To confirm it is you, please type the last four digits "
            "of your phone number."
        ).format(name=html.escape(member.name))
        await show(update, context, text)


async def _unlinked_member(
    session: AsyncSession, invitation: Invitation, member_id: int
) -> Member | None:
    member = await members.get_member(session=session, member_id=member_id)
    if (
        member is None
        or member.org_id != invitation.org_id
        or not member.active
        or member.telegram_user_id is not None
    ):
        return None
    return member


async def on_not_listed(update: Update, context: BotContext) -> None:
    """ "My name is not on the list": ask the branch officers."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    (invitation_id,) = callback_ints(NOT_LISTED, update)
    now = context.services.clock.now()
    outcome: Outcome | None = None
    try:
        async with context.services.database.session_scope() as session:
            outcome = await _settled(session, user.id)
            invitation = await _tapped_invitation(session, context, invitation_id)
            if outcome is None and invitation is not None:
                outcome = await _ask(session, invitation, user.id, user.full_name, None, now)
    except reg.RegistrationRefused as refused:
        await _refused(update, context, refused)
        return
    if outcome is None:
        await refuse(update, context, _no_invitation_text(context))
        return
    await query.answer()
    await _conclude(update, context, outcome)


async def on_last_four(update: Update, context: BotContext) -> None:
    """The typed last four digits: link on a match, count a failed attempt otherwise."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None or message.text is None:
        return
    wait = awaiting.waiting(context, LAST_FOUR)
    member_id = wait.ref if wait is not None else None
    now = context.services.clock.now()
    outcome: Outcome | None = None
    retry_at: datetime | None = None
    try:
        async with context.services.database.session_scope() as session:
            outcome = await _settled(session, user.id)
            invitation = await _usable_invitation(session, context)
            if outcome is None and invitation is not None and member_id is not None:
                retry_at = await rules.throttled_until(
                    session=session, telegram_user_id=user.id, now=now
                )
                if retry_at is None:
                    outcome = await _check_last_four(
                        session, context, invitation, member_id, user.id, message.text, now
                    )
    except reg.RegistrationRefused as refused:
        await _refused(update, context, refused)
        return
    if outcome is not None:
        await _conclude(update, context, outcome)
    elif retry_at is not None:
        minutes = rules.minutes_until(retry_at, now)
        text = context.n_(
            "Too many wrong tries. Please try again in {minutes} minute.",
            "Too many wrong tries. Please try again in {minutes} minutes.",
            minutes,
        )
        await message.reply_text(text.format(minutes=minutes))
    elif invitation is None:
        _forget(context)
        await message.reply_text(_no_invitation_text(context))
    else:
        text = context._(
            "Those digits do not match the roster. Please type the last four digits again, "
            "or tap “{share}” below."
        )
        await message.reply_text(
            text.format(share=context._(SHARE_PHONE)), reply_markup=_join_keyboard(context)
        )


async def _check_last_four(
    session: AsyncSession,
    context: BotContext,
    invitation: Invitation,
    member_id: int,
    telegram_user_id: int,
    typed: str,
    now: datetime,
) -> Outcome | None:
    """Join if the digits match (None: they do not; the failure is logged)."""
    member = await _unlinked_member(session, invitation, member_id)
    if member is None:
        raise reg.RegistrationRefused(reg.Refusal.STALE)
    matched = reg.last_four_match(member, typed)
    await store.record_attempt(
        session=session, telegram_user_id=telegram_user_id, succeeded=matched, at=now
    )
    if not matched:
        return None
    joined = await reg.join(
        session=session,
        invitation=invitation,
        member_id=member_id,
        telegram_user_id=telegram_user_id,
        now=now,
        via="name",
    )
    return await _welcome(session, joined, context.language)


# --- (c) the officers decide --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Decision:
    """A request and whether the tapping user may decide it."""

    request: RegistrationRequest | None
    org_path: str
    allowed: bool


async def _decision(session: AsyncSession, user_id: int, request_id: int) -> _Decision:
    principal = await load_principal(session=session, telegram_user_id=user_id)
    request = await store.get_request(session=session, request_id=request_id)
    org = await orgs.get_org(session=session, org_id=request.org_id) if request else None
    if request is None or org is None:
        return _Decision(None, "", False)
    allowed = allows(principal, Action.DECIDE_REGISTRATION, org.path)
    return _Decision(request, org.path, allowed)


async def _refuse_decision(update: Update, context: BotContext, decision: _Decision) -> None:
    """The request is gone, or the user may not decide it: say so."""
    if decision.request is None:
        await refuse(update, context, context._(STALE))
        return
    user = update.effective_user
    assert user is not None
    async with context.services.database.session_scope() as session:
        principal = await load_principal(session=session, telegram_user_id=user.id)
    await permitted(update, context, principal, Action.DECIDE_REGISTRATION, decision.org_path)


def _request_summary(context: BotContext, request: RegistrationRequest, branch: str) -> str:
    return context._("{name} (phone: {phone}) wants to join {branch}.").format(
        name=html.escape(request.claimed_name),
        phone=html.escape(request.phone or context._("not given")),
        branch=html.escape(branch),
    )


async def on_approve(update: Update, context: BotContext) -> None:
    """Approve was tapped: pick the roster entry to link, or make a new one."""
    user = update.effective_user
    if user is None:
        return
    request_id, page = callback_ints(APPROVE, update)
    view = None
    try:
        async with context.services.database.session_scope() as session:
            decision = await _decision(session, user.id, request_id)
            if decision.allowed:
                request = await reg.pending_request(session=session, request_id=request_id)
                view = await _member_choice(session, context, request, page)
    except reg.RegistrationRefused as refused:
        await _refused(update, context, refused, deciding=True)
        return
    if view is None:
        await _refuse_decision(update, context, decision)
        return
    await show(update, context, *view)


async def _member_choice(
    session: AsyncSession, context: BotContext, request: RegistrationRequest, page: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    assert request.id is not None
    request_id = request.id
    _ = context._
    total = await members.count_unlinked(session=session, org_id=request.org_id)
    people = await members.list_unlinked(
        session=session, org_id=request.org_id, offset=page * PAGE_SIZE, limit=PAGE_SIZE
    )
    buttons = [button(_roster_label(m), LINK.encode(request_id, m.id or 0)) for m in people]
    rows = [
        *in_rows(buttons),
        paging_row(_, page, total, lambda p: APPROVE.encode(request_id, p)),
        [
            button(_("➕ New roster entry"), NEW_ENTRY.encode(request_id)),
            button(_("Reject"), REJECT.encode(request_id)),
        ],
    ]
    summary = _request_summary(context, request, await _branch_of(session, request.org_id))
    text = (
        summary + "\n" + _("Who is this on the roster? Tap the name, or make a new roster entry.")
    )
    return text, keyboard(rows)


def _roster_label(member: Member) -> str:
    """A name with the end of the phone number, to tell two people of one name apart."""
    return f"{member.name} …{member.phone[-4:]}" if member.phone else member.name


async def on_link(update: Update, context: BotContext) -> None:
    """A roster entry was picked: approve the request and link the account to it."""
    request_id, member_id = callback_ints(LINK, update)
    await _approve(update, context, request_id, member_id, None)


async def on_new_entry(update: Update, context: BotContext) -> None:
    """ "New roster entry": ask which status the new member has."""
    user = update.effective_user
    if user is None:
        return
    (request_id,) = callback_ints(NEW_ENTRY, update)
    text = None
    try:
        async with context.services.database.session_scope() as session:
            decision = await _decision(session, user.id, request_id)
            if decision.allowed:
                request = await reg.pending_request(session=session, request_id=request_id)
                branch = await _branch_of(session, request.org_id)
                text = _request_summary(context, request, branch)
    except reg.RegistrationRefused as refused:
        await _refused(update, context, refused, deciding=True)
        return
    if text is None:
        await _refuse_decision(update, context, decision)
        return
    _ = context._
    buttons = [
        button(
            rules.status_label(context.language, status),
            NEW_STATUS.encode(request_id, status.value),
        )
        for status in reg.NEW_ENTRY_STATUSES
    ]
    back = button(_("« Back"), APPROVE.encode(request_id, 0))
    await show(
        update,
        context,
        text + "\n" + _("A new roster entry will be made. What is this person?"),
        InlineKeyboardMarkup([buttons, [back]]),
    )


async def on_new_status(update: Update, context: BotContext) -> None:
    """The status of the new roster entry was picked: create it and approve."""
    request_id, status_name = callback_values(NEW_STATUS, update)
    status = next((s for s in reg.NEW_ENTRY_STATUSES if s.value == status_name), None)
    if status is None:
        await refuse(update, context, context._(STALE))
        return
    await _approve(update, context, int(request_id), None, status)


async def _approve(
    update: Update,
    context: BotContext,
    request_id: int,
    member_id: int | None,
    status: MemberStatus | None,
) -> None:
    query, user = update.callback_query, update.effective_user
    assert query is not None
    assert user is not None
    now = context.services.clock.now()
    welcome = None
    try:
        async with context.services.database.session_scope() as session:
            decision = await _decision(session, user.id, request_id)
            if decision.allowed and decision.request is not None:
                joined = await reg.approve(
                    session=session,
                    request=decision.request,
                    decider_id=user.id,
                    member_id=member_id,
                    new_status=status,
                    now=now,
                )
                welcome = await _welcome(session, joined)
    except reg.RegistrationRefused as refused:
        await _refused(update, context, refused, deciding=True)
        return
    if welcome is None:
        await _refuse_decision(update, context, decision)
        return
    await query.answer(context._("Approved."))
    await query.edit_message_text(
        context._("Approved: {name} has joined {branch}.").format(
            name=html.escape(welcome.name), branch=html.escape(welcome.branch)
        )
    )
    member = Recipient(welcome.telegram_user_id, welcome.language)
    await tell(
        context.bot, context.services.database, [member], lambda _: _welcome_text(welcome), now=now
    )
    await _settle_in(context, welcome)


async def on_reject(update: Update, context: BotContext) -> None:
    """Reject the request and tell the person who asked."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    (request_id,) = callback_ints(REJECT, update)
    now = context.services.clock.now()
    told: Recipient | None = None
    try:
        async with context.services.database.session_scope() as session:
            decision = await _decision(session, user.id, request_id)
            request = decision.request
            if decision.allowed and request is not None:
                await reg.reject(session=session, request=request, decider_id=user.id, now=now)
                branch = await _branch_of(session, request.org_id)
                told = await recipient(session=session, telegram_user_id=request.telegram_user_id)
    except reg.RegistrationRefused as refused:
        await _refused(update, context, refused, deciding=True)
        return
    if not decision.allowed or request is None:
        await _refuse_decision(update, context, decision)
        return
    await query.answer(context._("Rejected."))
    await query.edit_message_text(
        context._("Rejected: {name} was told.").format(name=html.escape(request.claimed_name))
    )

    def rejection(language: str) -> str:
        return gettext(
            language,
            "Sorry, your request to join {branch} was not approved. "
            "If you think this is a mistake, please talk to your branch secretary.",
        ).format(branch=html.escape(branch))

    await tell(context.bot, context.services.database, [told] if told else [], rejection, now=now)


#: Every button of this module and its handler, for handlers/registry.py.
CALLBACKS: Final = (
    (NAMES, on_names_page),
    (PICK_NAME, on_pick_name),
    (NOT_LISTED, on_not_listed),
    (APPROVE, on_approve),
    (LINK, on_link),
    (NEW_ENTRY, on_new_entry),
    (NEW_STATUS, on_new_status),
    (REJECT, on_reject),
)
