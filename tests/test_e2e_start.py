"""First contact end to end: /start, language choice, menu, over real HTTP."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

from bot.emulator import BotApiEmulator, FakeUser
from tests.conftest import RunningBot, StartBot

Json = dict[str, Any]


async def next_screen(person: FakeUser) -> Json:
    """The next message the person sees appear or change (button answers skipped)."""
    while True:
        event = await person.next_event()
        if event.kind in ("message", "edit"):
            assert event.message is not None
            return event.message


def buttons(message: Json) -> list[tuple[str, str]]:
    markup = message.get("reply_markup") or {}
    return [
        (b["text"], b["callback_data"]) for row in markup.get("inline_keyboard", []) for b in row
    ]


async def test_start_greets_and_offers_languages(emulator: BotApiEmulator, bot: RunningBot) -> None:
    awa = emulator.user(1001, "Awa", language_code="fr")
    await awa.send("/start")
    greeting = await awa.next_message()
    assert greeting["text"].startswith("Bonjour.")
    assert "violence" not in greeting["text"].lower()  # neutral on a lock screen
    assert [data for _, data in buttons(greeting)] == [
        "lang:fr", "lang:bm", "lang:en", "nav:emergency", "exit",
    ]  # fmt: skip
    assert ("✓ Français", "lang:fr") in buttons(greeting)
    call = await emulator.wait_for_call("sendMessage")
    assert call.params.get("protect_content") is True


async def test_choosing_english_edits_into_the_english_menu(
    emulator: BotApiEmulator, bot: RunningBot
) -> None:
    john = emulator.user(1002, "John", language_code="en")
    await john.send("/start")
    greeting = await next_screen(john)
    assert greeting["text"].startswith("Hello.")
    await john.press(greeting, "lang:en")
    event = await john.next_event()
    assert event.kind == "answer"  # the spinner stops first
    event = await john.next_event()
    assert event.kind == "edit"
    assert event.message is not None
    assert event.message["message_id"] == greeting["message_id"]
    assert event.message["text"] == "What would you like to do?"
    assert ("📍 Nearest centre", "nav:centre") in buttons(event.message)


async def test_bambara_menu_falls_back_to_french_where_unreviewed(
    emulator: BotApiEmulator, bot: RunningBot
) -> None:
    awa = emulator.user(1003, language_code=None)
    await awa.send("i ni ce")
    greeting = await next_screen(awa)
    await awa.press(greeting, "lang:bm")
    menu = await next_screen(awa)
    assert menu["text"] == "I b'a fɛ ka mun kɛ?"
    labels = [text for text, _ in buttons(menu)]
    assert "🌐 Kan" in labels
    assert "📍 Centre le plus proche" in labels  # not yet reviewed in Bambara: French


async def test_language_is_remembered_across_a_restart(
    emulator: BotApiEmulator, start_bot: StartBot
) -> None:
    first = await start_bot()
    awa = emulator.user(1004, language_code="fr")
    await awa.send("/start")
    await awa.press(await next_screen(awa), "lang:en")
    await next_screen(awa)
    await first.shutdown()
    await start_bot()
    await awa.send("/menu")
    menu = await next_screen(awa)
    assert menu["text"] == "What would you like to do?"


async def test_unexpected_input_gets_a_kind_answer_and_the_buttons_again(
    emulator: BotApiEmulator, bot: RunningBot
) -> None:
    awa = emulator.user(1005)
    await awa.send("/start")
    greeting = await next_screen(awa)
    for act in (awa.send_sticker(), awa.send_voice(), awa.send("x" * 4096)):
        await act
        answer = await next_screen(awa)
        assert answer["text"].startswith("Désolé, je n'ai pas compris.")
        assert buttons(answer) == buttons(greeting)


async def test_forged_button_data_changes_nothing(
    emulator: BotApiEmulator, bot: RunningBot
) -> None:
    awa = emulator.user(1006)
    await awa.send("/start")
    greeting = await next_screen(awa)
    await awa.press(greeting, "lang:xx", check=False)
    assert (await awa.next_event()).kind == "answer"
    edit = await next_screen(awa)
    assert edit["text"].startswith("Désolé")
    await awa.press(greeting, "lang:fr")
    menu = await next_screen(awa)
    assert menu["text"] == "Que voulez-vous faire ?"


async def test_one_slow_chat_does_not_hold_up_others(
    emulator: BotApiEmulator, bot: RunningBot
) -> None:
    slow, quick = emulator.user(1007), emulator.user(1008)
    emulator.fail("sendMessage", status=429, description="Too Many Requests: retry after 3",
                  retry_after=3, chat_id=slow.id)  # fmt: skip
    await slow.send("/start")
    await asyncio.sleep(0.3)
    await quick.send("/start")
    start = asyncio.get_running_loop().time()
    await quick.next_message(timeout=2)
    assert asyncio.get_running_loop().time() - start < 2
    await slow.next_message(timeout=6)  # delivered after its own pause


async def test_a_group_the_bot_was_added_to_by_mistake_is_left(
    emulator: BotApiEmulator, bot: RunningBot
) -> None:
    family = emulator.group(-4001, "Famille")
    await family.my_chat_member("member", by=emulator.user(1009))
    await emulator.wait_for_call("leaveChat", predicate=lambda c: c.params["chat_id"] == -4001)


async def test_nothing_personal_is_stored(
    emulator: BotApiEmulator, bot: RunningBot, db_path: Path
) -> None:
    awa = emulator.user(987654321, "Aminata", username="aminata_k")
    await awa.send("/start")
    greeting = await next_screen(awa)
    await awa.send("Je suis à Sévaré près du marché")
    await next_screen(awa)
    await awa.press(greeting, "lang:fr")
    await next_screen(awa)
    await bot.shutdown()
    raw = b"".join(p.read_bytes() for p in db_path.parent.iterdir() if "sqlite3" in p.name)
    for secret in (b"987654321", b"Aminata", b"aminata_k", "Sévaré".encode(), b"march"):
        assert secret not in raw
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM inbox").fetchone() == (0,)
        assert conn.execute("SELECT language FROM people").fetchall() == [("fr",)]
