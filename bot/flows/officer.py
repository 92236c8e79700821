"""Officer mode's machine and routing: protocols as tappable checklists, the VBG/VSLC decision
aid, and the nearest centre for a referral (its screens are in `officer_screens`, its documents
in `officer_documents`, its place picker in `place`).

Only invited officers reach this flow: the channel checks the role on every update before a
step. Nothing about the survivor is asked or kept: the model holds which items of which protocol
are ticked, the decision aid's answers and where the officer is; a typed text serves only as a
place name to look up, passes as a trigger argument and is never stored.

Events that are not for officer mode (other commands, messages while it is closed) leave the
step with no output: the channel then hands them to the survivor side.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from transitions.extensions.asyncio import AsyncEventData

from bot.content import Directory
from bot.content.protocols import Protocols
from bot.flows import decision, officer_documents, place, referral
from bot.flows.base import Event, Flow, FlowModel, Route, argument, model_of
from bot.flows.officer_screens import MENU_BUTTON, PLACE_WORDS, OfficerScreens, numbers
from bot.flows.place import WHERE, PlacePicker
from bot.flows.screens import Output, Screen, t
from bot.indicators import tally
from bot.languages import OFFERED

PREFIX = "off:"  # every officer button; the channel checks the role before any of them
COMMANDS = frozenset({"officer", "checklists"})

IDLE, MENU, LANGUAGE, CHECKLISTS, CHECKLIST, WHY, SOURCES, SUMMARY = (
    "idle", "menu", "language", "checklists", "checklist", "why", "sources", "summary",
)  # fmt: skip
QUESTION, RESULT = "question", "result"
ACTIVE_STATES = [MENU, LANGUAGE, CHECKLISTS, CHECKLIST, WHY, SOURCES, SUMMARY, QUESTION, RESULT,
                 *place.STATES]  # fmt: skip

HAND_BACK: Route = ("hand_back", ())

REMINDER = t(
    "🔒 Please do not type anything about the person you are helping. Use the buttons; to find "
    "a centre, type only the name of a town."
)


def _today() -> date:
    return datetime.now(UTC).date()  # Mali keeps UTC all year


def _args(event: AsyncEventData) -> tuple[Any, ...]:
    return tuple(event.args)


def _forget_what_was_shown(model: FlowModel) -> None:
    """The decision aid's answers and a summary are kept while on screen (they are shown again
    after a restart) and go once left. A region or places typed, which may say where the survivor
    is, are only ever in the model's `view`."""
    if model.state not in (QUESTION, RESULT):
        model.data.pop("answers", None)
    if model.state != SUMMARY:
        model.data.pop("finished", None)


def _count(model: FlowModel, indicator: str, **values: str) -> None:
    """An officer's tally, by role (the channel gives it; none for someone without one)."""
    if model.role is not None:
        model.tallies.append(tally(indicator, role=model.role, **values))


class OfficerFlow(Flow):
    name = "officer"
    initial = IDLE

    def __init__(
        self, protocols: Protocols, directory: Directory, today: Callable[[], date] = _today
    ) -> None:
        self.protocols = protocols
        self.directory = directory
        self._today = today
        self.screens = OfficerScreens(protocols)
        self.picker = PlacePicker(
            directory, PLACE_WORDS, prefix=PREFIX, regions_data="off:regions",
            footer=((MENU_BUTTON,),),
        )  # fmt: skip
        anywhere = "*"
        self.machine = self.build_machine(
            states=[IDLE, *ACTIVE_STATES],
            transitions=[
                {"trigger": "hand_back", "source": anywhere, "dest": IDLE},
                {"trigger": "leave", "source": anywhere, "dest": IDLE},
                {"trigger": "open_menu", "source": anywhere, "dest": MENU},
                {"trigger": "languages", "source": anywhere, "dest": LANGUAGE},
                {"trigger": "choose_language", "source": LANGUAGE, "dest": MENU,
                 "conditions": [lambda e: argument(e) in OFFERED],
                 "after": [self._remember_language]},
                {"trigger": "list", "source": anywhere, "dest": CHECKLISTS},
                {"trigger": "open", "source": anywhere, "dest": CHECKLIST,
                 "conditions": [self._known_protocol], "after": [self._open]},
                {"trigger": "tick", "source": anywhere, "dest": CHECKLIST,
                 "conditions": [self._known_item], "after": [self._toggle]},
                {"trigger": "why", "source": anywhere, "dest": WHY,
                 "conditions": [self._known_item], "after": [self._remember_item]},
                {"trigger": "sources", "source": anywhere, "dest": SOURCES,
                 "conditions": [self._known_protocol], "after": [self._remember_protocol]},
                {"trigger": "print", "source": anywhere, "dest": CHECKLIST,
                 "conditions": [self._known_protocol], "after": [self._print]},
                {"trigger": "finish", "source": anywhere, "dest": SUMMARY,
                 "conditions": [self._known_protocol], "after": [self._finish]},
                {"trigger": "decide", "source": anywhere, "dest": QUESTION,
                 "after": [self._clear_answers]},
                {"trigger": "answer", "source": QUESTION, "dest": RESULT,
                 "conditions": [self._answers_last],
                 "after": [self._remember_answer, self._decided]},
                {"trigger": "answer", "source": QUESTION, "dest": QUESTION,
                 "conditions": [self._answers_current], "after": [self._remember_answer]},
                {"trigger": "question_back", "source": [QUESTION, RESULT], "dest": QUESTION,
                 "conditions": [lambda e: bool(model_of(e).data.get("answers"))],
                 "after": [self._forget_answer]},
                {"trigger": "question_back", "source": QUESTION, "dest": MENU},
                {"trigger": "refer", "source": anywhere, "dest": WHERE},
                {"trigger": "located", "source": ACTIVE_STATES, "dest": MENU,
                 "after": [self._nearest]},
                *self.picker.transitions(done=MENU, nearest=self._nearest, picked_from=anywhere),
                {"trigger": "numbers", "source": anywhere, "dest": MENU,
                 "after": [self._show_numbers]},
                {"trigger": "remind", "source": ACTIVE_STATES, "dest": None,
                 "after": [lambda e: model_of(e).notices.append(REMINDER)]},
            ],
            initial=IDLE,
        )  # fmt: skip

    # --- events to triggers -------------------------------------------------------------------

    def route(self, model: FlowModel, event: Event) -> Route | None:
        if event.kind == "button":
            return self._route_button(event.name)
        if event.kind == "command":
            if event.name == "officer":
                return ("open_menu", ())
            if event.name == "checklists":
                return ("list", ())
            return HAND_BACK  # /start, /menu...: the survivor side, and officer mode closes
        if model.state == IDLE:
            return HAND_BACK
        if event.kind == "location" and event.location is not None:
            return ("located", event.location)
        if event.kind == "text" and model.state in place.STATES:
            return self.picker.search(event.text)
        return ("remind", ())  # anything else typed or sent: never needed, never kept

    def _route_button(self, data: str) -> Route | None:
        if not data.startswith(PREFIX):
            return None
        kind, *values = data[len(PREFIX) :].split(":")
        plain = {
            "menu": "open_menu", "leave": "leave", "language": "languages", "list": "list",
            "decide": "decide", "qback": "question_back", "refer": "refer",
            "regions": "list_regions", "numbers": "numbers",
        }  # fmt: skip
        if not values:
            return (plain[kind], ()) if kind in plain else None
        with_values = {"lang": "choose_language", "open": "open", "tick": "tick", "why": "why",
                       "src": "sources", "print": "print", "finish": "finish"}  # fmt: skip
        if kind in with_values:
            return (with_values[kind], tuple(values))
        if kind == "ans" and len(values) == 2 and values[0].isdecimal():
            return ("answer", (int(values[0]), values[1]))
        return self.picker.route_button(kind, values[0])

    async def step(self, model: FlowModel, event: Event) -> list[Output]:
        outputs: list[Output] = []  # not for officer mode: nothing shown, the survivor side answers
        if self.route(model, event) != HAND_BACK:
            outputs = await super().step(model, event)
        elif model.state != IDLE:
            await model.trigger(HAND_BACK[0])
        _forget_what_was_shown(model)
        return outputs

    # --- conditions -----------------------------------------------------------------------------

    def _known_protocol(self, event: AsyncEventData) -> bool:
        values = _args(event)
        return len(values) == 1 and self.protocols.get(values[0]) is not None

    def _known_item(self, event: AsyncEventData) -> bool:
        values = _args(event)
        protocol = self.protocols.get(values[0]) if len(values) == 2 else None
        return protocol is not None and protocol.item(values[1]) is not None

    def _answers_current(self, event: AsyncEventData) -> bool:
        """The answer is to the question on screen: an old question's button does nothing."""
        index, answer = _args(event)
        answers = model_of(event).data.get("answers", [])
        asked = decision.asked(answers)
        return bool(index == len(answers) < len(asked) and answer in decision.ANSWERS)

    def _answers_last(self, event: AsyncEventData) -> bool:
        """The answer ends the aid: the last question, or "not sexual violence" answered."""
        index, answer = _args(event)
        answers = [*model_of(event).data.get("answers", []), answer]
        return self._answers_current(event) and index == len(decision.asked(answers)) - 1

    # --- callbacks ----------------------------------------------------------------------------

    def _remember_language(self, event: AsyncEventData) -> None:
        model_of(event).language = argument(event)

    def _remember_protocol(self, event: AsyncEventData) -> None:
        model_of(event).data["protocol"] = argument(event)

    def _open(self, event: AsyncEventData) -> None:
        """A protocol opened: a checklist started, unless it resumes one begun before."""
        model, protocol_id = model_of(event), argument(event)
        if protocol_id not in model.data.get("progress", {}):
            _count(model, "checklist_started", protocol=protocol_id)
        model.data["protocol"] = protocol_id

    def _remember_item(self, event: AsyncEventData) -> None:
        data = model_of(event).data
        data["protocol"], data["item"] = _args(event)

    def _toggle(self, event: AsyncEventData) -> None:
        protocol_id, item_id = _args(event)
        data = model_of(event).data
        data["protocol"] = protocol_id
        ticked: list[str] = data.setdefault("progress", {}).setdefault(protocol_id, [])
        if item_id in ticked:
            ticked.remove(item_id)
        else:
            ticked.append(item_id)
        if not ticked:
            del data["progress"][protocol_id]

    def _print(self, event: AsyncEventData) -> None:
        model = model_of(event)
        model.data["protocol"] = argument(event)
        model.outputs.append(officer_documents.printable(self.screens.protocol(model)))

    def _finish(self, event: AsyncEventData) -> None:
        model = model_of(event)
        protocol_id = argument(event)
        done = model.data.get("progress", {}).pop(protocol_id, [])
        _count(model, "checklist_finished", protocol=protocol_id)
        today = self._today()
        model.data["finished"] = {"protocol": protocol_id, "done": done, "on": today.isoformat()}
        protocol = self.screens.protocol(model, protocol_id)
        model.outputs.append(officer_documents.summary(protocol, done, today))

    def _clear_answers(self, event: AsyncEventData) -> None:
        model_of(event).data["answers"] = []

    def _remember_answer(self, event: AsyncEventData) -> None:
        model_of(event).data["answers"].append(_args(event)[1])

    def _decided(self, event: AsyncEventData) -> None:
        model = model_of(event)
        _count(model, "decision", verdict=decision.verdict(model.data["answers"]))

    def _forget_answer(self, event: AsyncEventData) -> None:
        model_of(event).data["answers"].pop()

    def _nearest(self, event: AsyncEventData) -> None:
        """After a shared location, a town picked, or a place typed (see `referral.origin`)."""
        model_of(event).answer_screen = referral.nearest_screen(
            self.directory,
            *referral.origin(event),
            shared=t("📍 Nearest centres to the shared location:"),
            entry=referral.referral_entry,
            map_prefix=PREFIX,
            far_note=(
                t(
                    "No centre is near: refer to the nearest health centre (CSRef) or "
                    "hospital. After rape, as soon as possible (HIV prevention within 72 "
                    "hours, emergency contraception up to 120 hours), and still later; care "
                    "never depends on a complaint."
                ),
            ),
            below=numbers(self.directory),
        )

    def _show_numbers(self, event: AsyncEventData) -> None:
        model_of(event).answer_screen = Screen(
            body=(t("📞 Free numbers"), *numbers(self.directory)), kept=True
        )

    # --- what each state shows ------------------------------------------------------------------

    def screen(self, model: FlowModel) -> Screen:
        if model.state in place.STATES:
            return self.picker.screen(model)
        screens = self.screens
        shown: dict[str, Callable[[FlowModel], Screen]] = {
            MENU: screens.menu, LANGUAGE: screens.languages, CHECKLISTS: screens.checklists,
            CHECKLIST: screens.checklist, WHY: screens.why, SOURCES: screens.sources,
            SUMMARY: screens.summary, QUESTION: screens.question, RESULT: screens.result,
        }  # fmt: skip
        return shown.get(model.state, screens.closed)(model)
