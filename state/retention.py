"""Scheduled forgetting: what is kept for a while is deleted when its time is up, and no copy
of it is left in the WAL."""

from __future__ import annotations

from dataclasses import dataclass

from state import cases, conversations, messages
from state.store import Store, now

# Telegram redelivers an unconfirmed update for at most 24 hours; ids are kept a little longer.
SEEN_UPDATE_SECONDS = 48 * 3600


@dataclass(frozen=True)
class Purged:
    message_ids: int
    seen_updates: int
    closed_cases: int
    invitations: int
    people: int
    windows: int  # case openings past the hourly window, ended blocks

    def __bool__(self) -> bool:
        return any(vars(self).values())


async def purge_expired(
    store: Store, *, case_retention_days: int, person_retention_days: int, at: int | None = None
) -> Purged:
    """Delete expired rows, then fold the WAL so no copy of them, nor of an update handled
    since the last time, stays on disk.

    `at` moves the clock, for tests."""
    at = at or now()
    async with store.transaction() as db:
        purged_messages = await messages.purge(db, at=at)
        seen = await db.execute(
            "DELETE FROM seen_updates WHERE seen_at < ?", (at - SEEN_UPDATE_SECONDS,)
        )
        closed = await cases.purge_closed(db, at - case_retention_days * 86400)
        invitations = await db.execute("DELETE FROM invitations WHERE expires_at <= ?", (at,))
        people = await conversations.forget_idle(db, person_retention_days, at=at)
        windows = await cases.purge_windows(db, at=at)
    await store.checkpoint()
    return Purged(
        message_ids=purged_messages,
        seen_updates=seen.rowcount,
        closed_cases=closed,
        invitations=invitations.rowcount,
        people=people,
        windows=windows,
    )
