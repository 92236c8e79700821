"""Helpers for end-to-end journeys: read the bot's whole answer to one action of a person.

Every answer of the survivor flow ends with a screen: a text with inline buttons, the quick exit
among them. What comes before it in the same answer (lists, contact cards, map pins) is read with
it. The "where are you?" screen is followed by one more message, the one that carries the reply
keyboard with the location button (`location_prompt=True`). Only `next_event` is used, so each
event of the chat is read once, in order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.emulator import ChatEvent, FakeUser

Json = dict[str, Any]

EXIT = "exit"
EMERGENCY = "nav:emergency"


def buttons(message: Json) -> list[tuple[str, str]]:
    """(label, callback_data) of a message's inline keyboard, row by row."""
    markup = message.get("reply_markup") or {}
    return [
        (b["text"], b["callback_data"]) for row in markup.get("inline_keyboard", []) for b in row
    ]


def button_data(message: Json) -> list[str]:
    return [data for _, data in buttons(message)]


def labels(message: Json) -> list[str]:
    return [label for label, _ in buttons(message)]


def is_screen(message: Json) -> bool:
    """A screen of the flow: inline buttons with the quick exit among them."""
    return EXIT in button_data(message)


def first_line(message: Json) -> str:
    return str(message.get("text", "")).split("\n", 1)[0]


@dataclass
class Answer:
    """What the bot did in the chat in answer to one action, in order."""

    events: list[ChatEvent] = field(default_factory=list)

    @property
    def shown(self) -> list[Json]:
        """New and edited messages, in order."""
        return [e.message for e in self.events if e.kind in ("message", "edit") and e.message]

    @property
    def sent(self) -> list[Json]:
        """New messages only, in order."""
        return [e.message for e in self.events if e.kind == "message" and e.message]

    @property
    def edits(self) -> list[Json]:
        return [e.message for e in self.events if e.kind == "edit" and e.message]

    @property
    def screen(self) -> Json:
        """The last screen shown: the buttons the person is left with."""
        screens = [m for m in self.shown if is_screen(m)]
        assert screens, f"no screen in this answer: {self.shown}"
        return screens[-1]

    @property
    def texts(self) -> list[str]:
        """Texts of the new and edited messages, in order."""
        return [m["text"] for m in self.shown if "text" in m]

    @property
    def contacts(self) -> list[Json]:
        return [m["contact"] for m in self.sent if "contact" in m]

    @property
    def venues(self) -> list[Json]:
        return [m["venue"] for m in self.sent if "venue" in m]

    @property
    def keyboards(self) -> list[Json]:
        """Reply keyboards (or their removal) as sent with new messages."""
        return [
            e.reply_markup
            for e in self.events
            if e.kind == "message" and e.reply_markup and "inline_keyboard" not in e.reply_markup
        ]


async def answer(
    person: FakeUser, *, location_prompt: bool = False, timeout: float = 5.0
) -> Answer:
    """Read events up to the screen that ends an answer and, with location_prompt, the message
    with the location keyboard that follows the "where are you?" screen."""
    got = Answer()
    while True:
        event = await person.next_event(timeout)
        got.events.append(event)
        if event.kind in ("message", "edit") and event.message and is_screen(event.message):
            break
    while location_prompt:
        event = await person.next_event(timeout)
        got.events.append(event)
        location_prompt = event.kind != "message"
    return got


async def messages(person: FakeUser, count: int, timeout: float = 5.0) -> Answer:
    """Read an answer that is only new messages and no screen (contact cards, a map pin: the
    message whose button was pressed keeps its own screen): up to the `count`th."""
    got = Answer()
    while len(got.sent) < count:
        got.events.append(await person.next_event(timeout))
    return got


async def start_in(person: FakeUser, language: str = "fr") -> Answer:
    """/start and a language: the answer is the menu."""
    await person.send("/start")
    greeting = await answer(person)
    await person.press(greeting.screen, f"lang:{language}")
    return await answer(person)


async def goodbye(person: FakeUser, timeout: float = 5.0) -> Answer:
    """Read a quick exit: button answer and deletions, up to the one line it ends with."""
    got = Answer()
    while True:
        event = await person.next_event(timeout)
        got.events.append(event)
        if event.kind == "message":
            return got


def deleted_ids(events: list[ChatEvent]) -> set[int]:
    return {i for e in events if e.kind == "delete" for i in e.message_ids}
