"""What is kept for a while is forgotten on time: a test moves the clock."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.keys import Keys
from state import conversations, messages
from state.inbox import Inbox
from state.retention import SEEN_UPDATE_SECONDS, purge_expired
from state.store import Store, now


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "r.sqlite3")
    yield s
    await s.close()


async def test_message_ids_go_after_48_hours(store: Store) -> None:
    async with store.transaction() as db:
        await conversations.ensure_person(db, "p", "fr")
        await messages.remember(db, "p", [1, 2, 3])
    assert (await purge_expired(store, at=now() + 47 * 3600)).message_ids == 0
    assert (await purge_expired(store, at=now() + 49 * 3600)).message_ids == 3
    async with store.transaction() as db:
        assert await messages.deletable(db, "p") == []


async def test_seen_update_ids_go_after_their_window(store: Store) -> None:
    inbox = Inbox(store, Keys("k" * 40))
    await inbox.take_in([(1, b"{}"), (2, b"{}")])
    await inbox.done(1)
    assert (await purge_expired(store, at=now() + SEEN_UPDATE_SECONDS - 60)).seen_updates == 0
    assert (await purge_expired(store, at=now() + SEEN_UPDATE_SECONDS + 60)).seen_updates == 2
    # The unhandled update itself is never purged: it still has to be handled.
    assert [uid for uid, _ in await inbox.pending()] == [2]


async def test_purge_leaves_no_wal_behind(store: Store, tmp_path: Path) -> None:
    async with store.transaction() as db:
        await conversations.ensure_person(db, "p", "fr")
        await messages.remember(db, "p", range(100))
    await purge_expired(store, at=now() + 49 * 3600)
    wal = tmp_path / "r.sqlite3-wal"
    assert not wal.exists() or wal.stat().st_size == 0
    with sqlite3.connect(tmp_path / "r.sqlite3") as conn:
        assert conn.execute("SELECT COUNT(*) FROM chat_messages").fetchone() == (0,)
