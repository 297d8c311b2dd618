"""Notices aggregate: audiences, the notice itself, 已阅 (acks), progress and greetings.

Every count here (audience sizes, delivery progress, ack rates, who has not acked) is one
SQL aggregate; nothing walks rows in Python. Audiences are org subtrees (materialised
paths), optionally narrowed to a member status or to holders of a role.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.deliveries import BLOCKED_ERROR
from storage.models import (
    AttachmentKind,
    Delivery,
    DeliveryState,
    Member,
    MemberStatus,
    Notice,
    OrgUnit,
    Role,
    RoleGrant,
    TelegramAccount,
)

__all__ = [
    "AckResult",
    "AudienceCounts",
    "BirthdayMember",
    "DeliveryCounts",
    "NoticeSummary",
    "ProgressTarget",
    "Reader",
    "UnackedGroup",
    "acknowledge",
    "audience_counts",
    "birthday_members",
    "close_progress",
    "create_notice",
    "delivery_counts",
    "due_ack_reminders",
    "get_notice",
    "greetings_enabled",
    "open_progress",
    "recent_notices",
    "recipients",
    "set_greetings",
    "unacked_by_branch",
    "unacked_names",
    "unacked_recipients",
    "unreachable_in_audience",
    "unreachable_names",
]

#: Member statuses that have joined the party, so have a political birthday.
JOINED = (MemberStatus.FULL, MemberStatus.PROBATIONARY)


class Reader(NamedTuple):
    """Someone a notice goes to: their chat, roster entry (if any) and language."""

    chat_id: int
    member_id: int | None
    language: str


class AudienceCounts(NamedTuple):
    """Who of an audience can get a notice on Telegram, and who cannot."""

    reachable: int
    no_telegram: int
    blocked: int

    @property
    def unreachable(self) -> int:
        return self.no_telegram + self.blocked


class DeliveryCounts(NamedTuple):
    """Where a notice's deliveries stand."""

    total: int
    sent: int
    waiting: int  # pending, being sent, or failed and due to be retried
    failed: int  # gave up (not because the person blocked the bot)
    unreachable: int  # the person blocked the bot (403)
    acked: int  # tapped 已阅

    @property
    def finished(self) -> bool:
        return self.waiting == 0


class NoticeSummary(NamedTuple):
    """One line of /notices: the notice and its ack rate."""

    id: int
    org_name: str
    created_at: datetime
    text: str
    requires_ack: bool
    total: int
    delivered: int
    acked: int


class UnackedGroup(NamedTuple):
    """How many in one branch (of one township) have not acked (已阅) a notice."""

    township: str | None
    branch: str | None
    unacked: int


class ProgressTarget(NamedTuple):
    """A notice whose sender's confirmation message still shows progress."""

    notice_id: int
    chat_id: int
    message_id: int
    language: str


class BirthdayMember(NamedTuple):
    """A member whose political birthday is today, and where to greet them."""

    member_id: int
    chat_id: int
    name: str
    language: str
    joined_on: date
    branch: str


class AckResult(StrEnum):
    ACKNOWLEDGED = "acknowledged"
    ALREADY = "already"
    UNKNOWN = "unknown"


# --- audiences -------------------------------------------------------------------------------


def _within(paths: Sequence[str]) -> Any:
    """Org units inside any of these subtrees (no subtrees: none, never all)."""
    return sa.or_(sa.false(), *(col(OrgUnit.path).startswith(path) for path in paths))


def _audience(paths: Sequence[str], status: MemberStatus | None, role: Role | None) -> Any:
    """The audience as rows of (member_id, chat_id, name, language, blocked_at).

    Members: active people on the rosters of these subtrees (``chat_id`` NULL when not on
    Telegram). A role: the accounts holding it on a unit of these subtrees, with their
    roster entry if they have one.
    """
    if role is None:
        stmt: Any = (
            sa.select(
                col(Member.id).label("member_id"),
                col(Member.telegram_user_id).label("chat_id"),
                col(Member.name).label("name"),
                col(TelegramAccount.language).label("language"),
                col(TelegramAccount.blocked_at).label("blocked_at"),
            )
            .join(OrgUnit, col(OrgUnit.id) == col(Member.org_id))
            .outerjoin(
                TelegramAccount,
                col(TelegramAccount.telegram_user_id) == col(Member.telegram_user_id),
            )
            .where(col(Member.active).is_(True), _within(paths))
        )
        if status is not None:
            stmt = stmt.where(col(Member.status) == status)
        return stmt.subquery()
    member = aliased(Member)
    return (
        sa.select(
            col(member.id).label("member_id"),
            col(TelegramAccount.telegram_user_id).label("chat_id"),
            sa.func.coalesce(col(member.name), col(TelegramAccount.first_name)).label("name"),
            col(TelegramAccount.language).label("language"),
            col(TelegramAccount.blocked_at).label("blocked_at"),
        )
        .join(RoleGrant, col(RoleGrant.telegram_user_id) == col(TelegramAccount.telegram_user_id))
        .join(OrgUnit, col(OrgUnit.id) == col(RoleGrant.org_id))
        .outerjoin(
            member,
            sa.and_(
                col(member.telegram_user_id) == col(TelegramAccount.telegram_user_id),
                col(member.active).is_(True),
            ),
        )
        .where(col(RoleGrant.role) == role, _within(paths))
        .distinct()
        .subquery()
    )


def _reachable(people: Any) -> Any:
    return sa.and_(people.c.chat_id.is_not(None), people.c.blocked_at.is_(None))


async def _rows(db: AsyncSession, stmt: Any) -> Sequence[Any]:
    """Run a Core SELECT in the session's transaction (after flushing pending objects)."""
    await db.flush()
    connection = await db.connection()
    return (await connection.execute(stmt)).all()


async def audience_counts(
    *,
    db: AsyncSession,
    paths: Sequence[str],
    status: MemberStatus | None = None,
    role: Role | None = None,
) -> AudienceCounts:
    """How many of the audience can get a notice, are not on Telegram, or blocked the bot."""
    people = _audience(paths, status, role)
    result = await _rows(
        db,
        sa.select(
            sa.func.count().filter(_reachable(people)),
            sa.func.count().filter(people.c.chat_id.is_(None)),
            sa.func.count().filter(people.c.blocked_at.is_not(None)),
        ).select_from(people),
    )
    reachable, no_telegram, blocked = result[0]
    return AudienceCounts(int(reachable), int(no_telegram), int(blocked))


async def unreachable_in_audience(
    *,
    db: AsyncSession,
    paths: Sequence[str],
    status: MemberStatus | None = None,
    role: Role | None = None,
    limit: int = 30,
) -> list[str]:
    """Names of those the notice cannot reach on Telegram, to be told in person."""
    people = _audience(paths, status, role)
    result = await _rows(
        db,
        sa.select(people.c.name)
        .where(sa.not_(_reachable(people)))
        .order_by(people.c.name, people.c.member_id)
        .limit(limit),
    )
    return [str(name) for (name,) in result]


async def recipients(
    *,
    db: AsyncSession,
    paths: Sequence[str],
    status: MemberStatus | None = None,
    role: Role | None = None,
) -> list[Reader]:
    """Everyone of the audience a notice can reach: one row per Telegram chat."""
    people = _audience(paths, status, role)
    result = await _rows(
        db,
        sa.select(
            people.c.chat_id, sa.func.min(people.c.member_id), sa.func.min(people.c.language)
        )
        .where(_reachable(people))
        .group_by(people.c.chat_id)
        .order_by(people.c.chat_id),
    )
    return [Reader(int(chat), member, str(lang)) for chat, member, lang in result]


# --- the notice ------------------------------------------------------------------------------


async def create_notice(
    *,
    db: AsyncSession,
    org_id: int,
    sender_telegram_id: int,
    text: str,
    parse_mode: str | None,
    attachment_kind: AttachmentKind | None,
    attachment_file_id: str | None,
    audience: dict[str, Any],
    requires_ack: bool,
    ack_reminder_after_minutes: int,
    progress_chat_id: int | None,
    progress_message_id: int | None,
    now: datetime,
) -> Notice:
    """Record a notice (its deliveries are queued by the caller in the same transaction)."""
    notice = Notice(
        org_id=org_id,
        sender_telegram_id=sender_telegram_id,
        text=text,
        parse_mode=parse_mode,
        attachment_kind=attachment_kind,
        attachment_file_id=attachment_file_id,
        audience=audience,
        requires_ack=requires_ack,
        ack_reminder_after_minutes=ack_reminder_after_minutes,
        progress_chat_id=progress_chat_id,
        progress_message_id=progress_message_id,
        created_at=now,
    )
    db.add(notice)
    await db.flush()
    return notice


async def get_notice(*, db: AsyncSession, notice_id: int) -> Notice | None:
    """The notice with this id, if any."""
    return await db.get(Notice, notice_id)


def _counts_columns() -> tuple[Any, ...]:
    state = col(Delivery.state)
    dead = state == DeliveryState.DEAD
    blocked = col(Delivery.last_error).startswith(BLOCKED_ERROR)
    return (
        sa.func.count(),
        sa.func.count().filter(state == DeliveryState.SENT),
        sa.func.count().filter(
            state.in_([DeliveryState.PENDING, DeliveryState.SENDING, DeliveryState.FAILED])
        ),
        sa.func.count().filter(dead, sa.not_(blocked)),
        sa.func.count().filter(dead, blocked),
        sa.func.count(col(Delivery.acknowledged_at)),
    )


async def delivery_counts(
    *, db: AsyncSession, notice_ids: Sequence[int]
) -> dict[int, DeliveryCounts]:
    """Progress of each notice, counted in one grouped query."""
    if not notice_ids:
        return {}
    result = await _rows(
        db,
        sa.select(col(Delivery.notice_id), *_counts_columns())
        .where(col(Delivery.notice_id).in_(list(notice_ids)))
        .group_by(col(Delivery.notice_id)),
    )
    counts = {int(row[0]): DeliveryCounts(*(int(v) for v in row[1:])) for row in result}
    empty = DeliveryCounts(0, 0, 0, 0, 0, 0)
    return {notice_id: counts.get(notice_id, empty) for notice_id in notice_ids}


async def open_progress(*, db: AsyncSession) -> list[ProgressTarget]:
    """Notices whose sender's message still shows a progress bar (final report pending)."""
    result = await _rows(
        db,
        sa.select(
            col(Notice.id),
            col(Notice.progress_chat_id),
            col(Notice.progress_message_id),
            sa.func.coalesce(col(TelegramAccount.language), "zh"),
        )
        .outerjoin(
            TelegramAccount,
            col(TelegramAccount.telegram_user_id) == col(Notice.sender_telegram_id),
        )
        .where(col(Notice.progress_message_id).is_not(None))
        .order_by(col(Notice.id)),
    )
    return [
        ProgressTarget(int(n), int(chat), int(message), str(lang))
        for n, chat, message, lang in result
        if chat is not None
    ]


async def close_progress(*, db: AsyncSession, notice_id: int) -> None:
    """The final report is shown: stop updating the sender's message."""
    await db.exec(
        sa.update(Notice).where(col(Notice.id) == notice_id).values(progress_message_id=None)
    )


async def unreachable_names(*, db: AsyncSession, notice_id: int, limit: int = 30) -> list[str]:
    """Who could not get this notice because they blocked the bot."""
    result = await _rows(
        db,
        sa.select(sa.func.coalesce(Member.name, TelegramAccount.first_name))
        .select_from(Delivery)
        .outerjoin(Member, col(Member.id) == col(Delivery.member_id))
        .outerjoin(TelegramAccount, col(TelegramAccount.telegram_user_id) == col(Delivery.chat_id))
        .where(
            col(Delivery.notice_id) == notice_id,
            col(Delivery.state) == DeliveryState.DEAD,
            col(Delivery.last_error).startswith(BLOCKED_ERROR),
        )
        .order_by(col(Delivery.id))
        .limit(limit),
    )
    return [str(name) for (name,) in result]


# --- 已阅 (acks) ----------------------------------------------------------------------------


async def acknowledge(
    *, db: AsyncSession, notice_id: int, chat_id: int, now: datetime
) -> AckResult:
    """Record 已阅 for the person in ``chat_id``; only the first tap changes anything."""
    result = await db.exec(
        sa.update(Delivery)
        .where(
            col(Delivery.notice_id) == notice_id,
            col(Delivery.chat_id) == chat_id,
            col(Delivery.acknowledged_at).is_(None),
        )
        .values(acknowledged_at=now)
    )
    if result.rowcount:
        return AckResult.ACKNOWLEDGED
    found = await _rows(
        db,
        sa.select(col(Delivery.id)).where(
            col(Delivery.notice_id) == notice_id, col(Delivery.chat_id) == chat_id
        ),
    )
    return AckResult.ALREADY if found else AckResult.UNKNOWN


def _unacked(notice_id: int) -> tuple[Any, ...]:
    return (
        col(Delivery.notice_id) == notice_id,
        col(Delivery.state) == DeliveryState.SENT,
        col(Delivery.acknowledged_at).is_(None),
    )


async def recent_notices(
    *, db: AsyncSession, paths: Sequence[str], limit: int = 10
) -> list[NoticeSummary]:
    """The newest notices sent from inside these subtrees, each with its ack rate."""
    delivered = sa.func.count().filter(col(Delivery.state) == DeliveryState.SENT)
    acked = sa.func.count(col(Delivery.acknowledged_at))
    result = await _rows(
        db,
        sa.select(
            col(Notice.id),
            col(OrgUnit.name),
            col(Notice.created_at),
            col(Notice.text),
            col(Notice.requires_ack),
            sa.func.count(col(Delivery.id)),
            delivered,
            acked,
        )
        .join(OrgUnit, col(OrgUnit.id) == col(Notice.org_id))
        .outerjoin(Delivery, col(Delivery.notice_id) == col(Notice.id))
        .where(_within(paths))
        .group_by(
            col(Notice.id),
            col(OrgUnit.name),
            col(Notice.created_at),
            col(Notice.text),
            col(Notice.requires_ack),
        )
        .order_by(col(Notice.created_at).desc(), col(Notice.id).desc())
        .limit(limit),
    )
    return [
        NoticeSummary(int(n), str(org), at, str(text), bool(ack), int(tot), int(dlv), int(rd))
        for n, org, at, text, ack, tot, dlv, rd in result
    ]


async def unacked_by_branch(*, db: AsyncSession, notice_id: int) -> list[UnackedGroup]:
    """Who has not acked a delivered notice, counted by township and branch."""
    branch = aliased(OrgUnit)
    township = aliased(OrgUnit)
    result = await _rows(
        db,
        sa.select(col(township.name), col(branch.name), sa.func.count())
        .select_from(Delivery)
        .outerjoin(Member, col(Member.id) == col(Delivery.member_id))
        .outerjoin(branch, col(branch.id) == col(Member.org_id))
        .outerjoin(township, col(township.id) == col(branch.parent_id))
        .where(*_unacked(notice_id))
        .group_by(col(township.name), col(branch.name))
        .order_by(col(township.name), col(branch.name)),
    )
    return [UnackedGroup(t, b, int(n)) for t, b, n in result]


async def unacked_names(*, db: AsyncSession, notice_id: int, limit: int = 50) -> list[str]:
    """Names of those who have not acked a delivered notice."""
    result = await _rows(
        db,
        sa.select(sa.func.coalesce(Member.name, TelegramAccount.first_name))
        .select_from(Delivery)
        .outerjoin(Member, col(Member.id) == col(Delivery.member_id))
        .outerjoin(TelegramAccount, col(TelegramAccount.telegram_user_id) == col(Delivery.chat_id))
        .where(*_unacked(notice_id))
        .order_by(sa.func.coalesce(Member.name, TelegramAccount.first_name))
        .limit(limit),
    )
    return [str(name) for (name,) in result]


async def unacked_recipients(*, db: AsyncSession, notice_id: int) -> list[Reader]:
    """Who got the notice, has not tapped 已阅 and can still be reached: to remind."""
    result = await _rows(
        db,
        sa.select(col(Delivery.chat_id), col(Delivery.member_id), col(TelegramAccount.language))
        .join(TelegramAccount, col(TelegramAccount.telegram_user_id) == col(Delivery.chat_id))
        .where(*_unacked(notice_id), col(TelegramAccount.blocked_at).is_(None))
        .order_by(col(Delivery.chat_id)),
    )
    return [Reader(int(chat), member, str(lang)) for chat, member, lang in result]


async def due_ack_reminders(
    *, db: AsyncSession, now: datetime, horizon: timedelta = timedelta(days=30)
) -> list[Notice]:
    """Claim the notices whose automatic reminder is due (each is claimed once, ever)."""
    candidates = await db.exec(
        select(Notice).where(
            col(Notice.requires_ack).is_(True),
            col(Notice.ack_reminded_at).is_(None),
            col(Notice.created_at) >= now - horizon,
            col(Notice.created_at) <= now,
        )
    )
    claimed: list[Notice] = []
    for notice in candidates.all():
        if notice.created_at + timedelta(minutes=notice.ack_reminder_after_minutes) > now:
            continue
        result = await db.exec(
            sa.update(Notice)
            .where(col(Notice.id) == notice.id, col(Notice.ack_reminded_at).is_(None))
            .values(ack_reminded_at=now)
        )
        if result.rowcount:
            claimed.append(notice)
    return claimed


# --- political birthdays ---------------------------------------------------------------------


def _anniversary(day: date) -> Any:
    """joined_on falls on this month and day (29 February counts on the 28th otherwise)."""
    month = sa.extract("month", col(Member.joined_on))
    day_of = sa.extract("day", col(Member.joined_on))
    same = sa.and_(month == day.month, day_of == day.day)
    leap = day.year % 4 == 0 and (day.year % 100 != 0 or day.year % 400 == 0)
    if day.month == 2 and day.day == 28 and not leap:
        return sa.or_(same, sa.and_(month == 2, day_of == 29))
    return same


async def birthday_members(*, db: AsyncSession, on: date) -> list[BirthdayMember]:
    """Active members who joined the party on this day in an earlier year, reachable on
    Telegram, in branches that greet."""
    result = await _rows(
        db,
        sa.select(
            col(Member.id),
            col(Member.telegram_user_id),
            col(Member.name),
            col(TelegramAccount.language),
            col(Member.joined_on),
            col(OrgUnit.name),
        )
        .join(OrgUnit, col(OrgUnit.id) == col(Member.org_id))
        .join(
            TelegramAccount, col(TelegramAccount.telegram_user_id) == col(Member.telegram_user_id)
        )
        .where(
            col(Member.active).is_(True),
            col(Member.status).in_(JOINED),
            col(Member.joined_on) < date(on.year, 1, 1),
            _anniversary(on),
            col(TelegramAccount.blocked_at).is_(None),
            col(OrgUnit.greetings_enabled).is_(True),
        )
        .order_by(col(Member.id)),
    )
    return [
        BirthdayMember(int(m), int(chat), str(name), str(lang), joined, str(branch))
        for m, chat, name, lang, joined, branch in result
        if joined is not None
    ]


async def greetings_enabled(*, db: AsyncSession, org_id: int) -> bool | None:
    """Whether the branch greets members on their political birthday (None: no such org)."""
    org = await db.get(OrgUnit, org_id, populate_existing=True)
    return None if org is None else org.greetings_enabled


async def set_greetings(*, db: AsyncSession, org_id: int, enabled: bool) -> bool:
    """Switch a branch's greetings; True if that changed anything."""
    result = await db.exec(
        sa.update(OrgUnit)
        .where(col(OrgUnit.id) == org_id, col(OrgUnit.greetings_enabled).is_not(enabled))
        .values(greetings_enabled=enabled)
    )
    return bool(result.rowcount)
