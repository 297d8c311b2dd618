"""Helpers for tests that talk to storage/ directly: a PostgreSQL URL or a skip, a small tree."""

from __future__ import annotations

import os

import pytest

from storage import Database
from storage.models import OrgKind
from storage.orgs import create_org

POSTGRES_ENV = "PARTYBOT_TEST_POSTGRES_URL"


def require_postgres_url() -> str:
    """The test server's URL; skip without one, but fail under CI (CI=true) instead.

    CI starts a PostgreSQL server, so a missing URL there is a broken pipeline, not an
    optional extra.
    """
    url = os.environ.get(POSTGRES_ENV, "").strip()
    if url:
        return url
    message = f"{POSTGRES_ENV} is not set: no PostgreSQL server to test against"
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"{message} (required when CI=true)", pytrace=False)
    pytest.skip(message)


async def build_tree(database: Database) -> dict[str, int]:
    """A small county; returns ids by short name.

    county C001 ─┬─ t1 T01 ─┬─ v1 T01-V01 ── g1 T01-V01-G1 (party group)
                 │          └─ v2 T01-V02
                 └─ t2 T02 ─── v3 T02-V01
    """
    layout = [
        ("county", "C001", "县委", OrgKind.COUNTY, None),
        ("t1", "T01", "东镇", OrgKind.TOWNSHIP, "county"),
        ("t2", "T02", "西镇", OrgKind.TOWNSHIP, "county"),
        ("v1", "T01-V01", "一村", OrgKind.VILLAGE_BRANCH, "t1"),
        ("v2", "T01-V02", "二村", OrgKind.VILLAGE_BRANCH, "t1"),
        ("v3", "T02-V01", "一村", OrgKind.VILLAGE_BRANCH, "t2"),
        ("g1", "T01-V01-G1", "第一党小组", OrgKind.PARTY_GROUP, "v1"),
    ]
    ids: dict[str, int] = {}
    async with database.session_scope() as db:
        for key, code, name, kind, parent in layout:
            org = await create_org(
                db=db,
                code=code,
                name=name,
                kind=kind,
                parent_id=ids[parent] if parent else None,
            )
            assert org.id is not None
            ids[key] = org.id
    return ids
