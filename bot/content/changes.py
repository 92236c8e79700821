"""Editors' work applied over the CSV files: what each field may become, what a new entry is
made of, and the directory that results from the log (state/directory_log.py) — checks,
approved changes and new entries, numbers hidden.

Pure: no store, no channel. bot/editing.py keeps the result live while editors work.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Literal

from bot.content.geo import MALI_LATITUDE, MALI_LONGITUDE, distance_km
from bot.content.load import CENTRES_FILE, NUMBERS_FILE, read_entry
from bot.content.models import SERVICES, Centre, Number, Place, VerifiedBy
from bot.content.places import fold
from bot.content.rows import ROUND_THE_CLOCK, phone_fault, split_list
from bot.languages import DEFAULT
from state.directory_log import ItemKind, LogEntry

# What an editor may correct, per kind of entry; the position by sharing a location.
FIELDS: dict[ItemKind, tuple[str, ...]] = {
    "number": ("number", "hours"),
    "centre": ("phone", "hours", "host_facility", "address", "services", "position"),
}
# A proposal whose field is NEW adds a whole entry: its `after` holds the entry's CSV cells as
# JSON, its `reason` the source. What an editor gives for one, in the order asked (a centre's
# town is picked among the known places, its services ticked last); OPTIONAL may stay empty.
NEW = "new"
NEW_FIELDS: dict[ItemKind, tuple[str, ...]] = {
    "number": ("number", "name", "purpose", "hours"),
    "centre": ("name", "town", "host_facility", "address", "phone", "hours", "services"),
}
OPTIONAL = frozenset({"hours", "host_facility", "address", "phone"})
REASONS = ("no_answer", "wrong_number", "closed", "moved")
HIDE_AFTER = 2  # different people finding a number not working hide it from survivors
MOVE_KM = 50  # a position farther than this from the centre's town is confirmed first
MAX_TEXT = 120  # a host facility's name, an address, an hours line, a new entry's name
MAX_SOURCE = 200  # the line saying how an editor knows
_LINK = re.compile(r"https?://[^\s/]+\.[^\s]+", re.IGNORECASE)

_DAY = r"(lun|mar|mer|jeu|ven|sam|dim)"
_DAYS = rf"({_DAY}(-{_DAY})?(, ?{_DAY}(-{_DAY})?)*|tous les jours)"
_TIMES = r"\d{2}:\d{2}-\d{2}:\d{2}(, ?\d{2}:\d{2}-\d{2}:\d{2})*"
HOURS = re.compile(rf"{_DAYS} {_TIMES}(; ?{_DAYS} {_TIMES})*", re.IGNORECASE)
_CLOCK = re.compile(r"(\d{2}):(\d{2})")


def key(kind: ItemKind, item_id: str) -> str:
    return f"{kind}:{item_id}"


# --- what a value may be -------------------------------------------------------------------

Fault = Literal["phone", "hours", "text", "outside", "far", "listed", "town", "link"]


def typed_value(item_field: str, text: str) -> tuple[str, Fault | None]:
    """A typed correction, as it will be stored, or what is wrong with it."""
    text = " ".join(text.split())
    if item_field in ("number", "phone"):
        digits = "".join(c for c in text if c.isascii() and c.isdecimal())
        if not digits or len(digits) != len(text.replace(" ", "")) or phone_fault(digits):
            return text, "phone"
        return digits, None
    if item_field == "hours":
        ok = HOURS.fullmatch(text) and not ROUND_THE_CLOCK.search(text) and _times_ok(text)
        return text, None if ok else "hours"
    if not text or len(text) > MAX_TEXT:
        return text, "text"
    return text, None


def _times_ok(text: str) -> bool:
    return all(int(h) < 24 and int(m) < 60 for h, m in _CLOCK.findall(text))


def position_fault(
    centre: Centre, town: tuple[float, float] | None, lat: float, lon: float
) -> Fault | None:
    """A shared position must be in Mali, and near the centre's town unless the move is
    confirmed."""
    if not (MALI_LATITUDE[0] <= lat <= MALI_LATITUDE[1]):
        return "outside"
    if not (MALI_LONGITUDE[0] <= lon <= MALI_LONGITUDE[1]):
        return "outside"
    if town is not None and distance_km(lat, lon, *town) > MOVE_KM:
        return "far"
    return None


def display(digits: str) -> str:
    """A number as people read it: 80 00 11 32, 80 333."""
    if len(digits) == 8:
        return " ".join(digits[i : i + 2] for i in range(0, 8, 2))
    return f"{digits[:2]} {digits[2:]}"


def current(entry: Centre | Number, item_field: str) -> str:
    """A field's value as the log writes it."""
    if item_field == "position":
        assert isinstance(entry, Centre)
        if entry.location is None:
            return ""
        return f"{entry.location[0]:.5f},{entry.location[1]:.5f}"
    if item_field == "services":
        assert isinstance(entry, Centre)
        return ";".join(entry.services)
    return str(getattr(entry, item_field))


# --- new entries ---------------------------------------------------------------------------


def source_link(text: str) -> str | None:
    """The web link a new entry's source line must hold: every row of content/ has one."""
    match = _LINK.search(text)
    return match[0] if match else None


def new_cells(
    kind: ItemKind, values: dict[str, str], source: str, town: Place | None, taken: Collection[str]
) -> dict[str, str]:
    """A new entry's CSV cells from what an editor gave (checked by typed_value, the town known,
    the source holding a link); its dates are the day it is proposed. `taken`: ids in use. A
    new number is a free line (survivors are given free lines only: the editor is told so),
    not an emergency one; a new centre is placed at its town's centre, `approximate` until
    someone shares its position standing there."""
    common = {
        "source_url": source_link(source) or "", "status": "unverified",
        "notes": f"Added in the bot by an editor, approved by another. Source given: {source}",
        "hours": values.get("hours", ""),
    }  # fmt: skip
    if kind == "number":
        digits = values["number"]
        return {
            "id": _free_id(f"vbg-{digits}", taken), "number": digits, "display": display(digits),
            f"name_{DEFAULT}": values["name"], f"purpose_{DEFAULT}": values["purpose"],
            "kind": "gbv", "free": "true", "emergency": "false", **common,
        }  # fmt: skip
    assert town is not None
    slug = "-".join(fold(values["name"]).split())[:36].strip("-") or "centre"
    return {
        "id": _free_id(slug, taken), "name": values["name"],
        "host_facility": values.get("host_facility", ""), "town": town.name,
        "region": town.region, "latitude": f"{town.latitude:.5f}",
        "longitude": f"{town.longitude:.5f}", "coordinates": "approximate",
        "services": values["services"], "phone": values.get("phone", ""), "operator": "",
        "opened": "", "address": values.get("address", ""), **common,
    }  # fmt: skip


def _free_id(wanted: str, taken: Collection[str]) -> str:
    found, n = wanted, 1
    while found in taken:
        n += 1
        found = f"{wanted[:36]}-{n}"
    return found


def proposed(proposal: LogEntry) -> tuple[dict[str, str], Centre | Number] | None:
    """The cells and the entry a NEW proposal adds, dated the day it was proposed; None if they
    do not read as a row of content/."""
    try:
        cells = json.loads(proposal.after or "")
    except ValueError:
        return None
    if not isinstance(cells, dict):
        return None
    day = _day(proposal.at).isoformat()
    cells = {str(k): str(v) for k, v in cells.items()} | {"source_date": day, "last_verified": day}
    file = CENTRES_FILE if proposal.item_kind == "centre" else NUMBERS_FILE
    entry = read_entry(file, cells)
    return None if entry is None else (cells, entry)


def _with_centre(centre: Centre, item_field: str, value: str) -> Centre:
    if item_field == "position":
        latitude, longitude = (float(part) for part in value.split(","))
        return replace(centre, latitude=latitude, longitude=longitude, coordinates="facility")
    if item_field == "services":
        return replace(centre, services=tuple(s for s in SERVICES if s in split_list(value)))
    if item_field == "phone":
        return replace(centre, phone=value)
    if item_field == "hours":
        return replace(centre, hours=value)
    if item_field == "address":
        return replace(centre, address=value)
    return replace(centre, host_facility=value)


def _with_number(number: Number, item_field: str, value: str) -> Number:
    if item_field == "number":
        return replace(number, number=value, display=display(value))
    return replace(number, hours=value)


# --- the log, applied ----------------------------------------------------------------------


@dataclass
class Applied:
    centres: list[Centre]
    numbers: list[Number]  # all of them, hidden ones too (editors check those again)
    hidden: set[str] = field(default_factory=set)  # keys of numbers survivors are not shown
    pending: dict[int, LogEntry] = field(default_factory=dict)  # proposals and reports, by id
    reporters: dict[str, set[int]] = field(default_factory=dict)  # since it last worked
    checked: dict[str, int] = field(default_factory=dict)  # key -> when an editor last checked
    added: dict[str, dict[str, str]] = field(default_factory=dict)  # key -> new entries' cells

    def entry(self, kind: ItemKind, item_id: str) -> Centre | Number | None:
        entries: list[Centre] | list[Number] = self.centres if kind == "centre" else self.numbers
        return next((e for e in entries if e.id == item_id), None)

    def visible_numbers(self) -> list[Number]:
        return [n for n in self.numbers if key("number", n.id) not in self.hidden]

    def taken_ids(self) -> set[str]:
        """Ids in use, and those new entries waiting for approval will take."""
        waiting = {p.item_id for p in self.pending.values() if p.field == NEW}
        return {c.id for c in self.centres} | {n.id for n in self.numbers} | waiting

    def listed(self, digits: str) -> bool:
        """A number already in the directory, or waiting to be added."""
        waiting = [p.after or "" for p in self.pending.values() if p.field == NEW]
        return any(n.number == digits for n in self.numbers) or any(
            json.loads(after).get("number") == digits for after in waiting
        )


def apply_log(centres: list[Centre], numbers: list[Number], log: list[LogEntry]) -> Applied:
    """The directory after every entry of the log, oldest first."""
    applied = Applied(list(centres), list(numbers))
    for entry in log:
        apply_entry(applied, entry)
    return applied


def apply_entry(applied: Applied, entry: LogEntry) -> None:
    item = key(entry.item_kind, entry.item_id)
    if entry.action == "works":
        how: VerifiedBy = "visit" if entry.reason == "visit" else "phone"
        day = _day(entry.at)
        if entry.item_kind == "centre":
            applied.centres = [
                replace(c, last_verified=day, verified_by=how) if c.id == entry.item_id else c
                for c in applied.centres
            ]
        else:
            applied.numbers = [
                replace(n, last_verified=day, verified_by=how) if n.id == entry.item_id else n
                for n in applied.numbers
            ]
        applied.hidden.discard(item)
        applied.reporters.pop(item, None)
        applied.checked[item] = entry.at
        for report in [p for p in applied.pending.values() if _is_report(p, item)]:
            del applied.pending[report.id]  # it works again: the report is moot
    elif entry.action == "broken":
        reporters = applied.reporters.setdefault(item, set())
        reporters.add(entry.actor)
        applied.checked[item] = entry.at
        applied.pending[entry.id] = entry
        if entry.item_kind == "number" and len(reporters) >= HIDE_AFTER:
            applied.hidden.add(item)
    elif entry.action == "propose":
        applied.pending[entry.id] = entry
    elif entry.action in ("approve", "reject") and entry.proposal in applied.pending:
        proposal = applied.pending.pop(entry.proposal)
        if entry.action == "approve":
            _approve(applied, proposal, entry)


def _approve(applied: Applied, proposal: LogEntry, decision: LogEntry) -> None:
    item = key(proposal.item_kind, proposal.item_id)
    if proposal.action == "broken":
        if proposal.item_kind == "number":
            applied.hidden.add(item)
        return
    assert proposal.field is not None
    assert proposal.after is not None
    if proposal.field == NEW:
        _add(applied, proposal)
        return
    base = applied.entry(proposal.item_kind, proposal.item_id)
    # A CSV file checked after the change was approved wins: it is newer.
    if base is None or base.last_verified > _day(decision.at):
        return
    item_field, value = proposal.field, proposal.after
    if proposal.item_kind == "centre":
        applied.centres = [_with_centre(c, item_field, value) if c.id == proposal.item_id else c
                           for c in applied.centres]  # fmt: skip
    else:
        applied.numbers = [_with_number(n, item_field, value) if n.id == proposal.item_id else n
                           for n in applied.numbers]  # fmt: skip


def _add(applied: Applied, proposal: LogEntry) -> None:
    """A new entry joins the directory, unless the CSV files have it already (they are newer)."""
    found = proposed(proposal)
    if found is None or applied.entry(proposal.item_kind, found[1].id) is not None:
        return
    cells, entry = found
    if isinstance(entry, Centre):
        applied.centres.append(entry)
    elif any(n.number == entry.number for n in applied.numbers):
        return
    else:
        applied.numbers.append(entry)
    applied.added[key(proposal.item_kind, entry.id)] = cells


def _is_report(entry: LogEntry, item: str) -> bool:
    return entry.action == "broken" and key(entry.item_kind, entry.item_id) == item


def _day(timestamp: int) -> date:
    return datetime.fromtimestamp(timestamp, UTC).date()
