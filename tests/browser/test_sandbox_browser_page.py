"""The sandbox page in a real headless browser: Debian's chromium driven by Playwright.

Skipped locally when chromium or playwright is missing; with CI=true that is a failure,
because `.ci/run` installs both. Each test saves a screenshot to test-artifacts/.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import segno
from openpyxl import Workbook
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)

from bot.i18n import gettext
from demo.app import Sandbox
from demo.plan import VISITOR_ID_BASE, roster_telegram_id
from tests.support import browser as browser_support
from tests.support.browser import open_page, phone, say, shot, zh_time
from tests.support.sandbox import START, copy_template, sandbox_at, seeded_template

if TYPE_CHECKING:
    from playwright.async_api import Page

WELCOME = (
    "Welcome to partybot, the party-work assistant of our county.\n"
    "To join your branch, ask your branch secretary for an invitation link "
    "or scan the QR code at the village office."
)
WELCOME_BACK = "Welcome back, {name}. Send /help to see what you can do."


@pytest.fixture(scope="module")
def template() -> Path:
    return seeded_template()


@pytest.fixture
async def sandbox(template: Path, tmp_path: Path) -> AsyncIterator[Sandbox]:
    async with sandbox_at(copy_template(template, tmp_path)) as running:
        yield running


@pytest.fixture
async def page(
    sandbox: Sandbox, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Page]:
    async with open_page(sandbox.url, tmp_path / "profile") as opened:
        yield opened
        await shot(opened, request.node.name)


async def test_start_in_both_languages_and_the_page_language_switch(
    sandbox: Sandbox, page: Page
) -> None:
    secretary = phone(page, sandbox.cast[2].telegram_user_id)
    assert await secretary.locator(".name").inner_text() == sandbox.cast[2].name
    assert await secretary.locator(".role").inner_text() == "支部书记 · 东风村党支部"
    await say(secretary, "/start")
    await secretary.locator(".message.bot .bubble").first.wait_for()
    assert await secretary.locator(".message.me .bubble").inner_text() == "/start"
    greeting = gettext("zh", WELCOME_BACK).format(name=sandbox.cast[2].name)  # a known person
    assert await secretary.locator(".message.bot .bubble").inner_text() == greeting

    member = phone(page, sandbox.cast[4].telegram_user_id)
    await member.locator(".empty").click()  # "no messages yet: tap to send /start"
    await member.locator(".message.bot").wait_for()

    await page.select_option("#person-select", "visitor")
    await page.select_option("#person-language", "en")
    await page.click("#person-add")
    visitor = phone(page, VISITOR_ID_BASE + 1)
    assert await visitor.locator(".role").inner_text() == "新人"
    await say(visitor, "/start")
    await visitor.locator(".message.bot").wait_for()
    assert await visitor.locator(".message.bot .bubble").inner_text() == WELCOME

    await page.click("[data-language=en]")
    assert await page.inner_text("h1") == "partybot sandbox"
    assert await page.inner_text("#person-add") == "Add chat"
    assert await secretary.locator(".role").inner_text() == "Branch secretary · 东风村党支部"
    assert await page.get_attribute("[data-language=en]", "aria-pressed") == "true"
    await page.click("[data-language=zh]")
    assert await page.inner_text("h1") == "partybot 沙盒"


async def test_the_clock_control_jumps_and_the_bot_follows(sandbox: Sandbox, page: Page) -> None:
    clock, note = page.locator("#clock-now"), page.locator("#clock-note")
    assert await clock.inner_text() == zh_time(START) == "3月2日（周一）09:00"
    await page.click("[data-jump=day]")
    await _shows(page, "#clock-now", "3月3日（周二）09:00")
    assert (await note.inner_text()).startswith("时间前进了 1 天 · 下一个提醒：")
    assert sandbox.clock.offset == timedelta(days=1)
    await page.click("[data-jump=hour]")
    await _shows(page, "#clock-now", "3月3日（周二）10:00")
    due = await sandbox.time.next_due()
    assert due is not None
    await page.click("[data-jump=next]")
    await _shows(page, "#clock-now", zh_time(due))
    assert sandbox.clock.now() == due
    member = phone(page, sandbox.cast[4].telegram_user_id)
    await say(member, "/help")
    # The jump also makes the due reminders go out; wait for the answer to /help itself.
    await member.locator(".message.bot").filter(has_text="我可以帮您").wait_for()
    assert await member.locator(".message.me .meta").inner_text() == zh_time(due)[-5:]


async def test_the_person_picker_adds_any_roster_member(sandbox: Sandbox, page: Page) -> None:
    entries = sandbox.people
    roster = await entries.roster()
    chosen = next(e for e in roster if e.telegram_user_id is None and e.branch == "杏花村党支部")
    await page.select_option("#person-select", str(chosen.member_id))
    await page.click("#person-add")
    added = phone(page, roster_telegram_id(chosen.member_id))
    assert await added.locator(".name").inner_text() == chosen.name
    assert await added.locator(".role").inner_text() == "党员 · 杏花村党支部"
    await page.select_option("#person-select", str(chosen.member_id))
    await page.click("#person-add")
    assert await page.locator("section.phone").count() == 7
    await added.locator(".close").click()
    assert await page.locator("section.phone").count() == 6
    linked = [e for e in await entries.roster() if e.member_id == chosen.member_id]
    assert linked[0].telegram_user_id == roster_telegram_id(chosen.member_id)


async def test_photos_show_and_documents_download(
    sandbox: Sandbox, page: Page, tmp_path: Path
) -> None:
    member_id = sandbox.cast[4].telegram_user_id
    workbook = Workbook()
    workbook.active.append(["姓名", "手机号码"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    qr = io.BytesIO()
    segno.make("https://t.me/partybot_sandbox_bot?start=abc").save(qr, kind="png", scale=4)
    bot = sandbox.application.bot
    await bot.send_photo(member_id, photo=qr.getvalue(), caption="二维码")
    await bot.send_document(member_id, document=buffer.getvalue(), filename="花名册.xlsx")

    member = phone(page, member_id)
    image = member.locator(".bubble img")
    await image.wait_for()
    await page.wait_for_function("document.querySelector('.bubble img').naturalWidth > 0")
    assert "二维码" in await member.locator(".message.bot").first.inner_text()
    link = member.locator("a.doc")
    assert (await link.inner_text()).startswith("📄 花名册.xlsx")
    async with page.expect_download() as waiting:
        await link.click()
    download = await waiting.value
    assert download.suggested_filename == "花名册.xlsx"
    saved = tmp_path / "downloaded.xlsx"
    await download.save_as(saved)
    assert saved.read_bytes() == buffer.getvalue()


async def test_reply_keyboard_contact_button_and_live_edits(sandbox: Sandbox, page: Page) -> None:
    person = sandbox.cast[5]
    user = sandbox.world.users[person.telegram_user_id]
    member = phone(page, person.telegram_user_id)
    bot = sandbox.application.bot
    keyboard = ReplyKeyboardMarkup(
        [[KeyboardButton("分享手机号", request_contact=True)], ["取消"]], one_time_keyboard=True
    )
    await bot.send_message(person.telegram_user_id, "请分享手机号", reply_markup=keyboard)
    keys = member.locator(".reply-keyboard button")
    await keys.first.wait_for()
    assert await keys.all_inner_texts() == ["分享手机号", "取消"]
    await keys.first.click()
    contact = member.locator(".message.me .bubble")
    await contact.wait_for()
    assert await contact.inner_text() == f"📱 {person.name} {person.phone}"
    assert await member.locator(".reply-keyboard").is_hidden()
    shared = [m.contact for m in user.chat.messages if m.contact]
    assert shared == [
        {"phone_number": person.phone, "first_name": person.name, "user_id": user.id}
    ]
    await member.locator(".contact-button").click()
    await member.locator(".message.me").nth(1).wait_for()
    assert len([m for m in user.chat.messages if m.contact]) == 2

    buttons = InlineKeyboardMarkup([[InlineKeyboardButton("看看", callback_data="old:1")]])
    sent = await bot.send_message(person.telegram_user_id, "第一版", reply_markup=buttons)
    bubble = member.locator(f'[data-message-id="{sent.message_id}"]')
    await bubble.locator("button", has_text="看看").click()
    toast = member.locator(".toast")
    await toast.wait_for()
    assert await toast.inner_text() == gettext("zh", "This button is no longer valid.")
    await bot.edit_message_text(
        "第二版", chat_id=person.telegram_user_id, message_id=sent.message_id
    )
    await page.wait_for_function(
        f"document.querySelector('[data-message-id=\"{sent.message_id}\"] .bubble')"
        ".textContent === '第二版'"
    )
    assert "已编辑" in await bubble.locator(".meta").inner_text()
    assert await bubble.locator("button").count() == 0  # an edit without markup drops it


async def test_a_phone_sized_screen_shows_one_chat_with_tabs(sandbox: Sandbox, page: Page) -> None:
    await page.set_viewport_size({"width": 390, "height": 844})
    tabs = page.locator("#tabs button")
    assert await tabs.count() == 6
    assert await tabs.first.inner_text() == sandbox.cast[0].name
    visible = page.locator("section.phone:visible")
    assert await visible.count() == 1
    assert await visible.get_attribute("data-user-id") == str(sandbox.cast[0].telegram_user_id)
    await tabs.nth(2).click()
    assert await visible.count() == 1
    assert await visible.get_attribute("data-user-id") == str(sandbox.cast[2].telegram_user_id)
    box = await visible.bounding_box()
    assert box is not None
    assert box["width"] <= 390
    await say(visible, "/start")
    await visible.locator(".message.bot").wait_for()


async def _shows(page: Page, selector: str, text: str) -> None:
    """Wait until an element shows exactly this text."""
    await page.wait_for_function(
        "([selector, text]) => document.querySelector(selector).textContent === text",
        arg=[selector, text],
    )


def test_without_chromium_the_browser_tests_skip_here_and_fail_in_ci(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(browser_support, "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="chromium is not installed"):
        browser_support.require_browser()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run the browser tests"):
        browser_support.require_browser()


async def test_the_clock_note_rounds_to_whole_minutes(page: Page) -> None:
    spans = await page.evaluate(
        "[79180, 3570, 86390, 90].map((seconds) => formatSpan(seconds))"
    )  # 21 h 59 min 40 s, 59.5 min, 23 h 59 min 50 s, 1.5 min
    assert spans == ["22 小时", "1 小时", "1 天", "2 分钟"]
