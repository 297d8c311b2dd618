"""Serving the emulator: an in-process server for tests, and ``python -m sandbox``.

The server runs in the caller's event loop, so tests can drive the bot, the emulator and
the simulated users together. The bot token is never logged: uvicorn's access log is off
and a filter redacts the token from anything our or uvicorn's loggers emit.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from sandbox.api import BotApi
from sandbox.control import ControlApi
from sandbox.webhook import deliver_webhooks
from sandbox.world import World

log = logging.getLogger(__name__)
DEFAULT_TOKEN = "123456:TEST-token-abcdefghijklmnopqrstuvwxyz"
KEEP_ALIVE_SECONDS = 75
_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "sandbox", __name__)
STATIC_DIR = Path(__file__).resolve().parent / "static"


def build_app(world: World, extra_routes: Sequence[BaseRoute] = ()) -> Starlette:
    """The ASGI app: Bot API, file downloads, the control API under ``/_control``, the web
    chat page at ``/`` (files under ``/static``), and whatever ``extra_routes`` a host adds
    (the partybot sandbox adds its own controls this way, so this package imports nothing)."""
    return Starlette(
        routes=[
            *BotApi(world).routes(),
            Mount("/_control", routes=ControlApi(world).routes()),
            *extra_routes,
            Route("/", _web_chat, methods=["GET"]),
            Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
        ]
    )


async def _web_chat(request: Request) -> FileResponse:
    """The web chat page; it talks to the control API only."""
    return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})


class RedactToken(logging.Filter):
    """Replaces the bot token in log records with ``<token>``."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.token in message:
            record.msg = message.replace(self.token, "<token>")
            record.args = ()
        return True


class EmulatorServer:
    """``async with EmulatorServer(world) as server:`` serves ``world`` on ``server.url``."""

    def __init__(
        self,
        world: World,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        deliver_webhooks: bool = True,
        extra_routes: Sequence[BaseRoute] = (),
    ) -> None:
        self.world = world
        self.host = host
        self.port = port
        self._deliver = deliver_webhooks
        self._extra_routes = tuple(extra_routes)
        self._server: uvicorn.Server | None = None
        self._webhooks: asyncio.Task[None] | None = None
        self._filter = RedactToken(world.token)

    @property
    def url(self) -> str:
        """``http://host:port``; the Bot API is at ``{url}/bot``, files at ``{url}/file/bot``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        """Bind (port 0 picks a free port) and start answering."""
        for name in _LOGGERS:
            logging.getLogger(name).addFilter(self._filter)
        config = uvicorn.Config(
            build_app(self.world, self._extra_routes),
            host=self.host,
            port=self.port,
            log_config=None,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=2,
            # Keep idle connections as a real server does (nginx: 75 s), longer than
            # httpx keeps them (5 s): with uvicorn's 5 s a client could reuse one just as
            # the server closed it, an error Telegram's servers never cause.
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
        )
        config.load()
        server = uvicorn.Server(config)
        server.lifespan = config.lifespan_class(config)
        self.world.closing = False
        try:
            await server.startup()
        except SystemExit as exc:  # uvicorn exits the process when it cannot bind
            raise OSError(f"emulator could not listen on {self.host}:{self.port}") from exc
        self._server = server
        self.port = int(server.servers[0].sockets[0].getsockname()[1])
        if self._deliver:
            self._webhooks = asyncio.create_task(deliver_webhooks(self.world))
        log.info("Bot API emulator listening on %s (bot @%s)", self.url, self.world.bot_username)

    async def stop(self) -> None:
        """Release long polls and held responses, then shut down."""
        self.world.close()
        if self._webhooks is not None:
            self._webhooks.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhooks
            self._webhooks = None
        if self._server is not None:
            await self._server.shutdown()
            self._server = None
        self.world.closing = False
        for name in _LOGGERS:
            logging.getLogger(name).removeFilter(self._filter)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


async def serve(world: World, host: str = "127.0.0.1", port: int = 8081) -> None:
    """Serve ``world`` until cancelled."""
    async with EmulatorServer(world, host, port):
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> int:
    """``python -m sandbox --port 8081 --token 123:abc --user Alice``."""
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument(
        "--token",
        default=os.environ.get("SANDBOX_BOT_TOKEN", DEFAULT_TOKEN),
        help="bot token to accept (default: $SANDBOX_BOT_TOKEN or a test token)",
    )
    parser.add_argument("--username", default="partybot_test_bot", help="bot username")
    parser.add_argument(
        "--user",
        action="append",
        default=[],
        metavar="NAME[:LANG[:PHONE]]",
        help="create a user at start (repeatable), e.g. 'Alice:zh-hans:+8613800000001'",
    )
    parser.add_argument("--rate-limits", action="store_true", help="enforce flood limits")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        world = World(args.token, bot_username=args.username)
    except ValueError as exc:
        parser.error(str(exc))
    for spec in args.user:
        name, _, rest = spec.partition(":")
        lang, _, phone = rest.partition(":")
        user = world.add_user(name, language_code=lang or "zh-hans", phone=phone or None)
        log.info("user %s has id %d", name, user.id)
    if args.rate_limits:
        world.set_rate_limits(enabled=True)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_until_signal(world, args.host, args.port))
    return 0


async def _serve_until_signal(world: World, host: str, port: int) -> None:
    """Serve until SIGINT or SIGTERM, then shut down cleanly."""
    task = asyncio.create_task(serve(world, host, port))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await task
    log.info("Bot API emulator stopped")
