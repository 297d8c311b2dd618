"""Giving and removing roles (/appoint): who may give what to whom, and where.

The policy itself is bot/access.py (`may_give_role`, `may_end_role`); this module
applies it to a chosen member and org inside the transaction that writes the grant and
its audit row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.access import (
    Action,
    Grant,
    Principal,
    allows,
    load_principal,
    may_end_role,
    may_give_role,
)
from bot.direct_messages import Recipient, recipient, tell
from bot.i18n import N_, gettext
from bot.refusals import MEMBER_GONE, NOT_ALLOWED, Refused
from bot.roster import end_role
from storage import audit, members, orgs, roles
from storage.models import Member, OrgUnit, Role

ROLE_NAMES: Final[dict[Role, str]] = {
    Role.MEMBER: N_("party member"),
    Role.DEPUTY_SECRETARY: N_("deputy secretary"),
    Role.SECRETARY: N_("secretary"),
    Role.TOWNSHIP_ORGANISER: N_("township organiser"),
    Role.COUNTY_STAFF: N_("county organisation staff"),
    Role.INSPECTOR: N_("inspector"),
    Role.ADMIN: N_("administrator"),
}
#: What the person whose role changed is told (the actor sees their own confirmation).
APPOINTED: Final = N_(
    "You have been appointed {role} of {org}. Send /help to see what you can do."
)
DISMISSED: Final = N_("You are no longer {role} of {org}.")
#: Roles /appoint can give; being a member comes from the roster, not from a grant.
APPOINTABLE: Final = tuple(role for role in Role if role is not Role.MEMBER)


def givable_roles(principal: Principal, org: OrgUnit) -> list[Role]:
    """The roles the principal may give at this org, highest first."""
    return [
        role
        for role in reversed(APPOINTABLE)
        if may_give_role(principal, role, org.path, org.kind, via=Action.APPOINT)
    ]


@dataclass(frozen=True, slots=True)
class Candidate:
    """A linked member chosen for /appoint, with their account and the roles they hold."""

    member: Member
    branch: OrgUnit
    holder: Principal


async def candidate(*, db: AsyncSession, member_id: int) -> Candidate:
    """The active, Telegram-linked member behind a button, with their current roles."""
    member = await members.get_member(db=db, member_id=member_id)
    if member is None or not member.active:
        raise Refused(MEMBER_GONE)
    if member.telegram_user_id is None:
        raise Refused(N_("This person has not linked Telegram yet."))
    branch = await orgs.get_org(db=db, org_id=member.org_id)
    if branch is None:
        raise Refused(MEMBER_GONE)
    holder = await load_principal(db=db, telegram_user_id=member.telegram_user_id)
    return Candidate(member, branch, holder)


async def candidate_in(
    *, db: AsyncSession, principal: Principal, org_id: int, member_id: int
) -> tuple[OrgUnit, Candidate]:
    """The org (inside the principal's APPOINT scope) and a candidate inside that org.

    Every /appoint screen and change resolves its button's ids here first, so a forged
    button names nobody outside the principal's scope: the refusal comes before any read
    of the person's name or roles could be shown.
    """
    org = await orgs.get_org(db=db, org_id=org_id)
    if org is None or not allows(principal, Action.APPOINT, org.path):
        raise Refused(NOT_ALLOWED)
    member = await members.get_member(db=db, member_id=member_id)
    if member is None:
        raise Refused(MEMBER_GONE)
    branch = await orgs.get_org(db=db, org_id=member.org_id)
    if branch is None or not branch.path.startswith(org.path):
        raise Refused(NOT_ALLOWED)
    return org, await candidate(db=db, member_id=member_id)


@dataclass(frozen=True, slots=True)
class RoleChange:
    """A role given or removed, and who was told about it."""

    member_name: str
    role: Role
    org: OrgUnit
    holder: Recipient


async def _tell_holder(
    db: AsyncSession, telegram_user_id: int, change: str, role: Role, org: OrgUnit, now: datetime
) -> Recipient:
    """Queue the news of ``change`` ("role.grant" or "role.revoke", as audited) for the
    person whose role changed; they are who was told."""
    text = APPOINTED if change == "role.grant" else DISMISSED
    found = await recipient(db=db, telegram_user_id=telegram_user_id)
    holder = found or Recipient(telegram_user_id, "zh")
    await tell(
        db=db,
        recipients=[holder],
        render=lambda language: gettext(language, text).format(
            role=gettext(language, ROLE_NAMES[role]), org=org.name
        ),
        key=f"{change}:{role.value}:{org.id}:{now.isoformat()}",
        now=now,
    )
    return holder


async def appoint(
    *,
    db: AsyncSession,
    principal: Principal,
    member_id: int,
    role: Role,
    org_id: int,
    now: datetime,
) -> RoleChange:
    """Give `role` at `org_id` to the member (who must be inside that org's subtree)."""
    chosen = await candidate(db=db, member_id=member_id)
    org = await orgs.get_org(db=db, org_id=org_id)
    if org is None or not org.active or not chosen.branch.path.startswith(org.path):
        raise Refused(NOT_ALLOWED)
    if not may_give_role(principal, role, org.path, org.kind, via=Action.APPOINT):
        raise Refused(NOT_ALLOWED)
    if Grant(role, org_id, org.path) in chosen.holder.grants:
        raise Refused(N_("{name} already has this role here."), name=chosen.member.name)
    assert chosen.member.telegram_user_id is not None
    await roles.grant_role(
        db=db,
        telegram_user_id=chosen.member.telegram_user_id,
        role=role,
        org_id=org_id,
        granted_by=principal.telegram_user_id,
        now=now,
    )
    await audit.record(
        db=db,
        actor=principal.telegram_user_id,
        action="role.grant",
        target_kind="account",
        target_id=chosen.member.telegram_user_id,
        org_id=org_id,
        detail={"role": role.value, "member_id": member_id, "name": chosen.member.name},
        at=now,
    )
    holder = await _tell_holder(db, chosen.member.telegram_user_id, "role.grant", role, org, now)
    return RoleChange(chosen.member.name, role, org, holder)


async def dismiss(
    *,
    db: AsyncSession,
    principal: Principal,
    member_id: int,
    role: Role,
    org_id: int,
    now: datetime,
) -> RoleChange:
    """Remove the member's `role` at `org_id`, if the principal could have given it."""
    chosen = await candidate(db=db, member_id=member_id)
    org = await orgs.get_org(db=db, org_id=org_id)
    grant = Grant(role, org_id, org.path if org is not None else "")
    if org is None or grant not in chosen.holder.grants:
        raise Refused(N_("This role has already been removed."))
    if not may_end_role(principal, chosen.holder, grant):
        if role is Role.ADMIN and chosen.holder.telegram_user_id == principal.telegram_user_id:
            raise Refused(N_("You cannot remove your own last administrator role."))
        raise Refused(NOT_ALLOWED)
    await end_role(
        db=db,
        actor=principal.telegram_user_id,
        member=chosen.member,
        role=role,
        org_id=org_id,
        now=now,
    )
    assert chosen.member.telegram_user_id is not None
    holder = await _tell_holder(db, chosen.member.telegram_user_id, "role.revoke", role, org, now)
    return RoleChange(chosen.member.name, role, org, holder)


async def change_role(
    *,
    db: AsyncSession,
    actor: Principal,
    org_id: int,
    member_id: int,
    role: Role,
    grant_org_id: int,
    give: bool,
    now: datetime,
) -> RoleChange:
    """/appoint's confirm buttons: give `role` at `grant_org_id`, or end it, for a member
    found through the screen of `org_id` (both inside the actor's scope)."""
    await candidate_in(db=db, principal=actor, org_id=org_id, member_id=member_id)
    change = appoint if give else dismiss
    return await change(
        db=db,
        principal=actor,
        member_id=member_id,
        role=role,
        org_id=grant_org_id,
        now=now,
    )
