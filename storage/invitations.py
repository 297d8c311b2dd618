"""Invitations aggregate: invitation codes, code attempts and registration requests.

Codes are stored only as their sha256. A use is claimed with one conditional UPDATE (the
CHECK ``uses <= max_uses`` backs it up), and a registration request is decided with one
conditional UPDATE too, so two racing taps can never both win.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

import sqlalchemy as sa
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models.accounts import Role
from storage.models.invitations import (
    CodeAttempt,
    Invitation,
    RegistrationRequest,
    RegistrationState,
)
from storage.models.orgs import OrgUnit

__all__ = [
    "InvitationRow",
    "claim_use",
    "count_invitations",
    "create_invitation",
    "create_request",
    "decide_request",
    "failed_attempt_times",
    "get_by_hash",
    "get_invitation",
    "get_request",
    "list_invitations",
    "pending_request_of",
    "record_attempt",
    "revoke_invitation",
]


class InvitationRow(NamedTuple):
    """An invitation with its org, for listings (who may revoke it depends on the org)."""

    invitation: Invitation
    org: OrgUnit

    @property
    def org_name(self) -> str:
        return self.org.name


async def create_invitation(
    *,
    db: AsyncSession,
    code_hash: str,
    org_id: int,
    role: Role | str,
    created_by: int | None,
    max_uses: int,
    expires_at: datetime,
    now: datetime,
) -> Invitation:
    """Store a new invitation (its code only as ``code_hash``)."""
    invitation = Invitation(
        code_hash=code_hash,
        org_id=org_id,
        role=Role(role),
        created_by=created_by,
        max_uses=max_uses,
        uses=0,
        expires_at=expires_at,
        created_at=now,
    )
    db.add(invitation)
    await db.flush()
    return invitation


async def get_invitation(*, db: AsyncSession, invitation_id: int) -> Invitation | None:
    """The invitation with this id, read fresh."""
    return await db.get(Invitation, invitation_id, populate_existing=True)


async def get_by_hash(*, db: AsyncSession, code_hash: str) -> Invitation | None:
    """The invitation whose code hashes to ``code_hash``, if any."""
    result = await db.exec(select(Invitation).where(Invitation.code_hash == code_hash))
    return result.first()


def _in_subtrees(paths: Sequence[str]) -> sa.ColumnElement[bool]:
    return sa.or_(*(col(OrgUnit.path).startswith(path) for path in paths))


async def list_invitations(
    *,
    db: AsyncSession,
    org_paths: Sequence[str],
    now: datetime,
    offset: int = 0,
    limit: int = 8,
) -> list[InvitationRow]:
    """Invitations of orgs inside any of ``org_paths``: usable ones first, newest first."""
    if not org_paths:
        return []
    usable = sa.and_(
        col(Invitation.revoked_at).is_(None),
        col(Invitation.expires_at) > now,
        col(Invitation.uses) < col(Invitation.max_uses),
    )
    result = await db.exec(
        select(Invitation, OrgUnit)
        .join(OrgUnit, col(OrgUnit.id) == col(Invitation.org_id))
        .where(_in_subtrees(org_paths))
        .order_by(
            sa.case((usable, 0), else_=1),
            col(Invitation.created_at).desc(),
            col(Invitation.id).desc(),
        )
        .offset(offset)
        .limit(limit)
    )
    return [InvitationRow(invitation, org) for invitation, org in result.all()]


async def count_invitations(*, db: AsyncSession, org_paths: Sequence[str]) -> int:
    """How many invitations ``list_invitations`` would list without paging."""
    if not org_paths:
        return 0
    result = await db.exec(
        select(sa.func.count())
        .select_from(Invitation)
        .join(OrgUnit, col(OrgUnit.id) == col(Invitation.org_id))
        .where(_in_subtrees(org_paths))
    )
    return int(result.one())


async def revoke_invitation(*, db: AsyncSession, invitation_id: int, now: datetime) -> bool:
    """Mark the invitation revoked; False if it already was (or does not exist)."""
    result = await db.exec(
        update(Invitation)
        .where(col(Invitation.id) == invitation_id, col(Invitation.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    return bool(result.rowcount)


async def claim_use(*, db: AsyncSession, invitation_id: int, now: datetime) -> bool:
    """Spend one use if the invitation is still usable; False if it is not (any reason)."""
    result = await db.exec(
        update(Invitation)
        .where(
            col(Invitation.id) == invitation_id,
            col(Invitation.uses) < col(Invitation.max_uses),
            col(Invitation.revoked_at).is_(None),
            col(Invitation.expires_at) > now,
        )
        .values(uses=col(Invitation.uses) + 1)
    )
    return bool(result.rowcount)


async def record_attempt(
    *, db: AsyncSession, telegram_user_id: int, succeeded: bool, at: datetime
) -> None:
    """Log one code attempt (the throttle counts the failed ones)."""
    db.add(CodeAttempt(telegram_user_id=telegram_user_id, succeeded=succeeded, at=at))
    await db.flush()


async def failed_attempt_times(
    *, db: AsyncSession, telegram_user_id: int, since: datetime, limit: int
) -> list[datetime]:
    """Times of the user's failed attempts after ``since``, newest first, at most ``limit``."""
    result = await db.exec(
        select(CodeAttempt.at)
        .where(
            CodeAttempt.telegram_user_id == telegram_user_id,
            col(CodeAttempt.succeeded).is_(False),
            col(CodeAttempt.at) > since,
        )
        .order_by(col(CodeAttempt.at).desc(), col(CodeAttempt.id).desc())
        .limit(limit)
    )
    return list(result.all())


async def create_request(
    *,
    db: AsyncSession,
    telegram_user_id: int,
    invitation_id: int,
    org_id: int,
    claimed_name: str,
    phone: str | None,
    now: datetime,
) -> RegistrationRequest:
    """Open a pending registration request."""
    request = RegistrationRequest(
        telegram_user_id=telegram_user_id,
        invitation_id=invitation_id,
        org_id=org_id,
        claimed_name=claimed_name,
        phone=phone,
        state=RegistrationState.PENDING,
        created_at=now,
    )
    db.add(request)
    await db.flush()
    return request


async def get_request(*, db: AsyncSession, request_id: int) -> RegistrationRequest | None:
    """The registration request with this id, read fresh."""
    return await db.get(RegistrationRequest, request_id, populate_existing=True)


async def pending_request_of(
    *, db: AsyncSession, telegram_user_id: int
) -> RegistrationRequest | None:
    """The user's registration request still waiting for a decision, if any."""
    result = await db.exec(
        select(RegistrationRequest)
        .where(
            RegistrationRequest.telegram_user_id == telegram_user_id,
            RegistrationRequest.state == RegistrationState.PENDING,
        )
        .order_by(col(RegistrationRequest.id).desc())
    )
    return result.first()


async def decide_request(
    *,
    db: AsyncSession,
    request_id: int,
    state: RegistrationState,
    decided_by: int | None,
    member_id: int | None,
    now: datetime,
) -> bool:
    """Move a pending request to ``state``; False if someone decided it first."""
    result = await db.exec(
        update(RegistrationRequest)
        .where(
            col(RegistrationRequest.id) == request_id,
            col(RegistrationRequest.state) == RegistrationState.PENDING,
        )
        .values(state=state, decided_by=decided_by, decided_at=now, member_id=member_id)
    )
    return bool(result.rowcount)
