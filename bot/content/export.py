"""`python -m bot content export DIR`: the directory with every approved change applied, written
as the CSV files of content/ (same columns, same rows, same order), so that a reviewed commit can
bring the repository up to date. Only the cells editors can change are rewritten; entries editors
added come last, in the order they were approved."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from pathlib import Path

from bot.content.changes import Applied
from bot.content.load import (
    ADDRESS_COLUMN,
    CENTRES_FILE,
    NUMBERS_FILE,
    PLACES_FILE,
    VERIFIED_BY_COLUMN,
)
from bot.content.models import Centre, Number

Cells = Callable[[dict[str, str]], dict[str, str]]


def export(content_dir: Path, applied: Applied, out_dir: Path) -> list[Path]:
    """Write the three files to `out_dir`; the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    centres = {c.id: c for c in applied.centres}
    numbers = {n.id: n for n in applied.numbers}

    def added(kind: str) -> list[dict[str, str]]:
        return [cells for item, cells in applied.added.items() if item.startswith(f"{kind}:")]

    written = [
        _rewrite(content_dir / CENTRES_FILE, out_dir / CENTRES_FILE, added("centre"),
                 lambda row: _centre_cells(centres.get(row["id"])), ADDRESS_COLUMN),
        _rewrite(content_dir / NUMBERS_FILE, out_dir / NUMBERS_FILE, added("number"),
                 lambda row: _number_cells(numbers.get(row["id"]))),
    ]  # fmt: skip
    shutil.copyfile(content_dir / PLACES_FILE, out_dir / PLACES_FILE)
    return [*written, out_dir / PLACES_FILE]


def _rewrite(
    source: Path, target: Path, new_rows: list[dict[str, str]], cells: Cells, *optional: str
) -> Path:
    with source.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        header = list(reader.fieldnames or [])
        rows = list(reader)
    header += [column for column in (VERIFIED_BY_COLUMN, *optional) if column not in header]
    with target.open("w", encoding="utf-8", newline="") as handle:
        # A new row's cell for a column this file lacks (a language's texts) is left out.
        writer = csv.DictWriter(handle, header, lineterminator="\n", extrasaction="ignore")
        writer.writeheader()
        for row in [*rows, *new_rows]:
            writer.writerow({**row, **cells(row)})
    return target


def _common(entry: Centre | Number) -> dict[str, str]:
    return {
        "hours": entry.hours,
        "last_verified": entry.last_verified.isoformat(),
        VERIFIED_BY_COLUMN: entry.verified_by or "",
    }


def _centre_cells(centre: Centre | None) -> dict[str, str]:
    if centre is None:
        return {}
    cells = {**_common(centre), "phone": centre.phone, "host_facility": centre.host_facility,
             "services": ";".join(centre.services), ADDRESS_COLUMN: centre.address}  # fmt: skip
    if centre.coordinates == "facility" and centre.location is not None:
        cells |= {"latitude": f"{centre.location[0]:.5f}", "longitude": f"{centre.location[1]:.5f}",
                  "coordinates": "facility"}  # fmt: skip
    return cells


def _number_cells(number: Number | None) -> dict[str, str]:
    if number is None:
        return {}
    return {**_common(number), "number": number.number, "display": number.display}
