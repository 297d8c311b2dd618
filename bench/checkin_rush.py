"""A check-in rush: members tapping 参加 and 签到 and typing check-in codes at the same time.

The emulator runs in a process of its own (bench/_emulator.py) with a crowd in it
(bench/_crowd.py) that pushes every member's update at its moment and times, on its own
clock, when the bot answers it. Every Bot API call of the bot process is delayed by
`DELAY`, as a trip to Telegram's servers is. Two scenes, each with members of their own:

* **at once**: `RUSH_MEMBERS` members' callback queries queued at the same moment, half
  on 参加 (under the invitation), half on 签到 (under the "check-in is open" message):
  answers a second (answerCallbackQuery) and p50/p99 from update to answer;
* **within a minute**: as many other members tap 签到 at the issue's pace (5,000 a
  minute) and type the code the bot asks for: the taps' p50/p99, the codes' reply p50/p99,
  and correct codes refused.

The baseline, in the same process and run against the same emulator: a bare
python-telegram-bot Application (concurrent updates) whose handler only answers the
callback, given the same taps at the same moments (it asks for no code, so it gets none).
Then partybot (`bot.app.build_application`, as `partybot run` builds it) on a fresh
database with those members invited. On SQLite, and on PostgreSQL when
`BENCH_POSTGRES_URL` names a scratch database (its public schema is dropped and rebuilt).
"""

from __future__ import annotations

import asyncio
import cProfile
import os
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.pool import NullPool
from telegram import Update
from telegram.ext import Application, ApplicationBuilder, CallbackQueryHandler, ContextTypes
from telegram.request import HTTPXRequest

from bench._emulator import TOKEN, Emulator, StartedClock, emulator_process
from bench._table import Row
from bot import session_ops
from bot.app import build_application, polling
from bot.context import SERVICES_KEY, Services
from bot.i18n import gettext
from bot.lanes import LaneRequest
from bot.session_buttons import ATTEND, CHECK_IN
from bot.session_duties import announce_checkin
from bot.session_ops import SessionPlan
from bot.settings import Settings, load_settings
from storage import Database, accounts, members, orgs, sync_url, upgrade_to_head
from storage.models import AudienceKind, MemberStatus, OrgKind, SessionKind

MEMBERS = int(os.environ.get("RUSH_MEMBERS", "1000"))
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "").strip()
PROFILE = os.environ.get("RUSH_PROFILE", "").strip()  # a path prefix: cProfile of partybot
PER_BRANCH = 50
DELAY = 0.1  # seconds a Bot API call takes to travel
PACE = 5000 / 60  # the 5,000 members within a minute
START = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)  # 19:00 in Shanghai
SESSION_AT = START + timedelta(hours=2)  # check-in opens 3 h before: open all run long
RATE_GOAL = 0.5  # of the bare application's answers a second
P99_GOAL = 1.0  # seconds
WAIT = 1800.0  # seconds a scene may take before the benchmark gives up
STALL = 90.0  # seconds without any answer before it gives up (one was lost)
FIRST_USER_ID = 1_000_001  # the emulator's first person (sandbox.world.FIRST_USER_ID)


@contextmanager
def delayed_bot_api() -> Iterator[None]:
    """Every HTTP request to the Bot API takes DELAY seconds longer (getUpdates too):
    PTB's own request class (the bare application, getUpdates) and the lanes partybot's
    bot and relay send through."""
    originals = {kind: kind.do_request for kind in (HTTPXRequest, LaneRequest)}

    def delayed(original: Any) -> Any:
        async def slow(self: Any, *args: Any, **kwargs: Any) -> Any:
            await asyncio.sleep(DELAY)
            return await original(self, *args, **kwargs)

        return slow

    for kind, original in originals.items():
        kind.do_request = delayed(original)  # type: ignore[method-assign]
    try:
        yield
    finally:
        for kind, original in originals.items():
            kind.do_request = original  # type: ignore[method-assign]


@dataclass
class Scene:
    """What one scene measured (seconds)."""

    taps: list[float]  # update to answerCallbackQuery
    span: float  # first update queued to last tap answered
    follow_span: float | None  # first update to the last message or edit after a tap
    codes: list[float] = field(default_factory=list)  # typed code to its reply
    refused: int = 0  # correct codes not answered with ✅
    cpu: float = 0.0  # CPU seconds of the bot's process
    statements: int = 0
    commits: int = 0

    @property
    def rate(self) -> float:
        return len(self.taps) / self.span


@dataclass
class Run:
    """Both scenes of one bot."""

    at_once: Scene
    minute: Scene


class Crowd:
    """The emulator's crowd, driven over HTTP (bench/_crowd.py)."""

    def __init__(self, emulator: Emulator) -> None:
        self.url = emulator.url
        self.users = [FIRST_USER_ID + n for n in range(len(emulator.chats))]

    async def _post(self, path: str, body: dict[str, Any]) -> None:
        async with httpx.AsyncClient(timeout=60) as client:
            (await client.post(f"{self.url}{path}", json=body)).raise_for_status()

    async def plant(self, labels: list[str]) -> None:
        await self._post("/_crowd/plant", {"users": self.users, "labels": labels})

    async def scene(
        self, actions: list[dict[str, Any]], *, follow: bool, key: bytes = b""
    ) -> list[dict[str, Any]]:
        """Run the actions and return every step once each is answered."""
        await self._post("/_crowd/run", {"actions": actions, "follow": follow, "key": key.hex()})
        deadline = time.monotonic() + WAIT
        last, moved = -1, time.monotonic()
        async with httpx.AsyncClient(timeout=120) as client:
            while True:
                answer = await client.get(f"{self.url}/_crowd/wait", params={"timeout": 30})
                outstanding = int(answer.json()["outstanding"])
                if not outstanding:
                    break
                now = time.monotonic()
                if outstanding != last:
                    last, moved = outstanding, now
                elif now - moved > STALL:
                    raise RuntimeError(f"no answer for {STALL:.0f} s, {outstanding} missing")
                if now > deadline:
                    raise RuntimeError(f"{outstanding} answers still missing after {WAIT:.0f} s")
            steps: list[dict[str, Any]] = (await client.get(f"{self.url}/_crowd/results")).json()[
                "steps"
            ]
        return steps


def _scene(steps: list[dict[str, Any]], cpu: float) -> Scene:
    taps = [step for step in steps if step["kind"] == "tap"]
    codes = [step for step in steps if step["kind"] == "code"]
    first = min(step["pushed"] for step in steps)
    followed = [step["followed"] for step in taps if step["followed"] is not None]
    return Scene(
        taps=[step["answered"] - step["pushed"] for step in taps],
        span=max(step["answered"] for step in taps) - first,
        follow_span=max(followed) - first if followed else None,
        codes=[step["answered"] - step["pushed"] for step in codes],
        refused=sum(1 for step in codes if not (step["text"] or "").startswith("✅")),
        cpu=cpu,
    )


def _actions(
    users: list[int], sessions: dict[int, int] | None, language: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(at once, within a minute): the first half of ``users`` tap at once, 参加 and 签到
    in turn; the second half tap 签到 at PACE a second (and type the code when asked, if
    ``sessions`` maps each to their session)."""
    attend, check_in = gettext(language, ATTEND), gettext(language, CHECK_IN)
    crowd, later = users[: len(users) // 2], users[len(users) // 2 :]
    at_once = [
        {"user": user, "at": 0, "tap": attend if n % 2 == 0 else check_in}
        for n, user in enumerate(crowd)
    ]
    minute = []
    for n, user in enumerate(later):
        action: dict[str, Any] = {"user": user, "at": n / PACE, "tap": check_in}
        if sessions is not None:
            action["code"] = sessions[user]
        minute.append(action)
    return at_once, minute


# --- the baseline: a bare python-telegram-bot Application -------------------------------


async def _answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.callback_query is not None
    await update.callback_query.answer()


async def bare(emulator: Emulator, language: str) -> Run:
    """The same taps against PTB with one handler that only answers them."""
    crowd = Crowd(emulator)
    await crowd.plant([gettext(language, ATTEND), gettext(language, CHECK_IN)])
    application = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(f"{emulator.url}/bot")
        .concurrent_updates(True)
        .build()
    )
    application.add_handler(CallbackQueryHandler(_answer))
    at_once, minute = _actions(crowd.users, None, language)
    async with _running(application):
        return Run(
            await _timed(crowd.scene(at_once, follow=False)),
            await _timed(crowd.scene(minute, follow=False)),
        )


@asynccontextmanager
async def _running(application: Application[Any, Any, Any, Any, Any, Any]) -> AsyncIterator[None]:
    await application.initialize()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0.0, timeout=1)
    await application.start()
    try:
        yield
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()


async def _timed(scene: Any) -> Scene:
    """Run a scene with the Bot API delayed; the bot process's CPU time with it."""
    cpu = time.process_time()
    with delayed_bot_api():
        steps = await scene
    return _scene(steps, time.process_time() - cpu)


# --- partybot ---------------------------------------------------------------------------


async def _county(database: Database, users: list[int]) -> dict[int, int]:
    """Branches of PER_BRANCH members, each member on Telegram: telegram id -> branch id.

    Their accounts were last seen a day ago, as most of a rush's members were.
    """
    branch_of: dict[int, int] = {}
    seen = START - timedelta(days=1)
    async with database.session_scope() as db:
        county = await orgs.create_org(db=db, code="C", name="县", kind=OrgKind.COUNTY)
        for b, first in enumerate(range(0, len(users), PER_BRANCH)):
            branch = await orgs.create_org(
                db=db,
                code=f"V{b:03d}",
                name=f"第{b}村党支部",
                kind=OrgKind.VILLAGE_BRANCH,
                parent_id=county.id,
            )
            assert branch.id is not None
            for user in users[first : first + PER_BRANCH]:
                name = f"p{user - FIRST_USER_ID}"  # the emulator's name for them
                await accounts.ensure_account(
                    db=db, telegram_user_id=user, first_name=name, now=seen
                )
                await members.create_member(
                    db=db,
                    name=f"党员{user - FIRST_USER_ID}",
                    org_id=branch.id,
                    status=MemberStatus.FULL,
                    telegram_user_id=user,
                )
                branch_of[user] = branch.id
    return branch_of


async def _sessions(
    database: Database, settings: Settings, branch_of: dict[int, int]
) -> dict[int, int]:
    """One session tonight per branch, check-in open: telegram id -> session id."""
    session_of_branch: dict[int, int] = {}
    async with database.session_scope() as db:
        for branch_id in sorted(set(branch_of.values())):
            scheduled = await session_ops.schedule(
                db=db,
                plan=SessionPlan(
                    org_id=branch_id,
                    kind=SessionKind.THEME_PARTY_DAY,
                    topic="主题党日",
                    starts_at=SESSION_AT,
                    duration_minutes=90,
                    place="村委会",
                    audience_kind=AudienceKind.BRANCH,
                    audience_org_id=branch_id,
                    reminder_offsets=(),
                ),
                actor=1,
                settings=settings,
                now=START,
            )
            assert scheduled.study.id is not None
            session_of_branch[branch_id] = scheduled.study.id
        await announce_checkin(db=db, settings=settings, now=START)  # 签到 to everyone
    return {user: session_of_branch[branch] for user, branch in branch_of.items()}


class Statements:
    """SQL statements and commits on a database's engine while counting."""

    def __init__(self, database: Database) -> None:
        self.statements = self.commits = 0
        engine = database.engine.sync_engine
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)

    def _statement(self, *args: Any) -> None:
        self.statements += 1

    def _commit(self, *args: Any) -> None:
        self.commits += 1

    def take(self) -> tuple[int, int]:
        counted = self.statements, self.commits
        self.statements = self.commits = 0
        return counted


async def partybot(emulator: Emulator, url: str, clock: StartedClock, name: str) -> Run:
    """The same scenes against partybot on a fresh database at ``url``."""
    await asyncio.to_thread(upgrade_to_head, url)
    database = Database(url)
    crowd = Crowd(emulator)
    settings = load_settings(
        env_file=None,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=emulator.url,
        PARTYBOT_DATABASE_URL=url,
        PARTYBOT_RELAY_RATE=1000,
        PARTYBOT_LOG_LEVEL="WARNING",
        PARTYBOT_CHECKIN_OPENS_MINUTES=180,
    )
    try:
        branch_of = await _county(database, crowd.users)
        session_of = await _sessions(database, settings, branch_of)
        application = build_application(settings, database=database, clock=clock)
        at_once, minute = _actions(crowd.users, session_of, settings.language)
        async with polling(application, poll_timeout=1):
            services: Services = application.bot_data[SERVICES_KEY]
            await services.relay.drained()  # every invitation and 签到 is on screen
            counter = Statements(database)
            key = settings.signing_key
            with _profiled(name):
                first = await _timed(crowd.scene(at_once, follow=True))
                first.statements, first.commits = counter.take()
                second = await _timed(crowd.scene(minute, follow=True, key=key))
                second.statements, second.commits = counter.take()
            return Run(first, second)
    finally:
        await database.dispose()


@contextmanager
def _profiled(name: str) -> Iterator[None]:
    """With RUSH_PROFILE set, cProfile the bot process during the scenes."""
    if not PROFILE:
        yield
        return
    profile = cProfile.Profile()
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        profile.dump_stats(f"{PROFILE}-{name}.prof")
        print(f"profile written to {PROFILE}-{name}.prof")


# --- one database -----------------------------------------------------------------------


def _empty_postgres(url: str) -> None:
    """Drop and rebuild the public schema of the scratch database at ``url``."""
    engine = sa.create_engine(sync_url(url), poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
    finally:
        engine.dispose()


async def measure(name: str, url: str) -> tuple[Run, Run]:
    """(bare PTB, partybot) on the database at ``url``, one emulator for both."""
    clock = StartedClock(START, time.time())
    async with emulator_process(2 * MEMBERS, clock=clock) as emulator:
        baseline = await bare(emulator, "zh")
        ours = await partybot(emulator, url, clock, name)
    return baseline, ours


def _seconds(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} / {percentile(values, 0.99):.2f} s"


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def report(name: str, baseline: Run, ours: Run) -> list[Row]:
    """Print the detail and return the table's rows for one database."""
    window = MEMBERS / PACE
    for label, scene in (("at once", ours.at_once), ("within a minute", ours.minute)):
        updates = len(scene.taps) + len(scene.codes)
        follow = f"{scene.follow_span:.1f} s" if scene.follow_span is not None else "-"
        print(
            f"  {name}, {label}: {updates} updates; per update {scene.cpu / updates * 1000:.1f} ms"
            f" CPU, {scene.statements / updates:.1f} statements, {scene.commits / updates:.2f}"
            f" commits; last follow-up (edit or message) after {follow}"
        )
    for label, scene in (("at once", baseline.at_once), ("within a minute", baseline.minute)):
        print(
            f"  {name}, bare PTB {label}: per update {scene.cpu / len(scene.taps) * 1000:.1f} ms"
            f" CPU; answers {_seconds(scene.taps)} (p50 / p99)"
        )
    rate, base_rate = ours.at_once.rate, baseline.at_once.rate
    at_once_p99 = percentile(ours.at_once.taps, 0.99)
    minute_p99 = percentile(ours.minute.taps, 0.99)
    codes = ours.minute.codes
    head = f"check-in rush, {name}"
    return [
        Row(
            f"{head}: {MEMBERS:,} taps at once, answered a second",
            f"{rate:.0f}/s",
            f"{base_rate:.0f}/s bare PTB",
            f"{rate / base_rate:.2f}",
            f"≥ {RATE_GOAL}",
            rate / base_rate >= RATE_GOAL,
        ),
        Row(
            f"{head}: taps at once, answer p50 / p99",
            _seconds(ours.at_once.taps),
            f"{_seconds(baseline.at_once.taps)} bare PTB",
            f"{at_once_p99 / percentile(baseline.at_once.taps, 0.99):.2f}x",
        ),
        Row(
            f"{head}: {MEMBERS:,} 签到 taps in {window:.0f} s, answer p50 / p99",
            _seconds(ours.minute.taps),
            f"{_seconds(baseline.minute.taps)} bare PTB",
            f"{minute_p99 / percentile(baseline.minute.taps, 0.99):.2f}x",
            f"p99 < {P99_GOAL:.0f} s",
            minute_p99 < P99_GOAL,
        ),
        Row(
            f"{head}: the {len(codes):,} typed codes, reply p50 / p99",
            _seconds(codes) if codes else "-",
            "",
            "",
        ),
        Row(
            f"{head}: correct codes refused",
            f"{ours.minute.refused} of {len(codes):,}",
            "",
            "",
            "0",
            ours.minute.refused == 0 and len(codes) == MEMBERS,
        ),
    ]


def databases() -> list[tuple[str, str | None]]:
    """(name, URL) to measure on: SQLite (URL made per run), and PostgreSQL if given."""
    found: list[tuple[str, str | None]] = [("SQLite", None)]
    if POSTGRES_URL:
        found.append(("PostgreSQL", POSTGRES_URL))
    return found


async def _measure_on(name: str, url: str | None) -> tuple[Run, Run]:
    if url is not None:
        await asyncio.to_thread(_empty_postgres, url)
        return await measure(name, url)
    with tempfile.TemporaryDirectory() as directory:
        return await measure(name, f"sqlite+aiosqlite:///{Path(directory) / 'rush.db'}")


def main() -> list[Row]:
    """Both scenes on each database, bare PTB first, and the table's rows."""
    print(
        f"{MEMBERS:,} callback queries at once, then {MEMBERS:,} 签到 taps and typed codes at"
        f" {PACE * 60:,.0f} a minute; {DELAY * 1000:.0f} ms per Bot API call"
    )
    rows: list[Row] = []
    for name, url in databases():
        baseline, ours = asyncio.run(_measure_on(name, url))
        rows.extend(report(name, baseline, ours))
    return rows


if __name__ == "__main__":
    main()
