"""Telegram account aggregate: who talks to the bot, in which language, and reachability."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from sqlmodel import col, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage._sql import insert_ignore, table_of, upsert
from storage.models.accounts import Language, TelegramAccount
from storage.types import utcnow

__all__ = [
    "SEEN_PRECISION",
    "AccountState",
    "Refresh",
    "account_state_on",
    "ensure_account",
    "language_from_code",
    "mark_blocked",
    "mark_blocked_on",
    "refresh_needed",
    "set_language",
    "spared_write",
    "upsert_account",
    "write_seen",
]


# How exact ``last_seen_at`` is kept: a known account seen again within this time, with
# nothing else to change, is not written at all, so a tap costs no write transaction.
SEEN_PRECISION = timedelta(hours=1)


_ACCOUNTS = table_of(TelegramAccount)


def language_from_code(language_code: str | None) -> Language | None:
    """Map Telegram's ``language_code`` to ours: "en*" is English, anything else Chinese.

    None when Telegram sent no code (then nothing should be overwritten).
    """
    if not language_code:
        return None
    return Language.EN if language_code.strip().lower().startswith("en") else Language.ZH


class AccountState(Protocol):
    """What an account holds that a refresh compares (an ORM account or a plain row)."""

    @property
    def first_name(self) -> str: ...
    @property
    def username(self) -> str | None: ...
    @property
    def language(self) -> Language: ...
    @property
    def language_chosen(self) -> bool: ...
    @property
    def blocked_at(self) -> datetime | None: ...
    @property
    def last_seen_at(self) -> datetime: ...


class Refresh(enum.Enum):
    """What an update from a person asks of their account."""

    NOTHING = "nothing"  # known, unchanged, seen within SEEN_PRECISION
    SEEN = "seen"  # known and unchanged, but last seen longer ago
    WRITE = "write"  # new, renamed, blocked until now, or another language detected


def refresh_needed(
    known: AccountState | None,
    *,
    first_name: str,
    username: str | None,
    language_code: str | None,
    now: datetime,
) -> Refresh:
    """Whether the account must be written, only its last-seen time moved, or neither."""
    detected = language_from_code(language_code)
    if (
        known is None
        or (known.first_name, known.username) != (first_name, username)
        or known.blocked_at is not None
        or not (detected is None or known.language_chosen or known.language == detected)
    ):
        return Refresh.WRITE
    return Refresh.NOTHING if now - known.last_seen_at < SEEN_PRECISION else Refresh.SEEN


def spared_write(
    known: AccountState,
    *,
    telegram_user_id: int,
    first_name: str,
    username: str | None,
    language_code: str | None,
    now: datetime,
    note_seen: Callable[[int, datetime], None] | None,
) -> bool:
    """Whether a known account needs no write now: nothing changed, or only its last-seen
    time, which is then told to ``note_seen`` (if given) to be written in a batch."""
    refresh = refresh_needed(
        known, first_name=first_name, username=username, language_code=language_code, now=now
    )
    if refresh is Refresh.SEEN and note_seen is not None:
        note_seen(telegram_user_id, now)
        return True
    return refresh is Refresh.NOTHING


# Built once: a tap reads its sender's account with it, on a plain connection.
_READ_STATE = sa.select(
    _ACCOUNTS.c.first_name,
    _ACCOUNTS.c.username,
    _ACCOUNTS.c.language,
    _ACCOUNTS.c.language_chosen,
    _ACCOUNTS.c.blocked_at,
    _ACCOUNTS.c.last_seen_at,
).where(_ACCOUNTS.c.telegram_user_id == sa.bindparam("b_account"))


def account_state_on(connection: sa.Connection, telegram_user_id: int) -> AccountState | None:
    """The account's columns a refresh compares, read on a synchronous connection."""
    row: AccountState | None = connection.execute(
        _READ_STATE, {"b_account": telegram_user_id}
    ).first()
    return row


async def upsert_account(
    *,
    db: AsyncSession,
    telegram_user_id: int,
    first_name: str,
    username: str | None,
    language_code: str | None,
    now: datetime | None = None,
    note_seen: Callable[[int, datetime], None] | None = None,
) -> TelegramAccount:
    """Create or refresh the account of whoever just wrote to the bot.

    Names and ``last_seen_at`` follow Telegram. The language follows ``language_code``
    only until the user chooses one explicitly (``language_chosen``). Writing to us proves
    the user has not blocked the bot, so ``blocked_at`` is cleared. One INSERT ... ON
    CONFLICT statement, so two updates from the same user racing are harmless. When the
    account is known and nothing would change (``last_seen_at`` kept to SEEN_PRECISION),
    it is only read: most updates are taps of known people, and a write on each took
    SQLite's write lock once per update. When only ``last_seen_at`` has fallen behind,
    ``note_seen`` (if given) is told instead of writing: a rush of members last seen
    yesterday is then read only, and their times are written together (`write_seen`).
    """
    now = now or utcnow()
    detected = language_from_code(language_code)
    known = await db.get(TelegramAccount, telegram_user_id, populate_existing=True)
    if known is not None and spared_write(
        known,
        telegram_user_id=telegram_user_id,
        first_name=first_name,
        username=username,
        language_code=language_code,
        now=now,
        note_seen=note_seen,
    ):
        return known
    table = _ACCOUNTS
    values: dict[str, Any] = {
        "telegram_user_id": telegram_user_id,
        "first_name": first_name,
        "username": username,
        "language": detected or Language.ZH,
        "language_chosen": False,
        "blocked_at": None,
        "created_at": now,
        "last_seen_at": now,
    }
    changes: dict[str, Any] = {
        "first_name": first_name,
        "username": username,
        "blocked_at": None,
        "last_seen_at": now,
    }
    if detected is not None:
        changes["language"] = lambda excluded: sa.case(
            (table.c.language_chosen, table.c.language), else_=excluded.language
        )
    await upsert(db, TelegramAccount, values, conflict=["telegram_user_id"], update=changes)
    account = await db.get(TelegramAccount, telegram_user_id, populate_existing=True)
    assert account is not None
    return account


# Built once: the statement and its cache key cost more than a small batch's write.
_WRITE_SEEN = (
    sa.update(_ACCOUNTS)
    .where(
        _ACCOUNTS.c.telegram_user_id == sa.bindparam("b_account"),
        _ACCOUNTS.c.last_seen_at < sa.bindparam("b_seen"),
    )
    .values(last_seen_at=sa.bindparam("b_seen"))
)


async def write_seen(*, db: AsyncSession, seen: Mapping[int, datetime]) -> None:
    """Move ``last_seen_at`` forward for many accounts in one statement (never back).

    Rows are written in the order of their keys, the order other writers of several
    accounts meet them, so two such writers on PostgreSQL cannot deadlock.
    """
    if not seen:
        return
    params = [{"b_account": account, "b_seen": at} for account, at in sorted(seen.items())]
    await db.exec(_WRITE_SEEN, params=params)


async def ensure_account(
    *,
    db: AsyncSession,
    telegram_user_id: int,
    first_name: str = "",
    now: datetime | None = None,
) -> TelegramAccount:
    """Make sure the account row exists, leaving an existing one untouched.

    For acting on someone before their first message (e.g. granting the first admin from
    the CLI); their first update fills in the real name and language.
    """
    now = now or utcnow()
    await insert_ignore(
        db,
        TelegramAccount,
        {
            "telegram_user_id": telegram_user_id,
            "first_name": first_name,
            "language": Language.ZH,
            "language_chosen": False,
            "created_at": now,
            "last_seen_at": now,
        },
        conflict=["telegram_user_id"],
    )
    account = await db.get(TelegramAccount, telegram_user_id, populate_existing=True)
    assert account is not None
    return account


async def set_language(
    *, db: AsyncSession, telegram_user_id: int, language: Language | str
) -> TelegramAccount:
    """Record the user's explicit choice; from now on Telegram's language_code is ignored."""
    account = await db.get(TelegramAccount, telegram_user_id)
    if account is None:
        raise LookupError(f"no telegram account {telegram_user_id}")
    account.language = Language(language)
    account.language_chosen = True
    db.add(account)
    await db.flush()
    return account


async def mark_blocked(
    *, db: AsyncSession, telegram_user_id: int, at: datetime | None = None
) -> bool:
    """Note that Telegram answered 403 for this user; False if the account is unknown."""
    result = await db.exec(
        update(TelegramAccount)
        .where(col(TelegramAccount.telegram_user_id) == telegram_user_id)
        .values(blocked_at=at or utcnow())
    )
    return bool(result.rowcount)


def mark_blocked_on(
    connection: sa.Connection, *, telegram_user_ids: Sequence[int], at: datetime
) -> int:
    """:func:`mark_blocked` for several users on a synchronous connection (the relay's
    outcome write); how many accounts were known."""
    if not telegram_user_ids:
        return 0
    result = connection.execute(
        sa.update(_ACCOUNTS)
        .where(_ACCOUNTS.c.telegram_user_id.in_(sorted(telegram_user_ids)))
        .values(blocked_at=at)
    )
    return int(result.rowcount)
