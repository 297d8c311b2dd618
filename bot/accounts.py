"""Use cases on a person's Telegram account: who wrote, in which language, reachable or not.

Each runs in the caller's transaction; the handlers that receive the updates only parse
them and call one of these.
"""

from __future__ import annotations

import functools
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.access import Principal
from bot.seen_log import SeenLog
from storage import Database, accounts
from storage.models import Language, TelegramAccount


async def remember_user(
    *,
    database: Database,
    telegram_user_id: int,
    first_name: str,
    username: str | None,
    language_code: str | None,
    now: datetime,
    seen: SeenLog | None = None,
) -> Language:
    """Record (or refresh) the account of whoever just wrote; the language to answer in.

    Most updates are taps of known people with nothing new: their account is only read,
    one statement on a plain connection (`Database.read_sync`), and a last-seen time that
    fell behind goes to ``seen`` (written in batches). Anything else is written at once.
    """
    known = await database.read_sync(
        functools.partial(accounts.account_state_on, telegram_user_id=telegram_user_id)
    )
    note_seen = seen.note if seen is not None else None
    if known is not None and accounts.spared_write(
        known,
        telegram_user_id=telegram_user_id,
        first_name=first_name,
        username=username,
        language_code=language_code,
        now=now,
        note_seen=note_seen,
    ):
        return known.language
    async with database.session_scope() as db:
        account = await accounts.upsert_account(
            db=db,
            telegram_user_id=telegram_user_id,
            first_name=first_name,
            username=username,
            language_code=language_code,
            now=now,
            note_seen=note_seen,
        )
        return account.language


async def choose_language(
    *, db: AsyncSession, principal: Principal, language: Language, now: datetime
) -> TelegramAccount:
    """The person's explicit choice of language; Telegram's language_code no longer counts.

    Anyone who has written to the bot may choose (no role needed); `now` is accepted for
    the shape every use case shares.
    """
    del now
    return await accounts.set_language(
        db=db, telegram_user_id=principal.telegram_user_id, language=language
    )


async def note_reachability(
    *,
    db: AsyncSession,
    telegram_user_id: int,
    first_name: str,
    username: str | None,
    blocked: bool,
    now: datetime,
) -> None:
    """Telegram said the person blocked the bot (notices skip them) or came back.

    Coming back proves they can be reached again: refreshing the account clears blocked_at.
    """
    if blocked:
        await accounts.mark_blocked(db=db, telegram_user_id=telegram_user_id, at=now)
        return
    await accounts.upsert_account(
        db=db,
        telegram_user_id=telegram_user_id,
        first_name=first_name,
        username=username,
        language_code=None,
        now=now,
    )
