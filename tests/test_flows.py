"""The flow pattern and the survivor flow, without any channel: events in, outputs out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from bot.content import Directory, load_directory
from bot.conversation import ConversationRunner, StorageKey
from bot.flows.base import NOT_UNDERSTOOD, Event, Flow, FlowModel
from bot.flows.place import CONFIRM, REGIONS, TOWNS, WHERE
from bot.flows.screens import Button, Contact, Msg, Output, Pin, Screen
from bot.flows.survivor import LANGUAGE, MENU, NEW, SurvivorFlow, wants_quick_exit
from bot.keys import Keys
from state.store import Store

DIRECTORY = load_directory()
FLOW = SurvivorFlow(DIRECTORY)


async def step(
    model: FlowModel, state: str, event: Event, flow: SurvivorFlow = FLOW
) -> list[Output]:
    flow.machine.add_model(model, initial=state)
    try:
        return await flow.step(model, event)
    finally:
        flow.machine.remove_model(model)


def last_screen(outputs: list[Output]) -> Screen:
    screen = outputs[-1]
    assert isinstance(screen, Screen)
    return screen


def buttons(screen: Screen) -> list[Button]:
    return [b for row in screen.buttons for b in row]


def data_of(screen: Screen) -> list[str]:
    return [b.data for b in buttons(screen)]


def later(model: FlowModel) -> FlowModel:
    """The model of her next update: what was stored, nothing of this step's answer."""
    return FlowModel(dict(model.data), model.language)


def msgids(screen: Screen) -> list[str]:
    return [part.msgid for part in screen.body if isinstance(part, Msg)]


async def test_any_first_message_gets_the_greeting_and_languages() -> None:
    model = FlowModel({}, None)
    screen = last_screen(await step(model, NEW, Event("other", 1)))
    assert model.state == LANGUAGE
    assert data_of(screen)[:3] == ["lang:fr", "lang:bm", "lang:en"]
    assert "nav:emergency" in data_of(screen)
    assert "exit" in data_of(screen)
    assert NOT_UNDERSTOOD not in screen.body


async def test_language_is_suggested_from_the_app_language() -> None:
    model = FlowModel({}, None)
    screen = last_screen(
        await step(model, NEW, Event("command", 1, name="start", language_hint="en-GB"))
    )
    labels = [b.label for b in buttons(screen)][:3]
    assert labels == ["Français", "Bamanankan", "✓ English"]


async def test_choosing_a_language_remembers_it_and_shows_the_menu() -> None:
    model = FlowModel({}, None)
    screen = last_screen(await step(model, LANGUAGE, Event("button", 2, name="lang:bm")))
    assert model.state == MENU
    assert model.language == "bm"
    assert data_of(screen) == [
        "nav:emergency", "nav:centre", "nav:numbers", "nav:talk", "nav:about",
        "nav:language", "exit",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "event",
    [
        Event("button", 3, name="lang:xx"),  # forged language
        Event("button", 3, name="place:nowhere"),  # a place button from an older message
        Event("button", 3, name="region:999"),
        Event("button", 3, name="x" * 64),
        Event("text", 3, text="some words"),
        Event("other", 3),
    ],
)
async def test_unexpected_input_on_the_language_screen_is_answered_kindly(event: Event) -> None:
    model = FlowModel({}, None)
    screen = last_screen(await step(model, LANGUAGE, event))
    assert model.state == LANGUAGE
    assert model.language is None
    assert screen.body[0] == NOT_UNDERSTOOD
    assert data_of(screen)[:3] == ["lang:fr", "lang:bm", "lang:en"]


async def test_an_old_language_button_does_not_act_on_the_menu() -> None:
    model = FlowModel({}, "fr")
    screen = last_screen(await step(model, MENU, Event("button", 4, name="lang:en")))
    assert model.state == MENU
    assert model.language == "fr"
    assert screen.body[0] == NOT_UNDERSTOOD


@pytest.mark.parametrize("word", ["Bonjour !", "i ni ce", "HELP", "  salut. "])
async def test_greeting_words_lead_back_to_the_greeting(word: str) -> None:
    model = FlowModel({}, "fr")
    await step(model, MENU, Event("text", 5, text=word))
    assert model.state == LANGUAGE


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (Event("button", 1, name="exit"), True),
        (Event("command", 1, name="exit"), True),
        (Event("text", 1, text="Quitter"), True),
        (Event("text", 1, text=" sortir !"), True),
        (Event("text", 1, text="bɔ"), True),
        (Event("text", 1, text="je veux sortir"), False),
        (Event("button", 1, name="exit:now"), False),
    ],
)
def test_quick_exit_words(event: Event, expected: bool) -> None:
    assert wants_quick_exit(event) is expected


async def test_emergency_from_any_screen_gives_every_number_as_a_card() -> None:
    for state in (LANGUAGE, MENU, WHERE, REGIONS):
        model = FlowModel({}, "fr")
        outputs = await step(model, state, Event("button", 6, name="nav:emergency"))
        *cards, danger = outputs
        # Every number as a card, at once and first (safety before speed), then the screen.
        assert all(isinstance(c, Contact) for c in cards)
        assert {c.phone for c in cards} == {n.number for n in DIRECTORY.numbers}  # type: ignore[union-attr]
        assert isinstance(danger, Screen)
        assert msgids(danger)[0] == "☎️ Useful numbers"  # a neutral first line
        assert any("not an emergency service" in m for m in msgids(danger))
        assert {"nav:plan", "nav:emergency", "exit"} <= set(data_of(danger))
        assert model.state == MENU


async def test_a_location_lists_the_three_nearest_and_stores_nothing_of_it() -> None:
    model = FlowModel({}, "fr")
    outputs = await step(model, WHERE, Event("location", 7, location=(14.49, -4.19)))
    results = outputs[0]
    assert isinstance(results, Screen)
    assert len(results.body) == 4  # the heading and three centres
    assert results.drop_location_button
    first = results.body[1]
    assert isinstance(first, Msg)
    assert dict(first.params)["name"] == "One Stop Center de Mopti (Sévaré)"
    assert not any(isinstance(o, Pin) for o in outputs)  # town coordinates only: no map pin
    assert "14.49" not in repr(model.data)
    assert model.state == MENU


async def test_far_from_every_centre_gives_health_centre_advice() -> None:
    model = FlowModel({}, "fr")
    outputs = await step(model, MENU, Event("location", 8, location=(20.0, -2.0)))
    texts = [m for o in outputs if isinstance(o, Screen) for m in msgids(o)]
    assert "The nearest centre is far from you." in texts


async def test_a_centre_with_its_own_coordinates_gets_a_map_pin() -> None:
    sevare = next(c for c in DIRECTORY.centres if c.id == "sevare")
    own = replace(sevare, coordinates="facility")
    bamako = next(c for c in DIRECTORY.centres if c.id == "bamako-commune-5")
    directory = Directory([own, bamako], DIRECTORY.numbers, DIRECTORY.places)
    flow = SurvivorFlow(directory)
    model = FlowModel({}, "fr")
    (nearest,) = await step(model, WHERE, Event("location", 9, location=(14.49, -4.19)), flow)
    assert isinstance(nearest, Screen)  # one message: the pin comes only when she asks
    assert data_of(nearest)[0] == "map:sevare"
    (pin,) = await step(model := later(model), MENU, Event("button", 10, name="map:sevare"), flow)
    assert isinstance(pin, Pin)  # the pin alone: the list she pressed stays as it is
    assert pin.title == own.name
    assert model.state == MENU
    # A town's position is never shown as a centre's, even from a forged button.
    forged = Event("button", 11, name="map:bamako-commune-5")
    outputs = await step(later(model), MENU, forged, flow)
    assert not any(isinstance(o, Pin) for o in outputs)


async def test_numbers_are_one_message_with_the_cards_one_tap_away() -> None:
    model = FlowModel({}, "fr")
    (numbers,) = await step(model, MENU, Event("button", 12, name="nav:numbers"))
    assert isinstance(numbers, Screen)
    assert numbers.kept
    assert numbers.edit
    assert data_of(numbers)[0] == "nav:cards"
    cards = await step(model := later(model), MENU, Event("button", 13, name="nav:cards"))
    assert [c.phone for c in cards] == [n.number for n in DIRECTORY.numbers]  # type: ignore[union-attr]
    # The numbers were the last screen shown: a button pressed on them leaves them in the chat.
    (where,) = await step(model := later(model), MENU, Event("button", 14, name="nav:centre"))
    assert isinstance(where, Screen)
    assert not where.edit
    (menu,) = await step(later(model), WHERE, Event("button", 15, name="nav:menu"))
    assert isinstance(menu, Screen)
    assert menu.edit


async def test_region_then_town_then_nearest() -> None:
    model = FlowModel({}, "fr")
    await step(model, WHERE, Event("button", 10, name="nav:regions"))
    assert model.state == REGIONS
    mopti = DIRECTORY.regions().index("Mopti")
    screen = last_screen(await step(model, REGIONS, Event("button", 11, name=f"region:{mopti}")))
    assert model.state == TOWNS
    towns = [d for d in data_of(screen) if d.startswith("place:")]
    assert 1 <= len(towns) <= 12
    outputs = await step(model, TOWNS, Event("button", 12, name=towns[0]))
    assert model.state == MENU
    assert isinstance(outputs[0], Screen)
    assert outputs[0].body[0].msgid.startswith("📍 Nearest centres to %(place)s")  # type: ignore[union-attr]


@pytest.mark.parametrize("typed", ["Tombouctou", "Timbuktu", "Segou", "sevare", "bamakoo"])
async def test_a_typed_place_with_typos_finds_centres(typed: str) -> None:
    model = FlowModel({}, "fr")
    outputs = await step(model, WHERE, Event("text", 13, text=typed))
    assert model.state in (MENU, CONFIRM)
    if model.state == CONFIRM:
        screen = last_screen(outputs)
        choice = next(d for d in data_of(screen) if d.startswith("place:"))
        await step(model, CONFIRM, Event("button", 14, name=choice))
        assert model.state == MENU
    assert "candidates" not in model.data or model.state == MENU


async def test_an_unknown_place_says_so_and_asks_again() -> None:
    model = FlowModel({}, "fr")
    screen = last_screen(await step(model, WHERE, Event("text", 15, text="zzzzqqq")))
    assert model.state == WHERE
    assert screen.ask_location
    assert msgids(screen)[0].startswith("I could not find that place")


@pytest.mark.parametrize("state", [TOWNS, CONFIRM])
async def test_towns_or_places_shown_again_ask_where_again(state: str) -> None:
    model = FlowModel({}, "fr")  # the region or places offered were never stored
    screen = last_screen(await step(model, state, Event("other", 16)))
    assert model.state == state
    assert screen.body[0] == NOT_UNDERSTOOD
    assert msgids(screen)[1] == "Where are you?"
    assert data_of(screen)[0] == "nav:regions"
    assert screen.ask_location


async def test_the_shared_machine_keeps_no_model() -> None:
    before = len(FLOW.machine.models)
    for i in range(50):
        await step(FlowModel({}, None), NEW, Event("other", i))
    assert len(FLOW.machine.models) == before


async def test_a_machine_knows_a_trigger_added_after_it_was_asked_which_leave_a_state() -> None:
    """The triggers leaving a state are kept between updates (FlowMachine.get_triggers), and
    follow the machine's transitions when they change."""
    machine = Flow.build_machine(["a", "b"], [{"trigger": "go", "source": "a", "dest": "b"}], "a")
    model = FlowModel({}, None)
    machine.add_model(model)
    try:
        assert machine.get_triggers("a") == ["go"]
        assert not await model.may_trigger("back")
        machine.add_transition("back", "a", "a")
        assert machine.get_triggers("a") == ["go", "back"]
        assert await model.may_trigger("back")
    finally:
        machine.remove_model(model)
    machine.remove_transition("go", "a")  # with no model (transitions unbinds it from each)
    assert machine.get_triggers("a") == ["back"]


@pytest.fixture
async def runner(tmp_path: Path) -> AsyncIterator[ConversationRunner]:
    store = await Store.open(tmp_path / "t.sqlite3")
    yield ConversationRunner(store, Keys("k" * 40))
    await store.close()


KEY = StorageKey(bot_id="1", chat_id="42", user_id="42")


async def test_runner_saves_state_and_language_between_updates(runner: ConversationRunner) -> None:
    await runner.step(FLOW, KEY, Event("command", 10, name="start"))
    result = await runner.step(FLOW, KEY, Event("button", 11, name="lang:en"))
    assert result.language == "en"
    again = await runner.step(FLOW, KEY, Event("command", 12, name="menu"))
    assert "nav:centre" in data_of(last_screen(again.outputs))
    assert again.language == "en"


async def test_a_replayed_update_is_not_applied_twice(runner: ConversationRunner) -> None:
    await runner.step(FLOW, KEY, Event("command", 10, name="start"))
    await runner.step(FLOW, KEY, Event("button", 11, name="lang:fr"))
    # The same update again (crash after the step was saved): the menu is shown, not a
    # "not understood" answer to a language button on the menu.
    replay = await runner.step(FLOW, KEY, Event("button", 11, name="lang:fr"))
    assert NOT_UNDERSTOOD not in last_screen(replay.outputs).body
    assert "nav:centre" in data_of(last_screen(replay.outputs))


async def test_forgetting_a_person_removes_every_row(
    runner: ConversationRunner, tmp_path: Path
) -> None:
    await runner.step(FLOW, KEY, Event("command", 10, name="start"), message_id=5)
    await runner.remember_sent(KEY, [6, 7])
    assert await runner.deletable_messages(KEY) == [5, 6, 7]
    await runner.forget(KEY)
    assert await runner.deletable_messages(KEY) == []
    assert await runner.language(KEY) is None


def test_dates_render_in_the_person_language() -> None:
    from bot.flows.screens import t
    from bot.i18n import Catalogs

    catalogs = Catalogs()
    msg = t("%(date)s", date=date(2026, 11, 1))
    assert catalogs.translator("fr").render(msg) == "1 novembre 2026"
    assert catalogs.translator("en").render(msg) == "November 1, 2026"


async def test_after_a_handover_ends_writing_brings_the_menu() -> None:
    from bot.flows.survivor import HANDOVER

    model = FlowModel({}, "fr")
    screen = last_screen(await step(model, HANDOVER, Event("text", 20, text="allo ?")))
    assert model.state == MENU
    assert NOT_UNDERSTOOD not in screen.body
