"""Anonymous indicators end to end: survivor, hotline and officer journeys through the real bot
(in process) are counted, and nothing in the counts' schema or rows could single anyone out; a
survivor-side cell reaches the disk only once it holds SMALL counts, and what never does is
folded or dropped when its week ends."""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import bot.app as wiring
from bot.disclosure import SMALL
from bot.emulator import BotApiEmulator
from bot.indicators import (
    INDICATORS,
    Counter,
    NotAnIndicator,
    Tally,
    allowed,
    knowledge_answer,
    tally,
    week_of,
)
from state.store import Store
from tests.conftest import StartBot
from tests.hotline_helpers import (
    HOTLINE,
    Desk,
    case_id_of,
    idle,
    open_case,
    query,
    screen_with,
    wait_until,
)
from tests.test_officer_e2e import ADMIN, CODE

pytestmark = pytest.mark.usefixtures("unpaced", "in_process")


def counts(db_path: Path) -> dict[tuple[str, str], int]:
    rows = query(db_path, "SELECT indicator, dims, count FROM indicator_counts")
    return {(indicator, dims): n for indicator, dims, n in rows}


def on_disk(db_path: Path) -> bytes:
    """The database's bytes as an attacker holding the disk reads them: its file and its WAL."""
    wal = db_path.with_name(db_path.name + "-wal")
    return db_path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


async def test_journeys_are_counted_and_no_row_identifies_anyone(
    emulator: BotApiEmulator, start_bot: StartBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[Counter] = []

    def counter(*args: Callable[[], datetime]) -> Counter:
        made.append(Counter(*args))
        return made[-1]

    monkeypatch.setattr(wiring, "Counter", counter)  # the bot's own, to see what it holds
    running = await start_bot(**HOTLINE, BOT_ADMIN_IDS=str(ADMIN))
    db = running.settings.db_path
    desk = Desk.make(emulator)
    awa, mariam = emulator.user(1001, "Awa"), emulator.user(1002, "Mariam")
    officer = emulator.user(2001, "Moussa", language_code="en")

    # Awa: French, the numbers, what happens at a centre, the danger screen, her location, a
    # town typed, then a person: her case is claimed and closed by staff.
    await awa.send("/start")
    await awa.press(await screen_with(awa, "lang:fr"), "lang:fr")
    for data in ("nav:numbers", "nav:about", "nav:emergency"):
        await awa.press(await screen_with(awa, data), data)
    await awa.send_location(12.6392, -8.0029)  # Bamako
    await awa.press(await screen_with(awa, "nav:centre"), "nav:centre")
    await awa.send("Mopti")
    case = await open_case(desk, awa, consent=None)
    await desk.claim(desk.fatou, case)
    await desk.fatou.press(desk.card(case), f"case:close:{case_id_of(desk.card(case))}")
    await desk.wait_card(case, lambda card: "reply_markup" not in card)
    # Mariam: Bambara, then the quick exit.
    await mariam.send("/start")
    await mariam.press(await screen_with(mariam, "lang:bm"), "lang:bm")
    await mariam.press(await screen_with(mariam, "nav:talk"), "exit")
    # An officer: a checklist started and finished, and the decision aid to its end.
    admin = emulator.user(ADMIN, "Focal", language_code="en")
    await admin.send("/invite police")
    invited = await wait_until(
        lambda: next((m for m in admin.messages if "🔑" in m.get("text", "")), None)
    )
    code = CODE.search(invited["text"])
    assert code is not None
    await officer.send(f"/start {code[0]}")
    for data in ("off:list", "off:open:first-contact", "off:finish:first-contact", "off:menu",
                 "off:decide", "off:ans:0:no", "off:ans:1:no"):  # fmt: skip
        # Each button as soon as the screen before has it (the newest message holding it).
        await officer.press(await screen_with(officer, data, timeout=20), data)
    await idle(emulator, db)

    # Every survivor-side count is held in memory: none reached SMALL, so none is on disk,
    # neither in the file nor in its WAL; officers' counts are written at once.
    week = week_of(datetime.now(UTC).date())
    held = await wait_until(
        lambda: made[0].held if (week, "quick_exit", "") in made[0].held else None
    )
    assert {(indicator, dims): n for (_, indicator, dims), n in held.items()} == {
        ("start", "language=fr"): 2,  # Awa chose French again on her way to a person
        ("start", "language=bm"): 1,
        ("screen", "screen=numbers"): 1,
        ("screen", "screen=about"): 1,
        ("screen", "screen=emergency"): 1,
        ("place_given", "method=location"): 1,
        ("place_given", "method=typed"): 1,
        ("first_centre", "region=Bamako"): 1,
        ("first_centre", "region=Mopti"): 1,
        ("quick_exit", ""): 1,
        ("handover_requested", "hours=open"): 1,
        ("handover_claimed", "wait=lt5m"): 1,
        ("handover_closed", "outcome=closed_by_staff"): 1,
    }
    assert counts(db) == {
        ("checklist_started", "role=police;protocol=first-contact"): 1,
        ("checklist_finished", "role=police;protocol=first-contact"): 1,
        ("decision", "role=police;verdict=not-sexual"): 1,
    }
    written = on_disk(db)
    for _, indicator, dims in held:
        assert (dims or indicator).encode() not in written

    # The schema: a period, an indicator, values, a count; nothing else, no link to anything.
    columns = [row[1] for row in query(db, "PRAGMA table_info(indicator_counts)")]
    assert columns == ["period", "indicator", "dims", "count"]
    assert query(db, "PRAGMA foreign_key_list(indicator_counts)") == []
    identifiers = {"1001", "1002", "2001", str(ADMIN), str(desk.group.id), case.code}
    identifiers |= {str(k) for (k,) in query(db, "SELECT person_key FROM people")}
    for period, indicator, dims, count in query(db, "SELECT * FROM indicator_counts"):
        assert re.fullmatch(r"\d{4}-W\d{2}|\d{4}-\d{2}", period)  # a week or a month, no day
        assert indicator in INDICATORS
        pairs = [pair.split("=") for pair in dims.split(";")] if dims else []
        assert [name for name, _ in pairs] == list(INDICATORS[indicator].dims)
        assert all(allowed(name, value) for name, value in pairs)
        # No id, time, coordinate or message number (a bucket's "lt5m" is one digit).
        assert not re.search(r"\d\d|\d[.:,/]", dims)
        assert not any(x in f"{period}{indicator}{dims}" for x in identifiers)
        assert count > 0

    # This week is not over: the administrator's /report shows only the empty months before it,
    # all "<5", and no chart (nothing in it would have a bar).
    await admin.send("/report")
    report = await wait_until(
        lambda: next((m for m in admin.messages if "📊" in m.get("text", "")), None)
    )
    assert "Quick exits: " in report["text"]
    assert week_of(datetime.now(UTC).date()) not in report["text"]
    await idle(emulator, db)
    assert not any("photo" in m for m in admin.messages)


def test_only_declared_indicators_and_values_can_be_counted() -> None:
    assert tally("start", language="fr").dims == "language=fr"
    refused: list[Callable[[], object]] = [
        lambda: tally("start", language="de"),  # not a language of the bot
        lambda: tally("start"),  # a dimension missing
        lambda: tally("quick_exit", chat="12345"),  # one that does not exist
        lambda: tally("first_centre", region="Sévaré"),  # a town is never a region
        lambda: tally("checklist_started", role="police", protocol="Awa Traoré"),
        lambda: tally("who", name="x"),
        lambda: knowledge_answer("editor", "q1", vslc=True, baseline=True, right=True),
        lambda: knowledge_answer("police", "Q 1!", vslc=True, baseline=True, right=True),
    ]
    for bad in refused:
        with pytest.raises(NotAnIndicator):
            bad()
    answer = knowledge_answer("justice", "vslc-definition", vslc=True, baseline=False, right=True)
    assert answer.dims == "role=justice;topic=vslc;phase=later;result=right"


@contextmanager
def migrated_before(path: Path, number: str) -> Iterator[sqlite3.Connection]:
    """A database file as the migrations before `number` left it, for a migration's test."""
    migrations = sorted((Path(__file__).parent.parent / "state" / "migrations").glob("0*.sql"))
    before = [m for m in migrations if m.name < number]
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA synchronous = OFF")  # a test's own file: no need to wait for the disk
        for migration in before:
            db.executescript(migration.read_text(encoding="utf-8"))
        db.execute(f"PRAGMA user_version = {len(before)}")
        yield db


async def test_the_quizs_earlier_monthly_counts_become_the_knowledge_indicator(
    tmp_path: Path,
) -> None:
    """Migration 009 moves what migration 008 counted, without the question id."""
    path = tmp_path / "before.sqlite3"
    with migrated_before(path, "009") as db:
        db.executemany(
            "INSERT INTO knowledge_months VALUES (?, ?, ?, ?, ?, ?, ?)",
            [("2026-11", "police", "q1", 1, "baseline", 2, 1),
             ("2026-11", "police", "q2", 1, "baseline", 3, 0),
             ("2026-11", "justice", "q3", 0, "later", 0, 4)],
        )  # fmt: skip
    await (await Store.open(path)).close()
    assert {
        (p, d): n for p, d, n in query(path, "SELECT period, dims, count FROM indicator_counts")
    } == {
        ("2026-11", "role=police;topic=vslc;phase=baseline;result=right"): 5,
        ("2026-11", "role=police;topic=vslc;phase=baseline;result=wrong"): 1,
        ("2026-11", "role=justice;topic=general;phase=later;result=wrong"): 4,
    }
    assert query(path, "SELECT name FROM sqlite_master WHERE name = 'knowledge_months'") == []


WEDNESDAY = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # in 2026-W48


class Moved:
    """A clock the test moves."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def rows(db_path: Path) -> dict[tuple[str, str, str], int]:
    found = query(db_path, "SELECT period, indicator, dims, count FROM indicator_counts")
    return {(period, indicator, dims): n for period, indicator, dims, n in found}


async def test_a_survivor_side_cell_is_written_only_once_it_holds_small_counts(
    store: Store, db_path: Path
) -> None:
    counter = Counter(Moved(WEDNESDAY))
    mopti = tally("first_centre", region="Mopti")

    def step(tallies: list[Tally]) -> Callable[[sqlite3.Connection], None]:
        return lambda conn: counter.add_sync(conn, tallies)

    for _ in range(SMALL - 1):
        await store.write(step([mopti]))  # committed: in the WAL if anywhere
        assert rows(db_path) == {}
        assert b"region=Mopti" not in on_disk(db_path)
    async with store.transaction() as db:  # the hotline's way: the fifth is written with all
        await counter.add(db, [mopti])
    assert rows(db_path) == {("2026-W48", "first_centre", "region=Mopti"): SMALL}
    assert b"region=Mopti" in on_disk(db_path)  # the look above would have seen it
    await store.write(step([mopti]))  # from then on, each goes to disk in its step
    async with store.transaction() as db:
        await counter.add(db, [mopti])
    assert rows(db_path) == {("2026-W48", "first_centre", "region=Mopti"): SMALL + 2}
    assert counter.held == {("2026-W48", "first_centre", "region=Mopti"): SMALL}

    # Officers are not the survivors: their counts are written at once, as they come.
    started = tally("checklist_started", role="police", protocol="first-contact")
    async with store.transaction() as db:
        await counter.add(db, [started])
    await store.write(step([started, knowledge_answer("police", "q1", vslc=True, baseline=True,
                                                      right=False)]))  # fmt: skip
    assert rows(db_path) == {
        ("2026-W48", "first_centre", "region=Mopti"): SMALL + 2,
        ("2026-W48", "checklist_started", "role=police;protocol=first-contact"): 2,
        ("2026-11", "knowledge", "role=police;topic=vslc;phase=baseline;result=wrong"): 1,
    }


async def test_when_the_week_ends_small_cells_are_folded_as_withheld_or_dropped(
    store: Store, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Moved(WEDNESDAY)
    counter = Counter(clock)
    week = [tally("first_centre", region=region) for region in ("Mopti", "Kayes", "Kayes")]
    week += [tally("first_centre", region="Ségou")] * 2  # 5 in three cells under SMALL
    week += [tally("place_given", method="typed"), tally("quick_exit")]  # 1 and 1: too few
    week += [tally("start", language="fr")] * SMALL  # written, as itself
    await store.write(lambda conn: counter.add_sync(conn, week))
    await counter.close_periods(store)  # the week is not over: nothing is folded yet
    assert rows(db_path) == {("2026-W48", "start", "language=fr"): SMALL}

    clock.now += timedelta(days=7)  # 2026-W49
    await store.write(lambda conn: counter.add_sync(conn, [tally("start", language="bm")]))
    with caplog.at_level(logging.INFO, logger="bot.indicators"):
        await counter.close_periods(store)
    assert rows(db_path) == {
        ("2026-W48", "start", "language=fr"): SMALL,
        ("2026-W48", "first_centre", "region=withheld"): 5,
    }
    assert counter.held == {("2026-W49", "start", "language=bm"): 1}  # its week is not over
    dropped = [r.getMessage() for r in caplog.records if r.name == "bot.indicators"]
    assert dropped == ["2 count(s) of the weeks just ended were too few to write: dropped"]
    for cell in (b"region=Mopti", b"region=Kayes", b"method=typed", b"quick_exit"):
        assert cell not in on_disk(db_path)


async def test_survivor_side_cells_written_under_small_before_are_folded(tmp_path: Path) -> None:
    """Migration 011 folds what was written before cells were held, as a week's end folds."""
    path = tmp_path / "before.sqlite3"
    with migrated_before(path, "011") as db:
        db.executemany(
            "INSERT INTO indicator_counts VALUES (?, ?, ?, ?)",
            [("2026-W48", "first_centre", "region=Mopti", 1),
             ("2026-W48", "first_centre", "region=Kayes", 4),
             ("2026-W48", "first_centre", "region=Bamako", 9),
             ("2026-W48", "place_given", "method=typed", 2),
             ("2026-W48", "quick_exit", "", 3),
             ("2026-W49", "quick_exit", "", 5),
             ("2026-W48", "decision", "role=police;verdict=unsure", 1)],
        )  # fmt: skip
    await (await Store.open(path)).close()
    assert rows(path) == {
        ("2026-W48", "first_centre", "region=withheld"): 5,
        ("2026-W48", "first_centre", "region=Bamako"): 9,
        ("2026-W49", "quick_exit", ""): 5,
        ("2026-W48", "decision", "role=police;verdict=unsure"): 1,  # an officer's: as it was
    }
    survivor = {name for name, spec in INDICATORS.items() if spec.side == "survivor"}
    [migration] = (Path(__file__).parent.parent / "state" / "migrations").glob("011_*.sql")
    listed = migration.read_text(encoding="utf-8")
    assert survivor == set(re.findall(r"\('(\w+)'\)", listed))
