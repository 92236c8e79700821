"""Editors end to end, in process over the emulator: a check survivors see dated at once, a
correction that waits for a second person, two "not working" that hide a number and tell the
administrators, no approving one's own change, a forged editor button, new numbers and centres
and a centre's address that reach survivors once someone else approves, bad input refused with
what is expected, and the export that round-trips, new entries included."""

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

    # In the language the administrator last used the bot in (their app's: English here).
    told = await shown(emulator.user(ADMIN))
    assert told["text"].startswith(f"⚠️ {number.name.texts[0][1]} is now hidden from survivors")
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


async def answer(person: FakeUser, *texts: str) -> Json:
    """Send each text in turn; the screen after the last."""
    for text in texts:
        await person.send(text)
        screen = await shown(person)
    return screen


async def approve_as_admin(emulator: BotApiEmulator, expected: str) -> None:
    """The administrator opens /review, finds the proposal, and approves it."""
    admin = emulator.user(ADMIN)
    await admin.send("/review")
    proposal = await shown(admin)
    assert expected in proposal["text"], proposal["text"]
    approve = next(d for d in data_of(proposal) if d.startswith("rv:ok:dir:"))
    assert (await press(admin, proposal, approve))["text"] == "✅ Approved."
    await shown(admin)  # what is left to review


async def survivor_centres_near(person: FakeUser, latitude: float, longitude: float) -> str:
    await person.send("/start")
    await person.press(await shown(person), "lang:en")
    await person.press(await shown(person), "nav:centre")
    await person.send_location(latitude, longitude)
    while not (text := str((await shown(person))["text"])).startswith("📍 Nearest centres"):
        pass  # where she is asked to share her location
    return text


async def test_a_new_number_reaches_survivors_only_once_someone_else_approves_it(
    emulator: BotApiEmulator, start_bot: StartBot, db_path: Path
) -> None:
    await start_bot(**ADMINS)
    fanta = emulator.user(3001, "Fanta", language_code="en")
    item = await become_editor(emulator, fanta)
    kinds = await press(fanta, item, "ed:add")
    assert data_of(kinds) == ["ed:new:number", "ed:new:centre", "ed:back"]
    ask = await press(fanta, kinds, "ed:new:number")
    assert ask["text"].startswith("➕ New number: only lines free to call are listed.\n\nSend")
    # Wrong input is refused with what is expected, and the question stays.
    refused = await answer(fanta, "12 34")
    assert refused["text"].startswith("This is not a Malian number: 8 digits")
    refused = await answer(fanta, "80 333")
    assert refused["text"].startswith("This number is already in the directory")
    ask = await answer(fanta, "70 00 00 01")
    assert "Send its name" in ask["text"]
    refused = await answer(fanta, "x" * 500)
    assert refused["text"].startswith("Please send between 1 and 120 characters.")
    ask = await answer(fanta, "Ligne d'écoute VBG de Kita", "Écoute et orientation des victimes.")
    assert "ed:leave" in data_of(ask)  # the hours may stay unknown
    source = await press(fanta, ask, "ed:leave")
    assert source["text"].startswith("How do you know? Send a link")
    refused = await answer(fanta, "I called it")
    assert refused["text"].startswith("Please send a link (https://…)")
    done = await answer(fanta, "https://example.org/kita-ecoute announced on the radio")
    assert done["text"] == "Thank you: the new entry waits for a second person (/review)."
    await shown(fanta)  # back to the entry she was on

    assert "70 00 00 01" not in await survivor_numbers(emulator.user(3101, language_code="en"))
    await fanta.send("/review")  # her own proposal is not in her queue
    nothing = await shown(fanta)
    assert nothing["text"] == "✅ Nothing waiting for review. Thank you."
    admin = emulator.user(ADMIN)
    await admin.send("/review")
    proposal = await shown(admin)
    assert proposal["text"].startswith("➕ New entry · proposed by 3001\n\nSurvivors would see:")
    assert "70 00 00 01: Ligne d'écoute VBG de Kita" in proposal["text"]
    approve = next(d for d in data_of(proposal) if d.startswith("rv:ok:dir:"))
    await fanta.press(nothing, approve, check=False)  # her own, by forged button data
    assert (await shown(fanta))["text"].startswith("Nobody approves their own")
    assert "70 00 00 01" not in await survivor_numbers(emulator.user(3102, language_code="en"))
    assert (await press(admin, proposal, approve))["text"] == "✅ Approved."
    text = await survivor_numbers(emulator.user(3103, language_code="en"))
    block = next(p for p in text.split("\n\n") if p.startswith("70 00 00 01"))
    assert "Écoute et orientation des victimes." in block
    assert "not yet confirmed" in block
    assert log_rows(db_path) == [("propose", "vbg-70000001"), ("approve", "vbg-70000001")]


async def test_a_new_centre_and_an_address_wait_for_approval_then_survivors_see_them(
    emulator: BotApiEmulator, start_bot: StartBot, db_path: Path, tmp_path: Path
) -> None:
    bot = await start_bot(**ADMINS)
    fanta = emulator.user(3001, "Fanta", language_code="en")
    item = await become_editor(emulator, fanta)
    await fanta.send("/add")
    ask = await press(fanta, await shown(fanta), "ed:new:centre")
    town = await answer(fanta, "One Stop Center de Kita")
    assert "In which town is it?" in town["text"]
    refused = await answer(fanta, "Xqzwv")
    assert refused["text"].startswith("No known town has this name.")
    ask = await answer(fanta, "Kita")
    assert "facility that hosts" in ask["text"]
    ask = await press(fanta, ask, "ed:leave")
    assert "the centre's address" in ask["text"]
    refused = await answer(fanta, "rue " * 100)
    assert refused["text"].startswith("Please send between 1 and 120 characters.")
    ask = await answer(fanta, "Rue 12, près du grand marché")
    for _ in ("phone", "hours"):
        ask = await press(fanta, ask, "ed:leave")
    services = await press(fanta, ask, "ed:svc:medical")
    assert (await press(fanta, services, "ed:sdone"))["text"].startswith("How do you know?")
    done = await answer(fanta, "https://example.org/osc-kita")
    assert done["text"] == "Thank you: the new entry waits for a second person (/review)."
    await shown(fanta)  # the entry she was on

    kita = (13.03885, -9.48817)
    survivor = emulator.user(3101, language_code="en")
    assert "Kita" not in await survivor_centres_near(survivor, *kita)
    await approve_as_admin(emulator, "One Stop Center de Kita")
    near = await survivor_centres_near(emulator.user(3102, language_code="en"), *kita)
    assert "1. One Stop Center de Kita, in Kita (exact place not yet known)\n" in near
    assert "Rue 12, près du grand marché, Kita\nServices: medical care\n" in near

    # An address correction, on the first centre of the queue, waits for approval too.
    for _ in range(len(NUMBERS) + 1):  # the numbers come first, the new one among them
        item = await press(fanta, item, "ed:skip")
    centre = next(c for c in load_directory().centres if f"\n{c.name}\n" in item["text"])
    fields = await press(fanta, item, "ed:correct")
    assert "ed:field:address" in data_of(fields)
    ask = await press(fanta, fields, "ed:field:address")
    await answer(fanta, "Avenue de l'OUA, porte 40", "I went there")
    where = centre.latitude or 0.0, centre.longitude or 0.0
    assert "porte 40" not in await survivor_centres_near(emulator.user(3103, "en"), *where)
    await approve_as_admin(emulator, "Address: not known → Avenue de l'OUA, porte 40")
    near = await survivor_centres_near(emulator.user(3104, language_code="en"), *where)
    assert f"Avenue de l'OUA, porte 40, {centre.town}" in near

    await bot.shutdown()
    # Exported with the new centre and the address, loaded, exported again: the same files.
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
    with (tmp_path / "first" / "centres.csv").open(encoding="utf-8") as handle:
        rows = {r["id"]: r for r in csv.DictReader(handle)}
    assert rows[centre.id]["address"] == "Avenue de l'OUA, porte 40"
    added = rows["one-stop-center-de-kita"]
    assert (added["town"], added["region"], added["coordinates"]) == ("Kita", "Kita", "approximate")
    assert (added["address"], added["source_url"]) == (
        "Rue 12, près du grand marché",
        "https://example.org/osc-kita",
    )
