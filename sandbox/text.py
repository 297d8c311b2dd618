"""Text measurements as Telegram makes them.

Entity offsets and lengths are counted in UTF-16 code units, so an emoji outside the BMP is
two units while a Chinese character is one.
"""

from __future__ import annotations

from typing import Any

MAX_TEXT = 4096
MAX_CAPTION = 1024


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def command_entities(text: str) -> list[dict[str, Any]]:
    """A ``bot_command`` entity for a leading ``/command`` (``/start payload`` -> 6 units)."""
    if not text.startswith("/") or len(text) < 2:
        return []
    word = text.split(maxsplit=1)[0]
    name = word[1:].split("@", 1)[0]
    if not name or not all(ch.isascii() and (ch.isalnum() or ch == "_") for ch in name):
        return []
    return [{"offset": 0, "length": utf16_len(word), "type": "bot_command"}]
