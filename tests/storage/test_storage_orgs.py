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
    subtree_ids,
)


async def test_paths_follow_the_tree(db: Database, tree: dict[str, int]) -> None:
    async with db.session_scope() as session:
        group = await get_org(session=session, org_id=tree["g1"])
    assert group is not None
    assert group.path == f"/{tree['county']}/{tree['t1']}/{tree['v1']}/{tree['g1']}/"
    assert group.kind is OrgKind.PARTY_GROUP


async def test_subtree_ids(db: Database, tree: dict[str, int]) -> None:
    async with db.session_scope() as session:
        assert set(await subtree_ids(session=session, org_id=tree["county"])) == set(tree.values())
        assert set(await subtree_ids(session=session, org_id=tree["t1"])) == {
            tree["t1"],
            tree["v1"],
            tree["v2"],
            tree["g1"],
        }
        assert await subtree_ids(session=session, org_id=tree["v3"]) == [tree["v3"]]
        assert await subtree_ids(session=session, org_id=99999) == []


async def test_subtree_prefix_does_not_match_sibling_with_longer_id(db: Database) -> None:
    """/1/2/ must not match /1/23/: the trailing slash is part of the prefix."""
    async with db.session_scope() as session:
        county = await create_org(session=session, code="C", name="县", kind=OrgKind.COUNTY)
        assert county.id is not None
        townships = [
            await create_org(
                session=session, code=f"T{i}", name=f"镇{i}", kind="township", parent_id=county.id
            )
            for i in range(20)
        ]
        first = townships[0]
        assert first.id is not None
        # ids 2 and 20..21: "/1/2/" is a string prefix of neither "/1/20/" nor "/1/21/"
        assert any(str(t.id).startswith(str(first.id)) and t is not first for t in townships)
        assert await subtree_ids(session=session, org_id=first.id) == [first.id]


async def test_active_only_subtree(db: Database, tree: dict[str, int]) -> None:
    async with db.session_scope() as session:
        v2 = await get_org(session=session, org_id=tree["v2"])
        assert v2 is not None
        v2.active = False
        session.add(v2)
    async with db.session_scope() as session:
        ids = await subtree_ids(session=session, org_id=tree["t1"], active_only=True)
    assert tree["v2"] not in ids
    assert tree["v1"] in ids


async def test_is_within(db: Database, tree: dict[str, int]) -> None:
    async with db.session_scope() as session:
        assert await is_within(session=session, org_id=tree["g1"], ancestor_id=tree["county"])
        assert await is_within(session=session, org_id=tree["g1"], ancestor_id=tree["t1"])
        assert await is_within(session=session, org_id=tree["v1"], ancestor_id=tree["v1"])
        assert not await is_within(session=session, org_id=tree["v3"], ancestor_id=tree["t1"])
        assert not await is_within(session=session, org_id=tree["t1"], ancestor_id=tree["v1"])
        assert not await is_within(session=session, org_id=99999, ancestor_id=tree["county"])


async def test_lookups(db: Database, tree: dict[str, int]) -> None:
    async with db.session_scope() as session:
        county = await get_county(session=session)
        village = await get_org_by_code(session=session, code="T02-V01")
        missing = await get_org_by_code(session=session, code="nope")
    assert county is not None
    assert county.id == tree["county"]
    assert village is not None
    assert village.id == tree["v3"]
    assert missing is None


async def test_get_county_on_empty_database(db: Database) -> None:
    async with db.session_scope() as session:
        assert await get_county(session=session) is None


async def test_create_under_missing_parent(db: Database) -> None:
    async with db.session_scope() as session:
        with pytest.raises(LookupError):
            await create_org(session=session, code="X", name="x", kind="township", parent_id=42)


async def test_lineage_runs_from_the_county_down(db: Database, tree: dict[str, int]) -> None:
    async with db.session_scope() as session:
        group = await get_org(session=session, org_id=tree["g1"])
        assert group is not None
        units = await lineage(session=session, org=group)
    assert [unit.id for unit in units] == [tree["county"], tree["t1"], tree["v1"], tree["g1"]]
