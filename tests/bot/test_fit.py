"""Fitting text into Telegram's limits, counted as Telegram counts (after HTML parsing)."""

from __future__ import annotations

from bot.fit import fit_lines, fits_alert, shown_length
from bot.htmltext import Markup


def test_shown_length_counts_what_a_person_sees() -> None:
    assert shown_length("a < b & c") == 9  # plain text: escaped first, then counted
    assert shown_length(Markup("<b>粗</b> &amp; x")) == 5


def test_alerts() -> None:
    assert fits_alert("x" * 200)
    assert not fits_alert("x" * 201)


def test_fit_lines_keeps_what_fits_and_counts_the_rest() -> None:
    items = [f"{n}" * 10 for n in range(5)]

    def more(n: int) -> str:
        return f"+{n}"

    assert fit_lines(["h"], items, ["t"], more=more, limit=100) == "\n".join(["h", *items, "t"])
    first = fit_lines(["h"], items, ["t"], more=more, limit=30)
    assert first == "h\n0000000000\n1111111111\n+3\nt"
    assert shown_length(first) <= 30
    last = fit_lines(["h"], items, ["t"], more=more, limit=30, keep_last=True)
    assert last == "h\n+3\n3333333333\n4444444444\nt"
    escaped = fit_lines([], ["<&>" * 5], more=more, limit=15)
    assert escaped == "&lt;&amp;&gt;" * 5  # 15 characters shown, whatever the HTML length
