"""Guided scenarios for trainers: content/scenarios/*.toml, played step by step in a world.

A scenario has a title and steps; each step is one action of one phone, one line of narration
(French and English) and the screen it must reach: words of a message the bot shows on that
phone after the step. `python -m bot content check` plays every scenario in a fresh world and
reports a step whose screen does not come.

    [title]
    fr = "Une survivante à Mopti, la nuit"
    en = "A survivor in Mopti at night"

    [[steps]]
    phone = "survivor"          # survivor | officer | editor | translator | staff
    send = "/start"             # or press = "words of a button", or town = "Mopti"
    screen = "Choisissez votre langue"
    say = { fr = "Awa ouvre Jigiya.", en = "Awa opens Jigiya." }

    [[steps]]
    phone = "survivor"
    send = "Bonjour"
    seen_by = "staff"           # optional: the phone that must show the screen
    screen = "Bonjour"
    say = { fr = "Son message arrive.", en = "Her message arrives." }

`send` may hold {code}: the last invitation code shown on that phone. The staff phone writes in
the newest case topic.
"""

from __future__ import annotations

import asyncio
import logging
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from bot.content import CONTENT_DIR, load_directory
from bot.emulator.records import ChatEvent
from bot.emulator.world import Chat
from bot.playground.world import PHONES, BadAction, Json, World

SCENARIO_DIR = CONTENT_DIR / "scenarios"
ACTIONS = ("send", "press", "town")
SCREEN_SECONDS = 10.0  # generous: only a failing step waits it out
CODE = re.compile(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}\b")


class ScenarioError(ValueError):
    pass


@dataclass(frozen=True)
class Step:
    phone: str
    action: str  # one of ACTIONS
    value: str
    screen: str
    seen_by: str  # the phone that must show the screen (by default the one acting)
    say: dict[str, str]  # language -> narration


@dataclass(frozen=True)
class Scenario:
    id: str  # the file's name without .toml
    title: dict[str, str]
    steps: tuple[Step, ...]


def load_scenarios(folder: Path = SCENARIO_DIR) -> list[Scenario]:
    return [load_scenario(path) for path in sorted(folder.glob("*.toml"))]


def load_scenario(path: Path) -> Scenario:
    where = f"{path.name}"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ScenarioError(f"{where}: {exc}") from exc
    title = _texts(data.get("title"), f"{where}: title")
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise ScenarioError(f"{where}: no [[steps]]")
    steps = tuple(_step(raw, f"{where}: step {n}") for n, raw in enumerate(raw_steps, 1))
    return Scenario(path.stem, title, steps)


def _step(raw: object, where: str) -> Step:
    if not isinstance(raw, dict):
        raise ScenarioError(f"{where}: not a table")
    phone = raw.get("phone")
    if phone not in PHONES:
        raise ScenarioError(f"{where}: phone must be one of {', '.join(PHONES)}")
    actions = [name for name in ACTIONS if name in raw]
    if len(actions) != 1 or not isinstance(raw[actions[0]], str) or not raw[actions[0]]:
        raise ScenarioError(f"{where}: exactly one of {', '.join(ACTIONS)}, as text")
    screen = raw.get("screen")
    if not isinstance(screen, str) or not screen:
        raise ScenarioError(f"{where}: screen (words the step must show) is missing")
    seen_by = raw.get("seen_by", phone)
    if seen_by not in PHONES:
        raise ScenarioError(f"{where}: seen_by must be one of {', '.join(PHONES)}")
    unknown = set(raw) - {"phone", "screen", "seen_by", "say", *ACTIONS}
    if unknown:
        raise ScenarioError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    value = raw[actions[0]]
    return Step(phone, actions[0], value, screen, seen_by, _texts(raw.get("say"), where))


def _texts(value: object, where: str) -> dict[str, str]:
    """French and English, both required: the page's own labels come in both."""
    if not isinstance(value, dict) or not all(
        isinstance(value.get(lang), str) and value[lang] for lang in ("fr", "en")
    ):
        raise ScenarioError(f"{where}: needs fr and en texts")
    return {lang: str(text) for lang, text in value.items()}


async def play_step(world: World, step: Step, timeout: float = SCREEN_SECONDS) -> bool:
    """Do the step's action and wait for its screen; False when the screen does not come."""
    chat = world.chat(step.seen_by)
    before = chat.events[-1].seq if chat.events else 0
    await world.act(step.phone, await _action(world, step, timeout))

    def reached() -> ChatEvent | None:
        for event in chat.events:
            if event.seq > before and event.kind in ("message", "edit") and event.message:
                current = chat.messages.get(event.message["message_id"], {})
                if step.screen in (current.get("text") or current.get("caption") or ""):
                    return event
        return None

    return await world.emulator.notifier.wait_for(reached, timeout) is not None


async def _action(world: World, step: Step, timeout: float) -> Json:
    """The page's action for a step; a button or a code may still be on its way."""
    chat = world.chat(step.phone)
    if step.action == "town":
        best = load_directory().find_place(step.value).best
        if best is None:
            raise BadAction(f"no town {step.value!r} in content/places.csv")
        where = best.place
        return {"type": "location", "latitude": where.latitude, "longitude": where.longitude}
    if step.action == "send" and "{code}" not in step.value:
        found: Json | None = {"type": "text", "text": step.value}
    else:
        find = _button if step.action == "press" else _with_code
        found = await world.emulator.notifier.wait_for(lambda: find(chat, step.value), timeout)
    if found is None:
        what = "button with" if step.action == "press" else "invitation code for"
        raise BadAction(f"no {what} {step.value!r} on the {step.phone}'s phone")
    if found["type"] == "text" and chat.is_forum and chat.topics:
        found["thread_id"] = max(chat.topics)  # the newest case topic
    return found


def _button(chat: Chat, words: str) -> Json | None:
    """The newest button whose label holds these words."""
    for message in sorted(chat.messages.values(), key=lambda m: -m["message_id"]):
        rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
        for button in (b for row in rows for b in row):
            if words in button["text"]:
                data = button["callback_data"]
                return {"type": "press", "message_id": message["message_id"], "data": data}
    return None


def _with_code(chat: Chat, text: str) -> Json | None:
    codes = [c for m in chat.messages.values() for c in CODE.findall(m.get("text", ""))]
    return {"type": "text", "text": text.replace("{code}", codes[-1])} if codes else None


async def check_scenario(scenario: Scenario, timeout: float = SCREEN_SECONDS) -> list[str]:
    """Play the scenario in a fresh world; the problems found (empty: every screen came)."""
    world = await World.open()
    try:
        for number, step in enumerate(scenario.steps, 1):
            try:
                reached = await play_step(world, step, timeout)
            except BadAction as exc:
                return [f"{scenario.id}.toml step {number}: {exc}"]
            if not reached:
                return [
                    f"{scenario.id}.toml step {number}: the {step.seen_by}'s phone never showed "
                    f"{step.screen!r}"
                ]
        return []
    finally:
        await world.close()


async def check_all(folder: Path = SCENARIO_DIR, timeout: float = SCREEN_SECONDS) -> list[str]:
    """Every scenario's problems, the scenarios played side by side, each in its own world."""
    try:
        scenarios = load_scenarios(folder)
    except ScenarioError as exc:
        return [str(exc)]
    found = await asyncio.gather(*(check_scenario(s, timeout) for s in scenarios))
    return [problem for problems in found for problem in problems]


def main_check(folder: Path = SCENARIO_DIR) -> int:
    """Play every scenario (`content check`); print what failed; 0 when all reached their
    screens."""
    logging.getLogger().setLevel(logging.WARNING)  # not each world's start and stop
    problems = asyncio.run(check_all(folder))
    count = len(list(folder.glob("*.toml")))
    for problem in problems:
        print(f"ERROR scenarios/{problem}")
    if not problems:
        print(f"Scenarios: {count} played, every step reached its screen.")
    return 1 if problems else 0
