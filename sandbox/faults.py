"""Misbehaviour on purpose: the next N calls fail with 5xx, 429 or a timeout.

The bot's delivery relay must survive Telegram having a bad day; these faults let tests
prove it. A faulted call is never executed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

FaultKind = Literal["5xx", "429", "timeout"]
FAULT_KINDS: tuple[FaultKind, ...] = ("5xx", "429", "timeout")


@dataclass
class Fault:
    """One armed fault; ``methods`` are lower-cased Bot API names, ``None`` for any."""

    kind: FaultKind
    remaining: int
    methods: frozenset[str] | None = None
    retry_after: int = 3
    hold_seconds: float = 2.0

    def matches(self, method: str) -> bool:
        """Whether a call of ``method`` (any case) is hit by this fault."""
        return self.remaining > 0 and (self.methods is None or method.lower() in self.methods)


class FaultPlan:
    """Armed faults, consumed first-armed first."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []

    def add(
        self,
        kind: str,
        count: int = 1,
        methods: Iterable[str] | None = None,
        retry_after: int = 3,
        hold_seconds: float = 2.0,
    ) -> Fault:
        """Arm a fault for the next ``count`` matching calls."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
        if count < 1 or retry_after < 1 or hold_seconds < 0:
            raise ValueError("count and retry_after must be >= 1, hold_seconds >= 0")
        names = None if methods is None else frozenset(m.lower() for m in methods)
        fault = Fault(kind, count, names, retry_after, hold_seconds)
        self.faults.append(fault)
        return fault

    def take(self, method: str) -> Fault | None:
        """Consume one shot of the first fault matching ``method``."""
        for fault in self.faults:
            if fault.matches(method):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self.faults.remove(fault)
                return fault
        return None

    def clear(self) -> None:
        """Disarm everything."""
        self.faults.clear()
