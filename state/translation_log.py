"""Translators' append-only log: proposed translations and voice notes, and their approvals
(migration 010). Read whole at start, to lay approved translations over the compiled catalogs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import aiosqlite

from state import append_log

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
    return await append_log.append(db, "translation_log", entry)


async def entries(db: aiosqlite.Connection) -> list[TranslationEntry]:
    """Every entry, oldest first."""
    return await append_log.entries(db, "translation_log", TranslationEntry)
