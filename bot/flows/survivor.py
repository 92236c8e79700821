"""The survivor journey: a neutral greeting and the language, then the menu: the nearest centre
(from a shared location, a region and town picked from buttons, or a typed place), the free
numbers, what happens at a centre, talking to a person (after consent), and the danger screen one
tap away on every screen, or one help word away from any state, with a short safety plan behind
it. Its words follow a GBV specialist's review (issue 17); what a Malian partner must still
confirm is listed in content/README.md.

Locations and typed text serve the one answer they are given for: they pass through as trigger
arguments and are never put in the model's data, which is what gets stored.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Protocol

from transitions.extensions.asyncio import AsyncEventData

from bot.config import Settings
from bot.content import Directory, Number, Place
from bot.flows import place, referral
from bot.flows.base import Event, Flow, FlowModel, Route, argument, model_of, normalised
from bot.flows.place import WHERE, PlacePicker
from bot.flows.referral import BEING_CHECKED, FREE_NUMBERS, card, number_details, number_line
from bot.flows.screens import Button, Handover, Localized, Msg, Output, Screen, Text, Voice, t, tn
from bot.hotline.hours import Hours
from bot.i18n import supported_language
from bot.indicators import allowed, tally
from bot.languages import CODES, NATIVE_NAMES, OFFERED

NEW, LANGUAGE, MENU, CONSENT, HANDOVER = "new", "language", "menu", "consent", "handover"

# How a place was given, by the trigger that showed the nearest centres: an indicator's value.
_PLACE_GIVEN = {"located": "location", "choose_place": "buttons", "search_place": "typed"}

Rows = tuple[tuple[Button, ...], ...]

# Plain words that mean "hello" or "help" (with the bot) in French, Bambara or English lead to
# the greeting; words that call for help in danger are HELP_WORDS.
GREETINGS = frozenset(
    {
        "bonjour", "bonsoir", "salut", "aide", "menu",
        "i ni ce", "i ni sogoma", "i ni wula", "i ni su", "dɛmɛ", "deme",
        "hello", "hi", "help", "start",
    }
)  # fmt: skip
# Sent alone, these words leave at once: French, English, and Bambara "bɔ" (go out).
EXIT_WORDS = frozenset({"exit", "quitter", "sortir", "bɔ", "bo"})
EXIT_COMMANDS = frozenset({"exit", "quitter", "sortir"})
EXIT_DATA = "exit"
# Sent alone, these words open the danger screen from any state, as the exit words leave (issue
# 17, point 4): French, Bambara ("n dɛmɛ": help me, "an dɛmɛ": help us; to be confirmed by a
# native speaker, see content/README.md) and English. They are compared folded (`_folded`), and
# the longer ones with one typo allowed.
HELP_WORDS = (
    "au secours", "o secours", "aidez-moi", "aide-moi", "aidé moi", "sos", "urgence", "urgent",
    "n dɛmɛ", "an dɛmɛ", "help me", "emergency",
)  # fmt: skip
_POLITE = ("silvousplait", "silteplait", "svp", "stp", "please")  # may follow a help word
_TYPO_FROM = 6  # folded help words this long or longer match with one letter wrong

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

# A safe place is never only the police: a police post is not safe when the perpetrator is in
# the security forces (issue 17, point 5; WHO 2007 ethical and safety recommendations).
GO_TO_SAFETY = t(
    "If you are in danger now, go to a safe place: a person you trust, a health centre (CSRef), "
    "or the police or gendarmerie if you feel safe there."
)
IF_NOBODY_ANSWERS = t(
    "If nobody answers, go to a safe place: a person you trust, a health centre (CSRef), or the "
    "police or gendarmerie if you feel safe there."
)
# What "not an emergency service" means, without contradicting "someone is reading now".
NOT_AN_EMERGENCY_SERVICE = t(
    "Jigiya is not an emergency service: it cannot send help to your home."
)
DANGER = Button(t("🆘 I am in danger now"), "nav:emergency")
MENU_BUTTON = Button(t("☰ Menu"), "nav:menu")
EXIT = Button(t("🚪 Quick exit"), EXIT_DATA)
PLAN = Button(t("🛡️ A plan to stay safer"), "nav:plan")
CARDS = Button(t("📲 The numbers as cards to tap and call"), "nav:cards")
NAV_ROWS: Rows = ((DANGER,), (MENU_BUTTON, EXIT))
# The menu's buttons, under the menu and under every answer shown from it (the nearest centres,
# the numbers, the danger screen...): whatever she reads, every choice is one tap away.
MENU_ROWS: Rows = (
    (DANGER,),
    (Button(t("📍 Nearest centre"), "nav:centre"),),
    (Button(t("📞 Free numbers"), "nav:numbers"),),
    (Button(t("💬 Talk to a person"), "nav:talk"),),
    (Button(t("ℹ️ What happens at a centre"), "nav:about"),),
    (Button(t("🌐 Language"), "nav:language"), EXIT),
)

# What the quick exit does and does not do (issue 17, point 2): Telegram lets a bot delete
# messages of the last 48 hours only, and the chat stays in her list of chats.
QUICK_EXIT_TRUTH = t(
    "🚪 The quick exit deletes the messages of this chat from the last two days (Telegram "
    "allows no more) and the bot forgets you. The chat stays in your list of chats: to delete "
    "it, press and hold “Jigiya”, then choose Delete."
)
# How to keep replies off the lock screen (issue 17, point 3). Telegram's own settings: the
# names of the menus may differ a little between phones.
HIDE_PREVIEWS = t(
    "Messages may show on your lock screen. To hide what they say: in Telegram, open Settings, "
    "then Notifications and Sounds, and turn off message previews."
)


SHARED_HEADING = t("📍 Nearest centres to the place you shared:")
# The screens that matter most to someone who does not read: a translator reads each as a voice
# note (bot/flows/translator.py); once approved, the screen gets a "🔊 Listen" button in that
# language. Nothing plays unless she taps it.
VOICE_SCREENS: dict[str, Msg] = {
    "greeting": t("Greeting and language choice"),
    "menu": t("Menu"),
    "danger": t("Emergency numbers"),
    "nearest": t("Nearest centres (the answer's heading)"),
    "about": t("What happens at a centre"),
    "consent": t("Talking to a person: consent"),
    "exit": t("Quick exit explanation"),
}
LISTEN = t("🔊 Listen")
NO_RECORDING = t("There is no voice note of this screen in your language yet.")


class Voices(Protocol):
    """Approved voice notes and the languages offered to survivors (bot/translations.py)."""

    def voice(self, language: str | None, screen: str) -> str | None: ...

    def visible_languages(self) -> tuple[str, ...]: ...


class _NoVoices:
    def voice(self, language: str | None, screen: str) -> str | None:
        return None

    def visible_languages(self) -> tuple[str, ...]:
        return OFFERED


_BAMBARA_LETTERS = str.maketrans({"ɛ": "e", "ɔ": "o", "ɲ": "ny", "ŋ": "ng"})


def _folded(text: str) -> str:
    """Letters only, without accents, with Bambara's ɛ and ɔ as e and o, and no letter twice in
    a row: "Au SECOURS !!", "ausecour" and "o secours" come close to one another."""
    text = normalised(text).translate(_BAMBARA_LETTERS)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if c.isascii() and c.isalpha())
    return _single(text)


def _single(text: str) -> str:
    return re.sub(r"(.)\1+", r"\1", text)


_HELP = frozenset(_folded(word) for word in HELP_WORDS)
# Said twice or three times: "sos sos", "au secours au secours".
_HELP_REPEATED = frozenset(_single(word * n) for word in _HELP for n in (1, 2, 3))


def _one_typo_apart(a: str, b: str) -> bool:
    """One letter changed, added or left out."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) <= 1
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def is_help_word(text: str) -> bool:
    """A call for help sent alone ("au secours", "SOS", "aidez moi svp", "n dɛmɛ", "urgance")."""
    folded = _folded(text)
    for polite in _POLITE:
        if folded.endswith(polite) and len(folded) > len(polite):
            folded = folded[: -len(polite)]
            break
    if folded in _HELP_REPEATED:
        return True
    return any(len(word) >= _TYPO_FROM and _one_typo_apart(folded, word) for word in _HELP)


def wants_quick_exit(event: Event) -> bool:
    """The quick exit works from every state, so it is recognised before any flow runs."""
    if event.kind == "button":
        return event.name == EXIT_DATA
    if event.kind == "command":
        return event.name in EXIT_COMMANDS
    return event.kind == "text" and normalised(event.text) in EXIT_WORDS


def wants_help(event: Event) -> bool:
    """Help words lead to the danger screen from every state (after the quick exit, which is
    recognised first): in the flow, and during a hotline case (bot/private_chat.py)."""
    return event.kind == "text" and not wants_quick_exit(event) and is_help_word(event.text)


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
        voices: Voices | None = None,
        history_days: int = Settings.staff_history_days,
    ) -> None:
        self.directory = directory
        self.history_days = history_days  # how long staff keep a closed case's topic
        self.hours = hours
        self.voices: Voices = voices or _NoVoices()
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
                    "conditions": [lambda e: argument(e) in model_of(e).view["languages"]],
                    "after": [self._remember_language],
                },
                {"trigger": "show_menu", "source": [MENU, *place.STATES, CONSENT, HANDOVER],
                 "dest": MENU},
                {"trigger": "emergency", "source": every_state, "dest": MENU,
                 "after": [self._show_danger]},
                {"trigger": "plan", "source": every_state, "dest": MENU,
                 "after": [self._show_plan]},
                {"trigger": "numbers", "source": every_state, "dest": MENU,
                 "after": [self._show_numbers]},
                # The cards one tap away under the numbers: they alone, wherever she is now.
                {"trigger": "cards", "source": every_state, "dest": None,
                 "conditions": [lambda e: bool(self.directory.numbers)],
                 "after": [self._show_cards]},
                # A voice note she asked for, alone: the screen she pressed it on stays.
                {"trigger": "listen", "source": every_state, "dest": None,
                 "conditions": [self._has_voice], "after": [self._play]},
                {"trigger": "listen", "source": every_state, "dest": None,
                 "after": [lambda e: model_of(e).notices.append(NO_RECORDING)]},
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
        if wants_help(event):
            return ("emergency", ())  # at any moment too: "au secours" is never a place name
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
        if kind == "voice" and value in VOICE_SCREENS:
            return ("listen", (value,))
        if kind == "lang":
            return ("choose_language", (value,))
        if kind == "nav":
            nav = {
                "menu": "show_menu",
                "emergency": "emergency",
                "plan": "plan",
                "numbers": "numbers",
                "cards": "cards",
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
        # Offered languages, and those a translator or administrator previews (from the core).
        shown = {*self.voices.visible_languages(), *model.view.get("preview", ())}
        model.view["languages"] = tuple(code for code in CODES if code in shown)
        return await super().step(model, event)

    # --- voice notes --------------------------------------------------------------------

    def _heard_in(self, model: FlowModel) -> str | None:
        return model.language or model.view.get("suggested")

    def _has_voice(self, event: AsyncEventData) -> bool:
        model = model_of(event)
        return self.voices.voice(self._heard_in(model), argument(event)) is not None

    def _play(self, event: AsyncEventData) -> None:
        model = model_of(event)
        file_id = self.voices.voice(self._heard_in(model), argument(event))
        assert file_id is not None  # the transition's condition
        model.outputs.append(Voice(file_id))
        model.no_screen = True

    def _listen(self, screen: Screen, name: str, language: str | None) -> Screen:
        """The screen with a "🔊 Listen" button when it has a voice note in her language."""
        if language is None or self.voices.voice(language, name) is None:
            return screen
        return replace(screen, buttons=((Button(LISTEN, f"voice:{name}"),), *screen.buttons))

    def voice_screens(self) -> dict[str, Screen]:
        return {name: self.voice_screen(name) for name in VOICE_SCREENS}

    def voice_screen(self, name: str) -> Screen:
        """A screen a translator reads as a voice note, as survivors see it."""
        if name == "greeting":
            model = FlowModel({}, None)
            model.view["languages"] = OFFERED
            return self._language_screen(model)
        if name == "danger":
            screen = self.danger_outputs()[-1]
            assert isinstance(screen, Screen)
            return screen
        screens: dict[str, Callable[[], Screen]] = {
            "menu": self.menu_screen,
            "nearest": lambda: Screen(body=(SHARED_HEADING,)),
            "about": self._about_screen,
            "consent": self._consent_screen if self.hours is not None else self._talk_screen,
            "exit": lambda: Screen(body=(QUICK_EXIT_TRUTH,)),
        }
        return screens[name]()

    def preview_screens(self) -> list[tuple[Text, Screen]]:
        """The survivor screens a translator sees a message on, named, as survivors see them:
        those read as voice notes, then the others (the nearest centres from Bamako, far from
        none, and from Kidal, far from all)."""
        where, regions, handover = FlowModel({}, None), FlowModel({}, None), FlowModel({}, None)
        where.state, regions.state, handover.state = place.WHERE, place.REGIONS, HANDOVER
        return [
            *((VOICE_SCREENS[name], screen) for name, screen in self.voice_screens().items()),
            (t("🛡️ A plan to stay safer"), self._plan_screen()),
            (t("☎️ Free numbers"), self._numbers_screen()),
            (PLACE_WORDS.where[0], self.picker.screen(where)),
            (PLACE_WORDS.regions, self.picker.screen(regions)),
            (t("📍 Nearest centre"), self._nearest(12.6392, -8.0029, None)),
            (t("📍 Nearest centre"), self._nearest(18.4411, 1.4078, None)),
            (t("💬 Talk to a person"), self._talk_screen()),
            (t("💬 Talk to a person"), self.screen(handover)),
        ]

    # --- what each state shows ----------------------------------------------------------

    def menu_screen(self, language: str | None = None) -> Screen:
        """The menu, as every state leads back to it (also shown when a handover is refused)."""
        menu = Screen(body=(t("What would you like to do?"),), buttons=MENU_ROWS)
        return self._listen(menu, "menu", language)

    def screen(self, model: FlowModel) -> Screen:
        if model.state == MENU:
            # Under an answer, the menu's buttons without its own voice note.
            return self.menu_screen(None if model.answer_screen else model.language)
        if model.state in place.STATES:
            return self.picker.screen(model)
        if model.state == CONSENT:
            return self._listen(self._consent_screen(), "consent", model.language)
        if model.state == HANDOVER:
            return Screen(
                body=(t("💬 You are connected to the hotline. Write your message here."),),
                buttons=((Button(t("End the conversation"), "case:end"),), (EXIT,)),
                edit=False,
            )
        return self._listen(self._language_screen(model), "greeting", self._heard_in(model))

    def _consent_screen(self) -> Screen:
        """Consent in plain words before anyone reads her (issue 17, point 1; WHO 2007 ethical
        and safety recommendations, GBV AoR/UNFPA guidance on remote GBV services, 2021): can
        she write safely now, who reads and where, what is kept and until when, the limits of
        confidentiality, what staff cannot do, that she can stop at any time."""
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
        meanwhile: Rows = (
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
                    "First: can you write safely now? If someone could see your screen, come "
                    "back later."
                ),
                t(
                    "Who reads: trained hotline staff, in a group on Telegram. They do not see "
                    "your name, your phone number or your account. They cannot send help to "
                    "your home."
                ),
                tn(
                    "What is kept: your messages are copied into that group and stay there "
                    "until the history of the conversation is deleted, %(days)s day after it "
                    "ends.",
                    "What is kept: your messages are copied into that group and stay there "
                    "until the history of the conversation is deleted, %(days)s days after it "
                    "ends.",
                    self.history_days,
                    days=self.history_days,
                ),
                # TRANSLATORS: wording to be confirmed against the operator's policy and Malian
                # law (content/README.md, "What a Malian partner must confirm").
                t(
                    "What stays between you and the staff: everything, except if a life is in "
                    "danger, or a child under 18 is in danger. Then staff may have to alert a "
                    "protection service, and they will tell you first."
                ),
                t(
                    "Staff replies arrive without sound. %(previews)s",
                    previews=HIDE_PREVIEWS,
                ),
                t(
                    "You can stop at any time: “End the conversation”, or the quick exit, which "
                    "also deletes the messages of the last two days."
                ),
                t(
                    "Hours: %(hours)s (Bamako time).",
                    hours=Localized.of(**{lang: self.hours.describe(lang) for lang in CODES}),
                ),
                when,
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
                    # Set by `step`; a screen shown again after a restart has the offered ones.
                    for code in model.view.get("languages") or self.voices.visible_languages()
                ),
                (DANGER,),
                (EXIT,),
            ),
        )  # fmt: skip

    # --- what some steps add ------------------------------------------------------------

    def danger_outputs(
        self, buttons: Rows = ((PLAN,),), language: str | None = None
    ) -> list[Output]:
        """The danger screen (issue 17, point 5): every number as a card to tap and call, the
        most useful first, sent at once (safety before speed: the one screen that is more than
        one message); then the free numbers with their real status, a safe place, and what
        Jigiya cannot do, with a plan to stay safer one tap away (`buttons`), as a new message
        under the cards. Also shown during a hotline case when she writes a help word."""
        numbers = self._numbers_for_emergency()
        what_to_do = (
            (t("If you are in danger now, call one of these free numbers:"),
             *(number_line(n) for n in numbers),
             IF_NOBODY_ANSWERS)
            if numbers
            # Every number found not working (bot/editing.py): the screen is never empty.
            else (GO_TO_SAFETY,)
        )  # fmt: skip
        screen = Screen(
            body=(t("☎️ Useful numbers"), *what_to_do, NOT_AN_EMERGENCY_SERVICE),
            buttons=buttons,
            edit=False,
            kept=True,
        )
        return [*(card(n) for n in numbers), self._listen(screen, "danger", language)]

    # --- transition callbacks -----------------------------------------------------------

    def _remember_language(self, event: AsyncEventData) -> None:
        model = model_of(event)
        model.language = argument(event)
        if allowed("language", model.language):  # not a translator previewing her language
            model.tallies.append(tally("start", language=model.language))

    def _show_danger(self, event: AsyncEventData) -> None:
        model = model_of(event)
        *cards, screen = self.danger_outputs(language=model.language)
        assert isinstance(screen, Screen)
        model.outputs.extend(cards)
        model.answer_screen = screen
        model.tallies.append(tally("screen", screen="emergency"))

    def _show_plan(self, event: AsyncEventData) -> None:
        """A short safety plan (issue 17, point 5; safety planning in the GBV AoR/UNFPA
        guidance on remote GBV services, 2021, and the IASC GBV guidelines), and how to keep
        this chat from being seen. The papers named are to be confirmed for Mali."""
        model = model_of(event)
        model.tallies.append(tally("screen", screen="plan"))
        model.answer_screen = self._listen(self._plan_screen(), "exit", model.language)

    def _plan_screen(self) -> Screen:
        return Screen(
            body=(
                t("🛡️ A plan to stay safer"),
                t(
                    "• Choose a person you trust, whom you can go to or call at any hour.\n"
                    "• Agree with that person on a code word that means “come” or “call "
                    "for help”.\n"
                    "• Keep your phone charged, with some credit if you can.\n"
                    "• Keep your important papers (identity card, birth certificates, "
                    "health booklet) and a little money together, or with that person.\n"
                    "• Think of where you could go quickly: that person's home, a health "
                    "centre, or the police or gendarmerie if you feel safe there."
                ),
                HIDE_PREVIEWS,
                QUICK_EXIT_TRUTH,
            ),
            kept=True,
        )

    def _show_numbers(self, event: AsyncEventData) -> None:
        """One message: the numbers, what each is for and how fresh it is; their cards to tap
        and call one tap away (`CARDS`), not sent unasked."""
        model_of(event).tallies.append(tally("screen", screen="numbers"))
        model_of(event).answer_screen = self._numbers_screen()

    def _numbers_screen(self) -> Screen:
        numbers = self.directory.numbers
        return Screen(
            body=(
                t("☎️ Free numbers"),
                *(number_details(n) for n in numbers),
                BEING_CHECKED if numbers else GO_TO_SAFETY,
            ),
            buttons=((CARDS,),) if numbers else (),
            kept=True,
        )

    def _show_cards(self, event: AsyncEventData) -> None:
        model = model_of(event)
        model.outputs.extend(card(n) for n in self.directory.numbers)
        model.no_screen = True

    def _show_about(self, event: AsyncEventData) -> None:
        """What a centre offers, without promising what a centre may not deliver (issue 17,
        point 6): care in principle free, the right to care without a complaint, the medical
        delays of WHO's clinical management of rape (HIV prevention within 72 hours, emergency
        contraception up to 120 hours), and that it is not her fault."""
        model = model_of(event)
        model.tallies.append(tally("screen", screen="about"))
        model.answer_screen = self._listen(self._about_screen(), "about", model.language)

    def _about_screen(self) -> Screen:
        return Screen(
            body=(
                t("ℹ️ At a One Stop Center"),
                t("What happened to you is not your fault."),
                t(
                    "In one place, the centres offer medical care, someone to listen to you "
                    "and support you, legal help and protection."
                ),
                t("In principle, care there is free: ask first, to be sure."),
                t("You decide what you want to do, including whether to file a complaint."),
                t(
                    "After rape, go quickly, if possible within 3 days: medicines can "
                    "prevent HIV and pregnancy (pregnancy up to 5 days). Even later, go."
                ),
                t("You have the right to receive care without filing a complaint."),
            ),
            kept=True,
        )

    def _show_talk(self, event: AsyncEventData) -> None:
        model_of(event).answer_screen = self._talk_screen()

    def _talk_screen(self) -> Screen:
        return Screen(
            body=(
                t("💬 Talking to a person"),
                t(
                    "Writing to hotline staff is not available in this service yet. "
                    "You can call these free numbers:"
                ),
                *(number_line(n) for n in self._numbers_for_emergency()),
            ),
            kept=True,
        )

    def _show_nearest(self, event: AsyncEventData) -> None:
        """After a shared location, a town picked, or a place typed (see `referral.origin`)."""
        latitude, longitude, picked = referral.origin(event)
        model = model_of(event)
        model.tallies.append(tally("place_given", method=_PLACE_GIVEN[event.event.name]))
        first = referral.suggested(self.directory, latitude, longitude)[:1]
        region = first[0][0].region if first else "none"
        model.tallies.append(
            tally("first_centre", region=region if allowed("region", region) else "none")
        )
        nearest = self._nearest(latitude, longitude, picked)
        model.answer_screen = self._listen(nearest, "nearest", model.language)

    def _nearest(self, latitude: float, longitude: float, town: Place | None) -> Screen:
        return referral.nearest_screen(
            self.directory,
            latitude,
            longitude,
            town,
            shared=SHARED_HEADING,
            entry=referral.centre_entry,
            map_prefix="",
            none_listed=t("No centre is listed yet."),
            far_note=(
                t("The nearest centre is far from you."),
                t(
                    "You can also go to the nearest health centre (CSRef) or hospital. "
                    "After rape, go quickly, if possible within 3 days; even later, go. You "
                    "have the right to receive care without filing a complaint."
                ),
                FREE_NUMBERS,
                *(number_line(n) for n in self._numbers_for_emergency()),
            ),
        )

    # --- building blocks ----------------------------------------------------------------

    def _numbers_for_emergency(self) -> list[Number]:
        order = {"police": 0, "gendarmerie": 1, "gbv": 2}
        return sorted(self.directory.numbers, key=lambda n: order.get(n.kind, 3))
