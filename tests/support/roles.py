"""Helpers shared by the roles, profile, roster and access-matrix tests.

Not a test module (no ``test_`` prefix): plain functions to talk through the emulator and
to look at what the database holds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from sandbox import SimUser, World
from sandbox.models import CallbackAnswer, ChatMessage
from storage import Database, accounts
from storage.models import (
    AuditLog,
    Invitation,
    Member,
    MemberStatusChange,
    RoleGrant,
)
from tests.support.conversation import say

Person = Callable[..., SimUser]

# Tables a refused action must leave exactly as they were.
WATCHED: tuple[type[Any], ...] = (AuditLog, Member, MemberStatusChange, RoleGrant, Invitation)


async def forge(user: SimUser, data: str) -> CallbackAnswer:
    """Send callback data on the user's latest bot message; returns the bot's answer."""
    messages = user.messages
    if not messages:
        await say(user, "/start")
        messages = user.messages
    query = await user.tap_data(data, message_id=messages[-1].message_id)
    return await user.wait_for_callback_answer(query)


def buttons(message: ChatMessage) -> list[str]:
    """Every button label of a message, row after row."""
    return [label for row in message.buttons for label in row]


async def snapshot(database: Database) -> dict[str, Any]:
    """Row counts and content digests of the watched tables ("nothing changed" checks)."""
    found: dict[str, Any] = {}
    async with database.session_scope() as db:
        connection = await db.connection()
        for model in WATCHED:
            table = sa.inspect(model).local_table
            rows = (await connection.execute(sa.select(table))).all()
            found[table.name] = sorted(repr(tuple(row)) for row in rows)
    return found


async def member_row(database: Database, member_id: int) -> Member:
    """The member as stored now."""
    async with database.session_scope() as db:
        member = await db.get(Member, member_id)
    assert member is not None
    return member


async def grants_of(database: Database, telegram_user_id: int) -> set[tuple[str, int]]:
    """(role, org id) of every grant the account holds."""
    async with database.session_scope() as db:
        rows = await db.exec(
            select(col(RoleGrant.role), col(RoleGrant.org_id)).where(
                RoleGrant.telegram_user_id == telegram_user_id
            )
        )
        return {(str(role), int(org_id)) for role, org_id in rows.all()}


async def speaks(database: Database, telegram_user_id: int, language: str) -> None:
    """Make sure the account exists and reads `language` (as if it had chosen it)."""
    async with database.session_scope() as db:
        await accounts.ensure_account(db=db, telegram_user_id=telegram_user_id)
        await accounts.set_language(db=db, telegram_user_id=telegram_user_id, language=language)


def menu(world: World, user_id: int) -> list[str]:
    """The command names a user sees in their menu now."""
    return [command["command"] for command in world.commands_for(user_id)]


async def menu_becomes(world: World, user_id: int, expected: Callable[[list[str]], bool]) -> None:
    """Wait until the user's menu satisfies `expected` (it is set after the answer)."""
    await world.wait_for(lambda: expected(menu(world, user_id)), what=f"menu of {user_id}")
