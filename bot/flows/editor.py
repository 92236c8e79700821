"""Editors' flow: check the directory entry by entry (/verify), correct it, report what does not
work, and propose a new number or centre (➕ in /verify, or /add). Others' changes are approved
through /review (bot/flows/review.py), which reads them from `DirectoryReview`.

The flow reads the directory as editors keep it (bot/editing.py) and never writes: each act is a
`Record` output that the core writes to the log, and only then shows its `done` line. Who acts
is the core's to add, so the flow keeps nothing about the editor. Events that are not for the
editor's tools leave the step with no output, as in officer mode.
"""

from __future__ import annotations

import json
from typing import Any

from transitions.extensions.asyncio import AsyncEventData

from bot.content import Centre, Number
from bot.content.changes import (
    FIELDS,
    MAX_SOURCE,
    NEW,
    NEW_FIELDS,
    OPTIONAL,
    REASONS,
    Fault,
    current,
    display,
    new_cells,
    position_fault,
    proposed,
    source_link,
    typed_value,
)
from bot.content.models import SERVICES
from bot.editing import Editing, Item
from bot.flows.base import Event, Flow, FlowModel, Route, argument, model_of
from bot.flows.referral import SERVICE_NAMES, centre_details, number_details
from bot.flows.review import Waiting
from bot.flows.screens import Button, Msg, Output, Record, Screen, Text, t, tn
from state.directory_log import Action, ItemKind, LogEntry

PREFIX = "ed:"  # every editor button; the channel checks the role before any of them
COMMANDS = frozenset({"verify", "add"})
IDLE, ITEM, REASON, FIELD, VALUE, SERVICES_STATE, MOVE, SOURCE, ADD, NEW_STATE = (
    "idle", "item", "reason", "field", "value", "services", "move", "source", "add",
    "new",
)  # fmt: skip
_OPEN = [ITEM, REASON, FIELD, VALUE, SERVICES_STATE, MOVE, SOURCE, ADD, NEW_STATE]
_KINDS: dict[str, ItemKind] = {"number": "number", "centre": "centre"}
HAND_BACK: Route = ("hand_back", ())

REASON_NAMES = {
    "no_answer": t("Nobody answers"),
    "wrong_number": t("Wrong number"),
    "closed": t("Closed"),
    "moved": t("Moved"),
}
FIELD_NAMES = {
    "number": t("Number"),
    "phone": t("Phone"),
    "hours": t("Hours"),
    "host_facility": t("Host facility"),
    "address": t("Address"),
    "services": t("Services"),
    "position": t("Position (share your location at the centre)"),
}
ASK = {
    "number": t("Send the new number: 8 digits, or 5 for a short number such as 80 333."),
    "phone": t("Send the centre's phone number: 8 digits, or 5 for a short number."),
    "hours": t(
        "Send the hours as in this example: lun-ven 08:00-17:00 (days: lun mar mer jeu ven sam "
        "dim, or tous les jours; several ranges separated by ; )."
    ),
    "host_facility": t(
        "Send the name of the facility that hosts the centre (120 characters at most)."
    ),
    "address": t(
        "Send the centre's address as people find it: street, door number, landmark (120 "
        "characters at most)."
    ),
    "position": t("Standing at the centre, share your location with the button below."),
    "name": t("Send its name as survivors will read it (120 characters at most)."),
    "purpose": t("In one sentence, what is this line for? (120 characters at most)"),
    "town": t("In which town is it? Send the town's name."),
}
FAULTS = {
    "phone": t("This is not a Malian number: 8 digits, or 5 for a short number such as 80 333."),
    "hours": t("These hours cannot be read. Example: lun-ven 08:00-17:00; sam 08:00-12:00"),
    "text": t("Please send between 1 and 120 characters."),
    "outside": t("This position is outside Mali: nothing was changed."),
    "listed": t("This number is already in the directory: check it with /verify."),
    "town": t("No known town has this name. Send the town's name as on a map, for example Kita."),
    "link": t(
        "Please send a link (https://…) to a page or document that names it: every entry of the "
        "directory has one. What you saw yourself, confirm it with ✅ once it is added."
    ),
}
BACK = Button(t("↩️ Back"), "ed:back")
ADD_BUTTON = Button(t("➕ New number or centre"), "ed:add")
LEAVE = Button(t("⏭ Leave empty"), "ed:leave")
QUEUE_DONE = t("✅ Nothing left to check in this round. Thank you. Send /verify to start again.")


class EditorFlow(Flow):
    name = "editor"
    initial = IDLE

    def __init__(self, editing: Editing) -> None:
        self.editing = editing
        anywhere = [IDLE, *_OPEN]
        self.machine = self.build_machine(
            states=[IDLE, *_OPEN],
            transitions=[
                {"trigger": "verify", "source": anywhere, "dest": ITEM, "after": self._start},
                {"trigger": "add", "source": anywhere, "dest": ADD, "after": self._start_add},
                {"trigger": "new_kind", "source": ADD, "dest": NEW_STATE, "after": self._new_kind},
                # A new entry's answers, one at a time; then a centre's services, and the source.
                {"trigger": "answer", "source": NEW_STATE, "dest": SERVICES_STATE,
                 "conditions": self._answer_then(SERVICES_STATE), "after": self._new_keep},
                {"trigger": "answer", "source": NEW_STATE, "dest": SOURCE,
                 "conditions": self._answer_then(SOURCE), "after": self._new_keep},
                {"trigger": "answer", "source": NEW_STATE, "dest": NEW_STATE,
                 "conditions": self._answer_then(NEW_STATE), "after": self._new_keep},
                {"trigger": "answer", "source": NEW_STATE, "dest": NEW_STATE,
                 "after": self._new_refuse},
                {"trigger": "works", "source": ITEM, "dest": ITEM, "after": self._works},
                {"trigger": "broken", "source": ITEM, "dest": REASON},
                {"trigger": "reason", "source": REASON, "dest": ITEM, "after": self._broken},
                {"trigger": "correct", "source": ITEM, "dest": FIELD},
                {"trigger": "pick", "source": FIELD, "dest": SERVICES_STATE,
                 "conditions": self._is_services, "after": self._pick},
                {"trigger": "pick", "source": FIELD, "dest": VALUE, "after": self._pick},
                {"trigger": "toggle", "source": SERVICES_STATE, "dest": SERVICES_STATE,
                 "after": self._toggle},
                {"trigger": "services_done", "source": SERVICES_STATE, "dest": SOURCE,
                 "conditions": self._services_chosen, "after": self._services_done},
                {"trigger": "typed", "source": VALUE, "dest": SOURCE, "conditions": self._valid,
                 "after": self._keep_value},
                {"trigger": "typed", "source": VALUE, "dest": VALUE, "after": self._refuse},
                {"trigger": "located", "source": VALUE, "dest": MOVE, "conditions": self._far,
                 "after": self._keep_position},
                {"trigger": "located", "source": VALUE, "dest": SOURCE,
                 "conditions": self._in_mali, "after": self._keep_position},
                {"trigger": "located", "source": VALUE, "dest": VALUE, "after": self._outside},
                {"trigger": "move_ok", "source": MOVE, "dest": SOURCE},
                {"trigger": "typed", "source": SOURCE, "dest": ITEM,
                 "conditions": self._new_source_ok, "after": self._propose_new},
                {"trigger": "typed", "source": SOURCE, "dest": SOURCE, "conditions": self._is_new,
                 "after": self._refuse_link},
                {"trigger": "typed", "source": SOURCE, "dest": ITEM, "after": self._propose},
                {"trigger": "skip", "source": ITEM, "dest": ITEM, "after": self._skip},
                {"trigger": "back", "source": [REASON, FIELD, VALUE, SERVICES_STATE, MOVE,
                                               SOURCE, ADD, NEW_STATE], "dest": ITEM,
                 "after": self._drop_draft},
                {"trigger": "hand_back", "source": anywhere, "dest": IDLE},
            ],
            initial=IDLE,
        )  # fmt: skip

    # --- routing ------------------------------------------------------------------------------

    def route(self, model: FlowModel, event: Event) -> Route | None:
        if event.kind == "command":
            return (event.name, ()) if event.name in COMMANDS else HAND_BACK
        if event.kind == "button":
            return self._route_button(event.name)
        if model.state in (VALUE, SOURCE) and event.kind == "text":
            return ("typed", (event.text,))
        if model.state == NEW_STATE and event.kind == "text":
            return ("answer", ("text", event.text))
        if model.state == VALUE and event.location is not None:
            return ("located", event.location)
        if model.state != IDLE:
            return None  # in the middle of a check: "please use the buttons", and the screen again
        return HAND_BACK  # anything else: the survivor side answers

    def _route_button(self, data: str) -> Route | None:
        if not data.startswith(PREFIX):
            return None
        kind, _, value = data[len(PREFIX) :].partition(":")
        plain = {"broken": "broken", "correct": "correct", "skip": "skip", "back": "back",
                 "move": "move_ok", "sdone": "services_done",
                 "add": "add"}  # fmt: skip
        if kind in plain and not value:
            return (plain[kind], ())
        if kind == "leave" and not value:
            return ("answer", ("leave", ""))
        if kind == "new" and value in _KINDS:
            return ("new_kind", (value,))
        if kind == "town" and value:
            return ("answer", ("town", value))
        if kind == "works" and value in ("phone", "visit"):
            return ("works", (value,))
        if kind == "reason" and value in REASONS:
            return ("reason", (value,))
        if kind == "field" and value in FIELDS["number"] + FIELDS["centre"]:
            return ("pick", (value,))
        if kind == "svc" and value in SERVICES:
            return ("toggle", (value,))
        return None

    async def step(self, model: FlowModel, event: Event) -> list[Output]:
        outputs: list[Output] = []  # not for the editor's tools: the survivor side answers
        if self.route(model, event) != HAND_BACK:
            outputs = await super().step(model, event)
        elif model.state != IDLE:
            await model.trigger(HAND_BACK[0])
        return outputs

    # --- conditions ---------------------------------------------------------------------------

    def _is_services(self, event: AsyncEventData) -> bool:
        return bool(argument(event) == "services")

    def _services_chosen(self, event: AsyncEventData) -> bool:
        return bool(model_of(event).data.get("services"))

    def _valid(self, event: AsyncEventData) -> bool:
        model = model_of(event)
        return typed_value(model.data["field"], argument(event))[1] is None

    def _answer_then(self, state: str) -> Any:
        """A condition: the answer fits the new entry's current question, and `state` asks the
        next one."""

        def condition(event: AsyncEventData) -> bool:
            model = model_of(event)
            if self._answer(model, *event.args)[0] is None:
                return False
            draft = model.data["new"]
            following = NEW_FIELDS[_KINDS[draft["kind"]]][int(draft["step"]) + 1 :]
            after = NEW_STATE if following else SOURCE
            return (SERVICES_STATE if following[:1] == ("services",) else after) == state

        return condition

    def _is_new(self, event: AsyncEventData) -> bool:
        return "new" in model_of(event).data

    def _new_source_ok(self, event: AsyncEventData) -> bool:
        return self._is_new(event) and source_link(str(argument(event))) is not None

    def _in_mali(self, event: AsyncEventData) -> bool:
        item = self._item(model_of(event))
        if item is None or not isinstance(item.entry, Centre):
            return False
        latitude, longitude = event.args
        return position_fault(item.entry, None, latitude, longitude) is None

    def _far(self, event: AsyncEventData) -> bool:
        item = self._item(model_of(event))
        if item is None or not isinstance(item.entry, Centre):
            return False
        town = self.editing.directory.town_of(item.entry)
        where = None if town is None else (town.latitude, town.longitude)
        latitude, longitude = event.args
        return position_fault(item.entry, where, latitude, longitude) == "far"

    # --- acts ---------------------------------------------------------------------------------

    def _start(self, event: AsyncEventData) -> None:
        model = model_of(event)
        model.data = {}
        self._advance(model)

    def _works(self, event: AsyncEventData) -> None:
        model = model_of(event)
        how = argument(event)
        done = t("✅ Thank you: checked today.")
        self._record(model, "works", done, reason=how)
        self._advance(model)

    def _broken(self, event: AsyncEventData) -> None:
        model = model_of(event)
        done = t("Thank you: your report waits for a second person.")
        self._record(model, "broken", done, reason=argument(event))
        self._advance(model)

    def _pick(self, event: AsyncEventData) -> None:
        model = model_of(event)
        model.data["field"] = argument(event)
        if argument(event) == "services":
            item = self._item(model)
            model.data["services"] = list(item.entry.services) if item and isinstance(
                item.entry, Centre) else []  # fmt: skip

    def _toggle(self, event: AsyncEventData) -> None:
        chosen: list[str] = model_of(event).data["services"]
        service = argument(event)
        if service in chosen:
            chosen.remove(service)
        else:
            chosen.append(service)

    def _services_done(self, event: AsyncEventData) -> None:
        model = model_of(event)
        ticked = model.data.pop("services")
        chosen = ";".join(s for s in SERVICES if s in ticked)
        if "new" in model.data:
            model.data["new"]["values"]["services"] = chosen
        else:
            model.data["value"] = chosen

    def _keep_value(self, event: AsyncEventData) -> None:
        model = model_of(event)
        model.data["value"] = typed_value(model.data["field"], argument(event))[0]

    def _refuse(self, event: AsyncEventData) -> None:
        model = model_of(event)
        fault = typed_value(model.data["field"], argument(event))[1]
        model.notices.append(FAULTS[fault or "text"])

    def _keep_position(self, event: AsyncEventData) -> None:
        latitude, longitude = event.args
        model_of(event).data["value"] = f"{latitude:.5f},{longitude:.5f}"

    def _outside(self, event: AsyncEventData) -> None:
        model_of(event).notices.append(FAULTS["outside"])

    def _propose(self, event: AsyncEventData) -> None:
        model = model_of(event)
        item = self._item(model)
        source = " ".join(str(argument(event)).split())[:MAX_SOURCE]
        field, value = model.data.pop("field"), model.data.pop("value")
        if item is not None:
            before = current(item.entry, field)
            done = t("Thank you: your change waits for a second person (/review).")
            self._record(model, "propose", done, field=field, before=before, after=value,
                         reason=source)  # fmt: skip
        self._advance(model)

    def _start_add(self, event: AsyncEventData) -> None:
        model = model_of(event)
        self._drop_draft(event)
        model.data.pop("proposal", None)
        if "item" not in model.data:
            self._advance(model)  # Back leads to the first entry to check

    def _drop_draft(self, event: AsyncEventData) -> None:
        for name in ("new", "field", "value", "services"):
            model_of(event).data.pop(name, None)

    def _new_kind(self, event: AsyncEventData) -> None:
        model_of(event).data["new"] = {"kind": argument(event), "step": 0, "values": {}}

    def _answer(self, model: FlowModel, how: str, text: str) -> tuple[str | None, Fault | None]:
        """The value an answer gives the new entry's current question, or what is wrong."""
        question = self._question(model)
        if how == "leave":
            return ("", None) if question in OPTIONAL else (None, None)
        directory = self.editing.directory
        if question == "town":
            if how == "town":
                return (text, None) if directory.place(text) is not None else (None, None)
            found = directory.find_place(text)
            if found.sure and found.best is not None:
                return found.best.place.id, None
            return None, "town"
        if how != "text":
            return None, None
        value, fault = typed_value(question, text)
        if fault is None and question == "number" and self.editing.applied.listed(value):
            fault = "listed"
        return (value, None) if fault is None else (None, fault)

    def _question(self, model: FlowModel) -> str:
        draft = model.data["new"]
        return NEW_FIELDS[_KINDS[draft["kind"]]][int(draft["step"])]

    def _new_keep(self, event: AsyncEventData) -> None:
        model = model_of(event)
        value = self._answer(model, *event.args)[0]
        draft = model.data["new"]
        draft["values"][self._question(model)] = value
        draft["step"] += 1
        if model.state == SERVICES_STATE:
            model.data["services"] = []

    def _new_refuse(self, event: AsyncEventData) -> None:
        model = model_of(event)
        how, text = event.args
        fault = self._answer(model, how, text)[1]
        if fault == "town":
            found = self.editing.directory.find_place(text).matches
            if found:  # not sure which: the person picks
                model.view["towns"] = [m.place.id for m in found]
                model.notices.append(t("Which of these towns?"))
                return
        if fault is not None:
            model.notices.append(FAULTS[fault])

    def _refuse_link(self, event: AsyncEventData) -> None:
        model_of(event).notices.append(FAULTS["link"])

    def _propose_new(self, event: AsyncEventData) -> None:
        model = model_of(event)
        draft = model.data.pop("new")
        kind: ItemKind = _KINDS[draft["kind"]]
        values: dict[str, str] = draft["values"]
        source = " ".join(str(argument(event)).split())[:MAX_SOURCE]
        town = self.editing.directory.place(values.pop("town", ""))
        cells = new_cells(kind, values, source, town, self.editing.applied.taken_ids())
        done = t("Thank you: the new entry waits for a second person (/review).")
        model.outputs.append(Record("propose", kind, cells["id"], done, field=NEW,
                                    after=json.dumps(cells, ensure_ascii=False),
                                    reason=source))  # fmt: skip

    def _skip(self, event: AsyncEventData) -> None:
        self._advance(model_of(event))

    def _advance(self, model: FlowModel) -> None:
        """On to the next entry of the queue; the one just seen is done for this round."""
        done: list[str] = model.data.setdefault("done", [])
        if (item := model.data.get("item")) and item not in done:
            done.append(item)
        queue = self.editing.queue(done)
        model.data["item"] = queue[0].key if queue else None
        model.data.pop("field", None)

    def _record(self, model: FlowModel, action: Action, done: Msg, **details: Any) -> None:
        item = self._item(model)
        if item is not None:
            model.outputs.append(Record(action, item.kind, item.entry.id, done, **details))

    def _item(self, model: FlowModel) -> Item | None:
        key = model.data.get("item")
        return None if key is None else self.editing.item(key)

    # --- screens ------------------------------------------------------------------------------

    def screen(self, model: FlowModel) -> Screen:
        if model.state == ADD:
            return Screen(
                body=(t("What do you want to add? You will give its source at the end."),),
                buttons=((Button(t("📞 A phone number"), "ed:new:number"),),
                         (Button(t("🏥 A centre"), "ed:new:centre"),), (BACK,)),
            )  # fmt: skip
        if model.state == NEW_STATE:
            return self._new_screen(model)
        if model.state == SOURCE and "new" in model.data:
            return Screen(
                body=(t("How do you know? Send a link (https://…) to a page or document that "
                        "names it, with a few words if you wish."),),
                buttons=((BACK,),), edit=False,
            )  # fmt: skip
        if model.state == SERVICES_STATE:
            chosen = model.data.get("services", [])
            rows = tuple(
                (Button(t("%(mark)s %(service)s", mark="☑️" if s in chosen else "⬜",
                          service=SERVICE_NAMES[s]), f"ed:svc:{s}"),)
                for s in SERVICES
            )  # fmt: skip
            done = Button(t("✔️ Done"), "ed:sdone")
            return Screen(body=(t("Tap the services this centre offers."),),
                          buttons=(*rows, (done,), (BACK,)))  # fmt: skip
        item = self._item(model)
        if item is None:
            return Screen(body=(QUEUE_DONE,), buttons=((ADD_BUTTON,),), edit=False)
        field = model.data.get("field")
        if model.state == REASON:
            rows = tuple((Button(name, f"ed:reason:{r}"),) for r, name in REASON_NAMES.items())
            return Screen(body=(t("What is wrong?"),), buttons=(*rows, (BACK,)))
        if model.state == FIELD:
            rows = tuple((Button(FIELD_NAMES[f], f"ed:field:{f}"),) for f in FIELDS[item.kind])
            return Screen(body=(t("What should be corrected?"),), buttons=(*rows, (BACK,)))
        if model.state == VALUE and field is not None:
            return Screen(body=(ASK[field],), buttons=((BACK,),), edit=False,
                          ask_location=field == "position")  # fmt: skip
        if model.state == MOVE:
            return Screen(
                body=(t("This position is more than 50 km from the centre's town. Has the "
                        "centre moved there?"),),
                buttons=((Button(t("Yes, it moved"), "ed:move"),), (BACK,)),
            )  # fmt: skip
        if model.state == SOURCE:
            return Screen(
                body=(t("How do you know? One line: I called, I visited, a link…"),),
                # After a position, the location keyboard goes (an edit gives the button back).
                buttons=((BACK,),), edit=False, drop_location_button=field == "position",
            )  # fmt: skip
        return self._item_screen(model, item)

    def _item_screen(self, model: FlowModel, item: Item) -> Screen:
        left = len(self.editing.queue(model.data.get("done", [])))
        entry = item.entry
        body: list[Text] = [
            tn("%(num)s entry left to check.", "%(num)s entries left to check.", left),
            t("Survivors see:"),
            *((number_details(entry),) if isinstance(entry, Number)
              else (entry.name, centre_details(entry))),
            t("Source: %(url)s (%(date)s)", url=entry.source_url,
              date=entry.source_date or t("not dated")),
        ]  # fmt: skip
        if self.editing.hidden(item.key):
            body.append(t("⚠️ Hidden from survivors: two people found it not working."))
        buttons = (
            (Button(t("✅ It works: I called"), "ed:works:phone"),),
            (Button(t("✅ It works: I visited"), "ed:works:visit"),),
            (Button(t("❌ Not working"), "ed:broken"),),
            (Button(t("✏️ Correct"), "ed:correct"), Button(t("⏭ Skip"), "ed:skip")),
            (ADD_BUTTON,),
        )
        return Screen(body=tuple(body), buttons=buttons, edit=False)

    def _new_screen(self, model: FlowModel) -> Screen:
        """The new entry's current question; the towns to pick from when the name was unsure."""
        draft = model.data["new"]
        question = self._question(model)
        head = (t("➕ New number: only lines free to call are listed.")
                if draft["kind"] == "number" else t("➕ New centre"))  # fmt: skip
        directory = self.editing.directory
        towns = [p for p in map(directory.place, model.view.get("towns", [])) if p is not None]
        rows = [(Button(f"{p.name} ({p.region})", f"ed:town:{p.id}"),) for p in towns]
        if question in OPTIONAL:
            rows.append((LEAVE,))
        return Screen(body=(head, ASK[question]), buttons=(*rows, (BACK,)), edit=False)


class DirectoryReview:
    """Directory changes, reports and new entries waiting for a second person (`/review`), for
    editors."""

    def __init__(self, editing: Editing) -> None:
        self.editing = editing

    def waiting(self, scope: frozenset[str]) -> list[Waiting]:
        if "directory" not in scope:
            return []
        return [self._waiting(p) for p in self.editing.applied.pending.values()]

    def find(self, key: str) -> Waiting | None:
        kind, _, number = key.partition(":")
        proposal = self.editing.proposal(int(number)) if kind == "dir" else None
        return None if proposal is None else self._waiting(proposal)

    def _waiting(self, proposal: LogEntry) -> Waiting:
        body = tuple(_describe(self.editing, proposal))
        return Waiting(f"dir:{proposal.id}", proposal.actor, body)


def _describe(editing: Editing, proposal: LogEntry) -> list[Text]:
    """A proposal for its reviewer: what, by whom, before and after, why."""
    if proposal.field == NEW:
        return _describe_new(proposal)
    item = editing.item(f"{proposal.item_kind}:{proposal.item_id}")
    name: Text = proposal.item_id if item is None else item.entry.name
    head = t("%(item)s · proposed by %(id)s", item=name, id=proposal.actor)
    if proposal.action == "broken":
        reason = REASON_NAMES.get(proposal.reason or "", t("not known"))
        return [head, t("Reported not working: %(reason)s", reason=reason)]
    field = proposal.field or ""
    before, after = proposal.before or "", proposal.after or ""
    if field == "number":
        before, after = display(before) if before else before, display(after)
    return [
        head,
        t("%(field)s: %(before)s → %(after)s", field=FIELD_NAMES.get(field, field),
          before=before or t("not known"), after=after),
        t("Source: %(source)s", source=proposal.reason or t("not known")),
    ]  # fmt: skip


def _describe_new(proposal: LogEntry) -> list[Text]:
    """A new entry, exactly as survivors would see it once approved."""
    found = proposed(proposal)
    if found is None:
        return [t("%(item)s · proposed by %(id)s", item=proposal.item_id, id=proposal.actor)]
    entry = found[1]
    head = t("➕ New entry · proposed by %(id)s", id=proposal.actor)
    shown: tuple[Text, ...] = (
        (number_details(entry),) if isinstance(entry, Number)
        else (entry.name, centre_details(entry))
    )  # fmt: skip
    return [head, t("Survivors would see:"), *shown,
            t("Source: %(source)s", source=proposal.reason or t("not known"))]  # fmt: skip
