"""One CSV row at a time: each reader checks a cell, records what is wrong (file, row, column,
fault) and returns a stand-in value, so that a row reports all its faults at once."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar
from urllib.parse import urlsplit

from bot.content.models import REGION_CAPITALS, Centre, Number, Place

STALE_AFTER_DAYS = 365  # a protocol's review
UNCHECKED_AFTER_DAYS = 180  # a centre or a number: editors check them more often (/verify)
# Never shipped (sources-mali §6, §2): numbers found for other countries or from weak sources.
FORBIDDEN_NUMBERS = frozenset({"116", "15", "17", "18"})
_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")  # short: ids travel in Telegram button data
_PHONE = re.compile(r"\d{8}|\d{5}")  # Malian numbers have 8 digits; short green lines 5
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_PARTIAL_DATE = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")
_DIGIT_GROUPS = re.compile(r"\d+(?: \d+)*")  # "80 00 11 32" is one number, "15" another
ROUND_THE_CLOCK = re.compile(
    r"24\s*(h|heures?)?\s*(/|sur|x)\s*(24|7)|7\s*(j|jours?)?\s*(/|sur)\s*7|round[- ]the[- ]clock",
    re.IGNORECASE,
)

S = TypeVar("S", bound=str)


@dataclass(frozen=True)
class Problem:
    file: str
    message: str
    row: int | None = None
    record: str = ""  # the row's id, so a reader can also find the row by name
    column: str = ""

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" row {self.row}"
        if self.record:
            where += f" ({self.record})"
        if self.column:
            where += f", column {self.column}"
        return f"{where}: {self.message}"


@dataclass
class Content:
    centres: list[Centre] = field(default_factory=list)
    numbers: list[Number] = field(default_factory=list)
    places: list[Place] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    rows: dict[tuple[str, str], int] = field(default_factory=dict)  # (file, id) -> row number


class Row:
    """Keep the record built from this row only if `ok` is still True after reading it."""

    def __init__(
        self, file: str, row: int, cells: dict[str, str], content: Content, today: date | None
    ) -> None:
        self.file, self.row, self.cells, self.today = file, row, cells, today
        self.record = cells.get("id", "")
        self.ok = True
        self._content = content

    def fail(self, column: str, message: str) -> None:
        self.ok = False
        self._content.errors.append(Problem(self.file, message, self.row, self.record, column))

    def warn(self, column: str, message: str) -> None:
        self._content.warnings.append(Problem(self.file, message, self.row, self.record, column))

    def text(self, column: str, *, required: bool = False) -> str:
        value = self.cells.get(column, "")
        if required and not value:
            self.fail(column, "required but empty")
        return value

    def ident(self) -> str:
        value = self.text("id", required=True)
        if value and not _ID.fullmatch(value):
            self.fail("id", f"{value!r} is not an id: a-z, 0-9 and '-', at most 40 characters")
        return value

    def real(self, column: str, bounds: tuple[float, float], *, required: bool) -> float | None:
        """None only when empty; a bad value is reported and stands in as 0."""
        value = self.text(column, required=required)
        if not value:
            return None
        try:
            number = float(value)
        except ValueError:
            self.fail(column, f"{value!r} is not a number")
            return 0.0
        low, high = bounds
        if not low <= number <= high:
            self.fail(column, f"{column} {value} is outside Mali ({low} to {high})")
        return number

    def whole(self, column: str) -> int | None:
        value = self.text(column)
        if value and not value.isdecimal():
            self.fail(column, f"{value!r} is not a whole number")
            return None
        return int(value) if value else None

    def choice(self, column: str, allowed: tuple[S, ...], *, required: bool = True) -> S | None:
        value = self.text(column, required=required)
        for option in allowed:
            if option == value:
                return option
        if value:
            self.fail(column, f"{value!r} is not one of: {', '.join(allowed)}")
        return None

    def choices(self, column: str, allowed: tuple[S, ...]) -> tuple[S, ...]:
        found: list[S] = []
        for item in split_list(self.text(column)):
            option = next((o for o in allowed if o == item), None)
            if option is None:
                self.fail(column, f"{item!r} is not one of: {', '.join(allowed)}")
            elif option not in found:
                found.append(option)
        if not found and self.ok:
            self.fail(column, f"required: one or more of {', '.join(allowed)}, ';'-separated")
        return tuple(found)

    def flag(self, column: str, *, required: bool) -> bool | None:
        value = self.text(column, required=required).lower()
        if value in ("true", "false"):
            return value == "true"
        if value:
            self.fail(column, f"{value!r} is not true or false")
        return None

    def day(self, column: str) -> date:
        value = self.text(column, required=True)
        if value and _DAY.fullmatch(value) and _is_partial_date(value):
            return date.fromisoformat(value)
        if value:
            self.fail(column, f"{value!r} is not an ISO date (YYYY-MM-DD)")
        return date.min

    def partial_date(self, column: str) -> str:
        value = self.text(column)
        if value and not _is_partial_date(value):
            self.fail(column, f"{value!r} is not an ISO date (YYYY, YYYY-MM or YYYY-MM-DD)")
        return value

    def url(self, column: str) -> str:
        value = self.text(column, required=True)
        parts = urlsplit(value)
        if value and (parts.scheme not in ("http", "https") or not parts.netloc):
            self.fail(column, f"{value!r} is not an http(s) URL")
        return value

    def phone(self, column: str, *, required: bool) -> str:
        value = self.text(column, required=required)
        if value and (fault := phone_fault(value)) is not None:
            self.fail(column, fault)
        return value

    def region(self) -> str:
        value = self.text("region", required=True)
        if value and value not in REGION_CAPITALS:
            self.fail("region", f"{value!r} is not a 2023 region: {', '.join(REGION_CAPITALS)}")
        return value

    def shown(self, *columns: str) -> None:
        """Text people read must not carry a forbidden number."""
        for column in columns:
            value = self.cells.get(column, "")
            for match in _DIGIT_GROUPS.finditer(value):
                before = value[max(0, match.start() - 2) : match.start()][::-1]
                after = value[match.end() : match.end() + 2]
                alone = not (_joined(before) or _joined(after))
                if alone and match[0].replace(" ", "") in FORBIDDEN_NUMBERS:
                    self.fail(column, f"mentions {match[0]}, which must never be shipped")

    def dated(self, opened: str, source_date: str, last_verified: date) -> None:
        if self.today is None or not self.ok:
            return
        for column, value in (("opened", opened), ("source_date", source_date)):
            if value > self.today.isoformat():  # ISO dates, even partial ones, sort as text
                self.fail(column, f"{value} is in the future")
        if last_verified > self.today:
            self.fail("last_verified", f"{last_verified} is in the future")
        elif (self.today - last_verified).days > UNCHECKED_AFTER_DAYS:
            self.warn(
                "last_verified",
                f"{last_verified} is over {UNCHECKED_AFTER_DAYS} days ago: verify it again",
            )


def phone_fault(value: str) -> str | None:
    """What is wrong with a number to dial (digits only), for the files and for editors alike."""
    if value in FORBIDDEN_NUMBERS:
        return f"{value} must never be shipped (sources-mali §6)"
    if not _PHONE.fullmatch(value):
        return (
            f"{value!r} is not a Malian phone number: 8 digits, or 5 for a short number such as "
            "80333, digits only"
        )
    return None


def split_list(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(";") if item.strip())


def _is_partial_date(value: str) -> bool:
    if not _PARTIAL_DATE.fullmatch(value):
        return False
    year, month, day = (value + "-01-01")[:10].split("-")  # complete it to test month and day
    try:
        date(int(year), int(month), int(day))
    except ValueError:
        return False
    return True


def _joined(side: str) -> bool:
    """Whether the characters beside a number (nearest first) make it part of a date, a range
    or a bigger number: '2021-07-15', '1,600'; but not the full stop ending a sentence."""
    return bool(side) and (side[0] in "-/:" or (side[0] in ".," and side[1:2].isdigit()))
