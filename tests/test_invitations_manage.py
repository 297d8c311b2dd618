"""/invites through the emulator: the list in scope, revoking, and refusals."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col

from bot.clock import ManualClock
from handlers.invitations import REVOKE
from storage import Database
from storage.models import AuditLog, Invitation, Role
from tests.support.audit import audit_actions
from tests.support.builders import build_tree, grant
from tests.support.invitations import (
    Person,
    invitation_of,
    issue_code,
    open_invitation,
    rows,
)


async def test_list_shows_the_invitations_in_scope_usable_first(
    person: Person, database: Database, clock: ManualClock
) -> None:
    tree = await build_tree(database)
    old = await issue_code(database, clock, tree.dongfeng, uses=50, days=1)
    clock.advance(timedelta(days=2))  # `old` has expired by now
    await issue_code(database, clock, tree.dongfeng, role=Role.DEPUTY_SECRETARY)
    await issue_code(database, clock, tree.qianjin)  # another township: not listed
    sec = person("王书记")
    await grant(database, sec.id, Role.SECRETARY, tree.dongfeng)

    await sec.send("/invites")
    listing = await sec.wait_for_reply()
    assert listing.text == (
        "邀请（共 2 个）：\n"
        "1. 东风村党支部 · 副书记 · 已用 0/1 · 有效期至 3月11日（周三）09:00\n"
        "2. 东风村党支部 · 党员 · 已用 0/50 · 已过期"
    )
    assert listing.buttons == [["撤销 1"]]
    assert (await invitation_of(database, old)).revoked_at is None


async def test_revoke_sets_revoked_at_once_and_the_code_stops_working(
    person: Person, database: Database, clock: ManualClock
) -> None:
    tree = await build_tree(database)
    code = await issue_code(database, clock, tree.dongfeng, uses=10)
    sec = person("Wang", language="en")
    await grant(database, sec.id, Role.SECRETARY, tree.dongfeng)

    await sec.send("/invites")
    listing = await sec.wait_for_reply()
    assert listing.buttons == [["Revoke 1"]]
    query = await sec.tap("Revoke 1")
    answer = await sec.wait_for_callback_answer(query)
    assert answer.text == "Invitation revoked. Its link and QR code no longer work."
    redrawn = await sec.wait_for_reply()
    assert redrawn.text == (
        "Invitations (1):\n1. 东风村党支部 · party member · used 0/10 · revoked"
    )
    assert redrawn.buttons == []
    invitation = await invitation_of(database, code)
    assert invitation.revoked_at == clock.now()

    again = REVOKE.encode(invitation.id or 0, 0)
    answer = await sec.wait_for_callback_answer(
        await sec.tap_data(again, message_id=listing.message_id)
    )
    assert (answer.text, answer.show_alert) == ("This invitation was already revoked.", True)
    entries = await rows(database, AuditLog, col(AuditLog.action) == "invitation.revoke")
    assert [(e.actor_telegram_id, e.target_id) for e in entries] == [(sec.id, invitation.id)]

    newcomer = person("阿丽")
    text = await open_invitation(newcomer, code)
    assert text == "这个邀请已被撤销。请向支部书记要一个新的邀请。"


async def test_revoking_out_of_scope_is_refused(
    person: Person, database: Database, clock: ManualClock
) -> None:
    tree = await build_tree(database)
    theirs = await issue_code(database, clock, tree.qianjin)
    sec = person("王书记")
    await grant(database, sec.id, Role.SECRETARY, tree.dongfeng)
    await sec.send("/invites")
    listing = await sec.wait_for_reply()
    assert listing.text == "还没有邀请。发送 /invite 生成一个。"

    invitation = await invitation_of(database, theirs)
    forged = REVOKE.encode(invitation.id or 0, 0)
    answer = await sec.wait_for_callback_answer(
        await sec.tap_data(forged, message_id=listing.message_id)
    )
    assert answer.text == "您没有权限在这里做这件事。"
    missing = REVOKE.encode(99999, 0)
    answer = await sec.wait_for_callback_answer(
        await sec.tap_data(missing, message_id=listing.message_id)
    )
    assert answer.text == "这个邀请已经不存在了。"
    assert (await invitation_of(database, theirs)).revoked_at is None
    assert await audit_actions(database) == ["invitation.create"]


async def test_the_list_pages_eight_at_a_time(
    person: Person, database: Database, clock: ManualClock
) -> None:
    tree = await build_tree(database)
    for _ in range(9):
        await issue_code(database, clock, tree.liushu)
        clock.advance(timedelta(minutes=1))
    organiser = person("镇组织委员")
    await grant(database, organiser.id, Role.TOWNSHIP_ORGANISER, tree.townships["T01"])

    await organiser.send("/invites")
    first = await organiser.wait_for_reply()
    assert (first.text or "").splitlines()[0] == "邀请（共 9 个）："
    assert first.buttons[-1] == ["下一页 »"]
    await organiser.tap("下一页 »")
    second = await organiser.wait_for_reply()
    assert (second.text or "").splitlines()[1].startswith("9. 柳树村党支部")
    assert second.buttons == [["撤销 9"], ["« 上一页"]]
    assert len(await rows(database, Invitation)) == 9
