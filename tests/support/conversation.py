"""Talking to the bot as a scripted person (not a test module).

Each step first lets the bot's outbox send what was already due, as a person reads their
new messages before typing; then "the next bot message" is the answer to this step and not
an invitation the relay happened to send a moment later.
"""

from __future__ import annotations

from bot.app import PartyApplication
from bot.updates import PerChatProcessor
from sandbox import SimUser
from sandbox.models import CallbackAnswer, ChatMessage


async def say(user: SimUser, text: str) -> ChatMessage:
    """Send a message and return the bot's answer."""
    await user.world.outboxes_drained()
    await user.send(text)
    return await user.wait_for_reply()


async def tap(user: SimUser, label: str, *, message_id: int | None = None) -> ChatMessage:
    """Tap an inline button and return what the bot shows next."""
    await user.world.outboxes_drained()
    await user.tap(label, message_id=message_id)
    return await user.wait_for_reply()


async def tap_refused(
    user: SimUser, label: str, *, message_id: int | None = None
) -> CallbackAnswer:
    """Tap an inline button the bot refuses; its alert."""
    await user.world.outboxes_drained()
    query = await user.tap(label, message_id=message_id)
    return await user.wait_for_callback_answer(query)


async def next_document(user: SimUser, *, within: int = 5) -> ChatMessage:
    """The next document the bot sends ``user``, passing over what comes before it (a
    workbook follows its progress line; an outbox message may land in between)."""
    for _ in range(within):
        message = await user.wait_for_reply()
        if message.document is not None:
            return message
    raise AssertionError(f"no document among the next {within} messages to {user.first_name}")


def shown(message: ChatMessage) -> str:
    """The text of a bot message as shown; the test fails if the message has none."""
    assert message.text is not None, f"message {message.message_id} has no text"
    return message.text


def deleted(user: SimUser, message_id: int) -> bool:
    """Whether the bot deleted this message from the user's chat."""
    message = user.chat.message(message_id)
    return message is not None and message.deleted


async def settled(application: PartyApplication) -> None:
    """Every update the bot has taken so far is handled.

    Updates of different chats run side by side, so one person's answer does not mean
    another's update is done; this waits for all of them (bot/updates.py).
    """
    processor = application.update_processor
    assert isinstance(processor, PerChatProcessor)
    await processor.settled()
