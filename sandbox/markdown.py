"""Telegram's MarkdownV2 parse mode, strict about escaping like the real server.

A bot that forgets to escape ``.`` or ``-`` in MarkdownV2 gets a 400 from Telegram; the same
happens here, with tdlib's wording, so the mistake shows up in tests rather than production.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.errors import parse_entities_error
from sandbox.text import utf16_len

RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
    "code": "Code",
    "pre": "Pre",
}
_TOGGLES = (
    ("__", "underline"),
    ("||", "spoiler"),
    ("*", "bold"),
    ("_", "italic"),
    ("~", "strikethrough"),
)


@dataclass
class _Open:
    kind: str
    start: int  # UTF-16 offset in the output
    byte: int  # byte offset in the source, for error messages
    language: str = ""


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.out: list[str] = []
        self.out_len = 0
        self.stack: list[_Open] = []
        self.entities: list[dict[str, Any]] = []

    def byte(self, index: int | None = None) -> int:
        return len(self.text[: self.i if index is None else index].encode("utf-8"))

    def emit(self, chunk: str) -> None:
        self.out.append(chunk)
        self.out_len += utf16_len(chunk)

    def open(self, kind: str, language: str = "") -> None:
        self.stack.append(_Open(kind, self.out_len, self.byte(), language))

    def close(self, extra: dict[str, Any] | None = None) -> None:
        opened = self.stack.pop()
        length = self.out_len - opened.start
        if length > 0:
            entity: dict[str, Any] = {"offset": opened.start, "length": length}
            entity["type"] = opened.kind
            if opened.language:
                entity["language"] = opened.language
            entity.update(extra or {})
            self.entities.append(entity)

    def top(self) -> str | None:
        return self.stack[-1].kind if self.stack else None

    def run(self) -> tuple[str, list[dict[str, Any]]]:
        text = self.text
        while self.i < len(text):
            char = text[self.i]
            if char == "\\" and self.i + 1 < len(text) and 0 < ord(text[self.i + 1]) <= 126:
                self.emit(text[self.i + 1])
                self.i += 2
            elif self.top() in ("code", "pre"):
                self.in_code()
            elif char == "\n" and any(o.kind == "blockquote" for o in self.stack):
                self.newline_in_quote()
            elif char not in RESERVED:
                self.emit(char)
                self.i += 1
            else:
                self.reserved(char)
        while self.stack and self.top() == "blockquote":
            self.close()
        if self.stack:
            opened = self.stack[-1]
            raise parse_entities_error(
                f"Can't find end of {_NAMES[opened.kind]} entity at byte offset {opened.byte}"
            )
        self.entities.sort(key=lambda ent: (ent["offset"], -ent["length"]))
        return "".join(self.out), self.entities

    def in_code(self) -> None:
        text, kind = self.text, self.top()
        if kind == "pre" and text.startswith("```", self.i):
            self.i += 3
            self.close()
        elif kind == "code" and text[self.i] == "`":
            self.i += 1
            self.close()
        else:
            self.emit(text[self.i])
            self.i += 1

    def newline_in_quote(self) -> None:
        self.emit("\n")
        self.i += 1
        if self.text.startswith(">", self.i):
            self.i += 1
            return
        while self.stack and self.top() != "blockquote":
            self.stack.pop()
        self.out.pop()
        self.out_len -= 1
        self.close()
        self.emit("\n")

    def reserved(self, char: str) -> None:
        text = self.text
        for token, kind in _TOGGLES:
            if text.startswith(token, self.i):
                if self.top() == kind:
                    self.i += len(token)
                    self.close()
                else:
                    self.open(kind)
                    self.i += len(token)
                return
        at_line_start = self.i == 0 or text[self.i - 1] == "\n"
        if char == ">" and at_line_start:
            self.open("blockquote")
            self.i += 1
        elif char == "[":
            self.open("text_link")
            self.i += 1
        elif char == "!" and text.startswith("![", self.i):
            self.open("custom_emoji")
            self.i += 2
        elif char == "]" and self.top() in ("text_link", "custom_emoji"):
            self.link_end()
        elif char == "`":
            self.code_start()
        else:
            raise parse_entities_error(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
            )

    def code_start(self) -> None:
        text = self.text
        if text.startswith("```", self.i):
            self.open("pre")
            self.i += 3
            newline = text.find("\n", self.i)
            fence = text.find("```", self.i)
            if 0 <= newline < fence and text[self.i : newline].strip():
                self.stack[-1].language = text[self.i : newline].strip()
                self.i = newline + 1
        else:
            self.open("code")
            self.i += 1

    def link_end(self) -> None:
        text = self.text
        begin = self.i
        if not text.startswith("(", self.i + 1):
            raise parse_entities_error(f"Can't find end of a URL at byte offset {self.byte()}")
        self.i += 2
        url: list[str] = []
        while self.i < len(text) and text[self.i] != ")":
            if text[self.i] == "\\" and self.i + 1 < len(text):
                self.i += 1
            url.append(text[self.i])
            self.i += 1
        if self.i >= len(text):
            raise parse_entities_error(
                f"Can't find end of a URL at byte offset {self.byte(begin)}"
            )
        self.i += 1
        target = "".join(url)
        if self.top() == "custom_emoji":
            emoji_id = target.partition("id=")[2]
            self.close({"custom_emoji_id": emoji_id})
        else:
            self.close({"url": target})


def parse_markdown_v2(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Plain text and entities for ``text`` in MarkdownV2, or ``ApiError`` 400."""
    return _Parser(text).run()
