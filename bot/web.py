"""The bot's own HTTP server: Telegram's webhook, ``/healthz`` and ``/metrics``.

The webhook answers 403, and processes nothing, unless the request carries the secret
token given to setWebhook; an update some process already took is answered 200 and not
processed again (bot/update_log.py). Every process of one bot serves the same path behind
the reverse proxy; which process leads does not matter here.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from telegram import Update

from bot.app import ALLOWED_UPDATES, PartyApplication
from bot.context import SERVICES_KEY, Services
from bot.update_log import finish_update, take_update
from storage import head_revision

__all__ = ["SECRET_HEADER", "WebServer", "build_web_app", "webhook_path"]

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def webhook_path(url: str) -> str:
    """The path Telegram posts to (the reverse proxy passes it through unchanged)."""
    return urlsplit(url).path or "/"


class _Endpoints:
    def __init__(self, application: PartyApplication) -> None:
        self.application = application
        self.services: Services = application.bot_data[SERVICES_KEY]
        self.head = head_revision()

    async def webhook(self, request: Request) -> Response:
        """One update from Telegram: check the secret, take it once, process it."""
        given = request.headers.get(SECRET_HEADER, "")
        expected = self.services.settings.webhook_token
        if not hmac.compare_digest(given.encode(), expected.encode()):
            log.warning("webhook request without the right secret token refused (403)")
            return Response(status_code=403)
        try:
            data = json.loads(await request.body())
            update_id = int(data["update_id"])
        except (ValueError, TypeError, KeyError):
            return Response("not a Telegram update", status_code=400)
        services = self.services
        taken = await take_update(
            services.database,
            update_id=update_id,
            worker=services.leadership.identity,
            now=services.clock.now(),
        )
        if not taken:
            services.metrics.replayed.inc()
            log.info("update %d was already taken; not processed again", update_id)
            return Response(status_code=200)
        app = self.application
        update = Update.de_json(data, app.bot)
        await app.update_processor.process_update(update, app.process_update(update))
        await finish_update(services.database, update_id=update_id, now=services.clock.now())
        return Response(status_code=200)

    async def healthz(self, request: Request) -> JSONResponse:
        """Database reachable, schema at the head this code expects, and who leads."""
        body: dict[str, Any] = {
            "leader": self.services.leadership.leading,
            "migration": {"head": self.head, "current": None},
        }
        try:
            async with self.services.database.session_scope() as db:
                connection = await db.connection()
                current = (
                    await connection.execute(sa.text("SELECT version_num FROM alembic_version"))
                ).scalar()
            body["database"] = "ok"
            body["migration"]["current"] = current
        except Exception as exc:
            body["database"] = f"unreachable: {type(exc).__name__}"
        healthy = body["database"] == "ok" and body["migration"]["current"] == self.head
        body["status"] = "ok" if healthy else "failing"
        return JSONResponse(body, status_code=200 if healthy else 503)

    async def metrics(self, request: Request) -> Response:
        """Prometheus text exposition."""
        payload = await self.services.metrics.render(self.services.database)
        return Response(payload, media_type="text/plain; version=0.0.4; charset=utf-8")


def build_web_app(application: PartyApplication) -> Starlette:
    """Routes: the webhook path (webhook mode), /healthz, /metrics (PARTYBOT_METRICS)."""
    endpoints = _Endpoints(application)
    settings = endpoints.services.settings
    routes = [Route("/healthz", endpoints.healthz, methods=["GET"])]
    if settings.metrics:
        routes.append(Route("/metrics", endpoints.metrics, methods=["GET"]))
    if settings.webhook_url is not None:
        path = webhook_path(settings.webhook_url)
        routes.append(Route(path, endpoints.webhook, methods=["POST"]))
    return Starlette(routes=routes)


class WebServer:
    """uvicorn in the application's event loop; in webhook mode it also sets the webhook."""

    def __init__(self, application: PartyApplication) -> None:
        self.application = application
        self.settings = application.bot_data[SERVICES_KEY].settings
        self._server: uvicorn.Server | None = None

    async def start(self) -> None:
        host, port = self.settings.listen_address
        config = uvicorn.Config(
            build_web_app(self.application),
            host=host,
            port=port,
            log_config=None,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=30,
        )
        server = uvicorn.Server(config)
        config.load()
        server.lifespan = config.lifespan_class(config)
        try:
            await server.startup()
        except SystemExit as exc:  # uvicorn exits the process when it cannot bind
            raise OSError(f"could not listen on {host}:{port} (PARTYBOT_LISTEN)") from exc
        self._server = server
        log.info("serving HTTP on %s:%d", host, port)
        url = self.settings.webhook_url
        if url is not None:
            await self.application.bot.set_webhook(
                url,
                secret_token=self.settings.webhook_token,
                allowed_updates=list(ALLOWED_UPDATES),
            )
            log.info("Telegram delivers updates to the webhook at %s", url)

    async def stop(self) -> None:
        """Stop accepting requests; the ones being answered finish first."""
        if self._server is not None:
            await self._server.shutdown()
            self._server = None
