"""The append-only logs' shared reading and writing (the directory's, migration 007, and the
translators', migration 010): a log's rows are a frozen dataclass whose fields, `id` first, are
the table's columns; triggers refuse UPDATE and DELETE, and a decision's `proposal` is unique."""

from __future__ import annotations

import sqlite3
from dataclasses import fields, replace
from typing import Any, ClassVar, Literal, Protocol, TypeVar

import aiosqlite


class AlreadyDecided(Exception):
    """Someone else approved or rejected this proposal first."""


class Entry(Protocol):
    __dataclass_fields__: ClassVar[dict[str, Any]]

    @property
    def proposal(self) -> int | None: ...


Table = Literal["directory_log", "translation_log"]


E = TypeVar("E", bound=Entry)


async def append(db: aiosqlite.Connection, table: Table, entry: E) -> E:
    """Write one entry (its `id` is ignored) and return it with the id it was given."""
    names = [f.name for f in fields(entry) if f.name != "id"]
    try:
        cur = await db.execute(
            # Names from the code (a Table, a dataclass's fields), values as parameters.
            f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",  # noqa: S608
            [getattr(entry, name) for name in names],
        )
    except sqlite3.IntegrityError as exc:
        if entry.proposal is not None:
            raise AlreadyDecided from exc
        raise
    assert cur.lastrowid is not None
    return replace(entry, id=cur.lastrowid)


async def entries(db: aiosqlite.Connection, table: Table, kind: type[E]) -> list[E]:
    """Every entry, oldest first."""
    names = [f.name for f in fields(kind)]
    query = f"SELECT {', '.join(names)} FROM {table} ORDER BY id"  # noqa: S608 (names from the code)
    rows = await db.execute_fetchall(query)
    return [kind(*row) for row in rows]
