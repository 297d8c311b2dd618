"""Logging set-up that never lets the bot token, other secrets or phone numbers out.

httpx logs every request URL, and Bot API URLs carry the token (`/bot<token>/getMe`);
exception texts can carry it too. Redacting in the record factory covers every logger,
every handler and every formatter, including pytest's log capture.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from urllib.parse import quote

REDACTED = "<redacted-token>"
REDACTED_PHONE = "<redacted-phone>"
_ANY_TOKEN = re.compile(r"\d{3,20}(?::|%3[Aa])[A-Za-z0-9_-]{30,}")
# Chinese mobile numbers (with or without +86 / 86, spaced or dashed) and any other
# international number written with a "+"; never inside a longer run of digits (ids).
_ANY_PHONE = re.compile(
    r"(?<![\d+])(?:(?:\+|%2[Bb])?86[- ]?)?1[3-9]\d(?:[- ]?\d{4}){2}(?!\d)|\+\d{8,15}(?!\d)"
)
_QUIET_LOGGERS = ("httpx", "httpcore", "apscheduler", "uvicorn.access", "alembic")

_secrets: set[str] = set()
_base_factory: Callable[..., logging.LogRecord] | None = None


def redact(text: str) -> str:
    """Replace known secrets, anything shaped like a bot token, and phone numbers."""
    for secret in _secrets:
        text = text.replace(secret, REDACTED)
    return _ANY_PHONE.sub(REDACTED_PHONE, _ANY_TOKEN.sub(REDACTED, text))


def _redacting_factory(*args: object, **kwargs: object) -> logging.LogRecord:
    assert _base_factory is not None
    record = _base_factory(*args, **kwargs)
    message = record.getMessage()
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and record.exc_info[1] is not None:
        formatted = logging.Formatter().formatException(record.exc_info)
        record.exc_text = redact(formatted)
    return record


def install_redaction(secrets: Iterable[str | None] = ()) -> None:
    """Make every log record redact the given secrets (idempotent)."""
    global _base_factory
    for secret in filter(None, secrets):
        _secrets.update({secret, quote(secret, safe="")})
    if _base_factory is None:
        _base_factory = logging.getLogRecordFactory()
        logging.setLogRecordFactory(_redacting_factory)


class JsonFormatter(logging.Formatter):
    """One JSON object a line, for log collectors (``PARTYBOT_LOG_FORMAT=json``).

    The record factory has already redacted the message and the traceback; the formatted
    line is redacted once more, so nothing a formatter adds can carry a secret out.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return redact(json.dumps(entry, ensure_ascii=False))


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(
    level: str, secrets: Iterable[str | None] = (), *, log_format: str = "text"
) -> None:
    """Console logging for the CLI; chatty HTTP libraries stay at WARNING unless DEBUG."""
    install_redaction(secrets)
    handler = logging.StreamHandler()
    formatter = JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    handler.setFormatter(formatter)
    logging.basicConfig(level=level, handlers=[handler])
    if level != "DEBUG":
        for name in _QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
