"""Editors' new entries and addresses applied over the CSV files, without a store or a channel
(bot/content/changes.py)."""

from __future__ import annotations

import json
from dataclasses import replace

from bot.content import Centre, load_directory
from bot.content.changes import NEW, apply_log, new_cells, typed_value
from state.directory_log import ItemKind, LogEntry

DIRECTORY = load_directory()
KITA = next(p for p in DIRECTORY.places if p.name == "Kita")
DAY = 1_796_000_000  # 2026-11-30, 00:53 UTC
SOURCE = "https://example.org/source it was on the radio"


def proposal(entry_id: int, kind: ItemKind, cells: dict[str, str]) -> LogEntry:
    return LogEntry(entry_id, DAY, 7, "propose", kind, cells["id"], NEW, None, json.dumps(cells),
                    SOURCE)  # fmt: skip


def approval(entry_id: int, of: int) -> LogEntry:
    return LogEntry(entry_id, DAY, 8, "approve", "number", "-", proposal=of)


def test_a_new_centre_sits_at_its_towns_centre_with_its_address_once_approved() -> None:
    values = {"name": "One Stop Center de Kita", "address": "Rue 12", "services": "medical"}
    cells = new_cells("centre", values, SOURCE, KITA, {"one-stop-center-de-kita"})
    assert cells["id"] == "one-stop-center-de-kita-2"  # the id in use is left alone
    waiting = apply_log(list(DIRECTORY.centres), list(DIRECTORY.numbers),
                        [proposal(1, "centre", cells)])  # fmt: skip
    assert waiting.entry("centre", cells["id"]) is None
    applied = apply_log(list(DIRECTORY.centres), list(DIRECTORY.numbers),
                        [proposal(1, "centre", cells), approval(2, 1)])  # fmt: skip
    centre = applied.entry("centre", cells["id"])
    assert isinstance(centre, Centre)
    assert (centre.town, centre.region, centre.address) == ("Kita", "Kita", "Rue 12")
    assert (centre.location, centre.coordinates) == ((KITA.latitude, KITA.longitude), "approximate")
    assert (centre.status, centre.verified_by, centre.source_url) == (
        "unverified",
        None,
        "https://example.org/source",
    )
    assert centre.last_verified.isoformat() == centre.source_date == "2026-11-30"


def test_a_number_already_listed_is_not_added_twice() -> None:
    values = {"number": "70000001", "name": "Ligne", "purpose": "Écoute."}
    first = new_cells("number", values, SOURCE, None, set())
    second = replace(proposal(2, "number", first), item_id="vbg-70000001-2")
    second = replace(second, after=json.dumps({**first, "id": "vbg-70000001-2"}))
    log = [proposal(1, "number", first), second, approval(3, 1)]
    applied = apply_log(list(DIRECTORY.centres), list(DIRECTORY.numbers), log)
    assert applied.listed("70000001")
    applied = apply_log(list(DIRECTORY.centres), list(DIRECTORY.numbers), [*log, approval(4, 2)])
    assert [n.id for n in applied.numbers if n.number == "70000001"] == ["vbg-70000001"]
    assert list(applied.added) == ["number:vbg-70000001"]  # what the export appends


def test_an_address_is_text_of_at_most_120_characters() -> None:
    assert typed_value("address", "  Rue 12,   porte 4 ") == ("Rue 12, porte 4", None)
    assert typed_value("address", "r" * 121)[1] == "text"
    assert typed_value("address", "   ")[1] == "text"
