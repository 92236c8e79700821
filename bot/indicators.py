"""Anonymous indicators: what people ask for and what happens when they ask, counted as it
happens into aggregate rows (period, indicator, values, count) and nothing else.

A flow or service names what happened with `tally(indicator, **values)`; the tallies are added
to the counts in the same write transaction as the step that caused them (`Counter.add_sync` in
a grouped write, `Counter.add` in a `Store.transaction()`), so a count never waits for a lock of
its own and a step replayed after a crash is not counted twice. Every value comes from a closed
list (a language, a region, a protocol id...), checked here: no row can hold a person key, a
chat or message id, a case code, a town, coordinates, text, or a time finer than the week.

No survivor-side cell is ever written with a count under SMALL, the report's threshold: on a
quiet week, a row "first_centre region=Mopti 1" would tell whoever holds the disk and the key,
and knows she used the bot, which region's centre she looked for (encrypted is not erased: the
WAL and backups keep pages). Such a cell is held in memory (`Counter.held`: counts, never a
person) until it reaches SMALL; it is then written with its count, in the step's transaction,
and later tallies of it go to disk one by one like any other. When its week is over
(`Counter.close_periods`, run every half minute and before each report), the cells of an
indicator that never reached SMALL are folded into one cell whose values are all WITHHELD,
written only if it holds SMALL or more; else they are dropped, and only how many is logged. A
restart or crash loses the held counts: a few counts lost, never one person's row. Officers
are not the survivors: their counts are written at once.
docs/indicators.md says what each indicator measures and which finding of the study it answers.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Literal

import aiosqlite

from bot.content.models import REGION_CAPITALS
from bot.disclosure import SMALL
from bot.languages import OFFERED

if TYPE_CHECKING:
    from state.store import Store

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Period = Literal["week", "month"]

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")  # a protocol or question id from content/

# Each dimension's allowed values: a closed list, or ids of content/ files (a slug).
VALUES: dict[str, tuple[str, ...] | re.Pattern[str]] = {
    # The languages offered to every survivor; one still being translated is chosen only by
    # its translators and administrators, who are not counted (bot/flows/survivor.py).
    "language": OFFERED,
    "method": ("location", "buttons", "typed"),
    "region": (*REGION_CAPITALS, "none"),
    "screen": ("emergency", "numbers", "about", "plan"),
    "hours": ("open", "closed"),
    "wait": ("lt5m", "lt30m", "lt2h", "later"),
    "outcome": ("closed_by_staff", "ended_by_person", "person_left", "unreachable"),
    "role": ("police", "gendarmerie", "justice"),
    "protocol": _SLUG,
    "verdict": ("link", "unsure", "vbg", "not-sexual"),
    "topic": ("vslc", "general"),
    "phase": ("baseline", "later"),
    "result": ("right", "wrong"),
}
# The value of every dimension of the cell where a week's survivor-side counts too few to be
# written as themselves are folded (never a value of a tally: the report shows it as "others").
WITHHELD = "withheld"


@dataclass(frozen=True)
class Indicator:
    name: str
    dims: tuple[str, ...]  # its dimensions, in the order rows and reports show them
    side: Literal["survivor", "officer"]
    period: Period = "week"


INDICATORS = {
    i.name: i
    for i in (
        Indicator("start", ("language",), "survivor"),
        Indicator("place_given", ("method",), "survivor"),
        Indicator("first_centre", ("region",), "survivor"),
        Indicator("screen", ("screen",), "survivor"),
        Indicator("quick_exit", (), "survivor"),
        Indicator("handover_requested", ("hours",), "survivor"),
        Indicator("handover_claimed", ("wait",), "survivor"),
        Indicator("handover_closed", ("outcome",), "survivor"),
        Indicator("checklist_started", ("role", "protocol"), "officer"),
        Indicator("checklist_finished", ("role", "protocol"), "officer"),
        Indicator("decision", ("role", "verdict"), "officer"),
        Indicator("knowledge", ("role", "topic", "phase", "result"), "officer", "month"),
    )
}


@dataclass(frozen=True)
class Tally:
    """One event to count: an indicator and its values, checked when made."""

    indicator: str
    values: tuple[str, ...]  # in the order of the indicator's `dims`

    @property
    def dims(self) -> str:
        names = INDICATORS[self.indicator].dims
        return ";".join(f"{n}={v}" for n, v in zip(names, self.values, strict=True))


class NotAnIndicator(ValueError):
    """An unknown indicator, a missing or extra dimension, or a value not on its list."""


def allowed(dimension: str, value: str) -> bool:
    rule = VALUES[dimension]
    return value in rule if isinstance(rule, tuple) else bool(rule.fullmatch(value))


def tally(indicator: str, **values: str) -> Tally:
    """The event `indicator` with its dimensions' values; raises NotAnIndicator on anything
    not declared above, so nothing else can ever reach a row."""
    spec = INDICATORS.get(indicator)
    if spec is None or set(values) != set(spec.dims):
        raise NotAnIndicator(f"{indicator} {sorted(values)}")
    for name in spec.dims:
        if not allowed(name, values[name]):
            raise NotAnIndicator(f"{indicator}: {name}")
    return Tally(indicator, tuple(values[name] for name in spec.dims))


def knowledge_answer(
    role: str, question_id: str, *, vslc: bool, baseline: bool, right: bool
) -> Tally:
    """An officer's answer to a knowledge question, counted by role and month. The question id
    is checked (an id of content/quiz/) but not kept: per question, a role with few officers
    would show one officer's answers; the report shows change by role and topic."""
    if not _SLUG.fullmatch(question_id):
        raise NotAnIndicator("knowledge: question")
    return tally(
        "knowledge", role=role, topic="vslc" if vslc else "general",
        phase="baseline" if baseline else "later", result="right" if right else "wrong",
    )  # fmt: skip


def wait_bucket(seconds: int) -> str:
    """Time from a handover's opening to its claim, in the buckets the report shows."""
    for limit, bucket in ((5 * 60, "lt5m"), (30 * 60, "lt30m"), (2 * 3600, "lt2h")):
        if seconds < limit:
            return bucket
    return "later"


def week_of(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def month_of_week(week: str) -> str:
    """The month an ISO week belongs to: its Thursday's (so every week has exactly one)."""
    thursday = date.fromisocalendar(int(week[:4]), int(week[6:]), 4)
    return f"{thursday.year}-{thursday.month:02d}"


def period_of(day: date, period: Period) -> str:
    return week_of(day) if period == "week" else f"{day.year}-{day.month:02d}"


Key = tuple[str, str, str]  # a cell: (period, indicator, dims)

_ADD = (
    "INSERT INTO indicator_counts (period, indicator, dims, count) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (period, indicator, dims) DO UPDATE SET count = count + excluded.count"
)
_ADD_ONE = (
    "UPDATE indicator_counts SET count = count + 1 WHERE period = ? AND indicator = ? AND dims = ?"
)


class Counter:
    """Adds tallies to the counts, each in the period its clock gives (Bamako keeps UTC); holds
    a survivor-side cell in memory until it has SMALL counts (see above).

    `held` changes only inside the store's write transactions, which the store runs one at a
    time (on its thread, or on the event loop), and is read from the event loop: a lock keeps
    each look at it whole. A transaction that fails after a tally was held keeps it held: the
    step, if done again, counts once more (one too many, never a row under SMALL)."""

    def __init__(self, clock: Clock = lambda: datetime.now(UTC)) -> None:
        self.clock = clock
        # Survivor-side cells not known to be on disk, with their counts; one that has reached
        # SMALL stays here, unused, until its week is over.
        self.held: dict[Key, int] = {}
        self._lock = threading.Lock()

    def _plan(self, tallies: Sequence[Tally]) -> list[tuple[Key, bool]]:
        """Each tally's cell, and whether it is survivor-side (written only with SMALL)."""
        today = self.clock().astimezone(UTC).date()
        return [
            ((period_of(today, spec.period), x.indicator, x.dims), spec.side == "survivor")
            for x in tallies
            for spec in (INDICATORS[x.indicator],)
        ]

    def _hold(self, key: Key) -> int | None:
        """One more in a survivor-side cell not on disk: its count once it reaches SMALL."""
        with self._lock:
            count = self.held[key] = self.held.get(key, 0) + 1
        return count if count >= SMALL else None

    def add_sync(self, conn: sqlite3.Connection, tallies: Sequence[Tally]) -> None:
        """In a grouped write (`Store.write`), on the store's thread."""
        for key, survivor in self._plan(tallies):
            if not survivor:
                conn.execute(_ADD, (*key, 1))
            elif not conn.execute(_ADD_ONE, key).rowcount and (count := self._hold(key)):
                conn.execute(_ADD, (*key, count))

    async def add(self, db: aiosqlite.Connection, tallies: Sequence[Tally]) -> None:
        """In a `Store.transaction()` block."""
        for key, survivor in self._plan(tallies):
            if not survivor:
                await db.execute(_ADD, (*key, 1))
                continue
            async with db.execute(_ADD_ONE, key) as cursor:
                on_disk = cursor.rowcount > 0
            if not on_disk and (count := self._hold(key)):
                await db.execute(_ADD, (*key, count))

    def _over(self) -> list[Key]:
        today = self.clock().astimezone(UTC).date()
        with self._lock:
            return [k for k in self.held if k[0] != period_of(today, INDICATORS[k[1]].period)]

    async def close_periods(self, store: Store) -> None:
        """Fold the held cells of the periods now over, in a write of their own (none if there
        are none): per indicator and period, the cells under SMALL make one WITHHELD cell,
        written if it holds SMALL or more, else dropped."""
        if self._over():
            await store.write(self._fold)

    def _fold(self, conn: sqlite3.Connection) -> None:
        folded: dict[Key, int] = {}
        for key in self._over():
            with self._lock:
                count = self.held.pop(key)
            if count < SMALL:  # one that reached SMALL is on disk already
                period, indicator, _ = key
                dims = ";".join(f"{n}={WITHHELD}" for n in INDICATORS[indicator].dims)
                withheld = (period, indicator, dims)
                folded[withheld] = folded.get(withheld, 0) + count
        conn.executemany(_ADD, [(*key, n) for key, n in folded.items() if n >= SMALL])
        if dropped := sum(n for n in folded.values() if n < SMALL):
            log.info("%d count(s) of the weeks just ended were too few to write: dropped", dropped)
