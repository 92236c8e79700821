"""The SQLite store: one connection, one writer at a time, numbered migrations applied at start.

SQLite allows one writer; tasks sharing one aiosqlite connection also share its transaction, so
every read and write goes through `transaction()`, which holds an asyncio lock for its duration.
Flow steps are pure computation, so holding the lock across one step costs microseconds.

A write refused because the connection is read-only (the file was read-only when it was opened)
makes the next transaction reopen the connection: SQLite never lets an open connection write
again, so without this the bot would need a restart once the file is writable.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

import aiosqlite

log = logging.getLogger(__name__)

_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")

# WAL with synchronous=NORMAL: a commit survives a crash of the process at once, and a power
# cut once the next durable transaction (see `transaction`) has synced the log behind it.
# secure_delete overwrites deleted rows, so a handled update does not linger in free pages.
_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA secure_delete=ON",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
)


DAY = 86400


def now() -> int:
    """Store timestamps are whole seconds since the epoch."""
    return int(time.time())


def day_of(timestamp: int) -> int:
    """The start of the (UTC) day: what is kept of a time that must not single out a moment,
    so that no row of a person can be matched to a closed case by its time."""
    return timestamp - timestamp % DAY


async def first_row(
    db: aiosqlite.Connection, sql: str, params: tuple[object, ...] = ()
) -> sqlite3.Row | None:
    """The first row of a query, or None, in one trip to aiosqlite's thread: a cursor costs
    three (execute, fetch, close), each a wake-up of the busy event loop."""
    rows = list(await db.execute_fetchall(sql, params))
    return rows[0] if rows else None


def _read_only(error: BaseException) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    # The primary code is the low byte; extended codes (SQLITE_READONLY_*) share it.
    return isinstance(code, int) and code & 0xFF == sqlite3.SQLITE_READONLY


async def _connect(path: Path) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(path, isolation_level=None)
    try:
        for pragma in _PRAGMAS:
            await conn.execute(pragma)
    except BaseException:
        await conn.close()
        raise
    return conn


class Store:
    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self._conn = conn
        self._path = path
        self._lock = asyncio.Lock()
        # The connection refused a write as read-only: only a new connection can write.
        self._stale = False
        # A transaction was cancelled mid-way: statements it queued may not have run yet.
        self._unsettled = False

    @classmethod
    async def open(cls, path: Path) -> Store:
        path.parent.mkdir(parents=True, exist_ok=True)
        store = cls(await _connect(path), path)
        try:
            await store._migrate()
        except BaseException:
            await store._conn.close()
            raise
        return store

    async def close(self) -> None:
        async with self._lock:
            try:
                # Fold the WAL back into the main file so no old page of it stays on disk.
                await self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error as exc:
                log.warning("Could not fold the WAL back on closing (%s)", type(exc).__name__)
            finally:
                # Always close: aiosqlite's worker thread would otherwise keep the process alive.
                await self._conn.close()

    @asynccontextmanager
    async def transaction(self, *, durable: bool = False) -> AsyncIterator[aiosqlite.Connection]:
        """One atomic unit of work: committed when the block ends, rolled back if it raises.

        `durable`: on disk, power cut included, when the block ends (an fsync, done under the
        store's one lock). For what must hold before anyone is told: an update taken in before
        Telegram is told, a person forgotten by her quick exit. The WAL is written in order, so
        a power cut can lose only the last commits that were not durable, never one before a
        durable one: a lost step comes back from the inbox, whose row it had not yet deleted."""
        async with self._lock:
            if self._stale:
                await self._reopen()
            try:
                await self._settle()
                if durable:
                    await self._conn.execute("PRAGMA synchronous=FULL")
                await self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self._conn
                    await self._conn.execute("COMMIT")
                finally:
                    # Still open after a failure in the block or a failed COMMIT (SQLite itself
                    # rolls back on a full disk): end it, or every later BEGIN would fail.
                    await self._settle()
                    if durable:
                        await self._conn.execute("PRAGMA synchronous=NORMAL")
            except asyncio.CancelledError:
                self._unsettled = True
                raise
            except sqlite3.OperationalError as exc:
                if _read_only(exc):
                    # Reopened by the next transaction, when the file may be writable again.
                    self._stale = True
                raise

    async def _settle(self) -> None:
        """Roll back a transaction still open. A task cancelled while awaiting BEGIN or COMMIT
        leaves the statement queued in aiosqlite's thread, to run after the task has gone: after
        a cancellation, one trip through that queue lets it run first. Then a BEGIN left behind
        is rolled back, and a COMMIT that ran meanwhile leaves nothing to roll back."""
        if self._unsettled:
            await self._conn.execute("SELECT 1")
            self._unsettled = False
        if not self._conn.in_transaction:
            return
        try:
            await self._conn.execute("ROLLBACK")
        except sqlite3.OperationalError:
            if self._conn.in_transaction:
                raise

    async def _reopen(self) -> None:
        """A fresh connection; the old one stays (and is tried again later) if none opens."""
        try:
            fresh = await _connect(self._path)
        except sqlite3.Error as exc:
            log.warning("Could not reopen the database (%s)", type(exc).__name__)
            return
        stale, self._conn, self._stale = self._conn, fresh, False
        try:
            await stale.close()
        except sqlite3.Error as exc:
            # aiosqlite ends its thread even when closing fails.
            log.warning("Could not close the read-only connection (%s)", type(exc).__name__)

    async def checkpoint(self) -> None:
        """Truncate the WAL, which otherwise keeps copies of pages written since the last one."""
        async with self._lock:
            await self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    async def _migrate(self) -> None:
        async with self._conn.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        current = int(row[0]) if row else 0
        for number, name, sql in _migrations():
            if number <= current:
                continue
            log.info("Applying migration %s", name)
            # executescript commits first, so each migration runs inside its own BEGIN..COMMIT.
            await self._conn.executescript(
                f"BEGIN IMMEDIATE;\n{sql}\nPRAGMA user_version={number};\nCOMMIT;"
            )


def _migrations() -> list[tuple[int, str, str]]:
    found = []
    for entry in resources.files("state.migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    numbers = [n for n, _, _ in found]
    if numbers != list(range(1, len(numbers) + 1)):
        raise RuntimeError(f"migrations must be numbered 001, 002, ... without gaps: {numbers}")
    return found
