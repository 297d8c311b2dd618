"""The dialect-specific paths (ON CONFLICT, timestamptz, LIKE on paths) on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import IntegrityError

from storage import Database
from storage.accounts import set_language, upsert_account
from storage.audit import list_entries, record
from storage.models import Delivery, DeliveryKind, Language, Role
from storage.orgs import is_within, subtree_ids
from storage.roles import grant_role, roles_of

pytestmark = pytest.mark.postgres

SHANGHAI = timezone(timedelta(hours=8))


async def test_aggregates_on_postgres(pg_db: Database, pg_tree: dict[str, int]) -> None:
    t = datetime(2025, 5, 1, 9, 0, tzinfo=SHANGHAI)
    async with pg_db.session_scope() as db:
        account = await upsert_account(
            db=db,
            telegram_user_id=8_000_000_001,
            first_name="A",
            username=None,
            language_code="en",
            now=t,
        )
        assert account.last_seen_at == t
        assert account.last_seen_at.tzinfo is UTC
        await set_language(db=db, telegram_user_id=8_000_000_001, language="zh")
        account = await upsert_account(
            db=db,
            telegram_user_id=8_000_000_001,
            first_name="B",
            username="b",
            language_code="en",
        )
        assert account.language is Language.ZH
        first = await grant_role(
            db=db,
            telegram_user_id=8_000_000_001,
            role=Role.ADMIN,
            org_id=pg_tree["county"],
            granted_by=None,
        )
        again = await grant_role(
            db=db,
            telegram_user_id=8_000_000_001,
            role=Role.ADMIN,
            org_id=pg_tree["county"],
            granted_by=1,
        )
        assert again.id == first.id
        assert [r.role for r in await roles_of(db=db, telegram_user_id=8_000_000_001)] == [
            Role.ADMIN
        ]
        assert set(await subtree_ids(db=db, org_id=pg_tree["t1"])) == {
            pg_tree["t1"],
            pg_tree["v1"],
            pg_tree["v2"],
            pg_tree["g1"],
        }
        assert await is_within(db=db, org_id=pg_tree["g1"], ancestor_id=pg_tree["t1"])
        await record(
            db=db,
            actor=1,
            action="role.grant",
            target_kind="telegram_account",
            org_id=pg_tree["v1"],
            detail={"k": [1, 2]},
        )
        entries = await list_entries(db=db, org_id=pg_tree["t1"])
        assert [e.detail for e in entries] == [{"k": [1, 2]}]

    async with pg_db.session_scope() as db:
        db.add(Delivery(kind=DeliveryKind.NOTICE, chat_id=1, dedupe_key="k"))
    with pytest.raises(IntegrityError):
        async with pg_db.session_scope() as db:
            db.add(Delivery(kind=DeliveryKind.NOTICE, chat_id=1, dedupe_key="k"))
