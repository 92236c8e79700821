"""The intake keeps only what handling needs, lets no chat hold everyone up, and lets a quick
exit run ahead of her own queue: a real PTB Application fed in-process, a real store."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from telegram import Update
from telegram.ext import Application, TypeHandler

from bot.exits import ExitGate
from bot.keys import Keys
from bot.telegram.intake import PER_CHAT_PENDING, Intake
from bot.telegram.minimal import minimal
from state.inbox import Inbox
from state.store import Store
from tests.conftest import SECRET

Json = dict[str, Any]
HER, OTHER = 4242, 4343
NAME, USERNAME, TEXT = "Mariam", "mariam_kone_77", "Kayes chez ma tante"


def user(user_id: int) -> Json:
    return {"id": user_id, "is_bot": False, "first_name": NAME, "last_name": "Koné",
            "username": USERNAME, "language_code": "fr-FR"}  # fmt: skip


def private(user_id: int) -> Json:
    return {"id": user_id, "type": "private", "first_name": NAME, "username": USERNAME}


def text_update(update_id: int, chat: int, text: str = TEXT) -> Json:
    message = {"message_id": update_id, "date": 1_700_000_000, "chat": private(chat),
               "from": user(chat), "text": text}  # fmt: skip
    return {"update_id": update_id, "message": message}


def exit_press(update_id: int, chat: int) -> Json:
    bot = {"id": 1, "is_bot": True, "first_name": "Jigiya"}
    under = {"message_id": 3, "date": 1_700_000_000, "chat": private(chat), "from": bot,
             "text": "📍 Centres les plus proches du lieu partagé : Mopti"}  # fmt: skip
    query = {"id": "q1", "from": user(chat), "chat_instance": "ci", "data": "exit",
             "message": under}  # fmt: skip
    return {"update_id": update_id, "callback_query": query}


class Remembered:
    """Ids the intake asked to remember for her quick exit, per chat."""

    def __init__(self) -> None:
        self.ids: dict[int, list[int]] = {}

    async def __call__(self, chat_id: int, user_id: int, message_ids: list[int]) -> None:
        assert chat_id == user_id
        self.ids.setdefault(chat_id, []).extend(message_ids)


class Desk:
    """A handler that records what reaches it and holds her chat's updates until released."""

    def __init__(self, app: Application) -> None:  # type: ignore[type-arg]
        self.started: list[int] = []
        self.finished: list[int] = []
        self.seen: list[Json] = []
        self.release = asyncio.Event()
        app.add_handler(TypeHandler(Update, self.handle))

    async def handle(self, update: Update, context: object) -> None:
        self.started.append(update.update_id)
        self.seen.append(update.to_dict())
        chat = update.effective_chat
        query = update.callback_query
        if chat is not None and chat.id == HER and not (query and query.data == "exit"):
            await self.release.wait()
        self.finished.append(update.update_id)


class OthersHeld:
    """A handler that records which updates began and holds everyone's but hers until
    released: the running places stay taken by other people."""

    def __init__(self, app: Application) -> None:  # type: ignore[type-arg]
        self.started: list[int] = []
        self.release = asyncio.Event()
        app.add_handler(TypeHandler(Update, self.handle))

    async def handle(self, update: Update, context: object) -> None:
        self.started.append(update.update_id)
        if update.effective_chat is not None and update.effective_chat.id != HER:
            await self.release.wait()


@dataclass
class Rig:
    """An intake on the real store, with its exit gate and what it asks to remember."""

    intake: Intake
    inbox: Inbox
    exits: ExitGate
    remembered: Remembered


def rig(app: Application, store: Store, **options: Any) -> Rig:  # type: ignore[type-arg]
    inbox, exits, remembered = Inbox(store, Keys(SECRET)), ExitGate(), Remembered()
    return Rig(Intake(app, inbox, exits, remembered, **options), inbox, exits, remembered)


async def until(check: Any, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.01)


def test_minimal_keeps_ids_text_location_and_button_data_only() -> None:
    contact = {"phone_number": "+223 70 00 00 00", "first_name": "Awa", "user_id": 99,
               "vcard": "BEGIN:VCARD\nFN:Awa Traoré\nEND:VCARD"}  # fmt: skip
    message = {"message_id": 5, "date": 1, "chat": private(HER), "from": user(HER),
               "text": TEXT, "entities": [{"type": "text_mention", "offset": 0, "length": 5,
                                           "user": user(7)}],
               "contact": contact, "location": {"latitude": 14.49, "longitude": -4.18,
                                                "horizontal_accuracy": 5},
               "reply_to_message": {"message_id": 4, "date": 1, "chat": private(HER),
                                    "text": "il me frappe"},
               "photo": [{"file_id": "AgAD", "file_unique_id": "u", "width": 9, "height": 9}],
               "caption": "chez ma tante"}  # fmt: skip
    kept = minimal({"update_id": 1, "message": message})
    assert kept == {
        "update_id": 1,
        "message": {
            "message_id": 5, "date": 1, "chat": {"id": HER, "type": "private"},
            "from": {"id": HER, "is_bot": False, "first_name": "", "language_code": "fr"},
            "text": TEXT, "entities": [{"type": "text_mention", "offset": 0, "length": 5}],
            "location": {"latitude": 14.49, "longitude": -4.18},
            "contact": {"phone_number": "+223 70 00 00 00", "first_name": ""},
            "photo": [{"file_id": "", "file_unique_id": "", "width": 0, "height": 0}],
        },
    }  # fmt: skip
    pressed = minimal(exit_press(2, HER))["callback_query"]
    assert pressed["message"] == {"message_id": 3, "date": 1_700_000_000,
                                  "chat": {"id": HER, "type": "private"}}  # fmt: skip
    assert pressed["from"]["first_name"] == ""


async def test_what_waits_on_disk_is_the_minimal_form_and_is_what_handlers_see(
    app: Application,  # type: ignore[type-arg]
    store: Store,
) -> None:
    desk = Desk(app)
    made = rig(app, store)
    intake, inbox = made.intake, made.inbox
    await intake.accept([text_update(1, HER)])
    await until(lambda: desk.started == [1])
    [(_, raw)] = await inbox.pending()
    stored = json.loads(raw)
    for secret in (NAME, USERNAME, "Koné", "fr-FR"):
        assert secret not in raw.decode()
    assert stored["message"]["text"] == TEXT
    assert desk.seen[0]["message"]["from"]["first_name"] == ""
    desk.release.set()
    assert await intake.drain(5)
    assert await inbox.pending() == []


class Notes:
    """The flood notes the intake asks for (`on_flood`): the update id of each."""

    def __init__(self) -> None:
        self.ids: list[int] = []

    async def __call__(self, update: Update) -> None:
        self.ids.append(update.update_id)


async def test_one_chat_flooding_is_capped_told_once_and_holds_nobody_up(
    app: Application,  # type: ignore[type-arg]
    store: Store,
) -> None:
    desk = Desk(app)
    notes = Notes()
    made = rig(app, store, on_flood=notes)
    intake, inbox, remembered = made.intake, made.inbox, made.remembered
    await intake.accept([text_update(n, HER) for n in range(1, 201)])
    await intake.accept([text_update(1000, OTHER)])
    await until(lambda: 1000 in desk.finished)  # the other person is answered meanwhile
    assert len(await inbox.pending()) == PER_CHAT_PENDING
    await until(lambda: len(notes.ids) == 1)
    await intake.accept([text_update(n, HER) for n in range(201, 260)])
    assert notes.ids == [PER_CHAT_PENDING + 1]  # once for the whole burst
    # Unread, yet in her chat: remembered, so that her quick exit deletes them too.
    assert remembered.ids[HER] == [*range(PER_CHAT_PENDING + 1, 201), *range(201, 260)]
    desk.release.set()
    assert await intake.drain(5)
    assert sorted(desk.finished) == [*range(1, PER_CHAT_PENDING + 1), 1000]


async def test_a_burst_is_told_once_even_if_her_queue_empties_between_two_batches(
    app: Application,  # type: ignore[type-arg]
    store: Store,
) -> None:
    desk = Desk(app)
    desk.release.set()  # each update handled as soon as it can be
    notes = Notes()
    intake = rig(app, store, on_flood=notes).intake
    burst = PER_CHAT_PENDING + 8
    for first in (1, 1 + burst):  # two batches of one burst, all handled in between
        await intake.accept([text_update(n, HER) for n in range(first, first + burst)])
        assert await intake.drain(5)
    assert notes.ids == [PER_CHAT_PENDING + 1]
    await intake.accept([text_update(500, HER)])  # a batch with nothing too many: it is over
    assert await intake.drain(5)
    await intake.accept([text_update(n, HER) for n in range(600, 600 + burst)])
    assert await intake.drain(5)
    assert notes.ids == [PER_CHAT_PENDING + 1, 600 + PER_CHAT_PENDING]  # a new burst, told again


class FailingOnce(Inbox):
    """The real inbox, whose first write fails as a full or failing disk makes it fail."""

    failed = False

    async def take_in(self, updates: Sequence[tuple[int, bytes, int | None]]) -> list[int]:
        if not self.failed:
            self.failed = True
            raise sqlite3.OperationalError("disk I/O error")
        return await super().take_in(updates)


async def test_a_burst_is_told_even_if_storing_it_failed_the_first_time(
    app: Application,  # type: ignore[type-arg]
    store: Store,
) -> None:
    desk = Desk(app)
    notes = Notes()
    intake = Intake(app, FailingOnce(store, Keys(SECRET)), ExitGate(), Remembered(),
                    on_flood=notes)  # fmt: skip
    batch = intake.reduce([text_update(n, HER) for n in range(1, PER_CHAT_PENDING + 9)])
    with pytest.raises(sqlite3.OperationalError):
        await intake.take(batch)
    await intake.take(batch)  # as polling tries the same batch again (bot/telegram/polling.py)
    await until(lambda: len(notes.ids) == 1)
    assert notes.ids == [PER_CHAT_PENDING + 1]
    desk.release.set()
    assert await intake.drain(5)
    assert sorted(desk.finished) == list(range(1, PER_CHAT_PENDING + 1))


async def test_a_quick_exit_runs_ahead_of_her_queue_and_calls_it_off(
    app: Application,  # type: ignore[type-arg]
    store: Store,
) -> None:
    desk = Desk(app)
    made = rig(app, store)
    intake, inbox, exits, remembered = made.intake, made.inbox, made.exits, made.remembered
    await intake.accept([text_update(n, HER) for n in range(1, 11)])
    await until(lambda: desk.started == [1])  # one running, nine waiting behind it
    await intake.accept([exit_press(11, HER), text_update(12, HER, "/start")])
    await until(lambda: 11 in desk.finished)
    assert desk.started[:2] == [1, 11]  # nothing of hers ran between
    assert 1 not in desk.finished  # the running one was called off
    await until(lambda: not exits.closed(str(HER)))  # open again for what comes after the exit
    assert remembered.ids[HER] == list(range(1, 11))  # hers, called off: deleted by the exit
    desk.release.set()
    await until(lambda: 12 in desk.finished)  # after the exit, she is answered again
    assert await intake.drain(5)
    assert sorted(desk.finished) == [11, 12]
    assert await inbox.pending() == []


async def test_her_exit_drops_every_update_of_hers_it_called_off_even_one_without_a_chat_key(
    app: Application,  # type: ignore[type-arg]
    store: Store,
) -> None:
    Desk(app)
    made = rig(app, store)
    intake, inbox = made.intake, made.inbox
    member = {"status": "member", "user": user(1)}
    kicked = {"status": "kicked", "user": user(1), "until_date": 0}
    blocked = {"chat": private(HER), "from": user(HER), "date": 1_700_000_000,
               "old_chat_member": member, "new_chat_member": kicked}  # fmt: skip
    await intake.accept([text_update(1, HER), {"update_id": 2, "my_chat_member": blocked}])
    await intake.accept([exit_press(3, HER)])
    await until(lambda: intake.in_flight == 0, timeout=10)
    assert await inbox.pending() == []  # nothing of hers left to replay after the exit


async def test_her_exit_needs_no_running_place_and_what_of_hers_waited_never_begins(
    app: Application,  # type: ignore[type-arg]
    store: Store,
) -> None:
    others = OthersHeld(app)  # the only running places stay taken
    held, started = others.release, others.started
    made = rig(app, store, max_running=1)
    intake, inbox = made.intake, made.inbox
    await intake.accept([text_update(1, OTHER), *(text_update(n, HER) for n in (2, 3, 4))])
    await intake.accept([exit_press(5, HER)])
    await until(lambda: 5 in started)  # at once, though someone else holds the only place
    assert started == [1, 5]
    await until(lambda: intake.in_flight == 1)  # her exit is over; the other still runs
    assert [uid for uid, _ in await inbox.pending()] == [1]  # nothing of hers left to replay
    held.set()
    assert await intake.drain(5)
    assert started == [1, 5]  # hers, called off before their turn, never began


async def test_exits_arriving_before_hers_has_begun_join_it_and_make_no_task_each(
    app: Application,  # type: ignore[type-arg]
    store: Store,
) -> None:
    desk = Desk(app)
    made = rig(app, store)
    intake, inbox, exits, remembered = made.intake, made.inbox, made.exits, made.remembered
    await intake.accept([text_update(1, HER)])
    await until(lambda: desk.started == [1])
    await intake.accept([exit_press(2, HER)])  # waits for 1, which is still being answered
    panic = [text_update(3, HER), text_update(4, HER, "/exit"),
             *(exit_press(n, HER) for n in range(5, 205))]  # fmt: skip
    await intake.accept(panic)
    assert len(intake._tasks) == 2  # 1 and the exit: the 200 taps joined it
    desk.release.set()
    await until(lambda: intake.in_flight == 0)
    assert desk.started == [1, 2]  # one exit handled; 3 called off; 4 to 204 joined it
    assert remembered.ids[HER] == [1, 3, 4]  # her messages, deleted by the exit
    assert await inbox.pending() == []  # no row of hers left to replay
    assert not exits.closed(str(HER))
    assert intake._unbegun == {}
    assert intake._chats == {}
    await intake.accept([text_update(300, HER, "/start")])  # after the exit she is answered
    await until(lambda: 300 in desk.finished)


async def test_her_exit_never_waits_for_room_behind_other_peoples_updates(
    app: Application,  # type: ignore[type-arg]
    store: Store,
) -> None:
    others = OthersHeld(app)  # the only running places stay taken
    held, started = others.release, others.started
    intake = rig(app, store, max_running=1, max_waiting=2).intake
    batch = [*(text_update(n, OTHER + n) for n in (1, 2, 3)), text_update(4, HER),
             exit_press(5, HER)]  # fmt: skip
    accepting = asyncio.create_task(intake.accept(batch))
    await until(lambda: 5 in started)  # at once, though the intake is full
    assert started == [1, 5]
    assert not accepting.done()  # full: it takes no more until some finish, Telegram keeps them
    held.set()
    await accepting
    assert await intake.drain(5)
    assert started == [1, 5, 2, 3]  # hers, called off by her exit, never began
