"""The flow pattern: one shared `transitions` machine per flow, a fresh model per update.

A flow turns an `Event` into a trigger of its machine; transition callbacks change the model and
may add outputs (contact cards, a map pin); what is shown last is one message: the step's answer
(`FlowModel.answer_screen`: the nearest centres, the numbers) or else the screen of the state the
model ends in, with the state's buttons and any notices (for example "I did not understand
that"). A step that only adds what a button asked for (a map pin, the contact cards) shows no
screen: the message pressed keeps its own (`FlowModel.no_screen`). Nothing here knows about
Telegram.
"""

from __future__ import annotations

import re
import unicodedata
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, Literal, cast

from transitions.extensions.asyncio import AsyncEventData, AsyncMachine

from bot.flows.screens import Msg, Output, Screen, t
from bot.indicators import Tally

EventKind = Literal["command", "text", "button", "location", "other"]


@dataclass(frozen=True)
class Event:
    """What a person did, reduced to what flows may look at.

    `text` and `location` serve this one event and are never stored; `language_hint` is the
    language the person's app reports, used before they choose one.
    """

    kind: EventKind
    update_id: int
    name: str = ""  # command without the slash, or button data
    text: str = ""
    location: tuple[float, float] | None = None
    language_hint: str | None = None
    voice: tuple[str, int] | None = None  # a voice note (kind "other"): its file id and seconds


def normalised(text: str) -> str:
    """Case, width and punctuation folded, for matching words people type."""
    text = unicodedata.normalize("NFKC", text).casefold().strip()
    return re.sub(r"[\s!.?,;:¡¿]+", " ", text).strip()


class FlowModel:
    """The per-update model. A plain class on purpose: transitions skips value-equal models.

    `data` is stored; `outputs`, `notices`, `view` (details the step's screen shows, such as
    the towns of a region just picked), `answer_screen` and `no_screen` are this step's answer
    and are never stored. `tallies` are what the step counts for the anonymous indicators
    (bot/indicators.py), added to the counts with the step's save; `role` is an invited
    officer's, for those tallies.
    """

    state: str

    def __init__(self, data: dict[str, Any], language: str | None, role: str | None = None) -> None:
        self.data = data
        self.language = language
        self.role = role
        self.outputs: list[Output] = []
        self.notices: list[Msg] = []
        self.view: dict[str, Any] = {}
        # Shown instead of the state's screen, with the state's buttons under its own.
        self.answer_screen: Screen | None = None
        self.no_screen = False  # the step's outputs alone: the message pressed keeps its screen
        self.tallies: list[Tally] = []

    if TYPE_CHECKING:  # bound by the machine in add_model

        async def trigger(self, name: str, *args: Any) -> bool: ...
        async def may_trigger(self, name: str, *args: Any) -> bool: ...


Route = tuple[str, tuple[Any, ...]]


def model_of(event: AsyncEventData) -> FlowModel:
    """The model a transition callback acts on."""
    return cast(FlowModel, event.model)


def argument(event: AsyncEventData) -> Any:
    """The first argument given to the trigger (see `Flow.route`)."""
    return next(iter(event.args))


NOT_UNDERSTOOD = t("Sorry, I did not understand that. Please use the buttons below.")
# In a conversation's stored data: the last screen shown was an answer she may still need.
KEPT = "kept"


class FlowMachine(AsyncMachine):
    """A flow's machine, to which a fresh model is added for each update.

    A model gets only what the flows call on it, `trigger` and `may_trigger`: transitions' own
    `add_model` also binds a method and a `may_` method per trigger and an `is_` method per
    state to every model: 166 µs of the survivor flow's update, now 9 µs (bench/README.md).
    Callbacks are callables given the model by the event data, never names looked up on a
    model, so nothing else is ever read from one."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The triggers leaving each set of states: see `get_triggers`.
        self._triggers_from: dict[tuple[Any, ...], list[str]] = {}
        super().__init__(*args, **kwargs)

    def add_transition(self, *args: Any, **kwargs: Any) -> None:
        self._triggers_from.clear()
        super().add_transition(*args, **kwargs)

    def remove_transition(self, *args: Any, **kwargs: Any) -> None:
        self._triggers_from.clear()
        super().remove_transition(*args, **kwargs)

    def get_triggers(self, *args: Any) -> list[str]:
        """transitions' own looks through every event of the machine at each call, and
        `may_trigger` makes one each update (about 20 µs for the survivor flow's 18 events);
        the answer changes only with the transitions, so it is kept until they change."""
        if args not in self._triggers_from:  # states, or their names
            self._triggers_from[args] = super().get_triggers(*args)
        return list(self._triggers_from[args])

    def add_model(self, model: Any, initial: Any = None) -> None:
        model.trigger = partial(self._get_trigger, model)
        model.may_trigger = partial(self._can_trigger, model)
        state = self.initial if initial is None else initial
        assert state is not None  # the machine is built with an initial state
        self.set_state(state, model=model)
        self.models.append(model)
        self._transition_queue_dict[id(model)] = deque()  # queued="model": its own queue

    def remove_model(self, model: Any) -> None:
        """Also drops what `add_model` bound: each binding points back to the model, a cycle
        that only the collector's full passes free (rare in a process with many long-lived
        objects), so that without this each person's last step (her model, its data, outputs
        and screens) could stay in memory after she went quiet."""
        super().remove_model(model)
        del model.trigger, model.may_trigger

    @staticmethod
    async def await_all(
        callables: list[Callable[..., Coroutine[Any, Any, bool | None]]],
    ) -> list[bool | None]:
        """A list of callbacks or conditions, one after the other in this task: the flows'
        are plain functions, and transitions' `asyncio.gather` started a task for each, a turn
        of the busy event loop."""
        return [await call() for call in callables]


class Flow(ABC):
    """A conversation flow; its machine is built once and shared by every conversation."""

    name: ClassVar[str]
    initial: ClassVar[str]
    machine: AsyncMachine

    @staticmethod
    def build_machine(
        states: list[str], transitions: list[dict[str, Any]], initial: str
    ) -> AsyncMachine:
        # model=None: models are added per update. queued="model": triggers of one model run
        # in order. send_event=True: callbacks get the model from the EventData, since one
        # machine serves every model.
        return FlowMachine(
            model=None,
            states=states,
            transitions=transitions,
            initial=initial,
            auto_transitions=False,
            queued="model",
            send_event=True,
            ignore_invalid_triggers=False,
        )

    @abstractmethod
    def route(self, model: FlowModel, event: Event) -> Route | None:
        """The trigger (and its arguments) for this event, or None when it means nothing here."""

    @abstractmethod
    def screen(self, model: FlowModel) -> Screen:
        """What the person sees in the model's current state."""

    async def step(self, model: FlowModel, event: Event) -> list[Output]:
        """Apply one event and return what to show. The model must have been added.

        A button pressed under a kept answer (`Screen.kept`; the last screen shown, as far as
        the flow knows) brings the next screen below it rather than in its place."""
        kept = bool(model.data.pop(KEPT, False))
        route = self.route(model, event)
        if route is None or not await model.may_trigger(route[0], *route[1]):
            model.notices.append(NOT_UNDERSTOOD)
        else:
            await model.trigger(route[0], *route[1])
        if model.no_screen and not model.notices:
            if kept:
                model.data[KEPT] = True  # the answer is still the last screen she was shown
            return list(model.outputs)
        screen = self.with_notices(model)
        if kept and event.kind == "button":
            screen = replace(screen, edit=False)
        if screen.kept:
            model.data[KEPT] = True
        return [*model.outputs, screen]

    def with_notices(self, model: FlowModel) -> Screen:
        """The step's answer, or the state's screen, with the state's buttons, and the notices
        above."""
        screen = self.screen(model)
        if model.answer_screen is not None:
            screen = replace(
                model.answer_screen, buttons=(*model.answer_screen.buttons, *screen.buttons)
            )
        if not model.notices:
            return screen
        return replace(screen, body=(*model.notices, *screen.body))
