"""The emulator's records: messages as a person sees them, calls, callbacks, files, events.

Plain dataclasses, so tests can read them directly; ``view()`` methods give the JSON the
control API serves.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sandbox.markup import labels

ChatType = Literal["private", "group", "supergroup"]
EventKind = Literal["message", "edit", "delete", "callback_answer", "chat_action", "update"]


@dataclass(frozen=True)
class Content:
    """One version of a message's visible content (the original, or an edit)."""

    text: str | None = None
    entities: tuple[dict[str, Any], ...] = ()
    caption: str | None = None
    caption_entities: tuple[dict[str, Any], ...] = ()
    reply_markup: dict[str, Any] | None = None
    source: str | None = None  # text/caption exactly as the bot sent it
    parse_mode: str | None = None
    edit_date: int | None = None


@dataclass
class ChatMessage:
    """A message in a chat, in either direction, with its edit history."""

    message_id: int
    chat_id: int
    from_bot: bool
    sender: dict[str, Any]
    chat: dict[str, Any]
    date: int
    versions: list[Content]
    photo: list[dict[str, Any]] | None = None
    document: dict[str, Any] | None = None
    contact: dict[str, Any] | None = None
    reply_to: dict[str, Any] | None = None
    disable_notification: bool = False
    deleted: bool = False
    media_group_id: str | None = None  # the album (sendMediaGroup) the message belongs to

    @property
    def current(self) -> Content:
        """The content shown now (after the last edit)."""
        return self.versions[-1]

    @property
    def text(self) -> str | None:
        """Plain text as shown (HTML tags already turned into entities)."""
        return self.current.text

    @property
    def entities(self) -> list[dict[str, Any]]:
        """Entities of the current text."""
        return list(self.current.entities)

    @property
    def caption(self) -> str | None:
        """Plain caption of a photo or document."""
        return self.current.caption

    @property
    def reply_markup(self) -> dict[str, Any] | None:
        """The keyboard attached now."""
        return self.current.reply_markup

    @property
    def edits(self) -> list[Content]:
        """The versions produced by edits, oldest first (empty if never edited)."""
        return self.versions[1:]

    @property
    def edit_date(self) -> int | None:
        """When the message was last edited."""
        return self.current.edit_date

    @property
    def buttons(self) -> list[list[str]]:
        """Rows of button labels of the attached keyboard."""
        return labels(self.reply_markup)

    @property
    def shown_text(self) -> str | None:
        """Text or caption, whichever the message has."""
        return self.text if self.text is not None else self.caption

    def callback_data(self, label: str) -> str | None:
        """The callback data behind the inline button with this label."""
        for row in (self.reply_markup or {}).get("inline_keyboard", []):
            for button in row:
                if button.get("text") == label:
                    data = button.get("callback_data")
                    return data if isinstance(data, str) else None
        return None

    def snapshot(self) -> ChatMessage:
        """A deep copy, so an event keeps what was seen at that moment."""
        return copy.deepcopy(self)

    def to_api(self) -> dict[str, Any]:
        """The Bot API ``Message`` object."""
        content = self.current
        out: dict[str, Any] = {
            "message_id": self.message_id,
            "from": self.sender,
            "chat": self.chat,
            "date": self.date,
        }
        if content.edit_date is not None:
            out["edit_date"] = content.edit_date
        if self.reply_to is not None:
            out["reply_to_message"] = self.reply_to
        if self.media_group_id is not None:
            out["media_group_id"] = self.media_group_id
        if content.text is not None:
            out["text"] = content.text
            if content.entities:
                out["entities"] = list(content.entities)
        if self.photo is not None:
            out["photo"] = self.photo
        if self.document is not None:
            out["document"] = self.document
        if self.contact is not None:
            out["contact"] = self.contact
        if content.caption is not None:
            out["caption"] = content.caption
            if content.caption_entities:
                out["caption_entities"] = list(content.caption_entities)
        markup = content.reply_markup
        if markup is not None and "inline_keyboard" in markup:
            out["reply_markup"] = markup
        return out

    def view(self) -> dict[str, Any]:
        """What a person sees, as JSON for the control API and the web chat."""
        return {
            "message_id": self.message_id,
            "chat_id": self.chat_id,
            "from_bot": self.from_bot,
            "from": self.sender,
            "date": self.date,
            "text": self.text,
            "entities": self.entities,
            "caption": self.caption,
            "source": self.current.source,
            "parse_mode": self.current.parse_mode,
            "reply_markup": self.reply_markup,
            "buttons": self.buttons,
            "photo": self.photo,
            "document": self.document,
            "contact": self.contact,
            "media_group_id": self.media_group_id,
            "reply_to_message_id": (self.reply_to or {}).get("message_id"),
            "edit_date": self.edit_date,
            "edits": len(self.edits),
            "deleted": self.deleted,
        }


@dataclass
class Chat:
    """A chat and everything said in it, in order."""

    id: int
    type: ChatType
    title: str | None = None
    messages: list[ChatMessage] = field(default_factory=list)
    reply_keyboard: dict[str, Any] | None = None
    member_ids: set[int] = field(default_factory=set)
    next_message_id: int = 1

    def message(self, message_id: int) -> ChatMessage | None:
        """A message by id, deleted ones included."""
        for message in reversed(self.messages):
            if message.message_id == message_id:
                return message
        return None

    def visible(self) -> list[ChatMessage]:
        """Messages not deleted."""
        return [m for m in self.messages if not m.deleted]


@dataclass(frozen=True)
class CallbackAnswer:
    """What ``answerCallbackQuery`` showed the person."""

    callback_query_id: str
    text: str | None
    show_alert: bool
    url: str | None = None
    cache_time: int = 0


@dataclass
class CallbackQuery:
    """A button press waiting for (or having had) its answer."""

    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    created_at: float
    answer: CallbackAnswer | None = None


@dataclass(frozen=True)
class StoredFile:
    """Bytes Telegram keeps for a file_id, downloadable at ``file_path``."""

    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    kind: Literal["photo", "document"]
    file_name: str | None = None
    mime_type: str | None = None
    width: int = 0
    height: int = 0


@dataclass(frozen=True)
class CallRecord:
    """One Bot API call as the emulator saw and answered it."""

    seq: int
    method: str
    params: dict[str, Any]
    status: int
    at_monotonic: float
    at_wall: datetime
    result: Any = None
    description: str | None = None
    retry_after: int | None = None
    fault: str | None = None

    @property
    def ok(self) -> bool:
        """Whether Telegram would have said ``ok: true``."""
        return self.status == 200

    def view(self) -> dict[str, Any]:
        """JSON for the control API."""
        return {
            "seq": self.seq,
            "method": self.method,
            "params": self.params,
            "status": self.status,
            "ok": self.ok,
            "at_monotonic": self.at_monotonic,
            "at_wall": self.at_wall.isoformat(),
            "result": self.result,
            "description": self.description,
            "retry_after": self.retry_after,
            "fault": self.fault,
        }


@dataclass(frozen=True)
class Event:
    """Something a person (or a waiting test) can notice, in world order."""

    seq: int
    kind: EventKind
    chat_id: int | None
    message_id: int | None = None
    message: ChatMessage | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def view(self) -> dict[str, Any]:
        """JSON for the control API's event stream."""
        return {
            "seq": self.seq,
            "kind": self.kind,
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "message": self.message.view() if self.message else None,
            "data": self.data,
        }
