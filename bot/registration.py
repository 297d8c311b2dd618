"""Registration rules: match a newcomer to the branch roster, or let a secretary decide.

Joining spends one use of the invitation and links the Telegram account in the same
transaction, so a refusal (code used up meanwhile, roster entry taken) raises and leaves
nothing behind. Decisions on requests are one conditional UPDATE: the first tap wins and
every later one learns who decided. An approval welcomes the newcomer and invites them to
their branch's coming sessions, a rejection tells them, all through the outbox in the
decision's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final, NoReturn

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.access import ROLE_RANK, Action, Principal, allows, may_give_role
from bot.direct_messages import Recipient, recipient, tell
from bot.htmltext import html_lines
from bot.i18n import N_, gettext
from bot.invitations import CodeStatus, is_raised_role, org_label, role_label, status_of
from bot.roster_file import normalise_phone
from bot.session_duties import follow_the_roster
from bot.settings import Settings
from storage import audit, members, orgs, roles
from storage import invitations as store
from storage.models import (
    Invitation,
    Language,
    Member,
    MemberStatus,
    OrgKind,
    OrgUnit,
    RegistrationRequest,
    RegistrationState,
    Role,
    TelegramAccount,
)

# Who is asked to confirm a newcomer, nearest first: the branch's own officers, else the
# township's organisers, else county staff (so a request never waits for nobody).
DECIDER_ROLES: Final[dict[OrgKind, tuple[Role, ...]]] = {
    OrgKind.VILLAGE_BRANCH: (Role.SECRETARY, Role.DEPUTY_SECRETARY),
    OrgKind.COUNTY_DEPARTMENT: (Role.SECRETARY, Role.DEPUTY_SECRETARY),
    OrgKind.GRASSROOTS_STATION: (Role.SECRETARY, Role.DEPUTY_SECRETARY),
    OrgKind.TOWNSHIP: (Role.TOWNSHIP_ORGANISER,),
    OrgKind.COUNTY: (Role.COUNTY_STAFF,),
}
# What an approver may record for someone who is not on the roster yet.
NEW_ENTRY_STATUSES: Final = (MemberStatus.ACTIVIST, MemberStatus.PROBATIONARY, MemberStatus.FULL)
CLAIMED_NAME_LENGTH: Final = 100
PHONE_LENGTH: Final = 20


class Refusal(StrEnum):
    """Why a registration step changed nothing."""

    INVITATION = "invitation"  # the invitation cannot be used (any more); see `status`
    MEMBER_TAKEN = "member_taken"  # the roster entry belongs to another account
    ACCOUNT_TAKEN = "account_taken"  # this account already belongs to a roster entry
    ALREADY_DECIDED = "already_decided"
    STALE = "stale"  # the request or roster entry is gone or not where it should be
    NOT_ALLOWED = "not_allowed"  # the officer may not decide this request (scope or role)


class RegistrationRefused(Exception):
    """A refused step; raised inside the transaction so that it rolls back.

    It carries plain values only: the session's objects are gone after the rollback.
    """

    def __init__(
        self,
        reason: Refusal,
        *,
        status: CodeStatus | None = None,
        decided_by: int | None = None,
        decided_by_name: str = "",
    ) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.status = status
        self.decided_by = decided_by
        self.decided_by_name = decided_by_name


@dataclass(frozen=True, slots=True)
class Joined:
    """Who joined, where, and the role the invitation gave them (None: plain member)."""

    member: Member
    telegram_user_id: int
    org_id: int
    role: Role | None


@dataclass(frozen=True, slots=True)
class Welcome:
    """Someone joined a branch."""

    telegram_user_id: int
    member_id: int
    name: str
    branch: str
    role: str | None
    language: str


REJECTED: Final = N_(
    "Sorry, your request to join {branch} was not approved. "
    "If you think this is a mistake, please talk to your branch secretary."
)


async def branch_of(db: AsyncSession, org_id: int) -> str:
    """The branch as people know it, for the texts (empty if it is gone)."""
    org = await orgs.get_org(db=db, org_id=org_id)
    return await org_label(db=db, org=org) if org else ""


async def welcome_of(db: AsyncSession, joined: Joined, language: str | None = None) -> Welcome:
    """What the new member is told; in their stored language unless it is given."""
    if language is None:
        found = await recipient(db=db, telegram_user_id=joined.telegram_user_id)
        language = found.language if found else Language.ZH.value
    assert joined.member.id is not None
    return Welcome(
        telegram_user_id=joined.telegram_user_id,
        member_id=joined.member.id,
        name=joined.member.name,
        branch=await branch_of(db, joined.org_id),
        role=role_label(language, joined.role) if joined.role else None,
        language=language,
    )


def welcome_text(welcome: Welcome) -> str:
    """One welcome, whether the member joined alone or an officer approved them (HTML)."""
    lines = [
        gettext(welcome.language, "Welcome, {name}! You have joined {branch}.").format(
            name=welcome.name, branch=welcome.branch
        )
    ]
    if welcome.role is not None:
        lines.append(gettext(welcome.language, "Your role: {role}.").format(role=welcome.role))
    lines.append(gettext(welcome.language, "Send /help to see what I can do."))
    return html_lines(lines)


def clean_phone(raw: str | None) -> str | None:
    """A shared phone as the roster keeps it; a number we cannot read is kept as given."""
    if not raw:
        return None
    return normalise_phone(raw) or raw.strip()[:PHONE_LENGTH]


async def find_by_phone(
    *, db: AsyncSession, invitation: Invitation, phone: str | None
) -> Member | None:
    """The roster entry of the invitation's branch with this phone, if any."""
    normalised = normalise_phone(phone) if phone else None
    if normalised is None:
        return None
    return await members.find_in_branch_by_phone(db=db, org_id=invitation.org_id, phone=normalised)


async def join(
    *,
    db: AsyncSession,
    invitation: Invitation,
    member_id: int,
    telegram_user_id: int,
    now: datetime,
    via: str,
) -> Joined:
    """Spend a use of the invitation, link the account to the member, grant the role."""
    assert invitation.id is not None
    if not await store.claim_use(db=db, invitation_id=invitation.id, now=now):
        fresh = await store.get_invitation(db=db, invitation_id=invitation.id)
        raise RegistrationRefused(Refusal.INVITATION, status=status_of(fresh, now))
    member = await _link(db, member_id, telegram_user_id, invitation.org_id, now)
    role = await _grant_invited_role(
        db, invitation.role, telegram_user_id, invitation.org_id, invitation.created_by, now
    )
    await audit.record(
        db=db,
        actor=telegram_user_id,
        action="member.register",
        target_kind="member",
        target_id=member.id,
        org_id=invitation.org_id,
        detail={"invitation_id": invitation.id, "via": via, "role": Role(invitation.role).value},
        at=now,
    )
    return Joined(member, telegram_user_id, invitation.org_id, role)


async def ask_deciders(
    *,
    db: AsyncSession,
    invitation: Invitation,
    telegram_user_id: int,
    claimed_name: str,
    phone: str | None,
    now: datetime,
) -> RegistrationRequest:
    """No roster match: spend a use and open a request for the branch officers."""
    assert invitation.id is not None
    if not await store.claim_use(db=db, invitation_id=invitation.id, now=now):
        fresh = await store.get_invitation(db=db, invitation_id=invitation.id)
        raise RegistrationRefused(Refusal.INVITATION, status=status_of(fresh, now))
    request = await store.create_request(
        db=db,
        telegram_user_id=telegram_user_id,
        invitation_id=invitation.id,
        org_id=invitation.org_id,
        claimed_name=(claimed_name.strip() or "?")[:CLAIMED_NAME_LENGTH],
        phone=clean_phone(phone),
        now=now,
    )
    await audit.record(
        db=db,
        actor=telegram_user_id,
        action="registration.request",
        target_kind="registration_request",
        target_id=request.id,
        org_id=invitation.org_id,
        detail={"invitation_id": invitation.id, "claimed_name": request.claimed_name},
        at=now,
    )
    return request


def may_decide(principal: Principal, org: OrgUnit, role: Role | str) -> bool:
    """May the principal decide a request to join `org` through an invitation with `role`?

    Deciding takes DECIDE_REGISTRATION there and, when the invitation carries a role, the
    right to give that role (the rank rule): a deputy does not make a secretary.
    """
    if not allows(principal, Action.DECIDE_REGISTRATION, org.path):
        return False
    return not is_raised_role(role) or may_give_role(
        principal, Role(role), org.path, org.kind, via=Action.DECIDE_REGISTRATION
    )


async def deciders(
    *, db: AsyncSession, org_id: int, role: Role | str = Role.MEMBER
) -> list[Recipient]:
    """Who is asked about a request for this branch: the nearest level with officers who
    may give the invitation's role (a secretary invitation goes past the branch)."""
    org = await orgs.get_org(db=db, org_id=org_id)
    while org is not None:
        assert org.id is not None
        wanted = [
            held
            for held in DECIDER_ROLES.get(OrgKind(org.kind), ())
            if ROLE_RANK[held] > ROLE_RANK[Role(role)]
        ]
        found = await roles.holders(db=db, org_id=org.id, roles=wanted)
        if found:
            return [Recipient(h.telegram_user_id, h.language) for h in found]
        if org.parent_id is None:
            return []
        org = await orgs.get_org(db=db, org_id=org.parent_id)
    return []


async def decidable(*, db: AsyncSession, actor: Principal, request_id: int) -> RegistrationRequest:
    """The pending request, if the actor may decide it (`may_decide`).

    Access is checked before state, so someone outside the scope learns nothing about the
    request, not even that somebody else decided it.
    """
    request = await store.get_request(db=db, request_id=request_id)
    org = await orgs.get_org(db=db, org_id=request.org_id) if request else None
    if request is None or org is None:
        raise RegistrationRefused(Refusal.STALE)
    invitation = await store.get_invitation(db=db, invitation_id=request.invitation_id)
    if not may_decide(actor, org, invitation.role if invitation is not None else Role.MEMBER):
        raise RegistrationRefused(Refusal.NOT_ALLOWED)
    if request.state != RegistrationState.PENDING:
        await _refuse_decided(db, request)
    return request


async def approve(
    *,
    db: AsyncSession,
    actor: Principal,
    request_id: int,
    member_id: int | None,
    new_status: MemberStatus | None,
    settings: Settings,
    now: datetime,
) -> Welcome:
    """Link the requester to a roster entry (or a new one) and grant the invited role,
    if the actor may decide the request (and so give its role); in the same transaction
    queue their welcome and then their invitations to the branch's coming sessions (the
    relay sends one chat's rows in order, so the welcome comes first)."""
    request = await decidable(db=db, actor=actor, request_id=request_id)
    decider_id = actor.telegram_user_id
    assert request.id is not None
    created = member_id is None
    if member_id is None:
        member = await members.create_member(
            db=db,
            name=request.claimed_name,
            org_id=request.org_id,
            status=new_status or MemberStatus.FULL,
            phone=normalise_phone(request.phone) if request.phone else None,
            now=now,
        )
        assert member.id is not None
        member_id = member.id
    await _claim_decision(db, request, RegistrationState.APPROVED, decider_id, member_id, now)
    member = await _link(db, member_id, request.telegram_user_id, request.org_id, now)
    invitation = await store.get_invitation(db=db, invitation_id=request.invitation_id)
    invited_role = invitation.role if invitation is not None else Role.MEMBER
    role = await _grant_invited_role(
        db, invited_role, request.telegram_user_id, request.org_id, decider_id, now
    )
    if created:
        await audit.record(
            db=db,
            actor=decider_id,
            action="member.create",
            target_kind="member",
            target_id=member_id,
            org_id=request.org_id,
            detail={"name": member.name, "status": MemberStatus(member.status).value},
            at=now,
        )
    await audit.record(
        db=db,
        actor=decider_id,
        action="registration.approve",
        target_kind="registration_request",
        target_id=request.id,
        org_id=request.org_id,
        detail={"member_id": member_id, "telegram_user_id": request.telegram_user_id},
        at=now,
    )
    welcome = await welcome_of(db, Joined(member, request.telegram_user_id, request.org_id, role))
    await tell(
        db=db,
        recipients=[Recipient(welcome.telegram_user_id, welcome.language)],
        render=lambda _language: welcome_text(welcome),
        key=f"registration:{request.id}:welcome",
        now=now,
    )
    await follow_the_roster(db=db, settings=settings, now=now, member_ids=[member_id])
    return welcome


async def reject(
    *, db: AsyncSession, actor: Principal, request_id: int, now: datetime
) -> RegistrationRequest:
    """Turn the request down, if the actor may decide it, and tell its author (`REJECTED`,
    through the outbox)."""
    request = await decidable(db=db, actor=actor, request_id=request_id)
    decider_id = actor.telegram_user_id
    await _claim_decision(db, request, RegistrationState.REJECTED, decider_id, None, now)
    await audit.record(
        db=db,
        actor=decider_id,
        action="registration.reject",
        target_kind="registration_request",
        target_id=request.id,
        org_id=request.org_id,
        detail={"telegram_user_id": request.telegram_user_id},
        at=now,
    )
    told = await recipient(db=db, telegram_user_id=request.telegram_user_id)
    branch = await branch_of(db, request.org_id)
    await tell(
        db=db,
        recipients=[told] if told else [],
        render=lambda language: gettext(language, REJECTED).format(branch=branch),
        key=f"registration:{request.id}:rejected",
        now=now,
    )
    return request


async def _claim_decision(
    db: AsyncSession,
    request: RegistrationRequest,
    state: RegistrationState,
    decider_id: int,
    member_id: int | None,
    now: datetime,
) -> None:
    assert request.id is not None
    decided = await store.decide_request(
        db=db,
        request_id=request.id,
        state=state,
        decided_by=decider_id,
        member_id=member_id,
        now=now,
    )
    if not decided:
        fresh = await store.get_request(db=db, request_id=request.id)
        if fresh is None:
            raise RegistrationRefused(Refusal.STALE)
        await _refuse_decided(db, fresh)


async def _refuse_decided(db: AsyncSession, request: RegistrationRequest) -> NoReturn:
    by = None
    if request.decided_by is not None:
        by = await db.get(TelegramAccount, request.decided_by)
    raise RegistrationRefused(
        Refusal.ALREADY_DECIDED,
        decided_by=request.decided_by,
        decided_by_name=by.first_name if by is not None else "",
    )


async def _link(
    db: AsyncSession, member_id: int, telegram_user_id: int, org_id: int, now: datetime
) -> Member:
    member = await members.get_member(db=db, member_id=member_id)
    if member is None or member.org_id != org_id or not member.active:
        raise RegistrationRefused(Refusal.STALE)
    if member.telegram_user_id not in (None, telegram_user_id):
        raise RegistrationRefused(Refusal.MEMBER_TAKEN)
    try:
        return await members.link_telegram(
            db=db, member_id=member_id, telegram_user_id=telegram_user_id, now=now
        )
    except members.AlreadyLinked:
        raise RegistrationRefused(Refusal.ACCOUNT_TAKEN) from None


async def _grant_invited_role(
    db: AsyncSession,
    role: Role | str,
    telegram_user_id: int,
    org_id: int,
    granted_by: int | None,
    now: datetime,
) -> Role | None:
    if not is_raised_role(role):
        return None
    role = Role(role)
    await roles.grant_role(
        db=db,
        telegram_user_id=telegram_user_id,
        role=role,
        org_id=org_id,
        granted_by=granted_by,
        now=now,
    )
    await audit.record(
        db=db,
        actor=granted_by,
        action="role.grant",
        target_kind="telegram_account",
        target_id=telegram_user_id,
        org_id=org_id,
        detail={"role": role.value, "via": "invitation"},
        at=now,
    )
    return role
