"""/me shows the roster entry and roles; /language switches language, answer and menu."""

from __future__ import annotations

from datetime import date

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import profile
from sandbox import World
from storage import Database, orgs
from storage.models import MemberStatus, OrgKind, Role, TelegramAccount
from tests.support.builders import add_member, build_tree, grant
from tests.support.conversation import say, shown, tap
from tests.support.roles import (
    Person,
    menu_becomes,
)


async def test_me_shows_branch_path_status_joined_group_and_roles(
    person: Person, database: Database
) -> None:
    tree = await build_tree(database)
    alice = person("阿丽")
    member = await add_member(
        database,
        tree.dongfeng,
        "王丽",
        telegram_user_id=alice.id,
        status=MemberStatus.PROBATIONARY,
        joined_on=date(2025, 7, 1),
    )
    async with database.session_scope() as db:
        group = await orgs.create_org(
            db=db,
            code="T01-V01-G1",
            name="第一党小组",
            kind=OrgKind.PARTY_GROUP,
            parent_id=tree.dongfeng.id,
        )
        stored = await db.get(type(member), member.id)
        assert stored is not None
        stored.party_group_id = group.id
    await grant(database, alice.id, Role.DEPUTY_SECRETARY, tree.dongfeng)

    answer = await say(alice, "/me")

    assert answer.text == (
        "王丽\n"
        "支部：红旗县 / 东风镇党委 / 东风村党支部\n"
        "身份：预备党员\n"
        "入党日期：2025年7月1日\n"
        "党小组：第一党小组\n"
        "职务：东风村党支部的副书记\n"
        "今年培训学时：0"
    )


async def test_me_without_a_roster_entry_explains(person: Person, database: Database) -> None:
    await build_tree(database)
    stranger = person("路人")
    answer = await say(stranger, "/me")
    assert answer.text == "您还不在支部党员名册上。\n要加入支部，请向支部书记要邀请链接。"


async def test_me_for_staff_without_a_roster_entry_lists_roles(
    person: Person, database: Database
) -> None:
    tree = await build_tree(database)
    carl = person("Carl", language="en")
    await grant(database, carl.id, Role.COUNTY_STAFF, tree.county)
    answer = await say(carl, "/me")
    assert answer.text == (
        "You are not on a branch roster.\nRoles: county organisation staff of 红旗县"
    )


async def test_me_in_english(person: Person, database: Database) -> None:
    tree = await build_tree(database)
    eve = person("Eve", language="en")
    await add_member(database, tree.dongfeng, "Eve Wang", telegram_user_id=eve.id)
    answer = await say(eve, "/me")
    assert answer.text == (
        "Eve Wang\n"
        "Branch: 红旗县 / 东风镇党委 / 东风村党支部\n"
        "Status: full member\n"
        "Joined: not recorded\n"
        "Training hours this year: 0"
    )


async def test_features_add_their_own_line_with_one_function(
    person: Person, database: Database
) -> None:
    tree = await build_tree(database)
    alice = person("阿丽")
    await add_member(database, tree.dongfeng, "王丽", telegram_user_id=alice.id)

    async def attendance(view: profile.ProfileView) -> list[str]:
        assert isinstance(view.db, AsyncSession)
        return [f"出勤：{view.member.name if view.member else '-'} 100%"]

    profile.profile_section(attendance)
    try:
        answer = await say(alice, "/me")
    finally:
        profile.SECTIONS.remove(attendance)
    assert shown(answer).splitlines()[-1] == "出勤：王丽 100%"


async def test_language_switch_answers_and_remembers_and_redoes_the_menu(
    person: Person, database: Database, world: World
) -> None:
    tree = await build_tree(database)
    alice = person("阿丽")
    await add_member(database, tree.dongfeng, "王丽", telegram_user_id=alice.id)
    await grant(database, alice.id, Role.SECRETARY, tree.dongfeng)

    choose = await say(alice, "/language")
    assert choose.text == "请选择语言："
    assert choose.buttons == [["中文", "English"]]
    done = await tap(alice, "English")
    assert done.text == "OK, I will write to you in English from now on."
    async with database.session_scope() as db:
        account = await db.get(TelegramAccount, alice.id)
    assert account is not None
    assert (account.language, account.language_chosen) == ("en", True)
    await menu_becomes(world, alice.id, lambda names: "appoint" in names)
    descriptions = {c["command"]: c["description"] for c in world.commands_for(alice.id)}
    assert descriptions["members"] == "Branch roster"

    # Telegram still says zh-hans, but the choice sticks.
    answer = await say(alice, "/me")
    assert shown(answer).splitlines()[1] == "Branch: 红旗县 / 东风镇党委 / 东风村党支部"

    await say(alice, "/language")
    back = await tap(alice, "中文")
    assert back.text == "好的，以后我用中文和您说话。"
    await menu_becomes(
        world,
        alice.id,
        lambda names: any(
            c["description"] == "支部党员名册" for c in world.commands_for(alice.id)
        ),
    )


async def test_forged_language_is_refused(person: Person, database: Database) -> None:
    alice = person("阿丽")
    await say(alice, "/language")
    query = await alice.tap_data("lang.set:fr", message_id=alice.messages[-1].message_id)
    answer = await alice.wait_for_callback_answer(query)
    assert answer.text == "这个按钮已经失效。"
    async with database.session_scope() as db:
        account = await db.get(TelegramAccount, alice.id)
    assert account is not None
    assert account.language_chosen is False
