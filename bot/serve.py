"""`partybot run`: reach Telegram, serve updates until SIGTERM, stop without losing work.

Start-up is where an operator looks, so it speaks in single lines: a token Telegram
refuses ends the program with one line (never the token, never a traceback), and a
Telegram that cannot be reached yet is tried again with backoff, one line per attempt,
until it answers or the process is told to stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable

from telegram.error import InvalidToken, NetworkError

from bot.app import PartyApplication, Service, build_application, serving
from bot.logs import redact
from bot.settings import Settings
from storage import Database

log = logging.getLogger(__name__)

MAX_RETRY_SECONDS = 60.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

Sleep = Callable[[float], Awaitable[bool]]


class TokenRefused(Exception):
    """Telegram answered 401 to getMe: the token is wrong or was revoked."""


def retry_delay(attempt: int, base: float) -> float:
    """Seconds to wait after failed attempt ``attempt`` (1, 2, ...): doubling, capped."""
    return min(MAX_RETRY_SECONDS, base * 2.0 ** (attempt - 1))


async def connect(application: PartyApplication, *, base_delay: float, sleep: Sleep) -> bool:
    """Initialise the application (its getMe), retrying while Telegram is unreachable.

    ``sleep(seconds)`` waits and returns False if the process was told to stop meanwhile;
    then this returns False too. Raises TokenRefused, with a message free of the token.
    """
    attempt = 0
    while True:
        attempt += 1
        try:
            await application.initialize()
            return True
        except InvalidToken as exc:
            reason = exc.__cause__ or exc
            raise TokenRefused(redact(str(reason))) from None
        except NetworkError as exc:
            delay = retry_delay(attempt, base_delay)
            log.warning(
                "Telegram is unreachable (%s); attempt %d failed, trying again in %.0f s",
                redact(str(exc)),
                attempt,
                delay,
            )
            if not await sleep(delay):
                return False


def refused_line(exc: TokenRefused) -> str:
    """The one line `partybot run` prints for a refused token."""
    return (
        f"Telegram refused the bot token: {exc} (401). Get a valid token from @BotFather "
        "and set TELEGRAM_BOT_TOKEN."
    )


class StopSignal:
    """SIGINT/SIGTERM set an event instead of raising inside whatever is running."""

    def __init__(self) -> None:
        self.event = asyncio.Event()

    def install(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, self._received, sig)

    def _received(self, sig: signal.Signals) -> None:
        log.info("received %s: finishing in-flight work, then stopping", sig.name)
        self.event.set()

    async def sleep(self, seconds: float) -> bool:
        """Wait ``seconds``; False if a stop signal came first."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.event.wait(), seconds)
        return not self.event.is_set()


async def serve(settings: Settings) -> None:
    """Connect, serve updates until a stop signal, then stop gracefully.

    Updates come by long polling, or by webhook when ``settings.webhook_url`` is set; the
    HTTP server (webhook, /healthz, /metrics) runs when the settings ask for it. Stopping
    finishes the webhook requests being answered, confirms the last polled offset, lets
    running handlers finish, and lets the relay finish the sends in flight, give back
    what it had not sent, and hand the leader lease over at once.
    """
    from bot.web import WebServer

    stop = StopSignal()
    stop.install()
    database = Database(settings.database_url)
    application = build_application(settings, database=database)
    try:
        if not await connect(
            application, base_delay=settings.startup_retry_seconds, sleep=stop.sleep
        ):
            return
        web: list[Service] = [WebServer(application)] if settings.serves_http else []
        poll_timeout = None if settings.webhook_url is not None else 10
        async with serving(application, poll_timeout=poll_timeout, services=web):
            await stop.event.wait()
    finally:
        await database.dispose()
