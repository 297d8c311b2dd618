"""Start-up, failure and shutdown: apologies instead of silence, no token in any log line,
and a graceful stop that confirms the last update offset to Telegram."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from bot.app import PartyApplication, build_application, polling
from bot.clock import ManualClock
from bot.logs import REDACTED, REDACTED_PHONE, install_redaction
from bot.settings import Settings
from sandbox import SimUser, World
from storage import Database, accounts
from tests.support.builders import add_member, build_tree
from tests.support.conversation import shown
from tests.support.invitations import ZH_SHARE, issue_code, open_invitation

Person = Callable[..., SimUser]


async def test_a_failing_handler_apologises_in_the_users_language(
    person: Person, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    async with database.session_scope() as db:
        await db.exec(sa.text("DROP TABLE telegram_account"))  # type: ignore[call-overload]
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


def _locked() -> OperationalError:
    return OperationalError(
        "UPDATE telegram_account", {}, sqlite3.OperationalError("database is locked")
    )


async def test_a_write_that_finds_the_database_locked_is_tried_once_more(
    person: Person, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A long CLI import held SQLite's lock past the busy timeout: the member still gets an
    answer (the first try was rolled back), and twice locked gets the apology."""
    real = accounts.upsert_account
    failures = {"left": 1}

    async def flaky(**kwargs: object) -> object:
        if failures["left"]:
            failures["left"] -= 1
            raise _locked()
        return await real(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(accounts, "upsert_account", flaky)
    alice = person("阿丽")
    await alice.send("/start")
    assert shown(await alice.wait_for_reply()).startswith("欢迎使用")
    assert "抱歉" not in " ".join(m.text or "" for m in alice.messages)
    assert any("trying once more" in r.getMessage() for r in caplog.records)

    failures["left"] = 2
    bob = person("Bob", language="en")
    with caplog.at_level(logging.ERROR, logger="handlers.errors"):
        await bob.send("/start")
        reply = await bob.wait_for_reply()
    assert reply.text == "Sorry, something went wrong. Please try again in a moment."


async def test_a_database_connection_lost_in_passing_is_tried_once_more(
    person: Person, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """PostgreSQL restarted while a connection was in use (storage/db.py pings only idle
    ones): SQLAlchemy renews the pool and the handler runs again; the member is answered."""
    real = accounts.upsert_account
    failures = {"left": 1}

    async def lost(**kwargs: object) -> object:
        if failures["left"]:
            failures["left"] -= 1
            raise OperationalError(
                "SELECT 1",
                {},
                ConnectionError("server closed the connection"),
                connection_invalidated=True,
            )
        return await real(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(accounts, "upsert_account", lost)
    alice = person("阿丽")
    await alice.send("/start")
    assert shown(await alice.wait_for_reply()).startswith("欢迎使用")
    assert "抱歉" not in " ".join(m.text or "" for m in alice.messages)
    assert any("connection was lost" in r.getMessage() for r in caplog.records)


async def test_the_ops_chat_reads_an_error_as_it_was_raised(
    settings: Settings,
    database: Database,
    clock: ManualClock,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An error whose text has '<' and '&' reaches the ops chat (Telegram would refuse it
    unescaped) and carries no SQL parameters."""
    ops = world.add_user("值班", language_code="zh-hans")
    await ops.send("/start")  # the ops person has opened the chat once

    async def broken(**_kwargs: object) -> object:
        raise ValueError("bad <input> & more")

    with_ops = settings.model_copy(update={"ops_chat_id": ops.id})
    application = build_application(with_ops, database=database, clock=clock)
    async with polling(application, poll_timeout=5):
        await ops.wait_for_reply()
        monkeypatch.setattr(accounts, "upsert_account", broken)
        alice = world.add_user("阿丽", language_code="zh-hans")
        await alice.send("/start")
        await alice.wait_for_reply()
        told = await ops.wait_for_reply()
    assert "ValueError('bad <input> & more')" in (told.text or "")
