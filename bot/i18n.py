"""Catalogs and per-update translators: French first, Bambara and English falling back to French.

No global locale: each update gets a `Translator` for the person's language. Catalogs are compiled
from the committed .po files when the .mo is missing or older (the .mo is a build output).
"""

from __future__ import annotations

import functools
import io
import logging
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from bot.config import PROJECT_ROOT
from bot.flows.screens import Localized, Msg, Text
from bot.languages import CODES, DEFAULT

log = logging.getLogger(__name__)

LOCALES_DIR = PROJECT_ROOT / "locales"
DOMAIN = "messages"


def is_translated(message: Message) -> bool:
    """True when every form has text. Babel counts ('', '') as translated (babel #697)."""
    if isinstance(message.string, tuple | list):
        return all(message.string)
    return bool(message.string)


def compiled_catalog(po_path: Path) -> bytes:
    """The .mo bytes of a .po, keeping only complete, non-fuzzy translations.

    An untranslated or half-translated plural is left out so that it falls back to French
    instead of compiling to the English msgid.
    """
    with po_path.open("rb") as fh:
        source = read_po(fh)
    kept = Catalog(locale=source.locale, domain=DOMAIN, fuzzy=False)
    for message in source:
        if message.id and not message.fuzzy and is_translated(message):
            kept[message.id] = message
    buffer = io.BytesIO()
    write_mo(buffer, kept, use_fuzzy=False)
    return buffer.getvalue()


def load_catalogs(locales_dir: Path = LOCALES_DIR) -> dict[str, Translations]:
    """Compile what is stale, load each language, and chain the fallbacks to French."""
    loaded: dict[str, Translations] = {}
    for language in CODES:
        po_path = locales_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"
        if not po_path.exists() and language != DEFAULT:
            continue  # a language without its catalog yet: French
        mo_path = po_path.with_suffix(".mo")
        if not mo_path.exists() or mo_path.stat().st_mtime < po_path.stat().st_mtime:
            data = compiled_catalog(po_path)
            try:
                mo_path.write_bytes(data)
            except OSError as exc:
                log.warning("Cannot write %s (%s); using the catalog from memory", mo_path, exc)
                loaded[language] = Translations(io.BytesIO(data), domain=DOMAIN)
                continue
        with mo_path.open("rb") as fh:
            loaded[language] = Translations(fh, domain=DOMAIN)
    for language, catalog in loaded.items():
        if language != DEFAULT:
            catalog.add_fallback(loaded[DEFAULT])
    return loaded


Overlay = Mapping[str, tuple[str, ...]]  # msgid → its forms, approved in the bot


class Translator:
    """Renders flow messages in one language. Parameters that are messages are rendered first,
    dates are written out, and a tuple of texts becomes a comma-separated list.

    `overlay` holds translations approved in the bot since the catalog was compiled
    (bot/translations.py): they come first; what neither has falls back to French."""

    def __init__(
        self, language: str, catalog: Translations, overlay: Overlay | None = None
    ) -> None:
        self.language = language
        self.catalog = catalog
        self._overlay: Overlay = {} if overlay is None else overlay

    def render(self, text: Text) -> str:
        if isinstance(text, str):
            return text
        if isinstance(text, Localized):
            texts = dict(text.texts)
            return texts.get(self.language) or texts.get(DEFAULT, "")
        approved = self._overlay.get(text.msgid)
        if approved and text.plural is not None and text.n is not None:
            pattern = approved[min(self.catalog.plural(text.n), len(approved) - 1)]
        elif approved:
            pattern = approved[0]
        elif text.plural is not None and text.n is not None:
            pattern = self.catalog.ngettext(text.msgid, text.plural, text.n)
        else:
            pattern = self.catalog.gettext(text.msgid)
        if not text.params:
            return pattern
        return pattern % {name: self._value(value) for name, value in text.params}

    def _value(self, value: object) -> object:
        if isinstance(value, Msg | Localized):
            return self.render(value)
        if isinstance(value, date):
            return format_date(value, "long", locale=self.language)
        if isinstance(value, tuple):
            return ", ".join(self.render(part) for part in value)
        return value


class Catalogs:
    def __init__(
        self, locales_dir: Path = LOCALES_DIR, overlay: Mapping[str, Overlay] | None = None
    ) -> None:
        overlay = overlay or {}
        self._translators = {
            language: Translator(language, catalog, overlay.get(language))
            for language, catalog in load_catalogs(locales_dir).items()
        }

    def translated(self, language: str) -> frozenset[str]:
        """The msgids the language's compiled catalog translates (complete, reviewed ones)."""
        translator = self._translators.get(language)
        if translator is None:
            return frozenset()
        # gettext's own table: msgid, or (msgid, form) for a plural; "" is the header.
        messages: dict[str | tuple[str, int], str] = getattr(translator.catalog, "_catalog", {})
        return frozenset(k if isinstance(k, str) else k[0] for k in messages) - {""}

    def translator(self, language: str | None) -> Translator:
        return self._translators.get(language or "", self._translators[DEFAULT])


def supported_language(candidates: Iterable[str | None]) -> str | None:
    """The first candidate (stored choice, then Telegram's language_code) that we support."""
    for candidate in candidates:
        code = _supported(candidate) if candidate else None
        if code is not None:
            return code
    return None


@functools.lru_cache(maxsize=256)
def _supported(candidate: str) -> str | None:
    """A language tag's language if we support it. Cached: babel's parsing cost a little on
    every update, and the tags people's apps send are few."""
    try:
        code = Locale.parse(candidate, sep="-").language
    except (ValueError, UnknownLocaleError):
        return None
    return code if code in CODES else None
