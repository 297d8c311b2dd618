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

from babel.dates import format_date, format_datetime

from bot.i18n import N_, gettext
from bot.numbers import normalise_digits

__all__ = [
    "date_examples",
    "format_calendar_day",
    "format_day",
    "format_time",
    "format_when",
    "local_date",
    "parse_day",
    "parse_time_on",
    "parse_when",
    "to_utc",
]

_BABEL_LOCALE = {"zh": "zh_CN", "en": "en"}

_YMD = re.compile(r"^(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*[日号]?")
_MD = re.compile(r"^(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*[日号]?")
# The weekday the bot itself prints after a date ("12月10日（周四）"): read and ignored.
# A weekday that is not the date's own is a slip in one of the two: the text is refused.
_SHOWN_WEEKDAY = re.compile(r"^\s*\(?\s*(?:周|星期)(?P<day>[一二三四五六日天])\s*\)?")
# "今晚" is today in the evening: a time typed after it without 上午/下午 is p.m.
_RELATIVE_DAYS = {
    "今天": (0, None),
    "今日": (0, None),
    "今晚": (0, "晚上"),
    "明天": (1, None),
    "明日": (1, None),
    "明晚": (1, "晚上"),
    "明早": (1, "早上"),
    "后天": (2, None),
    "today": (0, None),
    "tonight": (0, "pm"),
    "tomorrow": (1, None),
}
_RELATIVE = re.compile(
    r"^(?P<word>今天|今日|今晚|明天|明日|明晚|明早|后天|today|tonight|tomorrow)", re.IGNORECASE
)
_ZH_WEEKDAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_ZH_WEEKDAY.update({str(n): n - 1 for n in range(1, 8)})
_WEEKDAY_ZH = re.compile(r"^(?P<which>下|这|本)?\s*(?:周|星期|礼拜)(?P<day>[一二三四五六日天1-7])")
_EN_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_EN_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_WEEKDAY_EN = re.compile(
    r"^(?P<which>next\s+)?(?P<day>mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?", re.IGNORECASE
)
# "10 Dec", "Thu 10 Dec", "Tue 5 Jan 2027" (the bot's English display form).
_DAY_MONTH_EN = re.compile(
    r"^(?:(?P<wd>mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?(?P<d>\d{1,2})\s+"
    r"(?P<m>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?(?:\s+(?P<y>\d{4}))?",
    re.IGNORECASE,
)
_PERIOD = r"凌晨|上午|早上|早晨|中午|下午|傍晚|晚上"
_TIME = re.compile(
    rf"^(?P<period>{_PERIOD})?\s*(?P<h>\d{{1,2}})"
    r"(?::(?P<m>\d{2})|[点时](?:(?P<m2>\d{1,2})分?|(?P<half>半)|整)?)?\s*(?P<ampm>am|pm)?$",
    re.IGNORECASE,
)
_AFTERNOON = {"下午", "傍晚", "晚上", "pm"}


def to_utc(moment: datetime) -> datetime:
    """An aware datetime in UTC (the database's zone)."""
    return moment.astimezone(UTC)


def local_date(moment: datetime, tz: ZoneInfo) -> date:
    """The calendar day a moment falls on for people in ``tz``."""
    return moment.astimezone(tz).date()


def _clean(text: str) -> str:
    return " ".join(normalise_digits(text).strip().split())


def parse_when(text: str, *, now: datetime, tz: ZoneInfo) -> datetime | None:
    """The moment a person meant, in UTC, or None if the text is not a date and time.

    Accepted: ``2026-12-03 19:30``, ``12-03 19:30``, ``12月3日 19:30``, the bot's own
    ``12月10日（周四）15:00``, ``明天 19:30``, ``明晚7点半``, ``今晚8点``, ``周五 19:30``,
    ``下周三上午9点``, ``10 Dec 15:00``, ``Thu 10 Dec 15:00``, ``tomorrow 7:30pm``; and a
    time alone (``晚上8点``, ``20:00``): today, or tomorrow if that is already past. A month
    and day without a year that is already behind us means next year; a weekday means the
    next such day (today included). Whether the moment is in the future is for the caller.
    """
    cleaned = _clean(text)
    today = local_date(now, tz)
    parsed = _parse_day(cleaned, today)
    if parsed is None:
        clock = _parse_time(cleaned, None)
        if clock is None:
            return None
        moment = datetime.combine(today, clock, tzinfo=tz)
        if moment <= now:
            moment = datetime.combine(today + timedelta(days=1), clock, tzinfo=tz)
        return to_utc(moment)
    day, rest, period = parsed
    clock = _parse_time(rest.strip(), period)
    if clock is None:
        return None
    return to_utc(datetime.combine(day, clock, tzinfo=tz))


def parse_day(text: str, *, now: datetime, tz: ZoneInfo) -> date | None:
    """A day typed without a time ("明天", "周五", "12月10日"): ask only for the time then."""
    parsed = _parse_day(_clean(text), local_date(now, tz))
    if parsed is None or parsed[1].strip():
        return None
    return parsed[0]


def parse_time_on(text: str, *, day: date, tz: ZoneInfo) -> datetime | None:
    """A time typed for a day already known ("19:30", "晚上7点半"), in UTC."""
    clock = _parse_time(_clean(text), None)
    return None if clock is None else to_utc(datetime.combine(day, clock, tzinfo=tz))


def _parse_day(text: str, today: date) -> tuple[date, str, str | None] | None:
    """The day at the start of ``text``, what follows it, and the period it implies."""
    period = None
    if match := _YMD.match(text):
        day = _safe_date(int(match["y"]), int(match["m"]), int(match["d"]))
    elif match := _MD.match(text):
        day = _month_day(today, int(match["m"]), int(match["d"]))
    elif match := _DAY_MONTH_EN.match(text):
        month = _EN_MONTHS.index(match["m"].lower()) + 1
        if match["y"]:
            day = _safe_date(int(match["y"]), month, int(match["d"]))
        else:
            day = _month_day(today, month, int(match["d"]))
        if day is not None and match["wd"] and day.weekday() != _weekday_of(match["wd"]):
            return None
    elif match := _RELATIVE.match(text):
        offset, period = _RELATIVE_DAYS[match["word"].lower()]
        day = today + timedelta(days=offset)
    elif match := _WEEKDAY_ZH.match(text):
        day = _weekday(today, _ZH_WEEKDAY[match["day"]], match["which"])
    elif match := _WEEKDAY_EN.match(text):
        which = "下" if match["which"] else None
        day = _weekday(today, _EN_WEEKDAYS.index(match["day"].lower()), which)
    else:
        return None
    if day is None:
        return None
    rest = text[match.end() :]
    if shown := _SHOWN_WEEKDAY.match(rest):
        if day.weekday() != _ZH_WEEKDAY[shown["day"]]:
            return None
        rest = rest[shown.end() :]
    return day, rest, period


def _weekday_of(name: str) -> int:
    return _EN_WEEKDAYS.index(name[:3].lower())


def _month_day(today: date, month: int, day: int) -> date | None:
    """A month and day without a year: this year, or next year if already behind us."""
    found = _safe_date(today.year, month, day)
    if found is not None and found < today:
        return _safe_date(today.year + 1, month, day)
    return found


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


def _parse_time(text: str, implied: str | None) -> time | None:
    """ "19:30", "19点30", "晚上7点半", "7:30pm", "8点"; ``implied`` is the period a word
    like 今晚 gave ("晚上"), used when the time names none."""
    match = _TIME.match(text)
    if match is None or not (match["m"] or "点" in text or "时" in text or match["ampm"]):
        return None  # a bare number ("8") is not a time
    hour = int(match["h"])
    minute = 30 if match["half"] else int(match["m"] or match["m2"] or 0)
    period = match["period"] or (match["ampm"] or "").lower() or implied or ""
    if period in ("晚上", "傍晚") and hour == 12:
        return None  # midnight, which belongs to the next day: ask rather than guess noon
    if period == "凌晨" and not 0 <= hour <= 6:
        return None  # 凌晨 is the small hours: "凌晨12点" or "凌晨8点" is a slip, so ask
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
_PATTERN_DAY = N_("EEE d MMM")
_PATTERN_CALENDAR_DAY = N_("y-MM-dd")


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


def format_day(day: date, *, language: str, tz: ZoneInfo) -> str:
    """ "12月10日（周四）" / "Thu 10 Dec": a day without a time."""
    return _format(datetime.combine(day, time(12), tzinfo=tz), _PATTERN_DAY, language, tz)


def format_calendar_day(day: date, *, language: str) -> str:
    """ "2025年3月1日" / "2025-03-01": a date with its year (joined, deadlines, since)."""
    return format_date(
        day, gettext(language, _PATTERN_CALENDAR_DAY), locale=_BABEL_LOCALE.get(language, "zh_CN")
    )


def format_time(moment: datetime, *, tz: ZoneInfo) -> str:
    """ "19:30" in the people's zone."""
    return format_datetime(moment.astimezone(tz), _PATTERN_TIME, locale="en")


# Typed forms shown as examples; each language shows its own (always in the future).
_EXAMPLE_TOMORROW = N_("tomorrow 7:30pm")
_EXAMPLE_NEXT_WEEK = N_("next Wed 9:00")


def date_examples(*, language: str, now: datetime, tz: ZoneInfo) -> str:
    """Three ways to type a date, all in the future: the bot's own display form (two days
    ahead at 19:30), "tomorrow evening" and "next week" in the reader's language."""
    ahead = datetime.combine(local_date(now, tz) + timedelta(days=2), time(19, 30), tzinfo=tz)
    return "\n".join(
        [
            format_when(ahead, language=language, tz=tz, now=now),
            gettext(language, _EXAMPLE_TOMORROW),
            gettext(language, _EXAMPLE_NEXT_WEEK),
        ]
    )
