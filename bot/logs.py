"""Logging set-up that never lets the bot token or a phone number out.

httpx logs every request URL, and Bot API URLs carry the token (`/bot<token>/getMe`);
exception texts can carry it too. At DEBUG, PTB logs every update, so a shared contact
(registration) would put the member's phone number in the log several times. Redacting
in the record factory covers every logger, every handler and every formatter, including
pytest's log capture.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from urllib.parse import quote

REDACTED = "<redacted-token>"
REDACTED_PHONE = "<redacted-phone>"
_ANY_TOKEN = re.compile(r"\d{3,20}(?::|%3[Aa])[A-Za-z0-9_-]{30,}")
#: A mainland mobile number as people, rosters and Telegram write it (+86, 0086, 86 or none).
_ANY_PHONE = re.compile(r"(?<![\d])(?:(?:\+|%2[Bb]|00)?86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}(?!\d)")
_QUIET_LOGGERS = ("httpx", "httpcore", "apscheduler", "uvicorn.access")

_secrets: set[str] = set()
_base_factory: Callable[..., logging.LogRecord] | None = None


def redact(text: str) -> str:
    """Replace known secrets, anything shaped like a bot token, and mobile numbers."""
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


def configure_logging(level: str, secrets: Iterable[str | None] = ()) -> None:
    """Console logging for the CLI; chatty HTTP libraries stay at WARNING unless DEBUG."""
    install_redaction(secrets)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if level != "DEBUG":
        for name in _QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
