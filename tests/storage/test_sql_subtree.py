"""`in_subtree`: a path lies under another exactly when it starts with it, on both databases."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from storage import Database
from storage._sql import dialect_name, in_subtree


@pytest.mark.parametrize(
    ("path", "top", "inside"),
    [
        ("/1/", "/1/", True),
        ("/1/5/", "/1/", True),
        ("/1/5/23/", "/1/5/", True),
        ("/1/50/", "/1/5/", False),  # a sibling whose id starts with the same digit
        ("/1/", "/1/5/", False),  # above, not below
        ("/2/5/", "/1/", False),
        ("/10/", "/1/", False),
    ],
)
async def test_in_subtree(each_db: Database, path: str, top: str, inside: bool) -> None:
    async with each_db.session_scope() as db:
        dialect = await dialect_name(db)
        condition = in_subtree(sa.literal(path), sa.literal(top), dialect)
        answer = (await db.exec(sa.select(condition))).one()  # type: ignore[call-overload]
    assert bool(answer[0]) is inside
