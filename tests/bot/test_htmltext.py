"""bot/htmltext.py: plain strings are escaped exactly once, Markup is kept."""

from __future__ import annotations

import ast
from pathlib import Path

from bot.htmltext import Markup, as_html, bold, html_lines, payload_html


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
