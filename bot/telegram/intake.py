"""Durable intake: every update is on disk before Telegram is told we have it, and leaves the
disk once it has been handled. python-telegram-bot's own Updater acknowledges updates before
handling them, so polling and webhook both feed this instead.

Only what handling needs is kept (bot/telegram/minimal.py), and that form is what is handled,
at once or after a restart. The intake also decides when each update runs:
- the updates of one chat run one after another, in Telegram's order; chats run side by side,
  at most `MAX_RUNNING` at a time, taking turns (a chat with a backlog holds one place, never
  one per waiting update, and goes to the back of the line after each);
- an update waiting for its turn is only its stored bytes: it becomes a python-telegram-bot
  `Update` and a task when its turn comes, so a crowd waiting costs a few hundred bytes a
  person, not the handling's objects;
- one private chat cannot hold everyone up: beyond `PER_CHAT_PENDING` updates waiting, the rest
  of that chat's burst is dropped;
- a quick exit never waits behind her own queue: it is recognised as it arrives, calls off what
  of hers was still waiting or running, and closes her chat to all of it (bot/exits.py) until it
  has said goodbye.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import sqlite3
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.exits import BEGUN, LEAVING, ExitGate
from bot.flows.base import Event
from bot.flows.survivor import wants_quick_exit
from bot.handlers.events import MAX_MATCH_TEXT, split_command
from bot.telegram.minimal import Json, Recorder, chat_key, minimal, private_chat, sender
from state.inbox import Inbox

log = logging.getLogger(__name__)

# Updates handled at once, across chats.
MAX_RUNNING = 64
# Updates taken in and not finished (waiting or running); past that, the intake takes no more
# until some finish, and so Telegram keeps the rest. A batch is always taken in whole: her quick
# exit in it never waits for room behind other people's updates.
MAX_WAITING = 4096
# Updates of one private chat waiting or running at once; a person tapping fast has a few.
PER_CHAT_PENDING = 32
# How long her quick exit lets an answer already being made finish (its requests are refused
# from the moment she pressed exit, so it ends quickly); then it is cancelled.
RUNNING_GRACE = 2.0

FloodNote = Callable[[Update], Coroutine[Any, Any, None]]
# Remembers ids of messages in a private chat (chat id, user id, ids) for her quick exit.
Remember = Callable[[int, int, list[int]], Awaitable[None]]


class _Work:
    """An update taken in and not finished. Until its turn it is only its stored bytes."""

    __slots__ = ("chat", "leaving", "message_id", "raw", "started", "task", "update_id")

    def __init__(
        self, update_id: int, chat: int | None, raw: bytes | None = None, *,
        leaving: bool = False, message_id: int | None = None,
    ) -> None:  # fmt: skip
        self.update_id = update_id
        self.chat = chat
        self.raw = raw  # dropped once parsed
        self.leaving = leaving
        self.message_id = message_id
        self.started = False  # its handler has begun: cancelling it could lose what it sent
        self.task: asyncio.Task[None] | None = None

    @classmethod
    def of(cls, slim: Json, raw: bytes) -> _Work:
        message_id = slim.get("message", {}).get("message_id")
        return cls(slim["update_id"], chat_key(slim), raw, leaving=_leaving(slim),
                   message_id=message_id)  # fmt: skip


class _Chat:
    """One chat's updates: waiting in order, the one running, and what runs beside them (her
    quick exits, and the note that her burst was too much)."""

    __slots__ = ("aside", "in_line", "running", "waiting")

    def __init__(self) -> None:
        self.waiting: list[_Work] = []  # short (a private chat's is capped): a deque is 700 bytes
        self.running: _Work | None = None
        self.aside: list[_Work] = []
        self.in_line = False  # in the intake's line of chats whose turn comes

    def pending(self) -> int:
        return len(self.waiting) + (self.running is not None) + len(self.aside)

    def may_run(self) -> bool:
        """Its first waiting update may begin: nothing of the chat runs before it (a quick exit
        under way goes first, whole)."""
        return (
            self.running is None and bool(self.waiting) and not any(w.leaving for w in self.aside)
        )


class Intake:
    def __init__(
        self,
        application: Application,  # type: ignore[type-arg]
        inbox: Inbox,
        exits: ExitGate,
        remember: Remember,
        *,
        on_flood: FloodNote | None = None,
        recorder: Recorder | None = None,
        max_running: int = MAX_RUNNING,
        max_waiting: int = MAX_WAITING,
    ) -> None:
        self._app = application
        self._recorder = recorder
        self._inbox = inbox
        self._exits = exits
        self._remember = remember
        self._on_flood = on_flood
        self._max_running = max_running
        self._running = 0  # ordinary updates running (quick exits and notes are not counted)
        self._tasks: set[asyncio.Task[None]] = set()
        self._chats: dict[int, _Chat] = {}
        # Whose turn is next: chats whose first waiting update may begin (each at most once,
        # checked again when its turn comes), and updates without a chat.
        self._line: deque[_Chat | _Work] = deque()
        self._waiting = 0
        self._stopping = False
        # Private chats that were told to wait during their current burst: told once. A burst
        # ends with a batch that brings nothing too many from the chat while nothing of it waits
        # (its queue may empty between two batches of one burst: that does not end it).
        self._flooded: set[int] = set()
        # Per chat, the quick exit that has not begun yet (it waits for earlier work of hers),
        # as the list of what it will call off: a later exit joins it.
        self._unbegun: dict[int, list[_Work]] = {}
        self._max_waiting = max_waiting
        self._room = asyncio.Event()  # set while fewer than max_waiting are taken in
        self._room.set()
        # Tasks start from the intake's own context, never from the task that made room (a
        # quick exit's context lets its requests through her closed chat).
        self._context = contextvars.copy_context()

    @property
    def in_flight(self) -> int:
        """Updates taken in and not finished."""
        return len(self._tasks) + self._waiting

    async def replay(self) -> int:
        """Hand over what was taken in but not handled before the last stop or crash."""
        pending = await self._inbox.pending()
        if pending:
            log.info("Resuming %d update(s) received before the last stop", len(pending))
        for _, raw in pending:
            self._dispatch(_Work.of(json.loads(raw), raw))
        await self._until_room()
        return len(pending)

    async def accept(self, updates: list[Json]) -> None:
        """Store the updates (Telegram's JSON) durably, then start handling the ones not seen
        before.

        Returns once they are stored: from then on a crash cannot lose them, so the caller
        may acknowledge them to Telegram.
        """
        await self.take(self.reduce(updates))

    def reduce(self, updates: list[Json]) -> list[Json]:
        """The updates' minimal forms, all that `take` reads: a caller that lets the updates go
        before taking them holds no more than these while the batch is stored."""
        return [_minimal(update, self._recorder) for update in updates]

    async def take(self, batch: list[Json]) -> None:
        """`accept` for updates already reduced (`reduce`)."""
        if not batch:
            return
        rows: list[tuple[int, bytes, int | None]] = []
        kept: list[_Work] = []
        flooded: list[Json] = []
        dropped: dict[tuple[int, int], list[int]] = {}
        waiting: dict[int, int] = {}
        overflowing: set[int] = set()
        for slim in batch:
            chat = private_chat(slim)
            if chat is not None and not _leaving(slim):
                if chat not in waiting:
                    queue = self._chats.get(chat)
                    waiting[chat] = 0 if queue is None else queue.pending()
                waiting[chat] += 1
                if waiting[chat] > PER_CHAT_PENDING:
                    # Read no further: in a flood, a dropped update must cost next to nothing.
                    if chat not in overflowing and chat not in self._flooded:
                        flooded.append(slim)
                    overflowing.add(chat)
                    message_id = slim.get("message", {}).get("message_id")
                    if message_id is not None and (user := sender(slim)) is not None:
                        # Unread, but still in her chat: her quick exit deletes it too.
                        dropped.setdefault((chat, user), []).append(message_id)
                    continue
            raw = json.dumps(slim, separators=(",", ":")).encode("utf-8")  # held while it waits
            rows.append((slim["update_id"], raw, chat))
            kept.append(_Work.of(slim, raw))
        for (chat, user), ids in dropped.items():
            # Before any exit of this batch runs, so that it finds them to delete.
            await self._remember_unread(chat, user, ids)
        fresh = set(await self._inbox.take_in(rows))
        # Only once the batch is stored: if storing fails, the batch comes again and is told.
        # A burst is over once her backlog has cleared without anything too many.
        self._flooded = {c for c in self._flooded if c in self._chats} | overflowing
        for work in kept:  # in Telegram's order, which per-chat order relies on
            if work.update_id in fresh:
                self._dispatch(work)
        for slim in flooded:  # behind what was kept, so the burst counts as one
            self._flood(_parse(slim, self._app))
        await self._until_room()

    async def drain(self, timeout: float) -> bool:
        """Let what was taken in finish, for at most `timeout` seconds; True if all did. What did
        not finish, or did not begin, stays in the inbox for the next start."""
        deadline = asyncio.get_running_loop().time() + timeout
        while self._tasks:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                break
            await asyncio.wait(set(self._tasks), timeout=remaining,
                               return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
        if not self._tasks:
            return not self._waiting  # some wait only if an earlier drain ran out of time
        self._stopping = True  # out of time: nothing more begins
        pending = set(self._tasks)
        for task in pending:
            task.cancel()
        await asyncio.wait(pending)
        log.warning("%d update(s) left unfinished; they will be handled on restart",
                    len(pending) + self._waiting)  # fmt: skip
        return False

    def _flood(self, update: Update) -> None:
        """More than a person could mean at once: dropped, with one line and one note."""
        log.warning("A private chat sent more than %d updates at once; the rest is dropped",
                    PER_CHAT_PENDING)  # fmt: skip
        if self._on_flood is None or update.effective_chat is None:
            return
        chat = update.effective_chat.id
        work = _Work(update.update_id, chat)
        self._chat(chat).aside.append(work)
        # Begun now, for the gate: a quick exit after this calls the note off too.
        context = self._context.copy()
        context.run(BEGUN.set, self._exits.now())
        self._start(work, self._on_flood(update), context)

    async def _remember_unread(self, chat: int, user: int, ids: list[int]) -> None:
        """Best effort: a store fault here must not cost the batch its handling."""
        try:
            await self._remember(chat, user, ids)
        except sqlite3.Error as exc:
            log.warning("Unread message ids not remembered (%s)", type(exc).__name__)

    async def _until_room(self) -> None:
        """Return once fewer than max_waiting updates are taken in and not finished."""
        while self._waiting + self._running >= self._max_waiting:
            self._room.clear()
            await self._room.wait()

    def _freed(self) -> None:
        """Ordinary updates finished or were called off: room for more, maybe."""
        if self._waiting + self._running < self._max_waiting:
            self._room.set()

    def _dispatch(self, work: _Work) -> None:
        if work.leaving and work.chat is not None:
            self._leave_now(work, work.chat)
            return
        self._waiting += 1
        if work.chat is None:
            self._line.append(work)
        else:
            queue = self._chat(work.chat)
            queue.waiting.append(work)
            self._enter_line(queue)
        self._pump()

    def _chat(self, chat: int) -> _Chat:
        queue = self._chats.get(chat)
        if queue is None:
            queue = self._chats[chat] = _Chat()
        return queue

    def _enter_line(self, queue: _Chat) -> None:
        if not queue.in_line and queue.may_run():
            queue.in_line = True
            self._line.append(queue)

    def _pump(self) -> None:
        """Begin updates whose turn it is, while there is room to run them."""
        while self._line and self._running < self._max_running and not self._stopping:
            turn = self._line.popleft()
            if isinstance(turn, _Work):
                work = turn
            else:
                turn.in_line = False
                if not turn.may_run():
                    continue  # emptied or held by a quick exit since: back in line when free
                work = turn.running = turn.waiting.pop(0)
            self._waiting -= 1
            self._running += 1
            self._start(work, self._handle(work), self._context.copy())

    def _start(
        self, work: _Work, coroutine: Coroutine[Any, Any, None], context: contextvars.Context
    ) -> None:
        work.task = asyncio.create_task(coroutine, name=f"update-{work.update_id}", context=context)
        self._tasks.add(work.task)
        # Its own copy: nothing set on the way to the next update's start can reach another.
        work.task.add_done_callback(lambda _: self._finished(work), context=self._context.copy())

    def _finished(self, work: _Work) -> None:
        assert work.task is not None
        self._tasks.discard(work.task)
        queue = None if work.chat is None else self._chats[work.chat]
        if queue is not None and work in queue.aside:
            queue.aside.remove(work)  # a quick exit or a note: they take no room
        else:
            if queue is not None:
                queue.running = None
            self._running -= 1
            self._freed()
        if queue is not None:
            if queue.pending() == 0:
                del self._chats[work.chat]  # type: ignore[arg-type]
            else:
                self._enter_line(queue)  # at the back: chats take turns
        self._pump()

    async def _handle(self, work: _Work) -> None:
        # Its writes and its removal from the inbox in one transaction, in its chat's turn: the
        # next update of the chat reads what this one wrote. Handled, even if a handler failed
        # (the error handler has logged it): an update that fails every time must not come back
        # forever. After an error of the intake's own, the inbox row stays and the update is
        # replayed on the next start (where her quick exit, if one came after it, drops it).
        work.started = True
        raw, work.raw = work.raw, None
        assert raw is not None
        update = _parse(json.loads(raw), self._app)
        try:
            async with self._inbox.handling(work.update_id):
                await self._app.process_update(update)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.error("Update %s not finished: %s", work.update_id, type(exc).__name__)

    def _leave_now(self, work: _Work, chat: int) -> None:
        """Her quick exit: everything of hers before it is called off, now."""
        queue = self._chat(chat)
        called_off = queue.waiting[:]  # none of it began: nothing of it reached her chat
        self._waiting -= len(called_off)
        self._freed()
        queue.waiting.clear()
        unbegun = self._unbegun.get(chat)
        if unbegun is not None:
            # An exit of hers has not begun yet: it will do all that this one would. This one
            # joins it (its message is deleted, its row dropped, with what it calls off), so a
            # panicked run of taps or words makes one exit, not one task each.
            unbegun.extend([*called_off, work])
            work.raw = None
            return
        assert work.raw is not None
        update = _parse(json.loads(work.raw), self._app)
        work.raw = None
        self._exits.close(str(chat))
        earlier = [*([queue.running] if queue.running else []), *called_off, *queue.aside]
        for other in earlier:
            if other.task is not None and not (other.leaving or other.started):
                other.task.cancel()  # not begun: nothing of it reached her chat
        queue.aside.append(work)
        self._unbegun[chat] = earlier
        self._start(work, self._leave(update, chat, earlier), self._context.copy())

    async def _leave(self, update: Update, chat: int, earlier: list[_Work]) -> None:
        """Her quick exit, after what of hers it called off has stopped. It runs with her chat
        open to its own requests only; then no copy of what she sent stays on disk. Her chat
        opens again whatever happens here."""
        LEAVING.set(str(chat))
        try:
            await self._wait_for(earlier)
            self._begin_leaving(chat, earlier)  # an exit arriving from now on runs after this one
            # Hers, never answered: what was called off, and exits that joined this one.
            unread = [w.message_id for w in earlier if w.message_id is not None
                      and (not w.leaving or w.task is None)]  # fmt: skip
            user = update.effective_user
            if unread and user is not None:
                await self._remember_unread(chat, user.id, unread)  # hers, never answered
            await self._app.process_update(update)
            await self._inbox.left(chat, update.update_id, also=[w.update_id for w in earlier])
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.error("Quick exit %s not finished: %s", update.update_id, type(exc).__name__)
        finally:
            self._begin_leaving(chat, earlier)
            self._exits.reopen(str(chat))

    def _begin_leaving(self, chat: int, earlier: list[_Work]) -> None:
        if self._unbegun.get(chat) is earlier:
            del self._unbegun[chat]

    async def _wait_for(self, earlier: list[_Work]) -> None:
        """Earlier work of hers ends: what had not begun was called off; what had begun finishes
        (its requests are refused now), or is cancelled after a grace (a request of it already
        on its way still lands, and is deleted: bot/telegram/ratelimit.py). An earlier exit is
        waited for whole: it does what this one would."""
        exits = {w.task for w in earlier if w.task is not None and w.leaving}
        others = {w.task for w in earlier if w.task is not None and not w.leaving}
        if others:
            _, late = await asyncio.wait(others, timeout=RUNNING_GRACE)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late)
        if exits:
            await asyncio.wait(exits)


def _parse(slim: Json, application: Application) -> Update:  # type: ignore[type-arg]
    """The minimal form as python-telegram-bot's `Update`; one it cannot read is handled as its
    id alone, so that it is answered once and not replayed for ever."""
    try:
        return Update.de_json(slim, application.bot)
    except Exception as exc:  # KeyError, OverflowError (a date too far)...: a shape PTB refuses
        log.error("Update %s read as its id alone (%s)", slim.get("update_id"),
                  type(exc).__name__)  # fmt: skip
        return Update(slim["update_id"])


def _leaving(slim: Json) -> bool:
    """A quick exit (button, /exit or an exit word) in a private chat, read from the minimal
    form so that a flood costs no parsing: the flows say what an exit is."""
    if private_chat(slim) is None:
        return False
    if "callback_query" in slim:
        return wants_quick_exit(Event("button", 0, name=slim["callback_query"].get("data", "")))
    text = slim.get("message", {}).get("text")
    if not isinstance(text, str):
        return False
    command, _ = split_command(text)
    if command:
        return wants_quick_exit(Event("command", 0, name=command))
    return wants_quick_exit(Event("text", 0, text=text[:MAX_MATCH_TEXT]))


def _minimal(update: Json, recorder: Recorder | None) -> Json:
    """The update's minimal form; one that cannot be read keeps its id alone, so that it
    neither stops the intake for everyone nor is lost."""
    try:
        return minimal(update, recorder)
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        log.error("Update %s kept as its id alone (%s)", update.get("update_id"),
                  type(exc).__name__)  # fmt: skip
        return {"update_id": update["update_id"]}
