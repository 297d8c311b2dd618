"""Fixtures: a fresh world, the emulator on a random port, and real HTTP clients."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from telegram import Bot

from sandbox import EmulatorServer, SimUser, World
from tests.support.constants import TOKEN


@pytest.fixture
def world() -> World:
    """An empty world for the test bot."""
    return World(token=TOKEN)


@pytest.fixture
def alice(world: World) -> SimUser:
    """A Chinese-speaking user with a phone."""
    return world.add_user("Alice", language_code="zh-hans", phone="+8613800000001")


@pytest.fixture
async def server(world: World) -> AsyncIterator[EmulatorServer]:
    """The emulator, listening on a free loopback port."""
    async with EmulatorServer(world, host="127.0.0.1", port=0) as running:
        yield running


@pytest.fixture
async def bot(server: EmulatorServer) -> AsyncIterator[Bot]:
    """python-telegram-bot's own client, pointed at the emulator."""
    client = Bot(TOKEN, base_url=f"{server.url}/bot", base_file_url=f"{server.url}/file/bot")
    async with client:
        yield client


@pytest.fixture
async def http(server: EmulatorServer) -> AsyncIterator[httpx.AsyncClient]:
    """A plain HTTP client for raw Bot API and control API calls."""
    async with httpx.AsyncClient(base_url=server.url, timeout=10.0) as client:
        yield client
