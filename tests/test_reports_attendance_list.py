"""/attendance for officers: past sessions first, the branch on every button, pages, periods."""

from __future__ import annotations

from collections.abc import Callable

from bot.app import PartyApplication
from bot.clock import ManualClock
from sandbox import SimUser
from storage import Database
from tests.support.conversation import say, tap
from tests.support.reports import NOW, build_county

Person = Callable[..., SimUser]


def _sessions(buttons: list[list[str]]) -> list[str]:
    """The session buttons (one per row) without the page arrows and period filters."""
    return [row[0] for row in buttons if len(row) == 1 and row[0] not in ("◀", "▶")]


def _where(labels: list[str]) -> list[str]:
    """ "东风村党支部 · 支部党员大会" from each label (after the date and time)."""
    parts = [label.split(" · ") for label in labels]
    return [f"{when_org.rsplit(' ', 1)[-1]} · {kind}" for when_org, kind, *_ in parts]


async def test_past_sessions_first_with_the_branch_paged(
    database: Database, clock: ManualClock, person: Person, bot_app: PartyApplication
) -> None:
    clock.set(NOW)
    county = await build_county(database, person)
    staff = county.staff
    first = await say(staff, "/attendance")
    assert first.text == "组织生活（全部），已开的在前。第1/3页。"
    assert first.buttons[-2:] == [["▶"], ["本月", "上月", "本季度", "今年", "• 全部"]]
    assert _where(_sessions(first.buttons)) == [
        "东风村党支部 · 支部党员大会",
        "东风村党支部 · 主题党日",
        "前进村党支部 · 主题党日",
        "前进村党支部 · 党课",
        "东风村党支部 · 支委会",
        "前进村党支部 · 支委会",
        "前进村党支部 · 支部党员大会",
        "前进村党支部 · 主题党日",
    ]
    second = await tap(staff, "▶")
    assert second.text == "组织生活（全部），已开的在前。第2/3页。"
    assert second.buttons[-2] == ["◀", "▶"]
    assert _where(_sessions(second.buttons))[0] == "柳树村党支部 · 党课"
    assert "东风镇党委 · 专题学习" in _where(_sessions(second.buttons))
    third = await tap(staff, "▶")
    # The oldest past ones, then the one still ahead (前进村's April committee meeting).
    assert _where(_sessions(third.buttons)) == [
        "柳树村党支部 · 支委会",
        "柳树村党支部 · 支委会",
        "前进村党支部 · 支委会",
    ]
    assert third.buttons[-2] == ["◀"]
    opened = await tap(staff, _sessions(third.buttons)[1])  # 柳树村, December 2025
    assert opened.text is not None
    assert "缺席（1）：孙七" in opened.text


async def test_the_period_filter_typed_or_tapped(
    database: Database, clock: ManualClock, person: Person, bot_app: PartyApplication
) -> None:
    clock.set(NOW)
    county = await build_county(database, person)
    staff = county.staff
    january = await say(staff, "/attendance 2026年1月")
    assert january.text == "组织生活（2026年1月），已开的在前。第1/1页。"
    assert _where(_sessions(january.buttons)) == [
        "东风村党支部 · 主题党日",
        "前进村党支部 · 主题党日",
        "东风村党支部 · 支委会",
        "前进村党支部 · 支委会",
        "柳树村党支部 · 支委会",
    ]
    march = await tap(staff, "上月")
    assert march.text == "组织生活（2026年3月），已开的在前。第1/1页。"
    assert len(_sessions(march.buttons)) == 6
    assert march.buttons[-1] == ["本月", "• 上月", "本季度", "今年", "全部"]
    april = await tap(staff, "本月")
    assert _where(_sessions(april.buttons)) == ["前进村党支部 · 支委会"]
    wrong = await say(staff, "/attendance 明天")
    assert wrong.text == (
        "没看懂这个时间段。例如：/attendance 2026年3月、/attendance 本月、/attendance 上季度。"
    )


async def test_a_secretary_lists_only_her_branch(
    database: Database, clock: ManualClock, person: Person, bot_app: PartyApplication
) -> None:
    clock.set(NOW)
    county = await build_county(database, person)
    listed = await say(county.secretary, "/attendance")
    assert listed.text == "组织生活（全部），已开的在前。第1/1页。"
    assert {where.split(" · ")[0] for where in _where(_sessions(listed.buttons))} == {
        "东风村党支部"
    }
    assert len(_sessions(listed.buttons)) == 6
    assert listed.buttons[-1] == ["本月", "上月", "本季度", "今年", "• 全部"]
