"""Faults, through the emulator and a real filesystem: 5xx, timeouts and 429 on the methods the bot
uses, the Bot API unreachable for 30 seconds, 403 from people who blocked the bot, and a store that
cannot write (a full disk, a read-only database file).

What must hold: one clear log line per fault (no flood, no traceback), a retry of what can be
retried, no acknowledged update ever lost, and recovery without help once the fault ends. Logging is
set up as in production (`setup_logging()`), so the lines checked are those an operator would see.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import socket
import sqlite3
import subprocess
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.app import WebhookOptions, run
from bot.config import ConfigError
from bot.emulator import BotApiEmulator, FakeUser
from bot.hotline import service
from bot.languages import CODES
from bot.telegram import polling
from state.store import Store
from tests.conftest import RunningBot, StartBot, settings_for
from tests.hotline_helpers import (
    HOTLINE,
    STAFF,
    Desk,
    calls_to,
    count_of,
    fr,
    from_bot,
    open_case,
    posted,
    query,
    settle,
    texts,
    to_consent,
    wait_for_content,
    wait_until,
)
from tests.test_officer_e2e import become_officer

Json = dict[str, Any]
ADMIN = 500
FR_GREETING = "Bonjour. Jigiya est un service"
FR_MENU = "Que voulez-vous faire ?"
TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"


# --- logging as in production -------------------------------------------------------------------


def _bot_side(record: logging.LogRecord) -> bool:
    """Records of the bot and its libraries; the emulator (Telegram's stand-in) is left out."""
    return not record.name.startswith("bot.emulator")


def warnings_since(caplog: pytest.LogCaptureFixture, mark: int) -> list[str]:
    """WARNING and above logged on the bot's side since `mark`, as 'LEVEL logger: message'."""
    return [
        f"{r.levelname} {r.name}: {r.getMessage()}"
        for r in caplog.records[mark:]
        if r.levelno >= logging.WARNING and _bot_side(r)
    ]


def lines_since(caplog: pytest.LogCaptureFixture, mark: int, logger: str) -> list[str]:
    return [r.getMessage() for r in caplog.records[mark:] if r.name == logger]


def tracebacks_since(caplog: pytest.LogCaptureFixture, mark: int) -> list[str]:
    """Records that carry a traceback (exc_info, stack_info, or one pasted into the text)."""
    return [
        f"{r.levelname} {r.name}: {r.getMessage()[:200]}"
        for r in caplog.records[mark:]
        if _bot_side(r) and (r.exc_info or r.stack_info or "Traceback" in r.getMessage())
    ]


# --- small helpers ------------------------------------------------------------------------------


async def greeted(person: FakeUser, timeout: float = 5.0) -> Json:
    message = await person.next_message(timeout=timeout)
    assert message["text"].startswith(FR_GREETING), message
    return message


async def nothing_more(person: FakeUser, seconds: float = 0.5) -> None:
    with pytest.raises(TimeoutError):
        await person.next_message(timeout=seconds)


def inbox_rows(db_path: Path) -> int:
    return int(query(db_path, "SELECT COUNT(*) FROM inbox")[0][0])


def acknowledged(emulator: BotApiEmulator, update_id: int) -> bool:
    """Telegram was told the update arrived: it is gone from Telegram's side for good."""
    return emulator.confirmed_offset > update_id


def last_update_id(emulator: BotApiEmulator) -> int:
    return int(emulator.injected[-1]["update_id"])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Runner:
    """The bot run in-process on a database path of the test's choosing (start_bot's fixture
    always uses tests' default path), polling or by webhook."""

    emulator: BotApiEmulator
    db_path: Path
    webhook: bool = False
    task: asyncio.Task[None] | None = None
    stop: asyncio.Event | None = None

    def start(self, **extra: str) -> None:
        self.stop = asyncio.Event()
        options = None
        if self.webhook:
            port = free_port()
            options = WebhookOptions(f"http://127.0.0.1:{port}/hook", "127.0.0.1", port)
        settings = settings_for(self.emulator, self.db_path, **extra)
        self.task = asyncio.create_task(run(settings, webhook_options=options, stop=self.stop))

    async def ready(self) -> None:
        if self.webhook:
            await self.emulator.wait_for_call("setWebhook", timeout=10, predicate=lambda c: c.ok)
        else:
            await self.emulator.wait_for_call("getUpdates", timeout=10)

    @property
    def alive(self) -> bool:
        return self.task is not None and not self.task.done()

    async def shutdown(self) -> None:
        if self.task is None or self.stop is None:
            return
        self.stop.set()
        # A bot that died of the fault has its exception here: the test has looked at it already.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.task, timeout=15)


@pytest.fixture
async def runners(emulator: BotApiEmulator) -> AsyncIterator[list[Runner]]:
    started: list[Runner] = []
    yield started
    for runner in started:
        await runner.shutdown()


# --- getUpdates -------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["5xx", "timeout"])
async def test_get_updates_faults_are_retried_with_one_line_and_nothing_is_lost(
    emulator: BotApiEmulator,
    start_bot: StartBot,
    production_logging: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    db_path: Path,
    fault: str,
) -> None:
    # Long polls of 1 s (instead of 10) keep a getUpdates timeout quick: PTB gives up on a long
    # poll after its 5 s read timeout plus the poll time.
    monkeypatch.setattr(polling, "POLL_TIMEOUT", 1)
    await start_bot()
    awa = emulator.user(1101)
    mark = len(production_logging.records)
    emulator.consume_calls()
    if fault == "5xx":
        emulator.fail("getUpdates", status=502, description="Bad Gateway")
        expected = "NetworkError"
    else:
        emulator.set_latency(8, "getUpdates")
        expected = "TimedOut"
    # She writes while getUpdates fails: Telegram keeps her message until the bot can fetch it.
    await emulator.wait_for_call("getUpdates", timeout=5)
    emulator.set_latency(0, "getUpdates")  # the call already held keeps its delay
    await awa.send("/start")
    await greeted(awa, timeout=15)
    await nothing_more(awa)
    await wait_until(lambda: acknowledged(emulator, last_update_id(emulator)), what="the ack")
    assert inbox_rows(db_path) == 0

    assert warnings_since(production_logging, mark) == [
        f"WARNING bot.telegram.polling: getUpdates failed ({expected}, attempt 1); retrying"
    ]
    assert (
        lines_since(production_logging, mark, "bot.telegram.polling")[-1]
        == "getUpdates works again"
    )
    assert tracebacks_since(production_logging, mark) == []


# --- the Bot API unreachable for 30 seconds -------------------------------------------------


OUTAGE = 30.0


async def test_thirty_seconds_without_the_bot_api_then_everything_arrives_once(
    emulator: BotApiEmulator,
    start_bot: StartBot,
    production_logging: pytest.LogCaptureFixture,
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The bot's clock for waiting faults out: every pause it takes counts in full, at once.
    waited: list[float] = []

    async def pause(seconds: float, stop: asyncio.Event | None) -> None:
        waited.append(seconds)
        await asyncio.sleep(0.01)

    monkeypatch.setattr(polling, "pause", pause)
    await start_bot(**HOTLINE)
    desk = Desk.make(emulator)
    awa, binta = emulator.user(1001, "Awa"), emulator.user(1002, "Binta")
    case = await open_case(desk, awa)
    await desk.claim(desk.fatou, case)
    await wait_until(lambda: query(db_path, "SELECT COUNT(*) FROM outbox") == [(0,)], what="outbox")
    mark = len(production_logging.records)

    emulator.set_unreachable(True)
    # The long poll already open still answers: an update that needs no reply ends it, so that from
    # now on every request of the bot fails. That update is stored but cannot be acknowledged.
    emulator.consume_calls()
    unacknowledged = await awa.my_chat_member("member")
    await emulator.wait_for_call("getUpdates", predicate=lambda c: c.error is not None)

    # Meanwhile people keep writing; Telegram holds their updates.
    await binta.send("/start")
    hers = await awa.send("Vous êtes là ? Il est revenu.")
    reply = await desk.fatou.send(
        "Oui, je suis là. Êtes-vous en sécurité ?", thread_id=case.thread_id
    )
    waited.clear()
    await wait_until(lambda: sum(waited) >= OUTAGE, what="30 s of the bot's waiting")
    emulator.set_unreachable(False)

    await greeted(binta, timeout=20)
    await wait_for_content(emulator, STAFF, hers, case.thread_id, timeout=10)
    await wait_for_content(emulator, awa.id, reply, timeout=10)
    await wait_until(lambda: acknowledged(emulator, last_update_id(emulator)), what="the ack")
    await settle(0.5)
    assert acknowledged(emulator, unacknowledged)
    await nothing_more(binta, 0.1)
    assert count_of(desk.in_topic(case), hers) == 1
    assert count_of(from_bot(emulator, awa), reply) == 1
    assert inbox_rows(db_path) == 0
    assert query(db_path, "SELECT COUNT(*) FROM outbox") == [(0,)]

    # One line when it started, one when it ended; no traceback.
    assert warnings_since(production_logging, mark) == [
        "WARNING bot.telegram.polling: getUpdates failed (NetworkError, attempt 1); retrying"
    ]
    assert "getUpdates works again" in lines_since(production_logging, mark, "bot.telegram.polling")
    assert tracebacks_since(production_logging, mark) == []


# --- 429 on every method -------------------------------------------------------------------------


PACED_BY_429 = (
    "sendMessage",
    "editMessageText",
    "answerCallbackQuery",
    "sendContact",
    "deleteMessages",
    "leaveChat",
    "copyMessage",
    "createForumTopic",
    "closeForumTopic",
    "sendDocument",
)


async def test_a_429_on_each_method_waits_and_retries_with_one_line_each(
    emulator: BotApiEmulator, start_bot: StartBot, production_logging: pytest.LogCaptureFixture
) -> None:
    def too_many(method: str) -> None:
        emulator.fail(method, status=429, description="Too Many Requests: retry after 1",
                      retry_after=1)  # fmt: skip

    for method in ("getMe", "setMyCommands"):  # both at start
        too_many(method)
    await start_bot(**HOTLINE, BOT_ADMIN_IDS=str(ADMIN))
    for method in (*PACED_BY_429, "getUpdates"):
        too_many(method)
    desk = Desk.make(emulator)

    async def survivor() -> None:
        binta = emulator.user(1002, "Binta")
        await binta.send("/start")
        greeting = await greeted(binta)
        await binta.press(greeting, "lang:fr")
        await wait_until(lambda: binta.messages[-1].get("text") == FR_MENU, what="the menu")
        await binta.press(binta.messages[-1], "nav:emergency")
        await wait_until(lambda: [m for m in binta.messages if "contact" in m], what="a card")
        await wait_until(
            lambda: binta.messages[-1].get("text", "").startswith("☎️ Numéros utiles"),
            what="the danger screen under the cards",
        )
        await binta.send("quitter")
        await wait_until(
            lambda: [m.get("text") for m in binta.messages] == ["Bonne journée."], what="exit"
        )

    async def hotline() -> None:
        awa = emulator.user(1001, "Awa")
        case = await open_case(desk, awa)
        await desk.claim(desk.fatou, case)
        reply = await desk.fatou.send("Je suis là.", thread_id=case.thread_id)
        await wait_for_content(emulator, awa.id, reply)
        await desk.fatou.send("/close", thread_id=case.thread_id)
        await wait_until(lambda: desk.group.topics[case.thread_id].closed, what="topic closed")

    async def officer() -> None:
        menu = await become_officer(emulator, emulator.user(2001, language_code="en"))
        officer = emulator.user(2001)
        await officer.press(menu, "off:print:child", check=False)
        await wait_until(lambda: [m for m in officer.messages if "document" in m], what="a file")

    async def group() -> None:
        family = emulator.group(-4001, "Famille")
        await family.my_chat_member("member", by=emulator.user(1009))
        await emulator.wait_for_call("leaveChat", timeout=10, predicate=lambda c: c.ok)

    await asyncio.gather(survivor(), hotline(), officer(), group())
    await settle(0.3)

    refused = {c.method for c in emulator.calls if c.error is not None and c.error.status == 429}
    assert refused == {*PACED_BY_429, "getMe", "setMyCommands", "getUpdates"}
    assert [c for c in emulator.calls if c.error is not None and c.error.status != 429] == []
    limiter = [
        m
        for m in warnings_since(production_logging, 0)
        if m.startswith("WARNING bot.telegram.ratelimit")
    ]
    assert sorted(limiter) == sorted(
        f"WARNING bot.telegram.ratelimit: Telegram 429 on {method}: retry_after=1s, "
        "attempt 1 of 4, retrying"
        for method in (*PACED_BY_429, "getMe", "setMyCommands")
    )
    assert [m for m in warnings_since(production_logging, 0) if m not in limiter] == [
        "WARNING bot.telegram.polling: getUpdates failed (RetryAfter, attempt 1); retrying"
    ]
    assert tracebacks_since(production_logging, 0) == []


# --- 5xx and timeouts on what goes through the outbox ------------------------------------------


async def test_hotline_sends_that_fail_with_5xx_or_time_out_are_retried_and_arrive_once(
    emulator: BotApiEmulator,
    start_bot: StartBot,
    production_logging: pytest.LogCaptureFixture,
    db_path: Path,
) -> None:
    await start_bot(**HOTLINE)
    desk = Desk.make(emulator)
    awa = emulator.user(1001, "Awa")
    consent = await to_consent(awa)
    mark = len(production_logging.records)

    # Opening: the topic (the card has a test of its own below).
    emulator.fail("createForumTopic", status=500, description="Internal Server Error")
    case = await open_case(desk, awa, consent=consent)
    # Claiming edits the card.
    emulator.fail("editMessageText", status=503, description="Service Unavailable", chat_id=STAFF)
    await desk.claim(desk.fatou, case)
    # A reply to her.
    emulator.fail("copyMessage", status=500, description="Internal Server Error", chat_id=awa.id)
    reply = await desk.fatou.send("Je m'appelle Fatou, je vous écoute.", thread_id=case.thread_id)
    await wait_for_content(emulator, awa.id, reply)
    # Her message to staff: Telegram does not answer in time (PTB gives up after 5 s).
    emulator.consume_calls()
    emulator.set_latency(6.5, "copyMessage")
    hers = await awa.send("Merci. Je suis chez ma sœur.")
    await emulator.wait_for_call("copyMessage")
    emulator.set_latency(0, "copyMessage")
    await wait_for_content(emulator, STAFF, hers, case.thread_id, timeout=15)
    # Closing: the topic is closed and she is told.
    emulator.fail("closeForumTopic", status=502, description="Bad Gateway")
    emulator.fail("sendMessage", status=500, description="Internal Server Error", chat_id=awa.id)
    await desk.fatou.send("/close", thread_id=case.thread_id)
    await wait_until(lambda: desk.group.topics[case.thread_id].closed, what="the topic closed")
    closed = fr(service.CLOSED_BY_STAFF)
    await wait_until(lambda: closed in texts(from_bot(emulator, awa)), what="her closing note")
    await wait_until(lambda: query(db_path, "SELECT COUNT(*) FROM outbox") == [(0,)], what="outbox")
    await settle(0.5)

    assert list(desk.group.topics) == [case.thread_id]
    cards = [m for m in posted(emulator, STAFF, case.thread_id) if m.get("reply_markup")]
    assert len(cards) == 1
    assert count_of(from_bot(emulator, awa), reply) == 1
    assert count_of(desk.in_topic(case), hers) == 1
    assert texts(from_bot(emulator, awa)).count(closed) == 1
    # Each 5xx was sent again at once by the rate limiter, one line each: the outbox, whose own
    # retries wait longer, never saw them. The timeout is the outbox's to try again (the limiter
    # never repeats a request that may have arrived), with one line of its own.
    faults = ("createForumTopic", "editMessageText", "copyMessage", "closeForumTopic",
              "sendMessage")  # fmt: skip
    assert sorted(warnings_since(production_logging, mark)) == sorted(
        f"WARNING bot.telegram.ratelimit: Telegram NetworkError on {method}: "
        "attempt 1 of 3, retrying"
        for method in faults
    )
    outbox_lines = lines_since(production_logging, mark, "bot.hotline.outbox")
    retried = [line for line in outbox_lines if "will be retried" in line]
    assert len(retried) == 1
    assert retried[0].endswith("will be retried (TimedOut)")
    assert tracebacks_since(production_logging, mark) == []


async def test_a_case_card_refused_with_a_5xx_is_sent_again(
    emulator: BotApiEmulator, start_bot: StartBot
) -> None:
    await start_bot(**HOTLINE)
    desk = Desk.make(emulator)
    awa = emulator.user(1001, "Awa")
    consent = await to_consent(awa)
    emulator.fail("sendMessage", status=502, description="Bad Gateway", chat_id=STAFF)
    await awa.press(consent, "talk:agree")
    thread = await wait_until(lambda: next(iter(desk.group.topics), None), what="the topic")
    await wait_until(
        lambda: [m for m in desk.group.topic_messages(thread) if m.get("reply_markup")],
        timeout=3,
        what="the case card",
    )


# --- 5xx on what the bot says directly ----------------------------------------------------------


async def test_a_5xx_on_the_command_menu_at_start_is_one_warning_and_the_bot_serves(
    emulator: BotApiEmulator, start_bot: StartBot, production_logging: pytest.LogCaptureFixture
) -> None:
    emulator.fail("setMyCommands", status=500, description="Internal Server Error")
    await start_bot()
    awa = emulator.user(1201)
    await awa.send("/start")
    await greeted(awa)  # the menu goes out beside polling: she is answered meanwhile
    # Sent again after a short wait: the menu is set in every language.
    await wait_until(
        lambda: (
            len([c for c in emulator.calls if c.method == "setMyCommands" and c.ok]) == len(CODES)
        ),
        what="the menu in every language",
    )
    assert warnings_since(production_logging, 0) == [
        "WARNING bot.telegram.ratelimit: Telegram NetworkError on setMyCommands: "
        "attempt 1 of 3, retrying"
    ]
    assert tracebacks_since(production_logging, 0) == []


async def test_a_reply_refused_with_a_5xx_is_sent_again(
    emulator: BotApiEmulator, bot: RunningBot
) -> None:
    awa = emulator.user(1202)
    emulator.fail("sendMessage", status=500, description="Internal Server Error", chat_id=awa.id)
    await awa.send("/start")
    await greeted(awa, timeout=4)


@pytest.mark.parametrize(
    ("status", "description"), [(400, TOO_OLD), (502, "Bad Gateway")], ids=["too-old", "502"]
)
async def test_a_press_whose_spinner_answer_fails_still_gets_its_screen(
    emulator: BotApiEmulator, bot: RunningBot, status: int, description: str
) -> None:
    awa = emulator.user(1203)
    await awa.send("/start")
    greeting = await greeted(awa)
    emulator.fail("answerCallbackQuery", status=status, description=description)
    await awa.press(greeting, "lang:fr")
    await wait_until(
        lambda: awa.chat.messages[greeting["message_id"]].get("text") == FR_MENU,
        timeout=2,
        what="the greeting to become the menu",
    )


# --- faults while starting ---------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["unreachable", "getMe-500", "setWebhook-502"])
async def test_a_fault_while_starting_is_waited_out(
    emulator: BotApiEmulator, runners: list[Runner], db_path: Path, fault: str
) -> None:
    runner = Runner(emulator, db_path, webhook=fault.startswith("setWebhook"))
    runners.append(runner)
    if fault == "unreachable":
        emulator.set_unreachable(True)
    elif fault == "getMe-500":
        emulator.fail("getMe", status=500, description="Internal Server Error", times=2)
    else:
        emulator.fail("setWebhook", status=502, description="Bad Gateway", times=2)
    runner.start()
    # The fault lasts until the bot has met it twice: it waited and tried again, alive.
    failed = "setWebhook" if fault.startswith("setWebhook") else "getMe"
    await wait_until(
        lambda: len([c for c in emulator.calls if c.method == failed and c.error]) >= 2,
        what=f"two failed {failed}",
    )
    emulator.set_unreachable(False)
    awa = emulator.user(1204)
    await awa.send("/start")
    await wait_until(lambda: not runner.alive or awa.messages[-1].get("from", {}).get("is_bot"),
                     timeout=10, what="an answer")  # fmt: skip
    assert runner.alive, f"the bot stopped: {runner.task and runner.task.exception()!r}"


async def test_a_stop_while_telegram_cannot_be_reached_at_start_ends_the_run(
    emulator: BotApiEmulator, runners: list[Runner], db_path: Path
) -> None:
    runner = Runner(emulator, db_path)
    runners.append(runner)
    emulator.set_unreachable(True)
    runner.start()
    await emulator.wait_for_call("getMe", timeout=10, predicate=lambda c: c.error is not None)
    assert runner.stop is not None
    assert runner.task is not None
    runner.stop.set()  # what SIGTERM does; the outage goes on
    await asyncio.wait_for(runner.task, timeout=10)  # a guard against waiting forever


async def test_a_token_telegram_refuses_ends_the_start_with_a_clear_error(
    emulator: BotApiEmulator, db_path: Path, production_logging: pytest.LogCaptureFixture
) -> None:
    token = "987654321:" + "R" * 35
    settings = settings_for(emulator, db_path, TELEGRAM_BOT_TOKEN=token)
    with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN was refused by Telegram") as info:
        await run(settings, stop=asyncio.Event())
    assert [c.method for c in emulator.calls] == ["getMe"]  # not retried
    assert token.split(":")[1] not in str(info.value)
    assert info.value.__suppress_context__  # PTB's error, which quotes the token, is not shown
    assert token.split(":")[1] not in production_logging.text


# --- 403: she blocked the bot ------------------------------------------------------------------


async def test_a_person_who_blocked_the_bot_is_not_retried_and_costs_one_line(
    emulator: BotApiEmulator,
    bot: RunningBot,
    production_logging: pytest.LogCaptureFixture,
    db_path: Path,
) -> None:
    awa, binta = emulator.user(1301, "Awa"), emulator.user(1302, "Binta")
    mark = len(production_logging.records)
    await awa.send("/start")
    await awa.block()  # before the bot answers
    await emulator.wait_for_call(
        "sendMessage",
        predicate=lambda c: c.params.get("chat_id") == awa.id and c.finished is not None,
    )
    await binta.send("/start")
    await greeted(binta)
    await settle(0.5)
    refused = calls_to(emulator, "sendMessage", awa.id, ok=False)
    assert [c.error.status if c.error else None for c in refused] == [403]  # never retried
    assert inbox_rows(db_path) == 0  # handled: not replayed at the next start
    (line,) = warnings_since(production_logging, mark)
    assert line.startswith("ERROR bot.handlers.errors: Handling update ")
    assert "Forbidden" in line
    assert tracebacks_since(production_logging, mark) == []

    await awa.unblock()
    await awa.send("/start")
    await greeted(awa)


# --- the store cannot write ---------------------------------------------------------------------


def fill(disk: Path) -> Path:
    """Fill the filesystem to the last byte; removing the returned file ends the fault."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 20, 1 << 12, 1 << 9, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * size)
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)
    return filler


def immutable(path: Path, on: bool) -> None:
    """chattr +i: even root cannot open the file for writing (chmod does not stop root)."""
    subprocess.run(["chattr", "+i" if on else "-i", str(path)], check=True, capture_output=True)


@dataclass
class Disk:
    """A small tmpfs of the test's own, which it fills up or whose database it makes read-only.

    A file open for writing cannot become read-only under a running process (a read-only remount
    is refused while it is open; chattr +i and chmod do not stop an open handle), so a read-only
    database is the state a bot finds when it starts.
    """

    path: Path
    runners: list[Runner] = field(default_factory=list)
    stores: list[Store] = field(default_factory=list)
    filler: Path | None = None

    @property
    def db_path(self) -> Path:
        return self.path / "jigiya.sqlite3"

    def begin(self, kind: str) -> None:
        if kind == "disk-full":
            self.filler = fill(self.path)
        else:
            immutable(self.db_path, True)

    def end(self) -> None:
        if self.filler is not None and self.filler.exists():
            self.filler.unlink()
        for path in self.path.iterdir():
            immutable(path, False)

    def runner(self, emulator: BotApiEmulator, *, webhook: bool) -> Runner:
        runner = Runner(emulator, self.db_path, webhook=webhook)
        self.runners.append(runner)
        runner.start()
        return runner


@pytest.fixture
async def disk(
    emulator: BotApiEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Disk]:
    """Mounted for the test; undone whatever happens: the fault ended, the bots stopped, every
    store the bots opened closed (a bot that died of the fault leaves its connection open, see
    test_closing_the_store_on_a_full_disk_releases_the_connection), the tmpfs unmounted."""
    if os.geteuid() != 0 or shutil.which("mount") is None or shutil.which("chattr") is None:
        pytest.fail("these tests need root, mount and chattr to make a small tmpfs")
    path = tmp_path / "disk"
    path.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(path)], check=True)
    made = Disk(path)
    opening = Store.open

    async def open_and_keep(db_path: Path) -> Store:
        store = await opening(db_path)
        made.stores.append(store)
        return store

    monkeypatch.setattr(Store, "open", open_and_keep)
    try:
        yield made
    finally:
        made.end()
        for runner in made.runners:
            await runner.shutdown()
        for store in made.stores:
            with contextlib.suppress(Exception):  # closed already, as it should be
                await store.close()
        subprocess.run(["umount", "-l", str(path)], check=False)


async def _store_fault_scene(
    emulator: BotApiEmulator, disk: Disk, kind: str, webhook: bool
) -> tuple[Runner, FakeUser, int]:
    """A bot that works, then the fault, then she writes; returns the bot, her, her update id."""
    awa = emulator.user(1401)
    runner = disk.runner(emulator, webhook=webhook)
    await runner.ready()
    await awa.send("/start")
    await greeted(awa)
    await wait_until(lambda: inbox_rows(disk.db_path) == 0, what="a quiet inbox")
    if kind == "read-only":
        await runner.shutdown()
        disk.begin(kind)
        runner = disk.runner(emulator, webhook=webhook)
        await runner.ready()
    else:
        disk.begin(kind)
    await awa.send("/start")
    return runner, awa, last_update_id(emulator)


STORE_FAULTS = [("disk-full", False), ("read-only", False), ("disk-full", True)]
STORE_IDS = ["disk-full", "read-only", "disk-full-webhook"]


@pytest.mark.parametrize(("kind", "webhook"), STORE_FAULTS, ids=STORE_IDS)
async def test_an_update_the_store_cannot_take_in_is_not_acknowledged_and_is_handled_later(
    emulator: BotApiEmulator, disk: Disk, kind: str, webhook: bool
) -> None:
    runner, awa, update_id = await _store_fault_scene(emulator, disk, kind, webhook)
    await settle(1.0)
    assert not acknowledged(emulator, update_id)
    assert update_id in [u["update_id"] for u in emulator.pending_updates]
    assert len([m for m in awa.messages if m["from"]["is_bot"]]) == 1  # the first greeting only

    disk.end()
    if not runner.alive or kind == "read-only":
        # Whatever the bot did meanwhile, once the disk works a restart must handle the update.
        await runner.shutdown()
        disk.runner(emulator, webhook=webhook)
    await greeted(awa, timeout=15)
    await nothing_more(awa)
    await wait_until(lambda: inbox_rows(disk.db_path) == 0, what="a quiet inbox")


@pytest.mark.parametrize(("kind", "webhook"), STORE_FAULTS, ids=STORE_IDS)
async def test_the_bot_rides_out_a_store_that_cannot_write_with_one_line(
    emulator: BotApiEmulator,
    disk: Disk,
    production_logging: pytest.LogCaptureFixture,
    kind: str,
    webhook: bool,
) -> None:
    mark = len(production_logging.records)
    runner, awa, update_id = await _store_fault_scene(emulator, disk, kind, webhook)
    await settle(1.5)
    assert runner.alive, f"the bot stopped: {runner.task and runner.task.exception()!r}"
    assert not acknowledged(emulator, update_id)
    if webhook:  # refused, so that Telegram sends it again
        assert 503 in [attempt.status for attempt in emulator.webhook_attempts]
    # One line for the fault (a background job that writes, such as the purge, may add its own).
    problems = warnings_since(production_logging, mark)
    assert 1 <= len(problems) <= 2, problems
    assert tracebacks_since(production_logging, mark) == []
    disk.end()
    await greeted(awa, timeout=15)
    await nothing_more(awa, 1.0)
    assert runner.alive


async def write_one(store: Store, update_id: int) -> None:
    async with store.transaction() as db:
        await db.execute("INSERT INTO seen_updates VALUES (?, 0)", (update_id,))


@pytest.mark.parametrize("kind", ["disk-full", "read-only"])
async def test_the_store_writes_again_once_the_fault_ends(disk: Disk, kind: str) -> None:
    store = await Store.open(disk.db_path)
    await write_one(store, 1)
    if kind == "read-only":  # a file can only be read-only for a store that opens it so
        await store.close()
        disk.begin(kind)
        store = await Store.open(disk.db_path)
    else:
        disk.begin(kind)
    expected = "SQLITE_FULL" if kind == "disk-full" else "SQLITE_READONLY"
    for update_id in (2, 3):  # the failed write leaves no transaction open behind it
        with pytest.raises(sqlite3.OperationalError) as info:
            await write_one(store, update_id)
        assert info.value.sqlite_errorname == expected
    disk.end()
    await write_one(store, 4)
    await store.close()
    assert query(disk.db_path, "SELECT update_id FROM seen_updates") == [(1,), (4,)]


def aiosqlite_threads() -> list[threading.Thread]:
    return [
        t for t in threading.enumerate() if t.is_alive() and "_connection_worker_thread" in t.name
    ]


async def test_closing_the_store_on_a_full_disk_releases_the_connection(disk: Disk) -> None:
    before = set(aiosqlite_threads())
    store = await Store.open(disk.db_path)  # the schema is still in the WAL, not the file
    disk.begin("disk-full")
    with contextlib.suppress(sqlite3.OperationalError):
        await store.close()
    await wait_until(lambda: not set(aiosqlite_threads()) - before or None, timeout=1,
                     what="the connection's thread to end")  # fmt: skip
