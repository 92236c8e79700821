"""End-to-end harness: the real Application, built by the production factory, talks HTTP to the
loopback Bot API emulator, while the test plays the people."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from telegram.ext import Application, ApplicationBuilder

import bot.app as wiring
from bot.app import run
from bot.config import Settings, load_settings
from bot.emulator import BotApiEmulator, FloodLimits
from bot.emulator.inprocess import EmulatorRequest
from bot.logs import setup_logging
from bot.telegram.ratelimit import OutgoingRateLimiter
from state.store import Store

TOKEN = "123456789:" + "T" * 35
SECRET = "QgbNwVN10EGd4hLCComa0fyuevfq1sXWgMjFMPojXf0"  # fixed: tests compare against it


def settings_for(emulator: BotApiEmulator, db_path: Path, **extra: str) -> Settings:
    return load_settings(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": emulator.base_url,
            "BOT_DB_PATH": str(db_path),
            "BOT_SECRET": SECRET,
            **extra,
        }
    )


@dataclass
class RunningBot:
    settings: Settings
    stop: asyncio.Event
    task: asyncio.Task[None]

    async def shutdown(self) -> None:
        self.stop.set()
        await asyncio.wait_for(self.task, timeout=15)


@pytest.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    """Telegram's flood limits on (429 with retry_after past them): the bot's own pacing is
    checked against a limit in every end-to-end test that keeps it."""
    async with BotApiEmulator(TOKEN, flood_limits=FloodLimits()) as emu:
        yield emu


def _unpaced(**wiring: Any) -> OutgoingRateLimiter:
    return OutgoingRateLimiter(
        private_max_rate=1000, private_time_period=1.0, overall_max_rate=1000, **wiring
    )


@pytest.fixture
def in_process(monkeypatch: pytest.MonkeyPatch, emulator: BotApiEmulator) -> None:
    """The in-process tier: the real application, its requests handed to the emulator without
    HTTP (bot/emulator/inprocess.py). Tests of what needs the wire leave it out."""

    def request(**_: Any) -> EmulatorRequest:
        return EmulatorRequest(emulator)

    monkeypatch.setattr(wiring, "AiohttpRequest", request)


@pytest.fixture
def unpaced(monkeypatch: pytest.MonkeyPatch, emulator: BotApiEmulator) -> None:
    """The bot's answers at once, for tests that check what is said rather than its pace (about
    a message a second per chat after a burst of three: tested in test_ratelimit.py and
    test_e2e_telegram_limits.py); Telegram's limits are lifted with it."""
    monkeypatch.setattr(wiring, "OutgoingRateLimiter", _unpaced)
    emulator.set_flood_limits(None)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "jigiya.sqlite3"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[Store]:
    """A real store in the test's own folder, closed (its WAL folded) at the end."""
    store = await Store.open(db_path)
    yield store
    await store.close()


@pytest.fixture
async def app(emulator: BotApiEmulator) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """A real python-telegram-bot Application, initialised against the emulator, fed in
    process: no polling, no handlers of Jigiya's (the test adds what it needs)."""
    builder = ApplicationBuilder().token(TOKEN).base_url(emulator.base_url).updater(None)
    application = builder.build()
    async with application:
        yield application


StartBot = Callable[..., Awaitable[RunningBot]]


@pytest.fixture
async def start_bot(emulator: BotApiEmulator, db_path: Path) -> AsyncIterator[StartBot]:
    """Start the bot (again, for restart tests) with the same database; stopped at teardown."""
    running: list[RunningBot] = []

    async def start(**extra: str) -> RunningBot:
        settings = settings_for(emulator, db_path, **extra)
        stop = asyncio.Event()
        task = asyncio.create_task(run(settings, stop=stop))
        bot = RunningBot(settings, stop, task)
        running.append(bot)
        # Ready once it polls: everything before getUpdates (commands, replay) is done.
        await emulator.wait_for_call("getUpdates", timeout=10)
        return bot

    yield start
    for bot in running:
        if not bot.task.done():
            with contextlib.suppress(Exception):
                await bot.shutdown()


@pytest.fixture
async def bot(start_bot: StartBot) -> RunningBot:
    return await start_bot()


@pytest.fixture
def production_logging(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Logging as `setup_logging()` sets it up in production (root at INFO, chatty libraries at
    WARNING), with caplog's handler added back to the root; everything is restored after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    manager = logging.root.manager
    levels = {n: lg.level for n, lg in manager.loggerDict.items() if isinstance(lg, logging.Logger)}
    setup_logging()
    root.addHandler(caplog.handler)
    try:
        yield caplog
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, logger in list(manager.loggerDict.items()):
            if isinstance(logger, logging.Logger):
                logger.setLevel(levels.get(name, logging.NOTSET))
