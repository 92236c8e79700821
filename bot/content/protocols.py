"""Officer protocols: one TOML file per protocol in content/protocols/ (see the README there).

Each item is a short imperative line with an optional reason ("why"), per language: French is
required, English and Bambara fall back to it. Each protocol names its sources and the day it was
last reviewed; points specific to Mali that no source confirms carry `confirm_locally`. Some
steps are mandatory (`MANDATORY`): a protocol without one of them does not load.
Channel-free: nothing here knows about Telegram.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.content.directory import CONTENT_DIR, ContentError
from bot.content.rows import FORBIDDEN_NUMBERS, STALE_AFTER_DAYS
from bot.languages import CODES, DEFAULT, LANGUAGES

PROTOCOLS_DIR = CONTENT_DIR / "protocols"
# French first: the others fall back to it (bot/languages.py).
# The languages whose missing texts are worth a warning: those offered to everyone.
LANGUAGE_NAMES = {
    lang.code: lang.english for lang in LANGUAGES if lang.code != DEFAULT and lang.offered
}
REVIEW_STATUSES = ("draft", "validated")
REQUIRED = ("first-contact", "vslc")  # the VBG/VSLC decision aid leads to these two
# Steps a protocol may not lose (issue 17, points 8 to 10), by item id: what each one is for is
# said in the check's error. A protocol not shipped is not checked, except those REQUIRED.
MANDATORY: dict[str, dict[str, str]] = {
    "first-contact": {
        "danger-first": "urgent care before the statement",
        "no-confrontation": "never confront the survivor with the suspect",
        "trained-officer": "a woman officer if the survivor asks",
        "need-to-know": "nobody told (husband, family, village chief) without consent",
        "must-report": "what the officer must report, said first",
    },
    "medical": {
        "no-complaint-needed": "care without a complaint",
        "no-virginity-test": "no virginity test",
        "certificate": "no complaint refused for lack of a certificate or fees",
    },
    "statement": {
        "care-first": "urgent care before the statement",
        "no-confrontation": "never confront the survivor with the suspect",
        "private-trained": "a woman officer if the survivor asks",
        "no-orientation": "no question on sexual orientation",
        "no-refusal": "no complaint refused for lack of a certificate or fees",
        "no-mediation": "no penal mediation for sexual offences",
        "confidential": "nobody told (husband, family, village chief) without consent",
    },
    "evidence": {
        "no-washing": "washing does not prevent a complaint",
        "paper-bags": "one item per paper bag, air-dried, sealed, labelled",
        "chain-of-custody": "the chain of custody written",
        "health-staff": "body samples by health staff only",
        "no-virginity-test": "no virginity test",
        "certificate": "no complaint refused for lack of a certificate or fees",
    },
    "child": {
        "under-18": "a child is anyone under 18",
        "no-secret": "never promise secrecy",
        "apart": "one interview, away from any suspect",
        "caregiver": "a caregiver who is not pushing for a settlement",
        "marriage": "forced and child marriage",
        "refer-bcpem": "the juge des enfants and the child-protection service",
    },
    "vslc": {
        "services-first": "services before any interview",
        "no-repeat": "no repeated interviews",
        "security-forces": "a suspect in the security forces: not through the chain of command",
        "procureur": "the procureur informed",
    },
}
MAX_ITEMS = 20  # two buttons per item, in one message
MAX_CHECKLIST_CHARS = 3500  # a checklist is one Telegram message: 4096 characters at most

# Short ids: they travel in button data, "off:tick:<protocol>:<item>", at most 64 bytes.
_PROTOCOL_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,15}")
_ITEM_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,23}")
# A number standing alone: not part of a date, a section number or a bigger number.
_LONE_NUMBER = re.compile(r"(?<![\d.,/:§-])\d+(?![\d/:-]|[.,]\d)")

_TOP_KEYS = frozenset(
    {"id", "order", "last_reviewed", "review_status", "reviewed_by", "title", "intro", "sources",
     "items"}
)  # fmt: skip
_SOURCE_KEYS = frozenset({"id", "title", "url"})
_ITEM_KEYS = frozenset({"id", "sources", "confirm_locally", "text", "why"})

Texts = tuple[tuple[str, str], ...]  # (language, text) pairs, French first


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    url: str  # empty when the source has no public address


@dataclass(frozen=True)
class Item:
    id: str
    text: Texts
    why: Texts  # empty when no reason is given
    sources: tuple[str, ...]
    confirm_locally: bool


@dataclass(frozen=True)
class Protocol:
    id: str
    order: int
    title: Texts
    intro: Texts
    items: tuple[Item, ...]
    sources: tuple[Source, ...]
    last_reviewed: date
    review_status: str
    reviewed_by: str

    def item(self, item_id: str) -> Item | None:
        return next((item for item in self.items if item.id == item_id), None)


@dataclass
class ProtocolReport:
    protocols: list[Protocol] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class Protocols:
    """The protocols the bot offers, in their `order`."""

    def __init__(self, protocols: Sequence[Protocol]) -> None:
        self.all = tuple(sorted(protocols, key=lambda p: (p.order, p.id)))
        self._by_id = {p.id: p for p in self.all}

    def get(self, protocol_id: str) -> Protocol | None:
        return self._by_id.get(protocol_id)

    def __iter__(self) -> Iterator[Protocol]:
        return iter(self.all)

    def __len__(self) -> int:
        return len(self.all)


def load_protocols(directory: Path = PROTOCOLS_DIR) -> Protocols:
    """Load and validate every protocol; raise ContentError listing every problem if any."""
    report = read_protocols(directory)
    if report.errors:
        raise ContentError(report.errors)
    return Protocols(report.protocols)


def read_protocols(directory: Path = PROTOCOLS_DIR, today: date | None = None) -> ProtocolReport:
    """Read every *.toml file. A file with an error is left out; with `today`, review dates in
    the future are errors and reviews over 12 months old are warnings."""
    report = ProtocolReport()
    files = sorted(directory.glob("*.toml"))
    if not files:
        report.errors.append(f"protocols: no .toml file in {directory}")
    for path in files:
        reader = _FileReader(path, report, today)
        protocol = reader.read()
        if protocol is not None and reader.ok:
            report.protocols.append(protocol)
    for protocol in report.protocols:
        have = {item.id for item in protocol.items}
        for item_id, what in MANDATORY.get(protocol.id, {}).items():
            if item_id not in have:
                report.errors.append(
                    f"protocols/{protocol.id}.toml: mandatory step {item_id!r} is missing ({what})"
                )
    ids = {p.id for p in report.protocols}
    for required in REQUIRED:
        if required not in ids:
            report.errors.append(
                f"protocols: {required}.toml is missing: the VBG/VSLC decision aid leads to it"
            )
    return report


class _FileReader:
    """Reads one file, noting every fault with where it is, and builds the protocol."""

    def __init__(self, path: Path, report: ProtocolReport, today: date | None) -> None:
        self.path, self.report, self.today = path, report, today
        self.file = f"protocols/{path.name}"
        self.ok = True

    def fail(self, where: str, message: str) -> None:
        self.ok = False
        self.report.errors.append(f"{self.file}{where}: {message}")

    def warn(self, message: str) -> None:
        self.report.warnings.append(f"{self.file}: {message}")

    def read(self) -> Protocol | None:
        try:
            with self.path.open("rb") as handle:
                data = tomllib.load(handle)
        except tomllib.TOMLDecodeError as exc:
            self.fail("", f"not valid TOML: {exc}")
            return None
        except UnicodeDecodeError:
            self.fail("", "not UTF-8")
            return None
        self._unknown("", data, _TOP_KEYS)
        protocol_id = self._id("", data, _PROTOCOL_ID, 16)
        if protocol_id and protocol_id != self.path.stem:
            self.fail("", f"id {protocol_id!r} must match the file name ({self.path.stem})")
        sources = self._sources(data.get("sources"))
        items = self._items(data.get("items"), {s.id for s in sources})
        protocol = Protocol(
            id=protocol_id,
            order=self._order(data.get("order")),
            title=self._texts(" title", data.get("title"), required=True),
            intro=self._texts(" intro", data.get("intro"), required=False),
            items=items,
            sources=sources,
            last_reviewed=self._reviewed(data.get("last_reviewed")),
            review_status=self._review_status(data.get("review_status")),
            reviewed_by=self._string("", "reviewed_by", data.get("reviewed_by")),
        )
        if self.ok:
            self._advise(protocol)
        return protocol

    # --- fields -----------------------------------------------------------------------------

    def _unknown(self, where: str, table: dict[str, Any], known: frozenset[str]) -> None:
        for key in sorted(set(table) - known):
            self.fail(where, f"unknown key {key!r} (known: {', '.join(sorted(known))})")

    def _id(self, where: str, table: dict[str, Any], pattern: re.Pattern[str], size: int) -> str:
        value = table.get("id")
        if not isinstance(value, str) or not pattern.fullmatch(value):
            self.fail(where, f"id {value!r} is not an id: a-z, 0-9 and '-', at most {size} long")
            return ""
        return value

    def _string(self, where: str, key: str, value: object) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(where, f"{key} is required: a non-empty text")
            return ""
        return value.strip()

    def _order(self, value: object) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            self.fail("", "order is required: a whole number (protocols are listed by it)")
            return 0
        return value

    def _reviewed(self, value: object) -> date:
        if type(value) is not date:  # a datetime is a date too: refuse it
            self.fail("", "last_reviewed is required: a date written 2026-11-29, without quotes")
            return date.min
        if self.today is not None and value > self.today:
            self.fail("", f"last_reviewed {value} is in the future")
        elif self.today is not None and (self.today - value).days > STALE_AFTER_DAYS:
            self.warn(f"last reviewed on {value}, over 12 months ago: review it again")
        return value

    def _review_status(self, value: object) -> str:
        if value not in REVIEW_STATUSES:
            self.fail("", f"review_status {value!r} is not one of: {', '.join(REVIEW_STATUSES)}")
            return "draft"
        return str(value)

    def _texts(self, where: str, value: object, *, required: bool) -> Texts:
        if value is None and not required:
            return ()
        if not isinstance(value, dict):
            self.fail(where, 'expected one text per language, for example fr = "..."')
            return ()
        self._unknown(where, value, frozenset(CODES))
        texts: list[tuple[str, str]] = []
        for language in CODES:
            text = value.get(language)
            if text is None:
                continue
            if not isinstance(text, str) or not text.strip():
                self.fail(where, f"{language} must be a non-empty text")
                continue
            for number in _LONE_NUMBER.findall(text):
                if number in FORBIDDEN_NUMBERS:
                    self.fail(where, f"{language} mentions {number}, which must never be shipped")
            texts.append((language, " ".join(text.split())))
        if not any(language == "fr" for language, _ in texts):
            self.fail(where, "French (fr) is required: the other languages fall back to it")
        return tuple(texts)

    def _sources(self, value: object) -> tuple[Source, ...]:
        if not isinstance(value, list) or not value:
            self.fail("", "sources are required: one or more [[sources]] with an id and a title")
            return ()
        sources: list[Source] = []
        for number, entry in enumerate(value, start=1):
            where = f" source {number}"
            if not isinstance(entry, dict):
                self.fail(where, "expected a [[sources]] table")
                continue
            source_id = self._id(where, entry, _ITEM_ID, 24)
            where = f" source {source_id or number}"
            self._unknown(where, entry, _SOURCE_KEYS)
            if source_id and any(s.id == source_id for s in sources):
                self.fail(where, f"duplicate source id {source_id!r}")
            title = self._string(where, "title", entry.get("title"))
            sources.append(Source(source_id, title, self._url(where, entry.get("url", ""))))
        return tuple(sources)

    def _url(self, where: str, value: object) -> str:
        if value == "":
            return ""
        parts = urlsplit(value) if isinstance(value, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            self.fail(where, f"url {value!r} is not an http(s) URL")
            return ""
        return str(value)

    def _items(self, value: object, source_ids: set[str]) -> tuple[Item, ...]:
        if not isinstance(value, list) or not value:
            self.fail("", "items are required: one or more [[items]]")
            return ()
        if len(value) > MAX_ITEMS:
            self.fail("", f"{len(value)} items: at most {MAX_ITEMS} fit in one checklist")
        items: list[Item] = []
        for number, entry in enumerate(value, start=1):
            where = f" item {number}"
            if not isinstance(entry, dict):
                self.fail(where, "expected an [[items]] table")
                continue
            item_id = self._id(where, entry, _ITEM_ID, 24)
            where = f" item {item_id or number}"
            self._unknown(where, entry, _ITEM_KEYS)
            if item_id and any(i.id == item_id for i in items):
                self.fail(where, f"duplicate item id {item_id!r}: ids must be unique and stable")
            cited = entry.get("sources")
            if not isinstance(cited, list) or not cited:
                self.fail(where, "sources are required: the ids of the sources it comes from")
                cited = []
            for source in cited:
                if source not in source_ids:
                    self.fail(where, f"source {source!r} is not among the protocol's [[sources]]")
            confirm = entry.get("confirm_locally", False)
            if not isinstance(confirm, bool):
                self.fail(where, "confirm_locally must be true or false")
            items.append(
                Item(
                    id=item_id,
                    text=self._texts(f"{where} text", entry.get("text"), required=True),
                    why=self._texts(f"{where} why", entry.get("why"), required=False),
                    sources=tuple(str(s) for s in cited),
                    confirm_locally=confirm is True,
                )
            )
        return tuple(items)

    # --- what needs a human -------------------------------------------------------------------

    def _advise(self, protocol: Protocol) -> None:
        if protocol.review_status == "draft":
            self.warn("draft: have a Malian partner validate it, then set review_status")
        local = [item.id for item in protocol.items if item.confirm_locally]
        if local:
            self.warn(f"{len(local)} point(s) to confirm locally: {', '.join(local)}")
        for language, name in LANGUAGE_NAMES.items():
            missing = [
                label for label, texts in _fields(protocol) if texts and language not in dict(texts)
            ]
            if missing:
                self.warn(
                    f"{len(missing)} text(s) not in {name} ({language}), shown in French "
                    f"instead: {', '.join(missing)}"
                )
        for language in CODES:
            size = sum(len(_in(texts, language)) + 8 for _, texts in _fields(protocol, why=False))
            if size > MAX_CHECKLIST_CHARS:
                self.fail("", f"too long in {language} for one message: shorten the items")


def _fields(protocol: Protocol, *, why: bool = True) -> Iterator[tuple[str, Texts]]:
    yield "title", protocol.title
    yield "intro", protocol.intro
    for item in protocol.items:
        yield f"item {item.id}", item.text
        if why:
            yield f"why {item.id}", item.why


def _in(texts: Texts, language: str) -> str:
    found = dict(texts)
    return found.get(language) or found.get("fr", "")
