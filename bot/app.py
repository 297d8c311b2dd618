"""The application factory: the one place that wires handlers, schedules and storage."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any, Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from telegram import BotCommand, Update
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    ContextTypes,
    Defaults,
)

from bot.checkin_screen import SCREENS_KEY, LiveScreens
from bot.clock import Clock, SystemClock
from bot.context import SERVICES_KEY, BotContext, Services
from bot.htmltext import HtmlBot
from bot.i18n import LANGUAGES, gettext
from bot.lanes import LaneRequest
from bot.leader import Leadership, process_identity
from bot.metrics import Metrics
from bot.notices import NoticeProgress
from bot.relay import Relay, RelayConfig, relay_bot
from bot.seen_log import SeenLog
from bot.settings import Settings
from bot.updates import PerChatProcessor, SlotReleasingRateLimiter
from handlers.registry import PUBLIC_COMMANDS, register_handlers
from schedules.registry import job_table, register
from schedules.scheduler import build_scheduler
from storage import Database

log = logging.getLogger(__name__)

PartyApplication = Application[Any, BotContext, Any, Any, Any, Any]
_SCHEDULER_KEY = "scheduler"
_CONNECTIONS = 256  # what ApplicationBuilder gives the bot's own connection pool
# The update types handlers/registry.py takes (commands and messages, edited too; taps; the
# bot blocked or unblocked), asked of Telegram by name when polling and for the webhook:
# PTB's Update.ALL_TYPES follows the newest Bot API, whose new names an older server or a
# checker of the spec refuses.
ALLOWED_UPDATES: tuple[str, ...] = (
    Update.MESSAGE,
    Update.EDITED_MESSAGE,
    Update.CALLBACK_QUERY,
    Update.MY_CHAT_MEMBER,
)


class MeteredApplication(Application[Any, BotContext, Any, Any, Any, Any]):
    """PTB's Application, counting and timing every update it handles (bot/metrics.py)."""

    async def process_update(self, update: object) -> None:
        started = time.perf_counter()
        try:
            await super().process_update(update)
        finally:
            metrics: Metrics = self.bot_data[SERVICES_KEY].metrics
            metrics.updates.inc()
            metrics.handler_seconds.observe(time.perf_counter() - started)


def build_application(
    settings: Settings,
    *,
    database: Database,
    clock: Clock | None = None,
    updates: BaseUpdateProcessor | None = None,
    relay_config: RelayConfig | None = None,
) -> PartyApplication:
    """Build the Telegram application with partybot's services and handlers attached.

    Updates are handled by `updates`, by default a `PerChatProcessor` (bot/updates.py).
    ``relay_config`` replaces the relay's pacing drawn from settings (tests space messages
    to one chat closer than Telegram's 1 s so that a conversation does not crawl).
    """
    if settings.token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is required to build the application")
    application: PartyApplication = (
        ApplicationBuilder()
        .application_class(MeteredApplication)
        .bot(html_bot(settings, settings.token))
        .context_types(ContextTypes(context=BotContext))
        .concurrent_updates(updates or PerChatProcessor())
        .job_queue(None)
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build()
    )
    clock = clock or SystemClock()
    identity = process_identity()
    metrics = Metrics()
    relay = build_relay(
        settings,
        settings.token,
        database=database,
        clock=clock,
        config=relay_config,
        worker=identity,
        metrics=metrics,
    )
    work = _LeaderWork(application, relay, metrics)
    application.bot_data[SERVICES_KEY] = Services(
        settings=settings,
        database=database,
        clock=clock,
        relay=relay,
        metrics=metrics,
        leadership=Leadership(
            database=database,
            identity=identity,
            ttl=timedelta(seconds=settings.leader_lease_seconds),
            on_elected=work.begin,
            on_deposed=work.end,
        ),
        seen=SeenLog(database),
    )
    application.bot_data[SCREENS_KEY] = LiveScreens()
    register_handlers(application)
    return application


class _LeaderWork:
    """What only the leader does: the scheduler's jobs and the relay."""

    def __init__(self, application: PartyApplication, relay: Relay, metrics: Metrics) -> None:
        self.application = application
        self.relay = relay
        self.metrics = metrics

    def _scheduler(self) -> AsyncIOScheduler | None:
        scheduler: AsyncIOScheduler | None = self.application.bot_data.get(_SCHEDULER_KEY)
        return scheduler

    async def begin(self) -> None:
        scheduler = self._scheduler()
        if scheduler is not None:
            scheduler.resume()
        await self.relay.start()
        self.metrics.leader.set(1)

    async def end(self) -> None:
        self.metrics.leader.set(0)
        scheduler = self._scheduler()
        if scheduler is not None:
            scheduler.pause()
        await self.relay.stop()


def html_bot(settings: Settings, token: str) -> HtmlBot:
    """The application's Bot: HTML by default, every plain string escaped (bot/htmltext.py).

    Its calls go over lanes (bot/lanes.py), as the relay's do: in a check-in rush up to
    `_CONNECTIONS` answers and edits are on their way at once, and through one httpx pool
    httpcore would walk every connection for every request.
    """
    return HtmlBot(
        token,
        base_url=settings.bot_api_url,
        base_file_url=settings.bot_file_url,
        defaults=Defaults(tzinfo=settings.tz, parse_mode=ParseMode.HTML),
        rate_limiter=SlotReleasingRateLimiter(max_retries=3),
        request=LaneRequest(_CONNECTIONS),
    )


def build_relay(
    settings: Settings,
    token: str,
    *,
    database: Database,
    clock: Clock,
    config: RelayConfig | None = None,
    worker: str | None = None,
    metrics: Metrics | None = None,
) -> Relay:
    """The delivery relay, with a Bot of its own (see docs/relay.md)."""
    config = config or RelayConfig(rate=settings.relay_rate)
    bot = relay_bot(
        token,
        base_url=settings.bot_api_url,
        base_file_url=settings.bot_file_url,
        config=config,
    )
    progress = NoticeProgress(bot=bot, database=database, rate=config.rate)
    return Relay(
        bot=bot,
        database=database,
        clock=clock,
        config=config,
        on_progress=progress.report,
        worker=worker,
        metrics=metrics,
    )


async def _post_init(application: PartyApplication) -> None:
    """Publish the command menus, prepare the scheduler, and campaign to lead.

    The scheduler starts paused; it runs, and the relay sends, only while this process
    holds the leader lease (bot/leader.py). A lone process wins at once.
    """
    await publish_public_commands(application)
    services: Services = application.bot_data[SERVICES_KEY]
    scheduler = build_scheduler(services.settings.tz)
    register(
        scheduler,
        job_table(
            services,
            bot=application.bot,
            screens=application.bot_data[SCREENS_KEY],
        ),
    )
    scheduler.start(paused=True)
    application.bot_data[_SCHEDULER_KEY] = scheduler
    await services.leadership.start()
    services.seen.start()
    me = application.bot
    log.info("partybot is up as @%s", me.username)


async def _post_shutdown(application: PartyApplication) -> None:
    """Hand over the lead (the relay finishes its sends in flight), close the pool."""
    services: Services = application.bot_data[SERVICES_KEY]
    await services.leadership.stop()
    scheduler = application.bot_data.pop(_SCHEDULER_KEY, None)
    if scheduler is not None:
        scheduler.shutdown(wait=False)
    await services.seen.stop()
    await services.database.dispose()


async def publish_public_commands(application: PartyApplication) -> None:
    """Set the default command menu in Chinese, and in English for English clients."""
    services: Services = application.bot_data[SERVICES_KEY]
    for language in LANGUAGES:
        commands = [BotCommand(name, gettext(language, text)) for name, text in PUBLIC_COMMANDS]
        code = None if language == services.settings.language else language
        await application.bot.set_my_commands(commands, language_code=code)


class Service(Protocol):
    """Something that runs beside the application: the HTTP server (webhook, metrics)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@asynccontextmanager
async def polling(
    application: PartyApplication, *, poll_timeout: int = 10
) -> AsyncIterator[PartyApplication]:
    """Run the application, long polling, inside an event loop someone else owns."""
    async with serving(application, poll_timeout=poll_timeout):
        yield application


@asynccontextmanager
async def serving(
    application: PartyApplication,
    *,
    poll_timeout: int | None = 10,
    services: Sequence[Service] = (),
) -> AsyncIterator[PartyApplication]:
    """Run the application inside an event loop someone else owns (tests, the sandbox, run).

    The same steps, in the same order, as `Application.run_polling`, which owns its loop:
    initialise, post_init, poll (unless ``poll_timeout`` is None: webhook mode), start,
    then ``services``; stopping reverses it: the services (an HTTP server finishes the
    requests it is answering), polling (confirming the last offset), stop, post_stop,
    shut down, post_shutdown (the relay finishes its sends in flight).
    """
    await application.initialize()
    if application.post_init is not None:
        await application.post_init(application)
    assert application.updater is not None
    if poll_timeout is not None:
        await application.updater.start_polling(
            poll_interval=0.0, timeout=poll_timeout, allowed_updates=list(ALLOWED_UPDATES)
        )
    await application.start()
    started: list[Service] = []
    try:
        for service in services:
            await service.start()
            started.append(service)
        yield application
    finally:
        for service in reversed(started):
            await service.stop()
        if application.updater.running:
            await application.updater.stop()
        await application.stop()
        if application.post_stop is not None:
            await application.post_stop(application)
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)
