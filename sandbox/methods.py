"""The Bot API method table, and the small methods that do not send messages.

Names are matched case-insensitively like Telegram; :data:`METHODS` maps the lower-case
name to the canonical name and its implementation.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from sandbox import errors as e
from sandbox.errors import bad_request
from sandbox.messaging import (
    delete_message,
    edit_message_caption,
    edit_message_media,
    edit_message_reply_markup,
    edit_message_text,
    find_chat,
    send_document,
    send_media_group,
    send_message,
    send_photo,
    target_chat,
)
from sandbox.models import CallbackAnswer
from sandbox.params import Params
from sandbox.polling import delete_webhook, get_updates, get_webhook_info, set_webhook
from sandbox.world import World, scope_key

Method = Callable[[World, Params], Awaitable[Any]]

SENDING = frozenset({"sendMessage", "sendPhoto", "sendDocument", "sendMediaGroup"})
EDITING = frozenset(
    {"editMessageText", "editMessageCaption", "editMessageMedia", "editMessageReplyMarkup"}
)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
SCOPE_TYPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
MAX_COMMAND = 32
MAX_DESCRIPTION = 256
MAX_COMMANDS = 100
_LANGUAGE = re.compile(r"(|[a-z]{2})")
MAX_FILE_DOWNLOAD = 20 * 1024 * 1024


async def get_me(world: World, params: Params) -> Any:
    """getMe."""
    return {
        **world.bot_user(),
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


async def answer_callback_query(world: World, params: Params) -> Any:
    """answerCallbackQuery: once per query, within the query's lifetime."""
    query_id = params.text("callback_query_id") or ""
    query = world.callback_queries.get(query_id)
    too_old = query is not None and world.monotonic() - query.created_at > world.callback_query_ttl
    if query is None or query.answer is not None or too_old:
        raise bad_request(e.QUERY_TOO_OLD)
    text = params.text("text")
    if text is not None and len(text) > 200:
        raise bad_request(e.CALLBACK_TEXT_TOO_LONG)
    answer = CallbackAnswer(
        callback_query_id=query_id,
        text=text,
        show_alert=params.boolean("show_alert"),
        url=params.text("url"),
        cache_time=params.integer("cache_time") or 0,
    )
    world.answer_callback(query, answer)
    return True


async def get_file(world: World, params: Params) -> Any:
    """getFile: a path to download the bytes from ``/file/bot<token>/<path>``."""
    stored = world.files.get(params.text("file_id") or "")
    if stored is None:
        raise bad_request(e.INVALID_FILE_ID)
    if len(stored.data) > MAX_FILE_DOWNLOAD:
        raise bad_request("Bad Request: file is too big")
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
        "file_path": stored.file_path,
    }


async def send_chat_action(world: World, params: Params) -> Any:
    """sendChatAction ("typing" and friends)."""
    chat = target_chat(world, params)
    action = params.text("action") or ""
    if action not in CHAT_ACTIONS:
        raise bad_request(e.BAD_ACTION)
    world.emit("chat_action", chat.id, data={"action": action})
    return True


async def get_chat(world: World, params: Params) -> Any:
    """getChat: the ChatFullInfo fields python-telegram-bot requires."""
    chat = find_chat(world, params)
    return {
        **world.chat_dict(chat),
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": {
            "unlimited_gifts": False,
            "limited_gifts": False,
            "unique_gifts": False,
            "premium_subscription": False,
            "gifts_from_channels": False,
        },
    }


def _command_key(world: World, params: Params) -> tuple[str, int | None, int | None, str]:
    scope = params.json("scope", e.BAD_SCOPE)
    if scope is not None and (not isinstance(scope, dict) or scope.get("type") not in SCOPE_TYPES):
        raise bad_request(e.BAD_SCOPE)
    if isinstance(scope, dict) and scope["type"].startswith("chat"):
        if scope.get("chat_id") is None:
            raise bad_request(e.CHAT_ID_EMPTY)
        try:
            chat_id = int(scope["chat_id"])
        except (TypeError, ValueError):
            raise bad_request(e.CHAT_NOT_FOUND) from None
        if chat_id not in world.chats:
            raise bad_request(e.CHAT_NOT_FOUND)
    language = params.text("language_code") or ""
    if not _LANGUAGE.fullmatch(language):
        raise bad_request("Bad Request: invalid language code specified")
    return scope_key(scope, language)


async def set_my_commands(world: World, params: Params) -> Any:
    """setMyCommands, kept per scope (type, chat_id, user_id) and language.

    Checked as tdlib checks (texts included): names and descriptions are trimmed, a name
    is 1..32 of [a-z0-9_], a description 1..256 characters, at most 100 commands.
    """
    commands = params.json("commands", e.BAD_COMMANDS_JSON)
    if commands is None:
        commands = []
    if not isinstance(commands, list):
        raise bad_request(e.COMMANDS_NOT_ARRAY)
    cleaned = [_bot_command(item) for item in commands]
    if len(cleaned) > MAX_COMMANDS:
        raise bad_request(e.COMMANDS_TOO_MUCH)
    world.set_commands(_command_key(world, params), cleaned)
    return True


def _bot_command(item: object) -> dict[str, str]:
    if not isinstance(item, dict):
        raise bad_request(e.BAD_COMMAND)
    command, description = item.get("command"), item.get("description")
    if not isinstance(command, str) or not isinstance(description, str):
        raise bad_request(e.BAD_COMMAND)
    command = command.strip().removeprefix("/")
    description = description.strip()
    if not command:
        raise bad_request(e.COMMAND_EMPTY)
    if len(command) > MAX_COMMAND:
        raise bad_request(e.COMMAND_TOO_LONG)
    if not description:
        raise bad_request(e.COMMAND_DESCRIPTION_EMPTY)
    if len(description) > MAX_DESCRIPTION:
        raise bad_request(e.COMMAND_DESCRIPTION_TOO_LONG)
    if not _COMMAND.fullmatch(command):
        raise bad_request(e.COMMAND_INVALID)
    return {"command": command, "description": description}


async def get_my_commands(world: World, params: Params) -> Any:
    """getMyCommands for exactly the given scope and language."""
    key = _command_key(world, params)
    return world.commands({"type": key[0], "chat_id": key[1], "user_id": key[2]}, key[3])


async def delete_my_commands(world: World, params: Params) -> Any:
    """deleteMyCommands for exactly the given scope and language."""
    world.set_commands(_command_key(world, params), [])
    return True


async def set_chat_menu_button(world: World, params: Params) -> Any:
    """setChatMenuButton; without chat_id it sets the default button."""
    chat_id = find_chat(world, params).id if params.has("chat_id") else None
    button = params.json("menu_button", e.BAD_MENU_BUTTON)
    if button is None:
        button = {"type": "default"}
    kinds = ("commands", "web_app", "default")
    if not isinstance(button, dict) or button.get("type") not in kinds:
        raise bad_request(e.BAD_MENU_BUTTON)
    if button["type"] == "default":
        world.menu_buttons.pop(chat_id, None)
    else:
        world.menu_buttons[chat_id] = button
    return True


async def get_chat_menu_button(world: World, params: Params) -> Any:
    """getChatMenuButton: the chat's own button, else the default, else "commands"."""
    chat_id = find_chat(world, params).id if params.has("chat_id") else None
    return world.menu_buttons.get(chat_id) or world.menu_buttons.get(None) or {"type": "commands"}


async def accept(world: World, params: Params) -> Any:
    """close / logOut: nothing to tear down here."""
    return True


_TABLE: dict[str, Method] = {
    "getMe": get_me,
    "getUpdates": get_updates,
    "setWebhook": set_webhook,
    "deleteWebhook": delete_webhook,
    "getWebhookInfo": get_webhook_info,
    "sendMessage": send_message,
    "sendPhoto": send_photo,
    "sendDocument": send_document,
    "sendMediaGroup": send_media_group,
    "editMessageText": edit_message_text,
    "editMessageCaption": edit_message_caption,
    "editMessageMedia": edit_message_media,
    "editMessageReplyMarkup": edit_message_reply_markup,
    "deleteMessage": delete_message,
    "answerCallbackQuery": answer_callback_query,
    "getFile": get_file,
    "sendChatAction": send_chat_action,
    "getChat": get_chat,
    "setMyCommands": set_my_commands,
    "getMyCommands": get_my_commands,
    "deleteMyCommands": delete_my_commands,
    "setChatMenuButton": set_chat_menu_button,
    "getChatMenuButton": get_chat_menu_button,
    "close": accept,
    "logOut": accept,
}
METHODS: dict[str, tuple[str, Method]] = {
    name.lower(): (name, impl) for name, impl in _TABLE.items()
}
