"""Read and validate the three CSV files; every problem names its file, row, column and fault.

Rows are numbered as a spreadsheet shows them: the header is row 1. A row with any error is left
out of the result, and the errors say why; warnings never leave anything out.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import TypeVar

from bot.content.geo import MALI_LATITUDE, MALI_LONGITUDE
from bot.content.models import (
    COORDINATE_KINDS,
    NUMBER_KINDS,
    REGION_CAPITALS,
    SERVICES,
    STATUSES,
    VERIFIED_BY,
    Centre,
    Number,
    Place,
)
from bot.content.places import fold
from bot.content.rows import ROUND_THE_CLOCK, Content, Problem, Row, split_list
from bot.flows.screens import Localized
from bot.languages import CODES, DEFAULT

CENTRES_FILE = "centres.csv"
NUMBERS_FILE = "numbers.csv"
PLACES_FILE = "places.csv"

CENTRE_COLUMNS = (
    "id", "name", "host_facility", "town", "region", "latitude", "longitude", "coordinates",
    "services", "hours", "phone", "operator", "opened", "source_url", "source_date",
    "last_verified", "status", "notes",
)  # fmt: skip
# Texts people read come per language: `name_fr`, `purpose_en`... (bot/languages.py). French is
# required; another language's column is optional, and French is shown where it is empty.
LOCALIZED_NUMBER_FIELDS = ("name", "purpose")
NUMBER_COLUMNS = (
    "id", "number", "display", *(f"{field}_{DEFAULT}" for field in LOCALIZED_NUMBER_FIELDS),
    "hours", "kind", "free", "emergency", "source_url", "source_date", "last_verified", "status",
    "notes",
)  # fmt: skip
# Empty until an editor calls or visits (bot/editing.py); `content export` fills it.
VERIFIED_BY_COLUMN = "verified_by"
# A centre's street address, as a source or an editor gives it: empty until one does (never
# made up from coordinates). Optional, like `verified_by`: `content export` adds it.
ADDRESS_COLUMN = "address"
OPTIONAL_CENTRE_COLUMNS = (VERIFIED_BY_COLUMN, ADDRESS_COLUMN)
OPTIONAL_NUMBER_COLUMNS = (
    *(f"{field}_{code}" for field in LOCALIZED_NUMBER_FIELDS for code in CODES if code != DEFAULT),
    VERIFIED_BY_COLUMN,
)
PLACE_COLUMNS = (
    "id", "geonameid", "name", "ascii_name", "alt_names", "region", "latitude", "longitude",
    "population", "source", "notes",
)  # fmt: skip

R = TypeVar("R")


def read_content(content_dir: Path, today: date | None = None) -> Content:
    """Read all three files. With `today`, also flag future dates and entries not verified in
    the last 180 days."""
    content = Content()
    ids: dict[str, str] = {}  # centres and numbers share ids: both travel in button data
    content.places = _read(content_dir / PLACES_FILE, PLACE_COLUMNS, _place, content, today, {})
    content.centres = _read(
        content_dir / CENTRES_FILE, CENTRE_COLUMNS, _centre, content, today, ids,
        optional=OPTIONAL_CENTRE_COLUMNS,
    )  # fmt: skip
    content.numbers = _read(
        content_dir / NUMBERS_FILE, NUMBER_COLUMNS, _number, content, today, ids,
        optional=OPTIONAL_NUMBER_COLUMNS,
    )  # fmt: skip
    _check_links(content)
    return content


def read_entry(file: str, cells: dict[str, str]) -> Centre | Number | None:
    """One row, given as its cells, checked as a row of `file` (an entry editors added in the
    bot, bot/content/changes.py); None if it has any error."""
    row = Row(file, 0, cells, Content(), None)
    entry = _centre(row) if file == CENTRES_FILE else _number(row)
    return entry if row.ok else None


def _read(
    path: Path,
    columns: tuple[str, ...],
    build: Callable[[Row], R],
    content: Content,
    today: date | None,
    ids: dict[str, str],
    *,
    optional: tuple[str, ...] = (),
) -> list[R]:
    records: list[R] = []
    for row in _rows(path, columns, content, today, optional):
        record = build(row)
        if row.record in ids:
            row.fail("id", f"duplicate id {row.record!r}: also {ids[row.record]}")
        elif row.record:
            ids[row.record] = f"{row.file} row {row.row}"
        if row.ok:
            records.append(record)
            content.rows[row.file, row.record] = row.row
    return records


def _localized(row: Row, field: str) -> Localized:
    """A text in each language that has one; French is required."""
    return Localized.of(
        **{code: row.text(f"{field}_{code}", required=code == DEFAULT) for code in CODES}
    )


def _rows(
    path: Path,
    columns: tuple[str, ...],
    content: Content,
    today: date | None,
    optional: tuple[str, ...] = (),
) -> Iterator[Row]:
    file = path.name
    try:
        # utf-8-sig: spreadsheets often save a byte-order mark at the start of the file
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = [name.strip() for name in reader.fieldnames or []]
            missing = [name for name in columns if name not in header]
            if missing:
                content.errors.append(Problem(file, f"missing column(s): {', '.join(missing)}"))
                return
            for name in header:
                if name not in columns and name not in optional:
                    content.warnings.append(Problem(file, f"column {name!r} is not used"))
            reader.fieldnames = header
            for number, raw in enumerate(reader, start=2):
                if None in raw:
                    content.errors.append(Problem(file, "more cells than columns", number))
                    continue
                cells = {key: (value or "").strip() for key, value in raw.items()}
                if any(cells.values()):  # spreadsheets leave empty rows behind
                    yield Row(file, number, cells, content, today)
    except FileNotFoundError:
        content.errors.append(Problem(file, f"file not found in {path.parent}"))
    except UnicodeDecodeError:
        content.errors.append(Problem(file, "not UTF-8: save it as 'CSV UTF-8'"))
    except csv.Error as exc:
        content.errors.append(Problem(file, f"not a readable CSV file: {exc}"))


def _place(row: Row) -> Place:
    ascii_name = row.text("ascii_name", required=True)
    if not ascii_name.isascii():
        row.fail("ascii_name", f"{ascii_name!r} has non-ASCII letters")
    return Place(
        id=row.ident(),
        geonameid=row.whole("geonameid"),
        name=row.text("name", required=True),
        ascii_name=ascii_name,
        alt_names=split_list(row.text("alt_names")),
        region=row.region(),
        latitude=row.real("latitude", MALI_LATITUDE, required=True) or 0.0,
        longitude=row.real("longitude", MALI_LONGITUDE, required=True) or 0.0,
        population=row.whole("population"),
        source=row.text("source", required=True),
        notes=row.text("notes"),
    )


def _centre(row: Row) -> Centre:
    latitude = row.real("latitude", MALI_LATITUDE, required=False)
    longitude = row.real("longitude", MALI_LONGITUDE, required=False)
    kind = row.text("coordinates")
    if (latitude is None) != (longitude is None):
        row.fail("longitude", "latitude and longitude go together: fill both or neither")
    elif latitude is not None and not kind:
        row.fail("coordinates", "required with coordinates: approximate or facility")
    elif latitude is None and kind:
        row.fail("coordinates", "must be empty when there are no coordinates")
    elif latitude is None:
        row.warn("latitude", "no coordinates: nearest-centre search cannot offer this centre")
    hours = row.text("hours")
    if ROUND_THE_CLOCK.search(hours):
        row.fail("hours", "a centre's hours must never say 24/7 (sources-mali §1.1, §6)")
    row.shown("name", "host_facility", "hours", ADDRESS_COLUMN)
    centre = Centre(
        id=row.ident(),
        name=row.text("name", required=True),
        host_facility=row.text("host_facility"),
        town=row.text("town", required=True),
        region=row.region(),
        latitude=latitude,
        longitude=longitude,
        coordinates=row.choice("coordinates", COORDINATE_KINDS) if kind else None,
        services=row.choices("services", SERVICES),
        hours=hours,
        phone=row.phone("phone", required=False),
        operator=row.text("operator"),
        opened=row.partial_date("opened"),
        source_url=row.url("source_url"),
        source_date=row.partial_date("source_date"),
        last_verified=row.day("last_verified"),
        status=row.choice("status", STATUSES) or "unverified",
        notes=row.text("notes"),
        verified_by=row.choice(VERIFIED_BY_COLUMN, VERIFIED_BY, required=False),
        address=row.text(ADDRESS_COLUMN),
    )
    _warn_on_status(row, centre.status, centre.source_date)
    row.dated(centre.opened, centre.source_date, centre.last_verified)
    return centre


def _number(row: Row) -> Number:
    number = row.phone("number", required=True)
    display = row.text("display", required=True)
    if number and display.replace(" ", "") != number:
        row.fail("display", f"{display!r} does not match number {number}")
    kind = row.choice("kind", NUMBER_KINDS)
    emergency = row.flag("emergency", required=True)
    if kind in ("police", "gendarmerie") and emergency is False:
        row.fail("emergency", f"a {kind} line is an emergency line: true")
    localized = [f"{field}_{code}" for field in LOCALIZED_NUMBER_FIELDS for code in CODES]
    row.shown(*localized, "hours")
    entry = Number(
        id=row.ident(),
        number=number,
        display=display,
        name=_localized(row, "name"),
        purpose=_localized(row, "purpose"),
        hours=row.text("hours"),
        kind=kind or "gbv",
        free=row.flag("free", required=False),
        emergency=bool(emergency),
        source_url=row.url("source_url"),
        source_date=row.partial_date("source_date"),
        last_verified=row.day("last_verified"),
        status=row.choice("status", STATUSES) or "unverified",
        notes=row.text("notes"),
        verified_by=row.choice(VERIFIED_BY_COLUMN, VERIFIED_BY, required=False),
    )
    _warn_on_status(row, entry.status, entry.source_date)
    row.dated("", entry.source_date, entry.last_verified)
    return entry


def _warn_on_status(row: Row, status: str, source_date: str) -> None:
    if status == "unverified":
        row.warn("status", "unverified: have a Malian partner confirm it before launch")
    if not source_date:
        row.warn("source_date", "empty: the source is undated")


def _check_links(content: Content) -> None:
    """What no single row can tell: numbers listed once, centre towns known, capitals present."""

    def error(file: str, record: str, column: str, message: str) -> None:
        row = content.rows.get((file, record))
        content.errors.append(Problem(file, message, row, record, column))

    numbers: set[str] = set()
    for entry in content.numbers:
        if entry.number in numbers:
            error(NUMBERS_FILE, entry.id, "number", f"{entry.number} is listed twice")
        numbers.add(entry.number)
    towns = {fold(name): p for p in content.places for name in (p.name, *p.alt_names)}
    for centre in content.centres:
        place = towns.get(fold(centre.town))
        if place is None:
            error(CENTRES_FILE, centre.id, "town", f"{centre.town!r} is not in {PLACES_FILE}")
        elif place.region != centre.region:
            message = f"{centre.region!r}, but {place.name} is in {place.region!r} in {PLACES_FILE}"
            error(CENTRES_FILE, centre.id, "region", message)
    names = {p.name for p in content.places}
    for region, capital in REGION_CAPITALS.items():
        if capital not in names:
            content.errors.append(
                Problem(PLACES_FILE, f"{capital}, capital of {region}, is missing")
            )
