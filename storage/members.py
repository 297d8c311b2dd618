"""Members aggregate: roster people and their link to a Telegram account."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models.members import Gender, Member, MemberStatus
from storage.types import utcnow

__all__ = [
    "AlreadyLinked",
    "count_members",
    "count_unlinked",
    "create_member",
    "find_in_branch_by_phone",
    "get_member",
    "link_telegram",
    "list_members",
    "list_unlinked",
    "member_by_telegram",
    "members_with_phones",
]


class AlreadyLinked(Exception):
    """The member, or the Telegram account, is already bound to someone else."""


async def create_member(
    *,
    db: AsyncSession,
    name: str,
    org_id: int,
    status: MemberStatus | str,
    gender: Gender | str = Gender.UNKNOWN,
    phone: str | None = None,
    joined_on: date | None = None,
    party_group_id: int | None = None,
    telegram_user_id: int | None = None,
    now: datetime | None = None,
) -> Member:
    """Add a person to a branch roster."""
    now = now or utcnow()
    member = Member(
        name=name,
        org_id=org_id,
        status=MemberStatus(status),
        gender=Gender(gender),
        phone=phone,
        joined_on=joined_on,
        party_group_id=party_group_id,
        telegram_user_id=telegram_user_id,
        created_at=now,
        updated_at=now,
    )
    db.add(member)
    await db.flush()
    return member


async def get_member(*, db: AsyncSession, member_id: int) -> Member | None:
    """The member with this id, if any."""
    return await db.get(Member, member_id)


async def member_by_telegram(*, db: AsyncSession, telegram_user_id: int) -> Member | None:
    """The active roster person linked to this Telegram account, if any."""
    result = await db.exec(
        select(Member).where(
            Member.telegram_user_id == telegram_user_id, col(Member.active).is_(True)
        )
    )
    return result.first()


async def find_in_branch_by_phone(*, db: AsyncSession, org_id: int, phone: str) -> Member | None:
    """The active member of a branch with this (normalised) phone number, if any."""
    result = await db.exec(
        select(Member)
        .where(Member.org_id == org_id, Member.phone == phone, col(Member.active).is_(True))
        .order_by(col(Member.id))
    )
    return result.first()


async def list_members(
    *,
    db: AsyncSession,
    org_ids: Sequence[int],
    active: bool | None = True,
    offset: int = 0,
    limit: int | None = None,
) -> list[Member]:
    """Members of these orgs, by name; `active=None` lists everyone."""
    stmt = select(Member).where(col(Member.org_id).in_(list(org_ids)))
    if active is not None:
        stmt = stmt.where(col(Member.active).is_(active))
    stmt = stmt.order_by(col(Member.name), col(Member.id)).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list((await db.exec(stmt)).all())


async def count_members(
    *, db: AsyncSession, org_ids: Sequence[int], active: bool | None = True
) -> int:
    """How many members `list_members` would list without paging."""
    stmt = select(func.count()).select_from(Member).where(col(Member.org_id).in_(list(org_ids)))
    if active is not None:
        stmt = stmt.where(col(Member.active).is_(active))
    return int((await db.exec(stmt)).one())


def _unlinked_in(org_id: int) -> Any:
    return (
        Member.org_id == org_id,
        col(Member.active).is_(True),
        col(Member.telegram_user_id).is_(None),
    )


async def list_unlinked(
    *, db: AsyncSession, org_id: int, offset: int = 0, limit: int = 8
) -> list[Member]:
    """Active members of a branch not yet linked to a Telegram account, by name."""
    result = await db.exec(
        select(Member)
        .where(*_unlinked_in(org_id))
        .order_by(col(Member.name), col(Member.id))
        .offset(offset)
        .limit(limit)
    )
    return list(result.all())


async def count_unlinked(*, db: AsyncSession, org_id: int) -> int:
    """How many members `list_unlinked` would list without paging."""
    result = await db.exec(select(func.count()).select_from(Member).where(*_unlinked_in(org_id)))
    return int(result.one())


async def link_telegram(
    *, db: AsyncSession, member_id: int, telegram_user_id: int, now: datetime | None = None
) -> Member:
    """Bind a Telegram account to a roster person; one account, one person.

    A row taken off the roster gives the account up: someone who left and came back (or
    was taken off by mistake and invited again) can register. The audit log of the
    deactivation keeps which account the old row had.
    """
    member = await db.get(Member, member_id, with_for_update=True)
    if member is None:
        raise LookupError(f"no member {member_id}")
    if member.telegram_user_id not in (None, telegram_user_id):
        raise AlreadyLinked(f"member {member_id} is linked to another account")
    other = await member_by_telegram(db=db, telegram_user_id=telegram_user_id)
    if other is not None and other.id != member_id:
        raise AlreadyLinked(f"account {telegram_user_id} is linked to member {other.id}")
    await db.exec(
        update(Member)
        .where(
            col(Member.telegram_user_id) == telegram_user_id,
            col(Member.active).is_(False),
            col(Member.id) != member_id,
        )
        .values(telegram_user_id=None)
    )
    member.telegram_user_id = telegram_user_id
    member.updated_at = now or utcnow()
    db.add(member)
    await db.flush()
    return member


async def members_with_phones(*, db: AsyncSession, phones: Sequence[str]) -> list[Member]:
    """Active members (of any branch) whose normalised phone is one of ``phones``."""
    if not phones:
        return []
    result = await db.exec(
        select(Member)
        .where(col(Member.phone).in_(list(phones)), col(Member.active).is_(True))
        .order_by(col(Member.id))
    )
    return list(result.all())
