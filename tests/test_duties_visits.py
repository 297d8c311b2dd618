"""/visit: a leader logs a visit to his own contact point, with a day, a note and photos.

Someone else's contact point is refused (forged buttons included) and nothing is written;
days are Asia/Shanghai days, so 23:30 on 31 December still counts for that year.
"""

from __future__ import annotations

from datetime import date

from bot.clock import ManualClock
from bot.i18n import gettext
from handlers.guard import STALE_BUTTON
from sandbox import SimUser, World
from storage import Database
from storage.models import Role
from tests.support.audit import audit_log
from tests.support.builders import Tree, add_member, build_tree, grant
from tests.support.conversation import say, shown, tap
from tests.support.duties import contact_point, visit, visits
from tests.support.roles import Person, buttons, forge
from tests.support.sessions import at, send_photo

NOT_YOURS = "This is not your contact point."


async def leaders(
    database: Database, person: Person, clock: ManualClock
) -> tuple[Tree, SimUser, SimUser, int, int]:
    """王书记 (东风村's roster) visits 柳树村; 李部长 (前进村's) visits 前进村."""
    tree = await build_tree(database)
    wang = person("王书记", language="en")
    li = person("李部长", language="en")
    wang_member = await add_member(database, tree.dongfeng, "王书记", telegram_user_id=wang.id)
    li_member = await add_member(database, tree.qianjin, "李部长", telegram_user_id=li.id)
    wang_point = await contact_point(database, wang_member, tree.liushu, 2026, clock.now())
    li_point = await contact_point(database, li_member, tree.qianjin, 2026, clock.now())
    return tree, wang, li, wang_point, li_point


async def test_a_leader_logs_a_visit_with_a_note_and_photos(
    person: Person, database: Database, clock: ManualClock, world: World
) -> None:
    _tree, wang, _li, wang_point, _ = await leaders(database, person, clock)
    first = await say(wang, "/visit")
    assert first.text == (
        "柳树村党支部: 0 of 2 visits this year.\n"
        "When was the visit? Tap the day, or type the date (e.g. 2026-12-01)."
    )
    assert buttons(first) == ["Today 3-2", "Yesterday 3-1", "The day before 2-28"]
    ask = await tap(wang, "Yesterday 3-1")
    assert ask.text == "柳树村党支部, 2026-03-01. What did you check? Type a few words."
    prompt = await say(wang, "Checked the <b>minutes</b> book and the activity room")
    assert prompt.text == "Send photos if you have any, then tap Save."
    assert (await say(wang, "more words")).text == "Please send a photo, or tap Save."
    assert (await send_photo(world, wang)).text == "Photo 1 added. Send more, or tap Save."
    assert (await send_photo(world, wang)).text == "Photo 2 added. Send more, or tap Save."
    saved = await tap(wang, "Save the visit")
    assert saved.text == "Visit saved: 柳树村党支部, 2026-03-01. Visits this year: 1 of 2."
    [row] = await visits(database)
    assert (row.contact_point_id, row.visited_on, row.recorded_by) == (
        wang_point,
        date(2026, 3, 1),
        wang.id,
    )
    assert row.note == "Checked the <b>minutes</b> book and the activity room"
    assert row.photo_ids is not None
    assert len(row.photo_ids) == 2
    [entry] = await audit_log(database, prefix="duty.")
    assert (entry.action, entry.actor_telegram_id, entry.target_id) == (
        "duty.visit",
        wang.id,
        wang_point,
    )
    # Save again (a double tap): the flow is over, nothing more is written.
    answer = await forge(wang, f"vis.s:{wang_point}")
    assert answer.text == gettext("en", STALE_BUTTON)
    assert len(await visits(database)) == 1


async def test_typed_days_must_be_in_the_year_and_not_ahead(
    person: Person, database: Database, clock: ManualClock
) -> None:
    _tree, wang, _li, _wp, _ = await leaders(database, person, clock)
    await say(wang, "/visit")
    assert (await say(wang, "someday")).text == "Please type the date like 2026-12-01."
    assert (await say(wang, "2026-03-05")).text == "A visit cannot be in the future."
    assert (await say(wang, "2025-12-30")).text == (
        "A visit on 2025-12-30 belongs to another year than this contact point."
    )
    ask = await say(wang, "2026年2月20日")
    assert (await say(wang, "长" * 1001)).text == "That is too long: at most 1000 characters."
    assert ask.text == "柳树村党支部, 2026-02-20. What did you check? Type a few words."
    await say(wang, "Talked with the secretary")
    saved = await tap(wang, "Save the visit")
    assert shown(saved).endswith("Visits this year: 1 of 2.")
    assert [v.visited_on for v in await visits(database)] == [date(2026, 2, 20)]


async def test_someone_elses_contact_point_is_refused(
    person: Person, database: Database, clock: ManualClock
) -> None:
    tree, wang, li, wang_point, li_point = await leaders(database, person, clock)
    await say(wang, "/visit")
    assert (await forge(wang, f"vis.c:{li_point}")).text == NOT_YOURS
    assert (await forge(wang, f"vis.d:{li_point}:20260302")).text == NOT_YOURS
    assert (await forge(wang, f"vis.d:{wang_point}:20260231")).text == gettext("en", STALE_BUTTON)
    assert (await forge(wang, f"vis.s:{li_point}")).text == gettext("en", STALE_BUTTON)
    # Even with a flow of his own under way, a save for another point is refused.
    await tap(wang, "Today 3-2")
    await say(wang, "checked")
    assert (await forge(wang, f"vis.s:{li_point}")).text == gettext("en", STALE_BUTTON)
    # Staff cannot log a visit for a leader either.
    staff = person("县委组织部", language="en")
    await grant(database, staff.id, Role.COUNTY_STAFF, tree.county)
    assert (await say(staff, "/visit")).text == "You have no contact point this year."
    assert (await forge(staff, f"vis.d:{li_point}:20260302")).text == NOT_YOURS
    assert await visits(database) == []
    assert await audit_log(database, prefix="duty.") == []
    # Li's own visit goes through.
    await say(li, "/visit")
    await tap(li, "Today 3-2")
    await say(li, "checked")
    assert shown(await tap(li, "Save the visit")).startswith("Visit saved: 前进村党支部")


async def test_23_30_on_31_december_counts_for_that_year(
    person: Person, database: Database, clock: ManualClock
) -> None:
    tree, wang, _li, wang_point, _ = await leaders(database, person, clock)
    await visit(database, wang_point, date(2026, 6, 1), clock.now())
    clock.set(at(2026, 12, 31, 23, 30))  # 15:30 UTC
    first = await say(wang, "/visit")
    assert shown(first).startswith("柳树村党支部: 1 of 2 visits this year.")
    assert buttons(first)[0] == "Today 12-31"
    await tap(wang, "Today 12-31")
    await say(wang, "Year-end check")
    saved = await tap(wang, "Save the visit")
    assert saved.text == "Visit saved: 柳树村党支部, 2026-12-31. Visits this year: 2 of 2."
    staff = person("县委组织部", language="en")
    await grant(database, staff.id, Role.COUNTY_STAFF, tree.county)
    duties_2026 = await say(staff, "/duties 2026")
    assert "• 王书记 → 柳树村党支部: 2 visits ✓" in shown(duties_2026)
    # An hour later it is 2027 in Shanghai (still 31 December in UTC): a new year begins.
    clock.set(at(2027, 1, 1, 0, 30))
    assert (await say(wang, "/visit")).text == "You have no contact point this year."
    assert "• none set" in shown(await say(staff, "/duties"))
