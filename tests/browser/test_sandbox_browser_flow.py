"""The whole story on the sandbox page, in a real browser, as a county officer would show it.

A secretary creates an invitation, a newcomer opens its link and registers, the secretary
approves, schedules a session; the clock jumps, the reminder arrives, the member taps 参加,
checks in with the code, and the secretary's attendance view shows it.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from demo.app import Sandbox
from demo.plan import VISITOR_ID_BASE
from tests.support.browser import open_page, phone, say, shot
from tests.support.sandbox import copy_template, sandbox_at, seeded_template

if TYPE_CHECKING:
    from playwright.async_api import Locator, Page


@pytest.fixture(scope="module")
def template() -> Path:
    return seeded_template()


@pytest.fixture
async def sandbox(template: Path, tmp_path: Path) -> AsyncIterator[Sandbox]:
    async with sandbox_at(copy_template(template, tmp_path)) as running:
        yield running


@pytest.fixture
async def page(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[Page]:
    async with open_page(sandbox.url, tmp_path / "profile") as opened:
        yield opened


def exactly(text: str) -> re.Pattern[str]:
    """Match an element's whole text, not a part of it."""
    return re.compile(f"^{re.escape(text)}$")


async def tap(chat: Locator, label: str) -> None:
    """Tap the newest inline button with exactly this label."""
    await chat.locator(".inline-keyboard button").filter(has_text=exactly(label)).last.click()


async def bot_says(chat: Locator, fragment: str) -> Locator:
    """Wait for a bot message (new or edited) containing this text, and return it."""
    message = chat.locator(".message.bot").filter(has_text=fragment).last
    await message.wait_for()
    return message


async def test_invitation_registration_session_reminder_rsvp_checkin_attendance(
    sandbox: Sandbox, page: Page
) -> None:
    secretary = phone(page, sandbox.cast[2].telegram_user_id)

    # The secretary creates an invitation: a QR code and a link to post at the village office.
    await say(secretary, "/invite")
    await bot_says(secretary, "新成员是什么身份？")
    await tap(secretary, "党员")
    await bot_says(secretary, "这个邀请可以给几个人用？")
    await tap(secretary, "1")
    await bot_says(secretary, "有效期多长？")
    await tap(secretary, "7 天（常用）")
    invitation = await bot_says(secretary, "请打印这张二维码")
    await invitation.locator("img").wait_for()

    # A newcomer opens the link (in the sandbox: a click, then "whose phone?").
    await invitation.locator("a[href*='t.me/']").click()
    await page.locator("#open-link").get_by_role("button", name="新来的人（不在名册上）").click()
    newcomer = phone(page, VISITOR_ID_BASE + 1)
    await bot_says(newcomer, "这是加入东风镇党委 / 东风村党支部的邀请")
    await newcomer.locator(".reply-keyboard button", has_text="发送我的手机号").click()
    await bot_says(newcomer, "我已请支部书记确认")

    # Not on the roster yet: the secretary approves and makes a roster entry.
    await bot_says(secretary, "有人申请加入")
    await tap(secretary, "批准")
    await bot_says(secretary, "这是名册上的哪一位？")
    await tap(secretary, "➕ 新建名册记录")
    await tap(secretary, "正式党员")
    await bot_says(secretary, "已批准")
    await bot_says(newcomer, "您已加入东风镇党委 / 东风村党支部")
    await newcomer.locator(".role", has_text="党员 · 东风村党支部").wait_for()
    name = await newcomer.locator(".name").inner_text()

    # The secretary schedules a theme party day for tomorrow evening; the branch is invited.
    await say(secretary, "/newsession")
    await bot_says(secretary, "是哪一种活动？")
    await tap(secretary, "主题党日")
    await bot_says(secretary, "主题是什么？")
    await say(secretary, "学习新党章")
    await bot_says(secretary, "什么时候开始？")
    await say(secretary, "明天 19:30")
    await bot_says(secretary, "大约开多长时间？")
    await tap(secretary, "90分钟")
    await bot_says(secretary, "在哪里开？")
    await tap(secretary, "村党员活动室")
    await bot_says(secretary, "什么时候提醒大家？")
    await tap(secretary, "下一步")
    await bot_says(secretary, "要定期重复吗？")
    await tap(secretary, "只开一次")
    await bot_says(secretary, "请发送学习材料")
    await tap(secretary, "跳过")
    await bot_says(secretary, "请核对新活动")
    await tap(secretary, "✅ 确认")
    await bot_says(secretary, "已安排")
    await bot_says(newcomer, "学习新党章")

    # Time jumps to the reminder a day before; the member answers 参加 on it.
    await page.click("[data-jump=next]")
    await page.locator("#clock-now", has_text="3月2日（周一）19:30").wait_for()
    reminder = await bot_says(newcomer, "提醒")
    await reminder.get_by_role("button", name="参加", exact=True).click()
    await bot_says(newcomer, "已回复：参加 ✓")  # the reminder itself shows the answer

    # The evening of the session: check-in is open. The secretary looks at attendance.
    await page.click("[data-jump=day]")
    await page.locator("#clock-now", has_text="3月3日（周二）19:30").wait_for()
    await say(secretary, "/attendance")  # the list of sessions, with the branch on each
    await secretary.locator(".inline-keyboard button", has_text="学习新党章").last.click()
    view = await bot_says(secretary, "已签到（0）")
    assert name in await view.inner_text()  # invited, answered 参加

    # The secretary shows the code; the member taps 签到 and types it.
    await say(secretary, "/checkin")
    screen = await bot_says(secretary, "签到码")
    found = re.search(r"签到码：(\d[\d ]*\d)", await screen.inner_text())
    assert found is not None
    code = found.group(1).replace(" ", "")
    pushed = await bot_says(newcomer, "签到开始了")  # pushed when check-in opened
    await pushed.get_by_role("button", name="签到", exact=True).click()
    await bot_says(newcomer, "请输入书记屏幕上的")
    await say(newcomer, code)
    await bot_says(newcomer, "签到成功")

    # The secretary refreshes the attendance view: the member is there.
    await view.get_by_role("button", name="🔄 刷新").click()
    # The secretary, who ran the check-in, counts as present too.
    await (
        secretary.locator(".message.bot")
        .filter(has_text=re.compile(f"已签到（2）：.*{re.escape(name)}"))
        .last.wait_for()
    )
    await shot(page, "full-flow")
