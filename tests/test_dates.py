"""Dates as people type them (relative to the injected clock, Asia/Shanghai) and as they read."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.dates import (
    date_examples,
    format_day,
    format_time,
    format_when,
    parse_day,
    parse_time_on,
    parse_when,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Monday 2 March 2026, 09:00 in Shanghai (the tests' clock).
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI).astimezone(UTC)


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2026-12-03 19:30", local(2026, 12, 3, 19, 30)),
        ("2026/12/3 19:30", local(2026, 12, 3, 19, 30)),
        ("2026年12月3日 19:30", local(2026, 12, 3, 19, 30)),
        ("12-03 19:30", local(2026, 12, 3, 19, 30)),
        ("12月3日 19:30", local(2026, 12, 3, 19, 30)),
        ("12月3号19:30", local(2026, 12, 3, 19, 30)),
        ("１２月３日　１９：３０", local(2026, 12, 3, 19, 30)),  # full-width, as IMEs type
        ("明天 19:30", local(2026, 3, 3, 19, 30)),
        ("今天 20:00", local(2026, 3, 2, 20, 0)),
        ("后天 8:05", local(2026, 3, 4, 8, 5)),
        ("周五 19:30", local(2026, 3, 6, 19, 30)),
        ("星期一 19:30", local(2026, 3, 2, 19, 30)),  # today is Monday: today
        ("礼拜天 9:00", local(2026, 3, 8, 9, 0)),
        ("下周五 19:30", local(2026, 3, 13, 19, 30)),
        ("明天 晚上7点半", local(2026, 3, 3, 19, 30)),
        ("明天 下午3点", local(2026, 3, 3, 15, 0)),
        ("明天 上午9点15分", local(2026, 3, 3, 9, 15)),
        ("明天 中午12点", local(2026, 3, 3, 12, 0)),
        ("tomorrow 7:30pm", local(2026, 3, 3, 19, 30)),
        ("Fri 19:30", local(2026, 3, 6, 19, 30)),
        ("01-05 19:30", local(2027, 1, 5, 19, 30)),  # already behind us this year
        # Forms people type on a phone, and the bot's own display forms typed back.
        ("明晚7点半", local(2026, 3, 3, 19, 30)),
        ("明晚７点半", local(2026, 3, 3, 19, 30)),
        ("今晚8点", local(2026, 3, 2, 20, 0)),
        ("晚上8点", local(2026, 3, 2, 20, 0)),  # later today
        ("8:00", local(2026, 3, 3, 8, 0)),  # already past today: tomorrow
        ("19:30", local(2026, 3, 2, 19, 30)),
        ("下周三上午9点", local(2026, 3, 11, 9, 0)),
        ("12月10日（周四）15:00", local(2026, 12, 10, 15, 0)),
        ("2027年1月5日（周二）08:00", local(2027, 1, 5, 8, 0)),
        ("10 Dec 15:00", local(2026, 12, 10, 15, 0)),
        ("Thu 10 Dec 15:00", local(2026, 12, 10, 15, 0)),
        ("Tue 5 Jan 2027 08:00", local(2027, 1, 5, 8, 0)),
        ("tonight 8pm", local(2026, 3, 2, 20, 0)),
        ("next Wed 9:00", local(2026, 3, 11, 9, 0)),
        ("明晚8点整", local(2026, 3, 3, 20, 0)),  # 整: "on the hour"
        ("12月3日 下午3点整", local(2026, 12, 3, 15, 0)),
        ("12pm", local(2026, 3, 2, 12, 0)),
        # 凌晨: the small hours, as a day's own hour (明天凌晨1点 is 01:00 tomorrow).
        ("明天凌晨1点", local(2026, 3, 3, 1, 0)),
        ("3月5日 凌晨5点半", local(2026, 3, 5, 5, 30)),
        ("凌晨0点", local(2026, 3, 3, 0, 0)),  # already past today: tomorrow
    ],
)
def test_typed_forms(typed: str, expected: datetime) -> None:
    assert parse_when(typed, now=NOW, tz=SHANGHAI) == expected


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "下个月",
        "明天",
        "8",
        "明天 8",
        "2026-02-30 19:30",
        "13月1日 19:30",
        "明天 24:00",
        "周八 9:00",
        # 晚上12点 is midnight, the start of the next day: ask again rather than guess noon.
        "晚上12点",
        "明晚12点",
        # 凌晨 is before dawn: 凌晨12点 and 凌晨8点 are slips, asked again.
        "明天凌晨12点",
        "明天凌晨8点",
        # A weekday that is not the date's own: one of the two is a slip, so ask again.
        "12月10日（周一）15:00",
        "Mon 10 Dec 15:00",
    ],
)
def test_what_is_not_a_date_and_time(typed: str) -> None:
    assert parse_when(typed, now=NOW, tz=SHANGHAI) is None


def test_a_past_moment_is_parsed_and_left_to_the_caller() -> None:
    assert parse_when("今天 08:00", now=NOW, tz=SHANGHAI) == local(2026, 3, 2, 8, 0)


def test_results_are_utc() -> None:
    moment = parse_when("明天 07:00", now=NOW, tz=SHANGHAI)
    assert moment == datetime(2026, 3, 2, 23, 0, tzinfo=UTC)


def test_formatting_in_each_language() -> None:
    moment = local(2026, 3, 5, 19, 30)
    assert format_when(moment, language="zh", tz=SHANGHAI, now=NOW) == "3月5日（周四）19:30"
    assert format_when(moment, language="en", tz=SHANGHAI, now=NOW) == "Thu 5 Mar 19:30"
    later = local(2027, 1, 5, 8, 0)
    assert format_when(later, language="zh", tz=SHANGHAI, now=NOW) == "2027年1月5日（周二）08:00"
    assert format_when(later, language="en", tz=SHANGHAI, now=NOW) == "Tue 5 Jan 2027 08:00"
    assert format_time(moment, tz=SHANGHAI) == "19:30"


def test_a_time_alone_after_it_passed_today_is_tomorrow() -> None:
    evening = local(2026, 3, 2, 21, 0)
    assert parse_when("晚上8点", now=evening, tz=SHANGHAI) == local(2026, 3, 3, 20, 0)
    assert parse_when("今晚8点", now=evening, tz=SHANGHAI) == local(2026, 3, 2, 20, 0)  # past


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("明天", (2026, 3, 3)),
        ("周五", (2026, 3, 6)),
        ("12月10日", (2026, 12, 10)),
        ("明晚", (2026, 3, 3)),
    ],
)
def test_a_day_alone_asks_only_for_the_time(typed: str, day: tuple[int, int, int]) -> None:
    found = parse_day(typed, now=NOW, tz=SHANGHAI)
    assert found is not None
    assert (found.year, found.month, found.day) == day
    assert parse_when(typed, now=NOW, tz=SHANGHAI) is None
    assert parse_time_on("晚上7点半", day=found, tz=SHANGHAI) == local(*day, 19, 30)
    assert parse_day(f"{typed} 19:30", now=NOW, tz=SHANGHAI) is None


def test_examples_are_in_the_future_in_each_language() -> None:
    zh = date_examples(language="zh", now=NOW, tz=SHANGHAI)
    en = date_examples(language="en", now=NOW, tz=SHANGHAI)
    assert zh.splitlines() == ["3月4日（周三）19:30", "明晚7点半", "下周三上午9点"]
    assert en.splitlines() == ["Wed 4 Mar 19:30", "tomorrow 7:30pm", "next Wed 9:00"]
    for example in [*zh.splitlines(), *en.splitlines()]:
        moment = parse_when(example, now=NOW, tz=SHANGHAI)
        assert moment is not None
        assert moment > NOW
    assert format_day(date(2026, 3, 5), language="zh", tz=SHANGHAI) == "3月5日（周四）"
