"""Numbers as people type them: full-width (１２３４５６), Arabic-Indic or ASCII digits.

Chinese input methods often type full-width digits. Every place that reads a number a
person typed (a check-in code, the last four digits of a phone, a date and time) reads it
through these two functions, so each digit counts as the ASCII digit it means.
"""

from __future__ import annotations

import unicodedata

__all__ = ["normalise_digits", "typed_digits"]


def normalise_digits(text: str) -> str:
    """The text in NFKC with every decimal digit as its ASCII digit ("１２点" -> "12点")."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(
        str(value) if (value := unicodedata.decimal(ch, None)) is not None else ch for ch in folded
    )


def typed_digits(text: str) -> str:
    """Only the digits of what someone typed, as ASCII ("１２３ ４５６" -> "123456")."""
    return "".join(ch for ch in normalise_digits(text) if "0" <= ch <= "9")
