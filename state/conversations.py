"""Conversation rows (where each person is in each flow) and the person rows they hang from.

Functions taking an aiosqlite connection run in a `Store.transaction()` block; those taking a
`sqlite3.Connection` in a grouped write (`Store.write`, on the store's own thread).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

import aiosqlite

from state.store import DAY, Reads, day_of, first_row, now


@dataclass
class ConversationRow:
    state: str
    data: dict[str, Any] = field(default_factory=dict)
    last_update_id: int | None = None
    version: int = 0


class StaleWrite(RuntimeError):
    """The row changed since it was read: two writers raced, which per-chat order should prevent."""


async def load(
    db: Reads, flow: str, storage_key: str, person_key: str
) -> tuple[ConversationRow | None, str | None]:
    """The conversation row and the person's language, in one trip: what a step reads."""
    row = await first_row(
        db,
        "SELECT (SELECT language FROM people WHERE person_key = ?), "
        "c.state, c.data, c.last_update_id, c.version "
        "FROM (SELECT 1) LEFT JOIN conversations AS c ON c.flow = ? AND c.storage_key = ?",
        (person_key, flow, storage_key),
    )
    language = None if row is None else row[0]  # the outer SELECT 1 gives one row, always
    if row is None or row[1] is None:
        return None, language
    return ConversationRow(str(row[1]), json.loads(row[2]), row[3], int(row[4])), language


def save(
    conn: sqlite3.Connection, flow: str, storage_key: str, person_key: str, row: ConversationRow
) -> None:
    """Write the row if nobody changed it since it was read (optimistic version check). Runs in
    a grouped write (`Store.write`)."""
    data = json.dumps(row.data, separators=(",", ":"), sort_keys=True)
    if row.version == 0:
        conn.execute(
            "INSERT INTO conversations (flow, storage_key, person_key, state, data, "
            "last_update_id, version, updated_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?)",
            (flow, storage_key, person_key, row.state, data, row.last_update_id, day_of(now())),
        )
    else:
        cur = conn.execute(
            "UPDATE conversations SET state = ?, data = ?, last_update_id = ?, "
            "version = version + 1, updated_at = ? "
            "WHERE flow = ? AND storage_key = ? AND version = ?",
            (row.state, data, row.last_update_id, day_of(now()), flow, storage_key, row.version),
        )
        if cur.rowcount != 1:
            raise StaleWrite(f"conversation row of flow {flow} changed underneath")
    row.version += 1


async def language(db: Reads, person_key: str) -> str | None:
    row = await first_row(db, "SELECT language FROM people WHERE person_key = ?", (person_key,))
    return None if row is None else row[0]


_ENSURE_PERSON = (
    "INSERT INTO people (person_key, language, created_at, updated_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (person_key) DO UPDATE SET "
    "language = COALESCE(excluded.language, people.language), updated_at = excluded.updated_at"
)


def _person(person_key: str, language: str | None) -> tuple[str, str | None, int, int]:
    # Times are kept to the day: enough to forget a person gone quiet, too coarse to match her
    # to a case.
    ts = day_of(now())
    return person_key, language, ts, ts


async def ensure_person(db: aiosqlite.Connection, person_key: str, language: str | None) -> None:
    """Create the person row, or update the language when one is given."""
    await db.execute(_ENSURE_PERSON, _person(person_key, language))


def ensure_person_sync(conn: sqlite3.Connection, person_key: str, language: str | None) -> None:
    """`ensure_person` in a grouped write (`Store.write`)."""
    conn.execute(_ENSURE_PERSON, _person(person_key, language))


def forget_person(conn: sqlite3.Connection, person_key: str) -> None:
    """Delete the person and, by cascade, every conversation row of theirs."""
    conn.execute("DELETE FROM people WHERE person_key = ?", (person_key,))


async def leave_state(
    db: aiosqlite.Connection, person_key: str, flow: str, state: str, to: str
) -> None:
    """Move her conversation out of a state from outside the flow (her hotline case closed).
    The version is left alone: a step of hers in between simply writes over it."""
    await db.execute(
        "UPDATE conversations SET state = ? WHERE person_key = ? AND flow = ? AND state = ?",
        (to, person_key, flow, state),
    )


async def forget_idle(db: aiosqlite.Connection, idle_days: int, *, at: int) -> int:
    """Forget whole every person quiet for `idle_days`, unless a hotline case of theirs is open."""
    cur = await db.execute(
        "DELETE FROM people WHERE updated_at < ? AND NOT EXISTS "
        "(SELECT 1 FROM cases WHERE cases.person_key = people.person_key)",
        (at - idle_days * DAY,),
    )
    return cur.rowcount
