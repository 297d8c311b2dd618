"""The summary's chart: attendance and sessions on time by unit (or member), with targets.

Matplotlib on the Agg backend (no display). Chinese labels need a CJK font, and a fresh
machine has none: the chart loads Noto Sans SC (SIL Open Font License) from the
``pylopdf-fonts-zh-cn`` package by its file path, so no system font is ever guessed.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from matplotlib import font_manager
from matplotlib.figure import Figure as MplFigure
from pylopdf_fonts_zh_cn import sans_path

from bot.i18n import gettext
from bot.summary import TARGETS, Figure, Summary
from bot.summary_text import FIGURE_LABELS

__all__ = ["CJK_FONT", "MAX_BARS", "chart_png", "draw_chart"]

CJK_FONT: Path = Path(sans_path())
MAX_BARS = 30  # the worst units or members; more would not be readable on a phone


@cache
def _font() -> font_manager.FontProperties:
    """The CJK font, registered once and named by its file (never a system lookup)."""
    font_manager.fontManager.addfont(str(CJK_FONT))
    return font_manager.FontProperties(fname=str(CJK_FONT))


def draw_chart(summary: Summary, language: str) -> MplFigure:
    """Bars per unit (worst at the top): attendance, and sessions on time for units."""
    _ = lambda message: gettext(language, message)  # noqa: E731
    font = _font()
    lines = summary.lines[:MAX_BARS]
    names = [line.name for line in lines]
    figures: list[Figure] = [Figure.ATTENDANCE]
    if not any(line.is_member for line in lines):
        figures.append(Figure.CADENCE)
    height = 1.6 + 0.45 * max(len(lines), 1) * len(figures)
    chart = MplFigure(figsize=(7.5, height), dpi=110, layout="constrained")
    axes = chart.subplots()
    bar = 0.8 / len(figures)
    colours = {Figure.ATTENDANCE: "#c0392b", Figure.CADENCE: "#2e86c1"}
    for offset, figure in enumerate(figures):
        shares = []
        for line in lines:
            check = next(c for c in line.figures.checks() if c.figure == figure)
            shares.append(float(check.share) * 100 if check.share is not None else 0.0)
        positions = [index + offset * bar for index in range(len(lines))]
        axes.barh(
            positions, shares, height=bar, color=colours[figure], label=_(FIGURE_LABELS[figure])
        )
        axes.axvline(
            float(TARGETS[figure]) * 100, color=colours[figure], linestyle="--", linewidth=1
        )
    axes.set_yticks([index + bar * (len(figures) - 1) / 2 for index in range(len(lines))])
    axes.set_yticklabels(names, fontproperties=font)
    axes.invert_yaxis()
    axes.set_xlim(0, 105)
    axes.set_xlabel(_("% (dashed line: target)"), fontproperties=font)
    axes.set_title(f"{summary.org.name} · {summary.period.label(language)}", fontproperties=font)
    # Tick labels are made again at every draw: name the font family for those too.
    axes.tick_params(labelfontfamily=font.get_name())
    axes.legend(prop=font, loc="lower right")
    return chart


def chart_png(summary: Summary, language: str) -> bytes:
    """The chart as PNG bytes (CPU work: call it off the event loop)."""
    chart = draw_chart(summary, language)
    buffer = io.BytesIO()
    chart.savefig(buffer, format="png")
    return buffer.getvalue()
