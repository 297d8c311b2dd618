"""Registration through the emulator: matching the roster by phone, or by name and digits."""

from __future__ import annotations

from sqlmodel import col

from bot.clock import ManualClock
from bot.i18n import gettext
from sandbox import World
from storage import Database, member_admin
from storage.models import InactiveReason, Role, RoleGrant
from tests.support.audit import audit_actions
from tests.support.builders import add_member, build_tree, grant
from tests.support.conversation import shown
from tests.support.invitations import (
    ZH_BY_NAME,
    ZH_DONGFENG,
    ZH_SHARE,
    Person,
    attempts,
    invitation_of,
    issue_code,
    member,
    open_invitation,
    requests,
    rows,
)

FALLBACK_TEXT = "Please use the buttons under my messages, or send /help."
WELCOME = f"欢迎您，{{name}}！您已加入{ZH_DONGFENG}。\n发送 /help 看看我能做什么。"


async def test_shared_contact_links_the_roster_entry(
    person: Person, database: Database, clock: ManualClock, world: World
) -> None:
    tree = await build_tree(database)
    entry = await add_member(database, tree.dongfeng, "张三", phone="+8613800000001")
    code = await issue_code(database, clock, tree.dongfeng, uses=10)
    zhang = person("老张", phone="+86 138-0000-0001")

    text = await open_invitation(zhang, code)
    assert text == (
        f"欢迎！这是加入{ZH_DONGFENG}的邀请。\n请点下面的“{ZH_SHARE}”，我好在支部名册上找到您。"
    )
    assert zhang.reply_keyboard == [[ZH_SHARE], [ZH_BY_NAME]]

    await zhang.press(ZH_SHARE)  # one tap (Telegram asks to confirm)
    welcome = await zhang.wait_for_reply()
    assert welcome.text == WELCOME.format(name="张三")  # the roster name, not Telegram's
    assert zhang.reply_keyboard is None
    assert (await member(database, entry.id)).telegram_user_id == zhang.id
    assert (await invitation_of(database, code)).uses == 1
    assert await audit_actions(database) == ["invitation.create", "member.register"]
    assert await attempts(database, zhang) == [True]
    menu = await world.wait_for(
        lambda: (
            [c["command"] for c in world.commands({"type": "chat", "chat_id": zhang.id})] or None
        )
    )
    assert "me" in menu  # the member menu, set for this chat
    assert "invite" not in menu


async def test_registration_speaks_english(
    person: Person, database: Database, clock: ManualClock
) -> None:
    tree = await build_tree(database)
    await add_member(database, tree.dongfeng, "Zhang San", phone="+8613800000001")
    code = await issue_code(database, clock, tree.dongfeng, role=Role.DEPUTY_SECRETARY)
    zhang = person("Zhang", language="en", phone="+8613800000001")

    text = await open_invitation(zhang, code)
    assert text.startswith(f"Welcome! This invitation is for {ZH_DONGFENG}.\n")
    assert zhang.reply_keyboard == [["📱 Share my phone number"], ["No phone? Find me by name"]]
    await zhang.press("📱 Share my phone number")
    welcome = await zhang.wait_for_reply()
    assert welcome.text == (
        f"Welcome, Zhang San! You have joined {ZH_DONGFENG}.\n"
        "Your role: deputy secretary.\nSend /help to see what I can do."
    )
    granted = await rows(database, RoleGrant, col(RoleGrant.telegram_user_id) == zhang.id)
    assert [(g.role, g.org_id) for g in granted] == [(Role.DEPUTY_SECRETARY, tree.dongfeng.id)]
    assert await audit_actions(database) == ["invitation.create", "role.grant", "member.register"]


async def test_someone_elses_contact_is_refused(
    person: Person, database: Database, clock: ManualClock
) -> None:
    tree = await build_tree(database)
    entry = await add_member(database, tree.dongfeng, "张三", phone="+8613800000001")
    code = await issue_code(database, clock, tree.dongfeng)
    li = person("李四", phone="+8613900000009")
    await open_invitation(li, code)

    await li.share_contact("+8613800000001", own=False, first_name="张三")
    reply = await li.wait_for_reply()
    assert reply.text == f"请发送您本人的手机号：点下面的“{ZH_SHARE}”。"
    assert (await member(database, entry.id)).telegram_user_id is None
    assert (await invitation_of(database, code)).uses == 0
    assert await requests(database) == []


async def test_by_name_the_officers_confirm_and_no_names_are_listed(
    person: Person, database: Database, clock: ManualClock
) -> None:
    tree = await build_tree(database)
    sec = person("王书记")
    await grant(database, sec.id, Role.SECRETARY, tree.dongfeng)
    li = await add_member(database, tree.dongfeng, "李四", phone="+8613800000002")
    await add_member(database, tree.dongfeng, "王五", phone="+8613800000003")
    code = await issue_code(database, clock, tree.dongfeng)
    grandpa = person("李大爷")  # no phone on his Telegram account
    await open_invitation(grandpa, code)

    await grandpa.press(ZH_BY_NAME)
    asked = await grandpa.wait_for_reply()
    assert asked.text == "请输入您在名册上的姓名，我请支部书记确认。"
    assert asked.buttons == []
    await grandpa.send("李四")
    told = await grandpa.wait_for_reply()
    assert told.text == (
        f"谢谢！{ZH_DONGFENG}的名册上没找到您，我已请支部书记确认。有结果了我会在这里告诉您。"
    )
    [request] = await requests(database)
    assert (request.claimed_name, request.phone, request.state) == ("李四", None, "pending")
    assert (await invitation_of(database, code)).uses == 1
    assert "姓名：李四" in shown(await sec.wait_for_reply())

    await sec.tap("批准")
    await sec.wait_for_reply()
    await sec.tap("李四 …0002")
    assert (await sec.wait_for_reply()).text == f"已批准：李四 已加入{ZH_DONGFENG}。"
    assert shown(await grandpa.wait_for_reply()).startswith("欢迎您，李四！")
    assert (await member(database, li.id)).telegram_user_id == grandpa.id

    await grandpa.send("李四")  # the name step is over: ordinary text again
    assert (await grandpa.wait_for_reply()).text == gettext("zh", FALLBACK_TEXT)


async def test_a_roster_entry_linked_to_another_account_is_refused(
    person: Person, database: Database, clock: ManualClock
) -> None:
    tree = await build_tree(database)
    entry = await add_member(
        database, tree.dongfeng, "张三", phone="+8613800000001", telegram_user_id=900001
    )
    code = await issue_code(database, clock, tree.dongfeng)
    impostor = person("张三", phone="+8613800000001")
    await open_invitation(impostor, code)
    await impostor.press(ZH_SHARE)
    reply = await impostor.wait_for_reply()
    assert reply.text == "名册上的这个人已经绑定了别的 Telegram 账号。请找支部书记处理。"
    assert (await member(database, entry.id)).telegram_user_id == 900001
    assert (await invitation_of(database, code)).uses == 0
    assert await audit_actions(database) == ["invitation.create"]


async def test_a_registered_account_cannot_bind_a_second_member(
    person: Person, database: Database, clock: ManualClock
) -> None:
    tree = await build_tree(database)
    alice = person("阿丽", phone="+8613800000001")
    await add_member(database, tree.dongfeng, "阿丽", telegram_user_id=alice.id)
    other = await add_member(database, tree.liushu, "阿丽", phone="+8613800000001")
    code = await issue_code(database, clock, tree.liushu)

    text = await open_invitation(alice, code)
    assert text == f"您已经登记过了：{ZH_DONGFENG}，阿丽。"
    await alice.share_contact()
    reply = await alice.wait_for_reply()
    assert reply.text == f"您已经登记过了：{ZH_DONGFENG}，阿丽。"
    assert (await member(database, other.id)).telegram_user_id is None
    assert (await invitation_of(database, code)).uses == 0
    assert await attempts(database, alice) == []  # nothing was tried, nothing counted


async def test_someone_taken_off_the_roster_can_register_again(
    person: Person, database: Database, clock: ManualClock
) -> None:
    tree = await build_tree(database)
    alice = person("阿丽", phone="+8613800000001")
    old = await add_member(database, tree.dongfeng, "阿丽", telegram_user_id=alice.id)
    async with database.session_scope() as db:
        await member_admin.deactivate_member(
            db=db, member_id=old.id or 0, reason=InactiveReason.TRANSFERRED_OUT
        )
    back = await add_member(database, tree.liushu, "阿丽", phone="+8613800000001")
    code = await issue_code(database, clock, tree.liushu)

    assert (await open_invitation(alice, code)).startswith("欢迎！这是加入")
    await alice.press(ZH_SHARE)
    assert shown(await alice.wait_for_reply()).startswith("欢迎您，阿丽！您已加入")
    assert (await member(database, back.id)).telegram_user_id == alice.id
    gone = await member(database, old.id)
    assert (gone.active, gone.telegram_user_id) == (False, None)
