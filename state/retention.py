"""Scheduled forgetting: what is kept for a while is deleted when its time is up."""

from __future__ import annotations

from dataclasses import dataclass

from state import messages
from state.store import Store, now

# Telegram redelivers an unconfirmed update for at most 24 hours; ids are kept a little longer.
SEEN_UPDATE_SECONDS = 48 * 3600


@dataclass(frozen=True)
class Purged:
    message_ids: int
    seen_updates: int


async def purge_expired(store: Store, *, at: int | None = None) -> Purged:
    """Delete expired rows, then fold the WAL so no copy of them stays on disk.

    `at` moves the clock, for tests."""
    at = at or now()
    async with store.transaction() as db:
        purged_messages = await messages.purge(db, at=at)
        cur = await db.execute(
            "DELETE FROM seen_updates WHERE seen_at < ?", (at - SEEN_UPDATE_SECONDS,)
        )
    await store.checkpoint()
    return Purged(message_ids=purged_messages, seen_updates=cur.rowcount)
