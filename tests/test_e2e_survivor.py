"""The survivor journey end to end (issue 3): the real Application, built by the production
factory, talks HTTP to the loopback Bot API emulator while the tests play the people.

French is covered path by path; Bambara and English along the main path. Expected French texts
that carry a requirement of the issue are written out here; other texts are rendered through the
bot's own catalogs (`say`), which is how the unreviewed Bambara falls back to French.

Telegram's per-chat pace (about one message a second, tested in test_ratelimit.py) is lifted for
these tests, except in the one that checks the emergency answer at the real pace: an emergency
answer is six messages, and the whole file would otherwise take minutes.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import functools
import logging
import shutil
import sqlite3
import struct
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot import app
from bot.content import CONTENT_DIR, load_directory
from bot.emulator import ApiCall, BotApiEmulator, FakeUser
from bot.flows import referral, survivor
from bot.flows.screens import t
from bot.handlers import events
from bot.i18n import Catalogs
from tests.conftest import RunningBot, StartBot
from tests.journey import (
    EMERGENCY,
    EXIT,
    Answer,
    Json,
    answer,
    button_data,
    buttons,
    deleted_ids,
    first_line,
    goodbye,
    labels,
    messages,
    start_in,
)

# In process: what she is shown, without the wire (bot/emulator/inprocess.py).
pytestmark = pytest.mark.usefixtures("in_process")
MOPTI = (14.49, -4.19)
BAMAKO = (12.64, -8.0)
GAO = (16.27, -0.04)
DESERT = (20.0, -2.0)

MENU_DATA = [
    "nav:emergency", "nav:centre", "nav:numbers", "nav:talk", "nav:about", "nav:language", "exit",
]  # fmt: skip
LANGUAGE_DATA = ["lang:fr", "lang:bm", "lang:en", "nav:emergency", "exit"]
WHERE_DATA = ["nav:regions", "nav:emergency", "nav:menu", "exit"]
SEND_METHODS = ("sendMessage", "sendContact", "sendVenue", "sendLocation", "sendPhoto")

# The French texts that carry what the issue asks for.
FR_MENU = "Que voulez-vous faire ?"
FR_SORRY = "Désolé, je n'ai pas compris. Utilisez les boutons ci-dessous."
FR_GOODBYE = "Bonne journée."
FR_SERVICES = {
    "medical": "soins médicaux",
    "psychosocial": "soutien psychologique",
    "legal": "aide juridique",
    "security": "sécurité (police)",
    "shelter": "hébergement",
    "reinsertion": "aide pour recommencer (travail, école)",
}
# Words that would tell someone glancing at a lock screen what the chat is about.
REVEALING = ("violence", "viol", "vbg", "gbv", "sexu", "abus", "agress", "victim", "surviv",
             "plainte", "vih", "rape", "hiv", "complaint")  # fmt: skip


# --- content, read straight from the CSV files ----------------------------------------------------


def _csv(name: str, content: Path = CONTENT_DIR) -> list[dict[str, str]]:
    with (content / name).open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


NUMBERS = _csv("numbers.csv")
CENTRES = {row["id"]: row for row in _csv("centres.csv")}
EMERGENCY_ORDER = {"police": 0, "gendarmerie": 1, "gbv": 2}
NUMBERS_FOR_EMERGENCY = sorted(NUMBERS, key=lambda n: EMERGENCY_ORDER[n["kind"]])


@functools.cache
def _catalogs() -> Catalogs:
    return Catalogs()


def say(language: str, msgid: str, **params: object) -> str:
    """A message as the bot's catalogs render it in that language."""
    return _catalogs().translator(language).render(t(msgid, **params))


def freshness_word(language: str, entry: dict[str, str]) -> str:
    """Only a call or a visit by an editor confirms an entry for survivors (bot/editing.py)."""
    if entry.get("verified_by"):
        raise AssertionError("the shipped files hold no entry checked by phone or visit yet")
    if "number" in entry:
        return say(language, "not yet confirmed by phone")
    return say(language, "not yet confirmed by a call or a visit")


@functools.cache
def _languages() -> dict[str, dict[str, str]]:
    """Per language: the texts the main path is checked against."""
    return {
        "fr": {
            "menu": FR_MENU,
            "goodbye": FR_GOODBYE,
            "no_answer": "Si personne ne répond, allez dans un lieu sûr",
            "not_emergency": "Jigiya n'est pas un service d'urgence : il ne peut pas envoyer",
            "shared": "📍 Centres les plus proches du lieu partagé :",
            "purpose": "purpose_fr",
        },
        "en": {
            "menu": "What would you like to do?",
            "goodbye": "Have a good day.",
            "no_answer": "If nobody answers, go to a safe place",
            "not_emergency": "Jigiya is not an emergency service: it cannot send help",
            "shared": "📍 Nearest centres to the place you shared:",
            "purpose": "purpose_en",
        },
        "bm": {
            "menu": "I b'a fɛ ka mun kɛ?",  # reviewed in Bambara
            "goodbye": say("bm", "Have a good day."),
            "no_answer": say("bm", survivor.IF_NOBODY_ANSWERS.msgid),
            "not_emergency": say("bm", survivor.NOT_AN_EMERGENCY_SERVICE.msgid),
            "shared": say("bm", "📍 Nearest centres to the place you shared:"),
            "purpose": "purpose_fr",  # content in Bambara comes later: French
        },
    }


# --- the bot and the store ------------------------------------------------------------------------


@pytest.fixture
async def bot(unpaced: None, start_bot: StartBot) -> RunningBot:
    return await start_bot()


def query(db_path: Path, sql: str, *args: object) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        return conn.execute(sql, args).fetchall()


def person_keys(db_path: Path) -> set[str]:
    return {str(row[0]) for row in query(db_path, "SELECT person_key FROM people")}


def rows_of(db_path: Path, person_key: str) -> dict[str, int]:
    """How many rows of this person each table holds."""
    counts = {}
    for table in ("people", "conversations", "chat_messages"):
        sql = f"SELECT COUNT(*) FROM {table} WHERE person_key = ?"
        counts[table] = int(query(db_path, sql, person_key)[0][0])
    return counts


def tracked_ids(db_path: Path, person_key: str) -> set[int]:
    sql = "SELECT message_id FROM chat_messages WHERE person_key = ?"
    return {int(row[0]) for row in query(db_path, sql, person_key)}


async def eventually(check: Callable[[], bool], timeout: float = 3.0) -> None:
    """The bot writes what it sent after sending it: wait for the write."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, "the store did not reach the expected state"
        await asyncio.sleep(0.02)


async def new_person_key(db_path: Path, known: set[str]) -> str:
    await eventually(lambda: len(person_keys(db_path) - known) == 1)
    return (person_keys(db_path) - known).pop()


def store_bytes(db_path: Path) -> bytes:
    """The database file with its -wal and -shm, as they are on disk now."""
    files = [db_path.with_name(db_path.name + suffix) for suffix in ("", "-wal", "-shm")]
    return b"".join(p.read_bytes() for p in files if p.exists())


def send_calls(emulator: BotApiEmulator) -> list[ApiCall]:
    return [c for c in emulator.calls if c.method in SEND_METHODS]


# --- reading answers ------------------------------------------------------------------------------


def paragraphs(text: str) -> list[str]:
    return text.split("\n\n")


def kilometres(entry: str) -> int:
    head = entry.split("\n", 1)[0]
    return int(head.rsplit(" km", 1)[0].rsplit(" ", 1)[1])


def distance_km(entry: str) -> float:
    """The distance an entry gives, or 0 for a centre "in <town> (exact place not yet known)"."""
    return kilometres(entry) if " km" in entry.split("\n", 1)[0] else 0


# The centres whose newest source was over eight years old when the sources were read, and that
# nobody has called or visited: listed after the others, with their uncertainty (issue 17).
OLD_SOURCES = {"konna", "bamako-police"}


def reported(language: str, centre: dict[str, str]) -> str:
    """What the source says of a centre and when: "Signalé ouvert en juillet 2021"."""
    year, _, rest = centre["source_date"].partition("-")
    when = say(language, referral.MONTHS[int(rest[:2]) - 1].msgid, year=year) if rest else year
    if centre["id"] in OLD_SOURCES:
        return say(
            language, "Reported open in %(when)s, an old source: the centre may have closed since",
            when=when,
        )  # fmt: skip
    return say(language, "Reported open in %(when)s", when=when)


def check_entry(entry: str, rank: int, centre_id: str, language: str) -> None:
    """One centre of a result list: name, distance, where, services, hours and phone unknown,
    the date of its source and that nobody has confirmed it yet."""
    centre = CENTRES[centre_id]
    assert entry.startswith(f"{rank}. {centre['name']}, "), entry
    assert centre["town"] in entry
    assert centre["host_facility"] in entry
    if language == "fr":
        for service in centre["services"].split(";"):
            assert FR_SERVICES[service] in entry
    assert say(language, "not known yet") in entry  # hours: none shipped
    assert say(language, "not known") in entry  # phone: none shipped
    # Every shipped position is the town's: near it, the exact place is said to be unknown;
    # farther, the distance is "about", measured from the town centre.
    if distance_km(entry):
        km = kilometres(entry)
        assert km >= referral.TOWN_KM
        assert say(language, "about %(km)s km away (measured from the town centre)", km=km) in entry
    else:
        town = say(language, "in %(town)s (exact place not yet known)", town=centre["town"])
        assert entry.split("\n", 1)[0].endswith(town), entry
    # A research date is never shown as a check; the source's date is.
    assert "2026" not in entry
    assert entry.endswith(f"{reported(language, centre)} · {freshness_word(language, centre)}")


def check_emergency(got: Answer, language: str = "fr") -> None:
    """Every number as a contact card at once, first, under a name that gives nothing away
    (police, gendarmerie, then the green lines); then one text with a line per number and its
    real status, a safe place if nobody answers and what Jigiya cannot do, with a plan to stay
    safer one tap away and the menu's buttons to go on."""
    expected = _languages()[language]
    danger = got.sent[-1]
    text = danger["text"]
    assert first_line(danger) == say(language, "☎️ Useful numbers")
    lines = [p for p in paragraphs(text) if p.startswith("• ")]
    assert len(lines) == len(NUMBERS)
    for line, number in zip(lines, NUMBERS_FOR_EMERGENCY, strict=True):
        assert line.startswith(f"• {number['display']}")
        assert number[expected["purpose"]] in line
        assert freshness_word(language, number) in line
    assert expected["no_answer"] in text
    assert expected["not_emergency"] in text
    assert button_data(danger) == ["nav:plan", *MENU_DATA]
    assert [m.get("contact") for m in got.sent[:-1]] == [
        {"phone_number": n["number"], "first_name": card_name(language, n)}
        for n in NUMBERS_FOR_EMERGENCY
    ]
    assert not [c for c in got.contacts if "VBG" in c["first_name"].upper()]


def one_message(got: Answer) -> Json:
    """The nearest centres: one new message, which takes the location keyboard away and is
    then given its buttons (a message has one keyboard): the menu's, for a town-coordinates
    list (no map button)."""
    (sent,) = got.sent
    assert got.keyboards == [{"remove_keyboard": True}]
    assert got.screen["message_id"] == sent["message_id"]
    assert button_data(got.screen) == MENU_DATA
    return sent


def card_name(language: str, number: dict[str, str]) -> str:
    return say(language, referral.CARD_NAMES[number["kind"]].msgid, number=number["display"])


# --- journeys -------------------------------------------------------------------------------------


async def follow(person: FakeUser, screen: Json, steps: list[str]) -> Json:
    """Press the buttons with these data, or send these texts (steps without a colon)."""
    for step in steps:
        if ":" in step:
            await person.press(screen, step)
        else:
            await person.send(step)
        screen = (await answer(person, location_prompt=step == "nav:centre")).screen
    return screen


ROUTES = {
    "menu": [],
    "where": ["nav:centre"],
    "regions": ["nav:centre", "nav:regions"],
    "towns": ["nav:centre", "nav:regions", "region:5"],
    "confirm": ["nav:centre", "Kayse"],
    "not understood": ["blablabla"],
}


async def tour(
    person: FakeUser,
    *,
    where: tuple[float, float] = MOPTI,
    typed: str = "Kayse",
    chatter: str = "qsdfghjk",
) -> dict[str, Answer]:
    """Every survivor screen and action once, in French: what a curious person would do."""
    got: dict[str, Answer] = {}

    async def step(name: str, act: Awaitable[object], *, location_prompt: bool = False) -> Json:
        await act
        got[name] = await answer(person, location_prompt=location_prompt)
        return got[name].screen

    screen = await step("greeting", person.send("/start"))
    screen = await step("menu", person.press(screen, "lang:fr"))
    screen = await step("emergency", person.press(screen, EMERGENCY))
    screen = await step("plan", person.press(screen, "nav:plan"))
    screen = await step("numbers", person.press(screen, "nav:numbers"))
    screen = await step("talk", person.press(screen, "nav:talk"))
    screen = await step("about", person.press(screen, "nav:about"))
    screen = await step("where", person.press(screen, "nav:centre"), location_prompt=True)
    screen = await step("location", person.send_location(*where))
    screen = await step("chatter", person.send(chatter))
    screen = await step("sticker", person.send_sticker())
    screen = await step("where again", person.press(screen, "nav:centre"), location_prompt=True)
    screen = await step("regions", person.press(screen, "nav:regions"))
    screen = await step("towns", person.press(screen, "region:5"))
    screen = await step("town", person.press(screen, "place:sevare"))
    screen = await step("where typed", person.press(screen, "nav:centre"), location_prompt=True)
    screen = await step("confirm", person.send(typed))
    screen = await step("typed", person.press(screen, button_data(screen)[0]))
    return got


# --- greeting and language ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language_code", "checked", "language"),
    [
        ("fr", "✓ Français", "fr"),
        ("bm", "✓ Bamanankan", "bm"),
        ("en-GB", "✓ English", "en"),
        ("de", None, "fr"),
    ],
)
async def test_start_greets_neutrally_with_the_app_language_preselected(
    emulator: BotApiEmulator,
    bot: RunningBot,
    language_code: str,
    checked: str | None,
    language: str,
) -> None:
    awa = emulator.user(2001, language_code=language_code)
    await awa.send("/start")
    greeting = (await answer(awa)).screen
    assert greeting["text"] == "\n\n".join(
        [
            say(language, "Hello. Jigiya is a free and private information service."),
            say(language, "Choose your language:"),
        ]
    )
    assert not any(word in greeting["text"].lower() for word in REVEALING)
    assert button_data(greeting) == LANGUAGE_DATA
    assert [label for label in labels(greeting)[:3] if label.startswith("✓")] == (
        [checked] if checked else []
    )
    assert greeting["has_protected_content"] is True


@pytest.mark.parametrize(
    "word",
    ["Bonjour", "salut !", "Aide", "I ni ce", "i ni sogoma", "dɛmɛ", "Hello", "help", "/help"],
)
async def test_greeting_words_bring_back_the_greeting_from_the_menu(
    emulator: BotApiEmulator, bot: RunningBot, word: str
) -> None:
    awa = emulator.user(2002, language_code="fr")
    await start_in(awa, "fr")
    await awa.send(word)
    greeting = (await answer(awa)).screen
    assert greeting["text"].startswith("Bonjour. Jigiya est un service d'information gratuit")
    assert button_data(greeting) == LANGUAGE_DATA
    assert "✓ Français" in labels(greeting)


async def test_language_can_be_changed_later_by_command_and_button(
    emulator: BotApiEmulator, bot: RunningBot
) -> None:
    awa = emulator.user(2003, language_code="fr")
    menu = await start_in(awa, "fr")
    assert menu.screen["text"] == FR_MENU
    await awa.send("/language")
    greeting = (await answer(awa)).screen
    assert labels(greeting)[:3] == ["✓ Français", "Bamanankan", "English"]
    await awa.press(greeting, "lang:en")
    english = (await answer(awa)).screen
    assert english["text"] == "What would you like to do?"
    assert labels(english) == [
        "🆘 I am in danger now", "📍 Nearest centre", "📞 Free numbers", "💬 Talk to a person",
        "ℹ️ What happens at a centre", "🌐 Language", "🚪 Quick exit",
    ]  # fmt: skip
    await awa.send("/language")
    assert labels((await answer(awa)).screen)[:3] == ["Français", "Bamanankan", "✓ English"]
    await awa.press(english, "nav:language")
    again = (await answer(awa)).screen
    assert again["message_id"] == english["message_id"]  # one screen: edited in place
    assert button_data(again) == LANGUAGE_DATA
    await awa.press(again, "lang:bm")
    assert (await answer(awa)).screen["text"] == "I b'a fɛ ka mun kɛ?"


async def test_the_language_button_ticks_the_language_chosen(
    emulator: BotApiEmulator, bot: RunningBot
) -> None:
    awa = emulator.user(2004, language_code="fr")
    menu = await start_in(awa, "en")
    await awa.press(menu.screen, "nav:language")
    again = (await answer(awa)).screen
    assert labels(again)[:3] == ["Français", "Bamanankan", "✓ English"]


async def test_a_button_on_an_old_message_answers_below_it_rather_than_editing_it(
    emulator: BotApiEmulator, bot: RunningBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An edit keeps the message's date, from which Telegram counts the 48 hours her quick exit
    may delete it: an old message is not filled with new content."""
    awa = emulator.user(2005, language_code="fr")
    menu = (await start_in(awa)).screen
    later = time.time() + events.EDIT_WITHIN_SECONDS + 60
    monkeypatch.setattr(events, "wall_clock", lambda: later)
    await awa.press(menu, "nav:about")
    got = await answer(awa)
    assert got.edits == []
    assert got.screen["message_id"] > menu["message_id"]


# --- emergency ------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["fr", "bm", "en"])
async def test_emergency_gives_each_number_as_a_card_and_a_line(
    emulator: BotApiEmulator, bot: RunningBot, language: str
) -> None:
    awa = emulator.user(2010, language_code=language)
    menu = await start_in(awa, language)
    await awa.press(menu.screen, EMERGENCY)
    got = await answer(awa)
    check_emergency(got, language)
    assert got.edits == []  # new messages: the cards, then the screen under them
    contacts = [c for c in emulator.calls if c.method == "sendContact"]
    assert len(contacts) == len(NUMBERS)
    assert all(c.params["protect_content"] is True for c in contacts)


async def test_emergency_arrives_whole_at_telegrams_pace(
    emulator: BotApiEmulator, start_bot: StartBot
) -> None:
    """With the production rate limiter: six messages in a row to one person."""
    await start_bot()
    awa = emulator.user(2011, language_code="fr")
    await awa.send("/start")
    greeting = await answer(awa)
    await awa.press(greeting.screen, EMERGENCY)
    check_emergency(await answer(awa, timeout=8))


async def test_emergency_and_quick_exit_are_one_tap_from_every_screen(
    emulator: BotApiEmulator, bot: RunningBot
) -> None:
    awa = emulator.user(2012, language_code="fr")
    await awa.send("/start")
    screen = (await answer(awa)).screen
    assert {EMERGENCY, EXIT} <= set(button_data(screen))
    await awa.press(screen, EMERGENCY)
    got = await answer(awa)
    check_emergency(got)
    for name, steps in ROUTES.items():
        screen = await follow(awa, got.screen, steps)
        assert {EMERGENCY, EXIT} <= set(button_data(screen)), name
        await awa.press(screen, EMERGENCY)
        got = await answer(awa)
        check_emergency(got)
    towns = await follow(awa, got.screen, ROUTES["towns"])
    await awa.press(towns, EXIT)
    await goodbye(awa)
    assert [m.get("text") for m in awa.messages] == [FR_GOODBYE]
    assert awa.reply_keyboard is None


# --- the other menu entries -----------------------------------------------------------------------


@pytest.mark.parametrize("language", ["fr", "bm", "en"])
async def test_free_numbers_give_purpose_hours_and_status_and_a_card_each(
    emulator: BotApiEmulator, bot: RunningBot, language: str
) -> None:
    awa = emulator.user(2020, language_code=language)
    menu = await start_in(awa, language)
    await awa.press(menu.screen, "nav:numbers")
    got = await answer(awa)
    assert got.sent == []  # one message: the menu pressed becomes the numbers
    numbers = got.screen
    assert numbers["message_id"] == menu.screen["message_id"]
    text = numbers["text"]
    assert first_line(numbers) == say(language, "☎️ Free numbers")
    blocks = [p for p in paragraphs(text) if p[:2].isdigit()]
    assert len(blocks) == len(NUMBERS)
    for block, number in zip(blocks, NUMBERS, strict=True):
        assert block.startswith(number["display"])
        assert number["name_fr"] in block
        assert number[_languages()[language]["purpose"]] in block
        assert number["hours"] in block  # every shipped line has hours from its source
        assert block.endswith(freshness_word(language, number))
    # The cards to tap and call are one tap away, and come alone: the numbers stay on screen.
    assert button_data(numbers) == ["nav:cards", *MENU_DATA]
    await awa.press(numbers, "nav:cards")
    cards = await messages(awa, len(NUMBERS))
    assert cards.contacts == [
        {"phone_number": n["number"], "first_name": card_name(language, n)} for n in NUMBERS
    ]
    assert cards.edits == []


async def test_talk_to_a_person_explains_and_gives_the_numbers(
    emulator: BotApiEmulator, bot: RunningBot
) -> None:
    awa = emulator.user(2021, language_code="fr")
    menu = await start_in(awa)
    await awa.press(menu.screen, "nav:talk")
    got = await answer(awa)
    text = got.screen["text"]
    assert first_line(got.screen) == "💬 Parler à une personne"
    explanation, *lines = paragraphs(text)[1:]
    assert "appeler ces numéros gratuits" in explanation  # without a hotline: call these
    assert [line.split(" : ", 1)[0] for line in lines] == [
        f"• {n['display']}" for n in NUMBERS_FOR_EMERGENCY
    ]
    assert button_data(got.screen) == MENU_DATA


@pytest.mark.parametrize(
    ("language", "musts"),
    [
        ("fr", ["Ce qui vous est arrivé n'est pas de votre faute.",
                "En principe, la prise en charge y est gratuite : demandez d'abord",
                "C'est vous qui décidez", "porter plainte ou non", "si possible dans les 3 jours",
                "éviter le VIH et une grossesse", "jusqu'à 5 jours", "Même plus tard, allez-y.",
                "Vous avez le droit de recevoir des soins sans porter plainte."]),
        ("en", ["What happened to you is not your fault.",
                "In principle, care there is free: ask first", "You decide what you want to do",
                "if possible within 3 days", "prevent HIV and pregnancy", "up to 5 days",
                "Even later, go.",
                "You have the right to receive care without filing a complaint."]),
    ],
)  # fmt: skip
async def test_what_happens_at_a_centre(
    emulator: BotApiEmulator, bot: RunningBot, language: str, musts: list[str]
) -> None:
    awa = emulator.user(2022, language_code=language)
    menu = await start_in(awa, language)
    await awa.press(menu.screen, "nav:about")
    got = await answer(awa)
    assert got.sent == []  # one message: the menu pressed becomes the explanation
    for must in musts:
        assert must in got.screen["text"]
    for promise in ("confidenti", "72", "never need", "jamais besoin", "écoutée", "soutenue"):
        assert promise not in got.screen["text"]
    assert first_line(got.screen) == say(language, "ℹ️ At a One Stop Center")
    assert button_data(got.screen) == MENU_DATA


# --- nearest centre -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "expected", "far"),
    [
        (MOPTI, ["sevare", "san", "konna"], False),  # Konna: a source of 2015, listed last
        (BAMAKO, ["bamako-commune-1", "bamako-commune-4", "bamako-commune-5"], False),
        (GAO, ["gao", "tombouctou", "konna"], False),
        (DESERT, ["tombouctou", "gao", "konna"], True),
    ],
    ids=["mopti", "bamako", "gao", "desert"],
)
async def test_a_shared_location_lists_the_three_nearest_centres(
    emulator: BotApiEmulator,
    bot: RunningBot,
    where: tuple[float, float],
    expected: list[str],
    far: bool,
) -> None:
    awa = emulator.user(2030, language_code="fr")
    menu = await start_in(awa)
    await awa.press(menu.screen, "nav:centre")
    asked = await answer(awa, location_prompt=True)
    assert asked.edits[0]["text"].startswith("Où êtes-vous ?")
    assert button_data(asked.edits[0]) == WHERE_DATA
    assert asked.keyboards == [
        {
            "keyboard": [[{"text": "📍 Partager ma position", "request_location": True}]],
            "resize_keyboard": True,
            "one_time_keyboard": True,
        }
    ]
    await awa.send_location(*where)
    got = await answer(awa)
    results = paragraphs(one_message(got)["text"])
    assert results[0] == "📍 Centres les plus proches du lieu partagé :"
    assert len(results) == (4 + 3 + len(NUMBERS) if far else 4)
    for rank, (entry, centre_id) in enumerate(zip(results[1:4], expected, strict=True), 1):
        check_entry(entry, rank, centre_id, "fr")
    distances = [distance_km(e) for e, c in zip(results[1:4], expected, strict=True)
                 if c not in OLD_SOURCES]  # fmt: skip
    assert distances == sorted(distances)
    assert (distances[0] > 100) is far
    assert awa.reply_keyboard is None  # the location button goes away
    if far:  # other help, in the same message
        advice = "\n\n".join(results[4:])
        assert advice.startswith("Le centre le plus proche est loin de vous.")
        assert "centre de santé (CSRef) ou à l'hôpital le plus proche" in advice
        assert "Après un viol, allez-y vite, si possible dans les 3 jours" in advice
        assert all(f"• {n['display']}" in advice for n in NUMBERS)
    assert got.venues == []  # every shipped centre has town coordinates only: no map pin
    assert not [c for c in emulator.calls if c.method == "sendVenue"]


@pytest.mark.parametrize("before", ["nothing", "greeting", "menu", "towns"])
async def test_a_location_works_at_any_moment(
    emulator: BotApiEmulator, bot: RunningBot, before: str
) -> None:
    awa = emulator.user(2031, language_code="fr")
    if before != "nothing":
        await awa.send("/start")
        screen = (await answer(awa)).screen
        if before != "greeting":
            await awa.press(screen, "lang:fr")
            screen = (await answer(awa)).screen
        if before == "towns":
            await follow(awa, screen, ["nav:centre", "nav:regions", "region:0"])
    await awa.send_location(*GAO)
    got = await answer(awa)
    nearest = one_message(got)
    assert nearest["text"].startswith("📍 Centres les plus proches du lieu partagé :\n\n1. ")
    check_entry(paragraphs(nearest["text"])[1], 1, "gao", "fr")


async def test_region_then_town_buttons_lead_to_the_nearest_centres(
    emulator: BotApiEmulator, bot: RunningBot
) -> None:
    awa = emulator.user(2032, language_code="fr")
    menu = await start_in(awa)
    where = await follow(awa, menu.screen, ["nav:centre"])
    await awa.press(where, "nav:regions")
    regions = await answer(awa)
    assert regions.edits[0]["message_id"] == where["message_id"]  # edited in place
    assert regions.screen["text"] == "Choisissez votre région :"
    region_buttons = [b for b in buttons(regions.screen) if b[1].startswith("region:")]
    assert len(region_buttons) == 20
    assert region_buttons[0] == ("Bamako", "region:0")
    assert region_buttons[5] == ("Mopti", "region:5")
    await awa.press(regions.screen, "region:5")
    towns = (await answer(awa)).screen
    assert towns["text"] == "Choisissez votre ville, ou la plus proche (Mopti) :"
    assert ("Sévaré", "place:sevare") in buttons(towns)
    assert button_data(towns)[-4:] == ["nav:regions", "nav:emergency", "nav:menu", "exit"]
    await awa.press(towns, "nav:regions")  # another region, and back
    back = (await answer(awa)).screen
    await awa.press(back, "region:5")
    towns = (await answer(awa)).screen
    await awa.press(towns, "place:sevare")
    got = await answer(awa)
    results = paragraphs(one_message(got)["text"])
    assert results[0] == "📍 Centres les plus proches de Sévaré :"
    check_entry(results[1], 1, "sevare", "fr")
    assert (
        paragraphs(results[1])[0].split("\n")[0].endswith("à Sévaré (lieu exact pas encore connu)")
    )


@pytest.mark.parametrize(
    ("typed", "place", "nearest"),
    [
        ("Tombouctou", "Tombouctou", "tombouctou"),
        ("Timbuktu", "Tombouctou", "tombouctou"),
        ("Segou", "Ségou", "segou"),
        ("Mopi", "Mopti", "sevare"),
        ("sevare", "Sévaré", "sevare"),
    ],
)
async def test_a_typed_place_with_typos_is_found(
    emulator: BotApiEmulator, bot: RunningBot, typed: str, place: str, nearest: str
) -> None:
    awa = emulator.user(2033, language_code="fr")
    menu = await start_in(awa)
    await follow(awa, menu.screen, ["nav:centre"])
    await awa.send(typed)
    got = await answer(awa)
    results = paragraphs(one_message(got)["text"])
    assert results[0] == f"📍 Centres les plus proches de {place} :"
    check_entry(results[1], 1, nearest, "fr")


@pytest.mark.parametrize(
    ("typed", "choice", "label"),
    [
        ("Kayse", "place:kayes", "Kayes (Kayes)"),
        ("je suis à Mopti", "place:mopti", "Mopti (Mopti)"),
    ],
)
async def test_an_unsure_place_is_confirmed_with_a_button(
    emulator: BotApiEmulator, bot: RunningBot, typed: str, choice: str, label: str
) -> None:
    awa = emulator.user(2034, language_code="fr")
    menu = await start_in(awa)
    await follow(awa, menu.screen, ["nav:centre"])
    await awa.send(typed)
    confirm = (await answer(awa)).screen
    assert confirm["text"] == "Vouliez-vous dire l'un de ces lieux ?"
    assert buttons(confirm)[0] == (label, choice)
    assert button_data(confirm)[1:] == WHERE_DATA
    await awa.press(confirm, choice)
    got = await answer(awa)
    nearest = one_message(got)
    assert nearest["text"].startswith(f"📍 Centres les plus proches de {label.split(' ')[0]} :")


async def test_an_unknown_place_says_so_and_asks_again(
    emulator: BotApiEmulator, bot: RunningBot
) -> None:
    awa = emulator.user(2035, language_code="fr")
    menu = await start_in(awa)
    await follow(awa, menu.screen, ["nav:centre"])
    await awa.send("xyzzy")
    got = await answer(awa, location_prompt=True)
    assert paragraphs(got.sent[0]["text"])[:2] == [
        "Je n'ai pas trouvé ce lieu. Vérifiez l'orthographe, ou choisissez votre région.",
        "Où êtes-vous ?",
    ]
    assert button_data(got.sent[0]) == WHERE_DATA
    assert awa.reply_keyboard == [["📍 Partager ma position"]]


@pytest.fixture
def own_coordinates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Content where the Sévaré centre has its building's own coordinates, hours and a phone."""
    content = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, content)
    with (content / "centres.csv").open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        fields, rows = list(reader.fieldnames or []), list(reader)
    sevare = next(row for row in rows if row["id"] == "sevare")
    sevare.update(coordinates="facility", hours="lundi au vendredi, 8 h à 16 h", phone="21420000")
    with (content / "centres.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    monkeypatch.setattr(app, "load_directory", lambda: load_directory(content))
    return sevare


async def test_a_centre_with_its_own_coordinates_is_pinned_with_its_hours_and_phone(
    emulator: BotApiEmulator, own_coordinates: dict[str, str], bot: RunningBot
) -> None:
    awa = emulator.user(2036, language_code="fr")
    await start_in(awa)
    await awa.send_location(*MOPTI)
    got = await answer(awa)
    (nearest,) = got.sent  # the pin only when she asks for it
    entry = paragraphs(nearest["text"])[1]
    assert "lundi au vendredi, 8 h à 16 h" in entry
    assert "21420000" in entry
    # One map button per centre whose position is its own, in her language, above the menu.
    assert buttons(got.screen)[0] == ("📍 Carte 1 : " + own_coordinates["name"], "map:sevare")
    assert button_data(got.screen)[1:] == MENU_DATA
    await awa.press(got.screen, "map:sevare")
    (pin,) = (await messages(awa, 1)).sent
    assert pin["venue"] == {
        "location": {"latitude": 14.533, "longitude": -4.1},
        "title": own_coordinates["name"],
        "address": "Hôpital Sominé Dolo, Sévaré",
    }
    assert pin["has_protected_content"] is True
    (venue,) = [c for c in emulator.calls if c.method == "sendVenue"]
    assert venue.params["protect_content"] is True


# --- quick exit -----------------------------------------------------------------------------------


@dataclass
class Left:
    awa: FakeUser
    binta: FakeUser
    exit: Answer  # what the bot did for the quick exit
    before: set[int]  # the ids of the messages Awa's chat had before it
    key: str  # Awa's person key


async def journey_then_exit(
    emulator: BotApiEmulator, db_path: Path, trigger: str, *, user_id: int
) -> Left:
    """Binta is also using the bot; Awa goes through a short journey and leaves with `trigger`
    (the button data "exit", or a text)."""
    binta = emulator.user(user_id + 1, "Binta", language_code="fr")
    await start_in(binta)
    await eventually(lambda: len(person_keys(db_path)) == 1)
    others = person_keys(db_path)
    awa = emulator.user(user_id, "Awa", language_code="fr")
    menu = await start_in(awa)
    key = await new_person_key(db_path, others)
    where = await follow(awa, menu.screen, ["nav:centre"])
    assert awa.reply_keyboard is not None
    await awa.press(where, EMERGENCY)
    await answer(awa)
    await awa.send_location(*MOPTI)
    last = (await answer(awa)).screen
    before = {m["message_id"] for m in awa.messages}
    await eventually(lambda: tracked_ids(db_path, key) == before)  # both sides tracked
    await (awa.press(last, EXIT) if trigger == EXIT else awa.send(trigger))
    return Left(awa, binta, await goodbye(awa), before, key)


@pytest.mark.parametrize("trigger", [EXIT, "/exit", "exit", "quitter", "Sortir", "bɔ", "QUITTER !"])
async def test_quick_exit_deletes_the_chat_and_forgets_the_person(
    emulator: BotApiEmulator, bot: RunningBot, db_path: Path, trigger: str
) -> None:
    left = await journey_then_exit(emulator, db_path, trigger, user_id=2040)
    exit_message = set() if trigger == EXIT else {max(left.before) + 1}  # her word is deleted too
    assert deleted_ids(left.exit.events) == left.before | exit_message
    (last,) = left.awa.messages  # what is left in the chat: one harmless line
    assert last["text"] == FR_GOODBYE
    assert last["has_protected_content"] is True
    assert left.awa.reply_keyboard is None  # the location button is gone too
    assert rows_of(db_path, left.key) == {"people": 0, "conversations": 0, "chat_messages": 0}
    (binta,) = person_keys(db_path)
    assert rows_of(db_path, binta) == {"people": 1, "conversations": 1, "chat_messages": 2}
    assert len(left.binta.messages) == 2  # her chat is untouched


async def test_quick_exit_deletes_in_batches_of_at_most_100(
    emulator: BotApiEmulator, bot: RunningBot, db_path: Path
) -> None:
    awa = emulator.user(2042, language_code="fr")
    await awa.send("/start")
    screen = (await answer(awa)).screen
    while len(awa.messages) <= 100:
        await awa.press(screen, EMERGENCY)
        screen = (await answer(awa)).screen
    every = {m["message_id"] for m in awa.messages}
    key = person_keys(db_path).pop()
    await eventually(lambda: tracked_ids(db_path, key) == every)
    emulator.consume_calls()
    await awa.send("quitter")
    got = await goodbye(awa)
    batches = [c.params["message_ids"] for c in emulator.calls if c.method == "deleteMessages"]
    assert len(batches) >= 2
    assert all(1 <= len(batch) <= 100 for batch in batches)
    assert deleted_ids(got.events) == every | {max(every) + 1}
    assert [m.get("text") for m in awa.messages] == [FR_GOODBYE]
    assert person_keys(db_path) == set()


async def test_messages_a_failed_deletion_left_are_deleted_in_the_end(
    emulator: BotApiEmulator, bot: RunningBot
) -> None:
    awa = emulator.user(2046, language_code="fr")
    await start_in(awa)
    await awa.send_location(*MOPTI)
    await answer(awa)
    # Failing longer than the quick exit retries: the chat stays on screen the first time.
    emulator.fail("deleteMessages", status=500, description="Internal Server Error", times=3)
    await awa.send("quitter")
    await goodbye(awa)
    assert len(awa.messages) > 2
    await awa.send("quitter")  # she sees the chat is still there and tries again
    await goodbye(awa)
    assert [m.get("text") for m in awa.messages] == [FR_GOODBYE]


async def test_a_passing_deletion_failure_is_retried_at_once(
    emulator: BotApiEmulator, bot: RunningBot
) -> None:
    awa = emulator.user(2047, language_code="fr")
    await start_in(awa)
    emulator.fail("deleteMessages", status=500, description="Internal Server Error", times=1)
    await awa.send("quitter")
    await goodbye(awa)
    assert [m.get("text") for m in awa.messages] == [FR_GOODBYE]


async def test_quick_exit_as_the_very_first_message(
    emulator: BotApiEmulator, bot: RunningBot, db_path: Path
) -> None:
    awa = emulator.user(2043, language_code="en")
    said = await awa.send("exit")
    got = await goodbye(awa)
    assert deleted_ids(got.events) == {said["message_id"]}
    assert [m.get("text") for m in awa.messages] == ["Have a good day."]
    assert query(db_path, "SELECT COUNT(*) FROM people") == [(0,)]


async def test_an_exit_word_inside_a_sentence_does_not_leave(
    emulator: BotApiEmulator, bot: RunningBot
) -> None:
    awa = emulator.user(2044, language_code="fr")
    await start_in(awa)
    await awa.send("je veux sortir")
    got = await answer(awa)
    assert got.screen["text"] == f"{FR_SORRY}\n\n{FR_MENU}"
    assert not [e for e in got.events if e.kind == "delete"]


async def test_after_a_quick_exit_start_begins_afresh(
    emulator: BotApiEmulator, bot: RunningBot, db_path: Path
) -> None:
    awa = emulator.user(2045, language_code="fr")
    menu = await start_in(awa, "en")  # English chosen, though the app is in French
    await awa.press(menu.screen, EXIT)
    assert (await goodbye(awa)).sent[-1]["text"] == "Have a good day."
    await awa.send("/start")
    greeting = (await answer(awa)).screen
    assert greeting["text"].startswith("Bonjour.")  # the English choice was forgotten
    assert button_data(greeting) == LANGUAGE_DATA
    assert labels(greeting)[:3] == ["✓ Français", "Bamanankan", "English"]
    assert query(db_path, "SELECT language FROM people") == [(None,)]


# --- never stuck ----------------------------------------------------------------------------------


@pytest.mark.parametrize("act", ["sticker", "voice", "photo", "text", "edit", "forged button"])
async def test_anything_unexpected_gets_a_kind_answer_and_the_menu_again(
    emulator: BotApiEmulator, bot: RunningBot, act: str
) -> None:
    awa = emulator.user(2050, language_code="fr")
    menu = (await start_in(awa)).screen
    actions: dict[str, Callable[[], Awaitable[object]]] = {
        "sticker": awa.send_sticker,
        "voice": awa.send_voice,
        "photo": lambda: awa.send_photo(caption="regarde"),
        "text": lambda: awa.send("qsdfghjk"),
        "edit": lambda: awa.edit(awa.messages[0]["message_id"], "/menu"),
        "forged button": lambda: awa.press(menu, "nav:nowhere", check=False),
    }
    await actions[act]()
    got = await answer(awa)
    assert got.screen["text"] == f"{FR_SORRY}\n\n{FR_MENU}"
    assert button_data(got.screen) == MENU_DATA


async def test_an_old_button_gets_a_kind_answer_and_the_current_buttons(
    emulator: BotApiEmulator, bot: RunningBot
) -> None:
    awa = emulator.user(2051, language_code="fr")
    menu = (await start_in(awa)).screen
    towns = await follow(awa, menu, ["nav:centre", "nav:regions", "region:5"])
    await awa.press(towns, "place:sevare")
    await answer(awa)  # the results and a new menu; the towns message stays above
    await awa.press(towns["message_id"], "place:konna")
    got = await answer(awa)
    assert got.screen["text"] == f"{FR_SORRY}\n\n{FR_MENU}"
    assert button_data(got.screen) == MENU_DATA


async def test_unexpected_input_on_each_screen_keeps_that_screens_buttons(
    emulator: BotApiEmulator, bot: RunningBot
) -> None:
    awa = emulator.user(2052, language_code="fr")
    await awa.send("/start")
    screen = (await answer(awa)).screen
    await awa.send_voice()
    sorry = (await answer(awa)).screen
    assert sorry["text"].startswith(FR_SORRY)
    assert button_data(sorry) == LANGUAGE_DATA
    await awa.press(sorry, "lang:fr")
    screen = (await answer(awa)).screen
    where: Json = {}
    for step in ["nav:centre", "nav:regions", "region:5"]:
        screen = await follow(awa, screen, [step])
        where = where or screen
        await awa.send_sticker()
        # The towns of a region are not stored (a region says where she is): asked again, she
        # gets the "where are you?" screen.
        expected = where if step == "region:5" else screen
        got = await answer(awa, location_prompt=step in ("nav:centre", "region:5"))
        assert got.screen["text"] == f"{FR_SORRY}\n\n{expected['text']}"
        assert button_data(got.screen) == button_data(expected)
        screen = got.screen


# --- main path in each language -------------------------------------------------------------------


@pytest.mark.parametrize("language", ["fr", "bm", "en"])
async def test_main_path_in_each_language(
    emulator: BotApiEmulator, bot: RunningBot, language: str
) -> None:
    expected = _languages()[language]
    awa = emulator.user(2060, language_code=language)
    await awa.send("/start")
    greeting = (await answer(awa)).screen
    assert first_line(greeting) == say(
        language, "Hello. Jigiya is a free and private information service."
    )
    await awa.press(greeting, f"lang:{language}")
    menu = (await answer(awa)).screen
    assert menu["text"] == expected["menu"]
    assert button_data(menu) == MENU_DATA
    await awa.press(menu, EMERGENCY)
    got = await answer(awa)
    check_emergency(got, language)
    where = await follow(awa, got.screen, ["nav:centre"])
    assert first_line(where) == say(language, "Where are you?")
    await awa.send_location(*MOPTI)
    got = await answer(awa)
    results = paragraphs(one_message(got)["text"])
    assert results[0] == expected["shared"]
    check_entry(results[1], 1, "sevare", language)
    await follow(awa, got.screen, ["nav:centre"])
    await awa.send("Segou")
    got = await answer(awa)
    results = paragraphs(one_message(got)["text"])
    assert results[0] == say(language, "📍 Nearest centres to %(place)s:", place="Ségou")
    check_entry(results[1], 1, "segou", language)
    await awa.press(got.screen, "nav:numbers")
    numbers = (await answer(awa)).screen
    await awa.press(numbers, "nav:cards")
    cards = await messages(awa, len(NUMBERS))
    assert [c["phone_number"] for c in cards.contacts] == [n["number"] for n in NUMBERS]
    await awa.press(numbers, EXIT)
    await goodbye(awa)
    assert [m.get("text") for m in awa.messages] == [expected["goodbye"]]


# --- privacy --------------------------------------------------------------------------------------


async def test_every_message_is_protected_and_no_first_line_says_what_the_chat_is_about(
    emulator: BotApiEmulator, bot: RunningBot
) -> None:
    awa = emulator.user(2070, language_code="fr")
    journey = await tour(awa)
    sends = send_calls(emulator)
    assert len(sends) == sum(len(got.sent) for got in journey.values())
    assert [c.describe() for c in sends if c.params.get("protect_content") is not True] == []
    assert all(m["has_protected_content"] for m in awa.messages if m["from"]["is_bot"])
    shown = [m for got in journey.values() for m in got.shown]
    for message in shown:
        line = first_line(message).lower()
        assert not [word for word in REVEALING if word in line], line
        # Every screen, the danger screen too: one tap to the numbers, one tap out.
        if buttons(message):
            assert {EMERGENCY, EXIT} <= set(button_data(message)), message["text"]
        if "contact" in message:  # a card she may save: a name that gives nothing away
            name = message["contact"]["first_name"].lower()
            assert not [word for word in REVEALING if word in name], name


USER_ID = 7_731_406_229
FIRST_NAME = "Mariam"
USERNAME = "mariam_kone_77"
SHARED = (14.4931, -4.1872)  # near Mopti
TYPED = "Kayse chez ma tante"  # a place with a typo, in a phrase: confirmed with a button
CHATTER = "il me frappe chaque soir"  # typed at the menu


def typed_secrets() -> list[str]:
    """Her id, names, coordinates and words, as text would show them."""
    latitude, longitude = SHARED
    return [str(USER_ID), FIRST_NAME, USERNAME, str(latitude), str(longitude), "14.49", "-4.18",
            TYPED, "Kayse", "tante", CHATTER, "frappe"]  # fmt: skip


def secrets() -> list[bytes]:
    """The same, and her id and coordinates as SQLite would store numbers."""
    latitude, longitude = SHARED
    return [
        *(text.lower().encode() for text in typed_secrets()),
        USER_ID.to_bytes(6, "big"),
        USER_ID.to_bytes(8, "big"),
        struct.pack(">d", latitude),
        struct.pack(">d", longitude),
    ]


def leaks(blob: bytes) -> list[bytes]:
    lowered = blob.lower()
    return [secret for secret in secrets() if secret in lowered or secret in blob]


async def test_a_full_journey_leaves_nothing_personal_in_the_store_or_the_logs(
    emulator: BotApiEmulator,
    production_logging: pytest.LogCaptureFixture,
    unpaced: None,
    start_bot: StartBot,
    db_path: Path,
) -> None:
    running = await start_bot()
    binta = emulator.user(2091, "Binta", language_code="fr")
    await start_in(binta)
    await eventually(lambda: len(person_keys(db_path)) == 1)
    (binta_key,) = person_keys(db_path)
    mariam = emulator.user(USER_ID, FIRST_NAME, language_code="fr", username=USERNAME)
    journey = await tour(mariam, where=SHARED, typed=TYPED, chatter=CHATTER)
    assert journey["location"].sent[0]["text"].startswith("📍 Centres les plus proches du lieu")
    assert journey["confirm"].screen["text"] == "Vouliez-vous dire l'un de ces lieux ?"
    assert journey["chatter"].screen["text"].startswith(FR_SORRY)
    mariam_key = await new_person_key(db_path, {binta_key})
    every = {m["message_id"] for m in mariam.messages}
    await eventually(lambda: tracked_ids(db_path, mariam_key) == every)
    await eventually(lambda: query(db_path, "SELECT COUNT(*) FROM inbox") == [(0,)])

    # While the bot runs: the files on disk, then what the tables hold.
    assert leaks(store_bytes(db_path)) == []
    assert query(db_path, "SELECT language FROM people WHERE person_key = ?", mariam_key) == [
        ("fr",)
    ]
    assert all(len(key) == 64 for key in person_keys(db_path))  # keyed hashes only
    assert rows_of(db_path, mariam_key) == {
        "people": 1, "conversations": 1, "chat_messages": len(every),
    }  # fmt: skip

    # The quick exit: every message of the journey deleted, every row of hers gone.
    await mariam.press(journey["typed"].screen, EXIT)
    left = await goodbye(mariam)
    assert deleted_ids(left.events) >= every
    assert [m.get("text") for m in mariam.messages] == [FR_GOODBYE]
    assert rows_of(db_path, mariam_key) == {"people": 0, "conversations": 0, "chat_messages": 0}
    assert rows_of(db_path, binta_key)["people"] == 1
    assert leaks(store_bytes(db_path)) == []

    await running.shutdown()
    assert leaks(store_bytes(db_path)) == []
    assert person_keys(db_path) == {binta_key}

    logged = production_logging.text
    assert "Jigiya is running" in logged  # the capture works at the production level
    assert logging.getLogger("httpx").getEffectiveLevel() == logging.WARNING
    assert [s for s in typed_secrets() if s.lower() in logged.lower()] == []


async def test_no_region_or_place_is_kept_in_the_store(
    emulator: BotApiEmulator, bot: RunningBot, db_path: Path
) -> None:
    awa = emulator.user(2092, language_code="fr")
    menu = (await start_in(awa)).screen
    towns = await follow(awa, menu, ["nav:centre", "nav:regions", "region:5"])
    await awa.press(towns, "place:sevare")
    menu = (await answer(awa)).screen
    confirm = await follow(awa, menu, ["nav:centre", "Kayse"])
    await awa.press(confirm, "place:kayes")
    await answer(awa)
    ((state, data),) = query(db_path, "SELECT state, data FROM conversations")
    assert state == "menu"
    assert "mopti" not in data.lower()
    assert "kayes" not in data.lower()
