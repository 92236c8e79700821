"""/review: one queue of everything waiting for a second person that this member may decide:
directory changes (editors, bot/flows/editor.py), translations and voice notes (translators of
that language, bot/flows/translator.py). Administrators have every role, so they see it all.

Each kind of work is a `Reviewable` that lists what waits and describes it; this flow only
walks the list and returns a `Decision`, which the core checks (nobody decides their own work,
nor work outside their role) and writes. What the member may review (`scope`) and who they are
(`member`) come from the core in the model's view, never from button data.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from transitions.extensions.asyncio import AsyncEventData

from bot.flows.base import Event, Flow, FlowModel, Route, model_of
from bot.flows.screens import Button, Decision, Output, Screen, Text, Voice, t

PREFIX = "rv:"  # every review button; the channel checks the role before any of them
COMMANDS = frozenset({"review"})
IDLE, REVIEW = "idle", "review"
HAND_BACK: Route = ("hand_back", ())
_DECIDE = re.compile(r"^rv:(ok|no):((?:dir|tr):\d{1,12})$")

ALREADY_DECIDED = t("Someone else has already decided on this change.")
REVIEW_DONE = t("✅ Nothing waiting for review. Thank you.")


@dataclass(frozen=True)
class Waiting:
    """One piece of work waiting for a second person."""

    key: str  # "dir:12" (the directory log's proposal), "tr:5" (the translation log's)
    author: int  # who proposed it: never its reviewer
    body: tuple[Text, ...]  # what the reviewer reads beside the buttons
    voice: Voice | None = None  # a voice note to listen to before deciding


class Reviewable(Protocol):
    def waiting(self, scope: frozenset[str]) -> list[Waiting]:
        """What waits, oldest first, of what `scope` ("directory", "tr:bm"...) may decide."""
        ...

    def find(self, key: str) -> Waiting | None:
        """One piece of work still waiting, whoever may decide it."""
        ...


class ReviewFlow(Flow):
    name = "review"
    initial = IDLE

    def __init__(self, sources: Sequence[Reviewable]) -> None:
        self.sources = tuple(sources)
        self.machine = self.build_machine(
            states=[IDLE, REVIEW],
            transitions=[
                {"trigger": "review", "source": [IDLE, REVIEW], "dest": REVIEW,
                 "after": self._start},
                {"trigger": "decide", "source": REVIEW, "dest": REVIEW, "after": self._decide},
                {"trigger": "next", "source": REVIEW, "dest": REVIEW, "after": self._next},
                {"trigger": "hand_back", "source": [IDLE, REVIEW], "dest": IDLE},
            ],
            initial=IDLE,
        )  # fmt: skip

    def route(self, model: FlowModel, event: Event) -> Route | None:
        if event.kind == "command":
            return ("review", ()) if event.name in COMMANDS else HAND_BACK
        if event.kind == "button":
            if event.name == f"{PREFIX}next":
                return ("next", ())
            if (decide := _DECIDE.match(event.name)) is not None:
                return ("decide", (decide[1] == "ok", decide[2]))
            return None
        return None if model.state == REVIEW else HAND_BACK

    async def step(self, model: FlowModel, event: Event) -> list[Output]:
        if self.route(model, event) != HAND_BACK:
            return await super().step(model, event)
        if model.state != IDLE:
            await model.trigger(HAND_BACK[0])
        return []  # not for review: another tool or the survivor side answers

    def _start(self, event: AsyncEventData) -> None:
        model_of(event).data = {}
        self._next(event)

    def _decide(self, event: AsyncEventData) -> None:
        model = model_of(event)
        approve, key = event.args
        if self._find(key) is None:
            model.notices.append(ALREADY_DECIDED)
        else:
            done = t("✅ Approved.") if approve else t("Rejected.")
            model.outputs.append(Decision(key, approve, done))
        model.data.setdefault("seen", []).append(key)
        self._next(event)

    def _next(self, event: AsyncEventData) -> None:
        """The oldest work not seen in this round; a voice note comes before its screen."""
        model = model_of(event)
        seen = set(model.data.setdefault("seen", []))
        if (shown := model.data.get("item")) is not None:
            seen.add(shown)
            model.data["seen"] = sorted(seen)
        waiting = [w for w in self._waiting(model) if w.key not in seen]
        model.data["item"] = waiting[0].key if waiting else None
        if waiting and waiting[0].voice is not None:
            model.outputs.append(waiting[0].voice)

    def _waiting(self, model: FlowModel) -> list[Waiting]:
        scope = frozenset(model.view.get("scope", ()))
        member = model.view.get("member")
        return [w for s in self.sources for w in s.waiting(scope) if w.author != member]

    def _find(self, key: str) -> Waiting | None:
        return next((w for s in self.sources if (w := s.find(key)) is not None), None)

    def screen(self, model: FlowModel) -> Screen:
        key = model.data.get("item")
        waiting = None if key is None else self._find(key)
        if waiting is None:
            return Screen(body=(REVIEW_DONE,), edit=False)
        return Screen(
            body=waiting.body,
            buttons=(
                (Button(t("✅ Approve"), f"rv:ok:{key}"), Button(t("✖️ Reject"), f"rv:no:{key}")),
                (Button(t("⏭ Next"), "rv:next"),),
            ),
            edit=False,
        )
