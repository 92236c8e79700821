"""The durable intake on its own: a real PTB Application (initialised against the emulator), a
real store, and a handler that records what reached it."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, TypeHandler

from bot.exits import ExitGate
from bot.keys import Keys
from bot.telegram.intake import Intake
from state.inbox import Inbox
from state.store import Store
from tests.conftest import SECRET


def recording(app: Application) -> list[int]:  # type: ignore[type-arg]
    """The ids of the updates that reach the application's handlers."""
    handled: list[int] = []

    async def record(update: Update, context: object) -> None:
        handled.append(update.update_id)

    app.add_handler(TypeHandler(Update, record))
    return handled


async def forget_nothing(chat_id: int, user_id: int, message_ids: list[int]) -> None:
    """No quick exit in these tests: nothing to remember for one."""


def message_update(update_id: int) -> dict[str, Any]:
    chat = {"id": 42, "type": "private", "first_name": "A"}
    message = {"message_id": 1, "date": 1_700_000_000, "chat": chat, "text": "bonjour"}
    return {"update_id": update_id, "message": message}


async def test_an_update_of_a_kind_nobody_reads_is_kept_as_its_id_and_still_handled(
    app: Application,  # type: ignore[type-arg]
    store: Store,
) -> None:
    handled = recording(app)
    inbox = Inbox(store, Keys(SECRET))
    intake = Intake(app, inbox, ExitGate(), forget_nothing)
    odd = {"update_id": 7, "odd_new_kind": {"of": ["things", 1]}}
    await intake.accept([odd, message_update(8)])
    assert await intake.drain(5)
    assert sorted(handled) == [7, 8]
    assert await inbox.pending() == []


async def test_a_pin_of_an_inaccessible_message_is_stored_and_read_back_the_same(
    app: Application,  # type: ignore[type-arg]
    store: Store,
) -> None:
    inbox = Inbox(store, Keys(SECRET))
    group = {"id": -100, "type": "supergroup", "title": "Staff"}
    pinned = {"chat": group, "message_id": 1, "date": 0}  # the date 0 of an inaccessible one
    message = {"message_id": 5, "date": 1_700_000_000, "chat": group, "pinned_message": pinned}
    update = {"update_id": 9, "message": message}
    handled: list[Update] = []

    async def record(update: Update, context: object) -> None:
        handled.append(update)

    app.add_handler(TypeHandler(Update, record))
    intake = Intake(app, inbox, ExitGate(), forget_nothing)
    await intake.accept([update])
    assert await intake.drain(5)
    assert [(u.update_id, u.message.message_id if u.message else None) for u in handled] == [(9, 5)]
