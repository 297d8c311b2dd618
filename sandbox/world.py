"""The emulated Telegram: users, chats, messages, updates, files, and the call log.

One ``World`` is the single source of truth that the Bot API routes, the control API and
the tests' :class:`~sandbox.users.SimUser` objects all read and change. Every change wakes
waiters (``wait_for``, long polls) through a change signal, so nothing ever polls with sleeps.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sandbox.faults import Fault, FaultPlan
from sandbox.files import FileStore
from sandbox.limits import LimitSettings, RateLimiter
from sandbox.models import (
    CallbackAnswer,
    CallbackQuery,
    CallRecord,
    Chat,
    ChatMessage,
    Content,
    Event,
    EventKind,
)

if TYPE_CHECKING:
    from sandbox.users import SimUser

T = TypeVar("T")
CommandKey = tuple[str, int | None, int | None, str]
# Without allowed_updates Telegram sends everything except these.
OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
FIRST_UPDATE_ID = 100_001
FIRST_USER_ID = 1_000_001


@dataclass
class WebhookState:
    """What setWebhook stored."""

    url: str = ""
    secret_token: str | None = None
    max_connections: int = 40
    allowed_updates: list[str] | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class _Poll:
    generation: int = 0


class World:
    """State and rules of the emulated Telegram for one bot token."""

    def __init__(
        self,
        token: str,
        bot_username: str = "partybot_test_bot",
        clock: Callable[[], datetime] | None = None,
        *,
        bot_first_name: str = "partybot",
        monotonic: Callable[[], float] | None = None,
        callback_query_ttl: float = 900.0,
    ) -> None:
        head, sep, _ = token.partition(":")
        if not sep or not head.isdigit():
            raise ValueError("a bot token looks like '<bot id>:<secret>'")
        self.token = token
        self.bot_id = int(head)
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.monotonic: Callable[[], float] = monotonic or time.monotonic
        self.callback_query_ttl = callback_query_ttl
        self.users: dict[int, SimUser] = {}
        self.chats: dict[int, Chat] = {}
        self.calls: list[CallRecord] = []
        self.events: list[Event] = []
        self.files = FileStore()
        self.limiter = RateLimiter(self.monotonic)
        self.faults = FaultPlan()
        self.callback_queries: dict[str, CallbackQuery] = {}
        self.webhook = WebhookState()
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self.allowed_updates: list[str] | None = None
        self.confirmed_offset = 0
        self.active_polls = 0  # getUpdates calls waiting right now
        self.closing = False
        self._commands: dict[CommandKey, list[dict[str, str]]] = {}
        self._updates: list[dict[str, Any]] = []
        self._next_update_id = FIRST_UPDATE_ID
        self._next_user_id = FIRST_USER_ID
        self._next_group_id = 1
        self._next_callback = 1
        self._next_media_group = 1
        self._poll = _Poll()
        self._changed = asyncio.Event()
        self._outboxes: list[Callable[[], Awaitable[None]]] = []

    # --- identity -------------------------------------------------------------------------

    def bot_user(self) -> dict[str, Any]:
        """The bot as a ``User`` object inside messages."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def now(self) -> datetime:
        """The injectable wall clock (UTC aware)."""
        return self.clock()

    def timestamp(self) -> int:
        """Unix time for ``date`` fields."""
        return int(self.clock().timestamp())

    # --- people and chats -----------------------------------------------------------------

    def add_user(
        self,
        first_name: str,
        language_code: str | None = "zh-hans",
        phone: str | None = None,
        username: str | None = None,
        last_name: str | None = None,
        *,
        user_id: int | None = None,
        started: bool = True,
    ) -> SimUser:
        """A person with a private chat with the bot (chat id == user id)."""
        from sandbox.users import SimUser

        if user_id is None:
            user_id = self._next_user_id
            self._next_user_id += 1
        if user_id in self.users or user_id <= 0:
            raise ValueError(f"user id {user_id} is taken or not positive")
        user = SimUser(
            self,
            user_id,
            first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            phone=phone,
            started=started,
        )
        self.users[user_id] = user
        self.chats[user_id] = Chat(id=user_id, type="private")
        return user

    def add_group(
        self, title: str, members: Iterable[SimUser] = (), *, supergroup: bool = False
    ) -> Chat:
        """A group chat the bot is in; its id is negative like Telegram's."""
        n = self._next_group_id
        self._next_group_id += 1
        chat_id = -(1_000_000_000_000 + n) if supergroup else -(4_000_000_000 + n)
        chat = Chat(
            id=chat_id,
            type="supergroup" if supergroup else "group",
            title=title,
            member_ids={m.id for m in members},
        )
        self.chats[chat_id] = chat
        return chat

    def user(self, user_id: int) -> SimUser:
        """A user by id (KeyError if unknown)."""
        return self.users[user_id]

    def chat(self, chat_id: int) -> Chat:
        """A chat by id (KeyError if unknown)."""
        return self.chats[chat_id]

    def chat_dict(self, chat: Chat) -> dict[str, Any]:
        """The ``Chat`` object as it appears inside messages and updates."""
        if chat.type != "private":
            return {"id": chat.id, "title": chat.title or "", "type": chat.type}
        user = self.users[chat.id]
        out: dict[str, Any] = {"id": chat.id, "first_name": user.first_name}
        if user.last_name:
            out["last_name"] = user.last_name
        if user.username:
            out["username"] = user.username
        out["type"] = "private"
        return out

    # --- messages -------------------------------------------------------------------------

    def store_message(
        self,
        chat: Chat,
        content: Content,
        *,
        sender: dict[str, Any] | None = None,
        photo: list[dict[str, Any]] | None = None,
        document: dict[str, Any] | None = None,
        contact: dict[str, Any] | None = None,
        reply_to: ChatMessage | None = None,
        disable_notification: bool = False,
        media_group_id: str | None = None,
    ) -> ChatMessage:
        """Append a message to ``chat`` (from the bot unless ``sender`` is given)."""
        from_bot = sender is None
        message = ChatMessage(
            message_id=chat.next_message_id,
            chat_id=chat.id,
            from_bot=from_bot,
            sender=self.bot_user() if sender is None else sender,
            chat=self.chat_dict(chat),
            date=self.timestamp(),
            versions=[content],
            photo=photo,
            document=document,
            contact=contact,
            reply_to=_reply_view(reply_to),
            disable_notification=disable_notification,
            media_group_id=media_group_id,
        )
        chat.next_message_id += 1
        chat.messages.append(message)
        if from_bot and content.reply_markup is not None:
            markup = content.reply_markup
            if "keyboard" in markup:
                chat.reply_keyboard = markup
            elif markup.get("remove_keyboard"):
                chat.reply_keyboard = None
        self.emit("message", chat.id, message.message_id, message=message)
        return message

    def new_media_group_id(self) -> str:
        """A fresh album id: an opaque numeric string, as Telegram's ``media_group_id``."""
        found = str(13_000_000_000_000_000 + self._next_media_group)
        self._next_media_group += 1
        return found

    def edit_message(self, message: ChatMessage, content: Content) -> ChatMessage:
        """Record a new version of ``message``."""
        message.versions.append(content)
        self.emit("edit", message.chat_id, message.message_id, message=message)
        return message

    def delete_message(self, message: ChatMessage) -> None:
        """Mark ``message`` deleted (it stays in the history for tests)."""
        message.deleted = True
        self.emit("delete", message.chat_id, message.message_id, message=message)

    # --- updates --------------------------------------------------------------------------

    def push_update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for getUpdates with the next update_id."""
        update = {"update_id": self._next_update_id, kind: payload}
        self._next_update_id += 1
        self._updates.append(update)
        self.emit("update", None, data={"update_id": update["update_id"], "type": kind})
        return update

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by an offset."""
        return list(self._updates)

    def confirm(self, offset: int) -> None:
        """Apply getUpdates' ``offset``: drop every update below it (negative: keep last N)."""
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            self.confirmed_offset = max(self.confirmed_offset, offset)
        elif offset < 0:
            self._updates = self._updates[offset:]
            if self._updates:
                self.confirmed_offset = max(self.confirmed_offset, self._updates[0]["update_id"])
        self.changed()

    def drop_pending_updates(self) -> None:
        """Forget the queue, as ``drop_pending_updates=True`` does."""
        if self._updates:
            self.confirmed_offset = self._updates[-1]["update_id"] + 1
        self._updates = []
        self.changed()

    def deliverable(self, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` pending updates of allowed types; others are discarded."""
        allowed = self.allowed_updates

        def wanted(update: dict[str, Any]) -> bool:
            kind = update_type(update)
            return kind in allowed if allowed else kind not in OPT_IN_UPDATES

        self._updates = [u for u in self._updates if wanted(u)]
        return self._updates[:limit]

    @property
    def polls_started(self) -> int:
        """How many getUpdates calls have arrived (a call is logged only when answered)."""
        return self._poll.generation

    def start_poll(self) -> int:
        """Register a getUpdates call; any older one still waiting is terminated (409)."""
        self._poll.generation += 1
        self.changed()
        return self._poll.generation

    def poll_superseded(self, generation: int) -> bool:
        """Whether a newer getUpdates has arrived since ``generation``."""
        return generation != self._poll.generation

    # --- callback queries -----------------------------------------------------------------

    def new_callback_query(self, user_id: int, message: ChatMessage, data: str) -> CallbackQuery:
        """A button press awaiting answerCallbackQuery."""
        query_id = str(4_000_000_000_000_000 + self._next_callback * 1_000 + user_id % 1_000)
        self._next_callback += 1
        query = CallbackQuery(
            id=query_id,
            user_id=user_id,
            chat_id=message.chat_id,
            message_id=message.message_id,
            data=data,
            created_at=self.monotonic(),
        )
        self.callback_queries[query_id] = query
        return query

    def answer_callback(self, query: CallbackQuery, answer: CallbackAnswer) -> None:
        """Record the bot's answer to a button press."""
        query.answer = answer
        self.emit(
            "callback_answer",
            query.chat_id,
            query.message_id,
            data={
                "callback_query_id": query.id,
                "user_id": query.user_id,
                "text": answer.text,
                "show_alert": answer.show_alert,
                "url": answer.url,
            },
        )

    # --- commands and menu ----------------------------------------------------------------

    def set_commands(self, key: CommandKey, commands: list[dict[str, str]]) -> None:
        """Store (or with an empty list, delete) commands for a scope and language."""
        if commands:
            self._commands[key] = commands
        else:
            self._commands.pop(key, None)

    def commands(
        self, scope: str | Mapping[str, Any] = "default", language_code: str = ""
    ) -> list[dict[str, str]]:
        """What setMyCommands stored for exactly this scope and language."""
        return list(self._commands.get(scope_key(scope, language_code), []))

    def commands_for(self, user_id: int) -> list[dict[str, str]]:
        """The command menu a user sees in the private chat, by Telegram's fallback order."""
        user = self.users[user_id]
        lang = (user.language_code or "")[:2]
        for kind, chat_id in (("chat", user_id), ("all_private_chats", None), ("default", None)):
            for code in (lang, ""):
                found = self._commands.get((kind, chat_id, None, code))
                if found:
                    return list(found)
        return []

    # --- misbehaviour switches ------------------------------------------------------------

    def set_rate_limits(
        self,
        enabled: bool = True,
        global_per_second: int = 30,
        per_chat_per_second: int = 1,
        per_group_per_minute: int = 20,
        *,
        count_edits: bool = False,
    ) -> None:
        """Turn Telegram's flood limits on (or off) with these numbers."""
        self.limiter.configure(
            LimitSettings(
                enabled, global_per_second, per_chat_per_second, per_group_per_minute, count_edits
            )
        )

    def inject_faults(
        self,
        kind: str,
        count: int = 1,
        methods: Iterable[str] | None = None,
        retry_after: int = 3,
        hold_seconds: float = 2.0,
    ) -> Fault:
        """Make the next ``count`` calls (of ``methods``, or any) fail with ``kind``."""
        return self.faults.add(kind, count, methods, retry_after, hold_seconds)

    def clear_faults(self) -> None:
        """Disarm all injected faults."""
        self.faults.clear()

    # --- records --------------------------------------------------------------------------

    def record_call(self, record: CallRecord) -> None:
        """Append to the call log and wake waiters."""
        self.calls.append(record)
        self.changed()

    def calls_of(self, method: str) -> list[CallRecord]:
        """Calls of one method (any case)."""
        return [c for c in self.calls if c.method.lower() == method.lower()]

    def file_bytes(self, file_id: str) -> bytes:
        """The bytes behind a file_id (KeyError if unknown)."""
        stored = self.files.get(file_id)
        if stored is None:
            raise KeyError(file_id)
        return stored.data

    # --- events and waiting ---------------------------------------------------------------

    def emit(
        self,
        kind: EventKind,
        chat_id: int | None,
        message_id: int | None = None,
        *,
        message: ChatMessage | None = None,
        data: dict[str, Any] | None = None,
    ) -> Event:
        """Append an event (with a snapshot of the message) and wake waiters."""
        event = Event(
            seq=len(self.events) + 1,
            kind=kind,
            chat_id=chat_id,
            message_id=message_id,
            message=message.snapshot() if message is not None else None,
            data=data or {},
        )
        self.events.append(event)
        self.changed()
        return event

    def mark(self) -> int:
        """The current event sequence number; later events have a larger ``seq``."""
        return len(self.events)

    def events_after(self, seq: int) -> list[Event]:
        """Events with ``seq`` greater than the given mark."""
        return self.events[max(seq, 0) :]

    def changed(self) -> None:
        """Wake everything waiting on the world."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_changed(self, timeout: float) -> bool:  # noqa: ASYNC109
        """Wait for the next change; False if ``timeout`` passed first."""
        if timeout <= 0:
            return False
        signal = self._changed
        try:
            await asyncio.wait_for(signal.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def sleep(self, seconds: float) -> None:
        """Sleep in real time, ending early when the server is closing (held responses)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not self.closing:
            remaining = deadline - loop.time()
            if remaining <= 0 or not await self.wait_changed(remaining):
                return

    async def wait_for(
        self,
        predicate: Callable[[], T | None],
        timeout: float = 5.0,  # noqa: ASYNC109
        *,
        chats: Iterable[int] | None = None,
        what: str | None = None,
    ) -> T:
        """Wait until ``predicate()`` is truthy and return its value; re-checked on change."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                name = what or str(getattr(predicate, "__name__", "condition"))
                raise TimeoutError(self.describe_timeout(name, timeout, chats))
            await self.wait_changed(remaining)

    def watch_outbox(self, drained: Callable[[], Awaitable[None]]) -> None:
        """Register a bot-side sender that works on its own time (partybot's relay).

        ``drained`` waits until that sender has nothing due; :meth:`outboxes_drained` runs
        them all, so a scripted user can read what was already on its way before acting.
        """
        self._outboxes.append(drained)

    async def outboxes_drained(self) -> None:
        """Wait until every registered outbox has sent what is due."""
        for drained in list(self._outboxes):
            await drained()

    def close(self) -> None:
        """Release long polls and held responses so the server can stop promptly."""
        self.closing = True
        self.changed()

    def describe_timeout(self, what: str, timeout: float, chats: Iterable[int] | None) -> str:
        """A timeout message that shows what people saw recently and the last calls."""
        if chats is None:
            active = sorted(
                (c for c in self.chats.values() if c.messages),
                key=lambda c: c.messages[-1].date,
                reverse=True,
            )
            chat_ids = [c.id for c in active[:3]]
        else:
            chat_ids = list(chats)
        lines = [f"timed out after {timeout:g}s waiting for {what}"]
        for chat_id in chat_ids:
            chat = self.chats.get(chat_id)
            if chat is None:
                continue
            lines.append(f"  last messages in chat {chat_id}:")
            for m in chat.messages[-5:]:
                who = "bot" if m.from_bot else m.sender.get("first_name", "user")
                flags = " (deleted)" if m.deleted else ""
                buttons = f" buttons={m.buttons}" if m.buttons else ""
                lines.append(f"    #{m.message_id} {who}: {m.shown_text!r}{buttons}{flags}")
            if not chat.messages:
                lines.append("    (none)")
        lines.append("  last calls:")
        for call in self.calls[-5:]:
            lines.append(f"    {call.method} -> {call.status} {call.description or ''}".rstrip())
        if not self.calls:
            lines.append("    (none)")
        return "\n".join(lines)


def update_type(update: Mapping[str, Any]) -> str:
    """The kind of an update dict (``message``, ``callback_query``, ...)."""
    return next((k for k in update if k != "update_id"), "")


def scope_key(scope: str | Mapping[str, Any] | None, language_code: str = "") -> CommandKey:
    """The storage key for a BotCommandScope (a type name or the scope object)."""
    if scope is None:
        return ("default", None, None, language_code)
    if isinstance(scope, str):
        return (scope, None, None, language_code)
    chat_id = scope.get("chat_id")
    user_id = scope.get("user_id")
    return (
        str(scope.get("type", "default")),
        int(chat_id) if chat_id is not None else None,
        int(user_id) if user_id is not None else None,
        language_code,
    )


def _reply_view(message: ChatMessage | None) -> dict[str, Any] | None:
    if message is None:
        return None
    view = message.to_api()
    view.pop("reply_to_message", None)
    return view
