"""Helpers for the hotline end-to-end tests: the staff forum, opening a case the way a survivor
does, staff sending media into a topic, and reading what each side ended up with.

Counting "exactly once" uses the chat's event log (every message the bot ever posted there,
deleted ones included), not the chat's current messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest

from bot.emulator import ApiCall, BotApiEmulator, FakeGroup, FakeMember, FakeUser
from bot.emulator.methods_messages import CONTENT_KEYS
from bot.emulator.world import photo_sizes
from bot.exits import CalledOff, ExitGate
from bot.flows.screens import Msg, t
from bot.hotline import service
from bot.i18n import Catalogs

Json = dict[str, Any]
T = TypeVar("T")

STAFF = -1001234567890
ALWAYS_OPEN = "mon-sun 00:00-24:00"
HOTLINE = {"HOTLINE_CHAT_ID": str(STAFF), "HOTLINE_HOURS": ALWAYS_OPEN}

_CATALOGS = Catalogs()
_FR = _CATALOGS.translator("fr")


def fr(msg: Msg, **params: object) -> str:
    """A message as the bot renders it in French (the staff's language, and the survivors')."""
    return _FR.render(t(msg.msgid, **{**dict(msg.params), **params}) if params else msg)


# --- waiting ------------------------------------------------------------------------------


async def wait_until(check: Callable[[], T | None], timeout: float = 10.0, what: str = "") -> T:
    """Poll `check` until it returns something truthy; fail with `what` after `timeout`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = check()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or check}")
        await asyncio.sleep(0.05)


# --- reading messages -----------------------------------------------------------------------


def buttons(message: Json) -> list[tuple[str, str]]:
    markup = message.get("reply_markup") or {}
    return [
        (b["text"], b.get("callback_data", "")) for row in markup.get("inline_keyboard", [])
        for b in row
    ]  # fmt: skip


def button_data(message: Json) -> list[str]:
    return [data for _, data in buttons(message)]


def posted(emulator: BotApiEmulator, chat_id: int, thread_id: int | None = None) -> list[Json]:
    """Every new message the bot ever posted in a chat (or topic), deleted ones included."""
    chat = emulator.world.chats[chat_id]
    return [
        e.message
        for e in chat.events
        if e.kind == "message"
        and e.message is not None
        and (thread_id is None or e.thread_id == thread_id)
    ]


def texts(messages: list[Json]) -> list[str]:
    return [str(m["text"]) for m in messages if "text" in m]


def current(emulator: BotApiEmulator, chat_id: int, message_id: int) -> Json:
    """A message as it is now (after edits)."""
    return emulator.world.chats[chat_id].messages[message_id]


def content_key(message: Json) -> str:
    """What a copy keeps of a message: its text, or its file and caption (and so on)."""
    return json.dumps({k: message[k] for k in CONTENT_KEYS if k in message}, sort_keys=True)


def count_of(messages: list[Json], original: Json) -> int:
    key = content_key(original)
    return sum(1 for m in messages if content_key(m) == key)


# --- the staff forum ------------------------------------------------------------------------


@dataclass
class Case:
    thread_id: int
    card_id: int
    name: str  # the topic's name, e.g. "K7Q4 · fr"

    @property
    def code(self) -> str:
        return self.name.split(" · ")[0]


@dataclass
class Desk:
    """The staff forum with its two staff members."""

    emulator: BotApiEmulator
    group: FakeGroup
    fatou: FakeMember
    kadi: FakeMember

    @classmethod
    def make(cls, emulator: BotApiEmulator, chat_id: int = STAFF) -> Desk:
        group = emulator.forum(chat_id)
        fatou = group.member(emulator.user(3003, "Fatou"))
        kadi = group.member(emulator.user(3004, "Kadiatou"))
        return cls(emulator, group, fatou, kadi)

    def card(self, case: Case) -> Json:
        return current(self.emulator, self.group.id, case.card_id)

    def in_topic(self, case: Case) -> list[Json]:
        """What the bot posted in the case's topic, oldest first."""
        return posted(self.emulator, self.group.id, case.thread_id)

    def notices(self, case: Case) -> list[str]:
        """Texts the bot posted in the topic, the case card left out."""
        return [
            str(m["text"]) for m in self.in_topic(case)
            if "text" in m and m["message_id"] != case.card_id
        ]  # fmt: skip

    async def wait_text(self, case: Case, text: str, timeout: float = 10.0) -> Json:
        return await wait_until(
            lambda: next((m for m in self.in_topic(case) if m.get("text") == text), None),
            timeout, f"{text!r} in topic {case.thread_id}",
        )  # fmt: skip

    async def wait_card(self, case: Case, check: Callable[[Json], bool]) -> Json:
        return await wait_until(
            lambda: self.card(case) if check(self.card(case)) else None,
            10, f"the card of {case.name} to change",
        )  # fmt: skip

    async def claim(self, member: FakeMember, case: Case) -> None:
        await member.press(self.card(case), f"case:claim:{case_id_of(self.card(case))}")
        await self.wait_card(case, lambda c: any("release" in d for d in button_data(c)))

    async def send_media(
        self, member: FakeMember, case: Case, kind: str, caption: str = ""
    ) -> Json:
        """A staff member posts a voice note or a photo in the topic (FakeMember only sends
        text), stored and handed to the bot the way a text is."""
        return _post_media(self.emulator, member, kind, caption, case.thread_id)


def case_id_of(card: Json) -> int:
    data = next(d for d in button_data(card) if d.startswith("case:"))
    return int(data.rsplit(":", 1)[1])


def _post_media(
    emulator: BotApiEmulator, member: FakeMember, kind: str, caption: str, thread_id: int
) -> Json:
    if kind == "voice":
        stored = emulator.world.store_file("voice", b"OggS-staff", None, "audio/ogg")
        content: Json = {"voice": {**stored.as_dict(), "duration": 4}}
    elif kind == "photo":
        stored = emulator.world.store_file("photo", b"\xff\xd8staff", None, "image/jpeg")
        content = {"photo": photo_sizes(stored)}
    else:
        raise ValueError(kind)
    if caption:
        content["caption"] = caption
    return member._post(member.user.user, content, thread_id=thread_id)


# --- a survivor's side ----------------------------------------------------------------------


def received_prefix(language: str = "fr") -> str:
    """ "Your message will be read … You are number": what comes before her place in the queue."""
    rendered = _CATALOGS.translator(language).render(t(service.RECEIVED.msgid, position="\x00"))
    return rendered.split("\x00")[0]


async def screen_with(person: FakeUser, data: str, timeout: float = 10.0) -> Json:
    """The newest message in her chat with a button carrying `data`."""

    def find() -> Json | None:
        found = [m for m in person.messages if data in button_data(m)]
        return found[-1] if found else None

    return await wait_until(find, timeout, f"a button {data!r} for {person.user['first_name']}")


async def to_consent(person: FakeUser, language: str = "fr") -> Json:
    """/start, a language, "talk to a person": the consent screen."""
    await person.send("/start")
    await person.press(await screen_with(person, f"lang:{language}"), f"lang:{language}")
    await person.press(await screen_with(person, "nav:talk"), "nav:talk")
    return await screen_with(person, "talk:agree")


async def open_case(
    desk: Desk, person: FakeUser, *, consent: Json | None = None, language: str = "fr"
) -> Case:
    """She agrees; her case's topic and card appear in the staff forum."""
    before = set(desk.group.topics)
    consent = consent or await to_consent(person, language)
    await person.press(consent, "talk:agree")
    case = await wait_case(desk, before)
    await wait_until(
        lambda: any(
            x.startswith(received_prefix(language)) for x in texts(from_bot(desk.emulator, person))
        ),
        what="her place in the queue",
    )
    return case


async def claimed_case(
    emulator: BotApiEmulator, desk: Desk, user_id: int = 1001, name: str = "Awa"
) -> tuple[FakeUser, Case]:
    """A survivor whose case is open and claimed by Fatou: where most hotline tests begin."""
    person = emulator.user(user_id, name)
    case = await open_case(desk, person)
    await desk.claim(desk.fatou, case)
    return person, case


async def open_cases(desk: Desk, *people: FakeUser) -> list[Case]:
    """Their cases, one after the other; the consent screens are reached side by side."""
    consents = await asyncio.gather(*(to_consent(person) for person in people))
    return [await open_case(desk, p, consent=c) for p, c in zip(people, consents, strict=True)]


async def wait_case(desk: Desk, before: set[int], timeout: float = 10.0) -> Case:
    thread = await wait_until(
        lambda: next(iter(set(desk.group.topics) - before), None), timeout, "a new topic"
    )
    card = await wait_until(
        lambda: next(
            (m for m in desk.group.topic_messages(thread)
             if any(d.startswith("case:") for d in button_data(m))),
            None,
        ),
        timeout, "the case card",
    )  # fmt: skip
    return Case(thread, card["message_id"], desk.group.topics[thread].name)


def from_bot(emulator: BotApiEmulator, person: FakeUser) -> list[Json]:
    """Every message the bot ever posted in her chat, deleted ones included."""
    return posted(emulator, person.id)


async def wait_for_content(
    emulator: BotApiEmulator, chat_id: int, original: Json, thread_id: int | None = None,
    timeout: float = 10.0,
) -> Json:  # fmt: skip
    key = content_key(original)
    return await wait_until(
        lambda: next(
            (m for m in posted(emulator, chat_id, thread_id) if content_key(m) == key), None
        ),
        timeout, f"{key} in chat {chat_id}",
    )  # fmt: skip


# --- Telegram-side actions and the database ---------------------------------------------------


async def delete_topic(emulator: BotApiEmulator, chat_id: int, thread_id: int) -> None:
    """An administrator deletes a topic (through the Bot API, as the app would)."""
    url = f"{emulator.base_url}{emulator.token}/deleteForumTopic"
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json={"chat_id": chat_id, "message_thread_id": thread_id}) as response,
    ):
        body = await response.json()
    assert body["ok"], body


def query(db_path: Path, sql: str, *args: object) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(db_path, timeout=10)) as conn:
        return conn.execute(sql, args).fetchall()


def execute(db_path: Path, sql: str, *args: object) -> None:
    with contextlib.closing(sqlite3.connect(db_path, timeout=10)) as conn, conn:
        conn.execute(sql, args)


def calls_to(
    emulator: BotApiEmulator, method: str, chat_id: int, *, ok: bool = True
) -> list[ApiCall]:
    return [
        c for c in emulator.calls
        if c.method == method and c.params.get("chat_id") == chat_id and (c.ok or not ok)
    ]  # fmt: skip


async def settle(seconds: float = 1.0) -> None:
    """A real sleep, kept only for tests/test_faults.py until it waits on events: wait for
    `idle`, or for what is expected, instead."""
    await asyncio.sleep(seconds)


# --- knowing that the bot is done -------------------------------------------------------------


def _unanswered(emulator: BotApiEmulator) -> list[ApiCall]:
    return [c for c in emulator.calls if c.finished is None and c.method != "getUpdates"]


async def idle(emulator: BotApiEmulator, db_path: Path, timeout: float = 10.0) -> None:
    """Wait until the bot has handled every update given to it so far (Telegram was told it
    has them, and none is left in the inbox) and has sent all its outbox held (every job is
    done or dropped, and every request answered). What it would still do about them is then
    done: check after this that something did *not* happen, instead of sleeping.

    Not covered: the bot's timers (the reminder job: see `Looks`), and a request that her
    quick exit's outbox drop left waiting in the rate limiter (see `CallOffs`)."""
    last = max((int(u["update_id"]) for u in emulator.injected), default=None)

    def done() -> bool:
        return (
            (last is None or emulator.confirmed_offset > last)
            and query(db_path, "SELECT (SELECT COUNT(*) FROM inbox) + "
                               "(SELECT COUNT(*) FROM outbox)") == [(0,)]
            and not _unanswered(emulator)
        )  # fmt: skip

    try:
        await wait_until(done, timeout, "the bot to be idle")
    except AssertionError:
        inbox = query(db_path, "SELECT COUNT(*) FROM inbox")[0][0]
        outbox = query(db_path, "SELECT lane, attempts, next_at FROM outbox")
        raise AssertionError(
            emulator.explain(
                f"the bot was not idle within {timeout}s: confirmed offset "
                f"{emulator.confirmed_offset} (last update {last}), {inbox} update(s) in the "
                f"inbox, outbox {outbox}, {len(_unanswered(emulator))} request(s) unanswered"
            )
        ) from None


@dataclass
class Looks:
    """The reminder job's looks for unclaimed cases (`Hotline.remind_unclaimed`, which the
    bot's job queue runs every `bot.app.REMIND_INTERVAL` seconds), watched as they end."""

    started: int = 0
    ended: list[tuple[int, int]] = field(default_factory=list)  # (look number, cases reminded)

    @classmethod
    def watch(cls, monkeypatch: pytest.MonkeyPatch) -> Looks:
        looks = cls()
        remind = service.Hotline.remind_unclaimed

        async def watched(hotline: service.Hotline) -> int:
            looks.started += 1
            number = looks.started
            reminded = await remind(hotline)
            looks.ended.append((number, reminded))
            return reminded

        monkeypatch.setattr(service.Hotline, "remind_unclaimed", watched)
        return looks

    async def next(self, count: int = 1, timeout: float = 10.0) -> list[int]:
        """How many cases each of the next `count` looks (begun from now on) reminded."""
        after = self.started

        def ended() -> list[int] | None:
            reminded = [n for number, n in self.ended if number > after]
            return reminded[:count] if len(reminded) >= count else None

        return await wait_until(ended, timeout, f"{count} look(s) for unclaimed cases")


@dataclass
class CallOffs:
    """Requests to a private chat that a quick exit called off (`ExitGate.check` raised
    CalledOff), counted: a request still waiting for its turn when she left meets the gate only
    when its turn comes, after the outbox has forgotten it."""

    count: int = 0

    @classmethod
    def watch(cls, monkeypatch: pytest.MonkeyPatch) -> CallOffs:
        watched = cls()
        check = ExitGate.check

        def counted(gate: ExitGate, *args: Any, **kwargs: Any) -> None:
            try:
                check(gate, *args, **kwargs)
            except CalledOff:
                watched.count += 1
                raise

        monkeypatch.setattr(ExitGate, "check", counted)
        return watched


def monotonic() -> float:
    return time.monotonic()
