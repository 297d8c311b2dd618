"""Translation: gettext catalogs (Babel), Simplified Chinese by default, English second.

Message ids in code are English; the catalogs under bot/locales/ hold the translations.
The `.po` files are compiled in memory when first needed, so a fresh clone never runs on a
stale `.mo`. Mark strings with `_()` (or `N_()` where they are translated later).
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path
from typing import Final

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALES_DIR: Final = Path(__file__).parent / "locales"
DOMAIN: Final = "partybot"
LANGUAGES: Final = ("zh", "en")
_CATALOG_LOCALE: Final = {"zh": "zh_CN", "en": "en"}


def N_(message: str) -> str:
    """Mark a string for extraction without translating it here."""
    return message


def normalise_language(code: str | None, default: str = "zh") -> str:
    """Map a Telegram language_code ("en-GB", "zh-hans", None) to one of ours."""
    if not code:
        return default
    code = code.lower()
    if code.startswith("en"):
        return "en"
    if code.startswith("zh"):
        return "zh"
    return default


def po_path(language: str) -> Path:
    """Where the catalog of a language lives."""
    return LOCALES_DIR / _CATALOG_LOCALE[language] / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translator(language: str) -> NullTranslations:
    """The gettext translations for one of LANGUAGES (unknown codes fall back to Chinese)."""
    if language not in _CATALOG_LOCALE:
        language = "zh"
    with po_path(language).open("rb") as po_file:
        catalog = read_po(po_file, locale=_CATALOG_LOCALE[language], domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)


def gettext(language: str, message: str) -> str:
    """Translate one message into a language."""
    return translator(language).gettext(message)


def ngettext(language: str, singular: str, plural: str, count: int) -> str:
    """Translate a message whose form depends on a count."""
    return translator(language).ngettext(singular, plural, count)
