"""Editors end to end, over HTTP against the emulator: a check survivors see dated at once, a
correction that waits for a second person, two "not working" that hide a number and tell the
administrators, no approving one's own change, a forged editor button, and the export that
round-trips."""

from __future__ import annotations

import csv
import filecmp
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from babel.dates import format_date

from bot.content import CONTENT_DIR, Number, load_directory
from bot.content.export import export
from bot.editing import Editing
from bot.emulator import BotApiEmulator, FakeUser
from state.store import Store
from tests.conftest import StartBot
from tests.test_officer_e2e import ADMIN, ADMINS, data_of, invite, press, shown

# What editors and survivors are told, not its pace nor the wire, is checked here.
pytestmark = pytest.mark.usefixtures("unpaced", "in_process")
Json = dict[str, Any]
NUMBERS = {n.id: n for n in load_directory().numbers}
TODAY = format_date(datetime.now(UTC).date(), "long", locale="en")


async def become_editor(emulator: BotApiEmulator, person: FakeUser) -> Json:
    """Invited and redeemed by the deep link; returns the first entry to check."""
    await person.send(f"/start {await invite(emulator, 'editor')}")
    assert (await shown(person))["text"].startswith("✅ Welcome. You can now check")
    item = await shown(person)
    assert "ed:works:phone" in data_of(item)
    await shown(emulator.user(ADMIN))  # the administrator hears who used the code
    return item


def number_on(item: Json) -> Number:
    """The number an entry screen is about."""
    found = [n for n in NUMBERS.values() if f"{n.display}: " in item["text"]]
    assert len(found) == 1, item["text"]
    return found[0]


async def survivor_numbers(person: FakeUser) -> str:
    """The free numbers screen, as a survivor reading English sees it."""
    await person.send("/start")
    await person.press(await shown(person), "lang:en")
    await person.press(await shown(person), "nav:numbers")
    return str((await shown(person))["text"])


def log_rows(db_path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(db_path) as db:
        return db.execute("SELECT action, item_id FROM directory_log ORDER BY id").fetchall()


async def test_a_number_checked_by_phone_is_dated_for_survivors_at_once(
    emulator: BotApiEmulator, start_bot: StartBot
) -> None:
    await start_bot(**ADMINS)
    fanta = emulator.user(3001, "Fanta", language_code="en")
    item = await become_editor(emulator, fanta)
    number = number_on(item)
    assert "not yet confirmed" in item["text"]
    done = await press(fanta, item, "ed:works:phone")
    assert done["text"] == "✅ Thank you: checked today."
    assert "ed:works:phone" in data_of(await shown(fanta))  # the next entry

    text = await survivor_numbers(emulator.user(3101, language_code="en"))
    block = next(p for p in text.split("\n\n") if p.startswith(number.display))
    assert f"checked by phone on {TODAY}" in block
    assert sum("not yet confirmed" in p for p in text.split("\n\n")) == len(NUMBERS) - 1


async def test_a_correction_waits_for_a_second_person_who_is_not_its_author(
    emulator: BotApiEmulator, start_bot: StartBot, db_path: Path, tmp_path: Path
) -> None:
    bot = await start_bot(**ADMINS)
    fanta = emulator.user(3001, "Fanta", language_code="en")
    item = await become_editor(emulator, fanta)
    number = number_on(item)
    fields = await press(fanta, item, "ed:correct")
    ask = await press(fanta, fields, "ed:field:hours")
    assert "lun-ven 08:00-17:00" in ask["text"]
    await fanta.send("all day every day")
    assert (await shown(fanta))["text"].startswith("These hours cannot be read.")
    await fanta.send("lun-ven 08:00-17:00; sam 08:00-12:00")
    assert (await shown(fanta))["text"].startswith("How do you know?")
    await fanta.send("I called them on Monday")
    assert "waits for a second person" in (await shown(fanta))["text"]
    await shown(fanta)  # the next entry

    new_hours = "lun-ven 08:00-17:00"
    assert new_hours not in await survivor_numbers(emulator.user(3101, language_code="en"))

    await fanta.send("/review")  # her own change is not in her queue
    nothing = await shown(fanta)
    assert nothing["text"] == "✅ Nothing waiting for review. Thank you."

    admin = emulator.user(ADMIN)
    await admin.send("/review")  # administrators are editors too
    proposal = await shown(admin)
    assert "Hours:" in proposal["text"]
    assert "→ lun-ven 08:00-17:00; sam 08:00-12:00" in proposal["text"]
    assert "Source: I called them on Monday" in proposal["text"]
    approve = next(d for d in data_of(proposal) if d.startswith("rv:ok:dir:"))
    await fanta.press(nothing, approve, check=False)  # her own, by forged button data
    assert (await shown(fanta))["text"].startswith("Nobody approves their own change")
    assert new_hours not in await survivor_numbers(emulator.user(3102, language_code="en"))
    assert (await press(admin, proposal, approve))["text"] == "✅ Approved."
    block = next(
        p for p in (await survivor_numbers(emulator.user(3103, language_code="en"))).split("\n\n")
        if p.startswith(number.display)
    )  # fmt: skip
    assert "Hours: lun-ven 08:00-17:00; sam 08:00-12:00" in block

    assert log_rows(db_path) == [("propose", number.id), ("approve", number.id)]
    await bot.shutdown()
    # The export writes the change into the CSV files; exported, loaded, exported again: the same.
    store = await Store.open(db_path)
    try:
        editing = Editing(store, load_directory())
        await editing.load()
        first = export(CONTENT_DIR, editing.applied, tmp_path / "first")
        again = Editing(store, load_directory(tmp_path / "first"))
        await again.load()
        export(tmp_path / "first", again.applied, tmp_path / "second")
    finally:
        await store.close()
    for path in first:
        assert filecmp.cmp(path, tmp_path / "second" / path.name, shallow=False), path.name
    with (tmp_path / "first" / "numbers.csv").open(encoding="utf-8") as handle:
        row = next(r for r in csv.DictReader(handle) if r["id"] == number.id)
    assert row["hours"] == "lun-ven 08:00-17:00; sam 08:00-12:00"


async def test_two_people_finding_a_number_not_working_hide_it_and_tell_administrators(
    emulator: BotApiEmulator, start_bot: StartBot, db_path: Path
) -> None:
    await start_bot(**ADMINS)
    fanta = emulator.user(3001, "Fanta", language_code="en")
    oumou = emulator.user(3002, "Oumou", language_code="en")
    first = await become_editor(emulator, fanta)
    second = await become_editor(emulator, oumou)
    number = number_on(first)
    assert number_on(second) == number
    for editor, item in ((fanta, first), (oumou, second)):
        reasons = await press(editor, item, "ed:broken")
        assert "ed:reason:no_answer" in data_of(reasons)
        done = await press(editor, reasons, "ed:reason:no_answer")
        assert done["text"] == "Thank you: your report waits for a second person."
        await shown(editor)  # the next entry

    told = await shown(emulator.user(ADMIN))  # in French: no language chosen in the bot
    assert told["text"].startswith(f"⚠️ {number.name.texts[0][1]} est maintenant caché")
    text = await survivor_numbers(emulator.user(3101, language_code="en"))
    assert number.display not in text
    assert [n.display in text for n in NUMBERS.values()].count(True) == len(NUMBERS) - 1
    assert log_rows(db_path) == [("broken", number.id), ("broken", number.id)]


async def test_a_forged_editor_button_from_a_stranger_does_nothing(
    emulator: BotApiEmulator, start_bot: StartBot, db_path: Path
) -> None:
    await start_bot(**ADMINS)
    stranger = emulator.user(3201, language_code="en")
    await stranger.send("/start")
    welcome = await shown(stranger)
    for data in ("ed:works:phone", "ed:field:hours"):
        await stranger.press(welcome, data, check=False)
        refusal = await shown(stranger)
        assert "only for invited editors" in refusal["text"]
        assert data_of(refusal) == []
    await stranger.send("/verify")
    assert "only for invited editors" in (await shown(stranger))["text"]
    assert log_rows(db_path) == []
