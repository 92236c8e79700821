"""The durable inbox: updates are taken in before Telegram is told, and dropped once handled."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Protocol

from state.store import Store, now

HOUR = 3600


class Sealer(Protocol):
    def seal(self, plaintext: bytes, *, context: bytes) -> bytes: ...
    def open(self, sealed: bytes, *, context: bytes) -> bytes: ...
    def pseudonym(self, *parts: object) -> str: ...


class Inbox:
    def __init__(self, store: Store, sealer: Sealer) -> None:
        self._store = store
        self._sealer = sealer

    async def take_in(self, updates: Sequence[tuple[int, bytes, int | None]]) -> list[int]:
        """Store (update_id, raw JSON, private chat id or None) in one durable transaction;
        return the new ids.

        An id taken in before, even long handled, is skipped: each update is handled once.
        """
        batch = {update_id: (raw, chat) for update_id, raw, chat in updates}
        fresh: list[int] = []
        if not batch:
            return fresh
        received = now()
        # Only to know when an id may be forgotten: kept to the hour (rounded up, so never
        # forgotten early), so that the disk does not say to the second when anyone wrote.
        seen_hour = -(-received // HOUR) * HOUR
        ids = json.dumps(list(batch))  # one statement text whatever the batch's size

        def store(conn: sqlite3.Connection) -> None:
            seen = conn.execute(
                "SELECT update_id FROM seen_updates "
                "WHERE update_id IN (SELECT value FROM json_each(?))",
                (ids,),
            )
            known = {int(row[0]) for row in seen}
            fresh[:] = [update_id for update_id in batch if update_id not in known]
            conn.executemany(
                "INSERT INTO seen_updates (update_id, seen_at) VALUES (?, ?)",
                [(update_id, seen_hour) for update_id in fresh],
            )
            conn.executemany(
                "INSERT INTO inbox (update_id, payload, received_at, chat_key) VALUES (?, ?, ?, ?)",
                [self._row(update_id, *batch[update_id], received) for update_id in fresh],
            )

        await self._store.write(store, durable=True)
        return fresh

    def _row(
        self, update_id: int, raw: bytes, chat: int | None, received: int
    ) -> tuple[int, bytes, int, str | None]:
        sealed = self._sealer.seal(raw, context=_context(update_id))
        return update_id, sealed, received, None if chat is None else self._chat_key(chat)

    async def done(self, update_id: int) -> None:
        """Drop a handled update: with the writes of its handling, in the same transaction,
        when it was handled in a unit of work (see `Store.unit`). The scheduled purge folds the
        WAL shortly after."""

        def drop(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM inbox WHERE update_id = ?", (update_id,))

        await self._store.defer(drop)

    @asynccontextmanager
    async def handling(self, update_id: int) -> AsyncIterator[None]:
        """The handling of one update as one unit of work (`Store.unit`): what it writes that may
        wait, and, if the block ends without an error, the update's removal from the inbox, go
        to disk in one transaction at its end. After an error or a cancellation the update stays,
        to be handled again on the next start."""
        async with self._store.unit():
            yield
            await self.done(update_id)

    async def left(self, chat: int, exit_update_id: int, *, also: Sequence[int] = ()) -> None:
        """Her quick exit is handled: it and every update of her chat before it (`also`: those
        it called off, some of which carry no chat key) are dropped at once, durably, and no
        copy of them stays in the WAL."""
        chat_key = self._chat_key(chat)

        def drop(conn: sqlite3.Connection) -> None:
            conn.execute(
                "DELETE FROM inbox WHERE chat_key = ? AND update_id <= ?",
                (chat_key, exit_update_id),
            )
            conn.executemany("DELETE FROM inbox WHERE update_id = ?", [(uid,) for uid in also])

        await self._store.write(drop, durable=True)
        await self._store.checkpoint()

    def _chat_key(self, chat: int) -> str:
        return self._sealer.pseudonym("inbox-chat", chat)

    async def pending(self) -> list[tuple[int, bytes]]:
        """Updates taken in but not handled (after a crash), oldest first."""
        async with self._store.reading() as db:
            rows = await db.execute_fetchall(
                "SELECT update_id, payload FROM inbox ORDER BY update_id"
            )
        return [(uid, self._sealer.open(bytes(blob), context=_context(uid))) for uid, blob in rows]


def _context(update_id: int) -> bytes:
    return f"inbox:{update_id}".encode()
