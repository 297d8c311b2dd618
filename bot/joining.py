"""A newcomer's steps into a branch: open an invitation code, be found on the roster by a
shared phone, or ask the branch officers by typed name.

Each step is one use case in one transaction: it checks (registered already, waiting for a
decision, the invitation still usable), writes (the code attempt, the joined member, the
request), audits, queues the news for others (a request goes to the branch officers with
its 批准 / 拒绝 buttons through the outbox), and returns an outcome the handler renders. A
refusal raises `RegistrationRefused` inside the transaction, so nothing of the step is
kept. The officers' side (approve, reject) is in bot/registration.py.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram.constants import ParseMode

from bot import invitations as rules
from bot import registration as reg
from bot.direct_messages import Recipient
from bot.htmltext import payload_html
from bot.i18n import N_, gettext
from bot.registration import Welcome, branch_of, welcome_of, welcome_text
from bot.registration_buttons import decide_markup
from storage import deliveries, members
from storage import invitations as store
from storage.deliveries import Outgoing
from storage.models import DeliveryKind, Invitation, RegistrationRequest, Role

__all__ = [
    "ALREADY_REGISTERED",
    "WAITING",
    "Asked",
    "CodeAccepted",
    "CodeRefused",
    "NoInvitation",
    "NotOwnContact",
    "Notice",
    "Outcome",
    "Welcome",
    "already_settled",
    "ask_by_name",
    "branch_of",
    "join_by_contact",
    "open_code",
    "opened_invitation",
    "welcome_of",
    "welcome_text",
]

log = logging.getLogger(__name__)

ALREADY_REGISTERED: Final = N_("You are already registered as {name} in {branch}.")
WAITING: Final = N_(
    "Your request to join {branch} is waiting for the branch secretary. "
    "I will tell you here when it is decided."
)


# --- outcomes -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Notice:
    """Just tell the user something (already registered, waiting, ...)."""

    text: str  # an English msgid
    branch: str = ""
    name: str = ""
    done: bool = False  # the registration state can be forgotten


@dataclass(frozen=True, slots=True)
class Asked:
    """No roster match: a request went to these officers."""

    request: RegistrationRequest
    branch: str
    deciders: list[Recipient]
    role: Role = Role.MEMBER  # what the invitation gives: shown to the deciders


#: How a step towards joining ended.
Outcome = Notice | Welcome | Asked


@dataclass(frozen=True, slots=True)
class NoInvitation:
    """The invitation this chat opened is gone (a restart, or another one was opened)."""


@dataclass(frozen=True, slots=True)
class NotOwnContact:
    """The contact shared is someone else's: only one's own number is matched."""


@dataclass(frozen=True, slots=True)
class CodeRefused:
    """The code cannot be used: unknown, expired, revoked, used up, or too many tries."""

    status: rules.CodeStatus
    retry_at: datetime | None = None  # when THROTTLED


@dataclass(frozen=True, slots=True)
class CodeAccepted:
    """A usable invitation: the chat remembers it for the next step."""

    invitation_id: int
    branch: str


# --- reads the steps share ----------------------------------------------------------------


async def already_settled(db: AsyncSession, telegram_user_id: int) -> Notice | None:
    """Already registered, or waiting for a decision: nothing more to do here."""
    member = await members.member_by_telegram(db=db, telegram_user_id=telegram_user_id)
    if member is not None:
        branch = await branch_of(db, member.org_id)
        return Notice(ALREADY_REGISTERED, branch=branch, name=member.name, done=True)
    pending = await store.pending_request_of(db=db, telegram_user_id=telegram_user_id)
    if pending is not None:
        return Notice(WAITING, branch=await branch_of(db, pending.org_id), done=True)
    return None


# --- the steps ----------------------------------------------------------------------------


async def open_code(
    *, db: AsyncSession, actor: int, code: str, now: datetime
) -> Notice | CodeRefused | CodeAccepted:
    """`/start <code>`: check the code (the attempt is logged, tries are throttled) unless
    the user is registered or waiting already."""
    settled = await already_settled(db, actor)
    if settled is not None:
        return settled
    check = await rules.check_code(db=db, telegram_user_id=actor, code=code, now=now)
    if check.status is not rules.CodeStatus.VALID or check.invitation is None:
        return CodeRefused(check.status, check.retry_at)
    assert check.invitation.id is not None
    return CodeAccepted(check.invitation.id, await branch_of(db, check.invitation.org_id))


async def join_by_contact(
    *,
    db: AsyncSession,
    actor: int,
    invitation_id: int | None,
    contact_user_id: int | None,
    phone: str,
    contact_name: str,
    language: str,
    now: datetime,
) -> Outcome | NoInvitation | NotOwnContact:
    """A shared contact: join at once if its phone is on the invitation's branch roster,
    else ask the branch officers (the contact's name as the claimed name).

    ``language`` is the newcomer's, for the welcome.
    """
    settled = await already_settled(db, actor)
    if settled is not None:
        return settled
    invitation = await opened_invitation(db, invitation_id)
    if invitation is None:
        return NoInvitation()
    if contact_user_id != actor:
        return NotOwnContact()
    member = await reg.find_by_phone(db=db, invitation=invitation, phone=phone)
    if member is not None and member.id is not None:
        joined = await reg.join(
            db=db,
            invitation=invitation,
            member_id=member.id,
            telegram_user_id=actor,
            now=now,
            via="phone",
        )
        return await welcome_of(db, joined, language)
    return await _ask(db, invitation, actor, contact_name, phone, now)


async def ask_by_name(
    *, db: AsyncSession, actor: int, invitation_id: int | None, name: str, now: datetime
) -> Notice | Asked | NoInvitation:
    """A typed name: a request for the branch officers, who see the roster and decide."""
    settled = await already_settled(db, actor)
    if settled is not None:
        return settled
    invitation = await opened_invitation(db, invitation_id)
    if invitation is None:
        return NoInvitation()
    return await _ask(db, invitation, actor, name, None, now)


async def opened_invitation(db: AsyncSession, invitation_id: int | None) -> Invitation | None:
    """The invitation the chat opened; joining re-checks it is still usable."""
    if invitation_id is None:
        return None
    return await store.get_invitation(db=db, invitation_id=invitation_id)


async def _ask(
    db: AsyncSession,
    invitation: Invitation,
    telegram_user_id: int,
    claimed_name: str,
    phone: str | None,
    now: datetime,
) -> Asked:
    """File a request for this branch and queue it for the officers who decide it; both
    ways of matching end here when nothing fits."""
    request = await reg.ask_deciders(
        db=db,
        invitation=invitation,
        telegram_user_id=telegram_user_id,
        claimed_name=claimed_name,
        phone=phone,
        now=now,
    )
    asked = Asked(
        request=request,
        branch=await branch_of(db, invitation.org_id),
        deciders=await reg.deciders(db=db, org_id=invitation.org_id, role=invitation.role),
        role=Role(invitation.role),
    )
    await _queue_request(db, asked, now)
    return asked


async def _queue_request(db: AsyncSession, asked: Asked, now: datetime) -> None:
    """The request, with its 批准 / 拒绝 buttons, for each officer who may decide it."""
    request = asked.request
    assert request.id is not None
    if not asked.deciders:
        log.warning("registration request %s has nobody to decide it", request.id)
    items = []
    for officer in dict.fromkeys(asked.deciders):
        language = officer.language
        text = gettext(
            language,
            "New member request for {branch}:\nName: {name}\nPhone: {phone}\n"
            "This person is not on the roster yet. Please check and decide.",
        ).format(
            branch=asked.branch,
            name=request.claimed_name,
            phone=request.phone or gettext(language, "not given"),
        )
        if rules.is_raised_role(asked.role):
            role = rules.role_label(language, asked.role)
            text += "\n" + gettext(language, "Role: {role}").format(role=role)
        payload = {
            "text": payload_html(text),
            "parse_mode": ParseMode.HTML.value,
            "reply_markup": decide_markup(request.id, language),
        }
        key = f"registration:{request.id}:ask:{officer.telegram_user_id}"
        items.append(Outgoing(officer.telegram_user_id, payload, key))
    await deliveries.enqueue_many(db=db, kind=DeliveryKind.OTHER, items=items, due_at=now)
