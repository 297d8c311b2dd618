"""The sandbox's clock control: one clock for bot and emulator, and jobs that look at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from bot.clock import OffsetClock
from bot.context import SERVICES_KEY, Services
from bot.session_duties import next_session_event
from demo.app import Sandbox
from demo.time_control import Jump, wake_jobs
from tests.support.sandbox import START, copy_template, sandbox_at, seeded_template


@pytest.fixture(scope="module")
def template() -> Path:
    return seeded_template()


@pytest.fixture
async def sandbox(template: Path, tmp_path: Path) -> AsyncIterator[Sandbox]:
    async with sandbox_at(copy_template(template, tmp_path)) as running:
        yield running


def test_offset_clock_runs_with_the_wall_and_only_jumps_forward() -> None:
    wall = [datetime(2026, 5, 1, 12, 0, tzinfo=UTC)]
    clock = OffsetClock(wall=lambda: wall[0])
    assert clock.now() == wall[0]
    wall[0] += timedelta(seconds=7)
    assert clock.now() == datetime(2026, 5, 1, 12, 0, 7, tzinfo=UTC)
    assert clock.advance(timedelta(days=1)) == datetime(2026, 5, 2, 12, 0, 7, tzinfo=UTC)
    assert clock.offset == timedelta(days=1)
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(timedelta(seconds=-1))
    with pytest.raises(ValueError, match="negative"):
        OffsetClock(timedelta(hours=-1))
    assert abs(OffsetClock(timedelta(hours=2)).now() - datetime.now(UTC) - timedelta(hours=2)) < (
        timedelta(seconds=5)
    )


async def test_a_jump_moves_the_bots_clock_and_the_emulators_together(sandbox: Sandbox) -> None:
    services: Services = sandbox.application.bot_data[SERVICES_KEY]
    result = await sandbox.time.jump(Jump.HOUR)
    assert result.moved == timedelta(hours=1)
    assert result.now == START + timedelta(hours=1)
    assert services.clock.now() == sandbox.world.now() == START + timedelta(hours=1)
    await sandbox.time.jump(Jump.DAY)
    member = sandbox.world.users[sandbox.cast[4].telegram_user_id]
    sent = await member.send("/help")
    assert sent["date"] == int((START + timedelta(days=1, hours=1)).timestamp())
    reply = await member.wait_for_reply()
    assert reply.date == sent["date"]


async def test_after_a_jump_every_scheduled_job_runs_at_once(sandbox: Sandbox) -> None:
    scheduler = sandbox.application.bot_data["scheduler"]
    services: Services = sandbox.application.bot_data[SERVICES_KEY]
    seen: list[datetime] = []
    ran = asyncio.Event()

    async def job_look() -> None:
        seen.append(services.clock.now())
        ran.set()

    far = datetime.now(UTC) + timedelta(days=30)
    scheduler.add_job(job_look, "interval", days=30, next_run_time=far, id="sandbox_test_look")
    paused = scheduler.add_job(job_look, "interval", days=30, id="sandbox_test_paused")
    paused.pause()
    expected = sum(1 for job in scheduler.get_jobs() if job.next_run_time is not None)

    result = await sandbox.time.jump(Jump.DAY)
    await asyncio.wait_for(ran.wait(), 5)
    assert seen == [START + timedelta(days=1)]
    assert result.jobs_woken == expected
    assert scheduler.get_job("sandbox_test_paused").next_run_time is None
    assert scheduler.get_job("sandbox_test_look").next_run_time > datetime.now(UTC)


def test_waking_jobs_without_a_scheduler_does_nothing() -> None:
    assert wake_jobs(None) == 0


async def test_to_the_next_reminder_and_nothing_when_none_is_pending(sandbox: Sandbox) -> None:
    async with sandbox.database.session_scope() as db:
        due = sorted(
            row[0]
            for row in (
                await db.exec(
                    sa.text(  # type: ignore[call-overload]
                        "SELECT due_at FROM session_reminder WHERE state = 'pending'"
                    )
                )
            ).all()
        )
    reminders = [datetime.fromisoformat(d).replace(tzinfo=UTC) for d in due]
    async with sandbox.database.session_scope() as db:
        event = await next_session_event(db=db, after=START, tz=sandbox.time.tz)
    assert event is not None
    first = min(reminders[0], event)
    async with sandbox.database.session_scope() as db:
        later = await next_session_event(db=db, after=first, tz=sandbox.time.tz)
    assert later is not None
    following = min([r for r in reminders if r > first] + [later])
    assert await sandbox.time.next_due() == first

    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        answer = (await http.post("/_sandbox/clock", json={"jump": "next"})).json()
        assert datetime.fromisoformat(answer["now"]) == first
        assert answer["moved_seconds"] == int((first - START).total_seconds())
        assert datetime.fromisoformat(answer["next_due"]) == following

        async with sandbox.database.session_scope() as db:
            await db.exec(sa.text("UPDATE session_reminder SET state = 'sent'"))  # type: ignore[call-overload]
            await db.exec(sa.text("UPDATE delivery SET state = 'sent'"))  # type: ignore[call-overload]
            await db.exec(sa.text("UPDATE study_session SET state = 'closed'"))  # type: ignore[call-overload]
            await db.exec(sa.text("DELETE FROM contact_point"))  # type: ignore[call-overload]
        before = sandbox.clock.now()
        answer = (await http.post("/_sandbox/clock", json={"jump": "next"})).json()
        assert answer["moved_seconds"] == 0
        assert answer["next_due"] is None
        assert sandbox.clock.now() == before
        state = (await http.get("/_sandbox/state")).json()
        assert state["offset_seconds"] == int((first - START).total_seconds())
