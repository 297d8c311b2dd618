"""Role grants: a role bound to an org node reaches that node's whole subtree."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy.orm import aliased
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage._sql import insert_ignore
from storage.models.accounts import Role, RoleGrant, TelegramAccount
from storage.models.members import Member
from storage.models.orgs import OrgUnit
from storage.types import utcnow

__all__ = [
    "BranchGrant",
    "Holder",
    "RoleScope",
    "grant_role",
    "grants_inside_own_branch",
    "holders",
    "revoke_role",
    "roles_of",
]


class RoleScope(NamedTuple):
    """One role of a user and where it applies (``org_path`` answers subtree questions)."""

    role: Role
    org_id: int
    org_path: str


class Holder(NamedTuple):
    """Someone holding a role on an org, with the language to write to them in."""

    telegram_user_id: int
    language: str


class BranchGrant(NamedTuple):
    """A role of a member's account bound inside the branch the member is on."""

    member_id: int
    role: Role
    org_id: int


async def grant_role(
    *,
    db: AsyncSession,
    telegram_user_id: int,
    role: Role | str,
    org_id: int,
    granted_by: int | None,
    now: datetime | None = None,
) -> RoleGrant:
    """Grant ``role`` over ``org_id``; granting it again returns the existing grant as is."""
    role = Role(role)
    await insert_ignore(
        db,
        RoleGrant,
        {
            "telegram_user_id": telegram_user_id,
            "role": role,
            "org_id": org_id,
            "granted_by": granted_by,
            "granted_at": now or utcnow(),
        },
        conflict=["telegram_user_id", "role", "org_id"],
    )
    result = await db.exec(
        select(RoleGrant)
        .where(
            RoleGrant.telegram_user_id == telegram_user_id,
            RoleGrant.role == role,
            RoleGrant.org_id == org_id,
        )
        .execution_options(populate_existing=True)
    )
    return result.one()


async def revoke_role(
    *, db: AsyncSession, telegram_user_id: int, role: Role | str, org_id: int
) -> bool:
    """Remove the grant; False if there was none."""
    result = await db.exec(
        delete(RoleGrant).where(
            col(RoleGrant.telegram_user_id) == telegram_user_id,
            col(RoleGrant.role) == Role(role),
            col(RoleGrant.org_id) == org_id,
        )
    )
    return bool(result.rowcount)


async def roles_of(*, db: AsyncSession, telegram_user_id: int) -> list[RoleScope]:
    """Every role the user holds, with the path of the org it is bound to."""
    result = await db.exec(
        select(RoleGrant.role, RoleGrant.org_id, OrgUnit.path)
        .join(OrgUnit, col(OrgUnit.id) == col(RoleGrant.org_id))
        .where(RoleGrant.telegram_user_id == telegram_user_id)
        .order_by(col(OrgUnit.path), col(RoleGrant.role))
    )
    return [RoleScope(Role(role), org_id, path) for role, org_id, path in result.all()]


async def holders(*, db: AsyncSession, org_id: int, roles: Sequence[Role]) -> list[Holder]:
    """Who holds one of ``roles`` bound exactly to ``org_id`` (e.g. a branch's secretaries)."""
    result = await db.exec(
        select(TelegramAccount.telegram_user_id, TelegramAccount.language)
        .join(RoleGrant, col(RoleGrant.telegram_user_id) == col(TelegramAccount.telegram_user_id))
        .where(RoleGrant.org_id == org_id, col(RoleGrant.role).in_([Role(r) for r in roles]))
        .distinct()
        .order_by(col(TelegramAccount.telegram_user_id))
    )
    return [Holder(int(user_id), str(language)) for user_id, language in result.all()]


async def grants_inside_own_branch(
    *, db: AsyncSession, member_ids: Sequence[int]
) -> list[BranchGrant]:
    """Roles of the members' accounts bound inside the subtree of their own branch (what
    they lose on leaving it), in one query."""
    if not member_ids:
        return []
    branch, bound = aliased(OrgUnit), aliased(OrgUnit)
    result = await db.exec(
        select(col(Member.id), col(RoleGrant.role), col(RoleGrant.org_id))
        .join(branch, col(branch.id) == col(Member.org_id))
        .join(RoleGrant, col(RoleGrant.telegram_user_id) == col(Member.telegram_user_id))
        .join(bound, col(bound.id) == col(RoleGrant.org_id))
        .where(col(Member.id).in_(list(member_ids)), col(bound.path).startswith(branch.path))
        .order_by(col(Member.id), col(RoleGrant.org_id), col(RoleGrant.role))
    )
    return [
        BranchGrant(member, Role(role), org)
        for member, role, org in result.all()
        if member is not None
    ]
