"""Editors' flow: check the directory entry by entry (/verify), correct it, report what does not
work, and approve others' changes (/review).

The flow reads the directory as editors keep it (bot/editing.py) and never writes: each act is a
`Record` output that the core writes to the log, and only then shows its `done` line. Who acts
is the core's to add, so the flow keeps nothing about the editor. Events that are not for the
editor's tools leave the step with no output, as in officer mode.
"""

from __future__ import annotations

from typing import Any

from transitions.extensions.asyncio import AsyncEventData

from bot.content import Centre, Number
from bot.content.changes import FIELDS, REASONS, current, display, position_fault, typed_value
from bot.content.models import SERVICES
from bot.editing import Editing, Item
from bot.flows.base import Event, Flow, FlowModel, Route, argument, model_of
from bot.flows.referral import SERVICE_NAMES, centre_details, number_details
from bot.flows.screens import Button, Msg, Output, Record, Screen, Text, t, tn
from state.directory_log import Action, LogEntry

PREFIX = "ed:"  # every editor button; the channel checks the role before any of them
COMMANDS = frozenset({"verify", "review"})
IDLE, ITEM, REASON, FIELD, VALUE, SERVICES_STATE, MOVE, SOURCE, REVIEW = (
    "idle", "item", "reason", "field", "value", "services", "move", "source", "review",
)  # fmt: skip
_OPEN = [ITEM, REASON, FIELD, VALUE, SERVICES_STATE, MOVE, SOURCE, REVIEW]
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
    "position": t("Standing at the centre, share your location with the button below."),
}
FAULTS = {
    "phone": t("This is not a Malian number: 8 digits, or 5 for a short number such as 80 333."),
    "hours": t("These hours cannot be read. Example: lun-ven 08:00-17:00; sam 08:00-12:00"),
    "text": t("Please send between 1 and 120 characters."),
    "outside": t("This position is outside Mali: nothing was changed."),
}
BACK = Button(t("↩️ Back"), "ed:back")
ALREADY_DECIDED = t("Someone else has already decided on this change.")
QUEUE_DONE = t("✅ Nothing left to check in this round. Thank you. Send /verify to start again.")
REVIEW_DONE = t("✅ Nothing waiting for review. Thank you.")


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
                {"trigger": "review", "source": anywhere, "dest": REVIEW, "after": self._start},
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
                {"trigger": "typed", "source": SOURCE, "dest": ITEM, "after": self._propose},
                {"trigger": "skip", "source": ITEM, "dest": ITEM, "after": self._skip},
                {"trigger": "back", "source": [REASON, FIELD, VALUE, SERVICES_STATE, MOVE,
                                               SOURCE], "dest": ITEM},
                {"trigger": "decide", "source": REVIEW, "dest": REVIEW, "after": self._decide},
                {"trigger": "next", "source": REVIEW, "dest": REVIEW, "after": self._next},
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
                 "next": "next", "move": "move_ok", "sdone": "services_done"}  # fmt: skip
        if kind in plain and not value:
            return (plain[kind], ())
        if kind == "works" and value in ("phone", "visit"):
            return ("works", (value,))
        if kind == "reason" and value in REASONS:
            return ("reason", (value,))
        if kind == "field" and value in FIELDS["number"] + FIELDS["centre"]:
            return ("pick", (value,))
        if kind == "svc" and value in SERVICES:
            return ("toggle", (value,))
        verdict, _, proposal = value.partition(":")
        if kind == "decide" and verdict in ("approve", "reject") and proposal.isdecimal():
            return ("decide", (verdict, int(proposal)))
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
        if model.state == ITEM:
            self._advance(model)
        else:
            self._next(event)

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
        chosen = model.data.pop("services")
        model.data["value"] = ";".join(s for s in SERVICES if s in chosen)

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
        source = " ".join(str(argument(event)).split())[:200]
        field, value = model.data.pop("field"), model.data.pop("value")
        if item is not None:
            before = current(item.entry, field)
            done = t("Thank you: your change waits for a second person (/review).")
            self._record(model, "propose", done, field=field, before=before, after=value,
                         reason=source)  # fmt: skip
        self._advance(model)

    def _skip(self, event: AsyncEventData) -> None:
        self._advance(model_of(event))

    def _decide(self, event: AsyncEventData) -> None:
        model = model_of(event)
        verdict, proposal_id = event.args
        proposal = self.editing.proposal(proposal_id)
        if proposal is None:
            model.notices.append(ALREADY_DECIDED)
        else:
            done = t("✅ Approved.") if verdict == "approve" else t("Rejected.")
            decision: Action = "approve" if verdict == "approve" else "reject"
            model.outputs.append(Record(decision, proposal.item_kind, proposal.item_id, done,
                                        proposal=proposal_id))  # fmt: skip
        model.data.setdefault("seen", []).append(proposal_id)
        self._next(event)

    def _next(self, event: AsyncEventData) -> None:
        model = model_of(event)
        seen = set(model.data.setdefault("seen", []))
        if (shown := model.data.get("proposal")) is not None:
            seen.add(shown)
            model.data["seen"] = sorted(seen)
        waiting = [p for p in self.editing.applied.pending.values() if p.id not in seen]
        model.data["proposal"] = waiting[0].id if waiting else None

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
        if model.state == REVIEW:
            return self._review_screen(model)
        item = self._item(model)
        if item is None:
            return Screen(body=(QUEUE_DONE,), edit=False)
        field = model.data.get("field")
        if model.state == REASON:
            rows = tuple((Button(name, f"ed:reason:{r}"),) for r, name in REASON_NAMES.items())
            return Screen(body=(t("What is wrong?"),), buttons=(*rows, (BACK,)))
        if model.state == FIELD:
            rows = tuple((Button(FIELD_NAMES[f], f"ed:field:{f}"),) for f in FIELDS[item.kind])
            return Screen(body=(t("What should be corrected?"),), buttons=(*rows, (BACK,)))
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
        )
        return Screen(body=tuple(body), buttons=buttons, edit=False)

    def _review_screen(self, model: FlowModel) -> Screen:
        proposal_id = model.data.get("proposal")
        proposal = None if proposal_id is None else self.editing.proposal(proposal_id)
        if proposal is None:
            return Screen(body=(REVIEW_DONE,), edit=False)
        return Screen(
            body=(*_describe(self.editing, proposal),),
            buttons=(
                (Button(t("✅ Approve"), f"ed:decide:approve:{proposal.id}"),
                 Button(t("✖️ Reject"), f"ed:decide:reject:{proposal.id}")),
                (Button(t("⏭ Next"), "ed:next"),),
            ),
            edit=False,
        )  # fmt: skip


def _describe(editing: Editing, proposal: LogEntry) -> list[Text]:
    """A proposal for its reviewer: what, by whom, before and after, why."""
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
