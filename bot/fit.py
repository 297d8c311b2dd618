"""What fits where in Telegram: a message, a caption, an alert, counted as Telegram counts.

The Bot API refuses a message text over 4096 characters, a caption over 1024 and a callback
answer (toast or alert) over 200, counted in characters after HTML parsing: what a person
sees, tags left out and ``&amp;`` one character. A text that joins names, notes or lists of
any length is fitted here when it is composed, so it never reaches Telegram too long.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from typing import Final

from bot.htmltext import Markup, as_html, html_lines

__all__ = [
    "ALERT_LIMIT",
    "CAPTION_LIMIT",
    "MESSAGE_LIMIT",
    "fit_lines",
    "fits_alert",
    "shown_length",
]

MESSAGE_LIMIT: Final = 4096
CAPTION_LIMIT: Final = 1024
ALERT_LIMIT: Final = 200

_TAG = re.compile(r"<[^>]*>")


def shown_length(text: str) -> int:
    """Characters Telegram counts of ``text`` sent as HTML (plain text is escaped first)."""
    return len(html.unescape(_TAG.sub("", str(as_html(text)))))


def fits_alert(text: str) -> bool:
    """Whether ``text`` (plain) can be a callback answer: 0-200 characters."""
    return len(text) <= ALERT_LIMIT


def fit_lines(
    head: Sequence[str],
    items: Sequence[str],
    tail: Sequence[str] = (),
    *,
    more: Callable[[int], str],
    limit: int = MESSAGE_LIMIT,
    keep_last: bool = False,
) -> Markup:
    """``head``, as many ``items`` as fit in ``limit`` characters, then ``more(n)`` for the
    ``n`` left out (only if any are), then ``tail``; lines joined as `html_lines` joins them.

    The first items are kept, or the last ones with ``keep_last`` (the newest of a list
    that runs oldest first); the order of the items kept does not change.
    """
    whole = html_lines([*head, *items, *tail])
    if shown_length(whole) <= limit:
        return whole
    budget = limit - shown_length(html_lines([*head, more(len(items)), *tail])) - 1
    order = list(reversed(items)) if keep_last else list(items)
    kept: list[str] = []
    for item in order:
        size = shown_length(item) + 1  # and its newline
        if size > budget:
            break
        kept.append(item)
        budget -= size
    if keep_last:
        kept.reverse()
    left_out = len(items) - len(kept)
    middle = [more(left_out), *kept] if keep_last else [*kept, more(left_out)]
    return html_lines([*head, *middle, *tail])
