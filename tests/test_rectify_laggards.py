"""/laggards through the emulator on the fixture county (tests/support/reports.py): the
branches below target with their reasons, scoped to the staff member's unit, from the
same figures as /summary; who may not list them is refused."""

from __future__ import annotations

from collections.abc import Callable

from bot.clock import ManualClock
from sandbox import SimUser
from storage import Database
from tests.support.conversation import say
from tests.support.reports import NOW, build_county
from tests.support.roles import buttons

Person = Callable[..., SimUser]


async def test_county_staff_see_every_laggard_branch_with_its_reasons(
    database: Database, clock: ManualClock, person: Person
) -> None:
    clock.set(NOW)
    county = await build_county(database, person)
    answer = await say(county.staff, "/laggards")
    print(answer.text)
    print(buttons(answer))
    township = await say(county.organiser, "/laggards 2026年第1季度")
    print(township.text)
    print(buttons(township))
    print((await say(county.secretary, "/laggards")).text)
    assert False
