"""Report periods as officers type them: a year, a quarter or a month.

Staff type ``2026``, ``2026年3月``, ``上季度`` or ``last quarter`` after /summary, /export
and /attendance; buttons carry a short token (``y2026``, ``q2026_1``, ``m2026_03``) so a
drill-down keeps its period. A period is a half-open range of calendar days in the
people's zone, ``[start, end)``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.session_text import period_label

__all__ = ["Period", "PeriodKind", "parse_period", "period_from_token"]

MIN_YEAR = 2000
MAX_YEAR = 2100


class PeriodKind(StrEnum):
    YEAR = "y"
    QUARTER = "q"
    MONTH = "m"


_MONTHS = {PeriodKind.YEAR: 12, PeriodKind.QUARTER: 3, PeriodKind.MONTH: 1}


@dataclass(frozen=True, slots=True)
class Period:
    """A calendar year, quarter (number 1-4) or month (number 1-12)."""

    kind: PeriodKind
    year: int
    number: int = 0

    @property
    def start(self) -> date:
        if self.kind == PeriodKind.YEAR:
            return date(self.year, 1, 1)
        first = self.number if self.kind == PeriodKind.MONTH else (self.number - 1) * 3 + 1
        return date(self.year, first, 1)

    @property
    def end(self) -> date:
        """The first day after the period."""
        index = self.start.year * 12 + self.start.month - 1 + _MONTHS[self.kind]
        return date(index // 12, index % 12 + 1, 1)

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """The period as aware moments ``[start, end)`` (compare with UTC columns)."""
        return (
            datetime.combine(self.start, time(0), tzinfo=tz),
            datetime.combine(self.end, time(0), tzinfo=tz),
        )

    @property
    def token(self) -> str:
        """Short and callback-safe: ``y2026``, ``q2026_1``, ``m2026_03``."""
        if self.kind == PeriodKind.YEAR:
            return f"y{self.year}"
        return f"{self.kind.value}{self.year}_{self.number:02d}"

    def label(self, language: str) -> str:
        """ "2026年", "2026年第1季度", "2026年3月" (the ladder's own period words)."""
        return period_label(_MONTHS[self.kind], self.start, language)

    @classmethod
    def year_of(cls, day: date) -> Period:
        return cls(PeriodKind.YEAR, day.year)

    @classmethod
    def quarter_of(cls, day: date) -> Period:
        return cls(PeriodKind.QUARTER, day.year, (day.month - 1) // 3 + 1)

    @classmethod
    def month_of(cls, day: date) -> Period:
        return cls(PeriodKind.MONTH, day.year, day.month)

    def previous(self) -> Period:
        """The period of the same kind just before this one."""
        if self.kind == PeriodKind.YEAR:
            return Period(PeriodKind.YEAR, self.year - 1)
        count = 12 if self.kind == PeriodKind.MONTH else 4
        index = self.year * count + self.number - 2
        return Period(self.kind, index // count, index % count + 1)


_TOKEN = re.compile(r"^(?:y(?P<y>\d{4})|(?P<k>[qm])(?P<ky>\d{4})_(?P<n>\d{2}))$")
_ZH_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4}
_EN_MONTHS = (
    "jan",
    "feb",
    "mar",
    "apr",
    "may",
    "jun",
    "jul",
    "aug",
    "sep",
    "oct",
    "nov",
    "dec",
)
_RELATIVE = {
    ("今年", "本年", "this year"): (PeriodKind.YEAR, 0),
    ("去年", "上年", "last year"): (PeriodKind.YEAR, 1),
    ("本季度", "本季", "这个季度", "this quarter"): (PeriodKind.QUARTER, 0),
    ("上季度", "上季", "上个季度", "last quarter"): (PeriodKind.QUARTER, 1),
    ("本月", "这个月", "this month"): (PeriodKind.MONTH, 0),
    ("上月", "上个月", "last month"): (PeriodKind.MONTH, 1),
}
_YEAR = re.compile(r"^(?P<y>\d{4})\s*年?$")
_YEAR_MONTH = re.compile(r"^(?P<y>\d{4})\s*(?:年|-|/|\.)\s*(?P<m>\d{1,2})\s*月?$")
_MONTH = re.compile(r"^(?P<m>\d{1,2})\s*月$")
_ZH_QUARTER = re.compile(r"^(?:(?P<y>\d{4})\s*年?)?\s*第?\s*(?P<q>[1-4一二三四])\s*季度?$")
_EN_QUARTER = re.compile(r"^(?:(?P<y1>\d{4})\s*-?\s*)?q(?P<q>[1-4])(?:\s+(?P<y2>\d{4}))?$")
_EN_MONTH = re.compile(
    r"^(?:(?P<m1>[a-z]{3,9})\.?\s+(?P<y1>\d{4})|(?P<y2>\d{4})\s+(?P<m2>[a-z]{3,9})\.?)$"
)


def period_from_token(token: str) -> Period | None:
    """The period a button carries, or None if the token is not one of ours."""
    match = _TOKEN.match(token)
    if match is None:
        return None
    if match["y"]:
        return _checked(PeriodKind.YEAR, int(match["y"]), 0)
    return _checked(PeriodKind(match["k"]), int(match["ky"]), int(match["n"]))


def parse_period(text: str, *, today: date) -> Period | None:
    """The period someone typed (empty: this year), or None if it is not a period.

    Accepted: ``2026``, ``2026年``, ``2026年3月``, ``2026-03``, ``3月`` (this year),
    ``2026年第1季度``, ``2026Q1``, ``Q1 2026``, ``March 2026``, and 今年 / 去年 / 本季度 /
    上季度 / 本月 / 上月 with their English forms (this year, last quarter, ...).
    """
    cleaned = " ".join(unicodedata.normalize("NFKC", text).strip().lower().split())
    if not cleaned:
        return Period.year_of(today)
    for words, (kind, back) in _RELATIVE.items():
        if cleaned in words:
            current = {
                PeriodKind.YEAR: Period.year_of,
                PeriodKind.QUARTER: Period.quarter_of,
                PeriodKind.MONTH: Period.month_of,
            }[kind](today)
            return current.previous() if back else current
    return _absolute(cleaned, today)


def _absolute(cleaned: str, today: date) -> Period | None:
    if match := _YEAR.match(cleaned):
        return _checked(PeriodKind.YEAR, int(match["y"]), 0)
    if match := _YEAR_MONTH.match(cleaned):
        return _checked(PeriodKind.MONTH, int(match["y"]), int(match["m"]))
    if match := _MONTH.match(cleaned):
        return _checked(PeriodKind.MONTH, today.year, int(match["m"]))
    if match := _ZH_QUARTER.match(cleaned):
        quarter = _ZH_DIGITS.get(match["q"]) or int(match["q"])
        return _checked(PeriodKind.QUARTER, int(match["y"] or today.year), quarter)
    if match := _EN_QUARTER.match(cleaned):
        if match["y1"] and match["y2"]:
            return None
        year = match["y1"] or match["y2"] or str(today.year)
        return _checked(PeriodKind.QUARTER, int(year), int(match["q"]))
    if match := _EN_MONTH.match(cleaned):
        name = match["m1"] or match["m2"]
        year = int(match["y1"] or match["y2"])
        found = [n for n, short in enumerate(_EN_MONTHS, 1) if name.startswith(short)]
        return _checked(PeriodKind.MONTH, year, found[0]) if found else None
    return None


def _checked(kind: PeriodKind, year: int, number: int) -> Period | None:
    """The period if its numbers make sense (a real month or quarter, a sane year)."""
    highest = {PeriodKind.YEAR: 0, PeriodKind.QUARTER: 4, PeriodKind.MONTH: 12}[kind]
    lowest = 0 if kind == PeriodKind.YEAR else 1
    if not (MIN_YEAR <= year <= MAX_YEAR and lowest <= number <= highest):
        return None
    return Period(kind, year, number)
