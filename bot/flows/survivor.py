"""The survivor journey: a neutral greeting and the language, then the menu: the nearest centre
(from a shared location, a region and town picked from buttons, or a typed place), the free
numbers, what happens at a centre, and the emergency numbers one tap away on every screen.

Locations and typed text serve the one answer they are given for: they pass through as trigger
arguments and are never put in the model's data, which is what gets stored.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from transitions.extensions.asyncio import AsyncEventData

from bot.content import Directory, Number
from bot.flows import place, referral
from bot.flows.base import Event, Flow, FlowModel, Route, argument, model_of, normalised
from bot.flows.place import WHERE, PlacePicker
from bot.flows.referral import BEING_CHECKED, FREE_NUMBERS, card, number_details, number_line
from bot.flows.screens import Button, Handover, Localized, Output, Screen, t
from bot.hotline.hours import Hours
from bot.i18n import supported_language
from bot.languages import CODES, NATIVE_NAMES

NEW, LANGUAGE, MENU, CONSENT, HANDOVER = "new", "language", "menu", "consent", "handover"

# Plain words that mean "hello" or "help" in French, Bambara or English lead to the greeting.
GREETINGS = frozenset(
    {
        "bonjour", "bonsoir", "salut", "aide", "aidez-moi", "au secours", "menu",
        "i ni ce", "i ni sogoma", "i ni wula", "i ni su", "dɛmɛ", "deme", "n dɛmɛ", "n deme",
        "hello", "hi", "help", "start",
    }
)  # fmt: skip
# Sent alone, these words leave at once: French, English, and Bambara "bɔ" (go out).
EXIT_WORDS = frozenset({"exit", "quitter", "sortir", "bɔ", "bo"})
EXIT_COMMANDS = frozenset({"exit", "quitter", "sortir"})
EXIT_DATA = "exit"

GO_IN_PERSON = t(
    "If you are in danger now, go to the nearest police station, gendarmerie brigade or health "
    "centre (CSRef)."
)
DANGER = Button(t("🆘 I am in danger now"), "nav:emergency")
MENU_BUTTON = Button(t("☰ Menu"), "nav:menu")
EXIT = Button(t("🚪 Quick exit"), EXIT_DATA)
NAV_ROWS: tuple[tuple[Button, ...], ...] = ((DANGER,), (MENU_BUTTON, EXIT))

PLACE_WORDS = place.Words(
    where=(
        t("Where are you?"),
        t(
            "Share your location with the button at the bottom of the screen, "
            "choose your region, or type the name of your town or village."
        ),
    ),
    choose_region=t("🗺️ Choose my region"),
    regions=t("Choose your region:"),
    towns=lambda region: t("Choose your town or the nearest one (%(region)s):", region=region),
    not_found=t("I could not find that place. Check the spelling, or choose your region."),
)


def wants_quick_exit(event: Event) -> bool:
    """The quick exit works from every state, so it is recognised before any flow runs."""
    if event.kind == "button":
        return event.name == EXIT_DATA
    if event.kind == "command":
        return event.name in EXIT_COMMANDS
    return event.kind == "text" and normalised(event.text) in EXIT_WORDS


class SurvivorFlow(Flow):
    """`hours` are the hotline's working hours, or None when no hotline is configured: then
    "talk to a person" explains that it is not available and gives the numbers."""

    name = "survivor"
    initial = NEW

    def __init__(
        self,
        directory: Directory,
        hours: Hours | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.directory = directory
        self.hours = hours
        self._clock = clock
        self.picker = PlacePicker(
            directory, PLACE_WORDS, prefix="", regions_data="nav:regions", footer=NAV_ROWS
        )
        every_state = "*"
        self.machine = self.build_machine(
            states=[NEW, LANGUAGE, MENU, *place.STATES, CONSENT, HANDOVER],
            transitions=[
                {"trigger": "greet", "source": every_state, "dest": LANGUAGE},
                {
                    "trigger": "choose_language",
                    "source": LANGUAGE,
                    "dest": MENU,
                    "conditions": [lambda e: argument(e) in CODES],
                    "after": [self._remember_language],
                },
                {"trigger": "show_menu", "source": [MENU, *place.STATES, CONSENT, HANDOVER],
                 "dest": MENU},
                {"trigger": "emergency", "source": every_state, "dest": MENU,
                 "after": [self._show_emergency]},
                {"trigger": "numbers", "source": every_state, "dest": MENU,
                 "after": [self._show_numbers]},
                {"trigger": "about", "source": every_state, "dest": MENU,
                 "after": [self._show_about]},
                {"trigger": "talk", "source": every_state, "dest": CONSENT,
                 "conditions": [lambda e: self.hours is not None]},
                {"trigger": "talk", "source": every_state, "dest": MENU,
                 "after": [self._show_talk]},
                {"trigger": "agree", "source": CONSENT, "dest": HANDOVER,
                 "after": [lambda e: model_of(e).outputs.append(Handover())]},
                {"trigger": "find_centre", "source": every_state, "dest": WHERE},
                {"trigger": "located", "source": every_state, "dest": MENU,
                 "after": [self._show_nearest]},
                *self.picker.transitions(
                    done=MENU, nearest=self._show_nearest, picked_from=place.STATES
                ),
            ],
            initial=NEW,
        )  # fmt: skip

    # --- events to triggers -------------------------------------------------------------

    def route(self, model: FlowModel, event: Event) -> Route | None:
        if event.kind == "location" and event.location is not None:
            return ("located", event.location)  # at any moment, even as a first message
        if model.state == NEW:
            return ("greet", ())
        if model.state == HANDOVER and event.kind in ("text", "other"):
            # Her case has closed (or could not open): what she writes next gets the menu.
            return ("show_menu", ())
        if event.kind == "command":
            return {
                "start": ("greet", ()),
                "language": ("greet", ()),
                "help": ("greet", ()),
                "menu": ("show_menu", ()),
            }.get(event.name)
        if event.kind == "button":
            return self._route_button(event.name)
        if event.kind == "text":
            if normalised(event.text) in GREETINGS:
                return ("greet", ())
            if model.state in place.STATES:
                return self.picker.search(event.text)
        return None

    def _route_button(self, data: str) -> Route | None:
        kind, _, value = data.partition(":")
        if kind == "lang":
            return ("choose_language", (value,))
        if kind == "nav":
            nav = {
                "menu": "show_menu",
                "emergency": "emergency",
                "numbers": "numbers",
                "about": "about",
                "talk": "talk",
                "centre": "find_centre",
                "regions": "list_regions",
                "language": "greet",
            }
            return (nav[value], ()) if value in nav else None
        if data == "talk:agree":
            return ("agree", ())
        if data == "case:end":  # her case is already closed: back to the menu
            return ("show_menu", ())
        return self.picker.route_button(kind, value)

    async def step(self, model: FlowModel, event: Event) -> list[Output]:
        # The language chosen, else the one the person's app reports: ticked on the language screen.
        model.view["suggested"] = supported_language([model.language, event.language_hint])
        return await super().step(model, event)

    # --- what each state shows ----------------------------------------------------------

    def menu_screen(self) -> Screen:
        """The menu, as every state leads back to it (also shown when a handover is refused)."""
        return Screen(
            body=(t("What would you like to do?"),),
            buttons=(
                (DANGER,),
                (Button(t("📍 Nearest centre"), "nav:centre"),),
                (Button(t("📞 Free numbers"), "nav:numbers"),),
                (Button(t("💬 Talk to a person"), "nav:talk"),),
                (Button(t("ℹ️ What happens at a centre"), "nav:about"),),
                (Button(t("🌐 Language"), "nav:language"), EXIT),
            ),
        )

    def screen(self, model: FlowModel) -> Screen:
        if model.state == MENU:
            return self.menu_screen()
        if model.state in place.STATES:
            return self.picker.screen(model)
        if model.state == CONSENT:
            return self._consent_screen()
        if model.state == HANDOVER:
            return Screen(
                body=(t("💬 You are connected to the hotline. Write your message here."),),
                buttons=((Button(t("End the conversation"), "case:end"),), (EXIT,)),
                edit=False,
            )
        return self._language_screen(model)

    def _consent_screen(self) -> Screen:
        assert self.hours is not None
        now = self._clock()
        open_now = self.hours.is_open(now)
        when = (
            t("Someone is reading now.")
            if open_now
            else t(
                "Nobody is reading right now: someone will read from %(opening)s (Bamako time). "
                "You can leave a message anyway.",
                opening=self.hours.next_opening(now).strftime("%d/%m %H:%M"),
            )
        )
        meanwhile: tuple[tuple[Button, ...], ...] = (
            ()
            if open_now
            else (
                (Button(t("📞 Free numbers"), "nav:numbers"),
                 Button(t("📍 Nearest centre"), "nav:centre")),
            )
        )  # fmt: skip
        return Screen(
            body=(
                t("💬 Talking to a person"),
                t(
                    "Trained hotline staff will read what you write here and answer you. They "
                    "do not see your name, your phone number or your account."
                ),
                t(
                    "Your messages are copied into the staff's group, and deleted from it some "
                    "time after the conversation ends. The bot itself keeps none of them."
                ),
                t(
                    "Hours: %(hours)s (Bamako time).",
                    hours=Localized.of(**{lang: self.hours.describe(lang) for lang in CODES}),
                ),
                when,
                t("The quick exit works at any time."),
            ),
            buttons=(
                (Button(t("✅ I agree, connect me"), "talk:agree"),),
                *meanwhile,
                (Button(t("↩️ Back"), "nav:menu"),),
                *NAV_ROWS,
            ),
        )

    def _language_screen(self, model: FlowModel) -> Screen:
        suggested = model.view.get("suggested")
        return Screen(
            body=(
                t("Hello. Jigiya is a free and private information service."),
                t("Choose your language:"),
            ),
            buttons=(
                *(
                    (Button(("✓ " if code == suggested else "") + NATIVE_NAMES[code],
                            f"lang:{code}"),)
                    for code in CODES
                ),
                (DANGER,),
                (EXIT,),
            ),
        )  # fmt: skip

    # --- transition callbacks -----------------------------------------------------------

    def _remember_language(self, event: AsyncEventData) -> None:
        model_of(event).language = argument(event)

    def _show_emergency(self, event: AsyncEventData) -> None:
        numbers = self._numbers_for_emergency()
        what_to_do = (
            (t("If you are in danger now, call one of these free numbers:"),
             *(number_line(n) for n in numbers),
             t("If nobody answers, go to the nearest police station, gendarmerie brigade or "
               "health centre (CSRef)."))
            if numbers
            # Every number found not working (bot/editing.py): the screen is never empty.
            else (GO_IN_PERSON,)
        )  # fmt: skip
        model_of(event).outputs.extend(
            [
                Screen(
                    body=(
                        t("☎️ Useful numbers"),
                        *what_to_do,
                        t("Jigiya is not an emergency service: nobody reads these messages "
                          "straight away."),
                    ),
                    edit=False,
                ),
                *(card(n) for n in numbers),
            ]
        )  # fmt: skip

    def _show_numbers(self, event: AsyncEventData) -> None:
        numbers = self.directory.numbers
        model_of(event).outputs.extend(
            [
                Screen(
                    body=(
                        t("☎️ Free numbers"),
                        *(number_details(n) for n in numbers),
                        BEING_CHECKED if numbers else GO_IN_PERSON,
                    ),
                    edit=False,
                ),
                *(card(n) for n in numbers),
            ]
        )

    def _show_about(self, event: AsyncEventData) -> None:
        model_of(event).outputs.append(
            Screen(
                body=(
                    t("ℹ️ At a One Stop Center"),
                    t(
                        "Care is free and confidential. In one place you can get medical care, "
                        "someone to listen and support you, legal help and protection."
                    ),
                    t("You decide what you want to do, including whether to file a complaint."),
                    t(
                        "After rape, medical care is urgent: treatment to prevent HIV must start "
                        "within 72 hours (3 days), and emergency contraception works up to "
                        "120 hours (5 days)."
                    ),
                    t("You never need a police complaint to receive medical care."),
                ),
                edit=False,
            )
        )

    def _show_talk(self, event: AsyncEventData) -> None:
        model_of(event).outputs.append(
            Screen(
                body=(
                    t("💬 Talking to a person"),
                    t(
                        "Writing to hotline staff is not available in this service yet. "
                        "You can call these free numbers:"
                    ),
                    *(number_line(n) for n in self._numbers_for_emergency()),
                ),
                edit=False,
            )
        )

    def _show_nearest(self, event: AsyncEventData) -> None:
        """After a shared location, a town picked, or a place typed (see `referral.origin`)."""
        model_of(event).outputs.extend(
            referral.nearest_outputs(
                self.directory,
                *referral.origin(event),
                shared=t("📍 Nearest centres to the place you shared:"),
                entry=referral.centre_entry,
                none_listed=t("No centre is listed yet."),
                far_message=(
                    t("The nearest centre is far from you."),
                    t(
                        "You can also go to the nearest health centre (CSRef) or hospital. "
                        "After rape, go within 72 hours: care is urgent, and it does not "
                        "need a police complaint."
                    ),
                    FREE_NUMBERS,
                    *(number_line(n) for n in self._numbers_for_emergency()),
                ),
            )
        )

    # --- building blocks ----------------------------------------------------------------

    def _numbers_for_emergency(self) -> list[Number]:
        order = {"police": 0, "gendarmerie": 1, "gbv": 2}
        return sorted(self.directory.numbers, key=lambda n: order.get(n.kind, 3))
