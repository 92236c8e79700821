"""The directory's append-only log: every check, report, proposed change and decision of the
editors (migration 007). Read whole at start, to apply approved changes over content/. A
proposal whose field is `new` adds a whole entry: `item_id` is the id it will take, `after` its
CSV cells as JSON, `reason` the source (bot/content/changes.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import aiosqlite

from state import append_log

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


async def append(db: aiosqlite.Connection, entry: LogEntry) -> LogEntry:
    """Write one entry (its `id` is ignored) and return it with the id it was given."""
    return await append_log.append(db, "directory_log", entry)


async def entries(db: aiosqlite.Connection) -> list[LogEntry]:
    """Every entry, oldest first."""
    return await append_log.entries(db, "directory_log", LogEntry)
