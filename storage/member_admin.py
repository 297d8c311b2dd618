"""Members aggregate, the administration side: roster pages, transfers, status, deactivation.

Kept apart from ``storage.members`` (registration's basics) so the two grow independently.
Every write here is one small change to one member inside the caller's transaction; the
caller writes the audit row in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models.audit import AuditLog
from storage.models.members import InactiveReason, Member, MemberStatus, MemberStatusChange
from storage.models.orgs import OrgUnit
from storage.types import utcnow

__all__ = [
    "ProbationDue",
    "RosterCounts",
    "count_linked",
    "deactivate_member",
    "due_probationary",
    "list_linked",
    "probation_started_on",
    "roster_counts",
    "set_status",
    "transfer_member",
]


class RosterCounts(NamedTuple):
    """Active people on a roster, and how many of them have linked Telegram."""

    total: int
    linked: int


class ProbationDue(NamedTuple):
    """A probationary member whose year is up (``since``: when probation began)."""

    member_id: int
    name: str
    org_id: int
    since: date


def _linked_under(path: str) -> tuple[sa.ColumnElement[bool], ...]:
    in_subtree = select(OrgUnit.id).where(col(OrgUnit.path).startswith(path))
    return (
        col(Member.org_id).in_(in_subtree),
        col(Member.active).is_(True),
        col(Member.telegram_user_id).is_not(None),
    )


async def roster_counts(*, db: AsyncSession, org_ids: Sequence[int]) -> RosterCounts:
    """Active members of these orgs and the linked ones among them, in one query."""
    linked = func.count(col(Member.telegram_user_id))
    result = await db.exec(
        select(func.count(), linked)
        .select_from(Member)
        .where(col(Member.org_id).in_(list(org_ids)), col(Member.active).is_(True))
    )
    total, linked_count = result.one()
    return RosterCounts(int(total), int(linked_count))


async def list_linked(
    *, db: AsyncSession, under_path: str, offset: int = 0, limit: int = 8
) -> list[Member]:
    """Active members in the subtree at ``under_path`` who have linked Telegram, by name."""
    result = await db.exec(
        select(Member)
        .where(*_linked_under(under_path))
        .order_by(col(Member.name), col(Member.id))
        .offset(offset)
        .limit(limit)
    )
    return list(result.all())


async def count_linked(*, db: AsyncSession, under_path: str) -> int:
    """How many members `list_linked` would list without paging."""
    result = await db.exec(
        select(func.count()).select_from(Member).where(*_linked_under(under_path))
    )
    return int(result.one())


async def transfer_member(
    *, db: AsyncSession, member_id: int, to_org_id: int, now: datetime | None = None
) -> Member:
    """Move a member to another branch; the old branch's party group no longer applies."""
    member = await db.get(Member, member_id, with_for_update=True)
    if member is None:
        raise LookupError(f"no member {member_id}")
    member.org_id = to_org_id
    member.party_group_id = None
    member.updated_at = now or utcnow()
    db.add(member)
    await db.flush()
    return member


async def set_status(
    *,
    db: AsyncSession,
    member_id: int,
    status: MemberStatus,
    changed_on: date,
    recorded_by: int | None,
    now: datetime | None = None,
) -> MemberStatusChange:
    """Change a member's status and keep the step in the history."""
    now = now or utcnow()
    member = await db.get(Member, member_id, with_for_update=True)
    if member is None:
        raise LookupError(f"no member {member_id}")
    change = MemberStatusChange(
        member_id=member_id,
        from_status=member.status,
        to_status=status,
        changed_on=changed_on,
        recorded_by=recorded_by,
        created_at=now,
    )
    member.status = status
    member.updated_at = now
    db.add_all([member, change])
    await db.flush()
    return change


async def deactivate_member(
    *,
    db: AsyncSession,
    member_id: int,
    reason: InactiveReason,
    note: str | None = None,
    now: datetime | None = None,
) -> Member:
    """Take a member off the roster (never deleted: history keeps pointing at the row).

    The Telegram link stays on the row as history until that account registers again
    (``members.link_telegram``); inactive members are not listed and are not sent anything.
    """
    member = await db.get(Member, member_id, with_for_update=True)
    if member is None:
        raise LookupError(f"no member {member_id}")
    member.active = False
    member.inactive_reason = reason
    member.inactive_note = note
    member.updated_at = now or utcnow()
    db.add(member)
    await db.flush()
    return member


def _probation_start() -> sa.ColumnElement[date | None]:
    """Per member: the latest date they became probationary, else the day they joined."""
    latest = (
        select(func.max(MemberStatusChange.changed_on))
        .where(
            MemberStatusChange.member_id == Member.id,
            MemberStatusChange.to_status == MemberStatus.PROBATIONARY,
        )
        .correlate(Member)
        .scalar_subquery()
    )
    return func.coalesce(latest, Member.joined_on)


async def probation_started_on(*, db: AsyncSession, member_id: int) -> date | None:
    """When this member's probation began (None if not known)."""
    result = await db.exec(select(_probation_start()).where(Member.id == member_id))
    return result.first()


async def due_probationary(
    *, db: AsyncSession, started_on_or_before: date, reminded_action: str
) -> list[ProbationDue]:
    """Active probationary members whose probation began on or before the given day.

    Skips members already reminded (an audit row ``reminded_action`` about them written
    after their last status change), so each probation year is reported once.
    """
    start = _probation_start().label("since")
    last_change = (
        select(func.max(MemberStatusChange.created_at))
        .where(MemberStatusChange.member_id == Member.id)
        .correlate(Member)
        .scalar_subquery()
    )
    reminded = (
        select(AuditLog.id)
        .where(
            AuditLog.action == reminded_action,
            AuditLog.target_kind == "member",
            AuditLog.target_id == Member.id,
            sa.or_(last_change.is_(None), col(AuditLog.at) >= last_change),
        )
        .correlate(Member)
        .exists()
    )
    stmt = (
        select(Member.id, Member.name, Member.org_id, start)
        .where(
            Member.status == MemberStatus.PROBATIONARY,
            col(Member.active).is_(True),
            start <= started_on_or_before,
            ~reminded,
        )
        .order_by(col(Member.org_id), col(Member.name), col(Member.id))
    )
    result = await db.exec(stmt)
    return [
        ProbationDue(member_id, name, org_id, since)
        for member_id, name, org_id, since in result.all()
        if member_id is not None and since is not None  # always: narrows the types
    ]
