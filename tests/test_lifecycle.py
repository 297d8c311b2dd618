"""Start-up, failure and shutdown: apologies instead of silence, no token in any log line,
and a graceful stop that confirms the last update offset to Telegram."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from bot.app import PartyApplication, build_application, polling
from bot.clock import ManualClock
from bot.logs import REDACTED, REDACTED_PHONE, install_redaction
from bot.settings import Settings
from sandbox import SimUser, World
from storage import Database
from tests.support.builders import add_member, build_tree
from tests.support.conversation import shown
from tests.support.invitations import ZH_SHARE, issue_code, open_invitation

Person = Callable[..., SimUser]


async def test_a_failing_handler_apologises_in_the_users_language(
    person: Person, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    async with database.session_scope() as session:
        await session.exec(sa.text("DROP TABLE telegram_account"))  # type: ignore[call-overload]
    alice, bob = person("阿丽"), person("Bob", language="en")
    with caplog.at_level(logging.ERROR, logger="handlers.errors"):
        await alice.send("/start")
        assert (await alice.wait_for_reply()).text == "抱歉，出了点问题，请稍后再试。"
        await bob.send("/start")
        reply = await bob.wait_for_reply()
    assert reply.text == "Sorry, something went wrong. Please try again in a moment."
    assert any("telegram_account" in (r.exc_text or "") for r in caplog.records)


async def test_no_token_in_any_log_line_at_debug(
    settings: Settings,
    database: Database,
    clock: ManualClock,
    world: World,
    caplog: pytest.LogCaptureFixture,
) -> None:
    token = settings.token
    assert token is not None
    install_redaction([token])
    for logger in ("", "httpx", "httpcore", "telegram", "sandbox", "uvicorn"):
        caplog.set_level(logging.DEBUG, logger=logger)
    application = build_application(settings, database=database, clock=clock)
    async with polling(application, poll_timeout=5):
        alice = world.add_user("阿丽", language_code="zh-hans")
        await alice.send("/start")
        await alice.wait_for_reply()
        await alice.send("/nonsense")
        await alice.wait_for_reply()
    lines = [caplog.handler.format(record) for record in caplog.records]
    assert len(lines) > 20, "DEBUG logging should have recorded the exchange"
    assert not [line for line in lines if token in line]
    assert not [line for line in lines if token.split(":")[1] in line]
    # httpx logged the request URLs, with the token replaced.
    assert any(REDACTED in line and "sendMessage" in line for line in lines)


async def test_graceful_stop_confirms_the_last_offset(
    settings: Settings, database: Database, clock: ManualClock, world: World
) -> None:
    application: PartyApplication = build_application(settings, database=database, clock=clock)
    async with polling(application, poll_timeout=5):
        alice = world.add_user("阿丽", language_code="zh-hans")
        await alice.send("/start")
        await alice.wait_for_reply()
        await alice.send("/help")
        await alice.wait_for_reply()
        delivered = [
            update["update_id"]
            for call in world.calls_of("getUpdates")
            for update in (call.result or [])
        ]
    assert world.pending_updates == []
    assert world.confirmed_offset == max(delivered) + 1
    confirming = [c for c in world.calls_of("getUpdates") if int(c.params["timeout"]) == 0]
    assert [int(c.params["offset"]) for c in confirming] == [max(delivered) + 1]


async def test_no_phone_number_in_any_log_line_at_debug(
    person: Person, database: Database, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """A registration shares a phone number; at DEBUG every update is logged, redacted."""
    install_redaction()
    for logger in ("", "httpx", "httpcore", "telegram", "sandbox", "bot", "handlers"):
        caplog.set_level(logging.DEBUG, logger=logger)
    tree = await build_tree(database)
    await add_member(database, tree.dongfeng, "党员甲", phone="+8613812345678")
    code = await issue_code(database, clock, tree.dongfeng)
    newcomer = person("党员甲", phone="+8613812345678")
    await open_invitation(newcomer, code)
    await newcomer.press(ZH_SHARE)
    assert shown(await newcomer.wait_for_reply()).startswith("欢迎您，党员甲！")
    lines = [caplog.handler.format(record) for record in caplog.records]
    assert any("contact" in line for line in lines), "DEBUG logging should show the update"
    assert not [line for line in lines if "3812345678" in line]
    assert any(REDACTED_PHONE in line for line in lines)
