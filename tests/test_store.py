"""The store and the inbox: durable, once-only, and nothing readable left of a handled update."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

import pytest

from bot.keys import Keys
from state.inbox import Inbox
from state.store import Store

SECRET_TEXT = b'{"update_id": 7, "message": {"text": "Awa Traore, Sevare"}}'


async def test_pragmas_and_migrations(store: Store) -> None:
    async with store.transaction() as db:
        async with db.execute("PRAGMA journal_mode") as cur:
            assert (await cur.fetchone()) == ("wal",)
        async with db.execute("PRAGMA synchronous") as cur:
            assert (await cur.fetchone()) == (1,)  # NORMAL, FULL for durable transactions
        async with db.execute("PRAGMA secure_delete") as cur:
            assert (await cur.fetchone()) == (1,)
        async with db.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
    migrations = Path(__file__).parent.parent / "state" / "migrations"
    assert row == (len(list(migrations.glob("[0-9][0-9][0-9]_*.sql"))),)


async def test_reopening_does_not_reapply_migrations(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    applied = []
    for _ in range(2):
        with caplog.at_level(logging.INFO, logger="state.store"):
            s = await Store.open(tmp_path / "again.sqlite3")
        await s.close()
        applied.append([r.getMessage() for r in caplog.records if "migration" in r.getMessage()])
        caplog.clear()
    assert len(applied[0]) == len(
        list((Path(__file__).parent.parent / "state" / "migrations").glob("0*.sql"))
    )
    assert applied[1] == []  # the second start applies nothing


async def test_a_failed_transaction_leaves_nothing(store: Store) -> None:
    async def failing_step() -> None:
        async with store.transaction() as db:
            await db.execute("INSERT INTO seen_updates VALUES (1, 0)")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await failing_step()
    async with store.transaction() as db, db.execute("SELECT COUNT(*) FROM seen_updates") as cur:
        assert (await cur.fetchone()) == (0,)


async def test_a_durable_transaction_syncs_and_the_others_do_not(store: Store) -> None:
    async with store.transaction(durable=True) as db:
        assert list(await db.execute_fetchall("PRAGMA synchronous")) == [(2,)]  # FULL
    async with store.transaction() as db:
        assert list(await db.execute_fetchall("PRAGMA synchronous")) == [(1,)]  # NORMAL


async def test_a_transaction_cancelled_at_its_begin_leaves_the_store_usable(
    store: Store,
) -> None:
    async def write() -> None:
        async with store.transaction() as db:
            await db.execute("CREATE TABLE never (x)")

    task = asyncio.create_task(write())
    await asyncio.sleep(0)  # now awaiting BEGIN, which aiosqlite's thread runs all the same
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with store.transaction() as db:
        await db.execute("CREATE TABLE after (x)")
    async with store.transaction() as db:
        tables = await db.execute_fetchall("SELECT name FROM sqlite_master WHERE type='table'")
    assert "after" in {row[0] for row in tables}
    assert "never" not in {row[0] for row in tables}


async def test_inbox_takes_each_update_once(store: Store) -> None:
    inbox = Inbox(store, Keys("k" * 40))
    assert await inbox.take_in([(7, SECRET_TEXT, None), (8, b"{}", None)]) == [7, 8]
    assert await inbox.take_in([(7, SECRET_TEXT, None), (9, b"{}", None)]) == [9]
    await inbox.done(7)
    # Handled and gone, yet still recognised if Telegram delivers it again.
    assert await inbox.take_in([(7, SECRET_TEXT, None)]) == []
    assert [uid for uid, _ in await inbox.pending()] == [8, 9]


async def test_inbox_payload_is_never_readable_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "disk.sqlite3"
    store = await Store.open(path)
    inbox = Inbox(store, Keys("k" * 40))
    await inbox.take_in([(7, SECRET_TEXT, None)])
    assert await inbox.pending() == [(7, SECRET_TEXT)]
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert b"Traore" not in raw  # sealed even while pending, in the WAL too
    await inbox.done(7)
    await store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert b"Traore" not in raw
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM inbox").fetchone() == (0,)
