"""Roster upkeep: the status path (发展党员), transfers and deactivation (停用).

Each change checks the actor's right on the member's branch (and on the destination, for a
transfer) inside the transaction that makes it, refuses with a translatable reason
(`Refused`), and writes an audit row with the before and after values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Final

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.access import Action, Principal, allows, load_principal, may_end_role
from bot.direct_messages import Recipient, tell
from bot.i18n import N_, gettext
from bot.orgs import BRANCH_KINDS
from bot.refusals import MEMBER_GONE, NOT_ALLOWED, Refused
from bot.session_duties import follow_the_roster
from bot.settings import Settings
from storage import audit, member_admin, members, orgs, roles
from storage.models import InactiveReason, Member, MemberStatus, OrgUnit, Role

#: "Developing party members": 入党积极分子 -> 发展对象 -> 预备党员 -> 正式党员.
STATUS_PATH: Final = (
    MemberStatus.ACTIVIST,
    MemberStatus.DEVELOPMENT_TARGET,
    MemberStatus.PROBATIONARY,
    MemberStatus.FULL,
)
STATUS_NAMES: Final[dict[MemberStatus, str]] = {
    MemberStatus.ACTIVIST: N_("activist"),
    MemberStatus.DEVELOPMENT_TARGET: N_("development target"),
    MemberStatus.PROBATIONARY: N_("probationary member"),
    MemberStatus.FULL: N_("full member"),
}
#: Reasons offered for taking someone off the roster (transfers have their own path).
DEACTIVATION_REASONS: Final[dict[InactiveReason, str]] = {
    InactiveReason.LEFT: N_("Left"),
    InactiveReason.DECEASED: N_("Deceased"),
    InactiveReason.OTHER: N_("Other reason"),
}
#: A forward step needs no reason; any other change is a correction and needs one.
STEP: Final = "step"
CORRECTION_REASONS: Final[dict[str, str]] = {
    "mistake": N_("It was recorded wrongly"),
    "other": N_("Other reason"),
}

STALE: Final = N_("This has changed in the meantime. Please open the member card again.")
ROLE_BLOCKS_DEACTIVATION: Final = N_(
    "{name} holds a role in {org} that you may not end, so you cannot take them off the roster."
)
MOVED: Final = N_("{name} has been moved from {source} to {target}.")
ROLE_BLOCKS_TRANSFER: Final = N_(
    "{name} holds a role in {org} that you may not end, so you cannot move them elsewhere."
)


def next_status(status: MemberStatus) -> MemberStatus | None:
    """The next step on the path, or None for a full member."""
    index = STATUS_PATH.index(status)
    return STATUS_PATH[index + 1] if index + 1 < len(STATUS_PATH) else None


async def secretaries(*, db: AsyncSession, org_id: int) -> list[Recipient]:
    """The secretaries of a branch, to tell them about changes to their roster."""
    held = await roles.holders(db=db, org_id=org_id, roles=[Role.SECRETARY])
    return [Recipient(h.telegram_user_id, h.language) for h in held]


async def managed_member(
    *, db: AsyncSession, principal: Principal, member_id: int
) -> tuple[Member, OrgUnit]:
    """The active member and their branch, if the principal may manage members there."""
    member = await members.get_member(db=db, member_id=member_id)
    if member is None or not member.active:
        raise Refused(MEMBER_GONE)
    org = await orgs.get_org(db=db, org_id=member.org_id)
    if org is None or not allows(principal, Action.MANAGE_MEMBERS, org.path):
        raise Refused(NOT_ALLOWED)
    return member, org


@dataclass(frozen=True, slots=True)
class Transferred:
    """A member moved between branches, and the secretaries of both who were told."""

    member_name: str
    from_org: OrgUnit
    to_org: OrgUnit
    told: list[Recipient] = field(default_factory=list)


async def transfer(
    *,
    db: AsyncSession,
    principal: Principal,
    member_id: int,
    from_org_id: int,
    to_org_id: int,
    settings: Settings,
    now: datetime,
) -> Transferred:
    """Move a member to another branch inside the principal's scope; in the same
    transaction they leave the coming sessions of the old branch and are invited to the
    new one's, and the secretaries of both branches (but the actor) are told (`MOVED`)."""
    member, source = await managed_member(db=db, principal=principal, member_id=member_id)
    if source.id != from_org_id:
        raise Refused(STALE)
    target = await orgs.get_org(db=db, org_id=to_org_id)
    if target is None or not target.active or target.kind not in BRANCH_KINDS:
        raise Refused(N_("Members can only be moved to a branch."))
    if target.id == source.id:
        raise Refused(N_("{name} is already in {branch}."), name=member.name, branch=target.name)
    if not allows(principal, Action.MANAGE_MEMBERS, target.path):
        raise Refused(NOT_ALLOWED)
    await end_roles_within(
        db=db,
        principal=principal,
        member=member,
        org=source,
        now=now,
        because="transferred",
        refusal=ROLE_BLOCKS_TRANSFER,
    )
    await member_admin.transfer_member(db=db, member_id=member_id, to_org_id=to_org_id, now=now)
    await audit.record(
        db=db,
        actor=principal.telegram_user_id,
        action="member.transfer",
        target_kind="member",
        target_id=member_id,
        org_id=to_org_id,
        detail={
            "name": member.name,
            "before": {"org_id": from_org_id},
            "after": {"org_id": to_org_id},
        },
        at=now,
    )
    await follow_the_roster(db=db, settings=settings, now=now, member_ids=[member_id])
    told = await secretaries(db=db, org_id=from_org_id)
    told += await secretaries(db=db, org_id=to_org_id)
    told = [someone for someone in told if someone.telegram_user_id != principal.telegram_user_id]
    values = {"name": member.name, "source": source.name, "target": target.name}
    await tell(
        db=db,
        recipients=told,
        render=lambda language: gettext(language, MOVED).format(**values),
        key=f"member.transfer:{member_id}:{now.isoformat()}",
        now=now,
    )
    return Transferred(member.name, source, target, told)


@dataclass(frozen=True, slots=True)
class StatusChanged:
    """A member's new status, recorded on `changed_on`."""

    member_name: str
    before: MemberStatus
    after: MemberStatus
    changed_on: date


async def change_status(
    *,
    db: AsyncSession,
    principal: Principal,
    member_id: int,
    expected: MemberStatus,
    to: MemberStatus,
    reason: str,
    today: date,
    now: datetime,
) -> StatusChanged:
    """One step forward along the path (`reason` STEP), or a correction with a reason.

    `expected` is the status the actor saw; if it changed meanwhile, nothing happens.
    """
    member, org = await managed_member(db=db, principal=principal, member_id=member_id)
    if member.status != expected or to == expected:
        raise Refused(STALE)
    if reason == STEP and next_status(expected) != to:
        raise Refused(N_("A status moves one step at a time; use a correction for anything else."))
    if reason != STEP and reason not in CORRECTION_REASONS:
        raise Refused(STALE)
    await member_admin.set_status(
        db=db,
        member_id=member_id,
        status=to,
        changed_on=today,
        recorded_by=principal.telegram_user_id,
        now=now,
    )
    await audit.record(
        db=db,
        actor=principal.telegram_user_id,
        action="member.status",
        target_kind="member",
        target_id=member_id,
        org_id=org.id,
        detail={
            "name": member.name,
            "before": {"status": expected.value},
            "after": {"status": to.value},
            "changed_on": today.isoformat(),
            "reason": reason,
        },
        at=now,
    )
    return StatusChanged(member.name, expected, to, today)


@dataclass(frozen=True, slots=True)
class Deactivated:
    """A member taken off the roster, and the branch roles that ended with it."""

    member_name: str
    org: OrgUnit
    org_id: int
    telegram_user_id: int | None
    revoked: list[Role] = field(default_factory=list)


async def deactivate(
    *,
    db: AsyncSession,
    principal: Principal,
    member_id: int,
    reason: InactiveReason,
    settings: Settings,
    now: datetime,
) -> Deactivated:
    """Take a member off the roster with a reason (and off the coming sessions).

    Their roles bound inside the branch end too: someone no longer on the roster cannot
    lead it. Roles elsewhere (given by higher levels) are left alone.
    """
    member, org = await managed_member(db=db, principal=principal, member_id=member_id)
    if reason not in DEACTIVATION_REASONS:
        raise Refused(STALE)
    if member.telegram_user_id is not None and member.telegram_user_id == (
        principal.telegram_user_id
    ):
        raise Refused(N_("You cannot take yourself off the roster."))
    revoked = await end_roles_within(
        db=db,
        principal=principal,
        member=member,
        org=org,
        now=now,
        because="deactivated",
        refusal=ROLE_BLOCKS_DEACTIVATION,
    )
    await member_admin.deactivate_member(db=db, member_id=member_id, reason=reason, now=now)
    await audit.record(
        db=db,
        actor=principal.telegram_user_id,
        action="member.deactivate",
        target_kind="member",
        target_id=member_id,
        org_id=org.id,
        detail={
            "name": member.name,
            "before": {"active": True},
            "after": {"active": False, "inactive_reason": reason.value},
            "telegram_user_id": member.telegram_user_id,
        },
        at=now,
    )
    await follow_the_roster(db=db, settings=settings, now=now, member_ids=[member_id])
    return Deactivated(member.name, org, member.org_id, member.telegram_user_id, revoked)


async def end_roles_within(
    *,
    db: AsyncSession,
    principal: Principal,
    member: Member,
    org: OrgUnit,
    now: datetime,
    because: str,
    refusal: str,
) -> list[Role]:
    """End every role of the member bound inside `org`'s subtree, or none of them.

    Someone who leaves a branch (taken off the roster, moved away) cannot keep leading it.
    Each role ends through the one rank rule (`may_end_role`): if the principal could not
    end one of them, the whole change is refused with `refusal` and nothing happens.
    """
    if member.telegram_user_id is None:
        return []
    holder = await load_principal(db=db, telegram_user_id=member.telegram_user_id)
    ending = [grant for grant in holder.grants if grant.org_path.startswith(org.path)]
    if not all(may_end_role(principal, holder, grant) for grant in ending):
        raise Refused(refusal, name=member.name, org=org.name)
    for grant in ending:
        await end_role(
            db=db,
            actor=principal.telegram_user_id,
            member=member,
            role=grant.role,
            org_id=grant.org_id,
            now=now,
            because=because,
        )
    return [grant.role for grant in ending]


async def end_roles_on_leaving(
    *, db: AsyncSession, actor: int | None, member_ids: Sequence[int], now: datetime
) -> list[tuple[int, Role]]:
    """End the roles bound inside the branch each member is about to leave (a transfer
    that is not made from the member card: a roster import), audited one by one like a
    transfer's. Call it before the members move. Returns (member id, role) ended."""
    ended: list[tuple[int, Role]] = []
    for grant in await roles.grants_inside_own_branch(db=db, member_ids=member_ids):
        member = await db.get(Member, grant.member_id)
        if member is None or member.telegram_user_id is None:
            continue
        if await end_role(
            db=db,
            actor=actor,
            member=member,
            role=grant.role,
            org_id=grant.org_id,
            now=now,
            because="transferred",
        ):
            ended.append((grant.member_id, grant.role))
    return ended


async def end_role(
    *,
    db: AsyncSession,
    actor: int | None,
    member: Member,
    role: Role,
    org_id: int,
    now: datetime,
    because: str | None = None,
) -> bool:
    """Revoke one role of a member's account and audit it; False if it was already gone."""
    assert member.telegram_user_id is not None
    removed = await roles.revoke_role(
        db=db, telegram_user_id=member.telegram_user_id, role=role, org_id=org_id
    )
    if removed:
        detail = {"role": role.value, "member_id": member.id, "name": member.name}
        if because is not None:
            detail["because"] = because
        await audit.record(
            db=db,
            actor=actor,
            action="role.revoke",
            target_kind="account",
            target_id=member.telegram_user_id,
            org_id=org_id,
            detail=detail,
            at=now,
        )
    return removed
