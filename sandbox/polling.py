"""How updates leave the emulator: getUpdates long polling and the webhook settings.

Parameters are held to the published Bot API: ``limit`` 1..100, a timeout that is not
negative, ``allowed_updates`` a list of update type names, a webhook ``secret_token`` of
1..256 of ``[A-Za-z0-9_-]``, ``max_connections`` 1..100. (Telegram itself clamps numbers
and ignores unknown update names; a bot that relies on that is wrong by the spec.)
"""

from __future__ import annotations

import asyncio
import re
from typing import Any
from urllib.parse import urlsplit

from sandbox import errors as e
from sandbox.errors import ApiError, bad_request
from sandbox.params import Params
from sandbox.world import World

MAX_POLL_TIMEOUT = 50.0
UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "message_reaction",
        "message_reaction_count",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
        "managed_bot",  # Bot API 10.0
        "guest_message",  # Bot API 10.0
    }
)
_SECRET = re.compile(r"[A-Za-z0-9_-]*")
MAX_SECRET = 256
MAX_WEBHOOK_CONNECTIONS = 100


def allowed_updates(params: Params) -> list[str] | None:
    """``allowed_updates`` as sent: None if absent, else a list of known update names."""
    allowed = params.json("allowed_updates", e.BAD_ALLOWED_UPDATES)
    if allowed is None:
        return None
    if not isinstance(allowed, list) or not all(isinstance(kind, str) for kind in allowed):
        raise bad_request(e.BAD_ALLOWED_UPDATES)
    for kind in allowed:
        if kind not in UPDATE_TYPES:
            raise bad_request(e.UNKNOWN_UPDATE_TYPE.format(kind))
    return list(allowed)


async def get_updates(world: World, params: Params) -> Any:
    """getUpdates: confirm below ``offset``, then answer as soon as an update is pending."""
    if world.webhook.url:
        raise ApiError(409, e.WEBHOOK_CONFLICT)
    offset = params.integer("offset")
    limit = params.integer("limit")
    if limit is not None and not 1 <= limit <= 100:
        raise bad_request(e.BAD_LIMIT)
    timeout = params.number("timeout") or 0.0
    if timeout < 0:
        raise bad_request(e.BAD_TIMEOUT)
    timeout = min(timeout, MAX_POLL_TIMEOUT)
    limit = limit or 100
    allowed = allowed_updates(params)
    if allowed is not None:
        world.allowed_updates = allowed or None
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
    if url:
        _check_webhook(url, params)
    allowed = allowed_updates(params)
    if params.boolean("drop_pending_updates"):
        world.drop_pending_updates()
    hook = world.webhook
    hook.url = url
    hook.secret_token = params.text("secret_token")
    hook.max_connections = params.integer("max_connections") or 40
    if allowed is not None:
        hook.allowed_updates = allowed or None
        world.allowed_updates = hook.allowed_updates
    world.changed()
    return True


def _check_webhook(url: str, params: Params) -> None:
    if not url.startswith(("https://", "http://")):
        raise bad_request(e.BAD_WEBHOOK_URL)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise bad_request(e.INVALID_WEBHOOK_URL) from None
    if not parts.hostname:
        raise bad_request(e.INVALID_WEBHOOK_URL)
    secret = params.text("secret_token")
    if secret is not None:
        if len(secret) > MAX_SECRET:
            raise bad_request(e.SECRET_TOO_LONG)
        if not _SECRET.fullmatch(secret):
            raise bad_request(e.SECRET_CHARACTERS)
        if not secret:
            raise bad_request(e.SECRET_EMPTY)
    connections = params.integer("max_connections")
    if connections is not None and not 1 <= connections <= MAX_WEBHOOK_CONNECTIONS:
        raise bad_request(e.MAX_CONNECTIONS)


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
