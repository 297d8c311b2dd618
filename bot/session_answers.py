"""A member's answer to a session (参加 / 请假) and the officer's decision on leave.

Each use case loads, checks access and state, writes, audits and queues the messages it
causes in the caller's ONE transaction, so a cancellation or a close committed in between
is seen, and a double tap changes nothing twice. Handlers render the outcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel.ext.asyncio.session import AsyncSession

from bot import session_notify as notify
from bot.access import Action, Principal, allows, load_principal
from bot.i18n import N_
from bot.refusals import NOT_ALLOWED, Refused
from bot.sessions import decision_refusal, rsvp_refusal
from bot.settings import Settings
from storage import attendance, audit, members, orgs, sessions
from storage.models import Attendance, LeaveReason, StudySession

__all__ = [
    "Answer",
    "AnswerOutcome",
    "Decision",
    "DecisionOutcome",
    "ask_leave",
    "attend",
    "decide_leave",
    "own_answer",
    "record_makeup",
]

NOT_INVITED = N_("This session is not for you, so this button does nothing.")


class Answer(StrEnum):
    DONE = "done"
    ALREADY = "already"  # the same answer again (a double tap)
    REFUSED = "refused"  # see ``refusal``


@dataclass(frozen=True, slots=True)
class AnswerOutcome:
    """What came of a member's answer; ``refusal`` is a msgid when REFUSED."""

    result: Answer
    study: StudySession | None = None
    row: Attendance | None = None
    refusal: str | None = None


def _refused(msgid: str, study: StudySession | None = None) -> AnswerOutcome:
    return AnswerOutcome(Answer.REFUSED, study, None, msgid)


async def own_answer(
    *, db: AsyncSession, actor: int, session_id: int, now: datetime
) -> AnswerOutcome:
    """The member's row for this session if they may still answer (ALREADY), or why not."""
    found = await attendance.own_row(db=db, session_id=session_id, telegram_user_id=actor)
    if found is None:
        return _refused(NOT_INVITED)
    study, row = found
    refusal = rsvp_refusal(study, now)
    if refusal is not None:
        return _refused(refusal, study)
    return AnswerOutcome(Answer.ALREADY, study, row)


async def attend(*, db: AsyncSession, actor: int, session_id: int, now: datetime) -> AnswerOutcome:
    """参加: recorded once (it withdraws a pending leave request)."""
    found = await own_answer(db=db, actor=actor, session_id=session_id, now=now)
    if found.row is None or found.row.id is None:
        return found
    changed = await attendance.set_rsvp(db=db, attendance_id=found.row.id, now=now)
    if changed is None:  # already attending: the row as own_answer read it
        return found
    return AnswerOutcome(Answer.DONE, found.study, changed)


async def ask_leave(
    *,
    db: AsyncSession,
    actor: int,
    session_id: int,
    reason: LeaveReason,
    note: str | None,
    settings: Settings,
    now: datetime,
) -> AnswerOutcome:
    """请假 with a reason: recorded and sent to the org's officers, or ALREADY asked."""
    found = await own_answer(db=db, actor=actor, session_id=session_id, now=now)
    if found.row is None or found.row.id is None or found.study is None:
        return found
    study, attendance_id = found.study, found.row.id
    if not await attendance.request_leave(
        db=db, attendance_id=attendance_id, reason=reason, note=note, now=now
    ):
        return AnswerOutcome(Answer.ALREADY, study, found.row)
    fresh = await attendance.get_attendance_by_id(db=db, attendance_id=attendance_id)
    member = await members.get_member(db=db, member_id=found.row.member_id)
    org = await orgs.get_org(db=db, org_id=study.org_id)
    assert fresh is not None
    assert member is not None
    assert org is not None
    await notify.queue_leave_request(
        db=db,
        study=study,
        org=org,
        attendance=fresh,
        member_name=member.name,
        settings=settings,
        now=now,
    )
    return AnswerOutcome(Answer.DONE, study, fresh)


class Decision(StrEnum):
    DONE = "done"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class DecisionOutcome:
    """An officer's decision: the member's name and the session when DONE."""

    result: Decision
    refusal: str | None = None
    study: StudySession | None = None
    member_name: str = ""


async def decide_leave(
    *,
    db: AsyncSession,
    actor: int,
    attendance_id: int,
    approve: bool,
    settings: Settings,
    now: datetime,
) -> DecisionOutcome:
    """An officer approves or rejects a pending leave request; audited, the member told."""
    row = await attendance.get_attendance_by_id(db=db, attendance_id=attendance_id)
    study = await sessions.get_session(db=db, session_id=row.session_id) if row else None
    org = await orgs.get_org(db=db, org_id=study.org_id) if study else None
    principal = await load_principal(db=db, telegram_user_id=actor)
    if (
        row is None
        or study is None
        or org is None
        or not allows(principal, Action.MANAGE_ATTENDANCE, org.path)
    ):
        return DecisionOutcome(Decision.REFUSED, NOT_ALLOWED)
    refusal = decision_refusal(study)
    if refusal is not None:
        return DecisionOutcome(Decision.REFUSED, refusal)
    if not await attendance.decide_leave(
        db=db, attendance_id=attendance_id, approve=approve, decided_by=actor, now=now
    ):
        return DecisionOutcome(Decision.REFUSED, N_("This request was already decided."))
    entry = await audit.record(
        db=db,
        actor=actor,
        action="session.leave.approve" if approve else "session.leave.reject",
        target_kind="attendance",
        target_id=attendance_id,
        org_id=org.id,
        detail={"session_id": study.id, "member_id": row.member_id},
        at=now,
    )
    person = await notify.queue_leave_decision(
        db=db,
        study=study,
        attendance_id=attendance_id,
        settings=settings,
        now=now,
        key=str(entry.id),
    )
    return DecisionOutcome(Decision.DONE, None, study, person.name)


async def record_makeup(
    *, db: AsyncSession, principal: Principal, attendance_id: int, now: datetime
) -> bool:
    """我已学习 on one's own absence row: make-up study done; False if recorded before.

    Someone else's row (or none) is refused with NOT_INVITED, and nothing is written.
    """
    row = await attendance.get_attendance_by_id(db=db, attendance_id=attendance_id)
    member = await members.member_by_telegram(db=db, telegram_user_id=principal.telegram_user_id)
    if row is None or member is None or row.member_id != member.id:
        raise Refused(NOT_INVITED)
    return await attendance.mark_makeup_done(db=db, attendance_id=attendance_id, now=now)
