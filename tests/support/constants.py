"""Values every test agrees on: one bot token, one bot username, one starting time."""

from __future__ import annotations

from datetime import UTC, datetime

TOKEN = "123456789:TEST-token-abcdefghijklmnopqrstuvwxyz"
BOT_USERNAME = "partybot_test_bot"
# 2026-03-02 09:00 in Asia/Shanghai: a Monday morning, far from midnight in either zone.
START_TIME = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
# Seconds between two relay messages to one chat in the test application (Telegram: 1 s).
FAST_CHAT_INTERVAL = 0.02
