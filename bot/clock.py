"""Injectable clocks: real time in production, controllable time in tests and the sandbox."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Anything that tells the current time as an aware UTC datetime."""

    def now(self) -> datetime: ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """Time that moves only when told to; tests and the sandbox's clock control use it."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move forward (never back) and return the new time."""
        if delta < timedelta(0):
            raise ValueError("time does not go backwards")
        self._now += delta
        return self._now

    def set(self, moment: datetime) -> None:
        """Jump to a moment that is not earlier than now."""
        self.advance(moment.astimezone(UTC) - self._now)


class OffsetClock:
    """The wall clock moved forward by an offset that only grows: the sandbox's time control.

    Time keeps flowing between jumps (people need real seconds to tap), and a jump moves the
    bot, the scheduler's view of what is due and the emulator's message dates together.
    """

    def __init__(
        self, offset: timedelta = timedelta(0), *, wall: Callable[[], datetime] | None = None
    ) -> None:
        if offset < timedelta(0):
            raise ValueError("the offset cannot be negative")
        self._offset = offset
        self._wall = wall or SystemClock().now

    @property
    def offset(self) -> timedelta:
        """How far ahead of the wall clock this clock is."""
        return self._offset

    def now(self) -> datetime:
        return self._wall() + self._offset

    def advance(self, delta: timedelta) -> datetime:
        """Jump forward (never back) and return the new time."""
        if delta < timedelta(0):
            raise ValueError("time does not go backwards")
        self._offset += delta
        return self.now()
