"""The application factory: the one place that wires handlers, schedules and storage."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from telegram import BotCommand, Update
from telegram.constants import ParseMode
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes, Defaults

from bot.clock import Clock, SystemClock
from bot.context import SERVICES_KEY, BotContext, Services
from bot.i18n import LANGUAGES, gettext
from bot.notices import NoticeProgress
from bot.relay import Relay, RelayConfig, relay_bot
from bot.settings import Settings
from handlers import attendance, notice_reads
from handlers.registry import PUBLIC_COMMANDS, register_handlers
from schedules.jobs import register_jobs
from schedules.notices import add_notice_jobs
from schedules.scheduler import build_scheduler
from schedules.sessions import register_session_jobs
from storage import Database

log = logging.getLogger(__name__)

PartyApplication = Application[Any, BotContext, Any, Any, Any, Any]
_SCHEDULER_KEY = "scheduler"


def build_application(
    settings: Settings,
    *,
    database: Database,
    clock: Clock | None = None,
    relay_config: RelayConfig | None = None,
) -> PartyApplication:
    """Build the Telegram application with partybot's services and handlers attached.

    ``relay_config`` replaces the relay's pacing drawn from settings (tests space messages
    to one chat closer than Telegram's 1 s so that a conversation does not crawl).
    """
    if settings.token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is required to build the application")
    application: PartyApplication = (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(settings.bot_api_url)
        .base_file_url(settings.bot_file_url)
        .defaults(Defaults(tzinfo=settings.tz, parse_mode=ParseMode.HTML))
        .context_types(ContextTypes(context=BotContext))
        .rate_limiter(AIORateLimiter(max_retries=3))
        .job_queue(None)
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build()
    )
    clock = clock or SystemClock()
    application.bot_data[SERVICES_KEY] = Services(
        settings=settings,
        database=database,
        clock=clock,
        relay=build_relay(
            settings, settings.token, database=database, clock=clock, config=relay_config
        ),
    )
    register_handlers(application)
    return application


def build_relay(
    settings: Settings,
    token: str,
    *,
    database: Database,
    clock: Clock,
    config: RelayConfig | None = None,
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
        bot=bot, database=database, clock=clock, config=config, on_progress=progress.report
    )


async def _post_init(application: PartyApplication) -> None:
    """Publish the command menus and start the scheduler."""
    await publish_public_commands(application)
    services: Services = application.bot_data[SERVICES_KEY]
    scheduler = build_scheduler(services.settings.tz)
    register_jobs(
        scheduler,
        bot=application.bot,
        database=services.database,
        clock=services.clock,
        tz=services.settings.tz,
    )
    register_session_jobs(
        scheduler,
        database=services.database,
        clock=services.clock,
        settings=services.settings,
        buttons=attendance.BUTTONS,
        wake=services.relay.wake,
    )
    add_notice_jobs(scheduler, services, notice_reads.ack_markup)
    scheduler.start()
    application.bot_data[_SCHEDULER_KEY] = scheduler
    await services.relay.start()
    me = application.bot
    log.info("partybot is up as @%s", me.username)


async def _post_shutdown(application: PartyApplication) -> None:
    """Stop the scheduler and close the database pool."""
    scheduler = application.bot_data.pop(_SCHEDULER_KEY, None)
    if scheduler is not None:
        scheduler.shutdown(wait=False)
    services: Services = application.bot_data[SERVICES_KEY]
    await services.relay.stop()
    await services.database.dispose()


async def publish_public_commands(application: PartyApplication) -> None:
    """Set the default command menu in Chinese, and in English for English clients."""
    services: Services = application.bot_data[SERVICES_KEY]
    for language in LANGUAGES:
        commands = [BotCommand(name, gettext(language, text)) for name, text in PUBLIC_COMMANDS]
        code = None if language == services.settings.language else language
        await application.bot.set_my_commands(commands, language_code=code)


@asynccontextmanager
async def polling(
    application: PartyApplication, *, poll_timeout: int = 10
) -> AsyncIterator[PartyApplication]:
    """Run the application inside an event loop someone else owns (tests, the sandbox).

    The same steps, in the same order, as `Application.run_polling`, which owns its loop:
    initialise, post_init, poll, start; then stop polling (confirming the last offset),
    stop, post_stop, shut down, post_shutdown.
    """
    await application.initialize()
    if application.post_init is not None:
        await application.post_init(application)
    assert application.updater is not None
    await application.updater.start_polling(
        poll_interval=0.0, timeout=poll_timeout, allowed_updates=Update.ALL_TYPES
    )
    await application.start()
    try:
        yield application
    finally:
        await application.updater.stop()
        await application.stop()
        if application.post_stop is not None:
            await application.post_stop(application)
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)
