"""Telegram's HTML parse mode: the allowed tags, and the refusals for anything else.

Follows tdlib's parser closely enough that markup Telegram refuses is refused here too, with
the same ``can't parse entities`` reasons, and accepted markup yields the same plain text and
entities (offsets in UTF-16 units).

Two rules of the published Bot API that Telegram does not refuse but quietly works around
are refused here too (with the emulator's own wording): a ``&`` that starts no supported
entity (``&amp; &lt; &gt; &quot;`` or numeric) must be written ``&amp;``; and entities
nest only as the Bot API allows (nothing inside code or pre, bold/italic/underline/
strikethrough/spoiler not around code or pre, no blockquote in a blockquote, links and
custom emoji not inside each other).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

from sandbox.errors import parse_entities_error
from sandbox.text import utf16_len

_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
ALLOWED_TAGS = frozenset({*_SIMPLE_TAGS, "a", "span", "tg-emoji"})
_KINDS = {**_SIMPLE_TAGS, "a": "text_link", "span": "spoiler", "tg-emoji": "custom_emoji"}
_SPLITTABLE = frozenset({"bold", "italic", "underline", "strikethrough", "spoiler"})
_CODE = frozenset({"code", "pre"})
_NAME = re.compile(r"[a-zA-Z0-9-]*")
_ATTR = re.compile(r"\s*([a-zA-Z0-9_-]+)\s*(?:=\s*(\"[^\"]*\"|'[^']*'|[^\s>\"']*))?")
_ENTITY = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


@dataclass
class _Open:
    tag: str
    start: int  # UTF-16 offset in the plain text
    attrs: dict[str, str] = field(default_factory=dict)


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _decode_entity(text: str, index: int) -> tuple[str, int]:
    """Decode ``&...;`` at ``index``. tdlib keeps an unknown one as a literal ``&``; the
    Bot API says such a ``&`` must be escaped, so it is refused here."""
    match = _ENTITY.match(text, index)
    if match:
        body = match.group(1)
        if body.startswith("#"):
            code = int(body[2:], 16) if body.startswith("#x") else int(body[1:])
            # Like tdlib: no code point (0, a surrogate, beyond U+10FFFF) is no entity.
            if 0 < code < 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
                return chr(code), match.end()
        elif body in _NAMED:
            return _NAMED[body], match.end()
    raise parse_entities_error(
        f'Character "&" at byte offset {_byte_offset(text, index)} must be escaped as "&amp;"'
    )


def _may_contain(outer: str, inner: str) -> bool:
    """Whether an entity of kind ``outer`` may contain one of kind ``inner`` (Bot API)."""
    if outer in _CODE:
        return False
    if inner == "blockquote":
        return outer in _SPLITTABLE
    if outer == "blockquote":
        return True
    if outer in _SPLITTABLE or inner in _SPLITTABLE:
        return inner not in _CODE and outer not in _CODE
    return False


def _check_nesting(stack: list[_Open], opened: _Open, text: str, begin: int) -> None:
    if opened.tag == "code" and stack and stack[-1].tag == "pre":
        return  # <pre><code class="language-x">: one pre entity with a language
    inner = _KINDS[opened.tag]
    for outer in stack:
        if not _may_contain(_KINDS[outer.tag], inner):
            raise parse_entities_error(
                f'Tag "{opened.tag}" can\'t be inside tag "{outer.tag}" '
                f"at byte offset {_byte_offset(text, begin)}"
            )


def _entity_for(opened: _Open, length: int) -> dict[str, Any] | None:
    if length == 0:
        return None
    base: dict[str, Any] = {"offset": opened.start, "length": length}
    tag, attrs = opened.tag, opened.attrs
    if tag in _SIMPLE_TAGS:
        kind = _SIMPLE_TAGS[tag]
        if tag == "blockquote" and "expandable" in attrs:
            kind = "expandable_blockquote"
        base["type"] = kind
        if tag == "pre" and attrs.get("language"):
            base["language"] = attrs["language"]
        return base
    if tag == "a":
        href = attrs.get("href", "")
        if not href:
            return None
        base.update(type="text_link", url=href)
        return base
    if tag == "span":
        base["type"] = "spoiler"
        return base
    base.update(type="custom_emoji", custom_emoji_id=attrs.get("emoji-id", ""))
    return base


def _parse_start_tag(text: str, index: int) -> tuple[_Open, int]:
    """Parse ``<tag attr=...>`` starting at ``index`` (the ``<``); return it and the end."""
    begin = index
    match = _NAME.match(text, index + 1)
    assert match is not None
    name = match.group(0).lower()
    if name not in ALLOWED_TAGS:
        raise parse_entities_error(
            f'Unsupported start tag "{name}" at byte offset {_byte_offset(text, begin)}'
        )
    pos = match.end()
    attrs: dict[str, str] = {}
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            raise parse_entities_error(
                f"Unclosed start tag at byte offset {_byte_offset(text, begin)}"
            )
        if text[pos] == ">":
            break
        attr = _ATTR.match(text, pos)
        if attr is None or attr.end() == pos:
            raise parse_entities_error(
                f'Expected equal sign in declaration of an attribute of the tag "{name}" '
                f"at byte offset {_byte_offset(text, begin)}"
            )
        value = attr.group(2) or ""
        if value[:1] in {'"', "'"}:
            value = value[1:-1]
        attrs[attr.group(1).lower()] = html.unescape(value)
        pos = attr.end()
    if name == "span" and attrs.get("class") != "tg-spoiler":
        raise parse_entities_error('Tag "span" must have class "tg-spoiler"')
    if name == "tg-emoji" and not attrs.get("emoji-id"):
        raise parse_entities_error('Tag "tg-emoji" must have attribute "emoji-id"')
    return _Open(name, 0, attrs), pos + 1


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Plain text and entities for ``text`` in HTML parse mode, or ``ApiError`` 400."""
    out: list[str] = []
    out_len = 0  # UTF-16 units emitted so far
    stack: list[_Open] = []
    entities: list[dict[str, Any]] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "&":
            decoded, index = _decode_entity(text, index)
            out.append(decoded)
            out_len += utf16_len(decoded)
            continue
        if char != "<":
            out.append(char)
            out_len += utf16_len(char)
            index += 1
            continue
        begin = index
        if text.startswith("</", index):
            close = text.find(">", index)
            if close < 0:
                raise parse_entities_error(
                    f"Unclosed end tag at byte offset {_byte_offset(text, begin)}"
                )
            name = text[index + 2 : close].strip().lower()
            if not stack:
                raise parse_entities_error(
                    f"Unexpected end tag at byte offset {_byte_offset(text, begin)}"
                )
            if name != stack[-1].tag:
                raise parse_entities_error(
                    f"Unmatched end tag at byte offset {_byte_offset(text, begin)}, "
                    f'expected "</{stack[-1].tag}>", found "</{name}>"'
                )
            opened = stack.pop()
            index = close + 1
            language = opened.attrs.get("class", "")
            nested_in_pre = opened.tag == "code" and stack and stack[-1].tag == "pre"
            if nested_in_pre and language.startswith("language-"):
                stack[-1].attrs["language"] = language.removeprefix("language-")
                continue
            entity = _entity_for(opened, out_len - opened.start)
            if entity is not None:
                entities.append(entity)
            continue
        opened, index = _parse_start_tag(text, index)
        _check_nesting(stack, opened, text, begin)
        opened.start = out_len
        stack.append(opened)
    if stack:
        raise parse_entities_error(
            f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"'
        )
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities
