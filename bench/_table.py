"""The one table `make bench` prints at the end: every module's figures with their goals.

Each benchmark module's ``main()`` prints its own detail and returns its figures as
``Row``s; ``python -m bench`` collects them and prints them together, so one run says at a
glance which goals are met.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["HEADERS", "Row", "render", "spread"]

HEADERS = ("figure", "measured", "baseline", "ratio", "goal", "met?")


@dataclass(frozen=True, slots=True)
class Row:
    """One figure: what was measured, against what, the ratio, the goal, and whether met
    (None when the figure has no goal of its own)."""

    figure: str
    measured: str
    baseline: str
    ratio: str
    goal: str = ""
    met: bool | None = None

    def cells(self) -> tuple[str, ...]:
        verdict = {True: "yes", False: "NO", None: ""}[self.met]
        return (self.figure, self.measured, self.baseline, self.ratio, self.goal, verdict)


def render(rows: Sequence[Row]) -> str:
    """The rows as an aligned plain-text table under a header line."""
    lines = [HEADERS, *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADERS))]
    text = [
        " | ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        for line in lines
    ]
    text.insert(1, "-+-".join("-" * width for width in widths))
    return "\n".join(text)


def spread(ratios: Sequence[float]) -> str:
    """min / median / max of paired ratios, as the table shows them."""
    return f"{min(ratios):.2f} / {statistics.median(ratios):.2f} / {max(ratios):.2f}"
