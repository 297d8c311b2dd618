"""The org tree: materialized paths and subtree questions."""

from __future__ import annotations

import pytest

from storage import Database
from storage.models import OrgKind
from storage.orgs import (
    create_org,
    get_county,
    get_org,
    get_org_by_code,
    is_within,
    lineage,
    named_within,
    subtree_ids,
)
from tests.support.storage import build_tree


async def test_paths_follow_the_tree(sqlite_db: Database, tree: dict[str, int]) -> None:
    async with sqlite_db.session_scope() as db:
        group = await get_org(db=db, org_id=tree["g1"])
    assert group is not None
    assert group.path == f"/{tree['county']}/{tree['t1']}/{tree['v1']}/{tree['g1']}/"
    assert group.kind is OrgKind.PARTY_GROUP


async def test_subtree_ids(sqlite_db: Database, tree: dict[str, int]) -> None:
    async with sqlite_db.session_scope() as db:
        assert set(await subtree_ids(db=db, org_id=tree["county"])) == set(tree.values())
        assert set(await subtree_ids(db=db, org_id=tree["t1"])) == {
            tree["t1"],
            tree["v1"],
            tree["v2"],
            tree["g1"],
        }
        assert await subtree_ids(db=db, org_id=tree["v3"]) == [tree["v3"]]
        assert await subtree_ids(db=db, org_id=99999) == []


async def test_subtree_prefix_does_not_match_sibling_with_longer_id(sqlite_db: Database) -> None:
    """/1/2/ must not match /1/23/: the trailing slash is part of the prefix."""
    async with sqlite_db.session_scope() as db:
        county = await create_org(db=db, code="C", name="县", kind=OrgKind.COUNTY)
        assert county.id is not None
        townships = [
            await create_org(
                db=db, code=f"T{i}", name=f"镇{i}", kind="township", parent_id=county.id
            )
            for i in range(20)
        ]
        first = townships[0]
        assert first.id is not None
        # ids 2 and 20..21: "/1/2/" is a string prefix of neither "/1/20/" nor "/1/21/"
        assert any(str(t.id).startswith(str(first.id)) and t is not first for t in townships)
        assert await subtree_ids(db=db, org_id=first.id) == [first.id]


async def test_active_only_subtree(sqlite_db: Database, tree: dict[str, int]) -> None:
    async with sqlite_db.session_scope() as db:
        v2 = await get_org(db=db, org_id=tree["v2"])
        assert v2 is not None
        v2.active = False
        db.add(v2)
    async with sqlite_db.session_scope() as db:
        ids = await subtree_ids(db=db, org_id=tree["t1"], active_only=True)
    assert tree["v2"] not in ids
    assert tree["v1"] in ids


async def test_is_within(sqlite_db: Database, tree: dict[str, int]) -> None:
    async with sqlite_db.session_scope() as db:
        assert await is_within(db=db, org_id=tree["g1"], ancestor_id=tree["county"])
        assert await is_within(db=db, org_id=tree["g1"], ancestor_id=tree["t1"])
        assert await is_within(db=db, org_id=tree["v1"], ancestor_id=tree["v1"])
        assert not await is_within(db=db, org_id=tree["v3"], ancestor_id=tree["t1"])
        assert not await is_within(db=db, org_id=tree["t1"], ancestor_id=tree["v1"])
        assert not await is_within(db=db, org_id=99999, ancestor_id=tree["county"])


async def test_lookups(sqlite_db: Database, tree: dict[str, int]) -> None:
    async with sqlite_db.session_scope() as db:
        county = await get_county(db=db)
        village = await get_org_by_code(db=db, code="T02-V01")
        missing = await get_org_by_code(db=db, code="nope")
    assert county is not None
    assert county.id == tree["county"]
    assert village is not None
    assert village.id == tree["v3"]
    assert missing is None


async def test_get_county_on_empty_database(sqlite_db: Database) -> None:
    async with sqlite_db.session_scope() as db:
        assert await get_county(db=db) is None


async def test_create_under_missing_parent(sqlite_db: Database) -> None:
    async with sqlite_db.session_scope() as db:
        with pytest.raises(LookupError):
            await create_org(db=db, code="X", name="x", kind="township", parent_id=42)


async def test_lineage_runs_from_the_county_down(
    sqlite_db: Database, tree: dict[str, int]
) -> None:
    async with sqlite_db.session_scope() as db:
        group = await get_org(db=db, org_id=tree["g1"])
        assert group is not None
        units = await lineage(db=db, org=group)
    assert [unit.id for unit in units] == [tree["county"], tree["t1"], tree["v1"], tree["g1"]]


async def test_named_within_finds_typed_names_in_the_given_subtrees(each_db: Database) -> None:
    """Exact names win over names that begin with the word; other subtrees, party groups
    and LIKE wildcards in the word find nothing."""
    tree = await build_tree(each_db)
    async with each_db.session_scope() as db:
        county = await get_org(db=db, org_id=tree["county"])
        east = await get_org(db=db, org_id=tree["t1"])
        assert county is not None
        assert east is not None
        named = await named_within(db=db, paths=[county.path], name="一村")
        assert [org.id for org in named] == [tree["v1"], tree["v3"]]
        assert [o.id for o in await named_within(db=db, paths=[east.path], name="一村")] == [
            tree["v1"]
        ]
        assert [o.id for o in await named_within(db=db, paths=[county.path], name="东")] == [
            tree["t1"]
        ]
        assert await named_within(db=db, paths=[east.path], name="西镇") == []
        assert await named_within(db=db, paths=[county.path], name="第一党小组") == []
        assert await named_within(db=db, paths=[county.path], name="%") == []
        assert await named_within(db=db, paths=[], name="东镇") == []
