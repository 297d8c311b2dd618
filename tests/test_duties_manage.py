"""/leaders: county staff set contact points and demonstration sites with buttons; /duties
shows the counters. Others are refused and nothing changes."""

from __future__ import annotations

from datetime import date

from bot.clock import ManualClock
from bot.i18n import gettext
from bot.refusals import NOT_ALLOWED
from handlers import duties as duty_handlers
from sandbox import World
from storage import Database, orgs
from storage.models import AudienceKind, OrgKind, Role, SessionKind, SessionState, StudySession
from tests.support.audit import audit_log
from tests.support.builders import add_member, build_tree, grant
from tests.support.conversation import say, shown, tap, tap_refused
from tests.support.duties import contact_point, points, visit
from tests.support.roles import Person, buttons, forge
from tests.support.sessions import arrives, at


async def test_county_staff_give_a_leader_a_contact_point_and_remove_it(
    person: Person, database: Database, world: World
) -> None:
    tree = await build_tree(database)
    staff = person("县委组织部", language="en")
    await grant(database, staff.id, Role.COUNTY_STAFF, tree.county)
    leader = person("王部长")
    member = await add_member(database, tree.dongfeng, "王部长", telegram_user_id=leader.id)
    await add_member(database, tree.dongfeng, "张三")
    await say(leader, "/start")
    assert "/visit" not in shown(await say(leader, "/help"))

    home = await say(staff, "/leaders")
    assert home.text == (
        "Contact points and demonstration sites, 2026:\n"
        "Contact points: 0\n"
        "Demonstration sites: county level none; township level none"
    )
    picker = await tap(staff, "➕ Add a contact point")
    assert "Who is the leader?" in shown(picker)
    await tap(staff, "东风镇党委 ›")
    people = await tap(staff, "东风村党支部")
    assert buttons(people) == ["张三", "王部长", "Back"]
    where = await tap(staff, "王部长")
    assert where.text == "红旗县\nContact point of 王部长? Choose a township or a branch:"
    await tap(staff, "东风镇党委 ›")
    done = await tap(staff, "柳树村党支部")
    assert done.text == "王部长 now has 柳树村党支部 as a contact point for 2026."
    [point] = await points(database)
    assert (point.leader_member_id, point.org_id, point.year) == (
        member.id,
        tree.liushu.id,
        2026,
    )
    told = await arrives(world, leader, "📍")
    assert told.text == (
        "📍 你2026年的联系点是 柳树村党支部。今年请至少走访两次，每次走访后用 /visit 登记。"
    )
    assert "/visit - 登记走访联系点" in shown(await say(leader, "/help"))
    # The same again is refused, nothing doubles.
    again = await forge(staff, f"ldr.co:{member.id}:{tree.liushu.id}")
    assert again.text == "王部长 already has 柳树村党支部 as a contact point this year."
    assert len(await points(database)) == 1

    await say(staff, "/leaders")
    listing = await tap(staff, "✖ Remove a contact point")
    assert buttons(listing) == ["王部长 → 柳树村党支部", "Back"]
    confirm = await tap(staff, "王部长 → 柳树村党支部")
    assert confirm.text == "Remove the contact point 柳树村党支部 of 王部长? Its 0 visits go too."
    removed = await tap(staff, "Yes, remove")
    assert removed.text == "王部长 no longer has 柳树村党支部 as a contact point."
    assert await points(database) == []
    assert [a.action for a in await audit_log(database, prefix="duty.")] == [
        "duty.contact_point.add",
        "duty.contact_point.remove",
    ]


async def test_demonstration_sites_one_or_two_townships_one_village_each(
    person: Person, database: Database
) -> None:
    tree = await build_tree(database)
    async with database.session_scope() as db:
        await orgs.create_org(
            db=db,
            code="T03",
            name="三河镇党委",
            kind=OrgKind.TOWNSHIP,
            parent_id=tree.county.id,
        )
    staff = person("县委组织部", language="en")
    await grant(database, staff.id, Role.COUNTY_STAFF, tree.county)

    async def choose(*path: str) -> str:
        await say(staff, "/leaders")
        await tap(staff, "🏅 Demonstration sites")
        for label in path[:-1]:
            await tap(staff, label)
        return shown(await tap(staff, path[-1]))

    assert await choose("东风镇党委 ›", "Choose 东风镇党委") == (
        "东风镇党委 is a county-level demonstration site in 2026."
    )
    assert await choose("前进乡党委 ›", "Choose 前进乡党委") == (
        "前进乡党委 is a county-level demonstration site in 2026."
    )
    await say(staff, "/leaders")
    await tap(staff, "🏅 Demonstration sites")
    await tap(staff, "三河镇党委 ›")
    third = await tap_refused(staff, "Choose 三河镇党委")
    assert third.text == "The county already has 2 township demonstration sites this year."
    assert await choose("东风镇党委 ›", "东风村党支部") == (
        "东风村党支部 is a township-level demonstration site in 2026."
    )
    await say(staff, "/leaders")
    await tap(staff, "🏅 Demonstration sites")
    await tap(staff, "东风镇党委 ›")
    second_village = await tap_refused(staff, "柳树村党支部")
    assert second_village.text == "东风镇党委 already has a village demonstration site this year."
    assert await choose("东风镇党委 ›", "东风村党支部") == (
        "东风村党支部 is no longer a demonstration site in 2026."
    )
    home = await say(staff, "/leaders")
    assert shown(home).endswith(
        "Demonstration sites: county level 东风镇党委、前进乡党委; township level none"
    )
    assert [a.action for a in await audit_log(database, prefix="duty.")] == [
        "duty.site.add",
        "duty.site.add",
        "duty.site.add",
        "duty.site.remove",
    ]


async def test_only_county_staff_manage_and_forged_buttons_change_nothing(
    person: Person, database: Database, clock: ManualClock
) -> None:
    tree = await build_tree(database)
    organiser = person("镇组织委员", language="en")
    await grant(database, organiser.id, Role.TOWNSHIP_ORGANISER, tree.townships["T01"])
    member = await add_member(database, tree.dongfeng, "王部长")
    assert (await say(organiser, "/leaders")).text == gettext("en", duty_handlers.NO_LEADERS)
    refused = gettext("en", NOT_ALLOWED)
    assert (await forge(organiser, f"ldr.co:{member.id}:{tree.liushu.id}")).text == refused
    assert (await forge(organiser, f"ldr.so:0:{tree.dongfeng.id}")).text == refused
    assert (await forge(organiser, f"ldr.l:{tree.dongfeng.id}:0")).text == refused
    point = await contact_point(database, member, tree.liushu, 2026, clock.now())
    assert (await forge(organiser, f"ldr.ry:{point}")).text == refused
    assert len(await points(database)) == 1
    assert await audit_log(database, prefix="duty.") == []


async def test_duty_counters_for_staff(
    person: Person, database: Database, clock: ManualClock
) -> None:
    tree = await build_tree(database)
    wang = await add_member(database, tree.dongfeng, "王部长")
    li = await add_member(database, tree.qianjin, "李书记")
    wang_point = await contact_point(database, wang, tree.liushu, 2026, clock.now())
    li_point = await contact_point(database, li, tree.qianjin, 2026, clock.now())
    for day in (date(2026, 1, 10), date(2026, 2, 10)):
        await visit(database, wang_point, day, clock.now())
    await visit(database, li_point, date(2026, 2, 1), clock.now())
    async with database.session_scope() as db:
        for org, kind, when in (
            (tree.county, SessionKind.REPORT_HEARING, at(2026, 1, 20, 9)),
            (tree.county, SessionKind.REPORT_HEARING, at(2026, 2, 20, 9)),
            (tree.county, SessionKind.SPECIAL_STUDY, at(2026, 2, 21, 9)),
            (tree.townships["T01"], SessionKind.REPORT_HEARING, at(2026, 2, 22, 9)),
            (tree.townships["T02"], SessionKind.SPECIAL_STUDY, at(2025, 12, 31, 23, 30)),
        ):
            assert org.id is not None
            db.add(
                StudySession(
                    org_id=org.id,
                    kind=kind,
                    topic="述职",
                    starts_at=when,
                    duration_minutes=90,
                    place="会议室",
                    audience_kind=AudienceKind.BRANCH,
                    audience_org_id=org.id,
                    state=SessionState.CLOSED,
                    created_by=1,
                )
            )
    staff = person("县委组织部", language="en")
    await grant(database, staff.id, Role.COUNTY_STAFF, tree.county)
    counters = await say(staff, "/duties")
    assert counters.text == (
        "Leaders' duties 2026, 红旗县:\n"
        "Contact points (at least 2 visits a year each):\n"
        "• 李书记 → 前进村党支部: 1 visits ⚠️\n"
        "• 王部长 → 柳树村党支部: 2 visits ✓\n"
        "Leading groups (at least 2 report hearings and 1 special study a year):\n"
        "• 红旗县: report hearings 2 ✓, special studies 1 ✓\n"
        "• 东风镇党委: report hearings 1 ⚠️, special studies 0 ⚠️\n"
        "• 前进乡党委: report hearings 0 ⚠️, special studies 0 ⚠️\n"
        "Demonstration sites: county level none; township level none"
    )
    assert "special studies 1 ✓" in shown(await say(staff, "/duties 2025")).splitlines()[-2]
    organiser = person("乡组织委员", language="en")
    await grant(database, organiser.id, Role.TOWNSHIP_ORGANISER, tree.townships["T02"])
    mine = await say(organiser, "/duties")
    assert "王部长" not in shown(mine)
    assert "• 前进乡党委: report hearings 0 ⚠️, special studies 0 ⚠️" in shown(mine)
    villager = person("党员")
    await add_member(database, tree.dongfeng, "党员", telegram_user_id=villager.id)
    assert (await say(villager, "/duties")).text == gettext("zh", duty_handlers.NO_DUTIES)
