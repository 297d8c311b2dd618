"""Runtime settings from the environment and `.env`, validated once at start-up.

A county IT officer configures partybot with environment variables; a typo must stop the
program at once with a line naming the variable, not fail hours later in a handler.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

TOKEN_PATTERN = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{30,}$")
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/partybot.db"
TELEGRAM_API_BASE_URL = "https://api.telegram.org"

Language = Literal["zh", "en"]


class Settings(BaseSettings):
    """Everything partybot reads from its environment."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    telegram_bot_token: SecretStr | None = Field(default=None, alias="TELEGRAM_BOT_TOKEN")
    telegram_api_base_url: str = Field(
        default=TELEGRAM_API_BASE_URL, alias="TELEGRAM_API_BASE_URL"
    )
    database_url: str = Field(default=DEFAULT_DATABASE_URL, alias="PARTYBOT_DATABASE_URL")
    timezone: str = Field(default="Asia/Shanghai", alias="PARTYBOT_TIMEZONE")
    language: Language = Field(default="zh", alias="PARTYBOT_LANGUAGE")
    ops_chat_id: int | None = Field(default=None, alias="PARTYBOT_OPS_CHAT_ID")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", alias="PARTYBOT_LOG_LEVEL"
    )
    relay_rate: float = Field(default=25.0, gt=0, le=1000, alias="PARTYBOT_RELAY_RATE")
    notice_reminder_hours: float = Field(
        default=24.0, gt=0, le=24 * 30, alias="PARTYBOT_NOTICE_REMINDER_HOURS"
    )
    secret_key: SecretStr | None = Field(default=None, alias="PARTYBOT_SECRET_KEY")
    checkin_opens_minutes: int = Field(
        default=30, ge=0, le=24 * 60, alias="PARTYBOT_CHECKIN_OPENS_MINUTES"
    )
    # Grace after the session's END (start + length), not after its start.
    checkin_closes_minutes: int = Field(
        default=30, ge=0, le=24 * 60, alias="PARTYBOT_CHECKIN_CLOSES_MINUTES"
    )

    @field_validator("telegram_bot_token", mode="before")
    @classmethod
    def _empty_token_is_none(cls, value: object) -> object:
        return None if value in ("", None) else value

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not TOKEN_PATTERN.match(value.get_secret_value()):
            raise ValueError("does not look like a bot token from @BotFather (digits:secret)")
        return value

    @field_validator("secret_key", mode="before")
    @classmethod
    def _empty_secret_is_none(cls, value: object) -> object:
        return None if value in ("", None) else value

    @field_validator("secret_key")
    @classmethod
    def _secret_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters (use a long random string)")
        return value

    @field_validator("telegram_api_base_url")
    @classmethod
    def _base_url_shape(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+(/[^\s]*)?$", value):
            raise ValueError("must be an http(s) URL such as https://api.telegram.org")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _database_url_shape(cls, value: str) -> str:
        if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", value):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @property
    def tz(self) -> ZoneInfo:
        """The zone people read times in."""
        return ZoneInfo(self.timezone)

    @property
    def token(self) -> str | None:
        """The bot token in clear, for the Telegram client only (never log it)."""
        return self.telegram_bot_token.get_secret_value() if self.telegram_bot_token else None

    @property
    def signing_key(self) -> bytes:
        """Key for short-lived signed codes (check-in): PARTYBOT_SECRET_KEY if set.

        Otherwise derived from the bot token, which is just as secret, so a deployment
        works without one more variable; setting the key keeps codes stable across a
        token change.
        """
        if self.secret_key is not None:
            return self.secret_key.get_secret_value().encode()
        if self.token is None:
            raise ValueError("PARTYBOT_SECRET_KEY or TELEGRAM_BOT_TOKEN is needed to sign codes")
        return hashlib.sha256(b"partybot signing key\0" + self.token.encode()).digest()

    @property
    def bot_api_url(self) -> str:
        """Base URL for Bot API methods, as python-telegram-bot expects it."""
        return f"{self.telegram_api_base_url}/bot"

    @property
    def bot_file_url(self) -> str:
        """Base URL for downloading files."""
        return f"{self.telegram_api_base_url}/file/bot"


class SettingsError(Exception):
    """A setting is invalid; the message is one line naming the variable."""


def load_settings(env_file: Path | None = Path(".env"), **overrides: Any) -> Settings:
    """Read and validate settings, turning pydantic's report into one readable line."""
    try:
        return Settings(_env_file=env_file, **overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "?"
        variable = _variable_name(field)
        message = str(first["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"invalid setting {variable}: {message}") from None


def _variable_name(field: str) -> str:
    """Map a field name (or alias) to the environment variable people set."""
    info = Settings.model_fields.get(field)
    if info is not None and info.alias:
        return info.alias
    return field.upper()
