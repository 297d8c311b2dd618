"""bot/htmltext.py: plain strings are escaped exactly once, Markup is kept."""

from __future__ import annotations

import ast
from pathlib import Path

from telegram import InputMediaPhoto
from telegram.constants import ParseMode
from telegram.ext import Defaults

from bot.htmltext import HtmlBot, Markup, as_html, bold, html_lines, payload_html


def test_plain_text_is_escaped_once_and_markup_is_kept() -> None:
    assert as_html("张<华 & <b>") == "张&lt;华 &amp; &lt;b&gt;"
    assert as_html(as_html("A & B")) == "A &amp; B"
    assert as_html(Markup("<b>x</b>")) == "<b>x</b>"
    assert payload_html("a<b") == "a&lt;b"


def test_templates_escape_their_values() -> None:
    assert Markup("号码：<b>{code}</b>").format(code="<1>") == "号码：<b>&lt;1&gt;</b>"
    assert bold("A & B") == "<b>A &amp; B</b>"
    assert html_lines([bold("<t>"), "x < y"]) == "<b>&lt;t&gt;</b>\nx &lt; y"


def test_nothing_escapes_by_hand() -> None:
    """Escaping happens once, at the boundary (bot/htmltext.py); a hand-made html.escape
    on top of it would show '&amp;' (and one forgotten would break a whole message)."""
    root = Path(__file__).resolve().parents[2]
    offenders = []
    for room in ("bot", "handlers", "schedules", "demo"):
        for path in sorted((root / room).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                called = node.func
                if (
                    isinstance(called, ast.Attribute)
                    and called.attr == "escape"
                    and isinstance(called.value, ast.Name)
                    and called.value.id == "html"
                ):
                    offenders.append(f"{path.relative_to(root)}:{node.lineno}")
    assert offenders == []


def test_album_and_new_media_captions_are_escaped_once() -> None:
    """HtmlBot escapes the captions inside InputMedia sent as HTML (sendMediaGroup,
    editMessageMedia) as it does top-level ones; Markup and other parse modes are kept,
    and the caller's objects are not changed."""
    bot = HtmlBot("1:x", defaults=Defaults(parse_mode=ParseMode.HTML))
    plain = InputMediaPhoto("id1", caption="张<华 & 李")
    marked = InputMediaPhoto("id2", caption=Markup("<b>{}</b>").format("<x>"))
    other = InputMediaPhoto("id3", caption="a<b", parse_mode=ParseMode.MARKDOWN_V2)
    data: dict[str, object] = {"chat_id": 1, "media": [plain, marked, other]}
    bot._insert_defaults(data)
    sent = data["media"]
    assert isinstance(sent, list)
    assert [item.caption for item in sent] == ["张&lt;华 &amp; 李", "<b>&lt;x&gt;</b>", "a<b"]
    assert plain.caption == "张<华 & 李"
    one: dict[str, object] = {"chat_id": 1, "message_id": 2, "media": plain}
    bot._insert_defaults(one)
    assert isinstance(one["media"], InputMediaPhoto)
    assert one["media"].caption == "张&lt;华 &amp; 李"
