"""The durable inbox: updates are taken in before Telegram is told, and dropped once handled."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from state.store import Store, now


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
        fresh: list[int] = []
        async with self._store.transaction(durable=True) as db:
            for update_id, raw, chat in updates:
                cur = await db.execute(
                    "INSERT OR IGNORE INTO seen_updates (update_id, seen_at) VALUES (?, ?)",
                    (update_id, now()),
                )
                if cur.rowcount != 1:
                    continue
                sealed = self._sealer.seal(raw, context=_context(update_id))
                await db.execute(
                    "INSERT INTO inbox (update_id, payload, received_at, chat_key) "
                    "VALUES (?, ?, ?, ?)",
                    (update_id, sealed, now(), None if chat is None else self._chat_key(chat)),
                )
                fresh.append(update_id)
        return fresh

    async def done(self, update_id: int) -> None:
        """Drop a handled update; the scheduled purge folds the WAL shortly after."""
        async with self._store.transaction() as db:
            await db.execute("DELETE FROM inbox WHERE update_id = ?", (update_id,))

    async def left(self, chat: int, exit_update_id: int, *, also: Sequence[int] = ()) -> None:
        """Her quick exit is handled: it and every update of her chat before it (`also`: those
        it called off, some of which carry no chat key) are dropped at once, durably, and no
        copy of them stays in the WAL."""
        async with self._store.transaction(durable=True) as db:
            await db.execute(
                "DELETE FROM inbox WHERE chat_key = ? AND update_id <= ?",
                (self._chat_key(chat), exit_update_id),
            )
            await db.executemany("DELETE FROM inbox WHERE update_id = ?", [(uid,) for uid in also])
        await self._store.checkpoint()

    def _chat_key(self, chat: int) -> str:
        return self._sealer.pseudonym("inbox-chat", chat)

    async def pending(self) -> list[tuple[int, bytes]]:
        """Updates taken in but not handled (after a crash), oldest first."""
        query = "SELECT update_id, payload FROM inbox ORDER BY update_id"
        async with self._store.transaction() as db, db.execute(query) as cur:
            rows = await cur.fetchall()
        return [(uid, self._sealer.open(bytes(blob), context=_context(uid))) for uid, blob in rows]


def _context(update_id: int) -> bytes:
    return f"inbox:{update_id}".encode()
