"""Helpers shared by the invitation and registration tests (this module holds no tests)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlmodel import col, select

from bot import invitations as rules
from bot.clock import ManualClock
from sandbox import SimUser
from storage import Database
from storage.models import (
    CodeAttempt,
    Invitation,
    Member,
    OrgUnit,
    RegistrationRequest,
    Role,
)

Person = Callable[..., SimUser]
LINK = re.compile(r"https://t\.me/partybot_test_bot\?start=([A-Za-z0-9_-]+)")


async def issue_code(
    database: Database,
    clock: ManualClock,
    org: OrgUnit,
    *,
    role: Role = Role.MEMBER,
    uses: int = 1,
    days: int = 7,
) -> str:
    """Create an invitation as the system would (no Telegram) and return its code."""
    async with database.session_scope() as db:
        issued = await rules.issue(
            db=db,
            org=org,
            role=role,
            max_uses=uses,
            days=days,
            actor=None,
            now=clock.now(),
            via="test",
        )
    return issued.code


def code_in(text: str | None) -> str:
    """The invitation code in a message or caption with the deep link."""
    match = LINK.search(text or "")
    assert match is not None, text
    return match.group(1)


async def rows(database: Database, model: type[Any], *where: Any) -> list[Any]:
    """Every row of a table (matching `where`), oldest first."""
    async with database.session_scope() as db:
        stmt = select(model).where(*where) if where else select(model)
        result = await db.exec(stmt.order_by(col(model.id)))
        return list(result.all())


async def invitation_of(database: Database, code: str) -> Invitation:
    found = await rows(database, Invitation, col(Invitation.code_hash) == rules.hash_code(code))
    assert len(found) == 1
    return found[0]  # type: ignore[no-any-return]


async def member(database: Database, member_id: int | None) -> Member:
    async with database.session_scope() as db:
        found = await db.get(Member, member_id)
    assert found is not None
    return found


async def attempts(database: Database, user: SimUser) -> list[bool]:
    """Whether each of the user's code attempts succeeded, oldest first."""
    found = await rows(database, CodeAttempt, col(CodeAttempt.telegram_user_id) == user.id)
    return [attempt.succeeded for attempt in found]


async def requests(database: Database) -> list[RegistrationRequest]:
    return await rows(database, RegistrationRequest)


async def open_invitation(user: SimUser, code: str) -> str:
    """`/start <code>` as the t.me link sends it; returns the bot's answer."""
    await user.send(f"/start {code}")
    return (await user.wait_for_reply()).text or ""


ZH_SHARE = "📱 发送我的手机号"
ZH_BY_NAME = "没有手机号/按姓名查找"
ZH_DONGFENG = "东风镇党委 / 东风村党支部"
