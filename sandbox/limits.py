"""Telegram's flood limits: ~30 messages/s overall, 1/s per chat, 20/min per group.

Sliding windows over a monotonic clock (injectable, so the limiter can be tested without
waiting). A refused call is not counted: only calls that were executed take a slot.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class LimitSettings:
    """What is enforced; ``enabled`` is off by default so ordinary tests are not throttled."""

    enabled: bool = False
    global_per_second: int = 30
    per_chat_per_second: int = 1
    per_group_per_minute: int = 20
    count_edits: bool = False


class RateLimiter:
    """Answers "may this chat get a message now, and if not, how long to wait"."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = LimitSettings()
        self._clock = clock
        self._global: deque[float] = deque()
        self._chat: dict[int, deque[float]] = {}
        self._group: dict[int, deque[float]] = {}

    def configure(self, settings: LimitSettings) -> None:
        """Replace the settings and forget past sends, so a new regime starts clean."""
        self.settings = settings
        self._global.clear()
        self._chat.clear()
        self._group.clear()

    def check(self, chat_id: int) -> int | None:
        """Seconds to wait (integer >= 1) if sending to ``chat_id`` now breaks a limit."""
        if not self.settings.enabled:
            return None
        now = self._clock()
        waits = [
            _wait(self._global, self.settings.global_per_second, 1.0, now),
            _wait(self._chat.get(chat_id), self.settings.per_chat_per_second, 1.0, now),
        ]
        if chat_id < 0:
            waits.append(
                _wait(self._group.get(chat_id), self.settings.per_group_per_minute, 60.0, now)
            )
        worst = max(waits)
        return math.ceil(worst) if worst > 0 else None

    def record(self, chat_id: int) -> None:
        """Count one executed send to ``chat_id``."""
        if not self.settings.enabled:
            return
        now = self._clock()
        self._global.append(now)
        self._chat.setdefault(chat_id, deque()).append(now)
        if chat_id < 0:
            self._group.setdefault(chat_id, deque()).append(now)


def _wait(window: deque[float] | None, limit: int, span: float, now: float) -> float:
    """How long until ``window`` has room for one more event; 0.0 if it has room now."""
    if window is None:
        return 0.0
    while window and window[0] <= now - span:
        window.popleft()
    if len(window) < limit:
        return 0.0
    return max(window[len(window) - limit] + span - now, 1.0)
