"""The callback-data codec: short, typed, validated button payloads.

Telegram gives a button 64 bytes of callback_data. Ours are `prefix:field:field` with
integer or short-token fields, so they stay small. Decoding is strict: anything that
does not match a known shape exactly is treated as forged and changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

MAX_CALLBACK_BYTES: Final = 64
_TOKEN = r"[a-z0-9_]{1,16}"
_FIELD_PATTERNS: Final = {int: r"\d{1,15}", str: _TOKEN}


@dataclass(frozen=True)
class CallbackCodec:
    """One kind of button: a unique prefix and the types of its fields."""

    prefix: str
    fields: tuple[type[int] | type[str], ...] = ()
    _regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9_.]{0,15}", self.prefix):
            raise ValueError(f"bad callback prefix {self.prefix!r}")
        parts = [re.escape(self.prefix)] + [f"({_FIELD_PATTERNS[t]})" for t in self.fields]
        object.__setattr__(self, "_regex", re.compile("^" + ":".join(parts) + "$"))

    @property
    def pattern(self) -> re.Pattern[str]:
        """The regex a CallbackQueryHandler routes on."""
        return self._regex

    def encode(self, *values: int | str) -> str:
        """Build callback_data; refuses values that would not decode back."""
        if len(values) != len(self.fields):
            raise ValueError(f"{self.prefix} takes {len(self.fields)} values")
        data = ":".join([self.prefix, *(str(v) for v in values)])
        if len(data.encode()) > MAX_CALLBACK_BYTES or not self._regex.match(data):
            raise ValueError(f"callback data {data!r} is not valid for {self.prefix}")
        return data

    def decode(self, data: str | None) -> tuple[int | str, ...] | None:
        """The typed fields, or None for anything that is not exactly this shape."""
        match = self._regex.match(data or "")
        if match is None:
            return None
        return tuple(kind(value) for kind, value in zip(self.fields, match.groups(), strict=True))
