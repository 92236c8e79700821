"""The flow pattern, without any channel: events in, screens out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.conversation import ConversationRunner, StorageKey
from bot.flows.base import NOT_UNDERSTOOD, Event, FlowModel
from bot.flows.screens import Button, Screen
from bot.flows.start import LANGUAGE, MENU, NEW, StartFlow
from bot.keys import Keys
from state.store import Store

FLOW = StartFlow()


async def step(model: FlowModel, state: str, event: Event) -> Screen:
    FLOW.machine.add_model(model, initial=state)
    try:
        return await FLOW.step(model, event)
    finally:
        FLOW.machine.remove_model(model)


def buttons(screen: Screen) -> list[Button]:
    return [b for row in screen.buttons for b in row]


def data_of(screen: Screen) -> list[str]:
    return [b.data for b in buttons(screen)]


async def test_any_first_message_gets_the_greeting_and_languages() -> None:
    model = FlowModel({}, None)
    screen = await step(model, NEW, Event("other", 1))
    assert model.state == LANGUAGE
    assert data_of(screen) == ["lang:fr", "lang:bm", "lang:en"]
    assert NOT_UNDERSTOOD not in screen.body


async def test_language_is_suggested_from_the_app_language() -> None:
    model = FlowModel({}, None)
    screen = await step(model, NEW, Event("command", 1, name="start", language_hint="en-GB"))
    labels = [b.label for b in buttons(screen)]
    assert labels == ["Français", "Bamanankan", "✓ English"]


async def test_choosing_a_language_remembers_it_and_shows_the_menu() -> None:
    model = FlowModel({}, None)
    screen = await step(model, LANGUAGE, Event("button", 2, name="lang:bm"))
    assert model.state == MENU
    assert model.language == "bm"
    assert "menu:exit" in data_of(screen)
    assert "menu:language" in data_of(screen)


@pytest.mark.parametrize(
    "event",
    [
        Event("button", 3, name="lang:xx"),  # forged language
        Event("button", 3, name="menu:centre"),  # a menu button from an older message
        Event("button", 3, name="x" * 64),
        Event("text", 3, text="some words"),
        Event("location", 3),
        Event("other", 3),
    ],
)
async def test_unexpected_input_on_the_language_screen_is_answered_kindly(event: Event) -> None:
    model = FlowModel({}, None)
    screen = await step(model, LANGUAGE, event)
    assert model.state == LANGUAGE
    assert model.language is None
    assert screen.body[0] == NOT_UNDERSTOOD
    assert data_of(screen) == ["lang:fr", "lang:bm", "lang:en"]


async def test_an_old_language_button_does_not_act_on_the_menu() -> None:
    model = FlowModel({}, "fr")
    screen = await step(model, MENU, Event("button", 4, name="lang:en"))
    assert model.state == MENU
    assert model.language == "fr"
    assert screen.body[0] == NOT_UNDERSTOOD


@pytest.mark.parametrize("word", ["Bonjour !", "i ni ce", "HELP", "  salut. "])
async def test_greeting_words_lead_back_to_the_greeting(word: str) -> None:
    model = FlowModel({}, "fr")
    await step(model, MENU, Event("text", 5, text=word))
    assert model.state == LANGUAGE


async def test_menu_entries_not_built_yet_say_so_and_stay_on_the_menu() -> None:
    model = FlowModel({}, "fr")
    screen = await step(model, MENU, Event("button", 6, name="menu:numbers"))
    assert model.state == MENU
    assert screen.body[0].msgid.startswith("This part is not available yet")


async def test_models_are_not_kept_by_the_shared_machine() -> None:
    before = len(FLOW.machine.models)
    for i in range(50):
        await step(FlowModel({}, None), NEW, Event("other", i))
    assert len(FLOW.machine.models) == before


@pytest.fixture
async def runner(tmp_path: Path) -> AsyncIterator[ConversationRunner]:
    store = await Store.open(tmp_path / "t.sqlite3")
    yield ConversationRunner(store, Keys("k" * 40))
    await store.close()


KEY = StorageKey(bot_id=1, chat_id=42, user_id=42)


async def test_runner_saves_state_and_language_between_updates(runner: ConversationRunner) -> None:
    await runner.step(FLOW, KEY, Event("command", 10, name="start"))
    result = await runner.step(FLOW, KEY, Event("button", 11, name="lang:en"))
    assert result.language == "en"
    again = await runner.step(FLOW, KEY, Event("command", 12, name="menu"))
    assert "menu:centre" in data_of(again.screen)
    assert again.language == "en"


async def test_a_replayed_update_is_not_applied_twice(runner: ConversationRunner) -> None:
    await runner.step(FLOW, KEY, Event("command", 10, name="start"))
    await runner.step(FLOW, KEY, Event("button", 11, name="lang:fr"))
    # The same update again (crash after the step was saved): the menu is shown, not a
    # "not understood" answer to a language button on the menu.
    replay = await runner.step(FLOW, KEY, Event("button", 11, name="lang:fr"))
    assert NOT_UNDERSTOOD not in replay.screen.body
    assert "menu:centre" in data_of(replay.screen)
