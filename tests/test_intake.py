"""The durable intake on its own: a real PTB Application (initialised against the emulator), a
real store, and a handler that records what reached it. Also its turns: each chat in order,
chats side by side within a bound, and a crowd waiting as bytes, not as handling's objects."""

from __future__ import annotations

import asyncio
import gc
import random
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


def message_update(update_id: int, chat_id: int = 42) -> dict[str, Any]:
    chat = {"id": chat_id, "type": "private", "first_name": "A"}
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


class Running:
    """A handler that counts updates running at once, in all and per chat, and keeps the order
    in which each chat's updates began."""

    def __init__(self, app: Application, pause: Any) -> None:  # type: ignore[type-arg]
        self.now = 0
        self.most = 0
        self.overlaps = 0  # an update began while another of its chat ran
        self.in_chat: dict[int, int] = {}
        self.seen: dict[int, list[int]] = {}
        self.pause = pause
        app.add_handler(TypeHandler(Update, self.handle))

    async def handle(self, update: Update, context: object) -> None:
        assert update.effective_chat is not None
        chat = update.effective_chat.id
        self.now += 1
        self.most = max(self.most, self.now)
        self.overlaps += self.in_chat.get(chat, 0) > 0
        self.in_chat[chat] = self.in_chat.get(chat, 0) + 1
        self.seen.setdefault(chat, []).append(update.update_id)
        await self.pause()
        self.in_chat[chat] -= 1
        self.now -= 1


async def test_each_chat_in_order_chats_side_by_side_within_the_bound(
    app: Application,  # type: ignore[type-arg]
    store: Store,
) -> None:
    rng = random.Random(7)
    running = Running(app, lambda: asyncio.sleep(rng.uniform(0, 0.004)))
    intake = Intake(app, Inbox(store, Keys(SECRET)), ExitGate(), forget_nothing, max_running=3)
    await intake.accept([message_update(i, chat_id=100 + i % 5) for i in range(1, 81)])
    assert await intake.drain(10)
    assert running.overlaps == 0  # one update of a chat at a time...
    for chat_id, ids in running.seen.items():
        assert ids == sorted(ids), f"chat {chat_id} out of order"  # ...in Telegram's order
    assert sum(len(ids) for ids in running.seen.values()) == 80
    assert running.most == 3  # never more than the bound, and the bound is used
    assert intake._chats == {}  # idle chats keep nothing: memory stays flat


async def test_a_chat_with_a_backlog_holds_one_place_and_does_not_hold_up_others(
    app: Application,  # type: ignore[type-arg]
    store: Store,
) -> None:
    release = asyncio.Event()
    done: list[int] = []

    async def handle(update: Update, context: object) -> None:
        assert update.effective_chat is not None
        if update.effective_chat.id == 1:
            await release.wait()
        done.append(update.update_id)

    app.add_handler(TypeHandler(Update, handle))
    intake = Intake(app, Inbox(store, Keys(SECRET)), ExitGate(), forget_nothing, max_running=2)
    await intake.accept([message_update(i, chat_id=1) for i in range(1, 21)])
    await intake.accept([message_update(100 + c, chat_id=c) for c in range(2, 6)])
    async with asyncio.timeout(5):  # twenty waiting updates of chat 1 keep nobody waiting
        while len(done) < 4:
            await asyncio.sleep(0.001)
    assert done == [102, 103, 104, 105]
    release.set()
    assert await intake.drain(10)
    assert done[4:] == list(range(1, 21))


async def test_a_crowd_waiting_is_kept_as_bytes_and_gets_handling_objects_in_its_turn(
    app: Application,  # type: ignore[type-arg]
    store: Store,
) -> None:
    """4,000 people writing at once used to get a task and a parsed Update each as they
    arrived (about 5 KB a person, kept by the allocators after the crowd): now only those
    running have them (bench/README.md, Memory)."""
    release = asyncio.Event()
    running = Running(app, release.wait)
    intake = Intake(app, Inbox(store, Keys(SECRET)), ExitGate(), forget_nothing, max_running=4)
    await intake.accept([message_update(i, chat_id=1000 + i) for i in range(1, 201)])
    await asyncio.sleep(0)
    assert running.now == 4
    assert len(intake._tasks) == 4
    assert intake.in_flight == 200
    gc.collect()
    parsed = [o for o in gc.get_objects() if isinstance(o, Update)]
    assert len(parsed) == 4  # those running
    release.set()
    assert await intake.drain(10)
    assert sum(len(ids) for ids in running.seen.values()) == 200


async def test_a_drain_out_of_time_leaves_the_rest_for_the_next_start_and_says_so(
    app: Application,  # type: ignore[type-arg]
    store: Store,
) -> None:
    release = asyncio.Event()
    Running(app, release.wait)
    inbox = Inbox(store, Keys(SECRET))
    intake = Intake(app, inbox, ExitGate(), forget_nothing, max_running=1)
    await intake.accept([message_update(1, chat_id=1), message_update(2, chat_id=2)])
    assert not await intake.drain(0.05)  # one ran out of time, one never began
    await intake.accept([message_update(3, chat_id=3)])
    assert not await intake.drain(0.05)  # stopping: nothing more begins, and it says so
    assert [uid for uid, _ in await inbox.pending()] == [1, 2, 3]
