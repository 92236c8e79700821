"""Durable intake: every update is on disk before Telegram is told we have it, and leaves the
disk once it has been handled. python-telegram-bot's own Updater acknowledges updates before
handling them, so polling and webhook both feed this instead.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime

from telegram import Update
from telegram.ext import Application

from state.inbox import Inbox

log = logging.getLogger(__name__)


class Intake:
    def __init__(self, application: Application, inbox: Inbox) -> None:  # type: ignore[type-arg]
        self._app = application
        self._inbox = inbox
        self._in_flight: set[asyncio.Task[None]] = set()
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
        rows, unstorable = [], []
        for update in updates:
            try:
                rows.append((update.update_id, _serialised(update)))
            except (TypeError, ValueError) as exc:
                # A shape PTB cannot write back must not stop the intake for everyone (its batch
                # would come back at every start): handled now, without a copy on disk.
                log.error("Update %s cannot be stored (%s)", update.update_id, type(exc).__name__)
                unstorable.append(update)
        fresh = set(await self._inbox.take_in(rows))
        for update in updates:  # in Telegram's order, which per-chat order relies on
            if update.update_id in fresh or update in unstorable:
                await self._dispatch(update)

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

    async def _dispatch(self, update: Update) -> None:
        await self._room.acquire()
        task = asyncio.create_task(self._handle(update), name=f"update-{update.update_id}")
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def _handle(self, update: Update) -> None:
        try:
            processor = self._app.update_processor
            await processor.process_update(update, self._app.process_update(update))
            # Handled, even if a handler failed (the error handler has logged it): an update
            # that fails every time must not come back forever.
            await self._inbox.done(update.update_id)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # The inbox row stays and the update is replayed on the next start.
            log.error("Update %s not finished: %s", update.update_id, type(exc).__name__)
        finally:
            self._room.release()


def _serialised(update: Update) -> bytes:
    """The update as JSON. Not PTB's to_json(): PTB 22 leaves the date of an inaccessible
    message (a pin of a message the bot cannot see) a datetime, which json cannot write."""
    return json.dumps(update.to_dict(), default=_timestamp).encode("utf-8")


def _timestamp(value: object) -> int:
    if isinstance(value, datetime):
        return int(value.timestamp())
    raise TypeError(f"{type(value).__name__} in an update")
