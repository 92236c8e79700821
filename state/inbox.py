"""The durable inbox: updates are taken in before Telegram is told, and dropped once handled."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from state.store import Store, now


class Sealer(Protocol):
    def seal(self, plaintext: bytes, *, context: bytes) -> bytes: ...
    def open(self, sealed: bytes, *, context: bytes) -> bytes: ...


class Inbox:
    def __init__(self, store: Store, sealer: Sealer) -> None:
        self._store = store
        self._sealer = sealer

    async def take_in(self, updates: Sequence[tuple[int, bytes]]) -> list[int]:
        """Store (update_id, raw JSON) pairs in one durable transaction; return the new ids.

        An id taken in before, even long handled, is skipped: each update is handled once.
        """
        fresh: list[int] = []
        async with self._store.transaction(durable=True) as db:
            for update_id, raw in updates:
                cur = await db.execute(
                    "INSERT OR IGNORE INTO seen_updates (update_id, seen_at) VALUES (?, ?)",
                    (update_id, now()),
                )
                if cur.rowcount != 1:
                    continue
                sealed = self._sealer.seal(raw, context=_context(update_id))
                await db.execute(
                    "INSERT INTO inbox (update_id, payload, received_at) VALUES (?, ?, ?)",
                    (update_id, sealed, now()),
                )
                fresh.append(update_id)
        return fresh

    async def done(self, update_ids: Sequence[int], *, erase: bool = False) -> None:
        """Drop handled updates. `erase`: at once fold the WAL too, so that no copy of them
        stays on disk (after a quick exit); otherwise the scheduled purge does it shortly."""
        async with self._store.transaction(durable=erase) as db:
            await db.executemany(
                "DELETE FROM inbox WHERE update_id = ?", [(uid,) for uid in update_ids]
            )
        if erase:
            await self._store.checkpoint()

    async def pending(self) -> list[tuple[int, bytes]]:
        """Updates taken in but not handled (after a crash), oldest first."""
        query = "SELECT update_id, payload FROM inbox ORDER BY update_id"
        async with self._store.transaction() as db, db.execute(query) as cur:
            rows = await cur.fetchall()
        return [(uid, self._sealer.open(bytes(blob), context=_context(uid))) for uid, blob in rows]


def _context(update_id: int) -> bytes:
    return f"inbox:{update_id}".encode()
