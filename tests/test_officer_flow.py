"""The officer flow without any channel: checklists, the decision aid, the referral, and what
is handed back to the survivor side."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from bot.content import load_directory
from bot.content.protocols import load_protocols
from bot.conversation import ConversationRunner, StorageKey
from bot.flows.base import NOT_UNDERSTOOD, Event, FlowModel
from bot.flows.officer import (
    CHECKLIST,
    CHECKLISTS,
    IDLE,
    MENU,
    QUESTION,
    RESULT,
    SUMMARY,
    WHY,
    OfficerFlow,
)
from bot.flows.place import CONFIRM, TOWNS, WHERE
from bot.flows.screens import Button, Document, Localized, Msg, Output, Screen, Text
from bot.i18n import Catalogs
from bot.keys import Keys
from state.store import Store

TODAY = date(2026, 12, 7)
FLOW = OfficerFlow(load_protocols(), load_directory(), today=lambda: TODAY)
FIRST = FLOW.protocols.all[0]
ENGLISH = Catalogs().translator("en")


class Officer:
    """One officer's stored conversation, stepped as the runner does: a fresh model each time."""

    def __init__(self, language: str | None = "en") -> None:
        self.state, self.language = IDLE, language
        self.data: dict[str, Any] = {}

    async def do(self, event: Event) -> list[Output]:
        model = FlowModel(self.data, self.language)
        FLOW.machine.add_model(model, initial=self.state)
        try:
            return await FLOW.step(model, event)
        finally:
            FLOW.machine.remove_model(model)
            self.state, self.language = model.state, model.language

    async def press(self, data: str) -> list[Output]:
        return await self.do(Event("button", 1, name=data))


async def officer() -> Officer:
    person = Officer()
    await person.do(Event("command", 1, name="officer"))
    return person


def screen_of(outputs: list[Output], index: int = -1) -> Screen:
    screen = outputs[index]
    assert isinstance(screen, Screen)
    return screen


def data_of(screen: Screen) -> list[str]:
    return [b.data for row in screen.buttons for b in row]


def text(part: Text | Screen) -> str:
    """Rendered in English: the words stay the same whether or not a catalog translates them."""
    if isinstance(part, Screen):
        return "\n\n".join(ENGLISH.render(p) for p in part.body)
    return ENGLISH.render(part)


def label(button: Button) -> str:
    return ENGLISH.render(button.label)


# --- entering and leaving officer mode ----------------------------------------------------------


async def test_officer_command_opens_the_menu_with_the_no_survivor_data_rule() -> None:
    model = Officer()
    outputs = await model.do(Event("command", 1, name="officer"))
    assert model.state == MENU
    menu = screen_of(outputs)
    assert data_of(menu) == [
        "off:list", "off:decide", "off:refer", "off:numbers", "off:language", "off:leave",
    ]  # fmt: skip
    assert "Never type anything about the person" in text(menu)


async def test_other_commands_and_messages_outside_officer_mode_are_handed_back() -> None:
    model = Officer()
    assert await model.do(Event("text", 1, text="bonjour")) == []
    assert model.state == IDLE
    model = await officer()
    assert await model.do(Event("command", 2, name="start")) == []
    assert model.state == IDLE  # /start leaves officer mode for the survivor side
    assert await model.do(Event("location", 3, location=(12.6, -8.0))) == []


async def test_leaving_says_how_to_come_back() -> None:
    model = await officer()
    screen = screen_of(await model.press("off:leave"))
    assert model.state == IDLE
    assert "/officer" in text(screen)
    assert data_of(screen) == ["off:menu"]


async def test_typing_in_officer_mode_gets_a_reminder_and_nothing_is_kept() -> None:
    model = await officer()
    await model.press("off:open:first-contact")
    screen = screen_of(await model.do(Event("text", 5, text="Aminata, 14 ans, Sévaré")))
    assert model.state == CHECKLIST
    assert "do not type anything about the person" in text(screen.body[0])
    assert "Aminata" not in repr(model.data)


async def test_the_language_can_be_changed() -> None:
    model = await officer()
    await model.press("off:language")
    await model.press("off:lang:bm")
    assert (model.state, model.language) == (MENU, "bm")
    await model.press("off:language")
    outputs = await model.press("off:lang:xx")
    assert NOT_UNDERSTOOD in screen_of(outputs).body


# --- checklists ---------------------------------------------------------------------------------


async def test_checklists_list_every_protocol_and_those_in_progress() -> None:
    model = await officer()
    screen = screen_of(await model.press("off:list"))
    assert model.state == CHECKLISTS
    assert [d for d in data_of(screen) if d.startswith("off:open:")] == [
        f"off:open:{p.id}" for p in FLOW.protocols
    ]
    await model.press("off:tick:medical:hiv-72h")
    screen = screen_of(await model.press("off:list"))
    labels = [label(b) for row in screen.buttons for b in row]
    assert "▶️ Urgent medical referral (1/10)" in labels
    assert "1 checklist in progress." in text(screen)


async def test_a_checklist_is_one_message_with_a_tick_and_a_why_per_item() -> None:
    model = await officer()
    screen = screen_of(await model.press("off:open:first-contact"))
    assert model.state == CHECKLIST
    assert screen.edit
    rows = screen.buttons[: len(FIRST.items)]
    assert [[b.data for b in row] for row in rows] == [
        [f"off:tick:first-contact:{i.id}", f"off:why:first-contact:{i.id}"] for i in FIRST.items
    ]
    assert label(rows[0][0]).startswith("⬜ 1. Respond promptly")
    assert len(label(rows[0][0])) < 45
    shown = text(screen)
    assert "0 of 13 done." in shown
    assert "⚠️" in shown  # points to confirm locally, and the legend
    assert "Last reviewed: December 6, 2026." in shown


async def test_ticking_toggles_and_is_kept_per_protocol() -> None:
    model = await officer()
    await model.press("off:open:first-contact")
    screen = screen_of(await model.press("off:tick:first-contact:private-space"))
    assert model.data["progress"] == {"first-contact": ["private-space"]}
    assert label(screen.buttons[2][0]).startswith("✅ 3.")
    await model.press("off:tick:vslc:no-repeat")
    assert model.data["progress"]["vslc"] == ["no-repeat"]
    await model.press("off:tick:first-contact:private-space")
    assert "first-contact" not in model.data["progress"]


async def test_forged_or_stale_checklist_data_changes_nothing() -> None:
    model = await officer()
    for data in ("off:tick:first-contact:nope", "off:tick:nope:promptly", "off:open:x",
                 "off:tick:first-contact", "off:bogus", "nav:menu", "off:ans:9:yes"):  # fmt: skip
        outputs = await model.press(data)
        assert NOT_UNDERSTOOD in screen_of(outputs).body, data
    assert model.state == MENU
    assert "progress" not in model.data


async def test_why_gives_the_reason_and_its_sources() -> None:
    model = await officer()
    screen = screen_of(await model.press("off:why:first-contact:danger-first"))
    assert model.state == WHY
    shown = text(screen)
    assert "72 hours" in shown
    assert "Médecins Sans Frontières" in shown
    assert data_of(screen) == ["off:tick:first-contact:danger-first", "off:open:first-contact"]
    screen = screen_of(await model.press("off:tick:first-contact:danger-first"))
    assert model.state == CHECKLIST


async def test_sources_show_review_and_status() -> None:
    model = await officer()
    screen = screen_of(await model.press("off:src:vslc"))
    shown = text(screen)
    assert "https://www.muradcode.com/murad-code" in shown
    assert "Draft" in shown


async def test_printable_version_is_a_document_with_every_item_reason_and_source() -> None:
    model = await officer()
    await model.press("off:open:medical")
    outputs = await model.press("off:print:medical")
    document, screen = outputs
    assert isinstance(document, Document)
    assert document.filename == "jigiya-medical.pdf"
    assert model.state == CHECKLIST
    assert isinstance(screen, Screen)
    content = "\n".join(text(line) for line in document.body)
    assert "[ ] 3. HIV prevention (PEP)" in content
    assert "    Why: Post-exposure prophylaxis only works" in content
    assert "⚠️ To confirm locally." in content
    assert "Sources:\n1. WHO and UNHCR" in content
    assert "Last reviewed: December 6, 2026." in content


async def test_finishing_sums_up_done_and_not_done_and_starts_afresh() -> None:
    model = await officer()
    await model.press("off:tick:evidence:no-washing")
    await model.press("off:tick:evidence:care-first")
    outputs = await model.press("off:finish:evidence")
    document, summary = outputs
    assert model.state == SUMMARY
    assert "evidence" not in model.data.get("progress", {})
    assert isinstance(document, Document)
    assert document.filename == "jigiya-summary-evidence-2026-12-07.pdf"
    assert isinstance(summary, Screen)
    assert not isinstance(summary, Document)
    shown = text(summary)
    assert "Done (2 steps):" in shown
    assert "Not done (7 steps):" in shown
    content = "\n".join(text(line) for line in document.body)
    assert "[x] 1. Care first" in content
    assert "[x] 2. If they may file a complaint" in content
    assert "[ ] 3. One item per paper bag" in content
    assert "December 7, 2026" in content
    assert "no information about the person" in content


# --- the decision aid -------------------------------------------------------------------------


async def answer_all(model: Officer, answers: list[str]) -> Screen:
    screen = screen_of(await model.press("off:decide"))
    for index, answer in enumerate(answers):
        assert model.state == QUESTION
        assert f"off:ans:{index}:{answer}" in data_of(screen)
        screen = screen_of(await model.press(f"off:ans:{index}:{answer}"))
    assert model.state == RESULT
    return screen


async def test_the_first_question_is_whether_the_violence_was_sexual() -> None:
    model = await officer()
    shown = text(screen_of(await model.press("off:decide")))
    assert "Question 1 of 6" in shown
    assert "Was the violence sexual" in shown
    assert "never press the survivor" in shown


async def test_no_link_to_the_conflict_is_vbg() -> None:
    screen = await answer_all(await officer(), ["yes"] + ["no"] * 5)
    shown = text(screen)
    assert "No known link to the conflict (VBG)" in shown
    assert "not a legal qualification" in shown
    assert "off:open:first-contact" in data_of(screen)
    assert "off:open:vslc" not in data_of(screen)


async def test_not_sexual_violence_asks_only_about_the_security_forces() -> None:
    model = await officer()
    await model.press("off:decide")
    screen = screen_of(await model.press("off:ans:0:no"))
    assert model.state == QUESTION
    assert "Question 2 of 2" in text(screen)
    assert "security or defence force" in text(screen)
    screen = screen_of(await model.press("off:ans:1:yes"))
    assert model.state == RESULT
    shown = text(screen)
    assert shown.startswith("🟢 Not sexual violence: the VSLC protocol does not apply")
    assert "do not route the case through the suspect's chain of command" in shown
    assert "off:open:vslc" not in data_of(screen)


async def test_a_link_is_only_possible_and_says_why() -> None:
    screen = await answer_all(await officer(), ["yes", "no", "yes", "no", "yes", "no"])
    shown = text(screen)
    assert shown.startswith("⚖️ Possible link to the conflict")
    assert "likely" not in shown.lower()
    assert "probably" not in shown.lower()
    why = next(line for line in shown.split("\n\n") if line.startswith("Why:"))
    assert "armed group or a militia" in why
    assert "punish, terrorise" in why
    assert "displacement" not in why
    assert "chain of command" not in shown  # not the security forces
    assert data_of(screen)[:2] == ["off:open:vslc", "off:open:first-contact"]


async def test_a_suspect_in_the_security_forces_is_not_reported_to_his_chain_of_command() -> None:
    screen = await answer_all(await officer(), ["yes", "yes", "no", "no", "no", "no"])
    shown = text(screen)
    assert shown.startswith("⚖️ Possible link to the conflict")
    assert "inform the procureur directly" in shown
    assert "protect the survivor, the witnesses and yourself" in shown


async def test_clues_alone_or_unknown_sexual_violence_are_not_a_verdict() -> None:
    clues = text(await answer_all(await officer(), ["yes", "no", "no", "no", "no", "yes"]))
    assert clues.startswith("❔ Not clear yet")
    assert "Clues only: displacement" in clues
    unknown = text(await answer_all(await officer(), ["unsure", "no", "yes", "no", "no", "no"]))
    assert unknown.startswith("❔ Not clear yet")
    assert "Whether the violence was sexual is not known" in unknown
    assert "point to the conflict: the alleged perpetrator is linked" in unknown


async def test_unknown_answers_without_a_link_stay_open() -> None:
    screen = await answer_all(await officer(), ["yes", "unsure", "no", "no", "unsure", "no"])
    shown = text(screen)
    assert "Not clear yet" in shown
    assert "questions 2, 5" in shown
    assert "off:open:vslc" in data_of(screen)
    assert "chain of command" in shown  # the security forces are not ruled out


async def test_back_goes_one_question_back_and_old_buttons_do_nothing() -> None:
    model = await officer()
    await model.press("off:decide")
    await model.press("off:ans:0:yes")
    outputs = await model.press("off:ans:0:no")  # the first question's button, pressed again
    assert NOT_UNDERSTOOD in screen_of(outputs).body
    await model.press("off:qback")
    assert model.data["answers"] == []
    await model.press("off:qback")
    assert model.state == MENU


# --- referral ---------------------------------------------------------------------------------


async def test_a_typed_town_gives_the_nearest_centres_and_the_numbers() -> None:
    model = await officer()
    where = screen_of(await model.press("off:refer"))
    assert model.state == WHERE
    assert where.ask_location
    outputs = await model.do(Event("text", 9, text="Sevare"))
    assert model.state == MENU
    answer = outputs[0]
    assert isinstance(answer, Screen)
    assert answer.drop_location_button
    shown = text(answer)
    assert shown.startswith("📍 Nearest centres to Sévaré")
    assert "80 333" in shown
    assert "80 00 11 32" in shown
    assert "Sevare" not in repr(model.data)


async def test_region_and_town_buttons_and_a_shared_location() -> None:
    model = await officer()
    await model.press("off:regions")
    regions = FLOW.directory.regions()
    screen = screen_of(await model.press(f"off:region:{regions.index('Gao')}"))
    assert model.state == TOWNS
    gao = next(d for d in data_of(screen) if d.startswith("off:place:"))
    outputs = await model.press(gao)
    assert "Gao" in text(screen_of(outputs, 0))
    outputs = await model.do(Event("location", 10, location=(20.0, -2.0)))
    shown = text(screen_of(outputs, 0))
    assert "No centre is near" in shown


async def test_places_are_shown_once_and_never_kept() -> None:
    model = await officer()
    await model.press("off:regions")
    await model.press("off:region:0")
    assert model.state == TOWNS
    assert model.data == {}
    screen = screen_of(await model.press("off:bogus"))  # the towns again: only "where?" is left
    assert NOT_UNDERSTOOD in screen.body
    assert screen.ask_location
    await model.press("off:refer")
    screen = screen_of(await model.do(Event("text", 11, text="Kou")))
    assert model.state == CONFIRM
    assert [d for d in data_of(screen) if d.startswith("off:place:")]
    assert model.data == {}


async def test_answers_and_summaries_are_kept_only_while_on_screen() -> None:
    model = await officer()
    await model.press("off:decide")
    await model.press("off:ans:0:yes")
    assert model.data["answers"] == ["yes"]
    await model.press("off:menu")
    assert "answers" not in model.data
    await model.press("off:finish:child")
    assert "finished" in model.data
    await model.do(Event("command", 12, name="start"))
    assert model.data == {}


async def test_free_numbers() -> None:
    model = await officer()
    outputs = await model.press("off:numbers")
    assert "80 00 11 14" in text(screen_of(outputs, 0))
    assert model.state == MENU


# --- stored through the conversation runner ------------------------------------------------------


async def test_progress_survives_reopening_the_store(tmp_path: Path) -> None:
    keys = Keys("k" * 40)
    key = StorageKey(bot_id="1", chat_id="42", user_id="42")
    store = await Store.open(tmp_path / "db.sqlite3")
    runner = ConversationRunner(store, keys)
    await runner.step(FLOW, key, Event("command", 1, name="checklists"))
    await runner.step(FLOW, key, Event("button", 2, name="off:tick:child:caregiver"))
    await store.close()
    store = await Store.open(tmp_path / "db.sqlite3")
    try:
        result = await ConversationRunner(store, keys).step(
            FLOW, key, Event("button", 3, name="off:open:child")
        )
    finally:
        await store.close()
    screen = screen_of(result.outputs)
    assert any(isinstance(p, Localized) and "✅ 3." in ENGLISH.render(p) for p in screen.body)
    assert not any(isinstance(p, Msg) and p is NOT_UNDERSTOOD for p in screen.body)
