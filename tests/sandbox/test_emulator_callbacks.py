"""Inline keyboards: callback data limits, taps, forged data and answers."""

from __future__ import annotations

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest

from sandbox import SimUser, World


def keyboard(*buttons: InlineKeyboardButton) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([list(buttons)])


async def test_callback_data_is_limited_to_64_bytes(bot: Bot, alice: SimUser) -> None:
    fits = "参" * 21 + "x"  # 21 * 3 + 1 = 64 bytes
    too_long = "参" * 21 + "xy"  # 65 bytes
    await bot.send_message(
        alice.id, "ok", reply_markup=keyboard(InlineKeyboardButton("a", callback_data=fits))
    )
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(
            alice.id,
            "no",
            reply_markup=keyboard(InlineKeyboardButton("b", callback_data=too_long)),
        )
    assert [m.text for m in alice.messages] == ["ok"]


async def test_tap_by_label_and_answer(bot: Bot, alice: SimUser, world: World) -> None:
    await bot.send_message(
        alice.id,
        "参加吗？",
        reply_markup=keyboard(
            InlineKeyboardButton("确认参加", callback_data="att:yes:7"),
            InlineKeyboardButton("网站", url="https://example.org"),
        ),
    )
    assert await alice.tap("网站") == ""  # url buttons never reach the bot
    query_id = await alice.tap("确认参加")
    updates = await bot.get_updates()
    query = updates[-1].callback_query
    assert query is not None
    assert (query.id, query.data) == (query_id, "att:yes:7")
    assert query.from_user.id == alice.id
    assert query.message is not None
    assert query.message.chat.id == alice.id
    assert len(updates) == 1
    assert await bot.answer_callback_query(query_id, text="已记录", show_alert=False)
    assert alice.last_callback_answer is not None
    assert alice.last_callback_answer.text == "已记录"
    assert not alice.last_callback_answer.show_alert
    assert world.calls_of("answerCallbackQuery")[-1].params["text"] == "已记录"
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(query_id)
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query("12345")


async def test_tap_picks_latest_message_or_given_one(bot: Bot, alice: SimUser) -> None:
    first = await bot.send_message(
        alice.id, "1", reply_markup=keyboard(InlineKeyboardButton("Go", callback_data="one"))
    )
    await bot.send_message(
        alice.id, "2", reply_markup=keyboard(InlineKeyboardButton("Go", callback_data="two"))
    )
    await alice.tap("Go")
    await alice.tap("Go", message_id=first.message_id)
    datas = [u.callback_query.data for u in await bot.get_updates() if u.callback_query]
    assert datas == ["two", "one"]
    with pytest.raises(LookupError, match="Stop"):
        await alice.tap("Stop")


async def test_forged_callback_data(bot: Bot, alice: SimUser) -> None:
    sent = await bot.send_message(alice.id, "plain")
    await alice.tap_data("admin:delete:1", message_id=sent.message_id)
    update = (await bot.get_updates())[-1]
    assert update.callback_query is not None
    assert update.callback_query.data == "admin:delete:1"
    with pytest.raises(LookupError):
        await alice.tap_data("x", message_id=999)


async def test_wait_for_callback_answer_times_out_helpfully(alice: SimUser, bot: Bot) -> None:
    await bot.send_message(
        alice.id, "choose", reply_markup=keyboard(InlineKeyboardButton("A", callback_data="a"))
    )
    query_id = await alice.tap("A")
    with pytest.raises(TimeoutError, match=r"(?s)callback query.*choose"):
        await alice.wait_for_callback_answer(query_id, timeout=0.05)
