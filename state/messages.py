"""Message ids of a person's chat, kept 48 hours for the quick exit, then purged."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

import aiosqlite

from state.store import Reads, now

DELETABLE_SECONDS = 48 * 3600  # Telegram lets a bot delete messages this long


_REMEMBER = (
    "INSERT OR IGNORE INTO chat_messages (person_key, message_id, sent_at) "
    "SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM people WHERE person_key = ?)"
)


def _rows(person_key: str, message_ids: Iterable[int]) -> list[tuple[str, int, int, str]]:
    ts = now()
    return [(person_key, message_id, ts, person_key) for message_id in message_ids]


async def remember(db: aiosqlite.Connection, person_key: str, message_ids: Iterable[int]) -> None:
    """Remember ids for a person the store knows; for one it has forgotten (after her quick
    exit), nothing is written."""
    await db.executemany(_REMEMBER, _rows(person_key, message_ids))


def remember_sync(conn: sqlite3.Connection, person_key: str, message_ids: Iterable[int]) -> None:
    """`remember` in a grouped write (`Store.write`, on the store's own thread)."""
    conn.executemany(_REMEMBER, _rows(person_key, message_ids))


async def deletable(db: Reads, person_key: str) -> list[int]:
    rows = await db.execute_fetchall(
        "SELECT message_id FROM chat_messages WHERE person_key = ? AND sent_at >= ? "
        "ORDER BY message_id",
        (person_key, now() - DELETABLE_SECONDS),
    )
    return [int(row[0]) for row in rows]


async def purge(db: aiosqlite.Connection, *, at: int | None = None) -> int:
    """Forget ids too old to delete anyway; `at` moves the clock for tests."""
    cur = await db.execute(
        "DELETE FROM chat_messages WHERE sent_at < ?", ((at or now()) - DELETABLE_SECONDS,)
    )
    return cur.rowcount
