"""The directory's append-only log: every check, report, proposed change and decision of the
editors (migration 007). Read whole at start, to apply approved changes over content/. A
proposal whose field is `new` adds a whole entry: `item_id` is the id it will take, `after` its
CSV cells as JSON, `reason` the source (bot/content/changes.py)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, replace
from typing import Literal

import aiosqlite

Action = Literal["works", "broken", "propose", "approve", "reject"]
ItemKind = Literal["number", "centre"]


@dataclass(frozen=True)
class LogEntry:
    id: int
    at: int
    actor: int  # an editor's or administrator's Telegram id
    action: Action
    item_kind: ItemKind
    item_id: str
    field: str | None = None
    before: str | None = None
    after: str | None = None
    reason: str | None = None
    proposal: int | None = None  # for a decision: the proposal's id


class AlreadyDecided(Exception):
    """Someone else approved or rejected this proposal first."""


async def append(db: aiosqlite.Connection, entry: LogEntry) -> LogEntry:
    """Write one entry (its `id` is ignored) and return it with the id it was given."""
    try:
        cur = await db.execute(
            "INSERT INTO directory_log (at, actor, action, item_kind, item_id, field, before, "
            "after, reason, proposal) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (entry.at, entry.actor, entry.action, entry.item_kind, entry.item_id, entry.field,
             entry.before, entry.after, entry.reason, entry.proposal),
        )  # fmt: skip
    except sqlite3.IntegrityError as exc:
        if entry.proposal is not None:
            raise AlreadyDecided from exc
        raise
    assert cur.lastrowid is not None
    return replace(entry, id=cur.lastrowid)


async def entries(db: aiosqlite.Connection) -> list[LogEntry]:
    """Every entry, oldest first."""
    rows = await db.execute_fetchall(
        "SELECT id, at, actor, action, item_kind, item_id, field, before, after, reason, "
        "proposal FROM directory_log ORDER BY id"
    )
    return [LogEntry(*row) for row in rows]
