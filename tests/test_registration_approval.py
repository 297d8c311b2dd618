"""Newcomers the roster does not know: the officers approve (linking or adding) or reject."""

from __future__ import annotations

from sqlmodel import col

from bot.clock import ManualClock
from bot.registration_buttons import APPROVE, REJECT
from handlers.registration_decide import LINK
from sandbox import SimUser, World
from storage import Database, accounts, members
from storage.models import AuditLog, Member, MemberStatus, RegistrationState, Role
from tests.support.audit import audit_actions
from tests.support.builders import add_member, build_tree, grant
from tests.support.invitations import (
    ZH_DONGFENG,
    ZH_SHARE,
    Person,
    invitation_of,
    issue_code,
    member,
    open_invitation,
    requests,
    rows,
)

ASKED = (
    f"{ZH_DONGFENG}有人申请加入：\n姓名：小 王\n手机：+8613700000007\n"
    "名册上还没有找到这个人，请核实后决定。"
)


async def _ask_by_contact(person: Person, code: str) -> SimUser:
    """A newcomer whose phone is not on the roster shares it."""
    newcomer = person("小", phone="+8613700000007")
    newcomer.last_name = "王"
    await open_invitation(newcomer, code)
    await newcomer.press(ZH_SHARE)
    told = await newcomer.wait_for_reply()
    assert told.text == (
        f"谢谢！{ZH_DONGFENG}的名册上没找到您，我已请支部书记确认。有结果了我会在这里告诉您。"
    )
    return newcomer


async def test_no_match_asks_the_officers_who_link_a_roster_entry(
    person: Person, database: Database, clock: ManualClock
) -> None:
    tree = await build_tree(database)
    sec, deputy = person("王书记"), person("李副书记")
    await grant(database, sec.id, Role.SECRETARY, tree.dongfeng)
    await grant(database, deputy.id, Role.DEPUTY_SECRETARY, tree.dongfeng)
    entry = await add_member(database, tree.dongfeng, "王小", phone="+8613800000003")
    await add_member(database, tree.dongfeng, "张三")
    code = await issue_code(database, clock, tree.dongfeng, uses=5)
    newcomer = await _ask_by_contact(person, code)

    [request] = await requests(database)
    assert (request.claimed_name, request.phone, request.state) == (
        "小 王",
        "+8613700000007",
        RegistrationState.PENDING,
    )
    assert (await invitation_of(database, code)).uses == 1
    for officer in (sec, deputy):
        asked = await officer.wait_for_reply()
        assert asked.text == ASKED
        assert asked.buttons == [["批准", "拒绝"]]

    # While it waits, opening the link again changes nothing.
    assert await open_invitation(newcomer, code) == (
        f"您加入{ZH_DONGFENG}的申请正在等支部书记确认。有结果了我会在这里告诉您。"
    )

    await sec.tap("批准")
    choice = await sec.wait_for_reply()
    assert choice.text == (
        f"小 王（手机：+8613700000007）申请加入{ZH_DONGFENG}。\n"
        "这是名册上的哪一位？请点名字，或新建名册记录。"
    )
    assert choice.buttons == [["张三", "王小 …0003"], ["➕ 新建名册记录", "拒绝"]]
    await sec.tap("王小 …0003")
    assert (await sec.wait_for_reply()).text == f"已批准：王小 已加入{ZH_DONGFENG}。"

    welcome = await newcomer.wait_for_reply()
    assert welcome.text == f"欢迎您，王小！您已加入{ZH_DONGFENG}。\n发送 /help 看看我能做什么。"
    assert (await member(database, entry.id)).telegram_user_id == newcomer.id
    [request] = await requests(database)
    assert (request.state, request.decided_by, request.member_id) == (
        RegistrationState.APPROVED,
        sec.id,
        entry.id,
    )

    # The deputy's copy is stale now: tapping it says who decided.
    answer = await deputy.wait_for_callback_answer(await deputy.tap("批准"))
    assert (answer.text, answer.show_alert) == ("王书记 已经处理过这个申请了。", True)
    assert await audit_actions(database) == [
        "invitation.create",
        "registration.request",
        "registration.approve",
    ]


async def test_double_tap_on_a_name_links_once_and_audits_once(
    person: Person, database: Database, clock: ManualClock
) -> None:
    tree = await build_tree(database)
    sec = person("王书记")
    await grant(database, sec.id, Role.SECRETARY, tree.dongfeng)
    entry = await add_member(database, tree.dongfeng, "王小", phone="+8613800000003")
    code = await issue_code(database, clock, tree.dongfeng)
    newcomer = await _ask_by_contact(person, code)
    await sec.wait_for_reply()
    await sec.tap("批准")
    choice = await sec.wait_for_reply()

    [request] = await requests(database)
    data = LINK.encode(request.id or 0, entry.id or 0)
    first = await sec.tap_data(data, message_id=choice.message_id)
    second = await sec.tap_data(data, message_id=choice.message_id)
    assert (await sec.wait_for_callback_answer(first)).text == "已批准。"
    assert (await sec.wait_for_callback_answer(second)).text == "这个申请您已经处理过了。"
    assert (await member(database, entry.id)).telegram_user_id == newcomer.id
    approvals = await rows(database, AuditLog, col(AuditLog.action) == "registration.approve")
    assert len(approvals) == 1
    assert len(await rows(database, Member, col(Member.telegram_user_id) == newcomer.id)) == 1


async def test_approve_by_making_a_new_roster_entry(
    person: Person, database: Database, clock: ManualClock, world: World
) -> None:
    tree = await build_tree(database)
    sec = person("Secretary Wang", language="en")
    await grant(database, sec.id, Role.SECRETARY, tree.dongfeng)
    await sec.send("/help")  # the bot learns the secretary reads English
    await sec.wait_for_reply()
    code = await issue_code(database, clock, tree.dongfeng, role=Role.DEPUTY_SECRETARY)
    newcomer = await _ask_by_contact(person, code)
    asked = await sec.wait_for_reply()
    assert asked.buttons == [["Approve", "Reject"]]
    await sec.tap("Approve")
    choice = await sec.wait_for_reply()
    assert choice.buttons == [["➕ New roster entry", "Reject"]]
    await sec.tap("➕ New roster entry")
    statuses = await sec.wait_for_reply()
    assert statuses.buttons == [["activist", "probationary member", "full member"], ["« Back"]]
    await sec.tap("probationary member")
    done = await sec.wait_for_reply()
    assert done.text == f"Approved: 小 王 has joined {ZH_DONGFENG}."

    welcome = await newcomer.wait_for_reply()
    assert (welcome.text or "").splitlines()[1] == "您的职务：副书记。"
    menu = await world.wait_for(
        lambda: (
            [c["command"] for c in world.commands({"type": "chat", "chat_id": newcomer.id})]
            or None
        )
    )
    assert "invite" in menu  # the deputy's menu now offers invitations
    [created] = await rows(database, Member, col(Member.telegram_user_id) == newcomer.id)
    assert (created.name, created.status, created.phone, created.org_id) == (
        "小 王",
        MemberStatus.PROBATIONARY,
        "+8613700000007",
        tree.dongfeng.id,
    )
    assert await audit_actions(database) == [
        "invitation.create",
        "registration.request",
        "role.grant",
        "member.create",
        "registration.approve",
    ]


async def test_reject_tells_the_newcomer(
    person: Person, database: Database, clock: ManualClock
) -> None:
    tree = await build_tree(database)
    sec = person("王书记")
    await grant(database, sec.id, Role.SECRETARY, tree.dongfeng)
    code = await issue_code(database, clock, tree.dongfeng)
    newcomer = await _ask_by_contact(person, code)
    await sec.wait_for_reply()

    await sec.tap("拒绝")
    assert (await sec.wait_for_reply()).text == "已拒绝，已告诉小 王。"
    told = await newcomer.wait_for_reply()
    assert told.text == f"很抱歉，您加入{ZH_DONGFENG}的申请没有通过。如果有误，请找支部书记。"
    [request] = await requests(database)
    assert (request.state, request.decided_by) == (RegistrationState.REJECTED, sec.id)
    assert await rows(database, Member) == []
    assert await audit_actions(database) == [
        "invitation.create",
        "registration.request",
        "registration.reject",
    ]


async def test_without_branch_officers_the_township_organiser_decides(
    person: Person, database: Database, clock: ManualClock
) -> None:
    tree = await build_tree(database)
    organiser, elsewhere = person("镇组织委员"), person("前进村书记")
    await grant(database, organiser.id, Role.TOWNSHIP_ORGANISER, tree.townships["T01"])
    await grant(database, elsewhere.id, Role.SECRETARY, tree.qianjin)
    code = await issue_code(database, clock, tree.dongfeng)
    await _ask_by_contact(person, code)
    asked = await organiser.wait_for_reply()
    assert asked.text == ASKED
    assert elsewhere.messages == []

    [request] = await requests(database)
    forged = REJECT.encode(request.id or 0)
    await elsewhere.send("/start")
    await elsewhere.wait_for_reply()
    answer = await elsewhere.wait_for_callback_answer(
        await elsewhere.tap_data(forged, message_id=elsewhere.messages[-1].message_id)
    )
    assert answer.text == "您没有权限在这里做这件事。"
    answer = await elsewhere.wait_for_callback_answer(
        await elsewhere.tap_data(
            APPROVE.encode(request.id or 0, 0), message_id=elsewhere.messages[-1].message_id
        )
    )
    assert answer.text == "您没有权限在这里做这件事。"
    [request] = await requests(database)
    assert request.state == RegistrationState.PENDING


async def test_a_roster_entry_taken_meanwhile_is_refused_and_the_request_stays_open(
    person: Person, database: Database, clock: ManualClock
) -> None:
    tree = await build_tree(database)
    sec = person("王书记")
    await grant(database, sec.id, Role.SECRETARY, tree.dongfeng)
    entry = await add_member(database, tree.dongfeng, "王小", phone="+8613800000003")
    code = await issue_code(database, clock, tree.dongfeng)
    await _ask_by_contact(person, code)
    await sec.wait_for_reply()
    await sec.tap("批准")
    await sec.wait_for_reply()
    async with database.session_scope() as db:  # someone else got there first
        await accounts.ensure_account(db=db, telegram_user_id=900001)
        await members.link_telegram(db=db, member_id=entry.id or 0, telegram_user_id=900001)

    answer = await sec.wait_for_callback_answer(await sec.tap("王小 …0003"))
    assert answer.text == "名册上的这个人已经绑定了别的 Telegram 账号。请选别的名字。"
    [request] = await requests(database)
    assert request.state == RegistrationState.PENDING
    assert (await member(database, entry.id)).telegram_user_id == 900001
    assert "registration.approve" not in await audit_actions(database)
