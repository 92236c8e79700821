"""How the store writes and reads: reads on a read-only connection that never waits behind a
write, writes of many callers sharing one transaction, and a unit of work's deferred writes
committed together at its end (state/store.py)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

import state.store
from bot.keys import Keys
from state.inbox import Inbox
from state.store import Store, Write
from tests.conftest import SECRET


def seen(update_id: int) -> Write:
    """A write: one row of seen_updates."""

    def write(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO seen_updates VALUES (?, 0)", (update_id,))

    return write


def on_disk(path: Path) -> list[int]:
    """The update ids committed, read by a connection of the test's own."""
    with sqlite3.connect(path) as conn:
        return [row[0] for row in conn.execute("SELECT update_id FROM seen_updates ORDER BY 1")]


async def read_ids(store: Store) -> list[int]:
    async with store.reading() as db:
        rows = await db.execute_fetchall("SELECT update_id FROM seen_updates ORDER BY 1")
    return [row[0] for row in rows]


@pytest.fixture
def transactions(store: Store, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The store's write transactions (BEGIN .. COMMIT), by kind: a `transaction()` block, or
    a group of writes (`write`, `defer`)."""
    counted: list[str] = []
    begun: Callable[..., AbstractAsyncContextManager[aiosqlite.Connection]] = store._begun
    write_group = state.store._write_group

    def block(**kwargs: Any) -> AbstractAsyncContextManager[aiosqlite.Connection]:
        counted.append("block")
        return begun(**kwargs)

    def group(*args: Any, **kwargs: Any) -> Any:
        counted.append("group")
        return write_group(*args, **kwargs)

    monkeypatch.setattr(store, "_begun", block)
    monkeypatch.setattr(state.store, "_write_group", group)
    return counted


async def test_a_read_never_waits_behind_a_write_and_sees_only_what_is_committed(
    store: Store,
) -> None:
    await store.write(seen(1))
    async with store.transaction() as db:
        await db.execute("INSERT INTO seen_updates VALUES (2, 0)")
        # The store's one lock is held here: a read that took it would never return.
        assert await read_ids(store) == [1]
    assert await read_ids(store) == [1, 2]  # every commit made before it


async def test_the_reading_connection_cannot_write(store: Store) -> None:
    async with store.reading() as db:
        with pytest.raises(sqlite3.OperationalError):
            await db.execute_fetchall("INSERT INTO seen_updates VALUES (1, 0)")
    assert await read_ids(store) == []


async def test_writes_waiting_together_share_one_transaction(
    store: Store, db_path: Path, transactions: list[str]
) -> None:
    async with store.transaction():
        # While the lock is held, five writers line up behind it.
        writers = [asyncio.create_task(store.write(seen(i))) for i in range(5)]
        await asyncio.sleep(0)  # they reach the lock
    await asyncio.gather(*writers)
    assert on_disk(db_path) == [0, 1, 2, 3, 4]
    assert transactions == ["block", "group"]  # the block's own, then one for all five


async def test_a_write_that_fails_in_a_shared_transaction_fails_alone(
    store: Store, db_path: Path
) -> None:
    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO seen_updates VALUES (10, 0)")
        raise RuntimeError("boom")

    async with store.transaction():
        writers = [
            asyncio.create_task(store.write(seen(1))),
            asyncio.create_task(store.write(broken)),
            asyncio.create_task(store.write(seen(2))),
        ]
        await asyncio.sleep(0)
    results = await asyncio.gather(*writers, return_exceptions=True)
    assert [type(r).__name__ for r in results] == ["NoneType", "RuntimeError", "NoneType"]
    assert on_disk(db_path) == [1, 2]  # nothing of the failed one, all of the others


async def test_a_writer_cancelled_while_waiting_writes_nothing_and_holds_no_one_up(
    store: Store, db_path: Path
) -> None:
    async with store.transaction():
        cancelled = asyncio.create_task(store.write(seen(1)))
        other = asyncio.create_task(store.write(seen(2)))
        await asyncio.sleep(0)
        cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    await other
    assert on_disk(db_path) == [2]


async def test_a_unit_commits_what_it_deferred_in_one_transaction_at_its_end(
    store: Store, db_path: Path, transactions: list[str]
) -> None:
    async with store.unit():
        for update_id in (1, 2, 3):
            await store.defer(seen(update_id))
        assert on_disk(db_path) == []  # not yet
    assert on_disk(db_path) == [1, 2, 3]
    assert transactions == ["group"]


async def test_a_unit_reads_what_it_deferred_and_its_write_carries_it(
    store: Store, db_path: Path, transactions: list[str]
) -> None:
    async with store.unit():
        await store.defer(seen(1))
        assert await read_ids(store) == [1]  # committed first, then read
        await store.defer(seen(2))
        await store.write(seen(3))  # carries 2, in the same transaction
        assert on_disk(db_path) == [1, 2, 3]
        await store.defer(seen(4))
        async with store.transaction() as db:
            rows = await db.execute_fetchall("SELECT COUNT(*) FROM seen_updates")
        assert list(rows) == [(4,)]
    # Before the read, the write (carrying 2), before the block (4), the block.
    assert transactions == ["group", "group", "group", "block"]


async def test_a_unit_that_fails_still_commits_what_it_deferred(
    store: Store, db_path: Path
) -> None:
    async def failing() -> None:
        async with store.unit():
            await store.defer(seen(1))
            raise RuntimeError("a handler failed")

    with pytest.raises(RuntimeError):
        await failing()
    assert on_disk(db_path) == [1]


async def test_a_task_started_in_a_unit_defers_into_it_until_it_ends(
    store: Store, db_path: Path
) -> None:
    late = asyncio.Event()

    async def helper() -> None:
        await store.defer(seen(1))  # in the unit: waits for its end
        await late.wait()
        await store.defer(seen(2))  # the unit has ended: committed at once

    async with store.unit():
        task = asyncio.create_task(helper())
        await asyncio.sleep(0)
    assert on_disk(db_path) == [1]
    late.set()
    await task
    assert on_disk(db_path) == [1, 2]


@pytest.fixture
def inbox(store: Store) -> Inbox:
    return Inbox(store, Keys(SECRET))


async def test_handling_an_update_drops_it_with_its_writes_in_one_transaction(
    store: Store, inbox: Inbox, db_path: Path, transactions: list[str]
) -> None:
    assert await inbox.take_in([(7, b"{}", 42), (8, b"{}", 42)]) == [7, 8]
    transactions.clear()
    async with inbox.handling(7):
        await store.defer(seen(100))
    assert [uid for uid, _ in await inbox.pending()] == [8]
    assert 100 in on_disk(db_path)
    assert transactions == ["group"]


async def test_an_update_whose_handling_failed_stays_for_the_next_start(
    store: Store, inbox: Inbox, db_path: Path
) -> None:
    await inbox.take_in([(7, b"{}", 42)])

    async def cut_short() -> None:
        async with inbox.handling(7):
            await store.defer(seen(100))
            raise RuntimeError("cut short")

    with pytest.raises(RuntimeError):
        await cut_short()
    assert [uid for uid, _ in await inbox.pending()] == [7]
    assert 100 in on_disk(db_path)  # what it did before failing is kept


async def test_a_batch_taken_in_once_with_an_id_repeated(inbox: Inbox) -> None:
    assert await inbox.take_in([(7, b"{}", None), (7, b"{}", None), (9, b"{}", 1)]) == [7, 9]
    assert await inbox.take_in([(9, b"{}", 1), (10, b"{}", 1)]) == [10]
    assert await inbox.take_in([]) == []


async def test_closing_closes_the_reading_connection_too(db_path: Path) -> None:
    store = await Store.open(db_path)
    await store.close()
    with pytest.raises(RuntimeError):
        await read_ids(store)
    # The last connection closed folds the WAL away.
    assert not db_path.with_name(db_path.name + "-wal").exists()
