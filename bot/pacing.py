"""When may the next message go out? Telegram's flood limits as a pure, clock-free rule.

Telegram allows about 30 messages a second overall and one a second per chat, counts them
when they *arrive*, and answers 429 with ``retry_after`` when a bot goes faster. We only
know when a request starts and when its answer comes back; arrival lies somewhere between.
So a send occupies its place in the one-second window from its start until one second
after its answer (in flight it counts as "now"). That makes the configured rate hold at the
server whatever the network latency, at the cost of a little throughput (rate / (1 + rtt)).
Starts are also spread ``1 / rate`` apart, so a broadcast is a steady stream, not bursts:
on a grid of slots rather than a period after the last start, so the few milliseconds an
event loop is late waking up do not add up (they cost a tenth of the rate at 100 a second).

Times are plain monotonic seconds handed in by the caller, so the rule is tested without
waiting and the relay decides how to sleep.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

__all__ = ["Pacer"]


@dataclass
class Pacer:
    """Overall rate plus one message per ``chat_interval`` per chat, and 429 pauses."""

    rate: float
    chat_interval: float = 1.0
    window: float = 1.0
    capacity: int = field(init=False)
    _in_flight: int = field(default=0, init=False)
    _finished: deque[float] = field(default_factory=deque, init=False)
    _next_start: float = field(default=-math.inf, init=False)
    _paused_until: float = field(default=-math.inf, init=False)
    _chat_busy: dict[int, int] = field(default_factory=dict, init=False)
    _chat_free_at: dict[int, float] = field(default_factory=dict, init=False)
    _chat_expiry: deque[tuple[float, int]] = field(default_factory=deque, init=False)

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.chat_interval < 0 or self.window <= 0:
            raise ValueError("rate and window must be positive, chat_interval not negative")
        self.capacity = max(1, math.floor(self.rate * self.window))

    @property
    def in_flight(self) -> int:
        """Sends started and not finished."""
        return self._in_flight

    def global_delay(self, now: float) -> float:
        """Seconds until any send may start; ``math.inf`` means "after a send finishes"."""
        waits = [self._paused_until - now, self._next_start - now]
        self._forget_before(now)
        excess = self._in_flight + len(self._finished) - self.capacity + 1
        if excess > 0:
            waits.append(
                self._finished[excess - 1] + self.window - now
                if excess <= len(self._finished)
                else math.inf
            )
        return max(0.0, *waits)

    def chat_delay(self, chat_id: int, now: float) -> float:
        """Seconds until ``chat_id`` may get its next message (``math.inf``: one in flight)."""
        if self._chat_busy.get(chat_id):
            return math.inf
        free_at = self._chat_free_at.get(chat_id)
        return 0.0 if free_at is None else max(0.0, free_at - now)

    def delay(self, chat_id: int, now: float) -> float:
        """Seconds until a message to ``chat_id`` may start; 0.0 means now."""
        return max(self.global_delay(now), self.chat_delay(chat_id, now))

    def start(self, chat_id: int, now: float) -> None:
        """A send to ``chat_id`` begins now (the caller checked ``delay`` first)."""
        if self.delay(chat_id, now) > 0:
            raise RuntimeError(f"send to chat {chat_id} started before its turn")
        self._in_flight += 1
        # Late by less than a slot: the next slot follows this one's; later (idle), the
        # grid starts again now. Either way the next start is never before now.
        period = 1.0 / self.rate
        slot = self._next_start if now - self._next_start < period else now
        self._next_start = slot + period
        self._chat_busy[chat_id] = self._chat_busy.get(chat_id, 0) + 1

    def finish(self, chat_id: int, now: float) -> None:
        """The answer to a send to ``chat_id`` came back now (whatever it said)."""
        self._in_flight -= 1
        self._finished.append(now)
        busy = self._chat_busy.pop(chat_id, 1) - 1
        if busy:
            self._chat_busy[chat_id] = busy
        free_at = now + self.chat_interval
        self._chat_free_at[chat_id] = free_at
        self._chat_expiry.append((free_at, chat_id))

    def pause(self, seconds: float, now: float) -> None:
        """Telegram said 429: nothing starts for ``seconds`` from now."""
        self._paused_until = max(self._paused_until, now + seconds)

    def paused_for(self, now: float) -> float:
        """Seconds left of a 429 pause (0.0 when not paused)."""
        return max(0.0, self._paused_until - now)

    def _forget_before(self, now: float) -> None:
        """Drop finishes that left the window and chats that are free again."""
        while self._finished and self._finished[0] + self.window <= now:
            self._finished.popleft()
        while self._chat_expiry and self._chat_expiry[0][0] <= now:
            free_at, chat_id = self._chat_expiry.popleft()
            if self._chat_free_at.get(chat_id) == free_at:
                del self._chat_free_at[chat_id]
