"""`PARTYBOT_LOG_FORMAT=json`: one JSON object a line, and no secret in any of them."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from bot.logs import REDACTED_PHONE, redact
from sandbox import EmulatorServer, World
from tests.support.constants import TOKEN
from tests.support.process import free_port, started

PHONE = "13812345678"
SECRET = "county-webhook-secret_42"


async def test_json_logs_at_debug_carry_no_token_no_secret_and_no_phone(tmp_path: Path) -> None:
    """Webhook mode at DEBUG: PTB logs every call's parameters (setWebhook's secret too)
    and every update (the shared contact's phone number)."""
    world = World(token=TOKEN, bot_username="county_bot")
    port = free_port()
    async with EmulatorServer(world) as emulator:
        env = {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": emulator.url,
            "PARTYBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
            "PARTYBOT_WEBHOOK_URL": f"http://127.0.0.1:{port}/hook",
            "PARTYBOT_WEBHOOK_SECRET": SECRET,
            "PARTYBOT_LISTEN": f"127.0.0.1:{port}",
            "PARTYBOT_LOG_FORMAT": "json",
            "PARTYBOT_LOG_LEVEL": "DEBUG",
        }
        async with started(["run"], env, tmp_path) as bot:
            await bot.wait_line(lambda line: "Telegram delivers updates to the webhook" in line)
            alice = world.add_user("阿丽", language_code="zh-hans", phone=PHONE)
            await alice.send("/start")
            await alice.wait_for_reply(timeout=20)
            await alice.share_contact()
            await alice.wait_for_reply(timeout=20)
            bot.signal(signal.SIGTERM)
            assert await bot.wait() == 0
    entries = [json.loads(line) for line in bot.lines]  # every line is one JSON object
    assert {"time", "level", "logger", "message"} <= set(entries[0])
    assert any("setWebhook" in entry["message"] for entry in entries)  # DEBUG really on
    assert world.webhook.secret_token == SECRET
    assert any(entry["message"] == "partybot is up as @county_bot" for entry in entries)
    assert TOKEN not in bot.output
    assert TOKEN.split(":")[1] not in bot.output
    assert PHONE not in bot.output
    assert SECRET not in bot.output


@pytest.mark.parametrize(
    "phone", ["13812345678", "+8613812345678", "8613812345678", "138-1234-5678", "+4915112345678"]
)
def test_phone_numbers_are_redacted_in_every_written_form(phone: str) -> None:
    assert redact(f"contact {phone}, ok") == f"contact {REDACTED_PHONE}, ok"


@pytest.mark.parametrize("text", ["update 100001", "user 1000001", "chat -1001381234567890"])
def test_ids_and_other_numbers_stay(text: str) -> None:
    assert redact(text) == text
