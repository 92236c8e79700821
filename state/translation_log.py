"""Translators' append-only log: proposed translations and voice notes, and their approvals
(migration 010). Read whole at start, to lay approved translations over the compiled catalogs."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, replace
from typing import Literal

import aiosqlite

from state.directory_log import AlreadyDecided

Action = Literal["propose", "approve", "reject"]
Kind = Literal["text", "voice"]
Role = Literal["translator", "administrator"]


@dataclass(frozen=True)
class TranslationEntry:
    id: int
    at: int
    actor: int  # a translator's or administrator's Telegram id: never exported
    role: Role  # what the export credits
    action: Action
    language: str
    kind: Kind
    msgid: str  # a catalog msgid (text) or a survivor screen's name (voice)
    content: str | None = None  # text: the forms as a JSON list; voice: the file_id
    duration: int | None = None  # voice: seconds
    proposal: int | None = None  # for a decision: the proposal's id


async def append(db: aiosqlite.Connection, entry: TranslationEntry) -> TranslationEntry:
    """Write one entry (its `id` is ignored) and return it with the id it was given."""
    try:
        cur = await db.execute(
            "INSERT INTO translation_log (at, actor, role, action, language, kind, msgid, "
            "content, duration, proposal) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (entry.at, entry.actor, entry.role, entry.action, entry.language, entry.kind,
             entry.msgid, entry.content, entry.duration, entry.proposal),
        )  # fmt: skip
    except sqlite3.IntegrityError as exc:
        if entry.proposal is not None:
            raise AlreadyDecided from exc
        raise
    assert cur.lastrowid is not None
    return replace(entry, id=cur.lastrowid)


async def entries(db: aiosqlite.Connection) -> list[TranslationEntry]:
    """Every entry, oldest first."""
    rows = await db.execute_fetchall(
        "SELECT id, at, actor, role, action, language, kind, msgid, content, duration, proposal "
        "FROM translation_log ORDER BY id"
    )
    return [TranslationEntry(*row) for row in rows]
