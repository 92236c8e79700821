"""The report: disclosure control (a property: nothing hidden can be worked out from what is
published, over any window), merging small weeks into their month, the Monday 08:00 Bamako
report with a moved clock (its chart a valid PNG of the expected size), and the CSV for partners."""

from __future__ import annotations

import asyncio
import contextlib
import io
import struct
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.__main__ import EXIT_CONFIG
from bot.__main__ import _report as cli_report
from bot.app import run
from bot.disclosure import MERGE_BELOW, SMALL, Cell, protect
from bot.emulator import BotApiEmulator
from bot.i18n import Catalogs
from bot.indicators import week_of
from bot.report import CSV_HEADER, build, next_report_at, text, write_csv
from state.store import Store
from tests.conftest import SECRET, settings_for
from tests.hotline_helpers import wait_until

PROTOCOLS = ("first-contact", "vslc")
ENGLISH = Catalogs().translator("en")


def possible_values(cells: Sequence[Cell], total: Cell) -> list[set[int]]:
    """Every value each hidden cell can take given only what is published (the shown numbers,
    "<5" for 0 to 4, "x" for 5 or more, and cells summing to the total when it is shown), found
    by enumerating the sums the other hidden cells can make: independent of `protect`."""
    cap = sum(c.value for c in cells) + SMALL + 1  # beyond any value worth trying

    def ranges(cell: Cell) -> range:
        if not cell.hidden:
            return range(cell.value, cell.value + 1)
        return range(SMALL) if cell.value < SMALL else range(SMALL, cap)

    found = []
    for i, cell in enumerate(cells):
        if not cell.hidden:
            continue
        if total.hidden:  # no equation: only the marks
            found.append(set(ranges(cell)))
            continue
        sums = {0}  # what the other cells can add up to, up to the total
        for j, other in enumerate(cells):
            if j != i:
                sums = {s + v for s in sums for v in ranges(other) if s + v <= total.value}
        found.append({v for v in ranges(cell) if total.value - v in sums})
    return found


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(0, 30), min_size=1, max_size=5))
def test_no_hidden_number_can_be_worked_out_from_a_published_column(values: list[int]) -> None:
    cells, total = protect(values)
    assert [c.value for c in cells] == values
    assert total.value == sum(values)
    assert all(c.hidden for c in (*cells, total) if c.value < SMALL)  # "<5", never the number
    for possible in possible_values(cells, total):
        assert len(possible) >= 2


def test_complementary_suppression_hides_the_smallest_other_number_or_the_total() -> None:
    assert [c.shown for c in protect([12, 3, 9])[0]] == ["12", "<5", "x"]
    assert protect([12, 3, 9])[1].shown == "24"
    # Two small numbers that add up to what the total leaves could only be 4 and 4.
    cells, total = protect([4, 4])
    assert [c.shown for c in cells] == ["<5", "<5"]
    assert total.shown == "x"
    assert [c.shown for c in protect([7, 0])[0]] == ["x", "<5"]


weekly_counts = st.dictionaries(
    st.tuples(st.integers(0, 20), st.sampled_from(["fr", "bm", "en"])),
    st.integers(1, 14),
    max_size=25,
)


def _counts(drawn: dict[tuple[int, str], int], origin: date) -> dict[tuple[str, str, str], int]:
    return {
        (week_of(origin + timedelta(weeks=w)), "start", f"language={lang}"): n
        for (w, lang), n in drawn.items()
    }


@settings(max_examples=30, deadline=None)
@given(weekly_counts, st.integers(0, 12), st.sampled_from([4, 8, 12]))
def test_every_report_publishes_the_same_figures_for_the_same_period(
    drawn: dict[tuple[int, str], int], later: int, weeks: int
) -> None:
    """Two reports, any days, any windows: a period they both show has the same numbers, hidden
    the same way, so comparing reports gives nothing away; and weeks never overlap a month."""
    origin = date(2026, 9, 7)
    counts = _counts(drawn, origin)
    first = build(counts, origin + timedelta(weeks=14), weeks=8, protocols=PROTOCOLS)
    second = build(counts, origin + timedelta(weeks=14 + later), weeks=weeks, protocols=PROTOCOLS)
    columns = {c.period: c for c in first.tables[0].columns}
    for column in second.tables[0].columns:
        if column.period in columns:
            assert column == columns[column.period]
    for report in (first, second):
        for column in report.tables[0].columns:
            if "-W" in column.period:  # a week shown alone had at least MERGE_BELOW events
                assert column.total.value >= MERGE_BELOW


def test_small_weeks_wait_for_their_month_and_no_day_is_ever_shown() -> None:
    counts = {
        ("2026-W45", "start", "language=fr"): 20,  # November: shown as its week
        ("2026-W46", "start", "language=fr"): 3,  # November: merged into "2026-11*"
        ("2026-W47", "start", "language=bm"): 4,
        ("2026-W49", "start", "language=fr"): 30,  # December (its Thursday is 3 December)
        ("2026-W50", "start", "language=fr"): 2,  # December is not over: held back
        **{
            ("2026-11", "knowledge", f"role=police;topic={topic};phase={phase};result={result}"): n
            for topic, phase, result, n in (
                ("vslc", "baseline", "right", 6), ("vslc", "baseline", "wrong", 9),
                ("vslc", "later", "right", 12), ("vslc", "later", "wrong", 8),
                ("general", "baseline", "right", 20), ("general", "baseline", "wrong", 20),
                ("general", "later", "right", 30), ("general", "later", "wrong", 10),
            )
        },
    }  # fmt: skip
    report = build(counts, date(2026, 12, 16), weeks=8, protocols=PROTOCOLS)
    tables = {table.indicator.name: table for table in report.tables}
    starts = [(c.period, c.total.shown) for c in tables["start"].columns]
    # October's two weeks in the window had nothing: merged, shown as "<5".
    assert starts == [("2026-10", "<5"), ("2026-W45", "20"), ("2026-11*", "7"), ("2026-W49", "30")]
    assert [c.period for c in tables["knowledge"].columns] == ["2026-10", "2026-11"]
    lines = list(text(report, ENGLISH.render))
    started = "Conversations started (language chosen): 2026-10 <5 · 2026-W45 20 · 2026-11* 7"
    # 30 of 30 in French would say the others are 0: it is hidden too.
    assert f"{started} · 2026-W49 30\n↳ 2026-W49: fr x, bm <5, en <5" in lines
    # The 6 is hidden ("x"): with it, the other roles' empty cells would be known to be 0.
    assert lines[-3:] == [
        "Knowledge checks",
        "police, GBV in general · 2026-11: first answers 50 %, later 75 %",
        "police, conflict-related sexual violence (VSLC) · 2026-11: first answers too few to show, "
        "later 60 %",
    ]


def test_counts_too_few_to_show_apart_are_published_as_withheld() -> None:
    """The cells folded at the end of a week (bot/indicators.py) are one more row of the table,
    in its total; the text names it only when it holds something."""
    counts = {
        ("2026-W49", "place_given", "method=location"): 12,
        ("2026-W49", "place_given", "method=withheld"): 6,
        ("2026-W49", "screen", "screen=numbers"): 15,
        ("2026-W49", "screen", "screen=plan"): 5,
    }
    report = build(counts, date(2026, 12, 16), weeks=8, protocols=PROTOCOLS)
    lines = list(text(report, ENGLISH.render))
    places, screens = lines[3].splitlines()[1], lines[5].splitlines()[1]
    # 12 and 6 of 18: the 6 is hidden, or the empty cells would be known to be 0.
    assert places == "↳ 2026-W49: location shared 12, picked from buttons <5, typed <5, others x"
    # Four values and an empty "others": still broken down, "others" left out.
    assert screens.endswith(": danger <5, numbers x, what happens at a centre <5, safety plan x")
    out = io.StringIO()
    write_csv(report, out)
    assert "2026-W49,place_given,survivor,method=withheld,x\n" in out.getvalue()
    assert "2026-W49,place_given,survivor,total,18\n" in out.getvalue()


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 12, 6, 12, 0, tzinfo=UTC), datetime(2026, 12, 7, 8, 0, tzinfo=UTC)),
        (datetime(2026, 12, 7, 7, 59, 59, tzinfo=UTC), datetime(2026, 12, 7, 8, 0, tzinfo=UTC)),
        (datetime(2026, 12, 7, 8, 0, tzinfo=UTC), datetime(2026, 12, 14, 8, 0, tzinfo=UTC)),
        (datetime(2026, 12, 9, 23, 0, tzinfo=UTC), datetime(2026, 12, 14, 8, 0, tzinfo=UTC)),
    ],
)
def test_the_weekly_report_is_due_on_monday_at_eight_in_bamako(
    now: datetime, expected: datetime
) -> None:
    assert next_report_at(now) == expected


async def test_on_monday_at_eight_the_administrators_get_the_text_and_chart(
    emulator: BotApiEmulator, db_path: Path
) -> None:
    """The bot's clock moved to a moment before Monday 08:00: the report comes then, with the
    week before it; its chart is a PNG of 800 x 600 pixels."""
    monday = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    store = await Store.open(db_path)
    async with store.transaction() as db:
        await db.executemany(
            "INSERT INTO indicator_counts VALUES (?, ?, ?, ?)",
            [("2026-W49", "start", "language=fr", 12), ("2026-W49", "start", "language=bm", 3),
             ("2026-W49", "quick_exit", "", 11)],
        )  # fmt: skip
    await store.close()
    before = monday - timedelta(seconds=0.2)  # the bot's clock stands still there
    admin = emulator.user(500, "Focal", language_code="en")
    settings_ = settings_for(emulator, db_path, BOT_ADMIN_IDS="500")
    assert settings_.secret == SECRET
    stop = asyncio.Event()
    bot = asyncio.create_task(run(settings_, stop=stop, clock=lambda: before))
    try:
        photo = await wait_until(
            lambda: next((m for m in admin.messages if "photo" in m), None), timeout=30
        )
        report = next(m["text"] for m in admin.messages if "text" in m)
        # In French: the administrator never wrote to the bot, so it knows no other language.
        assert "2026-W42 à 2026-W49" in report  # the 8 weeks before that Monday
        assert "Sorties rapides : 2026-10 <5 · 2026-11 <5 · 2026-W49 11" in report
        assert "↳ 2026-W49 : fr 12, bm <5, en <5" in report
        data = emulator.world.files[photo["photo"][-1]["file_id"]].data
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">II", data[16:24]) == (800, 600)
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(bot, 15)


async def test_the_csv_for_partners(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`python -m bot report --weeks 12 --csv FILE`, without the process-wide set-up of main."""
    db_path = tmp_path / "jigiya.sqlite3"
    monkeypatch.setenv("BOT_DB_PATH", str(db_path))
    out = tmp_path / "indicators.csv"
    assert await cli_report(12, out) == EXIT_CONFIG  # no database there: no empty table
    await (await Store.open(db_path)).close()
    assert await cli_report(12, out) == 0
    assert out.read_text(encoding="utf-8").splitlines()[0] == ",".join(CSV_HEADER)
