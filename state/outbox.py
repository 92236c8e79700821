"""The durable outbox: what must reach someone survives a crash, and is sent once it is due."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

import aiosqlite

from state.inbox import Sealer
from state.store import now

TO_PERSON, TO_STAFF = 0, 1  # priorities: lower goes first


@dataclass(frozen=True)
class Job:
    id: int
    case_id: int
    lane: str
    priority: int
    attempts: int
    action: dict[str, Any]  # {"kind": ..., ...}: what to do, opened from the sealed payload
    person_key: str | None  # whose chat a message to a person goes to


def _context(dedupe_key: str) -> bytes:
    return f"outbox:{dedupe_key}".encode()


async def enqueue(
    db: aiosqlite.Connection,
    sealer: Sealer,
    *,
    case_id: int,
    lane: str,
    priority: int,
    dedupe_key: str,
    action: dict[str, Any],
    person_key: str | None = None,
) -> bool:
    """Add a job unless one with the same key exists (a replayed update adds nothing)."""
    sealed = sealer.seal(json.dumps(action).encode(), context=_context(dedupe_key))
    try:
        await db.execute(
            "INSERT INTO outbox (case_id, lane, priority, dedupe_key, payload, next_at, "
            "created_at, person_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (case_id, lane, priority, dedupe_key, sealed, now(), now(), person_key),
        )
    except sqlite3.IntegrityError:
        return False
    return True


async def heads(db: aiosqlite.Connection, sealer: Sealer, *, at: int | None = None) -> list[Job]:
    """The oldest job of each lane, where it is due: a lane never skips ahead of a job that
    waits for a retry, so messages keep their order. People's lanes come first."""
    async with db.execute(
        "SELECT id, case_id, lane, priority, attempts, dedupe_key, payload, person_key FROM outbox "
        "WHERE id IN (SELECT MIN(id) FROM outbox GROUP BY lane) AND next_at <= ? "
        "ORDER BY priority, id",
        (at or now(),),
    ) as cur:
        rows = await cur.fetchall()
    return [
        Job(row[0], row[1], row[2], row[3], row[4],
            json.loads(sealer.open(bytes(row[6]), context=_context(row[5]))), row[7])
        for row in rows
    ]  # fmt: skip


async def drop_lane(db: aiosqlite.Connection, lane: str) -> int:
    """Forget what waits in a lane (messages to a person who has left must never arrive)."""
    cur = await db.execute("DELETE FROM outbox WHERE lane = ?", (lane,))
    return cur.rowcount


async def drop_person(db: aiosqlite.Connection, person_key: str) -> None:
    """Forget every message waiting for a person, or holding her chat id or number on its way
    to staff, whatever her case."""
    await db.execute("DELETE FROM outbox WHERE person_key = ?", (person_key,))


async def next_due_at(db: aiosqlite.Connection) -> int | None:
    async with db.execute("SELECT MIN(next_at) FROM outbox") as cur:
        row = await cur.fetchone()
    return None if row is None or row[0] is None else int(row[0])


async def done(db: aiosqlite.Connection, job_id: int) -> None:
    await db.execute("DELETE FROM outbox WHERE id = ?", (job_id,))


async def later(db: aiosqlite.Connection, job_id: int, delay: float) -> None:
    await db.execute(
        "UPDATE outbox SET attempts = attempts + 1, next_at = ? WHERE id = ?",
        (now() + max(1, round(delay)), job_id),
    )
