"""Audit log: entries are written in the caller's transaction and listed newest first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storage import Database
from storage.audit import list_entries, record

T0 = datetime(2025, 5, 1, 1, 0, tzinfo=UTC)


async def test_record_and_list(sqlite_db: Database, tree: dict[str, int]) -> None:
    async with sqlite_db.session_scope() as db:
        entry = await record(
            db=db,
            actor=7,
            action="role.grant",
            target_kind="telegram_account",
            target_id=8_000_000_000,
            org_id=tree["v1"],
            detail={"role": "secretary"},
            at=T0,
        )
        await record(
            db=db,
            actor=None,
            action="org.create",
            target_kind="org_unit",
            target_id=tree["v3"],
            org_id=tree["v3"],
            at=T0 + timedelta(minutes=1),
        )
        await record(
            db=db,
            actor=7,
            action="notice.send",
            target_kind="notice",
            org_id=tree["t1"],
            at=T0 + timedelta(minutes=2),
        )
    assert entry.id is not None
    async with sqlite_db.session_scope() as db:
        everything = await list_entries(db=db)
        township = await list_entries(db=db, org_id=tree["t1"])
        only_t1 = await list_entries(db=db, org_id=tree["t1"], include_subtree=False)
        window = await list_entries(
            db=db, since=T0 + timedelta(minutes=1), until=T0 + timedelta(minutes=2)
        )
        by_actor = await list_entries(db=db, actor=7, action="role.grant")
        newest = await list_entries(db=db, limit=1)
        nowhere = await list_entries(db=db, org_id=99999)
    assert [e.action for e in everything] == ["notice.send", "org.create", "role.grant"]
    assert [e.action for e in township] == ["notice.send", "role.grant"]
    assert [e.action for e in only_t1] == ["notice.send"]
    assert [e.action for e in window] == ["org.create"]
    assert [e.id for e in by_actor] == [entry.id]
    assert by_actor[0].detail == {"role": "secretary"}
    assert by_actor[0].target_id == 8_000_000_000
    assert by_actor[0].at == T0
    assert [e.action for e in newest] == ["notice.send"]
    assert nowhere == []


async def test_audit_rolls_back_with_the_action(sqlite_db: Database) -> None:
    async def failing_action() -> None:
        async with sqlite_db.session_scope() as db:
            await record(db=db, actor=1, action="x.y", target_kind="x")
            raise RuntimeError("action failed")

    with pytest.raises(RuntimeError):
        await failing_action()
    async with sqlite_db.session_scope() as db:
        assert await list_entries(db=db) == []
