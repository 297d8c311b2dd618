"""A share as people read it: "83%", rounded down, so a figure shown at 90 % never hides
one that misses a 90 % target. Apart from the summary's text so the survey's results
(bot/survey_text.py), which the summary shows too, can use it without a cycle."""

from __future__ import annotations

from fractions import Fraction

__all__ = ["percent"]


def percent(share: Fraction) -> str:
    """ "83%": rounded down."""
    return f"{share.numerator * 100 // share.denominator}%"
