"""What falls due over time for sessions: reminders, closing, series, the digest, the ladder.

Each duty reads what is due from the database at ``now`` and acts on it inside the
caller's transaction; state changes and the messages they cause commit together, so a
job that runs twice, or again after a crash, does nothing twice.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot import session_notify as notify
from bot import session_ops
from bot.dates import local_date
from bot.session_notify import Silence
from bot.sessions import (
    DIGEST_HOUR,
    REQUIRED_KINDS,
    Window,
    checkin_closes_at,
    checkin_opens_at,
    is_silent,
    ladder_distance,
    ladder_step_due,
    previous_period,
    window_state,
)
from bot.settings import Settings
from storage import attendance, escalations, orgs, sessions
from storage.models import OrgKind, OrgUnit, ReminderState, SessionState

__all__ = [
    "announce_checkin",
    "climb_ladder",
    "close_finished",
    "extend_all_series",
    "follow_the_roster",
    "next_session_event",
    "send_digests",
    "send_due_reminders",
]


async def send_due_reminders(*, db: AsyncSession, settings: Settings, now: datetime) -> int:
    """Queue every due reminder; returns how many messages were queued.

    A cancelled session's reminders are cancelled. A reminder for a session that has
    already started (it fell due while the bot was down) is skipped. If several of one
    session are due at once, only the latest is sent: no burst after a restart.
    """
    due = await sessions.due_reminders(db=db, now=now)
    latest = {study.id: reminder.id for reminder, study in due}  # due is oldest first
    queued = 0
    for reminder, study in due:
        assert reminder.id is not None
        if study.state == SessionState.CANCELLED:
            state = ReminderState.CANCELLED
        elif (
            study.state != SessionState.SCHEDULED
            or study.starts_at <= now
            or latest[study.id] != reminder.id
        ):
            state = ReminderState.SKIPPED
        else:
            state = ReminderState.SENT
        claimed = await sessions.set_reminder_state(
            db=db, reminder_id=reminder.id, state=state, now=now
        )
        if claimed and state == ReminderState.SENT:
            queued += await notify.queue_reminder(
                db=db,
                reminder=reminder,
                study=study,
                settings=settings,
                now=now,
            )
    return queued


# Check-in opens at most a day before the start and closes within a day after it.
_CHECKIN_REACH = timedelta(days=1, minutes=1)


async def announce_checkin(*, db: AsyncSession, settings: Settings, now: datetime) -> int:
    """When a session's check-in opens, push 签到 to its invitees; returns messages queued.

    Each member is told once per session (the outbox key), so running every minute, or
    again after a restart, repeats nothing; someone invited later still gets it.
    """
    queued = 0
    for study in await sessions.sessions_starting(
        db=db, start=now - _CHECKIN_REACH, end=now + _CHECKIN_REACH
    ):
        if window_state(study, now) == Window.OPEN:
            queued += await notify.queue_checkin_open(
                db=db, study=study, settings=settings, now=now
            )
    return queued


async def next_session_event(
    *, db: AsyncSession, after: datetime, tz: ZoneInfo
) -> datetime | None:
    """The next moment a session job has something to do: a check-in opening or closing,
    or an evening digest (the sandbox's "to the next reminder" stops at each)."""
    moments = []
    for study in await sessions.sessions_starting(
        db=db, start=after - _CHECKIN_REACH, end=after + timedelta(days=400)
    ):
        evening = datetime.combine(
            local_date(study.starts_at, tz) - timedelta(days=1), time(DIGEST_HOUR), tzinfo=tz
        )
        for moment in (checkin_opens_at(study), checkin_closes_at(study), evening):
            if moment > after:
                moments.append(moment.astimezone(UTC))
    return min(moments, default=None)


async def close_finished(*, db: AsyncSession, settings: Settings, now: datetime) -> int:
    """Finalise every session whose check-in window has closed; returns how many."""
    closed = 0
    for study in await sessions.sessions_to_close(db=db, now=now):
        if now >= checkin_closes_at(study) and await session_ops.close(
            db=db, study=study, settings=settings, now=now
        ):
            closed += 1
    return closed


async def extend_all_series(*, db: AsyncSession, settings: Settings, now: datetime) -> int:
    """Generate the next few weeks of every active series; returns occurrences created."""
    created = 0
    for series in await sessions.active_series(db=db):
        created += len(
            await session_ops.extend_series(db=db, series=series, settings=settings, now=now)
        )
    return created


async def follow_the_roster(
    *,
    db: AsyncSession,
    settings: Settings,
    now: datetime,
    member_ids: Sequence[int] | None = None,
) -> int:
    """Keep the invited lists of sessions not started in step with the roster.

    A member who joined a branch, moved into it or registered on Telegram after its
    sessions were scheduled is invited to them; one who moved away or left is taken off.
    ``member_ids`` narrows the work to those members (right after they changed). Returns
    invitations queued.
    """
    await attendance.withdraw_departed(db=db, now=now, member_ids=member_ids)
    await attendance.enrol(db=db, now=now, member_ids=member_ids)
    queued = 0
    waiting = await attendance.uninvited(db=db, now=now, member_ids=member_ids)
    for session_id, invitees in waiting.items():
        study = await sessions.get_session(db=db, session_id=session_id)
        if study is not None:
            queued += await notify.queue_invitations(
                db=db,
                study=study,
                settings=settings,
                now=now,
                only=set(invitees),
            )
    return queued


async def send_digests(*, db: AsyncSession, settings: Settings, now: datetime) -> int:
    """From the evening hour on, tell officers who has not answered for tomorrow."""
    local = now.astimezone(settings.tz)
    if local.hour < DIGEST_HOUR:
        return 0
    tomorrow = local.date() + timedelta(days=1)
    start = datetime.combine(tomorrow, time(0), tzinfo=settings.tz).astimezone(UTC)
    queued = 0
    for study in await sessions.sessions_starting(
        db=db, start=start, end=start + timedelta(days=1)
    ):
        org = await orgs.get_org(db=db, org_id=study.org_id)
        if org is not None:
            queued += await notify.queue_digest(
                db=db, study=study, org=org, settings=settings, now=now
            )
    return queued


def _ancestor(org: OrgUnit, distance: int) -> int | None:
    """The id of the org ``distance`` levels above (from the materialised path)."""
    ids = [int(part) for part in org.path.strip("/").split("/")]
    return ids[-1 - distance] if distance < len(ids) else None


async def _ladder_name(db: AsyncSession, org: OrgUnit) -> str:
    """How the ladder names a silent org: a party group with its branch, else the org."""
    if org.kind != OrgKind.PARTY_GROUP or org.parent_id is None:
        return org.name
    branch = await orgs.get_org(db=db, org_id=org.parent_id)
    return f"{branch.name} · {org.name}" if branch is not None else org.name


async def climb_ladder(*, db: AsyncSession, settings: Settings, now: datetime) -> int:
    """The silent-branch ladder: start it for missed periods, climb it weekly, stop it.

    A period is judged only if it ended after partybot scheduled its first session, so
    the months before the county started using it raise nothing. Returns messages queued.
    """
    first = await escalations.first_session_created_at(db=db)
    if first is None:
        return 0
    today = local_date(now, settings.tz)
    held = await escalations.last_held(db=db, now=now)
    steps: dict[tuple[int, int], list[Silence]] = defaultdict(list)  # (tell, level): what
    units = await escalations.orgs_of_kinds(db=db, kinds=list(REQUIRED_KINDS))
    for org in units:
        assert org.id is not None
        for kind in REQUIRED_KINDS[org.kind]:
            start, end = previous_period(kind, today)
            ended = datetime.combine(end, time(0), tzinfo=settings.tz)
            if ended <= first or not is_silent(held.get((org.id, kind)), start, settings.tz):
                continue
            teller = _ancestor(org, ladder_distance(org.kind, 1))
            if teller is not None and await escalations.open_escalation(
                db=db, org_id=org.id, kind=kind, period_start=start, now=now
            ):
                steps[(teller, 1)].append(Silence(await _ladder_name(db, org), kind, start))
    for escalation in await escalations.open_escalations(db=db):
        assert escalation.id is not None
        if not is_silent(
            held.get((escalation.org_id, escalation.kind)), escalation.period_start, settings.tz
        ):
            await escalations.resolve_escalation(db=db, escalation_id=escalation.id, now=now)
            continue
        level = escalation.level  # read before stepping: the update refreshes the object
        if not ladder_step_due(level, escalation.last_step_at, now):
            continue
        silent_org = await orgs.get_org(db=db, org_id=escalation.org_id)
        if silent_org is None:
            continue
        above = _ancestor(silent_org, ladder_distance(silent_org.kind, level + 1))
        if above is None:
            continue
        if await escalations.step_escalation(
            db=db, escalation_id=escalation.id, from_level=level, now=now
        ):
            name = await _ladder_name(db, silent_org)
            silence = Silence(name, escalation.kind, escalation.period_start)
            steps[(above, level + 1)].append(silence)
    queued = 0
    for (tell_id, level), items in steps.items():
        tell = await orgs.get_org(db=db, org_id=tell_id)
        if tell is None:
            continue
        names = sorted(f"{s.org_name}|{s.kind.value}|{s.period_start}" for s in items)
        key = hashlib.sha256("\n".join(names).encode()).hexdigest()[:16]
        queued += await notify.queue_silence(
            db=db,
            level=level,
            tell=tell,
            items=items,
            key=f"{tell_id}:{today}:{key}",
            settings=settings,
            now=now,
        )
    return queued
