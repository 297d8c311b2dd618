"""Webhook delivery: POST pending updates, one at a time, to a loopback webhook URL.

Only loopback hosts are contacted (the emulator never reaches the outside world); for any
other URL the failure is reported through getWebhookInfo's ``last_error_message``.
"""

from __future__ import annotations

import ipaddress
import logging
from urllib.parse import urlsplit

import httpx

from sandbox.world import World

log = logging.getLogger(__name__)
RETRY_SECONDS = 1.0


def is_loopback(url: str) -> bool:
    """Whether ``url`` points at this machine."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _fail(world: World, message: str) -> None:
    world.webhook.last_error_date = world.timestamp()
    world.webhook.last_error_message = message


async def deliver_webhooks(world: World) -> None:
    """Run until the world closes, delivering whenever a webhook is set and updates wait."""
    async with httpx.AsyncClient(timeout=10.0) as client:
        while not world.closing:
            url = world.webhook.url
            updates = world.deliverable(1) if url else []
            if not updates:
                await world.wait_changed(60.0)
                continue
            if not is_loopback(url):
                _fail(world, "the emulator delivers webhooks only to loopback addresses")
                await world.wait_changed(60.0)
                continue
            update = updates[0]
            headers = {}
            if world.webhook.secret_token:
                headers["X-Telegram-Bot-Api-Secret-Token"] = world.webhook.secret_token
            try:
                response = await client.post(url, json=update, headers=headers)
            except httpx.HTTPError as exc:
                _fail(world, f"Connection failed: {type(exc).__name__}")
                await world.sleep(RETRY_SECONDS)
                continue
            if 200 <= response.status_code < 300:
                world.confirm(int(update["update_id"]) + 1)
            else:
                _fail(world, f"Wrong response from the webhook: {response.status_code}")
                await world.sleep(RETRY_SECONDS)
