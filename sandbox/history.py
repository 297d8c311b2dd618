"""The emulator's chats and files saved to JSON and read back, so a restarted sandbox shows
every chat as it was (Telegram keeps history; so does the emulator between runs).

Only what a person sees is kept: chats with their messages (every version of an edited
one), the reply keyboard, and the files the messages point to, under the same ids. Calls,
events, pending updates and callback queries belong to one run and start empty.
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, fields
from typing import Any

from sandbox.files import FileStore
from sandbox.models import Chat, ChatMessage, Content, StoredFile

__all__ = ["dump_history", "load_history"]

_VERSION = 1


def _content(data: dict[str, Any]) -> Content:
    known = {f.name for f in fields(Content)}
    values = {key: value for key, value in data.items() if key in known}
    values["entities"] = tuple(values.get("entities") or ())
    values["caption_entities"] = tuple(values.get("caption_entities") or ())
    return Content(**values)


def _message(data: dict[str, Any]) -> ChatMessage:
    known = {f.name for f in fields(ChatMessage)}
    values = {key: value for key, value in data.items() if key in known}
    values["versions"] = [_content(version) for version in values.get("versions", [])]
    return ChatMessage(**values)


def _chat(data: dict[str, Any]) -> Chat:
    return Chat(
        id=int(data["id"]),
        type=data["type"],
        title=data.get("title"),
        messages=[_message(message) for message in data.get("messages", [])],
        reply_keyboard=data.get("reply_keyboard"),
        member_ids=set(data.get("member_ids", [])),
        next_message_id=int(data.get("next_message_id", 1)),
    )


def dump_history(chats: dict[int, Chat], files: FileStore) -> str:
    """Chats and files as JSON text."""
    stored = [
        {**asdict(file), "data": base64.b64encode(file.data).decode("ascii")}
        for file in files.all()
    ]
    return json.dumps(
        {
            "version": _VERSION,
            "chats": [
                {**asdict(chat), "member_ids": sorted(chat.member_ids)} for chat in chats.values()
            ],
            "files": stored,
            "file_counter": files.counter,
        },
        ensure_ascii=False,
    )


def load_history(text: str, chats: dict[int, Chat], files: FileStore) -> int:
    """Put saved chats (replacing the empty ones of the same id) and files back; returns
    how many messages came back. Text that is not a saved history changes nothing."""
    try:
        saved = json.loads(text)
    except ValueError:
        return 0
    if not isinstance(saved, dict) or saved.get("version") != _VERSION:
        return 0
    for data in saved.get("files", []):
        files.restore(StoredFile(**{**data, "data": base64.b64decode(data["data"])}))
    files.counter = max(files.counter, int(saved.get("file_counter", 0)))
    restored = 0
    for data in saved.get("chats", []):
        chat = _chat(data)
        chats[chat.id] = chat
        restored += len(chat.messages)
    return restored
