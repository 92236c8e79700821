"""Officer mode: protocols as tappable checklists, the VBG/VSLC decision aid, and the nearest
centre for a referral.

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
from bot.content.protocols import Item, Protocol, Protocols, Texts
from bot.flows import decision, place, referral
from bot.flows.base import Event, Flow, FlowModel, Route, argument, model_of
from bot.flows.place import WHERE, PlacePicker
from bot.flows.screens import Button, Document, Localized, Msg, Output, Screen, Text, t, tn
from bot.languages import CODES, NATIVE_NAMES

PREFIX = "off:"  # every officer button; the channel checks the role before any of them
COMMANDS = frozenset({"officer", "checklists"})

IDLE, MENU, LANGUAGE, CHECKLISTS, CHECKLIST, WHY, SOURCES, SUMMARY = (
    "idle", "menu", "language", "checklists", "checklist", "why", "sources", "summary",
)  # fmt: skip
QUESTION, RESULT = "question", "result"
ACTIVE_STATES = [MENU, LANGUAGE, CHECKLISTS, CHECKLIST, WHY, SOURCES, SUMMARY, QUESTION, RESULT,
                 *place.STATES]  # fmt: skip

HAND_BACK: Route = ("hand_back", ())
LABEL_CHARS = 30  # an item's words on its tick button; the full text is in the message

NEVER_TYPE = t(
    "🔒 Never type anything about the person you are helping (name, age, address, what "
    "happened): the bot does not need it and must not receive it."
)
REMINDER = t(
    "🔒 Please do not type anything about the person you are helping. Use the buttons; to find "
    "a centre, type only the name of a town."
)
TO_CONFIRM = t("⚠️ = to confirm locally: not yet confirmed for Mali.")
MENU_BUTTON = Button(t("☰ Officer menu"), "off:menu")
LIST_BUTTON = Button(t("📋 Checklists"), "off:list")

PLACE_WORDS = place.Words(
    where=(
        t("📍 Nearest centre for a referral"),
        t(
            "Share a location with the button at the bottom of the screen, choose the "
            "region, or type the name of the town (only the town)."
        ),
    ),
    choose_region=t("🗺️ Choose the region"),
    regions=t("Choose the region:"),
    towns=lambda region: t("Choose the town or the nearest one (%(region)s):", region=region),
    not_found=t("I could not find that place. Check the spelling, or choose the region."),
)


def _today() -> date:
    return datetime.now(UTC).date()  # Mali keeps UTC all year


def _args(event: AsyncEventData) -> tuple[Any, ...]:
    return tuple(event.args)


def _in(texts: Texts, language: str) -> str:
    found = dict(texts)
    return found.get(language) or found.get("fr", "")


def _framed(texts: Texts, before: str = "", after: str = "", *, short: bool = False) -> Localized:
    """Content text with marks around it, in each language it has (the rest falls back to
    French); `short` keeps the first words, for a button."""
    return Localized(
        tuple(
            (language, f"{before}{_short(text) if short else text}{after}")
            for language, text in texts
        )
    )


def _listed(texts: list[Texts], mark: str) -> Localized:
    """Content texts as marked lines in one paragraph, each line falling back to French."""
    return Localized(
        tuple(
            (language, "\n".join(f"{mark} {_in(text, language)}" for text in texts))
            for language in CODES
        )
    )


def _short(text: str) -> str:
    if len(text) <= LABEL_CHARS:
        return text
    return text[:LABEL_CHARS].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _forget_what_was_shown(model: FlowModel) -> None:
    """The decision aid's answers and a summary are kept while on screen (they are shown again
    after a restart) and go once left. A region or places typed, which may say where the survivor
    is, are only ever in the model's `view`."""
    if model.state not in (QUESTION, RESULT):
        model.data.pop("answers", None)
    if model.state != SUMMARY:
        model.data.pop("finished", None)


class OfficerFlow(Flow):
    name = "officer"
    initial = IDLE

    def __init__(
        self, protocols: Protocols, directory: Directory, today: Callable[[], date] = _today
    ) -> None:
        self.protocols = protocols
        self.directory = directory
        self._today = today
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
                 "conditions": [lambda e: argument(e) in CODES],
                 "after": [self._remember_language]},
                {"trigger": "list", "source": anywhere, "dest": CHECKLISTS},
                {"trigger": "open", "source": anywhere, "dest": CHECKLIST,
                 "conditions": [self._known_protocol], "after": [self._remember_protocol]},
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
                 "conditions": [self._answers_last], "after": [self._remember_answer]},
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
        return bool(index == len(answers) < len(decision.QUESTIONS) and answer in decision.ANSWERS)

    def _answers_last(self, event: AsyncEventData) -> bool:
        index = _args(event)[0]
        return self._answers_current(event) and index == len(decision.QUESTIONS) - 1

    # --- callbacks ----------------------------------------------------------------------------

    def _remember_language(self, event: AsyncEventData) -> None:
        model_of(event).language = argument(event)

    def _remember_protocol(self, event: AsyncEventData) -> None:
        model_of(event).data["protocol"] = argument(event)

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
        model.outputs.append(self._printable(self._protocol(model)))

    def _finish(self, event: AsyncEventData) -> None:
        model = model_of(event)
        protocol_id = argument(event)
        done = model.data.get("progress", {}).pop(protocol_id, [])
        model.data["finished"] = {
            "protocol": protocol_id,
            "done": done,
            "on": self._today().isoformat(),
        }
        model.outputs.append(self._summary_document(model))

    def _clear_answers(self, event: AsyncEventData) -> None:
        model_of(event).data["answers"] = []

    def _remember_answer(self, event: AsyncEventData) -> None:
        model_of(event).data["answers"].append(_args(event)[1])

    def _forget_answer(self, event: AsyncEventData) -> None:
        model_of(event).data["answers"].pop()

    def _nearest(self, event: AsyncEventData) -> None:
        """After a shared location, a town picked, or a place typed (see `referral.origin`)."""
        model_of(event).outputs.extend(
            referral.nearest_outputs(
                self.directory,
                *referral.origin(event),
                shared=t("📍 Nearest centres to the shared location:"),
                entry=referral.referral_entry,
                far_note=(
                    t(
                        "No centre is near: refer to the nearest health centre (CSRef) or "
                        "hospital. After rape, within 72 hours; care does not need a complaint."
                    ),
                ),
                below=self._numbers(),
            )
        )

    def _show_numbers(self, event: AsyncEventData) -> None:
        model_of(event).outputs.append(
            Screen(body=(t("📞 Free numbers"), *self._numbers()), edit=False)
        )

    # --- what each state shows ------------------------------------------------------------------

    def screen(self, model: FlowModel) -> Screen:
        if model.state in place.STATES:
            return self.picker.screen(model)
        shown: dict[str, Callable[[FlowModel], Screen]] = {
            MENU: self._menu, LANGUAGE: self._languages, CHECKLISTS: self._checklists,
            CHECKLIST: self._checklist, WHY: self._why, SOURCES: self._sources,
            SUMMARY: self._summary, QUESTION: self._question, RESULT: self._result,
        }  # fmt: skip
        return shown.get(model.state, self._closed)(model)

    def _closed(self, model: FlowModel) -> Screen:
        return Screen(
            body=(t("Officer mode is closed. Send /officer to open it again."),),
            buttons=((Button(t("👮 Officer mode"), "off:menu"),),),
        )

    def _menu(self, model: FlowModel) -> Screen:
        return Screen(
            body=(t("👮 Officer tools"), NEVER_TYPE),
            buttons=(
                (LIST_BUTTON,),
                (Button(t("⚖️ VBG or VSLC?"), "off:decide"),),
                (Button(t("📍 Nearest centre for a referral"), "off:refer"),),
                (Button(t("📞 Free numbers"), "off:numbers"),),
                (Button(t("🌐 Language"), "off:language"),
                 Button(t("🚪 Leave officer mode"), "off:leave")),
            ),
        )  # fmt: skip

    def _languages(self, model: FlowModel) -> Screen:
        return Screen(
            body=(t("Choose your language:"),),
            buttons=(
                *((Button(NATIVE_NAMES[code], f"off:lang:{code}"),) for code in CODES),
                (MENU_BUTTON,),
            ),
        )

    def _checklists(self, model: FlowModel) -> Screen:
        progress: dict[str, list[str]] = model.data.get("progress", {})
        buttons = []
        for protocol in self.protocols:
            done = len(progress.get(protocol.id, []))
            label = (
                _framed(protocol.title, "▶️ ", f" ({done}/{len(protocol.items)})")
                if done
                else Localized(protocol.title)
            )
            buttons.append((Button(label, f"off:open:{protocol.id}"),))
        started = sum(1 for p in self.protocols if progress.get(p.id))
        body: list[Text] = [
            t("📋 Checklists"),
            t("Choose a protocol. Ticks are saved: you can come back to a checklist later."),
        ]
        if started:
            body.append(
                tn("▶️ %(num)s checklist in progress.", "▶️ %(num)s checklists in progress.",
                   started)
            )  # fmt: skip
        return Screen(body=tuple(body), buttons=(*buttons, (MENU_BUTTON,)))

    def _checklist(self, model: FlowModel) -> Screen:
        protocol = self._protocol(model)
        done = set(model.data.get("progress", {}).get(protocol.id, []))
        lines: list[Text] = [_framed(protocol.title, "📋 ")]
        if protocol.intro:
            lines.append(Localized(protocol.intro))
        rows: list[tuple[Button, ...]] = []
        for number, item in enumerate(protocol.items, 1):
            mark = "✅" if item.id in done else "⬜"
            local = " ⚠️" if item.confirm_locally else ""
            lines.append(_framed(item.text, f"{mark} {number}. ", local))
            tick = _framed(item.text, f"{mark} {number}. ", short=True)
            rows.append(
                (
                    Button(tick, f"off:tick:{protocol.id}:{item.id}"),
                    Button(t("❓ Why?"), f"off:why:{protocol.id}:{item.id}"),
                )
            )
        lines.append(t("%(done)s of %(total)s done.", done=len(done), total=len(protocol.items)))
        if any(item.confirm_locally for item in protocol.items):
            lines.append(TO_CONFIRM)
        lines.extend(self._review(protocol))
        lines.append(t("🔒 Tick the steps only; never type anything about the person."))
        return Screen(
            body=tuple(lines),
            buttons=(
                *rows,
                (Button(t("🧾 Finish: summary"), f"off:finish:{protocol.id}"),
                 Button(t("🖨️ Printable version"), f"off:print:{protocol.id}")),
                (Button(t("📚 Sources"), f"off:src:{protocol.id}"), LIST_BUTTON),
                (MENU_BUTTON,),
            ),
        )  # fmt: skip

    def _why(self, model: FlowModel) -> Screen:
        protocol = self._protocol(model)
        item = protocol.item(str(model.data.get("item"))) or protocol.items[0]
        number = protocol.items.index(item) + 1
        ticked = item.id in model.data.get("progress", {}).get(protocol.id, [])
        body: list[Text] = [
            _framed(item.text, f"❓ {number}. "),
            Localized(item.why) if item.why else t("No reason is given for this step."),
            self._cited(protocol, item),
        ]
        if item.confirm_locally:
            body.append(TO_CONFIRM)
        toggle = t("⬜ Mark as not done") if ticked else t("✅ Mark as done")
        return Screen(
            body=tuple(body),
            buttons=(
                (Button(toggle, f"off:tick:{protocol.id}:{item.id}"),),
                (Button(t("↩️ Back to the checklist"), f"off:open:{protocol.id}"),),
            ),
        )

    def _sources(self, model: FlowModel) -> Screen:
        protocol = self._protocol(model)
        return Screen(
            body=(
                t("📚 Sources: %(title)s", title=Localized(protocol.title)),
                *(self._source_lines(protocol)),
                *self._review(protocol),
                t("Reviewed by: %(who)s", who=protocol.reviewed_by),
            ),
            buttons=((Button(t("↩️ Back to the checklist"), f"off:open:{protocol.id}"),),),
        )

    def _summary(self, model: FlowModel) -> Screen:
        finished: dict[str, Any] = model.data.get("finished", {})
        protocol = self.protocols.get(str(finished.get("protocol")))
        if protocol is None:  # content changed since: nothing to sum up
            return self._checklists(model)
        done, skipped = self._split(protocol, finished.get("done", []))
        body: list[Text] = [t("🧾 Summary: %(title)s", title=Localized(protocol.title))]
        body.append(tn("Done (%(num)s step):", "Done (%(num)s steps):", len(done)))
        if done:
            body.append(_listed([item.text for item in done], "✅"))
        body.append(tn("Not done (%(num)s step):", "Not done (%(num)s steps):", len(skipped)))
        if skipped:
            body.append(_listed([item.text for item in skipped], "⬜"))
        body.append(
            t(
                "This summary holds no information about the person. The document below can be "
                "printed or attached to the case file."
            )
        )
        return Screen(body=tuple(body), buttons=((LIST_BUTTON, MENU_BUTTON),))

    def _question(self, model: FlowModel) -> Screen:
        index = len(model.data.get("answers", []))
        labels = {"yes": t("Yes"), "no": t("No"), "unsure": t("Not sure")}
        return Screen(
            body=decision.question_body(index),
            buttons=(
                tuple(Button(labels[a], f"off:ans:{index}:{a}") for a in decision.ANSWERS),
                (Button(t("↩️ Back"), "off:qback"), MENU_BUTTON),
            ),
        )

    def _result(self, model: FlowModel) -> Screen:
        answers = model.data.get("answers", [])
        opens = [Button(t("📋 First contact checklist"), "off:open:first-contact")]
        if decision.verdict(answers) != "vbg":
            opens.insert(0, Button(t("📋 VSLC checklist"), "off:open:vslc"))
        return Screen(
            body=decision.result_body(answers),
            buttons=(
                *((button,) for button in opens),
                (Button(t("↩️ Back"), "off:qback"), Button(t("🔁 Start again"), "off:decide")),
                (MENU_BUTTON,),
            ),
        )

    # --- documents ----------------------------------------------------------------------------

    def _printable(self, protocol: Protocol) -> Document:
        lines: list[Text] = [_framed(protocol.title, "JIGIYA: ")]
        if protocol.intro:
            lines.append(Localized(protocol.intro))
        lines.append("")
        for number, item in enumerate(protocol.items, 1):
            lines.append(_framed(item.text, f"[ ] {number}. "))
            if item.why:
                lines.append(t("    Why: %(why)s", why=Localized(item.why)))
            if item.confirm_locally:
                lines.append(t("    ⚠️ To confirm locally."))
        lines.extend(["", t("Sources:"), *self._source_lines(protocol), ""])
        lines.extend(self._review(protocol))
        return Document(
            body=tuple(lines),
            filename=f"jigiya-{protocol.id}.txt",
            caption=t("🖨️ Printable version: %(title)s", title=Localized(protocol.title)),
            edit=False,
        )

    def _summary_document(self, model: FlowModel) -> Document:
        finished = model.data["finished"]
        protocol = self._protocol(model, finished["protocol"])
        on = date.fromisoformat(finished["on"])
        done, skipped = self._split(protocol, finished["done"])
        numbered = {item.id: n for n, item in enumerate(protocol.items, 1)}
        lines: list[Text] = [
            t("JIGIYA: checklist summary"),
            Localized(protocol.title),
            t("Date: %(date)s", date=on),
            t("This document holds no information about the person helped."),
            "",
            tn("Done (%(num)s step):", "Done (%(num)s steps):", len(done)),
            *(_framed(item.text, f"[x] {numbered[item.id]}. ") for item in done),
            "",
            tn("Not done (%(num)s step):", "Not done (%(num)s steps):", len(skipped)),
            *(_framed(item.text, f"[ ] {numbered[item.id]}. ") for item in skipped),
            "",
            t("Sources:"),
            *self._source_lines(protocol),
            "",
            *self._review(protocol),
        ]
        return Document(
            body=tuple(lines),
            filename=f"jigiya-summary-{protocol.id}-{on.isoformat()}.txt",
            caption=t("🧾 Summary for the case file: %(title)s", title=Localized(protocol.title)),
            edit=False,
        )

    # --- building blocks ----------------------------------------------------------------------

    def _protocol(self, model: FlowModel, protocol_id: str | None = None) -> Protocol:
        """The protocol in view; the first one if the content no longer has it."""
        found = self.protocols.get(protocol_id or str(model.data.get("protocol")))
        return found or self.protocols.all[0]

    @staticmethod
    def _split(protocol: Protocol, done_ids: list[str]) -> tuple[list[Item], list[Item]]:
        done = [item for item in protocol.items if item.id in done_ids]
        return done, [item for item in protocol.items if item.id not in done_ids]

    @staticmethod
    def _source_lines(protocol: Protocol) -> list[Text]:
        return [
            f"{n}. {source.title}" + (f"\n   {source.url}" if source.url else "")
            for n, source in enumerate(protocol.sources, 1)
        ]

    @staticmethod
    def _cited(protocol: Protocol, item: Item) -> Msg:
        titles = [s.title for s in protocol.sources if s.id in item.sources]
        return t("Sources: %(sources)s", sources="; ".join(titles))

    @staticmethod
    def _review(protocol: Protocol) -> list[Text]:
        lines: list[Text] = [t("Last reviewed: %(date)s.", date=protocol.last_reviewed)]
        if protocol.review_status == "draft":
            lines.append(t("Draft: not yet validated by a Malian partner."))
        return lines

    def _numbers(self) -> list[Text]:
        return [
            referral.FREE_NUMBERS,
            *(referral.number_line(n) for n in self.directory.numbers),
            referral.BEING_CHECKED,
        ]
