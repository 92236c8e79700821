"""The SQLite store: one connection that writes, one that only reads, numbered migrations applied
at start.

SQLite allows one writer; tasks sharing one aiosqlite connection also share its transaction, so
every write holds an asyncio lock for the duration of its transaction. Reads go to a second,
read-only connection (`reading()`): WAL lets it read while a write is under way, so a read never
waits behind the lock. Each read there is one statement, read to its end in one trip, so it
always sees every commit made before it.

Three ways to write:
- `transaction()`: a block of statements, committed when it ends (durable if asked).
- `write(fn)`: committed when it returns, in one transaction with every other `write` waiting
  for the lock meanwhile (a group commit: under load one transaction carries many).
- `defer(fn)`: within a unit of work (`unit()`: the intake handles each update in one),
  gathered and committed as one `write` when the unit ends, such as the ids of the messages
  sent and the update's own removal from the inbox. Any write, transaction or read of the same
  unit commits what it gathered first, so a unit always reads what it wrote.

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
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any, Protocol, TypeVar, cast

import aiosqlite

log = logging.getLogger(__name__)

T = TypeVar("T")

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
# The reading connection: opened read-only, and refusing writes even so.
_READ_PRAGMAS = ("PRAGMA query_only=ON", "PRAGMA busy_timeout=5000")


DAY = 86400


def now() -> int:
    """Store timestamps are whole seconds since the epoch."""
    return int(time.time())


def day_of(timestamp: int) -> int:
    """The start of the (UTC) day: what is kept of a time that must not single out a moment,
    so that no row of a person can be matched to a closed case by its time."""
    return timestamp - timestamp % DAY


class Reads(Protocol):
    """What a read needs: one statement, read whole in one trip (both connections have it)."""

    async def execute_fetchall(
        self, sql: str, parameters: Iterable[Any] | None = None
    ) -> Iterable[sqlite3.Row]: ...


# One caller's statements inside a write transaction (see `Store.write` and `Store.defer`). They
# run on the writing connection's own thread, with its sqlite3 connection: a whole transaction,
# however many writes it carries, is one trip there and back, so the event loop, busy with
# everyone's updates, is waited for once per transaction rather than once per statement.
Write = Callable[[sqlite3.Connection], object]


class Unit:
    """The deferred writes of one unit of work, not committed yet."""

    __slots__ = ("open", "writes")

    def __init__(self) -> None:
        self.writes: list[Write] = []
        self.open = True

    def take(self) -> list[Write]:
        writes, self.writes = self.writes, []
        return writes


_UNIT: ContextVar[Unit | None] = ContextVar("store_unit", default=None)


class _Waiting:
    """One caller's writes, waiting for a transaction; `outcome` is set once it has run."""

    __slots__ = ("durable", "outcome", "writes")

    def __init__(self, writes: list[Write], *, durable: bool) -> None:
        self.writes = writes
        self.durable = durable
        self.outcome: asyncio.Future[None] = asyncio.get_running_loop().create_future()


def _write_group(
    conn: sqlite3.Connection, groups: list[list[Write]], durable: bool
) -> list[Exception | None]:
    """One transaction for many callers' writes, each in a savepoint of its own: an error in
    one caller's writes undoes only them, and is returned in its place. Runs on the writing
    connection's thread; always ends the transaction (COMMIT, or ROLLBACK if that fails)."""
    errors: list[Exception | None] = []
    if durable:
        conn.execute("PRAGMA synchronous=FULL")
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            for writes in groups:
                conn.execute("SAVEPOINT write")
                try:
                    for write in writes:
                        write(conn)
                except Exception as exc:
                    if not conn.in_transaction:
                        raise  # SQLite ended the whole transaction (a full disk): all failed
                    conn.execute("ROLLBACK TO write")
                    errors.append(exc)
                else:
                    errors.append(None)
                conn.execute("RELEASE write")
            conn.execute("COMMIT")
        except BaseException:
            # SQLite may have rolled back already (a full disk): end whatever is left.
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    finally:
        if durable:
            conn.execute("PRAGMA synchronous=NORMAL")
    return errors


async def _on_thread(conn: aiosqlite.Connection, call: Callable[[sqlite3.Connection], T]) -> T:
    """Run `call` with the sqlite3 connection under `conn`, on its own thread. aiosqlite has no
    public way to run several statements in one trip; `_execute` is what each of its methods
    uses (aiosqlite is pinned in constraints.txt, and every store test goes through here)."""
    execute = cast(Callable[..., Awaitable[T]], conn._execute)
    return await execute(call, conn._conn)


class _ReadOnly:
    """The reading connection as the rest of the code sees it: `execute_fetchall` only, so that
    no cursor is ever left open across an await (another read would then share its snapshot,
    and miss a commit made since)."""

    __slots__ = ("_conn",)

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute_fetchall(
        self, sql: str, parameters: Iterable[Any] | None = None
    ) -> Iterable[sqlite3.Row]:
        return await self._conn.execute_fetchall(sql, parameters)


async def first_row(db: Reads, sql: str, params: tuple[object, ...] = ()) -> sqlite3.Row | None:
    """The first row of a query, or None, in one trip to aiosqlite's thread: a cursor costs
    three (execute, fetch, close), each a wake-up of the busy event loop."""
    rows = list(await db.execute_fetchall(sql, params))
    return rows[0] if rows else None


def _read_only(error: BaseException) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    # The primary code is the low byte; extended codes (SQLITE_READONLY_*) share it.
    return isinstance(code, int) and code & 0xFF == sqlite3.SQLITE_READONLY


def _read_only_uri(path: Path) -> str:
    return f"{path.absolute().as_uri()}?mode=ro"


async def _connect(path: Path, *, reading: bool = False) -> aiosqlite.Connection:
    if reading:
        conn = await aiosqlite.connect(_read_only_uri(path), isolation_level=None, uri=True)
    else:
        conn = await aiosqlite.connect(path, isolation_level=None)
    try:
        for pragma in _READ_PRAGMAS if reading else _PRAGMAS:
            await conn.execute(pragma)
    except BaseException:
        await conn.close()
        raise
    return conn


class Store:
    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self._conn = conn
        self._path = path
        self._reader: aiosqlite.Connection | None = None  # opened by `open`, after migrations
        self._lock = asyncio.Lock()
        self._waiting: list[_Waiting] = []  # writes waiting for a group commit: see `_commit`
        self._committer: asyncio.Task[None] | None = None
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
            store._reader = await _connect(path, reading=True)
        except BaseException:
            await store._conn.close()
            raise
        return store

    async def close(self) -> None:
        if self._committer is not None:
            await asyncio.wait([self._committer])  # writes still waiting are committed first
        async with self._lock:
            try:
                if self._reader is not None:
                    # First: the last connection to close removes the WAL.
                    await self._reader.close()
                    self._reader = None
                # Fold the WAL back into the main file so no old page of it stays on disk.
                await self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error as exc:
                log.warning("Could not fold the WAL back on closing (%s)", type(exc).__name__)
            finally:
                # Always close: aiosqlite's worker thread would otherwise keep the process alive.
                await self._conn.close()

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[Unit]:
        """One unit of work: the writes deferred in it (and in tasks it starts) are committed
        together when it ends, whether it ends well or not; an error committing them is raised
        here. Writes deferred after it ended are committed at once."""
        unit = Unit()
        token = _UNIT.set(unit)
        try:
            yield unit
        finally:
            _UNIT.reset(token)
            unit.open = False
            if unit.writes:
                await self._commit(unit.take())

    async def defer(self, write: Write) -> None:
        """Writes that need not be on disk before the caller goes on: in a unit of work they
        wait for its end (or its next write, transaction or read); outside one they are
        committed now. A crash before then loses them with the unit's own removal from the
        inbox, so the update they came from is handled again on the next start."""
        unit = _UNIT.get()
        if unit is not None and unit.open:
            unit.writes.append(write)
            return
        await self._commit([write])

    async def write(self, write: Write, *, durable: bool = False) -> None:
        """Committed when this returns (after the writes the current unit deferred), in one
        transaction with the writes of others waiting meanwhile (durable, see `transaction`, if
        any of them asks). An error in these writes is raised here alone and undoes only them."""
        unit = _UNIT.get()
        writes = [*(unit.take() if unit is not None else ()), write]
        await self._commit(writes, durable=durable)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[Reads]:
        """The read-only connection: reads that never wait behind a write. What the current unit
        of work deferred is committed first."""
        unit = _UNIT.get()
        if unit is not None and unit.writes:
            await self._commit(unit.take())
        if self._reader is None:
            raise RuntimeError("the store is closed")
        yield _ReadOnly(self._reader)

    @asynccontextmanager
    async def transaction(self, *, durable: bool = False) -> AsyncIterator[aiosqlite.Connection]:
        """One atomic unit of work: committed when the block ends, rolled back if it raises.
        What the current unit of work deferred is committed first.

        `durable`: on disk, power cut included, when the block ends (an fsync, done under the
        store's one lock). For what must hold before anyone is told: an update taken in before
        Telegram is told, a person forgotten by her quick exit. The WAL is written in order, so
        a power cut can lose only the last commits that were not durable, never one before a
        durable one: a lost step comes back from the inbox, whose row it had not yet deleted."""
        unit = _UNIT.get()
        if unit is not None and unit.writes:
            await self._commit(unit.take())
        async with self._lock, self._begun(durable=durable) as db:
            yield db

    async def _commit(self, writes: list[Write], *, durable: bool = False) -> None:
        """Commit `writes` with those of everyone else waiting meanwhile (a group commit): one
        task, the committer, takes the lock and commits every write waiting, in one transaction,
        then again for those that came meanwhile, until none waits. Each caller waits for its
        own outcome only, never for the lock, so all of one group go on at once."""
        waiting = _Waiting(writes, durable=durable)
        self._waiting.append(waiting)
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit_waiting())
        try:
            await waiting.outcome
        except asyncio.CancelledError:
            if waiting in self._waiting:  # not taken yet: nothing of it is written
                self._waiting.remove(waiting)
            raise

    async def _commit_waiting(self) -> None:
        while self._waiting:
            async with self._lock:
                group, self._waiting = self._waiting, []
                await self._commit_group(group)

    async def _commit_group(self, group: list[_Waiting]) -> None:
        """Run a group's writes in one transaction and tell each caller how its own went."""
        errors: list[Exception | None] = [RuntimeError("the store's commit was cut short")]
        errors *= len(group)
        try:
            if self._stale:
                await self._reopen()
            await self._settle()
            errors = await _on_thread(
                self._conn,
                partial(_write_group, groups=[w.writes for w in group],
                        durable=any(w.durable for w in group)),
            )  # fmt: skip
        except Exception as exc:
            errors = [exc] * len(group)
        finally:
            if any(error is not None and _read_only(error) for error in errors):
                self._stale = True  # reopened by the next transaction
            for waiting, error in zip(group, errors, strict=True):
                if waiting.outcome.done():  # its caller was cancelled meanwhile
                    continue
                if error is None:
                    waiting.outcome.set_result(None)
                else:
                    waiting.outcome.set_exception(error)

    @asynccontextmanager
    async def _begun(self, *, durable: bool = False) -> AsyncIterator[aiosqlite.Connection]:
        """BEGIN .. COMMIT, or ROLLBACK if the block raises; the caller holds the lock."""
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
            await self._conn.execute_fetchall("SELECT 1")
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
            # Read to its end: a statement left under way would stop the next group's SAVEPOINT.
            await self._conn.execute_fetchall("PRAGMA wal_checkpoint(TRUNCATE)")

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
