"""Durable intake: every update is on disk before Telegram is told we have it, and leaves the
disk once it has been handled. python-telegram-bot's own Updater acknowledges updates before
handling them, so polling and webhook both feed this instead.

Only what handling needs is kept (bot/telegram/minimal.py), and that form is what is handled,
at once or after a restart. One private chat cannot hold everyone up: beyond `PER_CHAT_PENDING`
updates waiting, the rest of that chat's burst is dropped. A quick exit never waits behind her own
queue: it is recognised as it arrives, cancels what of hers was still waiting or running, and
closes her chat to all of it (bot/exits.py) until it has said goodbye.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.exits import BEGUN, LEAVING, ExitGate
from bot.flows.base import Event
from bot.flows.survivor import wants_quick_exit
from bot.handlers.events import MAX_MATCH_TEXT, split_command
from bot.telegram.minimal import Json, Recorder, minimal, private_chat, sender
from state.inbox import Inbox

log = logging.getLogger(__name__)

# Updates of one private chat waiting or running at once; a person tapping fast has a few.
PER_CHAT_PENDING = 32
# How long her quick exit lets an answer already being made finish (its requests are refused
# from the moment she pressed exit, so it ends quickly); then it is cancelled.
RUNNING_GRACE = 2.0

FloodNote = Callable[[Update], Coroutine[Any, Any, None]]
# Remembers ids of messages in a private chat (chat id, user id, ids) for her quick exit.
Remember = Callable[[int, int, list[int]], Awaitable[None]]


class _Work:
    """An update dispatched and not finished yet, in its chat's order."""

    __slots__ = ("leaving", "message_id", "room", "started", "task", "update_id")

    def __init__(self, update: Update, *, leaving: bool, room: bool) -> None:
        self.update_id = update.update_id
        self.message_id = update.message.message_id if update.message else None
        self.leaving = leaving
        self.room = room  # holds one of the intake's places (released when it ends)
        self.started = False  # its handler has begun: cancelling it could lose what it sent
        self.task: asyncio.Task[None] | None = None


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
    ) -> None:
        self._app = application
        self._recorder = recorder
        self._inbox = inbox
        self._exits = exits
        self._remember = remember
        self._on_flood = on_flood
        self._in_flight: set[asyncio.Task[None]] = set()
        self._chats: dict[int, list[_Work]] = {}
        # Private chats that were told to wait during their current burst: told once. A burst
        # ends with a batch that brings nothing too many from the chat while nothing of it waits
        # (its queue may empty between two batches of one burst: that does not end it).
        self._flooded: set[int] = set()
        # Never more in flight than the processor admits without blocking, which keeps
        # per-chat order (see bot/telegram/processor.py); past that, intake waits.
        self._room = asyncio.Semaphore(application.update_processor.max_concurrent_updates)

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    async def replay(self) -> int:
        """Hand over what was taken in but not handled before the last stop or crash."""
        pending = await self._inbox.pending()
        if pending:
            log.info("Resuming %d update(s) received before the last stop", len(pending))
        for _, raw in pending:
            slim = json.loads(raw)
            await self._dispatch(Update.de_json(slim, self._app.bot), slim)
        return len(pending)

    async def accept(self, updates: list[Json]) -> None:
        """Store the updates (Telegram's JSON) durably, then start handling the ones not seen
        before.

        Returns once they are stored: from then on a crash cannot lose them, so the caller
        may acknowledge them to Telegram.
        """
        if not updates:
            return
        rows: list[tuple[int, bytes, int | None]] = []
        kept: list[tuple[Update, Json]] = []
        flooded: list[Json] = []
        dropped: dict[tuple[int, int], list[int]] = {}
        waiting: dict[int, int] = {}
        overflowing: set[int] = set()
        for update in updates:
            slim = _minimal(update, self._recorder)
            chat = private_chat(slim)
            if chat is not None and not _leaving(slim):
                waiting[chat] = waiting.get(chat, len(self._chats.get(chat, ()))) + 1
                if waiting[chat] > PER_CHAT_PENDING:
                    # Read no further: in a flood, a dropped update must cost next to nothing.
                    overflowing.add(chat)
                    if chat not in self._flooded:
                        self._flooded.add(chat)
                        flooded.append(slim)
                    message_id = slim.get("message", {}).get("message_id")
                    if message_id is not None and (user := sender(slim)) is not None:
                        # Unread, but still in her chat: her quick exit deletes it too.
                        dropped.setdefault((chat, user), []).append(message_id)
                    continue
            rows.append((slim["update_id"], json.dumps(slim).encode("utf-8"), chat))
            kept.append((Update.de_json(slim, self._app.bot), slim))
        self._flooded -= {c for c in self._flooded if c not in self._chats} - overflowing
        for (chat, user), ids in dropped.items():
            # Before any exit of this batch runs, so that it finds them to delete.
            await self._remember_unread(chat, user, ids)
        fresh = set(await self._inbox.take_in(rows))
        for parsed, slim in kept:  # in Telegram's order, which per-chat order relies on
            if parsed.update_id in fresh:
                await self._dispatch(parsed, slim)
        for slim in flooded:  # behind what was kept, so the burst counts as one
            self._flood(Update.de_json(slim, self._app.bot))

    async def drain(self, timeout: float) -> bool:
        """Wait for updates in flight; True if all finished. Unfinished ones stay in the inbox."""
        if not self._in_flight:
            return True
        _, pending = await asyncio.wait(set(self._in_flight), timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
            log.warning(
                "%d update(s) left unfinished; they will be handled on restart", len(pending)
            )
        return not pending

    def _flood(self, update: Update) -> None:
        """More than a person could mean at once: dropped, with one line and one note."""
        log.warning("A private chat sent more than %d updates at once; the rest is dropped",
                    PER_CHAT_PENDING)  # fmt: skip
        if self._on_flood is not None:
            # Begun now, for the gate: a quick exit after this calls the note off too.
            BEGUN.set(self._exits.now())
            chat = update.effective_chat.id if update.effective_chat else None
            self._track(chat, update, self._on_flood(update), leaving=False)
            BEGUN.set(None)

    async def _remember_unread(self, chat: int, user: int, ids: list[int]) -> None:
        """Best effort: a store fault here must not cost the batch its handling."""
        try:
            await self._remember(chat, user, ids)
        except sqlite3.Error as exc:
            log.warning("Unread message ids not remembered (%s)", type(exc).__name__)

    async def _dispatch(self, update: Update, slim: Json) -> None:
        chat = private_chat(slim) or _chat_of(update)
        if _leaving(slim) and chat is not None:
            # Her quick exit: everything of hers before it is called off, now.
            self._exits.close(str(chat))
            earlier = list(self._chats.get(chat, ()))
            for work in earlier:
                if not (work.leaving or work.started) and work.task is not None:
                    work.task.cancel()  # not begun: nothing of it reached her chat
            self._track(chat, update, self._leave(update, chat, earlier), leaving=True)
            return
        # Behind an exit still under way in this chat: it goes first, whole.
        exits = [w.task for w in self._chats.get(chat, ()) if w.leaving and w.task] if chat else []
        await self._room.acquire()
        work = self._track(chat, update, None, leaving=False, room=True)
        work.task = self._start(work, self._handle(update, work, exits), chat)

    def _track(
        self,
        chat: int | None,
        update: Update,
        coroutine: Coroutine[Any, Any, None] | None,
        *,
        leaving: bool,
        room: bool = False,
    ) -> _Work:
        work = _Work(update, leaving=leaving, room=room)
        if chat is not None:
            self._chats.setdefault(chat, []).append(work)
        if coroutine is not None:
            work.task = self._start(work, coroutine, chat)
        return work

    def _start(
        self, work: _Work, coroutine: Coroutine[Any, Any, None], chat: int | None
    ) -> asyncio.Task[None]:
        task = asyncio.create_task(coroutine, name=f"update-{work.update_id}")
        self._in_flight.add(task)

        def finished(task: asyncio.Task[None]) -> None:
            self._in_flight.discard(task)
            if work.room:
                self._room.release()
            if chat is None:
                return
            queue = self._chats.get(chat, [])
            if work in queue:
                queue.remove(work)
            if not queue:
                self._chats.pop(chat, None)

        task.add_done_callback(finished)
        return task

    async def _handle(self, update: Update, work: _Work, after: list[asyncio.Task[None]]) -> None:
        async def run() -> None:
            work.started = True
            # Its writes and its removal from the inbox in one transaction, in its chat's turn:
            # the next update of the chat reads what this one wrote. Handled, even if a handler
            # failed (the error handler has logged it): an update that fails every time must not
            # come back forever.
            async with self._inbox.handling(update.update_id):
                await self._app.process_update(update)

        handling = run()
        try:
            if after:
                await asyncio.wait(after)
            await self._app.update_processor.process_update(update, handling)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # The inbox row stays and the update is replayed on the next start (where her
            # quick exit, if one came after it, drops it: see Inbox.left).
            log.error("Update %s not finished: %s", update.update_id, type(exc).__name__)
        finally:
            handling.close()  # one called off before its turn never ran: nothing to warn of

    async def _leave(self, update: Update, chat: int, earlier: list[_Work]) -> None:
        """Her quick exit, after what of hers it called off has stopped. It runs in her chat's
        turn like any update (nothing of hers is left ahead of it), with her chat open to its
        own requests only; then no copy of what she sent stays on disk. Her chat opens again
        whatever happens here."""
        LEAVING.set(str(chat))
        try:
            await self._wait_for(earlier)
            user = update.effective_user
            unread = [w.message_id for w in earlier if w.message_id is not None and not w.leaving]
            if unread and user is not None:
                await self._remember_unread(chat, user.id, unread)  # hers, never answered

            called_off = [w.update_id for w in earlier]

            async def leave() -> None:
                await self._app.process_update(update)
                await self._inbox.left(chat, update.update_id, also=called_off)

            leaving = leave()
            try:
                await self._app.update_processor.process_update(update, leaving)
            finally:
                leaving.close()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.error("Quick exit %s not finished: %s", update.update_id, type(exc).__name__)
        finally:
            self._exits.reopen(str(chat))

    async def _wait_for(self, earlier: list[_Work]) -> None:
        """Earlier work of hers ends: what had not begun was cancelled; what had begun finishes
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


def _chat_of(update: Update) -> int | None:
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return None


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
