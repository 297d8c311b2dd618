"""Paging a list that spans several scope roots, and the ◀ ▶ row under a page."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from telegram import InlineKeyboardButton

from handlers.screens import button

Item = TypeVar("Item")


async def page_across(
    roots: Sequence[str],
    fetch: Callable[[str, int], Awaitable[list[Item]]],
    page: int,
    size: int,
) -> list[Item]:
    """Page ``page`` of the lists of each root one after another; ``fetch(path, limit)``
    returns a root's first ``limit`` items (roots are few: a grant or two)."""
    wanted = (page + 1) * size
    found: list[Item] = []
    for path in roots:
        found += await fetch(path, wanted - len(found))
        if len(found) >= wanted:
            break
    return found[page * size : wanted]


def pager(
    page: int, total: int, size: int, data: Callable[[int], str], _: Callable[[str], str]
) -> list[InlineKeyboardButton]:
    """◀ Previous and Next ▶ when there is a page before or after (empty when all fits)."""
    row = []
    if page > 0:
        row.append(button(_("◀ Previous"), data(page - 1)))
    if (page + 1) * size < total:
        row.append(button(_("Next ▶"), data(page + 1)))
    return row
