"""/start, /help, fallbacks and command menus, through the emulator over real HTTP."""

from __future__ import annotations

from collections.abc import Callable

from sandbox import SimUser, World
from storage import Database
from storage.models import Role, TelegramAccount
from tests.support.builders import add_member, build_tree, grant
from tests.support.conversation import shown

Person = Callable[..., SimUser]


async def test_start_answers_in_chinese(person: Person) -> None:
    alice = person("阿丽")
    await alice.send("/start")
    reply = await alice.wait_for_reply()
    assert reply.text == (
        "欢迎使用党建助手。\n加入支部：请向支部书记要邀请链接，或扫村委会张贴的二维码。"
    )


async def test_start_answers_in_english_for_english_clients(person: Person) -> None:
    bob = person("Bob", language="en")
    await bob.send("/start")
    reply = await bob.wait_for_reply()
    assert shown(reply).startswith("Welcome to partybot, the party-work assistant of our county.")


async def test_help_lists_only_what_a_stranger_may_use(person: Person) -> None:
    alice = person("阿丽")
    await alice.send("/help")
    reply = await alice.wait_for_reply()
    assert shown(reply).splitlines() == [
        "我可以帮您：",
        "/start - 开始使用 / 加入支部",
        "/help - 使用帮助",
    ]


async def test_help_for_a_secretary_matches_the_secretarys_menu(
    person: Person, database: Database, world: World
) -> None:
    tree = await build_tree(database)
    wang = person("王书记")
    await add_member(database, tree.dongfeng, "王建国", telegram_user_id=wang.id)
    await grant(database, wang.id, Role.SECRETARY, tree.dongfeng)
    await wang.send("/start")
    assert (await wang.wait_for_reply()).text == "王建国，欢迎回来。发送 /help 查看可以做什么。"
    await wang.send("/help")
    listed = [line.split(" ")[0] for line in shown(await wang.wait_for_reply()).splitlines()[1:]]
    assert {"/invite", "/members", "/newsession", "/notice"} <= set(listed)
    assert "/import" not in listed
    # /start refreshed the per-chat menu (roles granted outside the bot show up there too).
    assert [f"/{c['command']}" for c in world.commands_for(wang.id)] == listed


async def test_first_contact_records_the_account(person: Person, database: Database) -> None:
    bob = person("Bob", language="en")
    await bob.send("/start")
    await bob.wait_for_reply()
    async with database.session_scope() as db:
        account = await db.get(TelegramAccount, bob.id)
    assert account is not None
    assert (account.first_name, account.language) == ("Bob", "en")


async def test_unknown_command_is_answered_not_ignored(person: Person) -> None:
    alice = person("阿丽")
    await alice.send("/frobnicate")
    reply = await alice.wait_for_reply()
    assert reply.text == "没有这个命令。发送 /help 查看可以做什么。"


async def test_free_text_points_at_help(person: Person) -> None:
    bob = person("Bob", language="en")
    await bob.send("hello?")
    reply = await bob.wait_for_reply()
    assert reply.text == "Please use the buttons under my messages, or send /help."


async def test_forged_callback_data_is_refused(person: Person) -> None:
    alice = person("阿丽")
    await alice.send("/start")
    reply = await alice.wait_for_reply()
    query_id = await alice.tap_data("admin:grant:1", message_id=reply.message_id)
    answer = await alice.wait_for_callback_answer(query_id)
    assert answer.text == "这个按钮已经失效。"
    assert answer.show_alert is True


async def test_command_menus_are_published_per_language(person: Person, world: World) -> None:
    alice, bob = person("阿丽"), person("Bob", language="en")
    chinese = world.commands_for(alice.id)
    english = world.commands_for(bob.id)
    assert [(c["command"], c["description"]) for c in chinese] == [
        ("start", "开始使用 / 加入支部"),
        ("help", "使用帮助"),
    ]
    assert [c["description"] for c in english] == [
        "Begin, or join your branch",
        "What partybot can do",
    ]
