"""Bot commands per scope and language, and the menu button."""

from __future__ import annotations

import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    MenuButtonCommands,
)
from telegram.error import BadRequest

from sandbox import SimUser, World


async def test_commands_per_scope_and_language(bot: Bot, alice: SimUser, world: World) -> None:
    await bot.set_my_commands([BotCommand("start", "Start")])
    await bot.set_my_commands(
        [BotCommand("start", "开始"), BotCommand("report", "报表")],
        scope=BotCommandScopeAllPrivateChats(),
        language_code="zh",
    )
    await bot.set_my_commands([BotCommand("admin", "管理")], scope=BotCommandScopeChat(alice.id))
    assert [c.command for c in await bot.get_my_commands()] == ["start"]
    zh = await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats(), language_code="zh")
    assert [c.description for c in zh] == ["开始", "报表"]
    assert world.commands() == [{"command": "start", "description": "Start"}]
    assert [c["command"] for c in world.commands("all_private_chats", "zh")] == [
        "start",
        "report",
    ]
    assert world.commands({"type": "chat", "chat_id": alice.id}) == [
        {"command": "admin", "description": "管理"}
    ]
    assert [c["command"] for c in world.commands_for(alice.id)] == ["admin"]
    await bot.delete_my_commands(scope=BotCommandScopeChat(alice.id))
    assert [c["command"] for c in world.commands_for(alice.id)] == ["start", "report"]
    english = world.add_user("Bob", language_code="en")
    assert [c["command"] for c in world.commands_for(english.id)] == ["start"]


async def test_invalid_commands_refused(bot: Bot) -> None:
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Bad-Name", "x")])
    with pytest.raises(BadRequest, match="Invalid language code"):
        await bot.set_my_commands([BotCommand("ok", "x")], language_code="zh-hans")


async def test_menu_button(bot: Bot, alice: SimUser) -> None:
    assert (await bot.get_chat_menu_button(alice.id)).type == "commands"
    assert await bot.set_chat_menu_button(alice.id, MenuButtonCommands())
    assert (await bot.get_chat_menu_button(alice.id)).type == "commands"
    assert await bot.close()
