"""The directory's records, as validated from the CSV files in content/ (see content/README.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal, get_args

from bot.flows.screens import Localized

Service = Literal["medical", "psychosocial", "legal", "security", "shelter", "reinsertion"]
Status = Literal["confirmed", "unverified"]
CoordinateKind = Literal["facility", "approximate"]
NumberKind = Literal["gbv", "police", "gendarmerie"]
# How someone last checked an entry that it works: called it, or went there (bot/editing.py).
VerifiedBy = Literal["phone", "visit"]

SERVICES: tuple[Service, ...] = get_args(Service)
STATUSES: tuple[Status, ...] = get_args(Status)
COORDINATE_KINDS: tuple[CoordinateKind, ...] = get_args(CoordinateKind)
NUMBER_KINDS: tuple[NumberKind, ...] = get_args(NumberKind)
VERIFIED_BY: tuple[VerifiedBy, ...] = get_args(VerifiedBy)

# The 19 regions and the District of Bamako of the 2023 reform (laws 2023-006/007), in their
# official order, each with its capital as named in places.csv. Fixed by law, so kept in code:
# it is what a region in the CSV files is checked against.
REGION_CAPITALS: dict[str, str] = {
    "Bamako": "Bamako",
    "Kayes": "Kayes",
    "Koulikoro": "Koulikoro",
    "Sikasso": "Sikasso",
    "Ségou": "Ségou",
    "Mopti": "Mopti",
    "Tombouctou": "Tombouctou",
    "Gao": "Gao",
    "Kidal": "Kidal",
    "Taoudénit": "Taoudenni",
    "Ménaka": "Ménaka",
    "Bougouni": "Bougouni",
    "Dioïla": "Dioïla",
    "Nioro": "Nioro",
    "Koutiala": "Koutiala",
    "Kita": "Kita",
    "Nara": "Nara",
    "Bandiagara": "Bandiagara",
    "San": "San",
    "Douentza": "Douentza",
}


@dataclass(frozen=True)
class Centre:
    """A One Stop Center unit. Coordinates locate the town unless `coordinates` is "facility":
    never show them as the centre's address."""

    id: str
    name: str
    host_facility: str
    town: str
    region: str
    latitude: float | None
    longitude: float | None
    coordinates: CoordinateKind | None
    services: tuple[Service, ...]
    hours: str
    phone: str
    operator: str
    opened: str
    source_url: str
    source_date: str
    last_verified: date
    status: Status
    notes: str
    verified_by: VerifiedBy | None = None  # None: checked against its source only
    address: str = ""  # street, landmark: only as a source or an editor on site gives it

    @property
    def location(self) -> tuple[float, float] | None:
        if self.latitude is None or self.longitude is None:
            return None
        return self.latitude, self.longitude


@dataclass(frozen=True)
class Number:
    """A phone line. `number` is what to dial (digits only); `display` is how to show it."""

    id: str
    number: str
    display: str
    name: Localized  # per language, French always there (bot/languages.py)
    purpose: Localized
    hours: str
    kind: NumberKind
    free: bool | None
    emergency: bool
    source_url: str
    source_date: str
    last_verified: date
    status: Status
    notes: str
    verified_by: VerifiedBy | None = None


@dataclass(frozen=True)
class Place:
    """A town of the offline gazetteer: a centroid to measure distances from, never an address."""

    id: str
    geonameid: int | None
    name: str
    ascii_name: str
    alt_names: tuple[str, ...]
    region: str
    latitude: float
    longitude: float
    population: int | None
    source: str
    notes: str
