"""The flow pattern: one shared `transitions` machine per flow, a fresh model per update.

A flow turns an `Event` into a trigger of its machine; transition callbacks change the model;
the screen shown afterwards is the screen of the state the model ends in, with any notices
(for example "I did not understand that") placed above it. Nothing here knows about Telegram.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal, cast

from transitions.extensions.asyncio import AsyncEventData, AsyncMachine

from bot.flows.screens import Msg, Screen, t

EventKind = Literal["command", "text", "button", "location", "other"]


@dataclass(frozen=True)
class Event:
    """What a person did, reduced to what flows may look at.

    `text` is used for matching only and is never stored; `language_hint` is the language the
    person's app reports, used before they choose one.
    """

    kind: EventKind
    update_id: int
    name: str = ""  # command without the slash, or button data
    text: str = ""
    language_hint: str | None = None


class FlowModel:
    """The per-update model. A plain class on purpose: transitions skips value-equal models."""

    state: str

    def __init__(self, data: dict[str, Any], language: str | None) -> None:
        self.data = data
        self.language = language
        self.notices: list[Msg] = []

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


class Flow(ABC):
    """A conversation flow. Subclasses declare states and transitions once, at class level."""

    name: ClassVar[str]
    initial: ClassVar[str]
    machine: ClassVar[AsyncMachine]

    @classmethod
    def build_machine(
        cls, states: list[str], transitions: list[dict[str, Any]], initial: str
    ) -> AsyncMachine:
        # model=None: models are added per update. queued="model": triggers of one model run
        # in order. send_event=True: callbacks are plain functions that get the model from
        # the EventData, since one machine serves every model.
        return AsyncMachine(
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

    async def step(self, model: FlowModel, event: Event) -> Screen:
        """Apply one event and return what to show. The model must have been added."""
        route = self.route(model, event)
        if route is None or not await model.may_trigger(route[0], *route[1]):
            model.notices.append(NOT_UNDERSTOOD)
        else:
            await model.trigger(route[0], *route[1])
        return self.with_notices(model)

    def with_notices(self, model: FlowModel) -> Screen:
        screen = self.screen(model)
        return Screen(body=(*model.notices, *screen.body), buttons=screen.buttons, edit=screen.edit)
