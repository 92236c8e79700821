"""The bot's words in more languages, from native speakers inside the bot: what is left to
translate, the checks a translation passes before it is kept, the approved translations laid
over the compiled catalogs (survivors read them at once, and after a restart), the approved voice
notes, the coverage of each language, and the export back to the .po files.

Every act is one row of the append-only log (state/translation_log.py), written before it takes
effect; a proposal takes effect once someone else approves it. Nothing here is survivor data.
"""

from __future__ import annotations

import ast
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Literal

from babel.messages.catalog import Catalog
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po, write_po

from bot.config import PROJECT_ROOT
from bot.editing import OwnChange
from bot.flows.screens import Msg, Screen, t
from bot.i18n import DOMAIN, LOCALES_DIR, Catalogs
from bot.languages import CODES, DEFAULT, LANGUAGES, NATIVE_NAMES, OFFERED
from state import translation_log
from state.append_log import AlreadyDecided
from state.store import Store, now
from state.translation_log import TranslationEntry

Audience = Literal["survivor", "officer", "staff"]
AUDIENCES: tuple[Audience, ...] = ("survivor", "officer", "staff")  # the order of the queue
# Where a message is shown, by the file it is written in: what survivors read comes first.
_SURVIVOR_FILES = frozenset({
    "bot/app.py", "bot/flows/base.py", "bot/flows/survivor.py", "bot/flows/place.py",
    "bot/flows/referral.py", "bot/private_chat.py", "bot/telegram/channel.py",
    "bot/hotline/outbox.py", "bot/hotline/hours.py",
})  # fmt: skip
_OFFICER_FILES = frozenset({
    "bot/flows/officer.py", "bot/flows/officer_screens.py", "bot/flows/officer_documents.py",
    "bot/flows/decision.py",
})  # fmt: skip
MESSAGE_CHARS = 4096  # Telegram's limit for one message
BUTTON_CHARS = 40  # a button label that still shows whole on a phone
MAX_VOICE_SECONDS = 60
_PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")

FAULTS = {
    "empty": t("The translation is empty. Please send the text."),
    "long": t("This is longer than one message can be (4096 characters). Please shorten it."),
    "button": t("A button label must stay short (40 characters at most) to show on a phone."),
    "placeholders": t(
        "Keep every %(sample)s part exactly as in the source, and add none: they are replaced "
        "by names, numbers or dates. Needed here: %(names)s"
    ),
}


@dataclass(frozen=True)
class Source:
    """One message of the catalog, as a translator sees it."""

    msgid: str
    plural: str | None
    audience: Audience
    where: str  # the first file it is written in

    @property
    def button(self) -> bool:
        """A button label: it must stay short."""
        return self.msgid in button_labels()


@dataclass(frozen=True)
class Coverage:
    language: str
    approved: int
    total: int
    survivor_approved: int
    survivor_total: int

    @property
    def complete(self) -> bool:
        return self.survivor_approved == self.survivor_total

    def line(self) -> Msg:
        return t(
            "%(language)s: %(approved)s/%(total)s approved; survivor screens %(survivor)s/"
            "%(survivor_total)s",
            language=NATIVE_NAMES[self.language], approved=self.approved, total=self.total,
            survivor=self.survivor_approved, survivor_total=self.survivor_total,
        )  # fmt: skip


def placeholders(text: str) -> Counter[str]:
    return Counter(_PLACEHOLDER.findall(text))


def fault(source: Source, form: int, text: str) -> Msg | None:
    """Why a translation of one form of `source` cannot be kept; None when it can."""
    if not text.strip():
        return FAULTS["empty"]
    if len(text) > MESSAGE_CHARS:
        return FAULTS["long"]
    if source.button and len(text) > BUTTON_CHARS:
        return FAULTS["button"]
    original = source.plural if form > 0 and source.plural else source.msgid
    needed = placeholders(original)
    if placeholders(text) != needed or (needed and not _formats(text, needed)):
        names = ", ".join(sorted(needed)) or "—"
        return t(FAULTS["placeholders"].msgid, sample="%(…)s", names=names)
    return None


def _formats(text: str, needed: Iterable[str]) -> bool:
    """A lone % elsewhere in the text would break the message when it is shown."""
    values = {name[2:-2]: 1 for name in needed}
    try:
        text % values
    except (ValueError, TypeError, KeyError):
        return False
    return True


@lru_cache(maxsize=16)
def _read_catalog(path: Path, mtime: float) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh)


def _catalog(path: Path) -> Catalog:
    return _read_catalog(path, path.stat().st_mtime)


def po_path(locales_dir: Path, language: str) -> Path:
    return locales_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"


_BUTTON = re.compile(
    r'\b(?:Keyboard)?Button\(\s*(?:t\(\s*"((?:[^"\\]|\\.)*)"|([A-Z_][A-Z0-9_]*)\b)'
)
_NAMED = re.compile(r'^([A-Z_][A-Z0-9_]*)\s*=\s*t\(\s*"((?:[^"\\]|\\.)*)"', re.MULTILINE)


@cache
def button_labels() -> frozenset[str]:
    """The msgids shown as button labels: `Button(t("…"), …)`, directly or through a name
    given to a `t("…")` in the same module. Read from the source when first needed."""
    labels: set[str] = set()
    for path in sorted((PROJECT_ROOT / "bot").rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        named = {name: text for name, text in _NAMED.findall(source)}
        for text, name in _BUTTON.findall(source):
            label = text or named.get(name)
            if label:
                labels.add(ast.literal_eval(f'"{label}"'))
    return frozenset(labels)


def _audience(where: str) -> Audience:
    if where in _SURVIVOR_FILES:
        return "survivor"
    return "officer" if where in _OFFICER_FILES else "staff"


@lru_cache(maxsize=4)
def _sources(pot: Path, mtime: float) -> tuple[Source, ...]:
    found: list[Source] = []
    for message in _read_catalog(pot, mtime):
        if not message.id:
            continue
        msgid = _singular(message.id)
        plural = str(message.id[1]) if isinstance(message.id, tuple | list) else None
        files = [path for path, _ in message.locations] or [""]
        audience = min((_audience(f) for f in files), key=AUDIENCES.index)
        found.append(Source(msgid, plural, audience, files[0]))
    return tuple(sorted(found, key=lambda s: AUDIENCES.index(s.audience)))


def _singular(msgid: object) -> str:
    """A catalog message's id: its singular for a plural message."""
    return str(msgid[0]) if isinstance(msgid, tuple | list) else str(msgid)


def nplurals(language: str) -> int:
    return int(get_plural(language).num_plurals)


class Translations:
    """The catalogs with approved translations laid over them, and the translators' work."""

    def __init__(self, store: Store, locales_dir: Path = LOCALES_DIR) -> None:
        self._store = store
        self.locales_dir = locales_dir
        # language → msgid → forms: read by the catalogs at every message, changed on approval.
        self.overlay: dict[str, dict[str, tuple[str, ...]]] = {code: {} for code in CODES}
        self.catalogs = Catalogs(locales_dir, overlay=self.overlay)
        self.pending: dict[int, TranslationEntry] = {}
        # (language, kind, msgid) → the approved proposal and its approval
        self.approved: dict[tuple[str, str, str], tuple[TranslationEntry, TranslationEntry]] = {}
        # The survivor screens read as voice notes, and the msgids on each (bot/flows/survivor.py)
        self.screens: Mapping[str, frozenset[str]] = {}
        self._visible: tuple[str, ...] = OFFERED  # until load()

    async def load(self, screens: Mapping[str, Screen] | None = None) -> None:
        """Apply the whole log (at start); `screens`: the survivor screens read as voices."""
        self.screens = {name: msgids_of(screen) for name, screen in (screens or {}).items()}
        async with self._store.transaction() as db:
            for entry in await translation_log.entries(db):
                self._apply(entry)
        self._visible = self._visible_now()

    # --- what there is --------------------------------------------------------------------------

    def sources(self) -> tuple[Source, ...]:
        pot = self.locales_dir / f"{DOMAIN}.pot"
        return _sources(pot, pot.stat().st_mtime)

    def source(self, msgid: str) -> Source | None:
        return next((s for s in self.sources() if s.msgid == msgid), None)

    def in_catalog(self, language: str) -> frozenset[str]:
        """Msgids with a complete, reviewed (not fuzzy) translation in the committed .po, as
        compiled (bot/i18n.py)."""
        return self.catalogs.translated(language)

    def translated(self, language: str) -> frozenset[str]:
        if language == DEFAULT:
            return frozenset(s.msgid for s in self.sources())
        return self.in_catalog(language) | frozenset(self.overlay.get(language, {}))

    def french(self, source: Source, form: int = 0) -> str:
        message = _catalog(po_path(self.locales_dir, DEFAULT)).get(source.msgid)
        if message is None or not message.string:
            return source.msgid
        if isinstance(message.string, tuple):
            return message.string[min(form, len(message.string) - 1)]
        return str(message.string)

    def voice(self, language: str | None, screen: str) -> str | None:
        """The file_id of the approved voice note reading `screen` in `language`."""
        approved = self.approved.get((language or "", "voice", screen))
        return None if approved is None else approved[0].content

    def recorded(self, language: str) -> frozenset[str]:
        return frozenset(
            m for (lang, kind, m) in self.approved if lang == language and kind == "voice"
        )

    def waiting(self, language: str, kind: str) -> frozenset[str]:
        return frozenset(
            p.msgid for p in self.pending.values() if p.language == language and p.kind == kind
        )

    def queue(self, language: str, skipped: Iterable[str] = ()) -> list[Source]:
        """What is left to translate, survivor screens first; nothing waiting for review."""
        done = self.translated(language) | self.waiting(language, "text") | set(skipped)
        return [s for s in self.sources() if s.msgid not in done]

    def coverage(self, language: str) -> Coverage:
        """Approved out of all; survivor messages count as covered on a recorded screen."""
        sources = self.sources()
        translated = self.translated(language)
        heard = frozenset().union(
            *(self.screens.get(s, frozenset()) for s in self.recorded(language))
        )
        survivor = [s for s in sources if s.audience == "survivor"]
        return Coverage(
            language,
            sum(s.msgid in translated for s in sources),
            len(sources),
            sum(s.msgid in translated or s.msgid in heard for s in survivor),
            len(survivor),
        )

    def visible_languages(self) -> tuple[str, ...]:
        """The languages a survivor may choose: those offered from the start, and those whose
        survivor screens are all translated or recorded (worked out when that may change)."""
        return self._visible

    def _visible_now(self) -> tuple[str, ...]:
        return tuple(
            lang.code for lang in LANGUAGES
            if lang.offered or (self._begun(lang.code) and self.coverage(lang.code).complete)
        )  # fmt: skip

    def _begun(self, language: str) -> bool:
        """Anything at all in it: else it cannot be complete (and the catalog is not read)."""
        return bool(self.overlay.get(language) or self.in_catalog(language)
                    or self.recorded(language))  # fmt: skip

    # --- acts --------------------------------------------------------------------------------

    async def record(self, entry: TranslationEntry) -> TranslationEntry:
        """Write one act to the log, then apply it. OwnChange or AlreadyDecided when a
        decision may not be taken."""
        if entry.proposal is not None:
            proposal = self.pending.get(entry.proposal)
            if proposal is None:
                raise AlreadyDecided
            if proposal.actor == entry.actor:
                raise OwnChange
        async with self._store.transaction() as db:
            written = await translation_log.append(db, replace(entry, at=entry.at or now()))
        self._apply(written)
        if written.action == "approve":
            self._visible = self._visible_now()
        return written

    def _apply(self, entry: TranslationEntry) -> None:
        if entry.action == "propose":
            self.pending[entry.id] = entry
            return
        proposal = self.pending.pop(entry.proposal or 0, None)
        if proposal is None or entry.action != "approve":
            return
        self.approved[(proposal.language, proposal.kind, proposal.msgid)] = (proposal, entry)
        if proposal.kind == "text" and proposal.content is not None:
            forms = tuple(json.loads(proposal.content))
            self.overlay.setdefault(proposal.language, {})[proposal.msgid] = forms


def msgids_of(screen: Screen) -> frozenset[str]:
    """Every msgid a screen shows: its text, its buttons and the messages inside them."""
    found: set[str] = set()

    def walk(text: object) -> None:
        if isinstance(text, Msg):
            found.add(text.msgid)
            for _, value in text.params:
                walk(value)
        elif isinstance(text, tuple):
            for part in text:
                walk(part)

    walk(screen.body)
    walk(tuple(button.label for row in screen.buttons for button in row))
    return frozenset(found)


def preview(catalogs: Catalogs, language: str, screen: Screen) -> str:
    """A screen as a survivor reading `language` sees it: its text, then its buttons."""
    render = catalogs.translator(language).render
    text = "\n\n".join(render(part) for part in screen.body)
    labels = [f"[{render(b.label)}]" for row in screen.buttons for b in row]
    return "\n".join([text, *labels]) if labels else text


def export(translations: Translations, locales_dir: Path | None = None) -> list[Path]:
    """Write every approved translation into its language's .po: reviewed (not fuzzy), with a
    comment crediting the translator and the reviewer by role and date, never by id."""
    locales_dir = locales_dir or translations.locales_dir
    by_language: dict[str, list[tuple[TranslationEntry, TranslationEntry]]] = {}
    for (language, kind, _), pair in sorted(translations.approved.items()):
        if kind == "text":
            by_language.setdefault(language, []).append(pair)
    written: list[Path] = []
    for language, pairs in by_language.items():
        path = po_path(locales_dir, language)
        with path.open("rb") as fh:
            catalog = read_po(fh)
        for proposal, approval in pairs:
            message = catalog.get(proposal.msgid)
            if message is None or proposal.content is None:
                continue  # no longer in the catalog: nothing to write it to
            forms = tuple(json.loads(proposal.content))
            message.string = forms if isinstance(message.id, tuple) else forms[0]
            message.flags.discard("fuzzy")
            credit = (
                f"Jigiya: translated by a {proposal.role} on {_day(proposal.at)}, approved by "
                f"a{'n' if approval.role[0] in 'aeiou' else ''} {approval.role} on "
                f"{_day(approval.at)}"
            )
            message.user_comments = [
                c for c in message.user_comments if not c.startswith("Jigiya:")
            ] + [credit]
        with path.open("wb") as fh:
            write_po(fh, catalog, width=100)
        written.append(path)
    return written


def _day(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).date().isoformat()
