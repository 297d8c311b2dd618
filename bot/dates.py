"""Dates and times as people type them and as people read them.

Secretaries type "12月3日 19:30", "明天 19:30" or "周五 晚上7点半", not ISO 8601. Parsing
is relative to the injected clock and happens in the people's zone (Asia/Shanghai);
the result is an aware UTC datetime for the database. Formatting goes the other way with
a CLDR pattern that is itself translated, so each language reads its own style.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from bot.i18n import N_, gettext
from bot.numbers import normalise_digits

__all__ = [
    "format_time",
    "format_when",
    "local_date",
    "parse_when",
    "to_utc",
]

_BABEL_LOCALE = {"zh": "zh_CN", "en": "en"}

_YMD = re.compile(r"^(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*[日号]?")
_MD = re.compile(r"^(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*[日号]?")
_RELATIVE_DAYS = {"今天": 0, "今日": 0, "明天": 1, "明日": 1, "后天": 2, "today": 0, "tomorrow": 1}
_RELATIVE = re.compile(r"^(?P<word>今天|今日|明天|明日|后天|today|tomorrow)")
_ZH_WEEKDAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_ZH_WEEKDAY.update({str(n): n - 1 for n in range(1, 8)})
_WEEKDAY_ZH = re.compile(r"^(?P<which>下|这|本)?\s*(?:周|星期|礼拜)(?P<day>[一二三四五六日天1-7])")
_EN_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAY_EN = re.compile(
    r"^(?P<which>next\s+)?(?P<day>mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?", re.IGNORECASE
)
_TIME = re.compile(
    r"^(?P<period>上午|早上|早晨|中午|下午|傍晚|晚上)?\s*(?P<h>\d{1,2})"
    r"(?::(?P<m>\d{2})|[点时](?:(?P<m2>\d{1,2})分?|(?P<half>半))?)\s*(?P<ampm>am|pm)?$",
    re.IGNORECASE,
)
_AFTERNOON = {"下午", "傍晚", "晚上", "pm"}


def to_utc(moment: datetime) -> datetime:
    """An aware datetime in UTC (the database's zone)."""
    return moment.astimezone(UTC)


def local_date(moment: datetime, tz: ZoneInfo) -> date:
    """The calendar day a moment falls on for people in ``tz``."""
    return moment.astimezone(tz).date()


def parse_when(text: str, *, now: datetime, tz: ZoneInfo) -> datetime | None:
    """The moment a person meant, in UTC, or None if the text is not a date and time.

    Accepted: ``2026-12-03 19:30``, ``12-03 19:30``, ``12月3日 19:30``, ``明天 19:30``,
    ``周五 19:30``, ``下周五 晚上7点半``, ``tomorrow 7:30pm``. A month and day without a
    year that is already behind us means next year; a weekday means the next such day
    (today included). Whether the moment is in the future is for the caller to judge.
    """
    cleaned = " ".join(normalise_digits(text).strip().split())
    today = local_date(now, tz)
    parsed = _parse_day(cleaned, today)
    if parsed is None:
        return None
    day, rest = parsed
    clock = _parse_time(rest.strip())
    if clock is None:
        return None
    return to_utc(datetime.combine(day, clock, tzinfo=tz))


def _parse_day(text: str, today: date) -> tuple[date, str] | None:
    """The day at the start of ``text`` and what follows it."""
    if match := _YMD.match(text):
        day = _safe_date(int(match["y"]), int(match["m"]), int(match["d"]))
    elif match := _MD.match(text):
        day = _safe_date(today.year, int(match["m"]), int(match["d"]))
        if day is not None and day < today:
            day = _safe_date(today.year + 1, int(match["m"]), int(match["d"]))
    elif match := _RELATIVE.match(text):
        day = today + timedelta(days=_RELATIVE_DAYS[match["word"].lower()])
    elif match := _WEEKDAY_ZH.match(text):
        day = _weekday(today, _ZH_WEEKDAY[match["day"]], match["which"])
    elif match := _WEEKDAY_EN.match(text):
        which = "下" if match["which"] else None
        day = _weekday(today, _EN_WEEKDAYS.index(match["day"].lower()), which)
    else:
        return None
    if day is None:
        return None
    return day, text[match.end() :]


def _weekday(today: date, weekday: int, which: str | None) -> date:
    """周五 is the next Friday (today included); 下周五 the Friday of next week."""
    if which == "下":
        monday = today - timedelta(days=today.weekday())
        return monday + timedelta(days=7 + weekday)
    if which in ("这", "本"):
        return today - timedelta(days=today.weekday()) + timedelta(days=weekday)
    return today + timedelta(days=(weekday - today.weekday()) % 7)


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _parse_time(text: str) -> time | None:
    """ "19:30", "19点30", "晚上7点半", "7:30pm"."""
    match = _TIME.match(text)
    if match is None:
        return None
    hour = int(match["h"])
    minute = 30 if match["half"] else int(match["m"] or match["m2"] or 0)
    period = match["period"] or (match["ampm"] or "").lower()
    if (period in _AFTERNOON and hour < 12) or (period == "中午" and hour < 11):
        hour += 12
    elif period == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


# CLDR patterns, translated per language ("EEE" is the short weekday, "MMM" the month).
_PATTERN_SAME_YEAR = N_("EEE d MMM HH:mm")
_PATTERN_OTHER_YEAR = N_("EEE d MMM y HH:mm")
_PATTERN_TIME = "HH:mm"


def _format(moment: datetime, pattern: str, language: str, tz: ZoneInfo) -> str:
    return format_datetime(
        moment.astimezone(tz),
        gettext(language, pattern),
        locale=_BABEL_LOCALE.get(language, "zh_CN"),
    )


def format_when(
    moment: datetime, *, language: str, tz: ZoneInfo, now: datetime | None = None
) -> str:
    """ "3月5日（周四）19:30" / "Thu 5 Mar 19:30"; the year only when it is not this year."""
    same_year = now is None or local_date(now, tz).year == local_date(moment, tz).year
    pattern = _PATTERN_SAME_YEAR if same_year else _PATTERN_OTHER_YEAR
    return _format(moment, pattern, language, tz)


def format_time(moment: datetime, *, tz: ZoneInfo) -> str:
    """ "19:30" in the people's zone."""
    return format_datetime(moment.astimezone(tz), _PATTERN_TIME, locale="en")
