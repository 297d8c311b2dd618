"""HTML for Telegram's parse mode, escaped exactly once by construction.

The rule: a plain ``str`` is text, a ``Markup`` is HTML. Every message the bot sends with
parse_mode HTML passes through `as_html` (at the Bot, see `HtmlBot`, and when a delivery
payload is queued, see `payload_html`), which escapes a plain string and leaves Markup as
it is. So a name, topic, note or org name from a user or a roster is escaped once whether
or not the code that formatted it remembered to, and markup we write on purpose
(``<b>``) says so by being Markup: ``Markup(_("<b>Coming up</b>"))``, or
``Markup(_("Number: <b>{code}</b>")).format(code=value)``, which escapes ``value``.
"""

from __future__ import annotations

from collections.abc import Iterable
from copy import copy
from typing import Any

from markupsafe import Markup, escape
from telegram import InputMedia
from telegram.ext import ExtBot

__all__ = ["HtmlBot", "Markup", "as_html", "bold", "html_lines", "payload_html"]


def as_html(text: str) -> Markup:
    """``text`` as HTML: Markup stays as it is, a plain string is escaped."""
    return text if isinstance(text, Markup) else escape(text)


def payload_html(text: str) -> str:
    """The HTML of a delivery payload (stored as JSON, sent as it is by the relay)."""
    return str(as_html(text))


def html_lines(parts: Iterable[str]) -> Markup:
    """Lines joined by newlines: Markup parts kept, plain parts escaped."""
    return Markup("\n").join(parts)


def bold(text: str) -> Markup:
    """``<b>text</b>`` with ``text`` escaped (unless it is already Markup)."""
    return Markup("<b>{}</b>").format(text)


def _is_html(parse_mode: object) -> bool:
    return str(getattr(parse_mode, "value", parse_mode) or "").upper() == "HTML"


def _escaped_media(item: object) -> object:
    """An InputMedia whose caption is sent as HTML, with that caption through `as_html`
    (a copy: the caller's object is left as it was)."""
    if not (isinstance(item, InputMedia) and _is_html(item.parse_mode)):
        return item
    if not isinstance(item.caption, str) or isinstance(item.caption, Markup):
        return item
    escaped = copy(item)
    with escaped._unfrozen():
        escaped.caption = as_html(item.caption)
    return escaped


class HtmlBot(ExtBot[Any]):
    """The application's Bot: text and captions sent as HTML go through `as_html`, the
    captions of an album's items (sendMediaGroup) and of new media too."""

    def _insert_defaults(self, data: dict[str, object]) -> None:
        super()._insert_defaults(data)
        media = data.get("media")
        if isinstance(media, list | tuple):
            data["media"] = [_escaped_media(item) for item in media]
        elif media is not None:
            data["media"] = _escaped_media(media)
        if not _is_html(data.get("parse_mode")):
            return
        for key in ("text", "caption"):
            value = data.get(key)
            if isinstance(value, str):
                data[key] = as_html(value)
