"""The pacing rule on its own: fake time, no waiting, and a property over random latencies."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from telegram.error import BadRequest, Forbidden, NetworkError, TimedOut

from bot.pacing import Pacer
from bot.relay import RelayConfig, judge
from bot.settings import SettingsError, load_settings
from storage.deliveries import BLOCKED_ERROR, ClaimedDelivery
from storage.models import DeliveryKind, DeliveryState

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def test_starts_are_spread_one_over_rate_apart() -> None:
    pacer = Pacer(10.0)
    assert pacer.delay(1, 0.0) == 0.0
    pacer.start(1, 0.0)
    assert pacer.delay(2, 0.0) == pytest.approx(0.1)
    assert pacer.delay(2, 0.1) == 0.0


def test_a_late_start_does_not_push_the_next_ones_back() -> None:
    pacer = Pacer(10.0)
    pacer.start(1, 0.0)
    pacer.start(2, 0.13)  # woke up 30 ms late
    assert pacer.delay(3, 0.13) == pytest.approx(0.07)  # its slot is still 0.2
    pacer.start(3, 0.2)
    pacer.start(4, 5.0)  # after a pause the grid starts again: no burst
    assert pacer.delay(5, 5.0) == pytest.approx(0.1)


def test_a_send_holds_its_place_until_a_second_after_its_answer() -> None:
    pacer = Pacer(3.0)  # three a second
    for n, at in enumerate((0.0, 0.35, 0.7)):
        pacer.start(n, at)
        pacer.finish(n, at + 0.2)  # answers arrive 0.2 s later
    # The first answer came at 0.2: a fourth send may start at 1.2, not at 1.0.
    assert pacer.global_delay(1.0) == pytest.approx(0.2)
    assert pacer.global_delay(1.2) == 0.0


def test_sends_in_flight_block_until_one_finishes() -> None:
    pacer = Pacer(2.0)
    pacer.start(1, 0.0)
    pacer.start(2, 0.5)
    assert pacer.global_delay(5.0) == math.inf
    pacer.finish(1, 5.0)
    assert pacer.global_delay(5.0) == pytest.approx(1.0)


def test_one_message_per_second_per_chat_counted_from_the_answer() -> None:
    pacer = Pacer(100.0)
    pacer.start(7, 0.0)
    assert pacer.chat_delay(7, 0.5) == math.inf  # still in flight
    assert pacer.chat_delay(8, 0.5) == 0.0
    pacer.finish(7, 0.3)
    assert pacer.chat_delay(7, 0.5) == pytest.approx(0.8)
    assert pacer.delay(7, 1.3) == 0.0


def test_starting_out_of_turn_is_refused() -> None:
    pacer = Pacer(1.0)
    pacer.start(1, 0.0)
    with pytest.raises(RuntimeError):
        pacer.start(2, 0.5)


def test_a_429_pauses_everything_for_exactly_retry_after() -> None:
    pacer = Pacer(100.0)
    pacer.pause(3.0, 10.0)
    assert pacer.delay(1, 10.0) == pytest.approx(3.0)
    assert pacer.paused_for(12.5) == pytest.approx(0.5)
    assert pacer.delay(1, 13.0) == 0.0
    pacer.pause(1.0, 10.5)  # a shorter, earlier ask does not cut the pause
    assert pacer.paused_for(11.0) == pytest.approx(2.0)


def test_bad_numbers_are_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        Pacer(0.0)


@settings(max_examples=60, deadline=None)
@given(
    rate=st.sampled_from([1.0, 2.5, 5.0, 25.0]),
    latencies=st.lists(st.floats(min_value=0.0, max_value=0.8), min_size=40, max_size=120),
    chats=st.integers(min_value=1, max_value=6),
    seed=st.integers(min_value=0, max_value=1000),
)
def test_no_arrival_pattern_can_break_the_limits(
    rate: float, latencies: list[float], chats: int, seed: int
) -> None:
    """Whenever each request arrives between its start and its answer, no one-second window
    holds more than the rate, and no chat gets two messages less than a second apart."""
    pick = random.Random(seed)
    pacer = Pacer(rate)
    now = 0.0
    in_flight: list[tuple[float, int, int]] = []  # (answer time, chat, index)
    sends: list[tuple[float, float, int]] = []  # (start, answer, chat)
    queue = [pick.randrange(chats) for _ in latencies]
    while queue or in_flight:
        if queue and pacer.delay(queue[0], now) == 0.0:
            chat = queue.pop(0)
            latency = latencies[len(sends)]
            pacer.start(chat, now)
            in_flight.append((now + latency, chat, len(sends)))
            sends.append((now, now + latency, chat))
            continue
        wait = pacer.delay(queue[0], now) if queue else math.inf
        next_answer = min(in_flight)[0] if in_flight else math.inf
        now = min(now + wait, next_answer)
        for answer in [f for f in in_flight if f[0] <= now]:
            in_flight.remove(answer)
            pacer.finish(answer[1], answer[0])
    capacity = pacer.capacity
    for j, (start_j, _, chat_j) in enumerate(sends):
        overlapping = [
            i
            for i, (start_i, answer_i, _) in enumerate(sends)
            if i != j and start_i <= start_j and answer_i > start_j - 1.0 + 1e-9
        ]
        # Fewer than `capacity` others could share a window with send j: the worst arrival
        # pattern still fits the rate.
        assert len(overlapping) < capacity
        for _, answer_i, chat_i in sends[:j]:
            if chat_i == chat_j:
                assert start_j >= answer_i + 1.0 - 1e-9


def _row(attempts: int = 0) -> ClaimedDelivery:
    return ClaimedDelivery(1, DeliveryKind.OTHER, 42, {"text": "x"}, attempts, None, None, NOW)


def test_judge_sent_blocked_and_refused() -> None:
    rng = random.Random(1)
    cfg = RelayConfig()
    sent = judge(_row(), None, message_id=9, now=NOW, config=cfg, rng=rng)
    assert (sent.state, sent.telegram_message_id, sent.attempts) == (DeliveryState.SENT, 9, 1)
    blocked = judge(
        _row(),
        Forbidden("Forbidden: bot was blocked by the user"),
        message_id=None,
        now=NOW,
        config=cfg,
        rng=rng,
    )
    assert blocked.state == DeliveryState.DEAD
    assert (blocked.error or "").startswith(BLOCKED_ERROR)
    refused = judge(
        _row(),
        BadRequest("Bad Request: chat not found"),
        message_id=None,
        now=NOW,
        config=cfg,
        rng=rng,
    )
    assert refused.state == DeliveryState.DEAD
    assert refused.error == "BadRequest: Chat not found"


def test_judge_backs_off_with_bounded_jitter_then_gives_up() -> None:
    cfg = RelayConfig(max_attempts=4, backoff_base=10.0, backoff_cap=25.0)
    rng = random.Random(7)
    for attempts, (low, high) in enumerate([(5, 10), (10, 20), (12.5, 25)]):
        error = TimedOut() if attempts % 2 else NetworkError("Bad Gateway")
        outcome = judge(_row(attempts), error, message_id=None, now=NOW, config=cfg, rng=rng)
        assert outcome.state == DeliveryState.FAILED
        assert outcome.attempts == attempts + 1
        delay = outcome.next_attempt_at - NOW
        assert timedelta(seconds=low) <= delay <= timedelta(seconds=high)
    last = judge(
        _row(3), NetworkError("Bad Gateway"), message_id=None, now=NOW, config=cfg, rng=rng
    )
    assert last.state == DeliveryState.DEAD
    assert last.attempts == 4


def test_the_rate_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PARTYBOT_RELAY_RATE", raising=False)
    monkeypatch.delenv("PARTYBOT_NOTICE_REMINDER_HOURS", raising=False)
    assert load_settings(env_file=None).relay_rate == 25.0
    assert load_settings(env_file=None, PARTYBOT_RELAY_RATE="12.5").relay_rate == 12.5
    with pytest.raises(SettingsError, match="PARTYBOT_RELAY_RATE"):
        load_settings(env_file=None, PARTYBOT_RELAY_RATE="0")
    with pytest.raises(SettingsError, match="PARTYBOT_NOTICE_REMINDER_HOURS"):
        load_settings(env_file=None, PARTYBOT_NOTICE_REMINDER_HOURS="-1")
