"""Invited lists follow the roster: late registrations, newcomers, transfers, leavers.

A session's invitees are fixed when it is scheduled, but people keep registering and
moving. Those who join a branch (or reach Telegram) before a session starts are invited
to it, once; those who move away or leave are taken off it; past sessions never change.
"""

from __future__ import annotations

from sqlmodel import col, select

from bot.clock import ManualClock
from bot.settings import Settings
from sandbox import World
from schedules.sessions import job_follow_the_roster
from storage import Database
from storage.models import Attendance, AttendanceOutcome, Delivery, DeliveryKind, Role, Rsvp
from tests.support.builders import add_member, grant
from tests.support.conversation import say, shown, tap
from tests.support.invitations import ZH_DONGFENG, ZH_SHARE, issue_code, open_invitation
from tests.support.roster_import import all_members, messy_xlsx
from tests.support.roster_import import person as roster_row
from tests.support.sessions import (
    Person,
    arrives,
    at,
    attendance_of,
    create_session,
    make_branch,
    run_closing,
    texts,
)

INVITED = "📅 请参加："
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def run_roster(database: Database, clock: ManualClock, settings: Settings) -> int:
    return await job_follow_the_roster(database, clock, settings=settings)


async def invitations_to(database: Database, member_id: int) -> list[int]:
    """The sessions a member was sent an invitation to, by id."""
    async with database.session_scope() as db:
        rows = await db.exec(
            select(col(Delivery.session_id))
            .where(
                Delivery.member_id == member_id,
                Delivery.kind == DeliveryKind.SESSION_INVITATION,
            )
            .order_by(col(Delivery.id))
        )
        return [session_id for session_id in rows.all() if session_id is not None]


async def invited_members(database: Database, session_id: int) -> set[int]:
    async with database.session_scope() as db:
        rows = await db.exec(
            select(col(Attendance.member_id)).where(Attendance.session_id == session_id)
        )
        return set(rows.all())


async def test_a_member_who_registers_later_is_invited_at_once_and_only_once(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, names=("张三",), offline=())
    old = await add_member(database, branch.org, "赵老汉", phone="+8613800000009")
    assert old.id is not None
    past = await create_session(
        database, settings, clock, branch.org, starts_at=at(2026, 3, 2, 19, 30), topic="旧的"
    )
    clock.set(at(2026, 3, 2, 21, 0))
    await run_closing(database, clock, settings)
    coming = await create_session(
        database, settings, clock, branch.org, starts_at=at(2026, 3, 6, 19, 30)
    )
    assert past.id is not None
    assert coming.id is not None
    assert (await attendance_of(database, coming.id))[old.id].invited_at is None  # no Telegram

    code = await issue_code(database, clock, branch.org, uses=5)
    zhao = person("赵", phone="+86 138 0000 0009")
    await open_invitation(zhao, code)
    await zhao.press(ZH_SHARE)
    assert shown(await zhao.wait_for_reply()).startswith("欢迎您，赵老汉！")
    invitation = await arrives(world, zhao, INVITED)
    assert "学习党章" in shown(invitation)
    assert "3月6日（周五）19:30" in shown(invitation)
    assert invitation.buttons == [["参加", "请假"]]
    assert "旧的" not in "".join(texts(zhao))  # a closed session is not offered

    assert await run_roster(database, clock, settings) == 0  # the job finds nothing to add
    assert await invitations_to(database, old.id) == [coming.id]
    assert shown(await tap(zhao, "参加")).endswith("\n\n已回复：参加 ✓")
    row = (await attendance_of(database, coming.id))[old.id]
    assert row.rsvp == Rsvp.ATTEND
    assert row.invited_at is not None
    assert (await attendance_of(database, past.id))[old.id].invited_at is None  # not re-sent


async def test_a_newcomer_on_the_roster_is_invited_by_the_job(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, names=("张三",))
    coming = await create_session(
        database, settings, clock, branch.org, starts_at=at(2026, 3, 6, 19, 30)
    )
    elsewhere = await create_session(
        database, settings, clock, branch.tree.liushu, starts_at=at(2026, 3, 7, 9, 0)
    )
    assert coming.id is not None
    assert elsewhere.id is not None
    assert await run_roster(database, clock, settings) == 0  # scheduling invited everyone

    li = person("李四")
    newcomer = await add_member(database, branch.org, "李四", telegram_user_id=li.id)
    offline = await add_member(database, branch.org, "钱大妈")  # no Telegram yet
    assert newcomer.id is not None
    assert offline.id is not None
    assert await run_roster(database, clock, settings) == 1
    assert await run_roster(database, clock, settings) == 0
    assert (await arrives(world, li, INVITED)).buttons == [["参加", "请假"]]
    assert await invitations_to(database, newcomer.id) == [coming.id]
    expected = await invited_members(database, coming.id)
    assert {newcomer.id, offline.id} <= expected
    assert newcomer.id not in await invited_members(database, elsewhere.id)

    report = await say(branch.secretary, "/attendance")
    assert "应到：3人" in shown(report)
    assert "未回复（3）：张三、李四、钱大妈" in shown(report)


async def test_a_transfer_moves_the_member_to_the_new_branchs_sessions(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, names=("张三", "李四"))
    organiser = person("组织委员")
    await grant(database, organiser.id, Role.TOWNSHIP_ORGANISER, branch.tree.townships["T01"])
    here = await create_session(
        database, settings, clock, branch.org, starts_at=at(2026, 3, 6, 19, 30)
    )
    there = await create_session(
        database,
        settings,
        clock,
        branch.tree.liushu,
        starts_at=at(2026, 3, 8, 9, 0),
        topic="柳树村学习",
    )
    assert here.id is not None
    assert there.id is not None
    zhang = branch.people["张三"]
    await arrives(world, zhang, "学习党章")
    await tap(zhang, "参加")

    await say(organiser, "/members")
    await tap(organiser, "东风村党支部")
    await tap(organiser, "✅ 张三")
    await tap(organiser, "转接")
    await tap(organiser, "柳树村党支部")
    assert (await tap(organiser, "确认转接")).text == "张三 已从东风村党支部转到柳树村党支部。"

    moved = await arrives(world, zhang, "柳树村学习")
    assert shown(moved).startswith(INVITED)
    zhang_id = branch.member_id("张三")
    assert zhang_id not in await invited_members(database, here.id)
    assert zhang_id in await invited_members(database, there.id)
    assert await run_roster(database, clock, settings) == 0
    report = await say(branch.secretary, "/attendance")
    assert "应到：1人" in shown(report)
    assert "张三" not in shown(report)


async def test_leavers_come_off_coming_sessions_but_past_records_stay(
    person: Person, database: Database, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, names=("张三", "李四"))
    past = await create_session(
        database, settings, clock, branch.org, starts_at=at(2026, 3, 2, 19, 30)
    )
    clock.set(at(2026, 3, 2, 21, 30))
    await run_closing(database, clock, settings)
    coming = await create_session(
        database, settings, clock, branch.org, starts_at=at(2026, 3, 6, 19, 30)
    )
    assert past.id is not None
    assert coming.id is not None
    li_id = branch.member_id("李四")
    async with database.session_scope() as db:
        member = branch.members["李四"]
        member.active = False
        db.add(member)

    assert await run_roster(database, clock, settings) == 0  # nothing to send
    assert li_id not in await invited_members(database, coming.id)
    kept = (await attendance_of(database, past.id))[li_id]
    assert kept.outcome == AttendanceOutcome.ABSENT  # history is not rewritten


async def test_an_approved_newcomer_is_welcomed_then_invited_in_the_approvals_transaction(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, names=("张三",))
    coming = await create_session(
        database, settings, clock, branch.org, starts_at=at(2026, 3, 6, 19, 30)
    )
    entry = await add_member(database, branch.org, "王小", phone="+8613800000003")
    assert coming.id is not None
    assert entry.id is not None
    code = await issue_code(database, clock, branch.org, uses=5)
    newcomer = person("小", phone="+8613700000007")
    await open_invitation(newcomer, code)
    await newcomer.press(ZH_SHARE)
    await newcomer.wait_for_reply()  # asked the officers
    await branch.secretary.wait_for_reply()
    await branch.secretary.tap("批准")
    await branch.secretary.wait_for_reply()
    await branch.secretary.tap("王小 …0003")

    welcome = await newcomer.wait_for_reply()  # the welcome comes first, then the invitation
    assert welcome.text == f"欢迎您，王小！您已加入{ZH_DONGFENG}。\n发送 /help 看看我能做什么。"
    assert shown(await arrives(world, newcomer, INVITED)).startswith(INVITED)
    assert await invitations_to(database, entry.id) == [coming.id]
    assert await run_roster(database, clock, settings) == 0  # the approval did it already


async def test_a_roster_import_from_the_bot_puts_newcomers_on_coming_sessions_at_once(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, names=("张三",))
    coming = await create_session(
        database, settings, clock, branch.org, starts_at=at(2026, 3, 6, 19, 30)
    )
    assert coming.id is not None
    staff = person("县委组织部")
    await grant(database, staff.id, Role.COUNTY_STAFF, branch.tree.county)
    sheet = [roster_row(1, "赵六", "东风镇党委", "东风村党支部", "正式党员", phone="13700137000")]

    await staff.send_document("花名册.xlsx", messy_xlsx(sheet), XLSX)
    await arrives(world, staff, "要导入这个文件吗？")
    await staff.tap("导入")
    await arrives(world, staff, "已导入 花名册.xlsx")

    newcomer = (await all_members(database))["赵六"]
    assert newcomer.id in await invited_members(database, coming.id)
    assert await run_roster(database, clock, settings) == 0  # the import did it already
