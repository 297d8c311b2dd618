"""Report periods as officers type them, and the tokens buttons carry."""

from __future__ import annotations

from datetime import date

import pytest

from bot.periods import Period, PeriodKind, parse_period, period_from_token

TODAY = date(2026, 3, 15)
Y, Q, M = PeriodKind.YEAR, PeriodKind.QUARTER, PeriodKind.MONTH


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("", Period(Y, 2026)),
        ("2026", Period(Y, 2026)),
        ("2025年", Period(Y, 2025)),
        ("今年", Period(Y, 2026)),
        ("去年", Period(Y, 2025)),
        ("this year", Period(Y, 2026)),
        ("Last Year", Period(Y, 2025)),
        ("2026年3月", Period(M, 2026, 3)),
        ("２０２６年３月", Period(M, 2026, 3)),  # full-width digits from a Chinese keyboard
        ("2026-03", Period(M, 2026, 3)),
        ("2025/12", Period(M, 2025, 12)),
        ("3月", Period(M, 2026, 3)),
        ("本月", Period(M, 2026, 3)),
        ("上月", Period(M, 2026, 2)),
        ("上个月", Period(M, 2026, 2)),
        ("this month", Period(M, 2026, 3)),
        ("last month", Period(M, 2026, 2)),
        ("March 2026", Period(M, 2026, 3)),
        ("2025 dec", Period(M, 2025, 12)),
        ("本季度", Period(Q, 2026, 1)),
        ("上季度", Period(Q, 2025, 4)),  # across the new year
        ("last quarter", Period(Q, 2025, 4)),
        ("2026年第二季度", Period(Q, 2026, 2)),
        ("2026年第3季度", Period(Q, 2026, 3)),
        ("第4季度", Period(Q, 2026, 4)),
        ("2026Q1", Period(Q, 2026, 1)),
        ("Q2 2026", Period(Q, 2026, 2)),
        ("q3", Period(Q, 2026, 3)),
    ],
)
def test_typed_periods(typed: str, expected: Period) -> None:
    assert parse_period(typed, today=TODAY) == expected


@pytest.mark.parametrize(
    "typed", ["2026-13", "13月", "1999", "2026年第5季度", "Q0 2026", "明年吧", "2026Q1 2027", "x"]
)
def test_what_is_not_a_period(typed: str) -> None:
    assert parse_period(typed, today=TODAY) is None


@pytest.mark.parametrize(
    ("period", "start", "end", "token", "zh", "en"),
    [
        (Period(Y, 2026), date(2026, 1, 1), date(2027, 1, 1), "y2026", "2026年", "the year 2026"),
        (Period(Q, 2025, 4), date(2025, 10, 1), date(2026, 1, 1), "q2025_04", "2025年第4季度",
         "Q4 2025"),
        (Period(M, 2025, 12), date(2025, 12, 1), date(2026, 1, 1), "m2025_12", "2025年12月",
         "12/2025"),
    ],
)  # fmt: skip
def test_bounds_tokens_and_labels(
    period: Period, start: date, end: date, token: str, zh: str, en: str
) -> None:
    assert (period.start, period.end, period.token) == (start, end, token)
    assert (period.label("zh"), period.label("en")) == (zh, en)
    assert period_from_token(token) == period


@pytest.mark.parametrize("token", ["y20x6", "q2026_05", "m2026_13", "m2026_3", "y1999", "all", ""])
def test_forged_tokens(token: str) -> None:
    assert period_from_token(token) is None


def test_previous_periods_roll_over_the_year() -> None:
    assert Period(M, 2026, 1).previous() == Period(M, 2025, 12)
    assert Period(Q, 2026, 1).previous() == Period(Q, 2025, 4)
    assert Period(Y, 2026).previous() == Period(Y, 2025)
