"""First contact: a neutral greeting, the language choice (remembered), and the main menu.

The menu's entries are filled in by the survivor journey; until then each one says so plainly.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, ClassVar

from transitions.extensions.asyncio import AsyncEventData as EventData

from bot.flows.base import Event, Flow, FlowModel, Route, argument, model_of
from bot.flows.screens import Button, Screen, t
from bot.i18n import LANGUAGE_NAMES, LANGUAGES, supported_language

NEW, LANGUAGE, MENU = "new", "language", "menu"

# Plain words that mean "hello" or "help" in French, Bambara or English lead to the greeting.
GREETINGS = frozenset(
    {
        "bonjour", "bonsoir", "salut", "aide", "aidez-moi", "au secours", "menu",
        "i ni ce", "i ni sogoma", "i ni wula", "i ni su", "dɛmɛ", "deme", "n dɛmɛ", "n deme",
        "hello", "hi", "help", "start",
    }
)  # fmt: skip

MENU_ENTRIES = ("centre", "numbers", "talk", "about", "exit")


def _normalised(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold().strip()
    return re.sub(r"[\s!.?,;:¡¿]+", " ", text).strip()


def _is_offered(event: EventData) -> bool:
    return argument(event) in LANGUAGES


def _remember_language(event: EventData) -> None:
    model_of(event).language = argument(event)


def _not_ready(event: EventData) -> None:
    model_of(event).notices.append(t("This part is not available yet in this version of Jigiya."))


class StartFlow(Flow):
    name = "start"
    initial = NEW
    machine: ClassVar[Any] = Flow.build_machine(
        states=[NEW, LANGUAGE, MENU],
        transitions=[
            {"trigger": "greet", "source": "*", "dest": LANGUAGE},
            {
                "trigger": "choose_language",
                "source": LANGUAGE,
                "dest": MENU,
                "conditions": [_is_offered],
                "after": [_remember_language],
            },
            {"trigger": "show_menu", "source": MENU, "dest": MENU},
            {"trigger": "open_entry", "source": MENU, "dest": None, "after": [_not_ready]},
        ],
        initial=NEW,
    )

    def route(self, model: FlowModel, event: Event) -> Route | None:
        if model.state == NEW:
            return ("greet", ())  # whatever the first message is, it gets the greeting
        if event.kind == "command":
            return {
                "start": ("greet", ()),
                "language": ("greet", ()),
                "menu": ("show_menu", ()),
            }.get(event.name)
        if event.kind == "button":
            kind, _, value = event.name.partition(":")
            if kind == "lang" and value in LANGUAGES:
                return ("choose_language", (value,))
            if event.name == "menu:language":
                return ("greet", ())
            if kind == "menu" and value in MENU_ENTRIES:
                return ("open_entry", (value,))
            return None
        if event.kind == "text" and _normalised(event.text) in GREETINGS:
            return ("greet", ())
        return None

    def screen(self, model: FlowModel) -> Screen:
        if model.state == MENU:
            return Screen(
                body=(t("What would you like to do?"),),
                buttons=(
                    (Button(t("📍 Nearest centre"), "menu:centre"),),
                    (Button(t("📞 Free numbers"), "menu:numbers"),),
                    (Button(t("💬 Talk to a person"), "menu:talk"),),
                    (Button(t("ℹ️ What happens at a centre"), "menu:about"),),
                    (
                        Button(t("🌐 Language"), "menu:language"),
                        Button(t("🚪 Quick exit"), "menu:exit"),
                    ),
                ),
            )
        offered = model.data.get("suggested")
        return Screen(
            body=(
                t("Hello. Jigiya is a free and private information service."),
                t("Choose your language:"),
            ),
            buttons=tuple(
                (Button(("✓ " if code == offered else "") + LANGUAGE_NAMES[code], f"lang:{code}"),)
                for code in LANGUAGES
            ),
        )

    async def step(self, model: FlowModel, event: Event) -> Screen:
        if event.kind != "button":
            # Keep the suggestion from the person's app for the language screen.
            model.data["suggested"] = supported_language([model.language, event.language_hint])
        return await super().step(model, event)
