"""Sending, editing and deleting messages, with Telegram's limits and error texts."""

from __future__ import annotations

import httpx
import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.error import BadRequest, Forbidden, InvalidToken

from sandbox import EmulatorServer, SimUser, World
from sandbox.errors import EMPTY_KEYBOARD as EMPTY


async def test_send_message_is_seen_by_the_user(bot: Bot, alice: SimUser) -> None:
    sent = await bot.send_message(alice.id, "<b>你好</b>, Alice", parse_mode="HTML")
    assert sent.text == "你好, Alice"
    assert sent.chat.id == alice.id
    reply = await alice.wait_for_reply()
    assert reply.text == "你好, Alice"
    assert reply.entities == [{"offset": 0, "length": 2, "type": "bold"}]
    assert reply.message_id == sent.message_id
    assert alice.last_text == "你好, Alice"


async def test_text_length_limits(bot: Bot, alice: SimUser) -> None:
    await bot.send_message(alice.id, "字" * 4096)
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(alice.id, "字" * 4097)
    # the limit counts characters after entity parsing, not markup
    await bot.send_message(alice.id, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    assert len(alice.messages) == 2


async def test_empty_text_refused(http: httpx.AsyncClient, alice: SimUser, world: World) -> None:
    response = await http.post(f"/bot{world.token}/sendMessage", data={"chat_id": alice.id})
    assert response.status_code == 400
    assert response.json() == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: message text is empty",
    }


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("<blink>x</blink>", 'Unsupported start tag "blink" at byte offset 0'),
        ("<b>unclosed", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", "Unmatched end tag at byte offset 4"),
        ("x</b>", "Unexpected end tag at byte offset 1"),
    ],
)
async def test_bad_html_refused(
    http: httpx.AsyncClient, alice: SimUser, world: World, text: str, reason: str
) -> None:
    response = await http.post(
        f"/bot{world.token}/sendMessage",
        data={"chat_id": alice.id, "text": text, "parse_mode": "HTML"},
    )
    body = response.json()
    assert response.status_code == 400
    assert body["description"].startswith("Bad Request: can't parse entities: " + reason)
    assert alice.messages == []


async def test_markdown_v2_requires_escaping(bot: Bot, alice: SimUser) -> None:
    with pytest.raises(BadRequest, match="reserved and must be escaped"):
        await bot.send_message(alice.id, "Done.", parse_mode="MarkdownV2")
    sent = await bot.send_message(alice.id, r"*Done*\.", parse_mode="MarkdownV2")
    assert sent.text == "Done."


async def test_unknown_chat_and_wrong_token(bot: Bot, server: EmulatorServer) -> None:
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(999, "hi")
    stranger = Bot("42:wrong", base_url=f"{server.url}/bot")
    with pytest.raises(InvalidToken):
        await stranger.get_me()


async def test_wrong_token_body(http: httpx.AsyncClient, world: World) -> None:
    response = await http.get("/bot1:nope/getMe")
    assert response.status_code == 401
    assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert world.calls[-1].status == 401


async def test_unknown_method_is_404_and_recorded(http: httpx.AsyncClient, world: World) -> None:
    response = await http.post(f"/bot{world.token}/sendDice", data={"chat_id": 1})
    assert response.status_code == 404
    assert response.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    assert world.calls[-1].method == "sendDice"


async def test_method_names_are_case_insensitive_and_get_works(
    http: httpx.AsyncClient, world: World
) -> None:
    response = await http.get(f"/bot{world.token}/GETME")
    assert response.json()["result"]["username"] == "partybot_test_bot"
    assert response.json()["result"]["id"] == 123456789


async def test_blocked_user_gets_403_and_my_chat_member(bot: Bot, alice: SimUser) -> None:
    await alice.block_bot()
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(alice.id, "hello?")
    await alice.unblock_bot()
    await bot.send_message(alice.id, "welcome back")
    updates = await bot.get_updates()
    changes = [u.my_chat_member for u in updates if u.my_chat_member]
    assert [(c.old_chat_member.status, c.new_chat_member.status) for c in changes] == [
        ("member", "kicked"),
        ("kicked", "member"),
    ]
    assert changes[0].chat.id == alice.id


async def test_edit_and_not_modified(bot: Bot, alice: SimUser) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("OK", callback_data="ok")]])
    sent = await bot.send_message(alice.id, "draft", reply_markup=keyboard)
    await alice.wait_for_reply()
    edited = await bot.edit_message_text(
        "final", chat_id=alice.id, message_id=sent.message_id, reply_markup=keyboard
    )
    assert not isinstance(edited, bool)
    assert edited.edit_date is not None
    seen = await alice.wait_for_reply()
    assert seen.text == "final"
    assert [v.text for v in seen.versions] == ["draft", "final"]
    assert seen.buttons == [["OK"]]
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text(
            "final", chat_id=alice.id, message_id=sent.message_id, reply_markup=keyboard
        )
    # omitting reply_markup removes the inline keyboard, as in Telegram
    await bot.edit_message_reply_markup(chat_id=alice.id, message_id=sent.message_id)
    assert alice.messages[-1].buttons == []
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", chat_id=alice.id, message_id=999)


async def test_delete(bot: Bot, alice: SimUser) -> None:
    sent = await bot.send_message(alice.id, "oops")
    assert await bot.delete_message(alice.id, sent.message_id)
    assert alice.messages == []
    assert alice.chat.messages[-1].deleted
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(alice.id, sent.message_id)


async def test_reply_keyboard_with_contact_request(bot: Bot, alice: SimUser) -> None:
    markup = ReplyKeyboardMarkup(
        [[KeyboardButton("分享手机号", request_contact=True)]], one_time_keyboard=True
    )
    await bot.send_message(alice.id, "请分享手机号", reply_markup=markup)
    assert alice.reply_keyboard == [["分享手机号"]]
    await alice.press("分享手机号")
    assert alice.reply_keyboard is None
    updates = await bot.get_updates()
    contact = updates[-1].message.contact if updates[-1].message else None
    assert contact is not None
    assert contact.phone_number == "+8613800000001"
    assert contact.user_id == alice.id
    await bot.send_message(alice.id, "谢谢", reply_markup=ReplyKeyboardRemove())
    assert alice.reply_keyboard is None


async def test_reply_to_message(bot: Bot, alice: SimUser) -> None:
    said = await alice.send("question")
    answer = await bot.send_message(alice.id, "answer", reply_to_message_id=said["message_id"])
    assert answer.reply_to_message is not None
    assert answer.reply_to_message.text == "question"
    with pytest.raises(BadRequest, match="Message to be replied not found"):
        await bot.send_message(alice.id, "x", reply_to_message_id=777)


async def test_chat_action_and_get_chat(bot: Bot, alice: SimUser, world: World) -> None:
    assert await bot.send_chat_action(alice.id, "typing")
    assert world.events[-1].kind == "chat_action"
    chat = await bot.get_chat(alice.id)
    assert chat.first_name == "Alice"
    assert chat.type == "private"


async def test_user_who_never_started_cannot_be_messaged(bot: Bot, world: World) -> None:
    shy = world.add_user("Shy", started=False)
    with pytest.raises(Forbidden, match="bot can't initiate conversation"):
        await bot.send_message(shy.id, "hi")
    await shy.send("/start")
    await bot.send_message(shy.id, "hi")


@pytest.mark.parametrize(
    ("markup", "reason"),
    [
        ("{}", "Bad Request: can't parse reply keyboard markup JSON object"),
        ('{"inline_keyboard": []}', EMPTY),
        ('{"inline_keyboard": [[]]}', EMPTY),
        ('{"inline_keyboard": [[{"text": "a", "callback_data": "a"}], []]}', EMPTY),
        ('{"keyboard": []}', EMPTY),
    ],
)
async def test_an_empty_keyboard_is_refused(
    http: httpx.AsyncClient, alice: SimUser, world: World, markup: str, reason: str
) -> None:
    response = await http.post(
        f"/bot{world.token}/sendMessage",
        data={"chat_id": alice.id, "text": "hi", "reply_markup": markup},
    )
    assert response.status_code == 400
    assert response.json()["description"] == reason
    assert alice.messages == []
