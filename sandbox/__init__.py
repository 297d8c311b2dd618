"""A Telegram Bot API emulator: a protocol peer our bot talks to over real HTTP.

It keeps users, chats, messages, keyboards, callback queries and files, enforces Telegram's
rules with Telegram's error texts, and misbehaves on request (429, 5xx, timeouts, blocked
users). It imports nothing else of partybot. See docs/emulator.md.
"""

from __future__ import annotations

from sandbox.errors import ApiError
from sandbox.models import (
    CallbackAnswer,
    CallbackQuery,
    CallRecord,
    Chat,
    ChatMessage,
    Content,
    Event,
    StoredFile,
)
from sandbox.server import EmulatorServer, build_app, main, serve
from sandbox.users import SimUser
from sandbox.world import World

__all__ = [
    "ApiError",
    "CallRecord",
    "CallbackAnswer",
    "CallbackQuery",
    "Chat",
    "ChatMessage",
    "Content",
    "EmulatorServer",
    "Event",
    "SimUser",
    "StoredFile",
    "World",
    "build_app",
    "main",
    "serve",
]
