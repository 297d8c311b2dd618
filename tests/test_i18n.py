"""Translation catalogs: every string in the code is translated, placeholders intact."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.i18n import gettext, ngettext, normalise_language, po_path

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "N_": None, "gettext": (2,), "ngettext": (2, 3), "n_": (1, 2)}
CJK = re.compile("[\u4e00-\u9fff]")


def _messages_in_code() -> set[str]:
    found: set[str] = set()
    for package in ("bot", "handlers", "schedules"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / package, keywords=KEYWORDS, comment_tags=()
        ):
            if isinstance(message, tuple):
                found.update(m for m in message if m)
            elif message:
                found.add(message)
    return found


def _catalog(language: str) -> dict[str, str | tuple[str, ...]]:
    with po_path(language).open("rb") as handle:
        catalog = read_po(handle)
    entries: dict[str, str | tuple[str, ...]] = {}
    for message in catalog:
        if not message.id:
            continue
        ids = (message.id,) if isinstance(message.id, str) else tuple(message.id)
        string = message.string
        for msgid in ids:
            entries[msgid] = (string or "") if isinstance(string, str | None) else tuple(string)
    return entries


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_code_has_messages_to_translate() -> None:
    assert len(_messages_in_code()) >= 5


@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_message_in_code_is_in_the_catalog(language: str) -> None:
    missing = _messages_in_code() - set(_catalog(language))
    assert not missing, f"run `make messages`; missing from {language}: {sorted(missing)}"


def test_every_chinese_translation_is_filled_in_and_keeps_placeholders() -> None:
    catalog = _catalog("zh")
    for msgid in _messages_in_code():
        translation = catalog[msgid]
        texts = translation if isinstance(translation, tuple) else (translation,)
        for text in texts:
            assert text, f"no Chinese translation for {msgid!r}"
            assert CJK.search(text), f"translation of {msgid!r} has no Chinese: {text!r}"
            assert _placeholders(text) == _placeholders(msgid), msgid


def test_translation_at_run_time() -> None:
    message = "I don't know that command. Send /help to see what I can do."
    assert gettext("en", message) == message
    assert CJK.search(gettext("zh", message))
    assert gettext("fr", message) == gettext("zh", message)  # unknown falls back to Chinese


def test_ngettext_falls_back_to_the_english_plural() -> None:
    assert ngettext("en", "{n} member", "{n} members", 2) == "{n} members"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("en", "en"),
        ("en-GB", "en"),
        ("zh-hans", "zh"),
        ("zh-TW", "zh"),
        (None, "zh"),
        ("ru", "zh"),
    ],
)
def test_language_codes_from_telegram(code: str | None, expected: str) -> None:
    assert normalise_language(code) == expected
