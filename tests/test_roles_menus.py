"""Per-user command menus follow the roles, in the user's language."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from telegram.ext import CommandHandler

from bot.access import ROLE_ACTIONS, Grant, Principal
from bot.app import PartyApplication
from handlers.menus import MENU, menu_for, public_commands, refresh_menu
from sandbox import SimUser, World
from storage import Database
from storage.models import Role
from tests.support.builders import add_member, build_tree, grant

Person = Callable[..., SimUser]

BRANCH = "/1/2/3/"
EVERYONE = ["start", "help"]
KNOWN = [*EVERYONE, "me", "language"]


def chat_menu(world: World, user: SimUser) -> list[dict[str, str]]:
    return world.commands({"type": "chat", "chat_id": user.id})


async def test_secretary_menu_is_set_for_her_chat_in_chinese(
    person: Person, world: World, database: Database, bot_app: PartyApplication
) -> None:
    tree = await build_tree(database)
    alice = person("阿丽")
    await add_member(database, tree.dongfeng, "王丽", telegram_user_id=alice.id)
    await grant(database, alice.id, Role.SECRETARY, tree.dongfeng)
    await refresh_menu(bot_app.bot, database=database, telegram_user_id=alice.id, language="zh")
    names = [c["command"] for c in chat_menu(world, alice)]
    assert names[:4] == KNOWN
    assert {"members", "appoint"} <= set(names)
    descriptions = {c["command"]: c["description"] for c in chat_menu(world, alice)}
    assert descriptions["start"] == "开始使用 / 加入支部"
    assert descriptions["members"] == "支部党员名册"
    assert descriptions["appoint"] == "任命或撤销职务"


async def test_member_menu_in_english(
    person: Person, world: World, database: Database, bot_app: PartyApplication
) -> None:
    tree = await build_tree(database)
    bob = person("Bob", language="en")
    await add_member(database, tree.dongfeng, "Bob", telegram_user_id=bob.id)
    await refresh_menu(bot_app.bot, database=database, telegram_user_id=bob.id, language="en")
    assert [(c["command"], c["description"]) for c in chat_menu(world, bob)][:4] == [
        ("start", "Begin, or join your branch"),
        ("help", "What partybot can do"),
        ("me", "My profile"),
        ("language", "Language: 中文 / English"),
    ]
    assert not {"members", "appoint", "invite"} & {c["command"] for c in chat_menu(world, bob)}
    described = {c["command"]: c["description"] for c in chat_menu(world, bob)}
    assert described["checkin"] == "Check in (officers: show the code)"  # members check in


@pytest.mark.parametrize("role", list(Role))
def test_menu_rows_are_exactly_what_the_role_may_do(role: Role) -> None:
    principal = Principal.of(1, [Grant(role, 3, BRANCH)] if role is not Role.MEMBER else [])
    shown = [command.name for command in menu_for(principal, is_member=True)]
    expected = [
        c.name
        for c in MENU
        if not c.leader_only and (not c.actions or set(c.actions) & ROLE_ACTIONS[role])
    ]
    assert shown == expected
    as_leader = [c.name for c in menu_for(principal, is_member=True, is_leader=True)]
    assert as_leader == [c.name for c in MENU if c.name in expected or c.leader_only]


def test_strangers_see_only_the_public_commands() -> None:
    shown = [c.name for c in menu_for(Principal.of(1, []), is_member=False)]
    assert shown == EVERYONE == [name for name, _ in public_commands()]


def test_every_menu_command_has_a_handler(bot_app: PartyApplication) -> None:
    registered = {
        command
        for handler in bot_app.handlers[0]
        if isinstance(handler, CommandHandler)
        for command in handler.commands
    }
    assert {command.name for command in MENU} <= registered


def test_each_command_is_in_the_menu_once() -> None:
    names = [command.name for command in MENU]
    assert len(names) == len(set(names))
