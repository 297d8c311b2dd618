"""Long words, names and lists stay inside the Bot API's limits (the emulator enforces them:
an alert of at most 200 characters, a message of at most 4096), and the person still reads
what matters."""

from __future__ import annotations

import re

from bot.clock import ManualClock
from bot.context import SERVICES_KEY, Services
from bot.i18n import LANGUAGES, gettext
from bot.rectification import MAX_TEXT
from bot.session_buttons import RSVP
from bot.settings import Settings
from handlers.menus import MENU
from sandbox import World
from schedules.duties import job_duty_reminders
from storage import Database, orgs
from storage.models import OrgKind, Role
from tests.support.builders import add_member, build_tree, grant
from tests.support.conversation import say, tap
from tests.support.duties import contact_point, points
from tests.support.reports import NOW, build_county
from tests.support.roles import forge
from tests.support.sessions import Person, arrives, at, make_branch
from tests.test_attendance_rsvp import invited
from tests.test_rectify_ladder import issue


async def test_asking_for_leave_again_quotes_a_long_reason_shortened(
    person: Person, database: Database, world: World, clock: ManualClock, settings: Settings
) -> None:
    branch = await make_branch(database, person, names=("王五",))
    session_id = await invited(database, settings, clock, world, branch)
    wang = branch.people["王五"]
    invitation = wang.messages[-1]
    await tap(wang, "请假")
    await tap(wang, "其他")
    reason = "家" * 200  # the longest reason a member may type
    await say(wang, reason)
    again = await wang.tap_data(RSVP.encode(session_id, "leave"), message_id=invitation.message_id)
    alert = await wang.wait_for_callback_answer(again)
    assert alert.show_alert
    assert alert.text == "您已经请过假了：" + "家" * 59 + "…（待批准）"
    assert world.calls_of("answerCallbackQuery")[-1].ok


async def test_an_order_with_many_long_reports_shows_the_newest_that_fit(
    database: Database, clock: ManualClock, world: World, person: Person, bot_app: object
) -> None:
    clock.set(NOW)
    county = await build_county(database, person)
    staff, secretary = county.staff, county.secretary
    await issue(county, database)
    told = await arrives(world, secretary, "📢")
    for n in range(1, 6):  # five reports of the longest note a secretary may type
        await tap(secretary, "📝 报告整改进展", message_id=told.message_id)
        asked = await say(secretary, str(n) * MAX_TEXT)
        await tap(secretary, "📤 提交进展报告", message_id=asked.message_id)
    heard = await arrives(world, staff, "📝 东风村党支部")
    screen = await tap(staff, "📋 查看整改通知", message_id=heard.message_id)
    lines = (screen.text or "").splitlines()
    assert len(screen.text or "") <= 4096
    assert lines[5:8] == [
        "进展报告：5 次",
        "……另有 2 次较早的报告未列出",
        f"• 2026年4月15日：{'3' * MAX_TEXT}",
    ]
    assert lines[-1] == f"• 2026年4月15日：{'5' * MAX_TEXT}"


async def test_the_county_list_of_unvisited_contact_points_fits_one_message(
    person: Person, database: Database, clock: ManualClock, world: World, bot_app: object
) -> None:
    services: Services = bot_app.bot_data[SERVICES_KEY]  # type: ignore[attr-defined]
    tree = await build_tree(database)
    staff = person("县委组织部")
    await grant(database, staff.id, Role.COUNTY_STAFF, tree.county)
    await say(staff, "/start")
    for n in range(40):  # leaders with the longest names a roster holds
        leader = await add_member(database, tree.dongfeng, f"{n:02d}" + "长" * 98)
        await contact_point(database, leader, tree.liushu, 2026, clock.now())
    clock.set(at(2026, 6, 30, 9, 0))
    await job_duty_reminders(services)
    clock.set(at(2026, 7, 30, 9, 0))
    assert await job_duty_reminders(services) == 1
    county = await arrives(world, staff, "⚠️")
    lines = (county.text or "").splitlines()
    assert len(county.text or "") <= 4096
    assert lines[1] == "• 00" + "长" * 98 + " → 柳树村党支部：走访 0 次"
    listed = len(lines) - 3
    assert 30 < listed < 40
    assert lines[-2:] == [f"……还有 {40 - listed} 条", "请督促落实。"]


async def test_a_refusal_too_long_for_an_alert_comes_as_a_message(
    person: Person, database: Database, clock: ManualClock, world: World
) -> None:
    tree = await build_tree(database)
    staff = person("县委组织部", language="en")
    await grant(database, staff.id, Role.COUNTY_STAFF, tree.county)
    leader = await add_member(database, tree.dongfeng, "王" * 100)
    async with database.session_scope() as db:
        far = await orgs.create_org(
            db=db,
            code="T01-V09",
            name="远" * 100,  # the longest name an org unit may have
            kind=OrgKind.VILLAGE_BRANCH,
            parent_id=tree.townships["T01"].id,
        )
    await contact_point(database, leader, far, 2026, clock.now())
    await say(staff, "/leaders")
    answer = await forge(staff, f"ldr.co:{leader.id}:{far.id}")  # the same point again
    assert answer.text is None
    told = await staff.wait_for_message()
    assert told.text == f"{'王' * 100} already has {'远' * 100} as a contact point this year."
    assert len(await points(database)) == 1


HANDLED = ["message", "edited_message", "callback_query", "my_chat_member"]


async def test_the_bot_polls_only_for_the_updates_it_handles(
    world: World, bot_app: object
) -> None:
    assert await world.wait_for(lambda: world.allowed_updates) == HANDLED


def test_every_menu_is_a_command_list_telegram_takes() -> None:
    """Names of 1-32 of [a-z0-9_]; descriptions 1-256 characters once trimmed, in every
    language (a translation may be empty or long); at most 100 commands."""
    assert len(MENU) <= 100
    for language in LANGUAGES:
        for command in MENU:
            assert re.fullmatch(r"[a-z0-9_]{1,32}", command.name)
            description = gettext(language, command.description).strip()
            assert 1 <= len(description) <= 256, (language, command.name)


async def test_funds_below_the_floor_list_as_many_long_names_as_fit(
    person: Person, database: Database, clock: ManualClock, bot_app: object
) -> None:
    tree = await build_tree(database)
    staff = person("县委组织部")
    await grant(database, staff.id, Role.COUNTY_STAFF, tree.county)
    async with database.session_scope() as db:
        branches = [
            await orgs.create_org(
                db=db,
                code=f"T02-V{n:02d}",
                name=f"{n:02d}" + "远" * 98,  # the longest name an org unit may have
                kind=OrgKind.VILLAGE_BRANCH,
                parent_id=tree.townships["T02"].id,
            )
            for n in range(10, 50)
        ]
    for branch in branches:
        await add_member(database, branch, "党员")
    report = await say(staff, "/funds")
    text = report.text or ""
    assert len(text) <= 4096
    assert "远" * 98 + "：人均 0.00 元（1 名党员），差 30.00 元" in text
    assert text.splitlines()[-1].startswith("……还有 ")
