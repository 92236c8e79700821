"""The durable intake on its own: a real PTB Application (initialised against the emulator), a
real store, and a handler that records what reached it."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram import Update
from telegram.ext import Application, ApplicationBuilder, TypeHandler

from bot.emulator import BotApiEmulator
from bot.intake import Intake, _serialised
from bot.keys import Keys
from bot.processor import ChatOrderedProcessor
from state.inbox import Inbox
from state.store import Store
from tests.conftest import SECRET, TOKEN


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    store = await Store.open(tmp_path / "jigiya.sqlite3")
    yield store
    await store.close()


@pytest.fixture
async def app(emulator: BotApiEmulator) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    builder = ApplicationBuilder().token(TOKEN).base_url(emulator.base_url).updater(None)
    application = builder.concurrent_updates(ChatOrderedProcessor()).build()
    async with application:
        yield application


def recording(app: Application) -> list[int]:  # type: ignore[type-arg]
    """The ids of the updates that reach the application's handlers."""
    handled: list[int] = []

    async def record(update: Update, context: object) -> None:
        handled.append(update.update_id)

    app.add_handler(TypeHandler(Update, record))
    return handled


def message_update(update_id: int) -> Update:
    chat = {"id": 42, "type": "private", "first_name": "A"}
    message = {"message_id": 1, "date": 1_700_000_000, "chat": chat, "text": "bonjour"}
    update = Update.de_json({"update_id": update_id, "message": message}, None)
    assert update is not None
    return update


async def test_an_update_that_cannot_be_written_is_still_handled_and_the_rest_stored(
    app: Application,  # type: ignore[type-arg]
    store: Store,
    caplog: pytest.LogCaptureFixture,
) -> None:
    handled = recording(app)
    inbox = Inbox(store, Keys(SECRET))
    intake = Intake(app, inbox)
    # A shape json cannot write, as PTB once produced for an inaccessible pinned message.
    odd = Update(update_id=7, api_kwargs={"odd": object()})
    with caplog.at_level(logging.ERROR, logger="bot.intake"):
        await intake.accept([odd, message_update(8)])
    assert await intake.drain(5)
    assert sorted(handled) == [7, 8]
    assert await inbox.pending() == []
    assert [r.getMessage() for r in caplog.records] == ["Update 7 cannot be stored (TypeError)"]


async def test_a_pin_of_an_inaccessible_message_is_stored_and_read_back_the_same(
    app: Application,  # type: ignore[type-arg]
    store: Store,
) -> None:
    inbox = Inbox(store, Keys(SECRET))
    group = {"id": -100, "type": "supergroup", "title": "Staff"}
    pinned = {"chat": group, "message_id": 1, "date": 0}  # the date 0 of an inaccessible one
    message = {"message_id": 5, "date": 1_700_000_000, "chat": group, "pinned_message": pinned}
    update = Update.de_json({"update_id": 9, "message": message}, None)
    assert update is not None
    handled = recording(app)
    intake = Intake(app, inbox)
    # Stored as the intake stores it, not handled yet: what a restart reads back.
    assert await inbox.take_in([(9, _serialised(update))]) == [9]
    [(_, raw)] = await inbox.pending()
    assert Update.de_json(json.loads(raw), None) == update
    assert await intake.replay() == 1
    assert await intake.drain(5)
    assert handled == [9]
