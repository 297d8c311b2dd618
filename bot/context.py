"""The typed callback context every handler receives, and the services it reaches."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from telegram.ext import Application, CallbackContext, ExtBot

from bot.clock import Clock
from bot.i18n import gettext, ngettext
from bot.leader import Leadership
from bot.metrics import Metrics
from bot.relay import Relay
from bot.seen_log import SeenLog
from bot.settings import Settings
from storage import Database

SERVICES_KEY = "services"
LANGUAGE_KEY = "language"


@dataclass(frozen=True, slots=True)
class Services:
    """Long-lived collaborators, created once by the application factory."""

    settings: Settings
    database: Database
    clock: Clock
    relay: Relay  # the outbox sender: call relay.wake() after enqueuing deliveries
    metrics: Metrics
    leadership: Leadership  # whether this process runs the jobs and the relay
    seen: SeenLog  # last-seen times waiting to be written together


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[str, Any]]):
    """CallbackContext with partybot's services and the language of the current user."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)
        self._fallback_language: str | None = None

    @property
    def services(self) -> Services:
        """Settings, database, clock and the delivery relay."""
        return cast(Services, self.bot_data[SERVICES_KEY])

    @property
    def language(self) -> str:
        """The user's language; kept in user_data so the error handler's context has it too."""
        stored = self.user_data.get(LANGUAGE_KEY) if self.user_data is not None else None
        return str(stored or self._fallback_language or self.services.settings.language)

    @language.setter
    def language(self, value: str) -> None:
        if self.user_data is not None:
            self.user_data[LANGUAGE_KEY] = value
        else:
            self._fallback_language = value

    def _(self, message: str) -> str:
        """Translate into the language of the user this update came from."""
        return gettext(self.language, message)

    def n_(self, singular: str, plural: str, count: int) -> str:
        """Translate a count-dependent message into the user's language."""
        return ngettext(self.language, singular, plural, count)
