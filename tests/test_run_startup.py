"""`partybot run` at start-up, as a real process: a refused token, an unreachable Telegram."""

from __future__ import annotations

import signal
from pathlib import Path

from sandbox import EmulatorServer, World
from tests.support.constants import TOKEN
from tests.support.process import free_port, started

REVOKED = "123456789:REVOKED-token-abcdefghijklmnopqrstuv"


def _env(api_url: str, tmp_path: Path, token: str = TOKEN, **extra: str) -> dict[str, str]:
    return {
        "TELEGRAM_BOT_TOKEN": token,
        "TELEGRAM_API_BASE_URL": api_url,
        "PARTYBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        **extra,
    }


async def test_a_revoked_token_ends_with_one_line_and_no_token(tmp_path: Path) -> None:
    world = World(token=TOKEN)  # the server knows another token: getMe answers 401
    async with (
        EmulatorServer(world) as emulator,
        started(["run"], _env(emulator.url, tmp_path, REVOKED), tmp_path) as bot,
    ):
        assert await bot.wait() == 1
    assert bot.lines == [
        "Telegram refused the bot token: Unauthorized (401). Get a valid token from "
        "@BotFather and set TELEGRAM_BOT_TOKEN."
    ]
    assert REVOKED not in bot.output
    assert REVOKED.split(":")[1] not in bot.output
    assert [call.method for call in world.calls] == ["getMe"]


async def test_an_unreachable_telegram_is_tried_again_until_it_answers(tmp_path: Path) -> None:
    port = free_port()  # nothing listens here yet
    world = World(token=TOKEN, bot_username="county_bot")
    env = _env(f"http://127.0.0.1:{port}", tmp_path, PARTYBOT_STARTUP_RETRY_SECONDS="0.05")
    async with started(["run"], env, tmp_path) as bot:
        await bot.wait_line(lambda line: "attempt 3 failed" in line)
        async with EmulatorServer(world, port=port):
            await bot.wait_line(lambda line: "partybot is up as @county_bot" in line)
            bot.signal(signal.SIGTERM)
            assert await bot.wait() == 0
    failures = [line for line in bot.lines if "Telegram is unreachable" in line]
    assert len(failures) >= 3
    assert all("trying again in" in line for line in failures)
    assert "Traceback" not in bot.output
    assert TOKEN not in bot.output
    assert world.calls_of("getMe")  # it did connect in the end


async def test_a_taken_listen_port_ends_with_one_line(tmp_path: Path) -> None:
    world = World(token=TOKEN)
    async with EmulatorServer(world) as emulator:
        taken = emulator.port  # the emulator listens there already
        env = _env(
            emulator.url,
            tmp_path,
            PARTYBOT_WEBHOOK_URL=f"http://127.0.0.1:{taken}/hook",
            PARTYBOT_LISTEN=f"127.0.0.1:{taken}",
        )
        async with started(["run"], env, tmp_path) as bot:
            assert await bot.wait() == 1
    assert bot.lines[-1] == f"partybot: could not listen on 127.0.0.1:{taken} (PARTYBOT_LISTEN)"
    assert "Traceback" not in bot.output
    assert world.webhook.url == ""  # it never told Telegram to post to a port it lacks
