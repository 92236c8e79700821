"""The report administrators and partners read: the anonymous indicators of the last weeks, as
protected tables (bot/disclosure.py), a short text, a chart (bot/report_chart.py) and a CSV.

Only periods that are over are published: a week once its Sunday has passed, a month once its
last week has. A week with fewer than MERGE_BELOW events in an indicator is published with the
other such weeks of its month, as one column ("2026-11*"; "2026-11" when that is every week of
the month), once the month is over; counts are kept by week, so no per-day figure exists.
Officers' knowledge checks are kept and published by month.

The weekly report goes to the administrators every Monday at 08:00 Bamako time (UTC all year):
`next_report_at` computes when, from the clock it is given.
"""

from __future__ import annotations

import asyncio
import csv
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TextIO

from bot.disclosure import MERGE_BELOW, SMALL, Cell, Column, protect
from bot.flows.screens import Msg, Output, Picture, Screen, Text, t
from bot.indicators import INDICATORS, VALUES, WITHHELD, Indicator, month_of_week, week_of
from state.store import Reads, Store

REPORT_WEEKS = 8
REPORT_HOUR = time(8, 0)  # Bamako time: Africa/Bamako is UTC all year, with no summer time
MONDAY = 0

LABELS: dict[str, Msg] = {
    "start": t("Conversations started (language chosen)"),
    "place_given": t("Places given to find the nearest centre"),
    "first_centre": t("Region of the first centre suggested"),
    "screen": t("Numbers, danger, centre and safety-plan screens reached"),
    "quick_exit": t("Quick exits"),
    "handover_requested": t("Requests to talk to a person"),
    "handover_claimed": t("Requests taken by staff"),
    "handover_closed": t("Hotline conversations closed"),
    "checklist_started": t("Checklists started by officers"),
    "checklist_finished": t("Checklists finished by officers"),
    "decision": t("Decision aid results"),
    "knowledge": t("Knowledge checks"),
}


def next_report_at(now: datetime) -> datetime:
    """The next Monday 08:00 in Bamako (UTC) strictly after `now`."""
    now = now.astimezone(UTC)
    days = (MONDAY - now.weekday()) % 7
    at = datetime.combine(now.date() + timedelta(days=days), REPORT_HOUR, tzinfo=UTC)
    return at if at > now else at + timedelta(days=7)


@dataclass(frozen=True)
class Table:
    indicator: Indicator
    rows: tuple[tuple[str, ...], ...]  # every combination of the indicator's values
    columns: tuple[Column, ...]


@dataclass(frozen=True)
class Report:
    weeks: tuple[str, ...]  # the window: complete ISO weeks, oldest first
    tables: tuple[Table, ...]

    @property
    def empty(self) -> bool:
        return not any(table.columns for table in self.tables)

    @property
    def drawable(self) -> bool:
        """Whether a chart would have a bar: some published total is shown."""
        return any(not c.total.hidden for table in self.tables for c in table.columns)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _weeks_of_month(month: str) -> list[date]:
    """The Mondays of the ISO weeks whose Thursday falls in `month` ("2026-11")."""
    first = date(int(month[:4]), int(month[5:]), 1)
    thursday = first + timedelta(days=(3 - first.weekday()) % 7)
    mondays = []
    while thursday.month == first.month:
        mondays.append(thursday - timedelta(days=3))
        thursday += timedelta(days=7)
    return mondays


def _month_after(month: str) -> date:
    year, number = int(month[:4]), int(month[5:])
    return date(year + number // 12, number % 12 + 1, 1)


def _rows(indicator: Indicator, protocols: Sequence[str]) -> tuple[tuple[str, ...], ...]:
    """Every combination of values; for a survivor-side indicator, then its WITHHELD row: the
    counts of a week too few to be written as themselves (bot/indicators.py)."""
    lists: list[Sequence[str]] = []
    for name in indicator.dims:
        rule = VALUES[name]
        lists.append(rule if isinstance(rule, tuple) else protocols)
    rows = tuple(itertools.product(*lists))
    if indicator.side == "survivor" and indicator.dims:
        rows += ((WITHHELD,) * len(indicator.dims),)
    return rows


Counts = dict[tuple[str, str, str], int]  # (period, indicator, dims) -> count


def _column(
    period: str, indicator: Indicator, rows: Sequence[tuple[str, ...]], counts: Counts,
    periods: Sequence[str],
) -> Column:  # fmt: skip
    values = []
    for row in rows:
        dims = ";".join(f"{n}={v}" for n, v in zip(indicator.dims, row, strict=True))
        values.append(sum(counts.get((p, indicator.name, dims), 0) for p in periods))
    cells, total = protect(values)
    return Column(period, cells, total)


def _total(counts: Counts, indicator: str, period: str) -> int:
    return sum(n for (p, name, _), n in counts.items() if p == period and name == indicator)


def build(counts: Counts, today: date, *, weeks: int, protocols: Sequence[str]) -> Report:
    """The protected tables of the `weeks` complete weeks before `today`'s week."""
    this_week = _monday(today)
    window = [this_week - timedelta(days=7 * k) for k in range(weeks, 0, -1)]
    months = sorted({month_of_week(week_of(monday)) for monday in window})
    tables = []
    for indicator in INDICATORS.values():
        rows = _rows(indicator, protocols)
        placed: list[tuple[date, Column]] = []
        for month in months:
            mondays = _weeks_of_month(month)
            if indicator.period == "month":  # a calendar month, over once the next one began
                if _month_after(month) <= today:
                    placed.append((mondays[0], _column(month, indicator, rows, counts, [month])))
                continue
            over = [m for m in mondays if m < this_week]
            small = [m for m in over if _total(counts, indicator.name, week_of(m)) < MERGE_BELOW]
            for monday in over:
                if monday in window and monday not in small:
                    column = _column(week_of(monday), indicator, rows, counts, [week_of(monday)])
                    placed.append((monday, column))
            if len(over) == len(mondays) and any(m in window for m in small):
                label = month if len(small) == len(mondays) else f"{month}*"
                merged = [week_of(m) for m in small]
                placed.append((small[-1], _column(label, indicator, rows, counts, merged)))
        placed.sort(key=lambda pair: pair[0])
        tables.append(Table(indicator, rows, tuple(column for _, column in placed)))
    return Report(tuple(week_of(m) for m in window), tuple(tables))


async def read_counts(db: Reads) -> Counts:
    rows = await db.execute_fetchall("SELECT period, indicator, dims, count FROM indicator_counts")
    return {(str(p), str(i), str(d)): int(n) for p, i, d, n in rows}


async def make(
    store: Store, today: date, *, weeks: int = REPORT_WEEKS, protocols: Sequence[str]
) -> Report:
    async with store.reading() as db:
        counts = await read_counts(db)
    return build(counts, today, weeks=weeks, protocols=protocols)


# --- text --------------------------------------------------------------------------------------

HEADING = t("📊 Anonymous figures: the %(num)s weeks from %(first)s to %(last)s")
PROTECTION = t(
    "Numbers under 5 show as <5; x hides a number that would reveal another. Weeks with fewer "
    "than 10 events are counted with their month (*). No figure is about a person."
)
NOTHING_YET = t("Nothing to publish yet: a week is published once it is over.")
WITH_LATEST = t("%(label)s: %(totals)s\n↳ %(period)s: %(values)s")
KNOWLEDGE_LINE = t("%(role)s, %(topic)s · %(month)s: first answers %(before)s, later %(after)s")
NOT_ENOUGH = t("too few to show")
# The values of the indicators the text breaks down (one dimension, at most four values).
VALUE_NAMES: dict[str, Text] = {
    "location": t("location shared"), "buttons": t("picked from buttons"), "typed": t("typed"),
    "emergency": t("danger"), "numbers": t("numbers"), "about": t("what happens at a centre"),
    "plan": t("safety plan"), "open": t("in hours"), "closed": t("out of hours"),
    "lt5m": t("within 5 min"), "lt30m": t("within 30 min"), "lt2h": t("within 2 h"),
    "later": t("later"), "closed_by_staff": t("closed by staff"),
    "ended_by_person": t("ended by the person"), "person_left": t("quick exit"),
    "unreachable": t("person unreachable"), WITHHELD: t("others"),
}  # fmt: skip
ROLES = {"police": t("police"), "gendarmerie": t("gendarmerie"), "justice": t("justice")}
TOPICS = {"vslc": t("conflict-related sexual violence (VSLC)"), "general": t("GBV in general")}


def text(report: Report, render: Callable[[Text], str]) -> tuple[str, ...]:
    """The short text: each indicator's total per period, the latest period by its values, and
    officers' knowledge, first answers against later ones, by role, VSLC on its own line; its
    words in the reader's language (`render`)."""
    lines: list[Text] = [
        t(HEADING.msgid, num=len(report.weeks), first=report.weeks[0], last=report.weeks[-1]),
        PROTECTION,
    ]
    if report.empty:
        return tuple(render(line) for line in (*lines, NOTHING_YET))
    for table in report.tables:
        if not table.columns:
            continue
        if table.indicator.name == "knowledge":
            lines.extend(_knowledge(table))
            continue
        label = LABELS[table.indicator.name]
        totals = " · ".join(f"{c.period} {c.total.shown}" for c in table.columns)
        if not table.indicator.dims or sum(row[0] != WITHHELD for row in table.rows) > 4:
            lines.append(t("%(label)s: %(totals)s", label=label, totals=totals))
            continue
        latest = table.columns[-1]
        values = ", ".join(
            f"{render(VALUE_NAMES.get(row[0], row[0]))} {cell.shown}"
            for row, cell in zip(table.rows, latest.cells, strict=True)
            # "Others" only when shown as more than "<5" (never written under SMALL: it is 0).
            if row[0] != WITHHELD or cell.value >= SMALL
        )
        lines.append(t(WITH_LATEST.msgid, label=label, totals=totals, period=latest.period,
                       values=values))  # fmt: skip
    return tuple(render(line) for line in lines)


def _share_right(cells: dict[tuple[str, ...], Cell], key: tuple[str, ...]) -> Text:
    right, wrong = cells[(*key, "right")].published, cells[(*key, "wrong")].published
    if right is None or wrong is None or right + wrong == 0:
        return NOT_ENOUGH
    return f"{round(100 * right / (right + wrong))} %"


def _knowledge(table: Table) -> list[Text]:
    """Lines with something to show; a line where both shares are too few is left out."""
    lines: list[Text] = []
    for column in table.columns:
        cells = dict(zip(table.rows, column.cells, strict=True))
        for role, topic in itertools.product(ROLES, ("general", "vslc")):
            before = _share_right(cells, (role, topic, "baseline"))
            after = _share_right(cells, (role, topic, "later"))
            if before == after == NOT_ENOUGH:
                continue
            lines.append(t(KNOWLEDGE_LINE.msgid, role=ROLES[role], topic=TOPICS[topic],
                           month=column.period, before=before, after=after))  # fmt: skip
    return [LABELS["knowledge"], *(lines or [NOT_ENOUGH])]


CHART = t("📈 The same figures as a chart (a hidden number has no bar, only its mark).")


async def outputs(
    store: Store, today: date, protocols: Sequence[str], render: Callable[[Text], str]
) -> list[Output]:
    """What an administrator receives: the text, and the chart when it would have a bar.
    Shareable: anonymous figures, made to be passed on to partners."""
    report = await make(store, today, protocols=protocols)
    shown: list[Output] = [Screen(body=text(report, render), edit=False, shareable=True)]
    if report.drawable:
        from bot import report_chart  # matplotlib, only when a report is made

        # Seconds of work the first time (importing matplotlib): not on the bot's event loop.
        png = await asyncio.to_thread(report_chart.png, report, render)
        shown.append(Picture(png, CHART))
    return shown


# --- CSV ---------------------------------------------------------------------------------------

CSV_HEADER = ("period", "indicator", "side", "values", "count")


def write_csv(report: Report, out: TextIO) -> None:
    """The published tables, one line per cell and one per column total ("total"): the same
    figures, hidden the same way, as the report."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for table in report.tables:
        spec = table.indicator
        for column in table.columns:
            for row, cell in zip(table.rows, column.cells, strict=True):
                values = ";".join(f"{n}={v}" for n, v in zip(spec.dims, row, strict=True))
                if spec.dims:
                    writer.writerow((column.period, spec.name, spec.side, values, cell.shown))
            writer.writerow((column.period, spec.name, spec.side, "total", column.total.shown))


def save_csv(report: Report, path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        write_csv(report, out)
