"""Bot API rules the emulator holds a bot to, including some Telegram quietly repairs.

Each refusal here is one an independent checker of the published Bot API would make, so a
partybot call that breaks one fails our own tests instead of passing them.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from telegram import Bot, BotCommand
from telegram.error import BadRequest

from sandbox import SimUser, World
from sandbox.errors import ApiError
from sandbox.html_check import parse_html
from tests.sandbox.test_emulator_files import tiny_png


async def call(http: httpx.AsyncClient, world: World, method: str, **params: Any) -> Any:
    """A raw Bot API call (nested values as JSON text, as python-telegram-bot sends them)."""
    data = {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in params.items()}
    response = await http.post(f"/bot{world.token}/{method}", data=data)
    return response.json()


def refusal(body: Any) -> str:
    assert body["ok"] is False, body
    return str(body["description"])


# --- keyboards -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("button", "description"),
    [
        (
            {"text": "a"},
            "Bad Request: can't parse inline keyboard button: "
            "Text buttons are unallowed in the inline keyboard",
        ),
        (
            {"text": "a", "callback_data": "x", "url": "https://e.org"},
            "Bad Request: can't parse inline keyboard button: "
            "InlineKeyboardButton must have exactly one optional field",
        ),
        ({"text": " ", "callback_data": "x"}, "Bad Request: BUTTON_TEXT_INVALID"),
        ({"text": "a", "callback_data": ""}, "Bad Request: BUTTON_DATA_INVALID"),
    ],
)
async def test_inline_buttons_need_a_label_and_exactly_one_action(
    http: httpx.AsyncClient, world: World, alice: SimUser, button: Any, description: str
) -> None:
    body = await call(
        http,
        world,
        "sendMessage",
        chat_id=alice.id,
        text="x",
        reply_markup={"inline_keyboard": [[button]]},
    )
    assert refusal(body) == description
    assert alice.messages == []


@pytest.mark.parametrize(
    ("markup", "description"),
    [
        (
            {"keyboard": [[{"text": "a", "request_contact": True, "request_location": True}]]},
            "Bad Request: can't parse keyboard button: "
            "KeyboardButton must have at most one optional field",
        ),
        (
            {"keyboard": [["a"]], "input_field_placeholder": "x" * 65},
            "Bad Request: input_field_placeholder must be 1-64 characters",
        ),
        (
            {"force_reply": True, "input_field_placeholder": ""},
            "Bad Request: input_field_placeholder must be 1-64 characters",
        ),
        (
            {"remove_keyboard": False},
            "Bad Request: remove_keyboard and force_reply can only be True",
        ),
    ],
)
async def test_reply_keyboards_as_the_bot_api_defines_them(
    http: httpx.AsyncClient, world: World, alice: SimUser, markup: Any, description: str
) -> None:
    body = await call(http, world, "sendMessage", chat_id=alice.id, text="x", reply_markup=markup)
    assert refusal(body) == description


async def test_a_placeholder_of_64_characters_fits(
    http: httpx.AsyncClient, world: World, alice: SimUser
) -> None:
    markup = {"keyboard": [["好"]], "input_field_placeholder": "字" * 64}
    body = await call(http, world, "sendMessage", chat_id=alice.id, text="x", reply_markup=markup)
    assert body["ok"] is True


# --- commands --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "description", "error"),
    [
        ("", "x", "Command must be non-empty"),
        ("c" * 33, "x", "Command length must not exceed 32"),
        ("Bad-Name", "x", "Bot_command_invalid"),
        ("ok", "   ", "Command description must be non-empty"),
        ("ok", "字" * 257, "Command description length must not exceed 256"),
    ],
)
async def test_bot_commands_checked_as_tdlib_does(
    bot: Bot, command: str, description: str, error: str
) -> None:
    with pytest.raises(BadRequest, match=error):
        await bot.set_my_commands([BotCommand(command, description)])


async def test_commands_are_trimmed_and_at_most_100(bot: Bot, world: World) -> None:
    await bot.set_my_commands([BotCommand(" ok ", " 好 "), BotCommand("c" * 32, "字" * 256)])
    assert world.commands()[0] == {"command": "ok", "description": "好"}
    with pytest.raises(BadRequest, match="Bot_commands_too_much"):
        await bot.set_my_commands([BotCommand(f"c{n}", "x") for n in range(101)])
    await bot.set_my_commands([BotCommand(f"c{n}", "x") for n in range(100)])


# --- updates and webhooks --------------------------------------------------------------------


async def test_allowed_updates_are_update_type_names(
    http: httpx.AsyncClient, world: World
) -> None:
    body = await call(http, world, "getUpdates", allowed_updates=["message", "messages"])
    assert refusal(body) == 'Bad Request: allowed_updates: unknown update type "messages"'
    body = await call(http, world, "getUpdates", allowed_updates={"message": True})
    assert refusal(body) == "Bad Request: can't parse allowed_updates JSON object"
    body = await call(http, world, "getUpdates", allowed_updates=["message", "callback_query"])
    assert body == {"ok": True, "result": []}


@pytest.mark.parametrize(
    ("params", "description"),
    [
        ({"limit": 0}, "Bad Request: limit must be between 1 and 100"),
        ({"limit": 101}, "Bad Request: limit must be between 1 and 100"),
        ({"timeout": -1}, "Bad Request: timeout must not be negative"),
    ],
)
async def test_get_updates_numbers_in_range(
    http: httpx.AsyncClient, world: World, params: dict[str, int], description: str
) -> None:
    assert refusal(await call(http, world, "getUpdates", **params)) == description


@pytest.mark.parametrize(
    ("params", "description"),
    [
        ({"secret_token": "a b"}, "Bad Request: secret token contains unallowed characters"),
        ({"secret_token": "密钥"}, "Bad Request: secret token contains unallowed characters"),
        ({"secret_token": "a" * 257}, "Bad Request: secret token is too long"),
        ({"secret_token": ""}, "Bad Request: secret token must be 1-256 characters"),
        ({"max_connections": 0}, "Bad Request: max_connections must be between 1 and 100"),
        ({"max_connections": 101}, "Bad Request: max_connections must be between 1 and 100"),
        ({"allowed_updates": ["edited"]}, "Bad Request: allowed_updates: unknown update type"),
        ({"url": "https://:80/hook"}, "Bad Request: invalid webhook URL specified"),
    ],
)
async def test_webhook_parameters(
    http: httpx.AsyncClient, world: World, params: dict[str, Any], description: str
) -> None:
    params = {"url": "https://bot.example.org/hook", **params}
    assert refusal(await call(http, world, "setWebhook", **params)).startswith(description)
    assert world.webhook.url == ""


async def test_a_good_webhook_is_kept(http: httpx.AsyncClient, world: World) -> None:
    body = await call(
        http,
        world,
        "setWebhook",
        url="https://bot.example.org/hook",
        secret_token="A-z_09" * 42,
        max_connections=100,
        allowed_updates=["message", "callback_query", "my_chat_member"],
    )
    assert body == {"ok": True, "result": True}
    assert world.webhook.secret_token == "A-z_09" * 42


# --- text ------------------------------------------------------------------------------------


async def test_parse_mode_spelled_as_the_bot_api_lists_it(
    http: httpx.AsyncClient, world: World, alice: SimUser
) -> None:
    body = await call(http, world, "sendMessage", chat_id=alice.id, text="x", parse_mode="html")
    assert refusal(body) == "Bad Request: unsupported parse_mode"


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("<b><code>1</code></b>", 'Tag "code" can\'t be inside tag "b" at byte offset 3'),
        ("<code><b>1</b></code>", 'Tag "b" can\'t be inside tag "code" at byte offset 6'),
        ("<pre>x<i>1</i></pre>", 'Tag "i" can\'t be inside tag "pre" at byte offset 6'),
        ('<a href="https://e.org"><a href="https://f.org">x</a></a>', 'Tag "a" can\'t be'),
        ('<a href="https://e.org"><code>x</code></a>', 'Tag "code" can\'t be inside tag "a"'),
        ("<blockquote><blockquote>x</blockquote></blockquote>", 'Tag "blockquote" can\'t'),
    ],
)
def test_html_entities_nest_only_as_the_bot_api_allows(source: str, reason: str) -> None:
    with pytest.raises(ApiError) as caught:
        parse_html(source)
    assert caught.value.description.startswith("Bad Request: can't parse entities: " + reason)


@pytest.mark.parametrize(
    "source",
    [
        '<pre><code class="language-python">x</code></pre>',
        '<a href="https://e.org"><b>x</b></a>',
        "<b><i><u><s><tg-spoiler>x</tg-spoiler></s></u></i></b>",
        "<blockquote><b>x</b> <code>y</code></blockquote>",
        "<b><blockquote>x</blockquote></b>",
    ],
)
def test_html_nesting_the_bot_api_allows(source: str) -> None:
    assert parse_html(source)[0]


# --- files -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("width", "height"), [(9_000, 1_001), (2_100, 100)])
async def test_photo_dimensions(bot: Bot, alice: SimUser, width: int, height: int) -> None:
    """Width and height together at most 10000, and at most 20 times the one the other."""
    with pytest.raises(BadRequest, match="Photo_invalid_dimensions"):
        await bot.send_photo(alice.id, tiny_png(width, height))
    await bot.send_photo(alice.id, tiny_png(2_000, 100))
    assert len(alice.messages) == 1


async def test_photo_upload_at_most_10_mb(bot: Bot, alice: SimUser) -> None:
    with pytest.raises(Exception, match="Request Entity Too Large"):
        await bot.send_photo(alice.id, b"\0" * (10 * 1024 * 1024 + 1))
    assert alice.messages == []


# --- albums ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("media", "description"),
    [
        ([], "Bad Request: there are no messages to send"),
        ({"type": "photo"}, "Bad Request: expected an Array of InputMedia"),
        (
            [{"type": "photo", "media": "attach://gone"}, {"type": "photo", "media": "x"}],
            "Bad Request: can't parse InputMedia: media not found",
        ),
        (
            [{"type": "animation", "media": "x"}, {"type": "photo", "media": "x"}],
            "Bad Request: can't parse InputMedia: type \"animation\" can't be used in "
            "sendMediaGroup",
        ),
        (["photo", "photo"], "Bad Request: can't parse InputMedia JSON object"),
    ],
)
async def test_bad_albums_are_refused(
    http: httpx.AsyncClient, world: World, alice: SimUser, media: Any, description: str
) -> None:
    body = await call(http, world, "sendMediaGroup", chat_id=alice.id, media=media)
    assert refusal(body) == description
    assert alice.messages == []


async def test_an_album_takes_no_keyboard(
    http: httpx.AsyncClient, world: World, alice: SimUser, bot: Bot
) -> None:
    known = (await bot.send_photo(alice.id, tiny_png(30, 30))).photo[-1].file_id
    media = [{"type": "photo", "media": known}, {"type": "photo", "media": known}]
    markup = {"inline_keyboard": [[{"text": "a", "callback_data": "x"}]]}
    body = await call(
        http, world, "sendMediaGroup", chat_id=alice.id, media=media, reply_markup=markup
    )
    assert refusal(body) == "Bad Request: sendMediaGroup takes no reply_markup"
    body = await call(http, world, "sendMediaGroup", chat_id=alice.id, media="[not json")
    assert refusal(body) == "Bad Request: can't parse media JSON object"
    assert len(alice.messages) == 1
