"""Writing a notice as a secretary does, up to the summary with the send button."""

from __future__ import annotations

from sandbox import SimUser


async def compose(alice: SimUser, text: str, audience: str, ack: str) -> None:
    """Walk the flow up to the summary with the send button."""
    await alice.send("/notice")
    await alice.wait_for_reply()
    await alice.send(text)
    await alice.wait_for_reply()
    await alice.tap(audience)
    await alice.wait_for_reply()
    await alice.tap(ack)
