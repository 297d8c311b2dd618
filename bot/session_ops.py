"""Session operations: a rule, the rows it writes, its audit entry and who is told, together.

Handlers and jobs call these inside one short transaction; what people are told is
queued in the outbox in that same transaction, so a change and its messages commit (or
fail) together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot import session_notify as notify
from bot.access import Action, Principal, allows
from bot.dates import local_date
from bot.i18n import N_
from bot.refusals import NOT_ALLOWED, Refused
from bot.sessions import (
    ABSENCE_STREAK,
    SERIES_HORIZON,
    Repeat,
    occurrences,
    plan_reminders,
    series_rule,
)
from bot.settings import Settings
from storage import attendance, audit, orgs, sessions
from storage.models import (
    AttachmentKind,
    AttendanceOutcome,
    AudienceKind,
    SessionKind,
    SessionSeries,
    SessionState,
    StudySession,
)

__all__ = [
    "NOT_SCHEDULED",
    "Scheduled",
    "SessionPlan",
    "add_minutes",
    "cancel",
    "cancel_as",
    "change",
    "change_as",
    "close",
    "extend_series",
    "schedule",
    "schedule_as",
]

NOT_SCHEDULED = N_("This session is no longer scheduled, so it cannot be changed.")


@dataclass(frozen=True, slots=True)
class SessionPlan:
    """Everything the /newsession form collects."""

    org_id: int
    kind: SessionKind
    topic: str
    starts_at: datetime
    duration_minutes: int
    place: str
    audience_kind: AudienceKind
    audience_org_id: int
    reminder_offsets: tuple[int, ...]
    repeat: Repeat = Repeat.NONE
    materials_text: str | None = None
    materials_file_id: str | None = None
    materials_file_kind: AttachmentKind | None = None


def _id(value: int | None) -> int:
    assert value is not None
    return value


def _reminder_rows(
    starts_at: datetime, offsets: tuple[int, ...] | list[int], now: datetime
) -> list[tuple[Any, ...]]:
    return [
        (planned.offset_minutes, planned.due_at, planned.state)
        for planned in plan_reminders(starts_at, offsets, now)
    ]


@dataclass(frozen=True, slots=True)
class Scheduled:
    """A new session, how many are invited, and how many of them are told on Telegram."""

    study: StudySession
    invited: int
    reached: int


async def schedule(
    *,
    db: AsyncSession,
    plan: SessionPlan,
    actor: int,
    settings: Settings,
    now: datetime,
) -> Scheduled:
    """Create the session (and its series), audit it and invite its audience."""
    series: SessionSeries | None = None
    if plan.repeat != Repeat.NONE:
        local_start = plan.starts_at.astimezone(settings.tz)
        series = await sessions.create_series(
            db=db,
            org_id=plan.org_id,
            kind=plan.kind,
            topic=plan.topic,
            rule=series_rule(plan.repeat, local_start.date()),
            local_time=local_start.time(),
            duration_minutes=plan.duration_minutes,
            place=plan.place,
            audience_kind=plan.audience_kind,
            audience_org_id=plan.audience_org_id,
            reminder_offsets=plan.reminder_offsets,
            created_by=actor,
            now=now,
        )
    study = await sessions.create_session(
        db=db,
        org_id=plan.org_id,
        kind=plan.kind,
        topic=plan.topic,
        starts_at=plan.starts_at,
        duration_minutes=plan.duration_minutes,
        place=plan.place,
        audience_kind=plan.audience_kind,
        audience_org_id=plan.audience_org_id,
        created_by=actor,
        reminders=_reminder_rows(plan.starts_at, plan.reminder_offsets, now),
        now=now,
        materials_text=plan.materials_text,
        materials_file_id=plan.materials_file_id,
        materials_file_kind=plan.materials_file_kind,
        checkin_opens_minutes_before=settings.checkin_opens_minutes,
        checkin_closes_minutes_after=settings.checkin_closes_minutes,
        series_id=series.id if series is not None else None,
        series_slot=local_date(plan.starts_at, settings.tz) if series is not None else None,
    )
    await audit.record(
        db=db,
        actor=actor,
        action="session.create",
        target_kind="study_session",
        target_id=study.id,
        org_id=plan.org_id,
        detail={
            "kind": plan.kind.value,
            "topic": plan.topic,
            "starts_at": plan.starts_at.isoformat(),
            "series_id": series.id if series is not None else None,
        },
        at=now,
    )
    if series is None:
        reached = await notify.queue_invitations(db=db, study=study, settings=settings, now=now)
    else:  # one invitation listing the dates, not one message per occurrence
        created = await extend_series(
            db=db,
            series=series,
            settings=settings,
            now=now,
            invite=False,
        )
        reached = await notify.queue_series_invitation(
            db=db,
            series=series,
            studies=[study, *created],
            dates=series_dates(series, study, settings),
            settings=settings,
            now=now,
        )
    counts = await attendance.attendance_counts(db=db, session_id=_id(study.id))
    return Scheduled(study, counts.invited, reached)


async def schedule_as(
    *,
    db: AsyncSession,
    actor: Principal,
    plan: SessionPlan,
    settings: Settings,
    now: datetime,
) -> Scheduled:
    """/newsession's create: an officer who may schedule for the plan's org schedules it.

    The right is checked in the same transaction as the writes (`Refused` otherwise).
    """
    org = await orgs.get_org(db=db, org_id=plan.org_id)
    if org is None or not allows(actor, Action.SCHEDULE_SESSION, org.path):
        raise Refused(NOT_ALLOWED)
    return await schedule(
        db=db, plan=plan, actor=actor.telegram_user_id, settings=settings, now=now
    )


async def extend_series(
    *,
    db: AsyncSession,
    series: SessionSeries,
    settings: Settings,
    now: datetime,
    invite: bool = True,
) -> list[StudySession]:
    """Create the occurrences due within the next few weeks that do not exist yet.

    Each occurrence has a slot (its original day): a moved or cancelled occurrence keeps
    its slot, so it is never generated a second time. ``invite`` False: the caller tells
    people about them (the new series' one invitation).
    """
    existing = await sessions.series_slots(db=db, series_id=_id(series.id))
    first = max(existing) if existing else local_date(series.created_at, settings.tz)
    created = []
    for slot, starts_at in occurrences(
        series.rule,
        series.local_time,
        settings.tz,
        first=first,
        after=now,
        until=now + SERIES_HORIZON,
    ):
        if slot in existing:
            continue
        offsets = series.reminder_offsets or []
        study = await sessions.create_session(
            db=db,
            org_id=series.org_id,
            kind=series.kind,
            topic=series.topic,
            starts_at=starts_at,
            duration_minutes=series.duration_minutes,
            place=series.place,
            audience_kind=series.audience_kind,
            audience_org_id=series.audience_org_id,
            created_by=series.created_by,
            reminders=_reminder_rows(starts_at, offsets, now),
            now=now,
            checkin_opens_minutes_before=settings.checkin_opens_minutes,
            checkin_closes_minutes_after=settings.checkin_closes_minutes,
            series_id=series.id,
            series_slot=slot,
        )
        if invite:
            await notify.queue_invitations(db=db, study=study, settings=settings, now=now)
        created.append(study)
    return created


SERIES_DATES_LISTED = 4


def series_dates(series: SessionSeries, first: StudySession, settings: Settings) -> list[datetime]:
    """The first few dates of a new series (from its rule), for its one invitation."""
    found = occurrences(
        series.rule,
        series.local_time,
        settings.tz,
        first=local_date(first.starts_at, settings.tz),
        after=first.starts_at - timedelta(minutes=1),
        until=first.starts_at + timedelta(days=400),
    )
    return [starts_at for _slot, starts_at in found[:SERIES_DATES_LISTED]]


async def change(
    *,
    db: AsyncSession,
    study: StudySession,
    changes: dict[str, Any],
    actor: int,
    settings: Settings,
    now: datetime,
) -> StudySession | None:
    """Edit a scheduled session, move its reminders if the time moved, tell everyone
    what changed (old → new)."""
    before = {key: getattr(study, key) for key in changes}
    updated = await sessions.update_session(
        db=db, session_id=_id(study.id), changes=changes, now=now
    )
    if updated is None:
        return None
    if "starts_at" in changes:
        reminders = await sessions.reminder_offsets(db=db, session_id=_id(study.id))
        await sessions.replan_reminders(
            db=db,
            session_id=_id(study.id),
            reminders=_reminder_rows(updated.starts_at, reminders, now),
        )
    entry = await audit.record(
        db=db,
        actor=actor,
        action="session.edit",
        target_kind="study_session",
        target_id=study.id,
        org_id=study.org_id,
        detail={key: _plain(value) for key, value in changes.items()},
        at=now,
    )
    await notify.queue_change(
        db=db,
        study=updated,
        settings=settings,
        now=now,
        key=str(entry.id),
        before=before,
    )
    return updated


async def _organised(db: AsyncSession, actor: Principal, session_id: int) -> StudySession:
    """The session if the actor may schedule for its org, still scheduled; else `Refused`."""
    study = await sessions.get_session(db=db, session_id=session_id)
    org = await orgs.get_org(db=db, org_id=study.org_id) if study else None
    if study is None or org is None or not allows(actor, Action.SCHEDULE_SESSION, org.path):
        raise Refused(NOT_ALLOWED)
    if study.state != SessionState.SCHEDULED:
        raise Refused(NOT_SCHEDULED)
    return study


async def change_as(
    *,
    db: AsyncSession,
    actor: Principal,
    session_id: int,
    changes: dict[str, Any],
    settings: Settings,
    now: datetime,
) -> StudySession:
    """An officer's edit from /sessions: the right and the state are checked with the write,
    so a cancellation committed after the officer opened the screen is seen."""
    study = await _organised(db, actor, session_id)
    updated = await change(
        db=db,
        study=study,
        changes=changes,
        actor=actor.telegram_user_id,
        settings=settings,
        now=now,
    )
    if updated is None:
        raise Refused(NOT_SCHEDULED)
    return updated


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value.value if isinstance(value, AttachmentKind) else value


async def cancel(
    *,
    db: AsyncSession,
    study: StudySession,
    actor: int,
    settings: Settings,
    now: datetime,
    whole_series: bool = False,
) -> list[int]:
    """Cancel one occurrence, or it and the rest of its series; tell every invitee."""
    if whole_series and study.series_id is not None:
        cancelled = await sessions.cancel_series(db=db, series_id=study.series_id, now=now)
        if await sessions.cancel_session(db=db, session_id=_id(study.id), now=now):
            cancelled.append(_id(study.id))
    elif await sessions.cancel_session(db=db, session_id=_id(study.id), now=now):
        cancelled = [_id(study.id)]
    else:
        cancelled = []
    for session_id in sorted(set(cancelled)):
        gone = await sessions.get_session(db=db, session_id=session_id)
        assert gone is not None
        await audit.record(
            db=db,
            actor=actor,
            action="session.cancel",
            target_kind="study_session",
            target_id=session_id,
            org_id=gone.org_id,
            detail={"series_id": gone.series_id, "whole_series": whole_series},
            at=now,
        )
        await notify.queue_change(db=db, study=gone, settings=settings, now=now, key="cancel")
    return sorted(set(cancelled))


async def cancel_as(
    *,
    db: AsyncSession,
    actor: Principal,
    session_id: int,
    whole_series: bool,
    settings: Settings,
    now: datetime,
) -> list[int]:
    """An officer cancels a session (or the rest of its series) from /sessions; the right
    and the state are checked with the write. Returns the ids cancelled."""
    study = await _organised(db, actor, session_id)
    cancelled = await cancel(
        db=db,
        study=study,
        actor=actor.telegram_user_id,
        settings=settings,
        now=now,
        whole_series=whole_series,
    )
    if not cancelled:
        raise Refused(NOT_SCHEDULED)
    return cancelled


async def close(
    *,
    db: AsyncSession,
    study: StudySession,
    settings: Settings,
    now: datetime,
) -> bool:
    """After the check-in window: outcomes for all (the organiser present), make-up study,
    absence warnings.

    False if another run closed it first (then nothing else happens).
    """
    if not await attendance.finalise_session(
        db=db, session_id=_id(study.id), now=now, organiser=study.created_by
    ):
        return False
    await notify.queue_makeup(db=db, study=study, settings=settings, now=now)
    absent = [
        person.member_id
        for person in await attendance.invitees(db=db, session_id=_id(study.id))
        if person.outcome == AttendanceOutcome.ABSENT
    ]
    streaks = await attendance.absence_streaks(db=db, member_ids=absent, length=ABSENCE_STREAK)
    org = await orgs.get_org(db=db, org_id=study.org_id)
    if streaks and org is not None:
        await notify.queue_absence_warnings(
            db=db,
            study=study,
            org=org,
            member_ids=streaks,
            streak=ABSENCE_STREAK,
            settings=settings,
            now=now,
        )
    return True


async def add_minutes(
    *,
    db: AsyncSession,
    principal: Principal,
    session_id: int,
    text: str | None,
    photo_id: str | None,
    now: datetime,
) -> StudySession:
    """One paragraph or photo of a session's minutes, by an officer over its org.

    The right is checked here, in the same transaction as the write (`Refused` otherwise).
    """
    study = await sessions.get_session(db=db, session_id=session_id)
    org = await orgs.get_org(db=db, org_id=study.org_id) if study else None
    if study is None or org is None or not allows(principal, Action.MANAGE_ATTENDANCE, org.path):
        raise Refused(NOT_ALLOWED)
    await sessions.add_minutes(db=db, session_id=session_id, text=text, photo_id=photo_id, now=now)
    await audit.record(
        db=db,
        actor=principal.telegram_user_id,
        action="session.minutes",
        target_kind="study_session",
        target_id=session_id,
        org_id=study.org_id,
        detail={"chars": len(text or ""), "photo": photo_id is not None},
        at=now,
    )
    return study
