"""Short-lived check-in codes: the QR deep link and the number the secretary shows.

Nothing is stored: a code is an HMAC of the session id and the current time slot, cut to
six digits. The QR carries the same six digits in a deep link
(``t.me/<bot>?start=ci_<session>_<code>``), so scanning and typing prove the same thing.
A code is accepted during its own slot and the next one, so it lives a few minutes: a
photo of the screen forwarded home stops working soon.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

import segno

from bot.numbers import normalise_digits, typed_digits

__all__ = [
    "CODE_DIGITS",
    "PAYLOAD_PATTERN",
    "SLOT",
    "CheckinCode",
    "current_code",
    "deep_link",
    "parse_start_payload",
    "qr_png",
    "verify_code",
]

SLOT = timedelta(minutes=3)
CODE_DIGITS = 6
#: A check-in deep-link payload. Invitation codes never match it (see
#: bot.invitations.new_code), so /start routes by this pattern alone.
PAYLOAD_PATTERN: Final = rf"ci_([0-9]{{1,12}})_([0-9]{{{CODE_DIGITS}}})"
_PAYLOAD = re.compile(rf"^{PAYLOAD_PATTERN}$")


@dataclass(frozen=True, slots=True)
class CheckinCode:
    """What the secretary's screen shows, and until when it is accepted."""

    session_id: int
    code: str
    valid_until: datetime


def _slot(moment: datetime) -> int:
    return int(moment.timestamp() // SLOT.total_seconds())


def _code(key: bytes, session_id: int, slot: int) -> str:
    digest = hmac.new(key, f"checkin:{session_id}:{slot}".encode(), hashlib.sha256).digest()
    number = int.from_bytes(digest[:8], "big") % 10**CODE_DIGITS
    return f"{number:0{CODE_DIGITS}d}"


def current_code(key: bytes, session_id: int, now: datetime) -> CheckinCode:
    """The code for this moment; it is accepted until the end of the next slot."""
    slot = _slot(now)
    until = datetime.fromtimestamp((slot + 2) * SLOT.total_seconds(), tz=UTC)
    return CheckinCode(session_id, _code(key, session_id, slot), until)


def verify_code(key: bytes, session_id: int, typed: str, now: datetime) -> bool:
    """Is this the current or the previous slot's code at ``now``?

    Spaces and dashes are ignored, full-width digits count (bot.numbers).
    """
    digits = typed_digits(typed)
    if len(digits) != CODE_DIGITS:
        return False
    slot = _slot(now)
    return any(
        hmac.compare_digest(digits, _code(key, session_id, candidate))
        for candidate in (slot, slot - 1)
    )


def deep_link(bot_username: str, session_id: int, code: str) -> str:
    """The link the QR code holds: opening it offers "Start", which checks the member in."""
    return f"https://t.me/{bot_username}?start=ci_{session_id}_{code}"


def parse_start_payload(payload: str) -> tuple[int, str] | None:
    """(session id, code) from a ``/start ci_<session>_<code>`` payload."""
    match = _PAYLOAD.match(normalise_digits(payload.strip()))
    if match is None:
        return None
    return int(match[1]), match[2]


def qr_png(data: str) -> bytes:
    """A PNG QR code big enough to scan from a phone held up in a meeting room."""
    buffer = io.BytesIO()
    segno.make(data, error="m").save(buffer, kind="png", scale=10, border=2)
    return buffer.getvalue()
