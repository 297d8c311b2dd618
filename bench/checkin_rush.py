"""A check-in rush: members tapping 参加 and sending check-in codes within the same minute.

Two identical runs, each against its own database and emulator, in one process: the
baseline handles updates one at a time (PTB's default), the other with partybot's
`PerChatProcessor` (different chats in parallel, each chat in order). Every call to the
Bot API is delayed by `DELAY` seconds, as a trip to Telegram's servers is. Measured: the
answer latency of each tap (answerCallbackQuery) and each code (the reply), p50 and p99,
and how many correct codes were refused because they were handled after they expired.

The bot's clock runs `SCALE` times faster than the wall clock, so a code's few minutes of
validity pass in a few seconds of benchmark. `RUSH_MEMBERS` (environment, default 300)
members tap and as many others send their code, all at once.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from telegram.ext import BaseUpdateProcessor, SimpleUpdateProcessor
from telegram.request import HTTPXRequest

from bench._table import Row
from bot import session_ops
from bot.app import build_application, polling
from bot.checkin import current_code
from bot.context import SERVICES_KEY, Services
from bot.session_ops import SessionPlan
from bot.settings import Settings, load_settings
from bot.updates import PerChatProcessor
from sandbox import EmulatorServer, SimUser, World
from storage import Database, accounts, members, orgs, upgrade_to_head
from storage.models import AudienceKind, MemberStatus, OrgKind, SessionKind

TOKEN = "123456789:" + "B" * 35
MEMBERS = int(os.environ.get("RUSH_MEMBERS", "300"))
PER_BRANCH = 50
DELAY = 0.1  # seconds a Bot API call takes to travel
SCALE = 10.0  # bot seconds per wall-clock second
START = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)  # 19:00 in Shanghai; check-in is open


class FastClock:
    """The bot's clock: starts at `START` and runs SCALE times faster than the wall clock."""

    def __init__(self) -> None:
        self._origin = time.perf_counter()

    def now(self) -> datetime:
        return START + timedelta(seconds=(time.perf_counter() - self._origin) * SCALE)


@asynccontextmanager
async def delayed_bot_api() -> AsyncIterator[None]:
    """Every HTTP request the bot makes takes DELAY seconds longer (getUpdates too)."""
    original = HTTPXRequest.do_request

    async def slow(self: HTTPXRequest, *args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(DELAY)
        return await original(self, *args, **kwargs)

    HTTPXRequest.do_request = slow  # type: ignore[method-assign]
    try:
        yield
    finally:
        HTTPXRequest.do_request = original  # type: ignore[method-assign]


@dataclass
class Outcome:
    """What one run measured."""

    tap_latencies: list[float]
    code_latencies: list[float]
    refused_codes: int


async def _county(
    database: Database, world: World, count: int
) -> tuple[list[tuple[SimUser, int]], list[int]]:
    """Branches of PER_BRANCH members on Telegram: (person, branch id) each, branch ids."""
    people: list[tuple[SimUser, int]] = []
    async with database.session_scope() as db:
        county = await orgs.create_org(db=db, code="C", name="县", kind=OrgKind.COUNTY)
        branch_ids = []
        for b in range((count + PER_BRANCH - 1) // PER_BRANCH):
            branch = await orgs.create_org(
                db=db,
                code=f"V{b:03d}",
                name=f"第{b}村党支部",
                kind=OrgKind.VILLAGE_BRANCH,
                parent_id=county.id,
            )
            assert branch.id is not None
            branch_ids.append(branch.id)
            for n in range(min(PER_BRANCH, count - b * PER_BRANCH)):
                user = world.add_user(f"党员{b}-{n}")
                await accounts.ensure_account(
                    db=db, telegram_user_id=user.id, first_name=user.first_name
                )
                await members.create_member(
                    db=db,
                    name=user.first_name,
                    org_id=branch.id,
                    status=MemberStatus.FULL,
                    telegram_user_id=user.id,
                )
                people.append((user, branch.id))
    return people, branch_ids


async def _sessions(
    database: Database, settings: Settings, clock: FastClock, branch_ids: list[int]
) -> dict[int, int]:
    """One session tonight per branch: branch id -> session id."""
    found: dict[int, int] = {}
    async with database.session_scope() as db:
        for branch_id in branch_ids:
            scheduled = await session_ops.schedule(
                db=db,
                plan=SessionPlan(
                    org_id=branch_id,
                    kind=SessionKind.THEME_PARTY_DAY,
                    topic="主题党日",
                    starts_at=START + timedelta(minutes=20),
                    duration_minutes=90,
                    place="村委会",
                    audience_kind=AudienceKind.BRANCH,
                    audience_org_id=branch_id,
                    reminder_offsets=(),
                ),
                actor=1,
                settings=settings,
                now=clock.now(),
            )
            assert scheduled.study.id is not None
            found[branch_id] = scheduled.study.id
    return found


async def _timed(start: float, wait: Awaitable[Any]) -> tuple[float, Any]:
    result = await wait
    return time.perf_counter() - start, result


async def run(processor: Callable[[], BaseUpdateProcessor]) -> Outcome:
    """One rush against a fresh database, emulator and bot."""
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{Path(directory) / 'rush.db'}"
        await asyncio.to_thread(upgrade_to_head, url)
        clock = FastClock()
        world = World(TOKEN, clock=clock.now)
        database = Database(url)
        try:
            async with EmulatorServer(world) as server:
                settings = load_settings(
                    env_file=None,
                    TELEGRAM_BOT_TOKEN=TOKEN,
                    TELEGRAM_API_BASE_URL=server.url,
                    PARTYBOT_DATABASE_URL=url,
                    PARTYBOT_RELAY_RATE=1000,
                    PARTYBOT_LOG_LEVEL="WARNING",
                )
                people, branch_ids = await _county(database, world, 2 * MEMBERS)
                session_of = await _sessions(database, settings, clock, branch_ids)
                application = build_application(
                    settings, database=database, clock=clock, updates=processor()
                )
                async with polling(application, poll_timeout=1):
                    services: Services = application.bot_data[SERVICES_KEY]
                    world.watch_outbox(services.relay.drained)
                    await world.outboxes_drained()  # every invitation is on screen
                    return await _rush(world, settings, clock, people, session_of)
        finally:
            await database.dispose()


async def _rush(
    world: World,
    settings: Settings,
    clock: FastClock,
    people: list[tuple[SimUser, int]],
    session_of: dict[int, int],
) -> Outcome:
    tappers, coders = people[:MEMBERS], people[MEMBERS:]
    waits = []
    async with delayed_bot_api():
        for (tapper, _), (coder, branch_id) in zip(tappers, coders, strict=True):
            started = time.perf_counter()
            query = await tapper.tap("参加")
            waits.append(_timed(started, tapper.wait_for_callback_answer(query, timeout=600)))
            session_id = session_of[branch_id]
            code = current_code(settings.signing_key, session_id, clock.now()).code
            started = time.perf_counter()
            await coder.send(f"/start ci_{session_id}_{code}")
            waits.append(_timed(started, coder.wait_for_reply(timeout=600)))
        results = await asyncio.gather(*waits)
    taps = [seconds for seconds, _ in results[0::2]]
    codes = [seconds for seconds, _ in results[1::2]]
    refused = sum(1 for _, reply in results[1::2] if not (reply.text or "").startswith("✅"))
    return Outcome(taps, codes, refused)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _line(name: str, outcome: Outcome, baseline: Outcome | None) -> str:
    everything = outcome.tap_latencies + outcome.code_latencies
    p50, p99 = statistics.median(everything), _percentile(everything, 0.99)
    ratio = ""
    if baseline is not None:
        base = baseline.tap_latencies + baseline.code_latencies
        ratio = (
            f" = {p50 / statistics.median(base):.2f}× / {p99 / _percentile(base, 0.99):.2f}×"
            " the baseline"
        )
    return (
        f"{name}: p50 {p50:.2f} s, p99 {p99:.2f} s{ratio}; "
        f"taps p50 {statistics.median(outcome.tap_latencies):.2f} s, "
        f"codes p50 {statistics.median(outcome.code_latencies):.2f} s; "
        f"correct codes refused: {outcome.refused_codes} of {len(outcome.code_latencies)}"
    )


def main() -> list[Row]:
    """Print both runs, the concurrent one as a ratio of the one-at-a-time baseline."""
    print(
        f"{MEMBERS} taps on 参加 and {MEMBERS} check-in codes at once; "
        f"{DELAY * 1000:.0f} ms per Bot API call; bot clock ×{SCALE:.0f}"
    )
    sequential = asyncio.run(run(lambda: SimpleUpdateProcessor(1)))
    print(_line("baseline, one update at a time", sequential, None))
    concurrent = asyncio.run(run(PerChatProcessor))
    print(_line("PerChatProcessor", concurrent, sequential))
    return rows(concurrent, sequential)


def rows(outcome: Outcome, baseline: Outcome) -> list[Row]:
    """p50 and p99 of the PerChatProcessor run against the one-at-a-time run."""
    ours = outcome.tap_latencies + outcome.code_latencies
    theirs = baseline.tap_latencies + baseline.code_latencies
    table = []
    for label, share in (("p50", 0.5), ("p99", 0.99)):
        mine, base = _percentile(ours, share), _percentile(theirs, share)
        table.append(
            Row(
                f"check-in rush, {MEMBERS} taps + {MEMBERS} codes: {label}",
                f"{mine:.2f} s",
                f"{base:.2f} s one update at a time",
                f"{mine / base:.2f}x",
                "< 1 s" if label == "p99" else "",
                mine < 1.0 if label == "p99" else None,
            )
        )
    table.append(
        Row(
            "check-in rush: correct codes refused (expired in the queue)",
            f"{outcome.refused_codes} of {len(outcome.code_latencies)}",
            f"{baseline.refused_codes} one update at a time",
            "",
            "0",
            outcome.refused_codes == 0,
        )
    )
    return table


if __name__ == "__main__":
    main()
