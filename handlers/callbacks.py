"""The callback-data codec lives in bot/callbacks.py: outbox messages carry buttons too.

Handlers import it from here or from bot/ alike; this name stays for the feature branches
written against it.
"""

from __future__ import annotations

from bot.callbacks import MAX_CALLBACK_BYTES, CallbackCodec

__all__ = ["MAX_CALLBACK_BYTES", "CallbackCodec"]
