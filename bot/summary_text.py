"""The county view as text: the headline figures, then each unit or member, worst first.

The text is Markup (bot/htmltext.py): only the heading is markup on purpose; org and
member names are plain text, escaped once when joined. Shares are shown rounded down, so
a figure shown at 90 % never hides one that misses a 90 % target.
"""

from __future__ import annotations

from bot.funds import FLOOR_YUAN
from bot.guidance import FLAG_LABELS
from bot.htmltext import Markup, bold, html_lines
from bot.i18n import N_, gettext
from bot.periods import Period
from bot.session_text import cadence_label, kind_label
from bot.sessions import CADENCE_MONTHS
from bot.shares import percent
from bot.summary import TARGETS, Check, Figure, Figures, Line, Summary
from bot.survey_text import result_lines
from storage.models import OrgKind
from storage.reports import By

__all__ = ["FIGURE_LABELS", "MESSAGE_LIMIT", "split_message", "summary_text"]

MESSAGE_LIMIT = 4000  # below Telegram's 4096, with room for a heading

FIGURE_LABELS: dict[Figure, str] = {
    Figure.ON_TELEGRAM: N_("On Telegram"),
    Figure.CADENCE: N_("Sessions on time"),
    Figure.ATTENDANCE: N_("Attendance"),
    Figure.MAKEUP: N_("Make-up study"),
    Figure.ACKS: N_("Notices read"),
    Figure.TRAINING: N_("Trainings completed"),
    Figure.FUNDS: N_("Training funds"),
    Figure.VISITS: N_("Contact visits"),
    Figure.HEARINGS: N_("Report hearings"),
    Figure.STUDIES: N_("Special studies"),
    Figure.FIVE_GOOD: N_("Five good"),
    Figure.FIVE_LEAD: N_("Five lead"),
}

_UNITS_HEADING = {
    OrgKind.COUNTY: N_("By township, worst first:"),
    OrgKind.TOWNSHIP: N_("By branch, worst first:"),
}


def _mark(check: Check) -> str:
    return "✅" if check.ok else "⚠️"


def _headline(check: Check, figures: Figures, summary: Summary, language: str) -> str:
    _ = lambda message: gettext(language, message)  # noqa: E731
    label = _(FIGURE_LABELS[check.figure])
    share = check.share
    if share is None:
        return _("{label}: nothing to judge yet").format(label=label)
    if check.figure == Figure.FUNDS and figures.funds is not None:
        return _("{label}: {amount} yuan a member in {year} {mark} target {floor} yuan").format(
            label=label,
            amount=f"{figures.funds.per_member_yuan:.2f}",
            year=Period.year_of(summary.period.start).label(language),
            mark=_mark(check),
            floor=FLOOR_YUAN,
        )
    if not check.final:
        return _(
            "{label}: {part}/{whole} ({percent}) so far, target {target} by the year's end"
        ).format(
            label=label,
            part=check.part,
            whole=check.whole,
            percent=percent(share),
            target=percent(TARGETS[check.figure]),
        )
    return share_line(check, language)


def share_line(check: Check, language: str) -> str:
    """ "五好：2/3（66%）✅ 目标 65%": a judged share against its target (also /assess)."""
    _ = lambda message: gettext(language, message)  # noqa: E731
    share = check.share
    if share is None:
        return _("{label}: nothing to judge yet").format(label=_(FIGURE_LABELS[check.figure]))
    return _("{label}: {part}/{whole} ({percent}) {mark} target {target}").format(
        label=_(FIGURE_LABELS[check.figure]),
        part=check.part,
        whole=check.whole,
        percent=percent(share),
        mark=_mark(check),
        target=percent(TARGETS[check.figure]),
    )


def _whole_lines(summary: Summary, language: str) -> list[str]:
    _ = lambda message: gettext(language, message)  # noqa: E731
    figures = summary.whole
    members = summary.by == By.MEMBER
    lines: list[str] = [
        Markup("📊 {} · {}").format(bold(summary.org.name), summary.period.label(language)),
    ]
    if summary.only is not None:
        lines.append(
            _(
                "🔎 Only {what} of {year}; leading groups are the committees' own, not narrowed"
            ).format(what=_(FLAG_LABELS[summary.only.flag]), year=summary.only.year)
        )
    lines.append(_("Members: {n}").format(n=figures.roster.members))
    for check in figures.checks():
        lines.append(_headline(check, figures, summary, language))
        if check.figure == Figure.CADENCE:
            lines += _cadence_lines(figures, language)
        if check.figure == Figure.TRAINING and figures.training is not None:
            lines.append(
                "   " + _("{hours} training hours completed").format(hours=figures.training.hours)
            )
        if check.figure == Figure.STUDIES and figures.leading is not None:
            lines.append(
                "   "
                + _("report hearings held {hearings}, special studies held {studies}").format(
                    hearings=figures.leading.hearings, studies=figures.leading.studies
                )
            )
        if check.figure == Figure.ATTENDANCE:
            lines.append(
                "   "
                + _("excused {excused}, absent without leave {absent}").format(
                    excused=figures.attendance.excused, absent=figures.attendance.absent
                )
            )
    if figures.five_good is None and not members:
        lines.append(_("{label}: not assessed yet").format(label=_(N_("Five good"))))
    if figures.five_lead is None:
        lines.append(_("{label}: not assessed yet").format(label=_(N_("Five lead"))))
    return lines


def _cadence_lines(figures: Figures, language: str) -> list[str]:
    """Each required kind: periods met of periods due, sessions held, its cadence."""
    _ = lambda message: gettext(language, message)  # noqa: E731
    lines = []
    for kind, (met, required, held) in figures.cadence.items():
        cadence = cadence_label(CADENCE_MONTHS[kind] or 12, language)
        if not required:
            pattern = N_("{kind}: {held} held, none due yet ({cadence})")
        else:
            pattern = N_("{kind}: {met}/{required} on time, {held} held ({cadence}){mark}")
        lines.append(
            "   "
            + _(pattern).format(
                kind=kind_label(kind, language),
                met=met,
                required=required,
                held=held,
                cadence=cadence,
                mark=" ✅" if met >= required else " ⚠️",
            )
        )
    return lines


def _unit_line(line: Line, language: str) -> str:
    _ = lambda message: gettext(language, message)  # noqa: E731
    parts = []
    for check in line.figures.checks(members=line.is_member):
        label = _(FIGURE_LABELS[check.figure])
        if check.share is None:
            parts.append(f"{label} -")
        elif check.figure == Figure.FUNDS and line.figures.funds is not None:
            amount = _("{amount} yuan").format(amount=f"{line.figures.funds.per_member_yuan:.2f}")
            parts.append(f"{label} {amount}{'' if check.ok else '⚠️'}")
        elif line.is_member:
            parts.append(f"{label} {check.part}/{check.whole}{'' if check.ok else '⚠️'}")
        else:
            parts.append(f"{label} {percent(check.share)}{'' if check.ok else '⚠️'}")
    if line.is_member and line.figures.five_lead and line.figures.five_lead.confirmed:
        parts.append(_("five lead ✓"))
    if line.is_member and not line.on_telegram:
        parts.append(_("not on Telegram"))
    head = f"⚠️{line.warnings}" if line.warnings else "✅"
    colon = "：" if language == "zh" else ": "
    return f"{head} {line.name}{colon}" + " · ".join(parts)


def summary_text(summary: Summary, language: str) -> Markup:
    """The whole summary (may be longer than one message: see `split_message`)."""
    lines = _whole_lines(summary, language)
    if summary.lines:
        heading = (
            N_("By member, worst first:")
            if summary.by == By.MEMBER
            else _UNITS_HEADING.get(summary.org.kind, N_("By unit, worst first:"))
        )
        lines += ["", gettext(language, heading)]
        lines += [_unit_line(line, language) for line in summary.lines]
    if summary.survey is not None:
        lines += ["", *result_lines(summary.survey, language)]
    return html_lines(lines)


def split_message(text: Markup, limit: int = MESSAGE_LIMIT) -> list[Markup]:
    """Cut a long text into messages below ``limit`` characters of HTML, at line ends."""
    parts: list[Markup] = []
    current: list[Markup] = []
    size = 0
    for line in text.split("\n"):
        while len(line) > limit:  # one overlong line: cut it (no line of ours is this long)
            if current:
                parts.append(html_lines(current))
                current, size = [], 0
            parts.append(Markup(line[:limit]))
            line = Markup(line[limit:])
        if current and size + 1 + len(line) > limit:
            parts.append(html_lines(current))
            current, size = [], 0
        size += len(line) + (1 if current else 0)
        current.append(Markup(line))
    if current or not parts:
        parts.append(html_lines(current))
    return parts
