"""Prometheus metrics (``/metrics`` when PARTYBOT_METRICS is on): what an operator watches.

Each application has its own registry, so several applications in one process (tests,
the sandbox) never mix their numbers. Counters count this process; the outbox gauges are
read from the database at scrape time, so every process reports the same queue.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from storage import Database, deliveries
from storage.models import DeliveryState

__all__ = ["Metrics"]


class Metrics:
    """The instruments, one registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.updates = Counter("partybot_updates", "Telegram updates handled", registry=r)
        self.replayed = Counter(
            "partybot_updates_replayed", "Webhook updates refused as already taken", registry=r
        )
        self.handler_seconds = Histogram(
            "partybot_handler_seconds",
            "Time to handle one update (all handlers)",
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=r,
        )
        self.outbox = Gauge(
            "partybot_outbox_rows", "Outbox (delivery) rows by state", ["state"], registry=r
        )
        self.sends = Counter(
            "partybot_relay_sends", "Relay send attempts by outcome", ["outcome"], registry=r
        )
        self.rate_limited = Counter(
            "partybot_relay_rate_limited", "429 answers from Telegram", registry=r
        )
        self.dead_letters = Counter(
            "partybot_relay_dead_letters", "Deliveries given up (dead) by this process", registry=r
        )
        self.leader = Gauge("partybot_leader", "1 while this process leads", registry=r)

    def sent(self, state: DeliveryState) -> None:
        """Count one send's outcome: sent, failed (retried later) or dead."""
        self.sends.labels(outcome=state.value).inc()
        if state == DeliveryState.DEAD:
            self.dead_letters.inc()

    async def render(self, database: Database) -> bytes:
        """The text exposition, with the outbox gauges read fresh from the database."""
        async with database.session_scope() as db:
            counts = await deliveries.count_by_state(db=db)
        for state in DeliveryState:
            self.outbox.labels(state=state.value).set(counts.get(state, 0))
        return generate_latest(self.registry)
