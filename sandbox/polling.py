"""How updates leave the emulator: getUpdates long polling and the webhook settings."""

from __future__ import annotations

import asyncio
from typing import Any

from sandbox import errors as e
from sandbox.errors import ApiError, bad_request
from sandbox.params import Params
from sandbox.world import World

MAX_POLL_TIMEOUT = 50.0


async def get_updates(world: World, params: Params) -> Any:
    """getUpdates: confirm below ``offset``, then answer as soon as an update is pending."""
    if world.webhook.url:
        raise ApiError(409, e.WEBHOOK_CONFLICT)
    offset = params.integer("offset")
    limit = min(max(params.integer("limit") or 100, 1), 100)
    timeout = min(max(params.number("timeout") or 0.0, 0.0), MAX_POLL_TIMEOUT)
    allowed = params.json(
        "allowed_updates", "Bad Request: can't parse allowed_updates JSON object"
    )
    if isinstance(allowed, list):
        world.allowed_updates = [str(kind) for kind in allowed] or None
    if offset is not None:
        world.confirm(offset)
    generation = world.start_poll()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout  # real time even when the World's clocks are fake
    world.active_polls += 1
    world.changed()
    try:
        while True:
            if world.poll_superseded(generation):
                raise ApiError(409, e.POLL_CONFLICT)
            if world.webhook.url:
                raise ApiError(409, e.WEBHOOK_CONFLICT)
            updates = world.deliverable(limit)
            remaining = deadline - loop.time()
            if updates or remaining <= 0 or world.closing:
                return updates
            await world.wait_changed(remaining)
    finally:
        world.active_polls -= 1
        world.changed()


async def set_webhook(world: World, params: Params) -> Any:
    """setWebhook: stores the URL (http is allowed here for local use); "" removes it."""
    url = params.text("url") or ""
    if url and not url.startswith(("https://", "http://")):
        raise bad_request(e.BAD_WEBHOOK_URL)
    allowed = params.json(
        "allowed_updates", "Bad Request: can't parse allowed_updates JSON object"
    )
    if params.boolean("drop_pending_updates"):
        world.drop_pending_updates()
    hook = world.webhook
    hook.url = url
    hook.secret_token = params.text("secret_token")
    hook.max_connections = params.integer("max_connections") or 40
    if isinstance(allowed, list):
        hook.allowed_updates = [str(kind) for kind in allowed] or None
        world.allowed_updates = hook.allowed_updates
    world.changed()
    return True


async def delete_webhook(world: World, params: Params) -> Any:
    """deleteWebhook (optionally dropping the pending updates)."""
    if params.boolean("drop_pending_updates"):
        world.drop_pending_updates()
    world.webhook.url = ""
    world.changed()
    return True


async def get_webhook_info(world: World, params: Params) -> Any:
    """getWebhookInfo."""
    hook = world.webhook
    info: dict[str, Any] = {
        "url": hook.url,
        "has_custom_certificate": False,
        "pending_update_count": len(world.pending_updates),
    }
    if hook.url:
        info["max_connections"] = hook.max_connections
        if hook.allowed_updates:
            info["allowed_updates"] = hook.allowed_updates
    if hook.last_error_date is not None:
        info["last_error_date"] = hook.last_error_date
        info["last_error_message"] = hook.last_error_message
    return info
