"""Per-user command menus follow the roles, in the user's language."""

from __future__ import annotations

from collections.abc import Callable

from bot.app import PartyApplication
from handlers.menus import refresh_menu
from sandbox import SimUser, World
from storage import Database
from storage.models import Role
from tests.builders import add_member, build_tree, grant

Person = Callable[..., SimUser]


def names(world: World, user: SimUser) -> list[str]:
    return [c["command"] for c in world.commands_for(user.id)]


async def test_secretary_menu_is_set_for_her_chat_in_chinese(
    person: Person, world: World, database: Database, bot_app: PartyApplication
) -> None:
    tree = await build_tree(database)
    alice = person("阿丽")
    await add_member(database, tree.dongfeng, "王丽", telegram_user_id=alice.id)
    await grant(database, alice.id, Role.SECRETARY, tree.dongfeng)
    await refresh_menu(bot_app.bot, database=database, telegram_user_id=alice.id, language="zh")
    menu = world.commands({"type": "chat", "chat_id": alice.id})
    assert [c["command"] for c in menu][:2] == ["start", "help"]
    assert menu[0]["description"] == "开始使用 / 加入支部"
