"""Refusals every use case shares: a change that may not happen, and why, translatable.

A use case raises `Refused` inside the caller's transaction, so the transaction rolls back
and nothing is half done; the handler shows `text(language)` to the user.
"""

from __future__ import annotations

from typing import Final

from bot.i18n import N_, gettext

NOT_ALLOWED: Final = N_("You do not have the right to do this here.")
STALE_BUTTON: Final = N_("This button is no longer valid.")
#: The member a tap names has been taken off the roster (any feature that acts on a member).
MEMBER_GONE: Final = N_("This person is no longer on the roster.")


class Refused(Exception):
    """A change that may not happen; `message` is a msgid, `values` fill its placeholders."""

    def __init__(self, message: str, **values: str) -> None:
        super().__init__(message)
        self.message = message
        self.values = values

    def text(self, language: str) -> str:
        """The reason, translated."""
        return gettext(language, self.message).format(**self.values)
