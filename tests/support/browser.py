"""Driving the sandbox page in Debian's chromium with Playwright (python, async API).

Playwright's own browsers are never downloaded: the executable path points at the system
chromium that `.ci/run` installs. Without chromium or playwright the tests skip locally
and fail in CI (CI=true), so a green CI run always means the page really ran.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest

if TYPE_CHECKING:
    from playwright.async_api import Locator, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not CHROMIUM.exists():
        return f"Debian's chromium is not installed ({CHROMIUM}); apt-get install chromium"
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (pip install playwright)"
    return None


def require_browser() -> None:
    """Skip without a browser; in CI, where `.ci/run` installs it, fail instead."""
    reason = missing_browser()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the browser tests: {reason}")
    pytest.skip(reason)


@asynccontextmanager
async def open_page(url: str, profile: Path) -> AsyncIterator[Page]:
    """A fresh chromium profile with the page loaded; page errors fail the test."""
    require_browser()
    from playwright.async_api import async_playwright

    errors: list[str] = []
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1920, "height": 900},
            accept_downloads=True,
            locale="zh-CN",
            timezone_id="Europe/London",  # the page must show Shanghai time regardless
        )
        try:
            page = context.pages[0] if context.pages else await context.new_page()
            page.set_default_timeout(10_000)
            page.on("pageerror", lambda error: errors.append(str(error)))
            await page.goto(url)
            await page.locator("body[data-ready=true]").wait_for(state="attached")
            yield page
        finally:
            await context.close()
    assert not errors, errors


async def shot(page: Page, name: str) -> Path:
    """Save a screenshot of the whole page as a test artifact."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"sandbox-{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


def phone(page: Page, user_id: int) -> Locator:
    """The chat of one person."""
    return page.locator(f'section.phone[data-user-id="{user_id}"]')


async def say(chat: Locator, text: str) -> None:
    """Type into a chat and press Enter."""
    field = chat.locator("input[name=text]")
    await field.fill(text)
    await field.press("Enter")


def zh_time(moment: datetime) -> str:
    """A moment as the page's clock shows it in Chinese: 3月5日（周四）19:30."""
    local = moment.astimezone(SHANGHAI)
    weekday = "一二三四五六日"[local.weekday()]
    return f"{local.month}月{local.day}日（周{weekday}）{local:%H:%M}"
