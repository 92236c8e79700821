"""Durable intake: every update is on disk before Telegram is told we have it, and leaves the
disk once it has been handled. python-telegram-bot's own Updater acknowledges updates before
handling them, so polling and webhook both feed this instead.

Only what handling needs is kept (bot/minimal.py), and that form is what is handled, at once or
after a restart. One private chat cannot hold everyone up: beyond `PER_CHAT_PENDING` updates
waiting, the rest of that chat's burst is dropped. A quick exit never waits behind her own
queue: it is recognised as it arrives, cancels what of hers was still waiting or running, and
closes her chat to all of it (bot/exits.py) until it has said goodbye.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.exits import LEAVING, ExitGate
from bot.flows.survivor import wants_quick_exit
from bot.handlers.events import event_of
from bot.minimal import minimal
from state.inbox import Inbox

log = logging.getLogger(__name__)

# Updates of one private chat waiting or running at once; a person tapping fast has a few.
PER_CHAT_PENDING = 32

FloodNote = Callable[[Update], Awaitable[None]]
# Remembers ids of messages in a private chat (chat id, user id, ids) for her quick exit.
Remember = Callable[[int, int, list[int]], Awaitable[None]]


class _Work:
    """An update dispatched and not finished yet, in its chat's order."""

    __slots__ = ("leaving", "message_id", "task", "update_id")

    def __init__(self, update: Update, task: asyncio.Task[None], leaving: bool) -> None:
        self.update_id = update.update_id
        self.message_id = update.message.message_id if update.message else None
        self.task = task
        self.leaving = leaving


class Intake:
    def __init__(
        self,
        application: Application,  # type: ignore[type-arg]
        inbox: Inbox,
        exits: ExitGate,
        remember: Remember,
        *,
        on_flood: FloodNote | None = None,
    ) -> None:
        self._app = application
        self._inbox = inbox
        self._exits = exits
        self._remember = remember
        self._on_flood = on_flood
        self._in_flight: set[asyncio.Task[None]] = set()
        self._chats: dict[int, list[_Work]] = {}
        # Private chats that were told to wait during their current burst: told once.
        self._flooded: set[int] = set()
        # Never more in flight than the processor admits without blocking, which keeps
        # per-chat order (see bot/processor.py); past that, intake waits.
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
            update = Update.de_json(json.loads(raw), self._app.bot)
            await self._dispatch(update)
        return len(pending)

    async def accept(self, updates: list[Update]) -> None:
        """Store the updates durably, then start handling the ones not seen before.

        Returns once they are stored: from then on a crash cannot lose them, so the caller
        may acknowledge them to Telegram.
        """
        if not updates:
            return
        rows: list[tuple[int, bytes]] = []
        kept: list[Update] = []
        flooded: list[Update] = []
        dropped: dict[tuple[int, int], list[int]] = {}
        waiting: dict[int, int] = {}
        for update in updates:
            slim = minimal(update.to_dict())
            raw = json.dumps(slim, default=_timestamp).encode("utf-8")
            update = Update.de_json(json.loads(raw), self._app.bot)
            chat = _private_chat(update)
            if chat is not None and not _leaving(update):
                waiting[chat] = waiting.get(chat, len(self._chats.get(chat, ()))) + 1
                if waiting[chat] > PER_CHAT_PENDING:
                    if chat not in self._flooded:
                        self._flooded.add(chat)
                        flooded.append(update)
                    if update.message is not None and update.effective_user is not None:
                        # Unread, but still in her chat: her quick exit deletes it too.
                        who = (chat, update.effective_user.id)
                        dropped.setdefault(who, []).append(update.message.message_id)
                    continue
            rows.append((update.update_id, raw))
            kept.append(update)
        fresh = set(await self._inbox.take_in(rows))
        for (chat, user), ids in dropped.items():
            await self._remember(chat, user, ids)
        for update in kept:  # in Telegram's order, which per-chat order relies on
            if update.update_id in fresh:
                await self._dispatch(update)
        for update in flooded:  # behind what was kept, so the burst counts as one
            self._flood(update)

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
            chat = _private_chat(update)
            self._track(chat, update, self._on_flood(update), leaving=False)

    async def _dispatch(self, update: Update) -> None:
        chat = _private_chat(update) or _chat_of(update)
        if _leaving(update) and chat is not None:
            # Her quick exit: everything of hers before it is called off, now.
            self._exits.close(chat)
            earlier = list(self._chats.get(chat, ()))
            for work in earlier:
                if not work.leaving:  # an earlier exit is let finish: it does the same
                    work.task.cancel()
            self._track(chat, update, self._leave(update, chat, earlier), leaving=True)
            return
        # Behind an exit still under way in this chat: it goes first, whole.
        exits = [w.task for w in self._chats.get(chat, ()) if w.leaving] if chat else []
        await self._room.acquire()
        self._track(chat, update, self._handle(update, exits), leaving=False, room=True)

    def _track(
        self,
        chat: int | None,
        update: Update,
        work: Coroutine[Any, Any, None] | Awaitable[None],
        *,
        leaving: bool,
        room: bool = False,
    ) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        task.set_name(f"update-{update.update_id}")
        self._in_flight.add(task)
        entry = _Work(update, task, leaving)
        if chat is not None:
            self._chats.setdefault(chat, []).append(entry)

        def finished(task: asyncio.Task[None]) -> None:
            self._in_flight.discard(task)
            if room:
                self._room.release()
            if chat is None:
                return
            queue = self._chats.get(chat, [])
            if entry in queue:
                queue.remove(entry)
            if not queue:
                self._chats.pop(chat, None)
                self._flooded.discard(chat)

        task.add_done_callback(finished)

    async def _handle(self, update: Update, after: list[asyncio.Task[None]]) -> None:
        try:
            if after:
                await asyncio.wait(after)
            processor = self._app.update_processor
            await processor.process_update(update, self._app.process_update(update))
            # Handled, even if a handler failed (the error handler has logged it): an update
            # that fails every time must not come back forever.
            await self._inbox.done([update.update_id])
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # The inbox row stays and the update is replayed on the next start.
            log.error("Update %s not finished: %s", update.update_id, type(exc).__name__)

    async def _leave(self, update: Update, chat: int, earlier: list[_Work]) -> None:
        """Her quick exit, after what of hers it called off has stopped. It runs in her chat's
        turn like any update (nothing of hers is left ahead of it), with her chat open to its
        own requests only; then no copy of what she sent stays on disk."""
        LEAVING.set(chat)
        if earlier:
            await asyncio.wait([work.task for work in earlier])
        called_off = [w for w in earlier if not w.leaving]
        user = update.effective_user
        unread = [w.message_id for w in called_off if w.message_id is not None]
        if unread and user is not None:
            await self._remember(chat, user.id, unread)  # hers, never answered: deleted too

        async def leave() -> None:
            try:
                await self._app.process_update(update)
                handled = [*(w.update_id for w in called_off), update.update_id]
                await self._inbox.done(handled, erase=True)
            finally:
                self._exits.reopen(chat)  # before her chat's next update may start

        try:
            await self._app.update_processor.process_update(update, leave())
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.error("Quick exit %s not finished: %s", update.update_id, type(exc).__name__)


def _chat_of(update: Update) -> int | None:
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return None


def _private_chat(update: Update) -> int | None:
    chat = update.effective_chat
    return chat.id if chat is not None and chat.type == chat.PRIVATE else None


def _leaving(update: Update) -> bool:
    """A quick exit (button, /exit or an exit word) in a private chat."""
    return _private_chat(update) is not None and wants_quick_exit(event_of(update))


def _timestamp(value: object) -> int:
    """Dates as Telegram sends them. PTB 22 leaves the date of an inaccessible message (a pin
    of a message the bot cannot see) a datetime, which json cannot write."""
    if isinstance(value, datetime):
        return int(value.timestamp())
    raise TypeError(f"{type(value).__name__} in an update")
