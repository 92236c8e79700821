"""One trainee's world: an emulated Telegram with the four demo people, and the real bot talking
to it in process. Nothing leaves the machine; the bot's database and key live in a temporary
folder removed when the world closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import math
import os
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.app import FixedContent, run
from bot.demo import (
    DEMO_TOKEN,
    EDITOR_ID,
    OFFICER_ID,
    STAFF_GROUP_ID,
    STAFF_ID,
    SURVIVOR_ID,
    TRANSLATOR_ID,
    demo_settings,
)
from bot.emulator import BotApiEmulator, FakeMember, FakeUser
from bot.emulator.inprocess import EmulatorRequest
from bot.emulator.world import Chat

Json = dict[str, Any]

PHONES = ("survivor", "officer", "editor", "translator", "staff")
START_SECONDS = 20.0  # the bot is ready once it polls; a busy machine may take a few seconds
STOP_SECONDS = 15.0


class BadAction(ValueError):
    """An action the page asked for that this world cannot do (a stale button, a bad field)."""


@dataclass
class Phone:
    name: str
    user: FakeUser
    member: FakeMember | None = None  # the staff member speaks in the group


def voice_note(seconds: float = 1.0, rate: int = 8000) -> bytes:
    """A short tone as a WAV file: a voice note a browser can play, made here, not downloaded."""
    frames = bytes(
        int(128 + 60 * math.sin(2 * math.pi * 440 * i / rate)) for i in range(int(seconds * rate))
    )
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(1)
        wav.setframerate(rate)
        wav.writeframes(frames)
    return out.getvalue()


class World:
    """Start with `await World.open()`, end with `await world.close()`."""

    def __init__(self) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="jigiya-playground-", dir=_in_memory())
        self.emulator = BotApiEmulator(DEMO_TOKEN)  # reached in process: it opens no port
        emu = self.emulator
        survivor = emu.user(SURVIVOR_ID, "Awa", language_code="fr")
        staff = emu.user(STAFF_ID, "Fatou", language_code="fr")
        self.phones = {
            "survivor": Phone("survivor", survivor),
            "officer": Phone("officer", emu.user(OFFICER_ID, "Moussa", language_code="fr")),
            "editor": Phone("editor", emu.user(EDITOR_ID, "Kadiatou", language_code="fr")),
            "translator": Phone(
                "translator", emu.user(TRANSLATOR_ID, "Mariam", language_code="fr")
            ),
            "staff": Phone(
                "staff", staff, emu.forum(STAFF_GROUP_ID, "Jigiya hotline").member(staff)
            ),
        }
        self.deleted: dict[int, set[int]] = {}  # chat id -> ids of messages the bot deleted
        self._stop = asyncio.Event()
        self._bot: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls) -> World:
        world = cls()
        settings = demo_settings(world.emulator.base_url, Path(world._folder.name))
        world._bot = asyncio.create_task(
            run(
                settings,
                stop=world._stop,
                request=world._request,
                paced=False,
                content=_content(),
            )
        )
        try:
            await world.emulator.wait_for_call("getUpdates", timeout=START_SECONDS)
        except BaseException:
            await world.close()
            raise
        return world

    def _request(self, **_: Any) -> EmulatorRequest:
        return EmulatorRequest(self.emulator)

    async def close(self) -> None:
        self._stop.set()
        self.emulator.updates.close()  # ends the bot's long poll at once
        if self._bot is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._bot, STOP_SECONDS)
        self._folder.cleanup()

    @property
    def running(self) -> bool:
        return self._bot is not None and not self._bot.done()

    def chat(self, phone: str) -> Chat:
        return self.phones[phone].user.chat if phone != "staff" else self.staff_chat

    @property
    def staff_chat(self) -> Chat:
        return self.emulator.world.chats[STAFF_GROUP_ID]

    async def act(self, phone_name: str, action: Json) -> None:
        """Do what the page asks as one of the people: type, tap, share."""
        phone = self.phones.get(phone_name)
        if phone is None:
            raise BadAction(f"no phone {phone_name!r}")
        kind = action.get("type")
        try:
            if kind == "text":
                await self._say(phone, _text(action), action.get("thread_id"))
            elif kind == "press":
                speaker = phone.member or phone.user
                await speaker.press(_int(action, "message_id"), str(action.get("data", "")))
            elif phone.member is not None:
                raise BadAction(f"the staff group cannot do {kind!r}")
            elif kind == "location":
                latitude, longitude = float(action["latitude"]), float(action["longitude"])
                if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
                    raise BadAction("coordinates out of range")
                await phone.user.send_location(latitude, longitude)
            elif kind == "voice":
                await phone.user.send_voice(1, voice_note(), "audio/wav")
            elif kind == "photo":
                await phone.user.send_photo()
            elif kind == "sticker":
                await phone.user.send_sticker()
            elif kind == "document":
                await phone.user.send_document("note.pdf")
            elif kind == "contact":
                await phone.user.send_contact("70000000", phone.user.user["first_name"])
            else:
                raise BadAction(f"unknown action {kind!r}")
        except BadAction:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise BadAction(f"missing or bad field in {action!r}") from exc
        except LookupError as exc:  # a button or a topic that is no longer there
            raise BadAction(str(exc)) from exc

    async def _say(self, phone: Phone, text: str, thread_id: object) -> None:
        if phone.member is None:
            await phone.user.send(text)
            return
        thread = thread_id if isinstance(thread_id, int) and thread_id > 0 else None
        await phone.member.send(text, thread_id=thread)

    def note_deletions(self) -> None:
        """Remember what the bot deleted, so the page can leave a faint note in its place."""
        for chat in self.emulator.world.chats.values():
            ids = self.deleted.setdefault(chat.id, set())
            for event in chat.events:
                if event.kind == "delete":
                    ids.update(event.message_ids)


def _in_memory() -> str | None:
    """A folder in memory where there is one (Linux): a world's database never touches the
    disk, and 30 worlds start without waiting on each other's disk syncs."""
    shm = Path("/dev/shm")  # noqa: S108 (a private temporary folder is made inside it)
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


@functools.cache
def _content() -> FixedContent:
    """Loaded once for every world: a room of 30 starts in a third of the time."""
    return FixedContent.load()


def _text(action: Json) -> str:
    text = str(action["text"]).strip()
    if not text or len(text) > 4096:
        raise BadAction("a message has 1 to 4096 characters")
    return text


def _int(action: Json, key: str) -> int:
    value = action[key]
    if not isinstance(value, int):
        raise BadAction(f"{key} must be a number")
    return value
