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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from bot.app import run
from bot.config import Settings
from bot.content import Directory, load_directory
from bot.emulator import BotApiEmulator, ChatEvent, FakeGroup, FakeMember, FakeUser
from bot.hotline.hours import Hours
from bot.report import next_report_at

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
  !week                                    play a scripted week of other people, then move
                                           the bot's clock to the next Monday 08:00: as
                                           officer (an administrator), /report shows it
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
# Where the demo writes a chart it receives (anonymous figures only), for you to open.
CHART_PATH = Path(tempfile.gettempdir()) / "jigiya-demo-report.png"
WEEK_PEOPLE = 30  # survivors in the scripted week
WEEK_OFFICERS = 3


class DemoClock:
    """The bot's clock for the indicators and the weekly report: the real time, moved on by
    `!week` so that the scripted week is over and its report is due."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


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
    if "photo" in message:
        lines.append(f"🖼️ (an image: {CHART_PATH})")
    text = message.get("text") or message.get("caption")
    if text:
        lines.extend(text.splitlines())
    if lines:
        lines[0] = prefix + lines[0]
    return lines


class Demo:
    def __init__(self, emulator: BotApiEmulator, out: TextIO, clock: DemoClock) -> None:
        self._emulator = emulator
        self._clock = clock
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
            if event.message and "photo" in event.message:
                stored = self._emulator.world.files[event.message["photo"][-1]["file_id"]]
                CHART_PATH.write_bytes(stored.data)
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

    async def _scripted_week(self) -> None:
        self.say(f"(playing a week: {WEEK_PEOPLE} people and {WEEK_OFFICERS} officers...)")
        admin = self.personas["officer"].user
        await ScriptedWeek(self._emulator, admin, self._directory).play()
        now = self._clock()
        self._clock.offset += next_report_at(now) - now
        self.say(f"(the week is over: the bot's clock says {self._clock():%A %d %B %H:%M} UTC; "
                 "as officer, an administrator, send /report)")  # fmt: skip

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
        elif name == "week":
            await self._scripted_week()
        else:
            self.say(HELP)
        return True


async def _button(person: FakeUser, data: str, timeout: float = 20.0) -> Json:
    """The newest message in the person's chat with a button carrying `data`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        found = [m for m in person.messages if data in _data(m)]
        if found:
            return found[-1]
        await asyncio.sleep(0.05)
    raise TimeoutError(f"no button {data}")


def _data(message: Json) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [button.get("callback_data", "") for row in rows for button in row]


async def _tap(person: FakeUser, data: str) -> None:
    await person.press(await _button(person, data), data)


class ScriptedWeek:
    """Other people's week, played through the real bot: survivors in three languages find
    numbers and centres, some leave by the quick exit; officers go through checklists and the
    decision aid. Only the anonymous counts remain of it."""

    def __init__(self, emulator: BotApiEmulator, admin: FakeUser, directory: Directory) -> None:
        self.emulator = emulator
        self.admin = admin
        self.towns = [p for p in directory.places if p.region in ("Bamako", "Mopti", "Ségou")]

    async def play(self) -> None:
        languages = ["fr"] * 16 + ["bm"] * 9 + ["en"] * 5
        survivors = [
            self.survivor(self.emulator.user(5000 + i, f"P{i}", language_code="fr"), lang, i)
            for i, lang in enumerate(languages[:WEEK_PEOPLE])
        ]
        await asyncio.gather(*survivors)
        for i in range(WEEK_OFFICERS):  # one invitation at a time: the code is read back
            await self.officer(self.emulator.user(6000 + i, f"O{i}", language_code="fr"), i)

    async def survivor(self, person: FakeUser, language: str, i: int) -> None:
        await person.send("/start")
        await _tap(person, f"lang:{language}")
        for data, every in (("nav:numbers", 2), ("nav:emergency", 3), ("nav:about", 4)):
            if i % every == 0:
                await _tap(person, data)
        town = self.towns[i % len(self.towns)]
        if i % 3 == 0:
            await person.send_location(town.latitude, town.longitude)
        else:
            await _tap(person, "nav:centre")
            await person.send(town.name)
        await _button(person, "nav:talk")
        if i % 4 == 1:
            await _tap(person, "exit")

    async def officer(self, person: FakeUser, i: int) -> None:
        role = ("police", "gendarmerie", "police")[i % 3]
        seen = len(self.admin.messages)
        await self.admin.send(f"/invite {role}")
        code = await self._code(seen)
        await person.send(f"/officer {code}")
        for protocol in ("first-contact", "medical", "vslc", "evidence"):
            await _tap(person, "off:list")
            await _tap(person, f"off:open:{protocol}")
            await _tap(person, f"off:finish:{protocol}")
        await _tap(person, "off:menu")
        await _tap(person, "off:decide")
        for index, answer in enumerate(("yes", "no", "yes", "unsure", "no", "no")):
            await _tap(person, f"off:ans:{index}:{answer}")

    async def _code(self, seen: int) -> str:
        for _ in range(400):
            for message in self.admin.messages[seen:]:
                if found := re.search(
                    r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", message.get("text", "")
                ):
                    return found[0]
            await asyncio.sleep(0.05)
        raise TimeoutError("no invitation code")


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
            clock = DemoClock()
            bot = asyncio.create_task(run(settings, stop=stop, clock=clock))
            await emulator.wait_for_call("getUpdates", timeout=15)
            demo = Demo(emulator, out, clock)
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
