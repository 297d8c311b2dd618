"""Runtime settings from the environment and `.env`, validated once at start-up.

A county IT officer configures partybot with environment variables; a typo must stop the
program at once with a line naming the variable, not fail hours later in a handler.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

TOKEN_PATTERN = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{30,}$")
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/partybot.db"
TELEGRAM_API_BASE_URL = "https://api.telegram.org"

DEFAULT_LISTEN = "127.0.0.1:8000"
WEBHOOK_SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")

Language = Literal["zh", "en"]


def check_webhook_url(url: str) -> str:
    """A webhook URL Telegram accepts: https (plain http only on this machine, for tests)."""
    match = re.match(r"^(https?)://([^/\s:]+|\[[^\]]+\])(:\d+)?(/[^\s]*)?$", url)
    if match is None:
        raise ValueError("must be a URL such as https://bot.example.org/telegram")
    scheme, host = match.group(1), match.group(2)
    if scheme == "http" and host not in ("127.0.0.1", "localhost", "[::1]"):
        raise ValueError("must be https:// (Telegram sends webhooks over HTTPS only)")
    return url


def parse_listen(value: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:8000`` for IPv6) as a pair."""
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("must be host:port, e.g. 127.0.0.1:8000")
    return host.strip("[]"), int(port)


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
    log_format: Literal["text", "json"] = Field(default="text", alias="PARTYBOT_LOG_FORMAT")
    startup_retry_seconds: float = Field(
        default=2.0, gt=0, le=600, alias="PARTYBOT_STARTUP_RETRY_SECONDS"
    )
    webhook_url: str | None = Field(default=None, alias="PARTYBOT_WEBHOOK_URL")
    webhook_secret: SecretStr | None = Field(default=None, alias="PARTYBOT_WEBHOOK_SECRET")
    listen: str | None = Field(default=None, alias="PARTYBOT_LISTEN")
    metrics: bool = Field(default=False, alias="PARTYBOT_METRICS")
    leader_lease_seconds: float = Field(
        default=30.0, ge=0.3, le=3600, alias="PARTYBOT_LEADER_LEASE_SECONDS"
    )
    relay_rate: float = Field(default=25.0, gt=0, le=1000, alias="PARTYBOT_RELAY_RATE")
    notice_reminder_hours: float = Field(
        default=24.0, gt=0, le=24 * 30, alias="PARTYBOT_NOTICE_REMINDER_HOURS"
    )
    # Sent outbox rows are deleted this many days after they finished (bot/outbox.py);
    # at least a week, longer than any job's window for queuing the same message again.
    outbox_retention_days: int = Field(
        default=90, ge=7, le=3650, alias="PARTYBOT_OUTBOX_RETENTION_DAYS"
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

    @field_validator("webhook_url", "webhook_secret", "listen", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value in ("", None) else value

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url_shape(cls, value: str | None) -> str | None:
        if value is not None:
            check_webhook_url(value)
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not WEBHOOK_SECRET_PATTERN.match(value.get_secret_value()):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and - (Bot API rule)")
        return value

    @field_validator("listen")
    @classmethod
    def _listen_shape(cls, value: str | None) -> str | None:
        if value is not None:
            parse_listen(value)
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
    def outbox_retention(self) -> timedelta:
        """How long finished outbox rows are kept."""
        return timedelta(days=self.outbox_retention_days)

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
    def webhook_token(self) -> str:
        """The secret Telegram sends with every webhook request: PARTYBOT_WEBHOOK_SECRET,
        or derived from the bot token, so every process of one bot agrees on it."""
        if self.webhook_secret is not None:
            return self.webhook_secret.get_secret_value()
        if self.token is None:
            raise ValueError("PARTYBOT_WEBHOOK_SECRET or TELEGRAM_BOT_TOKEN is needed")
        return hashlib.sha256(b"partybot webhook secret\0" + self.token.encode()).hexdigest()

    @property
    def listen_address(self) -> tuple[str, int]:
        """Where the HTTP server (webhook, /healthz, /metrics) listens."""
        return parse_listen(self.listen or DEFAULT_LISTEN)

    @property
    def serves_http(self) -> bool:
        """Whether this process runs its HTTP server (always with a webhook)."""
        return self.webhook_url is not None or self.listen is not None or self.metrics

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
