"""The offline demo: the real bot against the loopback emulator, with a chat in the terminal.

You play five people in turn: a survivor, an officer, an editor who checks the directory, a
translator who puts the bot's words into Bambara, and a member of the staff group. Lines you
type are sent as that person; `!` lines are the demo's own commands (`!help`).
"""

from __future__ import annotations

import asyncio
import logging
import re
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from bot.app import run
from bot.config import Settings
from bot.content import load_directory
from bot.emulator import BotApiEmulator, ChatEvent, FakeGroup, FakeMember, FakeUser
from bot.hotline.hours import Hours

DEMO_TOKEN = "1000000001:" + "demo" * 9
STAFF_GROUP_ID = -1001000000001
SURVIVOR_ID, OFFICER_ID, EDITOR_ID, TRANSLATOR_ID, STAFF_ID = 1001, 2002, 2004, 2005, 3003
# After each action, wait for the bot's answer to arrive and settle before reading the next line,
# so input pasted or piped in is played like a person who reads before tapping.
ANSWER_SECONDS = 3.0
QUIET_SECONDS = 0.3
LEAVING_QUIET_SECONDS = 2.5

HELP = """Demo commands:
  !as survivor | officer | editor | translator | staff  switch who you are
  !loc 14.49,-4.19  or  !loc Mopti         share a location (coordinates, or a town's centre)
  !sticker  !voice  !photo                 send one of those
  !contact 70123456  !file certificat.pdf  share a phone number or a file
  !help                                    this text
  !quit                                    leave (Ctrl-D works too)
Anything else is sent as a message; a number presses that button of the last message.
As staff, you write in the case topic you saw last: claim the case first (its card's button).
The officer is also an administrator: /invite police, then /officer <code>, then /checklists;
/quiz asks a knowledge question (/quiz off, /quiz on); a checklist's 🖨️ sends a PDF.
For the editor: as officer, /invite editor; as editor, /officer <code>, then /verify (➕, or
/add, proposes a new number or centre); a change waits for a second person: as officer (an
administrator), /review.
For the translator: as officer, /invite translator bm; as translator, /officer <code>, then
/translate (answer with the Bambara text) or /record (answer with !voice); as officer, /review."""

Json = dict[str, Any]


@dataclass
class Persona:
    name: str
    user: FakeUser
    member: FakeMember | None = None  # set for the staff persona, who speaks in the group
    buttons: list[tuple[Json, str]] = field(default_factory=list)  # (message, callback data)
    thread: int | None = None  # the staff persona writes in the case topic seen last

    @property
    def reader(self) -> FakeUser | FakeGroup | FakeMember:
        return self.member or self.user


def _describe(event: ChatEvent) -> list[str]:
    """What a person sees of one event, as terminal lines."""
    if event.kind == "delete":
        return [f"(the bot deleted {len(event.message_ids or [])} message(s))"]
    if event.kind == "answer":
        return [f"(notice) {event.text}"] if event.text else []
    message = event.message or {}
    prefix = "(edited) " if event.kind == "edit" else ""
    lines: list[str] = []
    if "contact" in message:
        card = message["contact"]
        lines.append(f"📇 {card.get('first_name', '')}: {card.get('phone_number', '')}")
    if "venue" in message:
        venue = message["venue"]
        lines.append(f"📍 {venue.get('title', '')}, {venue.get('address', '')}")
    elif "location" in message:
        where = message["location"]
        lines.append(f"📍 {where['latitude']:.4f}, {where['longitude']:.4f}")
    if "voice" in message:
        lines.append(f"🔊 (a voice note, {message['voice'].get('duration', 0)} s)")
    if "document" in message:
        lines.append(f"📄 {message['document'].get('file_name', 'document')}")
    text = message.get("text") or message.get("caption")
    if text:
        lines.extend(text.splitlines())
    if lines:
        lines[0] = prefix + lines[0]
    return lines


class Demo:
    def __init__(self, emulator: BotApiEmulator, out: TextIO) -> None:
        self._out = out
        self._directory = load_directory()
        survivor = emulator.user(SURVIVOR_ID, "Awa", language_code="fr")
        officer = emulator.user(OFFICER_ID, "Moussa", language_code="fr")
        editor = emulator.user(EDITOR_ID, "Kadiatou", language_code="fr")
        translator = emulator.user(TRANSLATOR_ID, "Mariam", language_code="fr")
        staff_user = emulator.user(STAFF_ID, "Fatou", language_code="fr")
        member = emulator.forum(STAFF_GROUP_ID, "Jigiya hotline").member(staff_user)
        self.personas = {
            "survivor": Persona("survivor", survivor),
            "officer": Persona("officer", officer),
            "editor": Persona("editor", editor),
            "translator": Persona("translator", translator),
            "staff": Persona("staff", staff_user, member),
        }
        self.current = self.personas["survivor"]
        self.news = 0  # events seen so far
        self._changed = asyncio.Event()

    def say(self, line: str = "") -> None:
        print(line, file=self._out, flush=True)

    async def watch(self, persona: Persona) -> None:
        """Print what this persona sees, as it happens."""
        shown: dict[int, str] = {}  # the text of each message, to print an edit of buttons alone
        while True:
            try:
                event = await persona.reader.next_event(timeout=3600)
            except TimeoutError:
                continue
            self.news += 1
            self._changed.set()
            if persona.member is not None and event.thread_id is not None:
                persona.thread = event.thread_id
            lines = _describe(event)
            if (
                event.kind == "edit"
                and event.message
                and event.message.get("text") == shown.get(event.message["message_id"])
            ):
                lines = ["(buttons added below the message above)"]  # a keyboard taken away
            if event.message and "text" in event.message:
                shown[event.message["message_id"]] = event.message["text"]
            if not lines:
                continue
            where = f" · topic {event.thread_id}" if event.thread_id else ""
            sender = "Jigiya"
            if event.message and event.message.get("from", {}).get("is_bot") is False:
                sender = "someone"
            self.say(f"[{persona.name}{where}] {sender}: {lines[0]}")
            for line in lines[1:]:
                self.say(f"    {line}" if line else "")
            markup = (event.message or {}).get("reply_markup") or {}
            rows = markup.get("inline_keyboard")
            if rows and event.message is not None:
                persona.buttons = [(event.message, b["callback_data"]) for r in rows for b in r]
                labels = [b["text"] for r in rows for b in r]
                for number, label in enumerate(labels, 1):
                    self.say(f"    [{number}] {label}")

    async def settle(self, seen: int, quiet: float = QUIET_SECONDS) -> None:
        """Wait for news after `seen` events, then until none comes for `quiet` seconds."""
        timeout = ANSWER_SECONDS if self.news == seen else quiet
        while True:
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), timeout)
            except TimeoutError:
                return
            timeout = quiet

    async def handle(self, line: str) -> bool:
        """Act on one typed line; False when the person wants to leave."""
        line = line.strip()
        if not line:
            return True
        if line.startswith("!"):
            return await self._command(line[1:])
        persona = self.current
        if line.isdecimal() and persona.buttons:
            index = int(line) - 1
            if 0 <= index < len(persona.buttons):
                message, data = persona.buttons[index]
                try:
                    await (persona.member or persona.user).press(message, data)
                except LookupError:  # the message changed since: its buttons are gone
                    self.say("(that button is no longer there; look at the newest message)")
                return True
            self.say(f"(no button {line}; the last message has {len(persona.buttons)})")
            return True
        if persona.member is not None:
            await persona.member.send(line, thread_id=persona.thread)
        else:
            await persona.user.send(line)
        return True

    def _where(self, text: str) -> tuple[float, float] | None:
        """Coordinates typed as such, or the centre of the town that best matches the text."""
        if (coordinates := _coordinates(text)) is not None:
            return coordinates
        best = self._directory.find_place(text).best
        if best is None:
            self.say(f"(no town looks like {text.strip()!r})")
            return None
        self.say(f"(sharing the centre of {best.place.name})")
        return best.place.latitude, best.place.longitude

    async def _command(self, command: str) -> bool:
        name, _, arg = command.partition(" ")
        persona = self.current
        if name == "quit":
            return False
        if name == "as" and arg.strip() in self.personas:
            self.current = self.personas[arg.strip()]
            self.say(f"(you are now the {self.current.name})")
        elif name == "loc" and (where := self._where(arg)):
            await persona.user.send_location(*where)
        elif name in ("sticker", "voice", "photo"):
            await getattr(persona.user, f"send_{name}")()
        elif name == "contact" and arg.strip():
            await persona.user.send_contact(arg.strip(), persona.user.user["first_name"])
        elif name == "file" and arg.strip():
            await persona.user.send_document(arg.strip())
        else:
            self.say(HELP)
        return True


def demo_settings(api_url: str, folder: Path) -> Settings:
    """The demo's bot (terminal and web): its database and key in `folder`, the officer
    persona an administrator, the staff group always open."""
    return Settings(
        token=DEMO_TOKEN,
        api_url=api_url,
        db_path=folder / "demo.sqlite3",
        hotline_chat_id=STAFF_GROUP_ID,
        hotline_hours=Hours.parse("mon-sun 00:00-24:00"),  # someone always "reads"
        admin_ids=frozenset({OFFICER_ID}),
        # Generated here on start and removed with the folder: never the user's key.
        secret_path=folder / "secret.key",
    )


def _coordinates(text: str) -> tuple[float, float] | None:
    match = re.fullmatch(r"\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*", text)
    return (float(match.group(1)), float(match.group(2))) if match else None


def _read_lines(queue: asyncio.Queue[str | None], loop: asyncio.AbstractEventLoop) -> None:
    """Blocking stdin reads on a daemon thread, so Ctrl-C and exit never wait for a line."""
    for line in sys.stdin:
        loop.call_soon_threadsafe(queue.put_nowait, line)
    loop.call_soon_threadsafe(queue.put_nowait, None)


async def run_demo(out: TextIO = sys.stdout) -> int:
    # The demo keeps nothing: its database and key live in a temporary folder removed at the end.
    logging.getLogger().setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="jigiya-demo-") as tmp:
        async with BotApiEmulator(DEMO_TOKEN) as emulator:
            settings = demo_settings(emulator.base_url, Path(tmp))
            stop = asyncio.Event()
            bot = asyncio.create_task(run(settings, stop=stop))
            await emulator.wait_for_call("getUpdates", timeout=15)
            demo = Demo(emulator, out)
            watchers = [asyncio.create_task(demo.watch(p)) for p in demo.personas.values()]
            demo.say("Jigiya offline demo: the real bot, a local stand-in for Telegram.")
            demo.say(HELP)
            demo.say("(you are the survivor; try /start)")
            lines: asyncio.Queue[str | None] = asyncio.Queue()
            loop = asyncio.get_running_loop()
            threading.Thread(target=_read_lines, args=(lines, loop), daemon=True).start()
            try:
                while (line := await lines.get()) is not None:
                    seen = demo.news
                    if not await demo.handle(line):
                        # Relayed messages may still be on their way (Telegram's pace).
                        await demo.settle(seen, quiet=LEAVING_QUIET_SECONDS)
                        break
                    if not line.strip().startswith(("!as", "!help")):
                        await demo.settle(seen)
            finally:
                for watcher in watchers:
                    watcher.cancel()
                stop.set()
                await bot
    return 0
