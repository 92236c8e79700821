"""The place picker the survivor flow and officer mode share: where → region → town, or a typed
place → "did you mean?", and then the nearest centres.

Each flow adds the picker's states and transitions to its own machine and lets it route its
region and town buttons, look up typed places and draw its screens. What differs between a
survivor looking for help and an officer referring someone is given by the flow: the words,
the button data, the rows under every screen, and what the nearest centres say.

A "📍 Map" button under the nearest centres (`referral.nearest_screen`) is routed here too: it
sends that centre's map pin and nothing else.

A region picked or places offered may say where someone is: they are kept in the model's `view`,
shown once and never stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from transitions.extensions.asyncio import AsyncEventData

from bot.content import Directory, PlaceSearch
from bot.flows.base import FlowModel, Route, argument, model_of
from bot.flows.referral import map_pin
from bot.flows.screens import Button, Msg, Screen, Text, t

WHERE, REGIONS, TOWNS, CONFIRM = "where", "regions", "towns", "confirm"
STATES = [WHERE, REGIONS, TOWNS, CONFIRM]  # where a typed text is a place to look up

Rows = tuple[tuple[Button, ...], ...]
Callback = Callable[[AsyncEventData], None]


@dataclass(frozen=True)
class Words:
    """What the picker says: to a survivor about where she is, to an officer about a referral."""

    where: tuple[Text, ...]  # the first screen
    choose_region: Msg  # the button that lists the regions
    regions: Msg  # above the regions
    towns: Callable[[str], Msg]  # above the towns of the region given
    not_found: Msg  # a typed place that matches nothing


def _pairs(buttons: list[Button]) -> Rows:
    return tuple(tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2))


class PlacePicker:
    """`prefix` starts the data of the region and town buttons, `regions_data` is the data of
    the button that lists the regions (routed by the flow), `footer` ends every screen."""

    def __init__(
        self, directory: Directory, words: Words, *, prefix: str, regions_data: str, footer: Rows
    ) -> None:
        self.directory = directory
        self.words = words
        self.prefix = prefix
        self.regions_data = regions_data
        self.footer = footer
        self.regions = directory.regions()

    def transitions(
        self, *, done: str, nearest: Callback, picked_from: str | list[str]
    ) -> list[dict[str, Any]]:
        """The picker's transitions. A place found (a town button pressed in `picked_from`, or a
        typed name) shows the `nearest` centres and leads to `done`."""
        return [
            {"trigger": "list_regions", "source": "*", "dest": REGIONS},
            {"trigger": "choose_region", "source": [REGIONS, TOWNS], "dest": TOWNS,
             "conditions": [lambda e: argument(e) in self.regions],
             "after": [_remember_region]},
            {"trigger": "choose_place", "source": picked_from, "dest": done,
             "conditions": [lambda e: argument(e) is not None], "after": [nearest]},
            {"trigger": "search_place", "source": STATES, "dest": done,
             "conditions": [lambda e: argument(e).sure], "after": [nearest]},
            {"trigger": "search_place", "source": STATES, "dest": CONFIRM,
             "conditions": [lambda e: bool(argument(e).matches)],
             "after": [_remember_candidates]},
            {"trigger": "search_place", "source": STATES, "dest": WHERE,
             "after": [self._not_found]},
            # A "📍 Map" button under the nearest centres: its pin alone, wherever she is now.
            {"trigger": "show_map", "source": "*", "dest": None,
             "conditions": [lambda e: map_pin(self.directory, argument(e)) is not None],
             "after": [self._show_map]},
        ]  # fmt: skip

    # --- events to triggers -------------------------------------------------------------------

    def route_button(self, kind: str, value: str) -> Route | None:
        """A region or town button, its data split by the flow after `prefix`."""
        if kind == "region" and value.isdecimal() and int(value) < len(self.regions):
            return ("choose_region", (self.regions[int(value)],))
        if kind == "place":
            return ("choose_place", (self.directory.place(value),))
        if kind == "map":
            return ("show_map", (value,))
        return None

    def search(self, text: str) -> Route:
        """A text typed in one of the picker's states."""
        return ("search_place", (self.directory.find_place(text),))

    # --- what each state shows ----------------------------------------------------------------

    def screen(self, model: FlowModel) -> Screen:
        """The screen of the picker's state the model is in."""
        if model.state == REGIONS:
            regions = [Button(r, f"{self.prefix}region:{i}") for i, r in enumerate(self.regions)]
            return Screen(body=(self.words.regions,), buttons=(*_pairs(regions), *self.footer))
        if model.state == TOWNS and "region" in model.view:
            region = str(model.view["region"])
            towns = [
                Button(p.name, f"{self.prefix}place:{p.id}")
                for p in self.directory.towns_in(region)
            ]
            return Screen(
                body=(self.words.towns(region),),
                buttons=(
                    *_pairs(towns),
                    (Button(t("↩️ Another region"), self.regions_data),),
                    *self.footer,
                ),
            )
        if model.state == CONFIRM and "candidates" in model.view:
            places = [self.directory.place(pid) for pid in model.view["candidates"]]
            return Screen(
                body=(t("Did you mean one of these places?"),),
                buttons=(
                    *(
                        (Button(f"{p.name} ({p.region})", f"{self.prefix}place:{p.id}"),)
                        for p in places
                        if p
                    ),
                    (Button(self.words.choose_region, self.regions_data),),
                    *self.footer,
                ),
            )
        # Where, or towns or places shown again in a later step (after a restart, or a word it
        # did not understand): they were never stored, so ask where again.
        return Screen(
            body=self.words.where,
            buttons=((Button(self.words.choose_region, self.regions_data),), *self.footer),
            ask_location=True,
        )

    # --- transition callbacks -----------------------------------------------------------------

    def _not_found(self, event: AsyncEventData) -> None:
        model_of(event).notices.append(self.words.not_found)

    def _show_map(self, event: AsyncEventData) -> None:
        model = model_of(event)
        pin = map_pin(self.directory, argument(event))
        assert pin is not None  # the transition's condition
        model.outputs.append(pin)
        model.no_screen = True


def _remember_region(event: AsyncEventData) -> None:
    model_of(event).view["region"] = argument(event)


def _remember_candidates(event: AsyncEventData) -> None:
    search: PlaceSearch = argument(event)
    model_of(event).view["candidates"] = [m.place.id for m in search.matches]
