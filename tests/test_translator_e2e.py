"""Translators end to end, in process against the emulator: a translation reviewed by a second
person reaches a survivor reading Bamanankan at once and after a restart, and the export writes
it into a .po that `pybabel compile` accepts; a dropped placeholder and every kind of wrong input
are refused with nothing stored; a voice note approved after listening gets a 🔊 button only in
its language, is sent protected, and goes with the quick exit; a language reaches the survivors'
list exactly when its survivor screens are complete."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from bot.content import load_directory
from bot.emulator import BotApiEmulator, FakeUser
from bot.flows.base import NOT_UNDERSTOOD, Event, FlowModel
from bot.flows.survivor import LANGUAGE, SurvivorFlow
from bot.i18n import LOCALES_DIR
from bot.translations import FAULTS, Source, Translations, export, fault
from state import translation_log
from state.store import Store
from state.translation_log import TranslationEntry
from tests.conftest import StartBot
from tests.test_officer_e2e import ADMIN, ADMINS, data_of, invite, press, shown

pytestmark = pytest.mark.usefixtures("unpaced", "in_process")
Json = dict[str, Any]
BM_TEXT = "Hakɛto, n ma o faamu. Butɔnw digi duguma."


async def become_translator(emulator: BotApiEmulator, person: FakeUser) -> Json:
    """Invited for Bambara and redeemed by the deep link; returns the first message to translate."""
    await person.send(f"/start {await invite(emulator, 'translator bm')}")
    assert (await shown(person))["text"].startswith("✅ Welcome. You can now translate")
    first = await shown(person)
    await shown(emulator.user(ADMIN))  # the administrator hears who used the code
    return first


async def skip_until(person: FakeUser, screen: Json, wanted: Callable[[str], bool]) -> Json:
    for _ in range(40):
        if wanted(screen["text"]):
            return screen
        screen = await press(person, screen, "tr:skip")
    raise AssertionError("not found in the queue")


def rows(db_path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(db_path) as db:
        return db.execute("SELECT action, kind FROM translation_log ORDER BY id").fetchall()


async def bambara_survivor(person: FakeUser) -> None:
    await person.send("/start")
    await person.press(await shown(person), "lang:bm")
    await shown(person)  # the menu


async def test_translate_review_survivors_read_it_restart_and_export(
    emulator: BotApiEmulator, start_bot: StartBot, db_path: Path, tmp_path: Path
) -> None:
    bot = await start_bot(**ADMINS)
    awa = emulator.user(4001, "Awa", language_code="en")
    first = await become_translator(emulator, awa)
    assert first["text"].startswith("Bamanankan: 3/")
    assert "survivor screens 3/" in first["text"]
    item = await skip_until(awa, first, lambda text: NOT_UNDERSTOOD.msgid in text)
    assert "French: Désolé, je n'ai pas compris." in item["text"]
    await awa.send(BM_TEXT)
    assert "waits for a second person" in (await shown(awa))["text"]
    await shown(awa)  # the next message to translate

    survivor = emulator.user(4101, language_code="en")
    await bambara_survivor(survivor)
    await survivor.send_sticker()
    assert BM_TEXT not in (await shown(survivor))["text"]  # not approved yet: French

    admin = emulator.user(ADMIN)
    await admin.send("/review")
    proposal = await shown(admin)
    assert f"English: {NOT_UNDERSTOOD.msgid}" in proposal["text"]
    assert f"Proposed: {BM_TEXT}" in proposal["text"]
    approve = next(d for d in data_of(proposal) if d.startswith("rv:ok:tr:"))
    assert (await press(admin, proposal, approve))["text"] == "✅ Approved."

    await survivor.send_sticker()
    assert (await shown(survivor))["text"].startswith(BM_TEXT)  # at once
    await bot.shutdown()
    await start_bot(**ADMINS)
    await survivor.send_sticker()
    assert (await shown(survivor))["text"].startswith(BM_TEXT)  # and after a restart

    locales = tmp_path / "locales"
    shutil.copytree(LOCALES_DIR, locales, ignore=shutil.ignore_patterns("*.mo"))
    store = await Store.open(db_path)
    try:
        translations = Translations(store, locales)
        await translations.load()
        written = export(translations)
    finally:
        await store.close()
    po = locales / "bm" / "LC_MESSAGES" / "messages.po"
    assert written == [po]
    with po.open("rb") as fh:
        message = read_po(fh)[NOT_UNDERSTOOD.msgid]
    assert message.string == BM_TEXT
    assert not message.fuzzy
    credit = " ".join(message.user_comments)
    assert "translated by a translator on" in credit
    assert "approved by an administrator" in credit
    assert "4001" not in po.read_text(encoding="utf-8")  # never a Telegram id
    pybabel = ["pybabel", "compile", "-d", str(locales), "-l", "bm"]
    assert CommandLineInterface().run(pybabel) == 0  # type: ignore[no-untyped-call]
    assert po.with_suffix(".mo").stat().st_size > 0


async def test_bad_input_is_refused_and_nothing_half_done_is_stored(
    emulator: BotApiEmulator, start_bot: StartBot, db_path: Path
) -> None:
    await start_bot(**ADMINS)
    stranger = emulator.user(4201, language_code="en")
    await stranger.send("/start")
    welcome = await shown(stranger)
    for data in ("tr:skip", "tr:lang:bm", "rv:ok:tr:1"):
        await stranger.press(welcome, data, check=False)
        refusal = await shown(stranger)
        assert "only for invited" in refusal["text"].lower()
        assert data_of(refusal) == []
    await stranger.send("/translate")
    assert "only for invited translators" in (await shown(stranger))["text"]

    awa = emulator.user(4001, "Awa", language_code="en")
    item = await skip_until(awa, await become_translator(emulator, awa), lambda text: "%(" in text)
    await awa.send("Nothing of the source's names here")
    assert (await shown(awa))["text"].startswith("Keep every %(…)s part exactly")
    senders: list[Callable[[], Awaitable[Json]]] = [
        awa.send_sticker,
        awa.send_voice,
        lambda: awa.send_document("a.pdf"),
    ]
    for send in senders:
        await send()
        assert (await shown(awa))["text"].startswith("Please send the translation as a text")
    french = item["text"].split("French: ", 1)[1].split("\n\n", 1)[0]
    await awa.send(french)  # its names are right, but it is the French: questioned
    question = await shown(awa)
    assert question["text"].startswith("Keep it identical to the French?")
    again = await press(awa, question, "tr:again")
    assert again["text"] == item["text"]  # the same message to translate, nothing kept

    await awa.send("/record")
    record = await shown(awa)
    assert "Record a voice note" in record["text"]
    await awa.send("a text")
    assert (await shown(awa))["text"].startswith("Please answer with a voice note")
    await awa.send_voice(duration=61)
    assert (await shown(awa))["text"].startswith("This voice note is longer than 60 seconds")
    await awa.send_document("song.mp3", mime_type="audio/mpeg")
    assert (await shown(awa))["text"].startswith("Please answer with a voice note")
    assert rows(db_path) == []


async def test_a_recording_plays_only_in_its_language_protected_and_leaves_with_the_exit(
    emulator: BotApiEmulator, start_bot: StartBot, db_path: Path
) -> None:
    await start_bot(**ADMINS)
    awa = emulator.user(4001, "Awa", language_code="en")
    await become_translator(emulator, awa)
    await awa.send("/record")
    record = await shown(awa)
    assert "“Greeting and language choice”" in record["text"]
    await awa.send_voice(duration=12)
    assert "waits for a second person to listen" in (await shown(awa))["text"]

    admin = emulator.user(ADMIN)
    await admin.send("/review")
    heard = await shown(admin)
    assert heard["voice"]["duration"] == 12  # listened to before deciding
    assert heard["has_protected_content"]
    proposal = await shown(admin)
    approve = next(d for d in data_of(proposal) if d.startswith("rv:ok:tr:"))
    assert (await press(admin, proposal, approve))["text"] == "✅ Approved."
    assert (await shown(admin))["text"] == "✅ Nothing waiting for review. Thank you."
    assert rows(db_path) == [("propose", "voice"), ("approve", "voice")]

    english = emulator.user(4102, language_code="en")
    await english.send("/start")
    greeting = await shown(english)
    assert "voice:greeting" not in data_of(greeting)
    assert "lang:ff" not in data_of(greeting)  # not complete: survivors do not see it yet
    await admin.send("/start")
    preview = await shown(admin)  # an administrator previews every language
    assert {"lang:ff", "lang:ses"} <= set(data_of(preview))
    await admin.press(preview, "lang:ff")
    assert "nav:centre" in data_of(await shown(admin))

    mariam = emulator.user(4103, language_code="bm")
    await mariam.send("/start")
    greeting = await shown(mariam)
    assert data_of(greeting)[0] == "voice:greeting"
    await mariam.press(greeting, "voice:greeting")
    voice = await shown(mariam)
    assert voice["voice"]["file_id"] == heard["voice"]["file_id"]
    assert voice["has_protected_content"]

    await mariam.send("/exit")
    while (await mariam.next_event()).kind != "message":
        pass  # the deletions, then the goodbye
    left = [m["message_id"] for m in mariam.messages]
    assert voice["message_id"] not in left
    assert greeting["message_id"] not in left


async def test_a_language_is_offered_exactly_when_its_survivor_screens_are_complete(
    store: Store,
) -> None:
    translations = Translations(store)
    flow = SurvivorFlow(load_directory(), voices=translations)
    await translations.load(screens=flow.voice_screens())
    survivor = [s for s in translations.sources() if s.audience == "survivor"]
    async with store.transaction() as db:
        for n, source in enumerate(survivor[:-1]):
            forms = json.dumps([f"ff {n}"] * (2 if source.plural else 1))
            proposed = await translation_log.append(db, TranslationEntry(
                0, 1, 7, "translator", "propose", "ff", "text", source.msgid, forms))  # fmt: skip
            await translation_log.append(db, TranslationEntry(
                0, 2, 8, "administrator", "approve", "ff", "text", source.msgid,
                proposal=proposed.id))  # fmt: skip
    translations = Translations(store)
    flow = SurvivorFlow(load_directory(), voices=translations)
    await translations.load(screens=flow.voice_screens())

    async def offered() -> list[str]:
        model = FlowModel({}, None)
        flow.machine.add_model(model, initial=LANGUAGE)
        try:
            outputs = await flow.step(model, Event("command", 1, name="start"))
        finally:
            flow.machine.remove_model(model)
        return [b.data for row in outputs[-1].buttons for b in row]  # type: ignore[union-attr]

    assert "lang:ff" not in await offered()
    assert not translations.coverage("ff").complete
    last = survivor[-1]
    forms = json.dumps(["ff"] * (2 if last.plural else 1))
    proposal = await translations.record(TranslationEntry(
        0, 0, 7, "translator", "propose", "ff", "text", last.msgid, forms))  # fmt: skip
    assert "lang:ff" not in await offered()  # proposed is not approved
    await translations.record(TranslationEntry(
        0, 0, 8, "administrator", "approve", "ff", "text", last.msgid, proposal=proposal.id
    ))  # fmt: skip
    assert "lang:ff" in await offered()
    assert "lang:ses" not in await offered()


def test_the_checks_before_anything_is_kept() -> None:
    source = Source("Hello %(name)s, %(num)d left", None, "survivor", "bot/flows/survivor.py")
    assert fault(source, 0, "I ni ce %(name)s, %(num)d to") is None
    assert fault(source, 0, "   ") == FAULTS["empty"]
    assert fault(source, 0, "x" * 4097) == FAULTS["long"]
    for wrong in ("I ni ce %(name)s", "%(name)s %(num)d %(extra)s", "%(nom)s %(num)d",
                  "%(name)s %(num)d 100%"):  # fmt: skip
        problem = fault(source, 0, wrong)
        assert problem is not None
        assert problem.msgid == FAULTS["placeholders"].msgid, wrong
    button = Source("🔊 Listen", None, "survivor", "bot/flows/survivor.py")
    assert button.button
    assert fault(button, 0, "🔊 " + "a" * 39) == FAULTS["button"]  # 41 characters
    assert fault(button, 0, "🔊 Lamɛn") is None
