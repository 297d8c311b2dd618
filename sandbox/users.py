"""Simulated people: they write, tap buttons, share contacts, send files, block the bot.

Each action produces exactly the update Telegram would deliver, queues it for the bot, and
moves the user's reply cursor, so ``wait_for_reply`` returns what the bot said *after* it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.files import document_dict
from sandbox.markup import find_button, labels
from sandbox.models import CallbackAnswer, Chat, ChatMessage, Content, Event
from sandbox.text import command_entities

if TYPE_CHECKING:
    from sandbox.world import World


class SimUser:
    """A person talking to the bot in their private chat (chat id == user id)."""

    def __init__(
        self,
        world: World,
        user_id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "zh-hans",
        phone: str | None = None,
        started: bool = True,
    ) -> None:
        self.world = world
        self.id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code
        self.phone = phone
        self.started = started
        self.blocked = False
        self._cursor = world.mark()

    def __repr__(self) -> str:
        return f"SimUser(id={self.id}, first_name={self.first_name!r})"

    # --- identity -------------------------------------------------------------------------

    def to_api(self) -> dict[str, Any]:
        """The ``User`` object in updates."""
        out: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            out["last_name"] = self.last_name
        if self.username:
            out["username"] = self.username
        if self.language_code:
            out["language_code"] = self.language_code
        return out

    def view(self) -> dict[str, Any]:
        """JSON for the control API."""
        return {**self.to_api(), "phone": self.phone, "blocked": self.blocked}

    @property
    def chat(self) -> Chat:
        """The private chat with the bot."""
        return self.world.chats[self.id]

    # --- actions --------------------------------------------------------------------------

    async def send(self, text: str, *, chat_id: int | None = None) -> dict[str, Any]:
        """Write ``text`` (commands get their ``bot_command`` entity); returns the Message."""
        content = Content(text=text, entities=tuple(command_entities(text)))
        return self._say(content, chat_id=chat_id).to_api()

    async def press(self, label: str) -> dict[str, Any]:
        """Press a button of the reply keyboard shown under the input field."""
        markup = self.chat.reply_keyboard
        button = find_button(markup, label)
        if markup is None or button is None:
            raise LookupError(f"no reply keyboard button {label!r}; shown: {labels(markup)}")
        if markup.get("one_time_keyboard"):
            self.chat.reply_keyboard = None
        if button.get("request_contact"):
            return await self.share_contact()
        return await self.send(label)

    async def share_contact(
        self,
        phone: str | None = None,
        *,
        own: bool = True,
        first_name: str | None = None,
        last_name: str | None = None,
    ) -> dict[str, Any]:
        """Share a contact; ``user_id`` is set only when it is the user's own."""
        if own:
            phone = phone or self.phone
            if phone is None:
                raise ValueError(f"{self!r} has no phone to share")
            contact: dict[str, Any] = {"phone_number": phone, "first_name": self.first_name}
            if self.last_name:
                contact["last_name"] = self.last_name
            contact["user_id"] = self.id
        else:
            if phone is None:
                raise ValueError("sharing someone else's contact needs a phone")
            contact = {"phone_number": phone, "first_name": first_name or "Contact"}
            if last_name:
                contact["last_name"] = last_name
        return self._say(Content(), contact=contact).to_api()

    async def send_document(
        self,
        filename: str,
        data: bytes,
        mime_type: str = "application/octet-stream",
        *,
        caption: str | None = None,
    ) -> dict[str, Any]:
        """Send a file (e.g. a spreadsheet); the bot can getFile and download it."""
        stored = self.world.files.add(data, "document", filename, mime_type)
        content = Content(caption=caption)
        return self._say(content, document=document_dict(stored)).to_api()

    async def tap(self, label: str, *, message_id: int | None = None) -> str:
        """Press an inline button by its label; returns the callback query id.

        Looks at the latest bot message with such a button, or at ``message_id``. Buttons
        without callback data (url, web_app, ...) reach no bot: the result is then ``""``.
        """
        for message in self._candidates(message_id):
            button = find_button(_inline(message), label)
            if button is not None:
                data = button.get("callback_data")
                if not isinstance(data, str):
                    return ""
                return self._callback(message, data)
        shown = [m.buttons for m in self._candidates(message_id) if _inline(m)][:3]
        raise LookupError(f"no inline button {label!r} for {self.first_name}; shown: {shown}")

    async def tap_data(self, data: str, *, message_id: int) -> str:
        """Send arbitrary (possibly forged) callback data on a bot message."""
        message = self.chat.message(message_id)
        if message is None or message.deleted or not message.from_bot:
            raise LookupError(f"no bot message {message_id} in chat {self.id}")
        return self._callback(message, data)

    async def block_bot(self) -> None:
        """Block the bot: my_chat_member member -> kicked; sends now get 403."""
        if not self.blocked:
            self.blocked = True
            self._member_update("member", "kicked")

    async def unblock_bot(self) -> None:
        """Unblock (restart) the bot: my_chat_member kicked -> member."""
        if self.blocked:
            self.blocked = False
            self._member_update("kicked", "member")

    # --- what the person sees -------------------------------------------------------------

    @property
    def messages(self) -> list[ChatMessage]:
        """Bot messages in the private chat that are still shown."""
        return [m for m in self.chat.messages if m.from_bot and not m.deleted]

    @property
    def last_message(self) -> ChatMessage | None:
        """The bot message most recently sent or edited in the private chat."""
        for event in reversed(self.world.events):
            if event.chat_id == self.id and event.kind in ("message", "edit"):
                message = self.chat.message(event.message_id or 0)
                if message is not None and message.from_bot and not message.deleted:
                    return message
        return None

    @property
    def last_text(self) -> str | None:
        """Text (or caption) of the last bot message or edit, ``None`` if none."""
        message = self.last_message
        return message.shown_text if message else None

    @property
    def reply_keyboard(self) -> list[list[str]] | None:
        """Labels of the reply keyboard under the input field, if one is shown."""
        markup = self.chat.reply_keyboard
        return labels(markup) if markup else None

    @property
    def callback_answers(self) -> list[CallbackAnswer]:
        """Every answerCallbackQuery shown to this user, oldest first."""
        return [
            q.answer
            for q in self.world.callback_queries.values()
            if q.user_id == self.id and q.answer is not None
        ]

    @property
    def last_callback_answer(self) -> CallbackAnswer | None:
        """The most recent answer to one of this user's button presses."""
        answers = self.callback_answers
        return answers[-1] if answers else None

    # --- waiting --------------------------------------------------------------------------

    def mark(self) -> int:
        """A position in the world's events, for ``wait_for_message(after=...)``."""
        return self.world.mark()

    async def wait_for_message(
        self,
        after: int | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> ChatMessage:
        """The next bot message or edit in the private chat after ``after`` (or the cursor).

        Returns the message as it was at that moment and moves the cursor past it, so
        repeated calls walk through the bot's answers in order.
        """
        start = self._cursor if after is None else after

        def next_bot_message() -> Event | None:
            for event in self.world.events_after(start):
                if (
                    event.chat_id == self.id
                    and event.kind in ("message", "edit")
                    and event.message is not None
                    and event.message.from_bot
                ):
                    return event
            return None

        event = await self.world.wait_for(
            next_bot_message,
            timeout,
            chats=[self.id],
            what=f"a bot message to {self.first_name} (user {self.id})",
        )
        self._cursor = event.seq
        assert event.message is not None
        return event.message

    async def wait_for_reply(self, timeout: float = 5.0) -> ChatMessage:  # noqa: ASYNC109
        """The next bot message or edit since this user's last action (or last reply read)."""
        return await self.wait_for_message(None, timeout)

    async def wait_for_callback_answer(
        self,
        callback_query_id: str,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> CallbackAnswer:
        """The bot's answerCallbackQuery for this press."""

        def answered() -> CallbackAnswer | None:
            query = self.world.callback_queries.get(callback_query_id)
            return query.answer if query else None

        return await self.world.wait_for(
            answered,
            timeout,
            chats=[self.id],
            what=f"an answer to callback query {callback_query_id}",
        )

    # --- internals ------------------------------------------------------------------------

    def _say(
        self,
        content: Content,
        *,
        chat_id: int | None = None,
        contact: dict[str, Any] | None = None,
        document: dict[str, Any] | None = None,
    ) -> ChatMessage:
        if self.blocked:  # writing to a blocked bot means "Restart" in the client
            self.blocked = False
            self._member_update("kicked", "member")
        self.started = True
        chat = self.world.chats[chat_id if chat_id is not None else self.id]
        message = self.world.store_message(
            chat, content, sender=self.to_api(), contact=contact, document=document
        )
        self.world.push_update("message", message.to_api())
        self._cursor = self.world.mark()
        return message

    def _candidates(self, message_id: int | None) -> list[ChatMessage]:
        if message_id is not None:
            found = self.chat.message(message_id)
            return [found] if found is not None and found.from_bot and not found.deleted else []
        return list(reversed(self.messages))

    def _callback(self, message: ChatMessage, data: str) -> str:
        query = self.world.new_callback_query(self.id, message, data)
        payload = {
            "id": query.id,
            "from": self.to_api(),
            "message": message.to_api(),
            "chat_instance": str(abs(message.chat_id) * 7 + self.world.bot_id % 1_000),
            "data": data,
        }
        self.world.push_update("callback_query", payload)
        self._cursor = self.world.mark()
        return query.id

    def _member_update(self, old: str, new: str) -> None:
        bot = self.world.bot_user()

        def member(status: str) -> dict[str, Any]:
            found: dict[str, Any] = {"user": bot, "status": status}
            if status == "kicked":
                found["until_date"] = 0
            return found

        payload = {
            "chat": self.world.chat_dict(self.chat),
            "from": self.to_api(),
            "date": self.world.timestamp(),
            "old_chat_member": member(old),
            "new_chat_member": member(new),
        }
        self.world.push_update("my_chat_member", payload)
        self._cursor = self.world.mark()


def _inline(message: ChatMessage) -> dict[str, Any] | None:
    markup = message.reply_markup
    return markup if markup and "inline_keyboard" in markup else None
