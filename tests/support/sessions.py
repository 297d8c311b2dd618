"""Helpers shared by the study-session and attendance tests (not a test module).

A branch with a secretary and members who talk to the bot, sessions created the way the
/newsession form creates them (through bot.session_ops), the jobs run at the injected
clock, and small readers of what the database holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from bot import session_ops
from bot.clock import ManualClock
from bot.session_ops import SessionPlan
from bot.sessions import DEFAULT_REMINDER_OFFSETS, Repeat
from bot.settings import Settings
from sandbox import SimUser, World
from sandbox.files import photo_sizes
from sandbox.models import ChatMessage, Content
from schedules import sessions as jobs
from storage import Database, accounts, attendance
from storage.models import (
    AttachmentKind,
    Attendance,
    AudienceKind,
    CheckinMethod,
    Delivery,
    LeaveReason,
    Member,
    OrgUnit,
    Role,
    SessionKind,
    SessionReminder,
    StudySession,
)
from tests.support.builders import Tree, add_member, build_tree, grant
from tests.support.conversation import tap_refused

Person = Callable[..., SimUser]
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Shanghai wall-clock moment as aware UTC."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


@dataclass
class Branch:
    """东风村党支部 with its secretary (书记) and members, all on Telegram unless noted."""

    tree: Tree
    org: OrgUnit
    secretary: SimUser
    people: dict[str, SimUser] = field(default_factory=dict)
    members: dict[str, Member] = field(default_factory=dict)

    def member_id(self, name: str) -> int:
        found = self.members[name].id
        assert found is not None
        return found


async def make_branch(
    database: Database,
    person: Person,
    *,
    names: tuple[str, ...] = ("张三", "李四", "王五"),
    english: tuple[str, ...] = (),
    offline: tuple[str, ...] = (),
    secretary_language: str = "zh-hans",
) -> Branch:
    """The tree, a secretary of 东风村 and members (``offline`` ones have no Telegram)."""
    tree = await build_tree(database)
    secretary = person("书记老刘", language=secretary_language)
    await grant(database, secretary.id, Role.SECRETARY, tree.dongfeng)
    branch = Branch(tree=tree, org=tree.dongfeng, secretary=secretary)
    for name in (*names, *english, *offline):
        user = None
        if name not in offline:
            user = person(name, language="en" if name in english else "zh-hans")
            branch.people[name] = user
        branch.members[name] = await add_member(
            database, tree.dongfeng, name, telegram_user_id=user.id if user else None
        )
        if user is not None:  # as if they had written to the bot once (language known)
            async with database.session_scope() as db:
                await accounts.upsert_account(
                    db=db,
                    telegram_user_id=user.id,
                    first_name=name,
                    username=None,
                    language_code=user.language_code,
                )
    return branch


async def create_session(
    database: Database,
    settings: Settings,
    clock: ManualClock,
    org: OrgUnit,
    *,
    starts_at: datetime,
    topic: str = "学习党章",
    kind: SessionKind = SessionKind.BRANCH_COMMITTEE_MEETING,
    place: str = "村委会会议室",
    offsets: tuple[int, ...] = DEFAULT_REMINDER_OFFSETS,
    repeat: Repeat = Repeat.NONE,
    materials_text: str | None = None,
    materials_file: tuple[str, AttachmentKind] | None = None,
    actor: int = 1,
) -> StudySession:
    """Schedule a session as the form does (rows, audit, invitations queued)."""
    assert org.id is not None
    plan = SessionPlan(
        org_id=org.id,
        kind=kind,
        topic=topic,
        starts_at=starts_at,
        duration_minutes=90,
        place=place,
        audience_kind=AudienceKind.BRANCH,
        audience_org_id=org.id,
        reminder_offsets=offsets,
        repeat=repeat,
        materials_text=materials_text,
        materials_file_id=materials_file[0] if materials_file else None,
        materials_file_kind=materials_file[1] if materials_file else None,
    )
    async with database.session_scope() as db:
        scheduled = await session_ops.schedule(
            db=db,
            plan=plan,
            actor=actor,
            settings=settings,
            now=clock.now(),
        )
    return scheduled.study


async def run_reminders(database: Database, clock: ManualClock, settings: Settings) -> int:
    return await jobs.job_due_reminders(database, clock, settings=settings)


async def run_closing(database: Database, clock: ManualClock, settings: Settings) -> int:
    return await jobs.job_close_sessions(database, clock, settings=settings)


async def run_series(database: Database, clock: ManualClock, settings: Settings) -> int:
    return await jobs.job_extend_series(database, clock, settings=settings)


async def deliveries(database: Database, key_prefix: str = "") -> list[Delivery]:
    """Outbox rows, oldest first, whose dedupe key starts with ``key_prefix``."""
    async with database.session_scope() as db:
        rows = await db.exec(
            select(Delivery)
            .where(col(Delivery.dedupe_key).startswith(key_prefix))
            .order_by(col(Delivery.id))
        )
        return list(rows.all())


async def attendance_of(database: Database, session_id: int | None) -> dict[int, Attendance]:
    """Attendance rows of a session by member id."""
    assert session_id is not None
    async with database.session_scope() as db:
        rows = await db.exec(select(Attendance).where(Attendance.session_id == session_id))
        return {row.member_id: row for row in rows.all()}


async def reminders_of(database: Database, session_id: int | None) -> list[SessionReminder]:
    """Reminders of a session, the one due first (the largest offset) first."""
    assert session_id is not None
    async with database.session_scope() as db:
        rows = await db.exec(
            select(SessionReminder)
            .where(SessionReminder.session_id == session_id)
            .order_by(col(SessionReminder.offset_minutes).desc())
        )
        return list(rows.all())


async def stored_session(database: Database, session_id: int) -> StudySession:
    async with database.session_scope() as db:
        found = await db.get(StudySession, session_id)
    assert found is not None
    return found


async def sessions_in_db(database: Database) -> list[StudySession]:
    async with database.session_scope() as db:
        rows = await db.exec(select(StudySession).order_by(col(StudySession.starts_at)))
        return list(rows.all())


async def refused(user: SimUser, label: str, *, message_id: int | None = None) -> str:
    """Tap a button the bot refuses; the text of its alert."""
    return (await tap_refused(user, label, message_id=message_id)).text or ""


async def arrives(
    world: World,
    user: SimUser,
    contains: str,
    timeout: float = 5.0,  # noqa: ASYNC109
) -> ChatMessage:
    """Wait until a bot message containing ``contains`` shows in the user's chat."""

    def found() -> ChatMessage | None:
        for message in reversed(user.messages):
            if contains in (message.shown_text or ""):
                return message
        return None

    return await world.wait_for(found, timeout, chats=[user.id], what=f"{contains!r} for {user}")


def texts(user: SimUser) -> list[str]:
    """Every bot message (text or caption) in the user's chat, oldest first."""
    return [message.shown_text or "" for message in user.messages]


def labels(message: ChatMessage) -> list[str]:
    return [label for row in message.buttons for label in row]


def shift(clock: ManualClock, **delta: Any) -> datetime:
    return clock.advance(timedelta(**delta))


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06"
    b"\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\nIDATx\x9cc\x00\x01\x00\x00\x05\x00"
    b"\x01\r\n-\xb4\x00\x00\x00\x00IEND\xaeB`\x82"
)


def uploaded(world: World, name: str, kind: AttachmentKind) -> str:
    """A file already on the emulator (as if someone had sent it once): its file_id."""
    data = PNG if kind == AttachmentKind.PHOTO else b"%PDF-1.4 study material"
    mime = "image/png" if kind == AttachmentKind.PHOTO else "application/pdf"
    return world.files.add(data, kind.value, name, mime).file_id


async def send_photo(world: World, user: SimUser, caption: str | None = None) -> ChatMessage:
    """The user sends a photo (SimUser has no helper for it); returns the bot's answer."""
    stored = world.files.add(PNG, "photo", "minutes.png", "image/png")
    after = user.mark()
    message = world.store_message(
        user.chat, Content(caption=caption), sender=user.to_api(), photo=photo_sizes(stored)
    )
    world.push_update("message", message.to_api())
    return await user.wait_for_message(after)


async def checked_in(database: Database, session_id: int, member_id: int, now: datetime) -> None:
    """Check someone in directly (how members do it is covered by the check-in tests)."""
    async with database.session_scope() as db:
        row = await attendance.get_attendance(db=db, session_id=session_id, member_id=member_id)
        assert row is not None
        assert row.id is not None
        await attendance.check_in(db=db, attendance_id=row.id, method=CheckinMethod.QR, now=now)


async def on_approved_leave(
    database: Database, session_id: int, member_id: int, now: datetime
) -> None:
    """Ask for and approve leave directly (the RSVP tests cover the buttons)."""
    async with database.session_scope() as db:
        row = await attendance.get_attendance(db=db, session_id=session_id, member_id=member_id)
        assert row is not None
        assert row.id is not None
        await attendance.request_leave(
            db=db, attendance_id=row.id, reason=LeaveReason.SICK, note=None, now=now
        )
        await attendance.decide_leave(
            db=db, attendance_id=row.id, approve=True, decided_by=1, now=now
        )
