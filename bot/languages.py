"""The languages Jigiya speaks, in the order they are offered: the one list that the catalogs,
the officer protocols, the settings and the command menus all read. A new language is a line
here and a catalog in locales/ (`pybabel init -l CODE`); translators fill it inside the bot
(bot/translations.py).

Every language falls back to French, the language every text is written in first: a missing
translation shows French, never a blank or an English source string.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT = "fr"


@dataclass(frozen=True)
class Language:
    code: str  # ISO 639 code, as Telegram reports it and as locales/ names its folder
    native: str  # its own name, shown as is on the language buttons
    english: str  # its name in English, for operators' messages
    # Offered to survivors from the start (French fills the gaps); otherwise only once every
    # survivor screen has an approved translation or recording in it (bot/translations.py).
    offered: bool = True


LANGUAGES = (
    Language("fr", "Français", "French"),
    Language("bm", "Bamanankan", "Bambara"),
    Language("en", "English", "English"),
    Language("ff", "Fulfulde", "Fulfulde", offered=False),
    Language("ses", "Koyraboro senni", "Songhay", offered=False),
)
CODES = tuple(language.code for language in LANGUAGES)
NATIVE_NAMES = {language.code: language.native for language in LANGUAGES}
OFFERED = tuple(language.code for language in LANGUAGES if language.offered)
