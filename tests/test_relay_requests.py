"""The relay's light send (RelayBot.send_delivery, no Message parsed) asks Telegram exactly
what PTB's own send_message / send_photo / send_document ask, the message id it reads from
the answer is the one recorded on the row, and outcomes share commits."""

from __future__ import annotations

from typing import Any

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.clock import ManualClock
from bot.relay import RelayBot, RelayConfig, relay_bot
from sandbox import EmulatorServer, World
from storage import Database, deliveries
from storage.models import DeliveryState
from tests.support.relay import (
    add_people,
    config,
    make_relay,
    queue_texts,
    rows,
    running,
    sends,
)

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06"
    b"\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00"
    b"\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


async def _by_ptb(bot: RelayBot, chat_id: int, payload: dict[str, Any]) -> Message:
    """What the relay sent before: the payload through the Bot's ordinary methods."""
    data = payload.get("reply_markup")
    markup = InlineKeyboardMarkup.de_json(data, bot) if data else None
    text, parse_mode = payload["text"], payload.get("parse_mode")
    if payload.get("photo"):
        return await bot.send_photo(
            chat_id, payload["photo"], caption=text, parse_mode=parse_mode, reply_markup=markup
        )
    if payload.get("document"):
        return await bot.send_document(
            chat_id, payload["document"], caption=text, parse_mode=parse_mode, reply_markup=markup
        )
    return await bot.send_message(chat_id, text, parse_mode=parse_mode, reply_markup=markup)


async def test_a_payload_goes_out_as_the_bots_own_methods_send_it(
    world: World, emulator: EmulatorServer
) -> None:
    chat = world.add_user("p").id
    photo = world.files.add(PNG, "photo", "poster.png", "image/png").file_id
    document = world.files.add(b"minutes", "document", "minutes.txt", "text/plain").file_id
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("已阅", callback_data="ack:7")]])
    payloads: list[dict[str, Any]] = [
        {"text": "明天上午九点 主题党日"},
        {"text": "<b>通知</b> &lt;见附件&gt;", "parse_mode": "HTML", "reply_markup": None},
        {"text": "<b>通知</b>", "parse_mode": "HTML", "reply_markup": markup.to_dict()},
        {"text": "海报", "parse_mode": "HTML", "photo": photo, "document": None},
        {"text": "会议记录", "parse_mode": None, "document": document,
         "reply_markup": markup.to_dict()},
    ]  # fmt: skip
    bot = relay_bot(
        world.token,
        base_url=f"{emulator.url}/bot",
        base_file_url=f"{emulator.url}/file/bot",
        config=RelayConfig(),
    )
    async with bot:
        for payload in payloads:
            before = len(world.calls)
            message = await _by_ptb(bot, chat, payload)
            message_id = await bot.send_delivery(chat, payload)
            ours, theirs = world.calls[before + 1], world.calls[before]
            assert (ours.method, ours.params, ours.ok) == (theirs.method, theirs.params, True)
            assert message_id == ours.result["message_id"] == message.message_id + 1


async def test_each_row_records_the_id_of_the_message_telegram_made(
    world: World, emulator: EmulatorServer, database: Database, clock: ManualClock
) -> None:
    people = add_people(world, 40)
    await queue_texts(database, clock, people)
    async with running(make_relay(world, emulator, database, clock)) as relay:
        await relay.drained()
    made = {int(call.params["chat_id"]): call.result["message_id"] for call in sends(world)}
    stored = await rows(database)
    assert {row.state for row in stored} == {DeliveryState.SENT}
    assert {row.chat_id: row.telegram_message_id for row in stored} == made


async def test_answers_that_come_together_share_a_commit_and_none_waits_for_nothing(
    world: World,
    emulator: EmulatorServer,
    database: Database,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With a linger far longer than the test may run, the relay still finishes: a commit
    waits for half the slots or for every answer still due, never for the timer."""
    batches: list[int] = []
    record = deliveries.record_outcomes_on

    def counted(connection: Any, **kwargs: Any) -> None:
        batches.append(len(kwargs["outcomes"]))
        record(connection, **kwargs)

    monkeypatch.setattr(deliveries, "record_outcomes_on", counted)
    people = add_people(world, 60)
    await queue_texts(database, clock, people)
    relay_config = config(max_in_flight=8, write_linger=600.0)
    async with running(make_relay(world, emulator, database, clock, relay_config)) as relay:
        await relay.drained()
    assert sum(batches) == 60
    assert max(batches) > 1  # answers shared a commit
    assert max(batches) <= 8  # a slot is held until its own row's commit
    assert {row.state for row in await rows(database)} == {DeliveryState.SENT}
