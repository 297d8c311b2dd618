"""Session jobs: reminders, check-in opening, closing, series, the roster, the digest, the ladder.

Each ``job_*`` opens one short transaction, asks bot.session_duties what is due at the
clock's ``now`` and returns how many things it did; tests call them directly with an
injected clock. The jobs need no Bot: everything they say goes through the outbox, and
schedules/registry.py runs them and wakes the relay when a job queued something.
"""

from __future__ import annotations

from telegram import Bot

from bot import session_duties as duties
from bot.checkin_screen import LiveScreens, refresh_screens
from bot.clock import Clock
from bot.settings import Settings
from storage import Database


async def job_due_reminders(database: Database, clock: Clock, *, settings: Settings) -> int:
    """Send the reminders whose time has come (messages queued)."""
    async with database.session_scope() as db:
        return await duties.send_due_reminders(db=db, settings=settings, now=clock.now())


async def job_open_checkin(database: Database, clock: Clock, *, settings: Settings) -> int:
    """Push 签到 to the invitees of sessions whose check-in has opened."""
    async with database.session_scope() as db:
        return await duties.announce_checkin(db=db, settings=settings, now=clock.now())


async def job_close_sessions(database: Database, clock: Clock, *, settings: Settings) -> int:
    """Finalise sessions whose check-in has closed: absences, make-up, warnings."""
    async with database.session_scope() as db:
        return await duties.close_finished(db=db, settings=settings, now=clock.now())


async def job_extend_series(database: Database, clock: Clock, *, settings: Settings) -> int:
    """Generate the coming weeks of every repeating session."""
    async with database.session_scope() as db:
        return await duties.extend_all_series(db=db, settings=settings, now=clock.now())


async def job_follow_the_roster(database: Database, clock: Clock, *, settings: Settings) -> int:
    """Invite newcomers to sessions already scheduled; take leavers off them."""
    async with database.session_scope() as db:
        return await duties.follow_the_roster(db=db, settings=settings, now=clock.now())


async def job_evening_digest(database: Database, clock: Clock, *, settings: Settings) -> int:
    """The evening before a session, tell its officers who has not answered."""
    async with database.session_scope() as db:
        return await duties.send_digests(db=db, settings=settings, now=clock.now())


async def job_silent_ladder(database: Database, clock: Clock, *, settings: Settings) -> int:
    """Start, climb and stop the silent-branch ladder."""
    async with database.session_scope() as db:
        return await duties.climb_ladder(db=db, settings=settings, now=clock.now())


SCREEN_REFRESH_SECONDS = 20


async def job_refresh_screens(
    bot: Bot, screens: LiveScreens, database: Database, clock: Clock, *, settings: Settings
) -> int:
    """Edit the officers' check-in screens whose code rotated (screens edited)."""
    return await refresh_screens(
        bot=bot, screens=screens, database=database, settings=settings, now=clock.now()
    )
