"""Reply markup checks and the views a person gets of keyboards.

Telegram refuses bad keyboards as a whole (the message is not sent), so every button is
checked before anything is stored: callback data is 1..64 *bytes* of UTF-8, which is only
21 Chinese characters. The Bot API defines no empty keyboard: ``{}``, no rows or an empty
row are refused, so a bot that "sends no buttons" must leave reply_markup out.

Where Telegram quietly repairs a markup the Bot API calls wrong (an inline button with two
actions, a reply button with two requests, a placeholder over 64 characters,
``remove_keyboard: false``), the emulator refuses it, so the mistake shows in our tests.
"""

from __future__ import annotations

import json
from typing import Any

from sandbox.errors import (
    BAD_INLINE_KEYBOARD,
    BAD_MARKUP,
    BUTTON_DATA_INVALID,
    BUTTON_FIELDS,
    BUTTON_TEXT_INVALID,
    BUTTON_URL_INVALID,
    EMPTY_KEYBOARD,
    KEYBOARD_BUTTON_FIELDS,
    KEYBOARD_FLAG_FALSE,
    PLACEHOLDER_INVALID,
    TEXT_BUTTON_INLINE,
    bad_request,
)

MAX_CALLBACK_BYTES = 64
MAX_PLACEHOLDER = 64
_REQUESTS = (
    "request_users",
    "request_chat",
    "request_contact",
    "request_location",
    "request_poll",
    "web_app",
)
_INLINE_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


def parse_markup(raw: object) -> dict[str, Any] | None:
    """Decode and validate ``reply_markup`` (JSON text or an already decoded object)."""
    if raw is None or raw == "":
        return None
    value: object = raw
    if isinstance(raw, str):
        try:
            value = json.loads(raw)
        except ValueError as exc:
            raise bad_request(BAD_MARKUP) from exc
    if not isinstance(value, dict):
        raise bad_request(BAD_MARKUP)
    if "inline_keyboard" in value:
        _check_inline(value["inline_keyboard"])
    elif "keyboard" in value:
        _check_reply(value["keyboard"])
    elif "remove_keyboard" in value or "force_reply" in value:
        flag = "remove_keyboard" if "remove_keyboard" in value else "force_reply"
        if value[flag] is not True:
            raise bad_request(KEYBOARD_FLAG_FALSE)
    else:
        raise bad_request(BAD_MARKUP)
    placeholder = value.get("input_field_placeholder")
    if placeholder is not None and not (
        isinstance(placeholder, str) and 1 <= len(placeholder) <= MAX_PLACEHOLDER
    ):
        raise bad_request(PLACEHOLDER_INVALID)
    return value


def parse_inline_markup(raw: object) -> dict[str, Any] | None:
    """Like :func:`parse_markup`, for edits, which accept only inline keyboards."""
    markup = parse_markup(raw)
    if markup is not None and "inline_keyboard" not in markup:
        raise bad_request(BAD_INLINE_KEYBOARD)
    return markup


def _rows(value: object) -> list[list[Any]]:
    if not isinstance(value, list) or not all(isinstance(row, list) for row in value):
        raise bad_request(BAD_MARKUP)
    if not value or not all(value):
        raise bad_request(EMPTY_KEYBOARD)
    return value


def _check_text(button: dict[str, Any]) -> None:
    text = button.get("text")
    if not isinstance(text, str):
        raise bad_request(BAD_MARKUP)
    if not text.strip():
        raise bad_request(BUTTON_TEXT_INVALID)


def _check_inline(value: object) -> None:
    for row in _rows(value):
        for button in row:
            if not isinstance(button, dict):
                raise bad_request(BAD_MARKUP)
            _check_text(button)
            actions = [key for key in _INLINE_ACTIONS if key in button]
            if not actions:
                raise bad_request(TEXT_BUTTON_INLINE)
            if len(actions) > 1:
                raise bad_request(BUTTON_FIELDS)
            if "callback_data" in button:
                data = button["callback_data"]
                size = len(data.encode("utf-8")) if isinstance(data, str) else 0
                if not 1 <= size <= MAX_CALLBACK_BYTES:
                    raise bad_request(BUTTON_DATA_INVALID)
            if "url" in button:
                url = button["url"]
                if not isinstance(url, str) or not url.startswith(
                    ("http://", "https://", "tg://")
                ):
                    raise bad_request(BUTTON_URL_INVALID)


def _check_reply(value: object) -> None:
    for row in _rows(value):
        for button in row:
            if isinstance(button, str):
                if not button.strip():
                    raise bad_request(BUTTON_TEXT_INVALID)
                continue
            if not isinstance(button, dict):
                raise bad_request(BAD_MARKUP)
            _check_text(button)
            if sum(key in button for key in _REQUESTS) > 1:
                raise bad_request(KEYBOARD_BUTTON_FIELDS)


def button_label(button: object) -> str:
    """The label a person reads on a button (reply keyboards allow bare strings)."""
    if isinstance(button, str):
        return button
    if isinstance(button, dict):
        return str(button.get("text", ""))
    return ""


def keyboard_rows(markup: dict[str, Any] | None) -> list[list[Any]]:
    """The rows of buttons of an inline or reply keyboard, or ``[]``."""
    if not markup:
        return []
    rows = markup.get("inline_keyboard", markup.get("keyboard", []))
    return rows if isinstance(rows, list) else []


def labels(markup: dict[str, Any] | None) -> list[list[str]]:
    """Rows of button labels, as a person sees them."""
    return [[button_label(button) for button in row] for row in keyboard_rows(markup)]


def find_button(markup: dict[str, Any] | None, label: str) -> dict[str, Any] | None:
    """The first button with exactly this label, or ``None``."""
    for row in keyboard_rows(markup):
        for button in row:
            if button_label(button) == label:
                return button if isinstance(button, dict) else {"text": button}
    return None
