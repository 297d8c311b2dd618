"""Updates: long polling, offsets, allowed_updates, webhooks, and a real Application."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import Conflict
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from sandbox import EmulatorServer, SimUser, World


async def test_long_poll_returns_promptly_and_offset_confirms(
    bot: Bot, alice: SimUser, world: World
) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await world.wait_for(lambda: world.active_polls > 0, what="the long poll to arrive")
    await alice.send("/start invite-42")
    updates = await poll
    assert loop.time() - started < 5  # answered by the message, not by the 10 s timeout
    assert len(updates) == 1
    message = updates[0].message
    assert message is not None
    assert message.text == "/start invite-42"
    assert message.from_user is not None
    assert message.from_user.language_code == "zh-hans"
    assert [(e.type, e.offset, e.length) for e in message.entities] == [("bot_command", 0, 6)]
    assert message.chat.type == "private"
    assert message.chat.id == alice.id
    # the same update is delivered again until an offset confirms it
    assert [u.update_id for u in await bot.get_updates()] == [updates[0].update_id]
    assert await bot.get_updates(offset=updates[0].update_id + 1) == ()
    assert world.pending_updates == []
    assert world.confirmed_offset == updates[0].update_id + 1


async def test_update_ids_increase_and_limit_applies(
    bot: Bot, alice: SimUser, world: World
) -> None:
    for text in ("one", "two", "three"):
        await alice.send(text)
    first_two = await bot.get_updates(limit=2)
    assert [u.message.text for u in first_two if u.message] == ["one", "two"]
    ids = [u["update_id"] for u in world.pending_updates]
    assert ids == sorted(ids)
    assert len(set(ids)) == 3


async def test_allowed_updates_filters_kinds(bot: Bot, alice: SimUser) -> None:
    await alice.block_bot()
    await alice.send("hello")  # writing again restarts the bot: kicked -> member, then text
    updates = await bot.get_updates(allowed_updates=["message"])
    assert [(u.message.text if u.message else None, u.my_chat_member) for u in updates] == [
        ("hello", None)
    ]


async def test_webhook_conflict(bot: Bot, alice: SimUser, world: World) -> None:
    assert await bot.set_webhook("https://example.invalid/hook")
    info = await bot.get_webhook_info()
    assert info.url == "https://example.invalid/hook"
    with pytest.raises(Conflict, match="can't use getUpdates method while webhook is active"):
        await bot.get_updates()
    assert world.calls[-1].status == 409
    assert await bot.delete_webhook()
    assert await bot.get_updates() == ()


async def test_newer_poll_terminates_older(http: httpx.AsyncClient, world: World) -> None:
    url = f"/bot{world.token}/getUpdates"
    older = asyncio.create_task(http.post(url, data={"timeout": "10"}))
    await world.wait_for(lambda: world.active_polls > 0, what="the long poll to arrive")
    newer = await http.post(url, data={"timeout": "0"})
    assert newer.json() == {"ok": True, "result": []}
    response = await older
    assert response.status_code == 409
    assert response.json()["description"] == (
        "Conflict: terminated by other getUpdates request; "
        "make sure that only one bot instance is running"
    )


@pytest.fixture
async def hook_receiver() -> AsyncIterator[
    tuple[str, asyncio.Queue[tuple[dict[str, str], bytes]]]
]:
    """A bare HTTP endpoint on loopback that records webhook POSTs."""
    received: asyncio.Queue[tuple[dict[str, str], bytes]] = asyncio.Queue()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode().split("\r\n")[1:]
        headers = {k.lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines if ln)}
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        await received.put((headers, body))
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}/hook", received


async def test_webhook_delivery_to_loopback(
    bot: Bot,
    alice: SimUser,
    world: World,
    hook_receiver: tuple[str, asyncio.Queue[tuple[dict[str, str], bytes]]],
) -> None:
    url, received = hook_receiver
    await bot.set_webhook(url, secret_token="s3cret")
    await alice.send("via webhook")
    headers, body = await asyncio.wait_for(received.get(), 5)
    assert headers["x-telegram-bot-api-secret-token"] == "s3cret"
    assert json.loads(body)["message"]["text"] == "via webhook"
    await world.wait_for(lambda: not world.pending_updates, what="the update to be confirmed")


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greets with a one-button keyboard."""
    assert update.effective_message is not None
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("确认参加", callback_data="join:1")]])
    await update.effective_message.reply_text(
        f"欢迎 <b>{context.args[0] if context.args else ''}</b>",
        parse_mode="HTML",
        reply_markup=keyboard,
    )


async def on_join(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answers the press and edits the message."""
    query = update.callback_query
    assert query is not None
    await query.answer("已确认", show_alert=True)
    await query.edit_message_text(f"已报名 ({query.data})")


async def test_real_application_polls_and_confirms_offset(
    server: EmulatorServer, world: World, alice: SimUser
) -> None:
    app = (
        ApplicationBuilder()
        .token(world.token)
        .base_url(f"{server.url}/bot")
        .base_file_url(f"{server.url}/file/bot")
        .build()
    )
    app.add_handler(CommandHandler("start", on_start))
    app.add_handler(CallbackQueryHandler(on_join))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=5)
        await alice.send("/start 张三")
        greeting = await alice.wait_for_reply()
        assert greeting.text == "欢迎 张三"
        assert greeting.buttons == [["确认参加"]]
        query_id = await alice.tap("确认参加")
        answer = await alice.wait_for_callback_answer(query_id)
        assert (answer.text, answer.show_alert) == ("已确认", True)
        edited = await alice.wait_for_reply()
        assert edited.text == "已报名 (join:1)"
        assert edited.buttons == []
        await app.updater.stop()
        await app.stop()
    last_id = max(e.data["update_id"] for e in world.events if e.kind == "update")
    assert world.pending_updates == []
    assert world.confirmed_offset == last_id + 1
    statuses = {c.status for c in world.calls if c.method == "getUpdates"}
    assert 200 in statuses
    assert statuses <= {200, 409}
