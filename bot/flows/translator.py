"""Translators' flow: translate the bot's words one message at a time (/translate) and read the
survivor screens that matter most as voice notes (/record), for a second person to approve
through /review (`TranslationReview`).

The flow never writes: a translation that passes the checks becomes a `Proposal` output that the
core writes with who proposed it. The languages the member may work in come from the core in
the model's view, never from button data. Events not for the translator's tools leave the step
with no output, as in the editor's flow.
"""

from __future__ import annotations

import json
from typing import Any

from transitions.extensions.asyncio import AsyncEventData

from bot.flows.base import Event, Flow, FlowModel, Route, argument, model_of
from bot.flows.review import Waiting
from bot.flows.screens import Button, Output, Proposal, Screen, Text, Voice, t
from bot.flows.survivor import VOICE_SCREENS, SurvivorFlow
from bot.languages import NATIVE_NAMES
from bot.translations import (
    MAX_VOICE_SECONDS,
    Source,
    Translations,
    fault,
    msgids_of,
    nplurals,
    preview,
)
from state.translation_log import TranslationEntry

PREFIX = "tr:"  # every translator button; the channel checks the role before any of them
COMMANDS = frozenset({"translate", "record"})
IDLE, PICK, TEXT, SAME, VOICE = "idle", "pick", "text", "same", "voice"
HAND_BACK: Route = ("hand_back", ())

SKIP = Button(t("⏭ Skip"), "tr:skip")
BACK = Button(t("↩️ Back"), "tr:back")
EXPECT_TEXT = t(
    "Please send the translation as a text message (not a voice note, file or sticker)."
)
EXPECT_VOICE = t(
    "Please answer with a voice note: hold the microphone button in Telegram while you read "
    "(not a text, an audio file or a sticker)."
)
TOO_LONG = t("This voice note is longer than 60 seconds. Please record it again, shorter.")
AUDIENCE_NAMES = {
    "survivor": t("survivor screens"),
    "officer": t("officer screens"),
    "staff": t("staff and members' screens"),
}


class TranslatorFlow(Flow):
    name = "translator"
    initial = IDLE

    def __init__(self, translations: Translations, survivor: SurvivorFlow) -> None:
        self.translations = translations
        self.survivor = survivor
        # The survivor screens, named, with the msgids each shows: made at the first need.
        self._previews: list[tuple[Text, frozenset[str], Screen]] | None = None
        anywhere = [IDLE, PICK, TEXT, SAME, VOICE]
        self.machine = self.build_machine(
            states=anywhere,
            transitions=[
                {"trigger": "start", "source": anywhere, "dest": TEXT, "after": self._start,
                 "conditions": [self._one_language, self._translating]},
                {"trigger": "start", "source": anywhere, "dest": VOICE, "after": self._start,
                 "conditions": self._one_language},
                {"trigger": "start", "source": anywhere, "dest": PICK, "after": self._start},
                {"trigger": "pick", "source": PICK, "dest": TEXT, "after": self._pick,
                 "conditions": self._translating},
                {"trigger": "pick", "source": PICK, "dest": VOICE, "after": self._pick},
                {"trigger": "typed", "source": TEXT, "dest": SAME, "conditions": self._as_french,
                 "after": self._hold},
                {"trigger": "typed", "source": TEXT, "dest": TEXT, "after": self._typed},
                {"trigger": "keep", "source": SAME, "dest": TEXT, "after": self._keep},
                {"trigger": "again", "source": SAME, "dest": TEXT, "after": self._again},
                {"trigger": "voiced", "source": VOICE, "dest": VOICE, "after": self._voiced},
                {"trigger": "expect", "source": [TEXT, VOICE], "dest": None,
                 "after": self._expect},
                {"trigger": "skip", "source": [TEXT, VOICE], "dest": None, "after": self._skip},
                {"trigger": "back", "source": [TEXT, VOICE], "dest": None, "after": self._back},
                {"trigger": "hand_back", "source": anywhere, "dest": IDLE},
            ],
            initial=IDLE,
        )  # fmt: skip

    # --- routing ------------------------------------------------------------------------------

    def route(self, model: FlowModel, event: Event) -> Route | None:
        if event.kind == "command":
            return ("start", (event.name,)) if event.name in COMMANDS else HAND_BACK
        if event.kind == "button":
            return self._route_button(model, event.name)
        if model.state in (IDLE, PICK):
            return HAND_BACK if model.state == IDLE else None
        if model.state == SAME:
            return None  # "please use the buttons", and the question again
        if model.state == TEXT and event.kind == "text":
            return ("typed", (event.text,))
        if model.state == VOICE and event.voice is not None:
            return ("voiced", event.voice)
        return ("expect", ())

    def _route_button(self, model: FlowModel, data: str) -> Route | None:
        plain = {"tr:skip": "skip", "tr:back": "back", "tr:keep": "keep", "tr:again": "again"}
        if data in plain:
            return (plain[data], ())
        if data.startswith("tr:lang:") and data[8:] in model.view.get("languages", ()):
            return ("pick", (data[8:],))
        return None

    async def step(self, model: FlowModel, event: Event) -> list[Output]:
        if self.route(model, event) != HAND_BACK:
            return await super().step(model, event)
        if model.state != IDLE:
            await model.trigger(HAND_BACK[0])
        return []

    # --- conditions ---------------------------------------------------------------------------

    def _translating(self, event: AsyncEventData) -> bool:
        """/translate rather than /record (at start, the command; later, the mode kept)."""
        mode = model_of(event).data.get("mode") if event.event.name == "pick" else argument(event)
        return bool(mode == "translate")

    def _one_language(self, event: AsyncEventData) -> bool:
        return len(model_of(event).view.get("languages", ())) == 1

    def _as_french(self, event: AsyncEventData) -> bool:
        """A translation identical to the French is questioned, once checked."""
        model = model_of(event)
        source = self._source(model)
        text = str(argument(event)).strip()
        form = len(model.data.get("forms", []))
        return (
            source is not None
            and fault(source, form, text) is None
            and text == self.translations.french(source, form).strip()
        )

    # --- acts ---------------------------------------------------------------------------------

    def _start(self, event: AsyncEventData) -> None:
        model = model_of(event)
        model.data = {"mode": argument(event)}
        languages = model.view.get("languages", ())
        if len(languages) == 1:  # a translator of one language: straight to work
            self._choose(model, languages[0])

    def _pick(self, event: AsyncEventData) -> None:
        self._choose(model_of(event), argument(event))

    def _choose(self, model: FlowModel, language: str) -> None:
        model.data["language"] = language
        self._advance(model)

    def _typed(self, event: AsyncEventData) -> None:
        model = model_of(event)
        source = self._source(model)
        if source is None:
            return
        text = str(argument(event)).strip()
        forms: list[str] = model.data.setdefault("forms", [])
        problem = fault(source, len(forms), text)
        if problem is not None:
            model.notices.append(problem)
            return
        self._take(model, source, text)

    def _hold(self, event: AsyncEventData) -> None:
        model_of(event).data["typed"] = str(argument(event)).strip()

    def _keep(self, event: AsyncEventData) -> None:
        model = model_of(event)
        source = self._source(model)
        text = model.data.pop("typed", "")
        if source is not None:
            self._take(model, source, text)

    def _again(self, event: AsyncEventData) -> None:
        model_of(event).data.pop("typed", None)

    def _take(self, model: FlowModel, source: Source, text: str) -> None:
        """One form more; with every form of the language, the proposal."""
        forms: list[str] = model.data.setdefault("forms", [])
        forms.append(text)
        language = model.data["language"]
        if source.plural is not None and len(forms) < nplurals(language):
            return
        content = json.dumps(forms, ensure_ascii=False)
        done = t("Thank you: your translation waits for a second person (/review).")
        model.outputs.append(Proposal("text", language, source.msgid, content, done))
        self._advance(model)

    def _voiced(self, event: AsyncEventData) -> None:
        model = model_of(event)
        file_id, seconds = event.args
        if seconds > MAX_VOICE_SECONDS:
            model.notices.append(TOO_LONG)
            return
        screen = model.data.get("item")
        if screen is not None:
            done = t("Thank you: your voice note waits for a second person to listen (/review).")
            proposal = Proposal(
                "voice", model.data["language"], screen, file_id, done, duration=seconds
            )
            model.outputs.append(proposal)
        self._advance(model)

    def _expect(self, event: AsyncEventData) -> None:
        model = model_of(event)
        model.notices.append(EXPECT_TEXT if model.state == TEXT else EXPECT_VOICE)

    def _skip(self, event: AsyncEventData) -> None:
        self._advance(model_of(event))

    def _back(self, event: AsyncEventData) -> None:
        """Back to the message shown before this one (its skip is undone)."""
        model = model_of(event)
        history: list[str] = model.data.setdefault("history", [])
        model.data["forms"] = []
        if history:
            previous = history.pop()
            skipped: list[str] = model.data.setdefault("skipped", [])
            if previous in skipped:
                skipped.remove(previous)
            model.data["item"] = previous

    def _advance(self, model: FlowModel) -> None:
        """On to the next message (or screen) of the language; the one shown is passed."""
        language = model.data["language"]
        skipped: list[str] = model.data.setdefault("skipped", [])
        if (shown := model.data.get("item")) is not None:
            skipped.append(shown)
            model.data.setdefault("history", []).append(shown)
        model.data["forms"] = []
        if model.data["mode"] == "translate":
            queue = [s.msgid for s in self.translations.queue(language, skipped)]
        else:
            done = self.translations.recorded(language) | self.translations.waiting(
                language, "voice"
            )
            queue = [name for name in VOICE_SCREENS if name not in done and name not in skipped]
        model.data["item"] = queue[0] if queue else None

    def _source(self, model: FlowModel) -> Source | None:
        item = model.data.get("item")
        return None if item is None else self.translations.source(item)

    # --- screens ------------------------------------------------------------------------------

    def screen(self, model: FlowModel) -> Screen:
        if model.state == PICK:
            return self._pick_screen(model)
        language = model.data.get("language", "")
        coverage = self.translations.coverage(language).line() if language else ""
        if model.state == VOICE:
            return self._voice_screen(model, language, coverage)
        source = self._source(model)
        if source is None:
            done = t("✅ Nothing left to translate into %(language)s for now. Thank you.",
                     language=NATIVE_NAMES.get(language, language))  # fmt: skip
            return Screen(body=(coverage, done), edit=False)
        if model.state == SAME:
            return Screen(
                body=(t("Keep it identical to the French?"), model.data.get("typed", "")),
                buttons=((Button(t("✅ Yes, keep it"), "tr:keep"),),
                         (Button(t("✏️ No, write it again"), "tr:again"),)),
                edit=False,
            )  # fmt: skip
        return Screen(body=self._text_body(model, source, language, coverage),
                      buttons=((SKIP, BACK),), edit=False)  # fmt: skip

    def _text_body(
        self, model: FlowModel, source: Source, language: str, coverage: Text
    ) -> tuple[Text, ...]:
        form = len(model.data.get("forms", []))
        english = source.plural if form > 0 and source.plural else source.msgid
        body: list[Text] = [coverage]
        if source.plural is not None:
            body.append(t("Plural: form %(form)s of %(total)s.", form=form + 1,
                          total=nplurals(language)))  # fmt: skip
        body += [
            t("English: %(text)s", text=english),
            t("French: %(text)s", text=self.translations.french(source, form)),
        ]
        if (found := self._screen_of(source.msgid)) is not None:
            name, screen = found
            body.append(t("On the screen “%(screen)s”, as survivors reading %(language)s see "
                          "it now:", screen=name, language=NATIVE_NAMES[language]))  # fmt: skip
            body.append(preview(self.translations.catalogs, language, screen))
        else:
            body.append(t("Where: %(audience)s (%(file)s).",
                          audience=AUDIENCE_NAMES[source.audience], file=source.where))  # fmt: skip
        if source.button:
            body.append(t("A button label: 40 characters at most."))
        body.append(t("Send the translation into %(language)s as a message.",
                      language=NATIVE_NAMES[language]))  # fmt: skip
        return tuple(body)

    def _voice_screen(self, model: FlowModel, language: str, coverage: Text) -> Screen:
        screen = model.data.get("item")
        recorded = len(self.translations.recorded(language))
        heard = t("Voice notes in %(language)s: %(num)s of %(total)s screens approved.",
                  language=NATIVE_NAMES.get(language, language), num=recorded,
                  total=len(VOICE_SCREENS))  # fmt: skip
        if screen is None:
            done = t("✅ No screen left to record in %(language)s for now. Thank you.",
                     language=NATIVE_NAMES.get(language, language))  # fmt: skip
            return Screen(body=(heard, done), edit=False)
        return Screen(
            body=(
                heard,
                t("Record a voice note (60 seconds at most) reading the screen “%(screen)s” in "
                  "%(language)s, as a survivor would need to hear it:",
                  screen=VOICE_SCREENS[screen], language=NATIVE_NAMES[language]),
                self._preview(screen, language),
            ),
            buttons=((SKIP, BACK),),
            edit=False,
        )  # fmt: skip

    def _preview(self, screen: str, language: str) -> str:
        return preview(self.translations.catalogs, language, self.survivor.voice_screen(screen))

    def _screen_of(self, msgid: str) -> tuple[Text, Screen] | None:
        """The first survivor screen that shows this message, and its name."""
        if self._previews is None:
            self._previews = [(name, msgids_of(screen), screen)
                              for name, screen in self.survivor.preview_screens()]  # fmt: skip
        return next(((name, s) for name, ids, s in self._previews if msgid in ids), None)

    def _pick_screen(self, model: FlowModel) -> Screen:
        languages = model.view.get("languages", ())
        lines = [self.translations.coverage(code).line() for code in languages]
        buttons = tuple((Button(NATIVE_NAMES[code], f"tr:lang:{code}"),) for code in languages)
        return Screen(body=(t("Which language?"), *lines), buttons=buttons, edit=False)


class TranslationReview:
    """Translations and voice notes waiting for a second person (`/review`), for translators of
    that language and administrators."""

    def __init__(self, translations: Translations) -> None:
        self.translations = translations

    def waiting(self, scope: frozenset[str]) -> list[Waiting]:
        pending = self.translations.pending.values()
        return [self._waiting(p) for p in pending if f"tr:{p.language}" in scope]

    def find(self, key: str) -> Waiting | None:
        kind, _, number = key.partition(":")
        entry = self.translations.pending.get(int(number)) if kind == "tr" else None
        return None if entry is None else self._waiting(entry)

    def _waiting(self, entry: TranslationEntry) -> Waiting:
        language = NATIVE_NAMES.get(entry.language, entry.language)
        key = f"tr:{entry.id}"
        if entry.kind == "voice":
            body: tuple[Text, ...] = (
                t("🔊 Voice note in %(language)s for the screen “%(screen)s”, proposed by "
                  "%(id)s. Listen to it above, then decide.", language=language,
                  screen=VOICE_SCREENS.get(entry.msgid, entry.msgid), id=entry.actor),
            )  # fmt: skip
            voice = Voice(entry.content or "", entry.duration)
            return Waiting(key, entry.actor, body, voice=voice)
        source = self.translations.source(entry.msgid)
        forms: list[Any] = json.loads(entry.content or "[]")
        lines: list[Text] = [t("Translation into %(language)s, proposed by %(id)s",
                               language=language, id=entry.actor)]  # fmt: skip
        if source is not None:
            lines += [t("English: %(text)s", text=source.msgid),
                      t("French: %(text)s", text=self.translations.french(source))]  # fmt: skip
        lines.append(t("Proposed: %(text)s", text="\n".join(str(f) for f in forms)))
        return Waiting(key, entry.actor, tuple(lines))
