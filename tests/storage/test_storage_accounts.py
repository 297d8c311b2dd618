"""Telegram accounts (language rules, reachability) and role grants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storage import Database
from storage.accounts import (
    SEEN_PRECISION,
    Refresh,
    account_state_on,
    ensure_account,
    language_from_code,
    mark_blocked,
    refresh_needed,
    set_language,
    upsert_account,
    write_seen,
)
from storage.models import Language, Role, TelegramAccount
from storage.roles import RoleScope, grant_role, revoke_role, roles_of

T0 = datetime(2025, 5, 1, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("en", Language.EN),
        ("en-GB", Language.EN),
        ("EN-us", Language.EN),
        ("zh-hans", Language.ZH),
        ("ru", Language.ZH),
        ("", None),
        (None, None),
    ],
)
def test_language_from_code(code: str | None, expected: Language | None) -> None:
    assert language_from_code(code) is expected


async def test_new_account_takes_language_from_telegram(sqlite_db: Database) -> None:
    async with sqlite_db.session_scope() as db:
        en = await upsert_account(
            db=db,
            telegram_user_id=1,
            first_name="Ann",
            username="ann",
            language_code="en-US",
            now=T0,
        )
        zh = await upsert_account(
            db=db,
            telegram_user_id=2,
            first_name="王",
            username=None,
            language_code=None,
            now=T0,
        )
    assert (en.language, en.language_chosen) == (Language.EN, False)
    assert zh.language is Language.ZH
    assert en.created_at == en.last_seen_at == T0


async def test_upsert_refreshes_names_and_follows_telegram_language(sqlite_db: Database) -> None:
    async with sqlite_db.session_scope() as db:
        await upsert_account(
            db=db,
            telegram_user_id=1,
            first_name="Ann",
            username="ann",
            language_code="en",
            now=T0,
        )
    later = T0 + timedelta(hours=1)
    async with sqlite_db.session_scope() as db:
        account = await upsert_account(
            db=db,
            telegram_user_id=1,
            first_name="Anna",
            username=None,
            language_code="zh-hans",
            now=later,
        )
    assert (account.first_name, account.username) == ("Anna", None)
    assert account.language is Language.ZH
    assert account.created_at == T0
    assert account.last_seen_at == later
    async with sqlite_db.session_scope() as db:  # no language_code: keep what we have
        account = await upsert_account(
            db=db,
            telegram_user_id=1,
            first_name="Anna",
            username=None,
            language_code=None,
        )
    assert account.language is Language.ZH


async def test_explicit_choice_is_never_overwritten(sqlite_db: Database) -> None:
    async with sqlite_db.session_scope() as db:
        await upsert_account(
            db=db,
            telegram_user_id=1,
            first_name="王",
            username=None,
            language_code="zh",
        )
        chosen = await set_language(db=db, telegram_user_id=1, language="en")
    assert (chosen.language, chosen.language_chosen) == (Language.EN, True)
    async with sqlite_db.session_scope() as db:
        account = await upsert_account(
            db=db,
            telegram_user_id=1,
            first_name="王",
            username=None,
            language_code="zh-hans",
        )
    assert (account.language, account.language_chosen) == (Language.EN, True)


async def test_set_language_of_unknown_account(sqlite_db: Database) -> None:
    async with sqlite_db.session_scope() as db:
        with pytest.raises(LookupError):
            await set_language(db=db, telegram_user_id=5, language=Language.EN)


async def test_blocked_until_the_user_writes_again(sqlite_db: Database) -> None:
    async with sqlite_db.session_scope() as db:
        await upsert_account(
            db=db, telegram_user_id=1, first_name="A", username=None, language_code="zh"
        )
        assert await mark_blocked(db=db, telegram_user_id=1, at=T0)
        assert not await mark_blocked(db=db, telegram_user_id=2)
    async with sqlite_db.session_scope() as db:
        account = await upsert_account(
            db=db, telegram_user_id=1, first_name="A", username=None, language_code="zh"
        )
    assert account.blocked_at is None


async def test_ensure_account_creates_a_placeholder_once(sqlite_db: Database) -> None:
    async with sqlite_db.session_scope() as db:
        placeholder = await ensure_account(db=db, telegram_user_id=5, now=T0)
    assert (placeholder.first_name, placeholder.language) == ("", Language.ZH)
    async with sqlite_db.session_scope() as db:
        await upsert_account(
            db=db,
            telegram_user_id=5,
            first_name="Ann",
            username=None,
            language_code="en",
        )
        again = await ensure_account(db=db, telegram_user_id=5)
    assert (again.first_name, again.language, again.created_at) == ("Ann", Language.EN, T0)


async def test_grant_role_is_idempotent(sqlite_db: Database, tree: dict[str, int]) -> None:
    async with sqlite_db.session_scope() as db:
        await upsert_account(
            db=db, telegram_user_id=1, first_name="A", username=None, language_code="zh"
        )
        first = await grant_role(
            db=db,
            telegram_user_id=1,
            role=Role.SECRETARY,
            org_id=tree["v1"],
            granted_by=None,
            now=T0,
        )
    async with sqlite_db.session_scope() as db:
        again = await grant_role(
            db=db,
            telegram_user_id=1,
            role="secretary",
            org_id=tree["v1"],
            granted_by=99,
        )
    assert again.id == first.id
    assert again.granted_by is None  # the original grant is kept as it was
    assert again.granted_at == T0


async def test_roles_of_and_revoke(sqlite_db: Database, tree: dict[str, int]) -> None:
    async with sqlite_db.session_scope() as db:
        await upsert_account(
            db=db, telegram_user_id=1, first_name="A", username=None, language_code="zh"
        )
        await grant_role(
            db=db,
            telegram_user_id=1,
            role=Role.SECRETARY,
            org_id=tree["v1"],
            granted_by=None,
        )
        await grant_role(
            db=db,
            telegram_user_id=1,
            role=Role.TOWNSHIP_ORGANISER,
            org_id=tree["t1"],
            granted_by=None,
        )
    async with sqlite_db.session_scope() as db:
        roles = await roles_of(db=db, telegram_user_id=1)
        assert await roles_of(db=db, telegram_user_id=2) == []
    t1_path = f"/{tree['county']}/{tree['t1']}/"
    assert roles == [
        RoleScope(Role.TOWNSHIP_ORGANISER, tree["t1"], t1_path),
        RoleScope(Role.SECRETARY, tree["v1"], f"{t1_path}{tree['v1']}/"),
    ]
    assert roles[0].role is Role.TOWNSHIP_ORGANISER
    async with sqlite_db.session_scope() as db:
        assert await revoke_role(db=db, telegram_user_id=1, role=Role.SECRETARY, org_id=tree["v1"])
        assert not await revoke_role(
            db=db, telegram_user_id=1, role=Role.SECRETARY, org_id=tree["v1"]
        )
        assert [r.role for r in await roles_of(db=db, telegram_user_id=1)] == [
            Role.TOWNSHIP_ORGANISER
        ]


async def test_a_known_account_seen_again_soon_with_nothing_new_is_not_written(
    sqlite_db: Database,
) -> None:
    def seen(at: datetime, first_name: str = "Ann") -> dict[str, object]:
        return {
            "telegram_user_id": 1,
            "first_name": first_name,
            "username": "ann",
            "language_code": "en",
            "now": at,
        }

    async with sqlite_db.session_scope() as db:
        await upsert_account(db=db, **seen(T0))  # type: ignore[arg-type]
    soon = T0 + SEEN_PRECISION - timedelta(minutes=1)
    async with sqlite_db.session_scope() as db:
        account = await upsert_account(db=db, **seen(soon))  # type: ignore[arg-type]
    assert account.last_seen_at == T0  # read, not written
    async with sqlite_db.session_scope() as db:  # a new name is written at once
        account = await upsert_account(db=db, **seen(soon, "Anna"))  # type: ignore[arg-type]
    assert (account.first_name, account.last_seen_at) == ("Anna", soon)
    later = soon + SEEN_PRECISION
    async with sqlite_db.session_scope() as db:
        account = await upsert_account(db=db, **seen(later, "Anna"))  # type: ignore[arg-type]
    assert account.last_seen_at == later
    async with sqlite_db.session_scope() as db:
        await mark_blocked(db=db, telegram_user_id=1, at=later)
    async with sqlite_db.session_scope() as db:  # writing to us again unblocks at once
        account = await upsert_account(db=db, **seen(later, "Anna"))  # type: ignore[arg-type]
    assert account.blocked_at is None


async def test_an_account_whose_only_news_is_the_time_is_told_not_written(
    sqlite_db: Database,
) -> None:
    noted: list[tuple[int, datetime]] = []

    async def write(first_name: str, at: datetime) -> TelegramAccount:
        async with sqlite_db.session_scope() as db:
            return await upsert_account(
                db=db,
                telegram_user_id=1,
                first_name=first_name,
                username=None,
                language_code="en",
                now=at,
                note_seen=lambda account, seen: noted.append((account, seen)),
            )

    await write("Ann", T0)
    later = T0 + SEEN_PRECISION + timedelta(minutes=1)
    account = await write("Ann", later)
    assert noted == [(1, later)]
    assert account.last_seen_at == T0  # read, not written
    account = await write("Anna", later)  # a new name is still written at once
    assert (account.first_name, account.last_seen_at, len(noted)) == ("Anna", later, 1)


async def test_write_seen_moves_many_accounts_forward_never_back(each_db: Database) -> None:
    async with each_db.session_scope() as db:
        for user in (1, 2, 3):
            await ensure_account(db=db, telegram_user_id=user, first_name=f"p{user}", now=T0)
    later, earlier = T0 + timedelta(days=1), T0 - timedelta(days=1)
    async with each_db.session_scope() as db:
        await write_seen(db=db, seen={3: later, 1: later, 2: earlier})
    async with each_db.session_scope() as db:
        seen = {
            user: (await ensure_account(db=db, telegram_user_id=user)).last_seen_at
            for user in (1, 2, 3)
        }
    assert seen == {1: later, 2: T0, 3: later}


async def test_the_state_read_on_a_plain_connection_says_what_a_refresh_needs(
    each_db: Database,
) -> None:
    """What each update's account read decides (bot/accounts.remember_user), on the row
    read by ``account_state_on``: nothing, the last-seen time only, or a write."""

    async def refresh(
        at: datetime, first_name: str = "Ann", username: str | None = "ann", code: str = "en"
    ) -> Refresh:
        state = await each_db.read_sync(lambda c: account_state_on(c, 1))
        return refresh_needed(
            state, first_name=first_name, username=username, language_code=code, now=at
        )

    assert await refresh(T0) is Refresh.WRITE  # unknown
    async with each_db.session_scope() as db:
        await upsert_account(
            db=db, telegram_user_id=1, first_name="Ann", username="ann", language_code="en", now=T0
        )
    state = await each_db.read_sync(lambda c: account_state_on(c, 1))
    assert state is not None
    assert (state.language, state.language_chosen, state.last_seen_at) == (Language.EN, False, T0)
    soon, later = T0 + SEEN_PRECISION / 2, T0 + SEEN_PRECISION
    assert await refresh(soon) is Refresh.NOTHING
    assert await refresh(later) is Refresh.SEEN
    assert await refresh(soon, first_name="Anna") is Refresh.WRITE
    assert await refresh(soon, username=None) is Refresh.WRITE
    assert await refresh(soon, code="zh-hans") is Refresh.WRITE  # Telegram's language moved
    async with each_db.session_scope() as db:
        await set_language(db=db, telegram_user_id=1, language=Language.EN)
    assert await refresh(soon, code="zh-hans") is Refresh.NOTHING  # chosen: Telegram's ignored
    async with each_db.session_scope() as db:
        await mark_blocked(db=db, telegram_user_id=1, at=soon)
    assert await refresh(soon) is Refresh.WRITE  # writing again unblocks
