"""签到 as use cases: a member checks in with a code; an officer marks someone present;
the organiser counts as present.

Each function reads, checks and writes in the caller's ONE transaction, so a cancellation
or a close committed in between cannot slip past the checks. A code is judged at the
moment the member sent it (the message's date), not when the bot got round to it: under
load a correct code typed in time is still correct.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.access import Action, Principal, allows, load_principal
from bot.checkin import verify_code
from bot.refusals import NOT_ALLOWED, Refused
from bot.sessions import MAX_CHECKIN_FAILURES, Window, checkin_opens_at, window_state
from storage import Database, attendance, audit, members, orgs, sessions
from storage.attendance import AttendanceCounts
from storage.models import CheckinMethod, SessionState, StudySession

__all__ = [
    "SENT_AT_TRUSTED",
    "Checkin",
    "CheckinOutcome",
    "CodeScreen",
    "ProxyOutcome",
    "check_in",
    "judged_at",
    "mark_present",
    "may_check_in",
    "open_for_member",
    "organiser_present",
    "show_code",
    "window_refusal",
]

# A message date older than this (or in the future) is not trusted as "when it was sent";
# the code's own validity (its slot and the next) stays the limit either way.
SENT_AT_TRUSTED = timedelta(minutes=10)


class Checkin(StrEnum):
    """What came of a check-in attempt (or of asking whether one may start)."""

    READY = "ready"  # may_check_in: go on and ask for the number
    DONE = "done"
    ALREADY = "already"
    NOT_INVITED = "not_invited"
    CANCELLED = "cancelled"
    NOT_YET = "not_yet"
    CLOSED = "closed"
    LOCKED = "locked"  # too many wrong numbers
    WRONG = "wrong"  # wrong or expired; counted


@dataclass(frozen=True, slots=True)
class CheckinOutcome:
    result: Checkin
    study: StudySession | None = None


def judged_at(sent_at: datetime | None, now: datetime) -> datetime:
    """The moment a code is judged by: when it was sent, if that is plausible, else now."""
    if sent_at is None or sent_at > now or now - sent_at > SENT_AT_TRUSTED:
        return now
    return sent_at


def window_refusal(study: StudySession, moment: datetime) -> Checkin | None:
    """CANCELLED, NOT_YET or CLOSED if check-in is not open at ``moment``; else None."""
    if study.state == SessionState.CANCELLED:
        return Checkin.CANCELLED
    state = window_state(study, moment)
    if state == Window.CLOSED:
        return Checkin.CLOSED
    if state == Window.NOT_YET:
        return Checkin.NOT_YET
    return None


async def may_check_in(
    *, database: Database, actor: int, session_id: int, now: datetime
) -> CheckinOutcome:
    """READY if this member may type a code for this session now, else why not.

    Only reads, so it reads on a plain connection (`Database.read_sync`), no transaction:
    in a check-in rush thousands of these come within a minute, and through the pool
    they queued behind the typed codes' writes (p99 of the answer 1.7-2.3 s at 5,000).
    """
    found = await database.read_sync(
        functools.partial(attendance.own_row_on, session_id=session_id, telegram_user_id=actor)
    )
    if found is None:
        return CheckinOutcome(Checkin.NOT_INVITED)
    study, row = found
    if row.checked_in_at is not None:
        return CheckinOutcome(Checkin.ALREADY, study)
    refusal = window_refusal(study, now)
    if refusal is not None:
        return CheckinOutcome(refusal, study)
    if row.checkin_failures >= MAX_CHECKIN_FAILURES:
        return CheckinOutcome(Checkin.LOCKED, study)
    return CheckinOutcome(Checkin.READY, study)


async def check_in(
    *,
    db: AsyncSession,
    actor: int,
    session_id: int,
    code: str,
    method: CheckinMethod,
    key: bytes,
    sent_at: datetime | None,
    now: datetime,
) -> CheckinOutcome:
    """Check the member in with a code sent at ``sent_at``; wrong codes are counted."""
    found = await attendance.own_row(db=db, session_id=session_id, telegram_user_id=actor)
    if found is None:
        return CheckinOutcome(Checkin.NOT_INVITED)
    study, row = found
    assert row.id is not None
    if row.checked_in_at is not None:
        return CheckinOutcome(Checkin.ALREADY, study)
    moment = judged_at(sent_at, now)
    refusal = window_refusal(study, moment)
    if refusal is not None:
        return CheckinOutcome(refusal, study)
    if row.checkin_failures >= MAX_CHECKIN_FAILURES:
        return CheckinOutcome(Checkin.LOCKED, study)
    if verify_code(key, session_id, code, moment):
        done = await attendance.check_in(db=db, attendance_id=row.id, method=method, now=now)
        return CheckinOutcome(Checkin.DONE if done else Checkin.ALREADY, study)
    failures = await attendance.count_checkin_failure(db=db, attendance_id=row.id)
    return CheckinOutcome(
        Checkin.LOCKED if failures >= MAX_CHECKIN_FAILURES else Checkin.WRONG, study
    )


async def open_for_member(*, db: AsyncSession, actor: int, now: datetime) -> list[StudySession]:
    """The sessions this member could check in to right now (a typed /checkin)."""
    member = await members.member_by_telegram(db=db, telegram_user_id=actor)
    if member is None or member.id is None:
        return []
    upcoming, _recent = await sessions.member_sessions(db=db, member_id=member.id, now=now)
    return [
        found.study
        for found in upcoming
        if found.attendance.checked_in_at is None and window_state(found.study, now) == Window.OPEN
    ]


async def organiser_present(
    *, db: AsyncSession, study: StudySession, actor: int, now: datetime
) -> bool:
    """The officer running the session (showing its code) is present, if invited.

    Marked as a proxy check-in by themselves; False if not invited or already in.
    """
    found = await attendance.own_row(db=db, session_id=study.id or 0, telegram_user_id=actor)
    if found is None:
        return False
    _study, row = found
    assert row.id is not None
    return await attendance.check_in(
        db=db,
        attendance_id=row.id,
        method=CheckinMethod.PROXY,
        now=now,
        marked_by=actor,
    )


@dataclass(frozen=True, slots=True)
class CodeScreen:
    """What an officer's code screen shows: READY with the counts, or why check-in is not
    open (CANCELLED, NOT_YET, CLOSED) and nothing was written."""

    result: Checkin
    study: StudySession
    counts: AttendanceCounts | None = None


async def show_code(
    *, db: AsyncSession, actor: Principal, session_id: int, now: datetime
) -> CodeScreen:
    """An officer opens (or renews) the check-in code screen of a session.

    The right (MANAGE_ATTENDANCE over the session's org, else `Refused`) and the window
    are checked in the same transaction as the write: the officer showing the code is
    there, so they are checked in (if invited); the counts come from that transaction.
    """
    study = await sessions.get_session(db=db, session_id=session_id)
    org = await orgs.get_org(db=db, org_id=study.org_id) if study else None
    if study is None or org is None or not allows(actor, Action.MANAGE_ATTENDANCE, org.path):
        raise Refused(NOT_ALLOWED)
    refusal = window_refusal(study, now)
    if refusal is not None:
        return CodeScreen(refusal, study)
    await organiser_present(db=db, study=study, actor=actor.telegram_user_id, now=now)
    counts = await attendance.attendance_counts(db=db, session_id=session_id)
    return CodeScreen(Checkin.READY, study, counts)


@dataclass(frozen=True, slots=True)
class ProxyOutcome:
    """What came of an officer marking someone present; ``name`` of the person."""

    result: Checkin  # DONE, ALREADY, NOT_INVITED, CANCELLED, NOT_YET, or LOCKED (not allowed)
    name: str = ""
    study: StudySession | None = None


async def mark_present(
    *, db: AsyncSession, actor: int, session_id: int, member_id: int, now: datetime
) -> ProxyOutcome:
    """An officer marks an invitee present (代签到), also after the session closed.

    Access (MANAGE_ATTENDANCE over the session's org) and state are checked, the row is
    written and audited, all in the caller's one transaction. LOCKED means not allowed.
    """
    study = await sessions.get_session(db=db, session_id=session_id)
    org = await orgs.get_org(db=db, org_id=study.org_id) if study else None
    principal = await load_principal(db=db, telegram_user_id=actor)
    if study is None or org is None or not allows(principal, Action.MANAGE_ATTENDANCE, org.path):
        return ProxyOutcome(Checkin.LOCKED)
    if study.state == SessionState.CANCELLED:
        return ProxyOutcome(Checkin.CANCELLED, study=study)
    if now < checkin_opens_at(study):
        return ProxyOutcome(Checkin.NOT_YET, study=study)
    row = await attendance.get_attendance(db=db, session_id=session_id, member_id=member_id)
    member = await members.get_member(db=db, member_id=member_id)
    if row is None or row.id is None or member is None:
        return ProxyOutcome(Checkin.NOT_INVITED, study=study)
    if not await attendance.check_in(
        db=db,
        attendance_id=row.id,
        method=CheckinMethod.PROXY,
        now=now,
        marked_by=actor,
    ):
        return ProxyOutcome(Checkin.ALREADY, member.name, study)
    await audit.record(
        db=db,
        actor=actor,
        action="attendance.proxy",
        target_kind="attendance",
        target_id=row.id,
        org_id=study.org_id,
        detail={"session_id": study.id, "member_id": member_id},
        at=now,
    )
    return ProxyOutcome(Checkin.DONE, member.name, study)
