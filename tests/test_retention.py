"""What is kept for a while is forgotten on time: a test moves the clock."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.keys import Keys
from state import cases, conversations, messages
from state.inbox import Inbox
from state.officers import Officers
from state.retention import SEEN_UPDATE_SECONDS, Purged, purge_expired
from state.store import Store, now


async def purge(store: Store, *, at: int) -> Purged:
    return await purge_expired(
        store, case_retention_days=RETENTION_DAYS, person_retention_days=PERSON_DAYS, at=at
    )


RETENTION_DAYS = 90
PERSON_DAYS = 30
DAY = 86400
STAFF = -100123456789


async def test_message_ids_go_after_48_hours(store: Store) -> None:
    async with store.transaction() as db:
        await conversations.ensure_person(db, "p", "fr")
        await messages.remember(db, "p", [1, 2, 3])
    assert (await purge(store, at=now() + 47 * 3600)).message_ids == 0
    assert (await purge(store, at=now() + 49 * 3600)).message_ids == 3
    async with store.transaction() as db:
        assert await messages.deletable(db, "p") == []


async def test_seen_update_ids_go_after_their_window(store: Store) -> None:
    inbox = Inbox(store, Keys("k" * 40))
    await inbox.take_in([(1, b"{}", None), (2, b"{}", None)])
    async with store.reading() as db:
        seen = [row[0] for row in await db.execute_fetchall("SELECT seen_at FROM seen_updates")]
    assert len(seen) == 2
    assert all(at % 3600 == 0 for at in seen)  # not to the second she wrote
    await inbox.done(1)
    assert (await purge(store, at=now() + SEEN_UPDATE_SECONDS - 60)).seen_updates == 0
    # Kept to the hour, rounded up: gone an hour after the window at the latest.
    assert (await purge(store, at=now() + SEEN_UPDATE_SECONDS + 3600 + 60)).seen_updates == 2
    # The unhandled update itself is never purged: it still has to be handled.
    assert [uid for uid, _ in await inbox.pending()] == [2]


async def test_purge_leaves_no_wal_behind(store: Store, db_path: Path) -> None:
    async with store.transaction() as db:
        await conversations.ensure_person(db, "p", "fr")
        await messages.remember(db, "p", range(100))
    await purge(store, at=now() + 49 * 3600)
    wal = db_path.with_name(db_path.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM chat_messages").fetchone() == (0,)


async def test_closed_cases_go_after_the_retention_period_open_ones_never(store: Store) -> None:
    async with store.transaction() as db:
        await conversations.ensure_person(db, "p", "fr")
        await conversations.ensure_person(db, "q", "fr")
        closed, _ = await cases.open_case(db, "p", lambda code: b"sealed", "fr", -100123456789)
        await cases.open_case(db, "q", lambda code: b"sealed", "fr", -100123456789)
        await cases.close(db, closed.id, "closed_by_staff")
    day = 86400
    assert (await purge(store, at=now() + (RETENTION_DAYS - 1) * day)).closed_cases == 0
    assert (await purge(store, at=now() + (RETENTION_DAYS + 1) * day)).closed_cases == 1
    async with store.transaction() as db, db.execute("SELECT status FROM cases") as cur:
        assert list(await cur.fetchall()) == [("open",)]


async def test_expired_invitations_go(store: Store) -> None:
    officers = Officers(store, Keys("k" * 40))
    await officers.invite(1, "police")
    assert (await purge(store, at=now() + 6 * 86400)).invitations == 0
    assert (await purge(store, at=now() + 8 * 86400)).invitations == 1
    assert await officers.pending_invitations() == 0


def count(store_path: Path, table: str) -> int:
    with sqlite3.connect(store_path) as conn:
        return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


async def test_a_person_quiet_for_the_retention_period_is_forgotten_whole(store: Store) -> None:
    async with store.transaction() as db:
        for person in ("quiet", "in-case"):
            await conversations.ensure_person(db, person, "fr")
            await messages.remember(db, person, [1])
        await cases.open_case(db, "in-case", lambda code: b"sealed", "fr", STAFF)
    assert (await purge(store, at=now() + (PERSON_DAYS - 1) * DAY)).people == 0
    assert (await purge(store, at=now() + (PERSON_DAYS + 1) * DAY)).people == 1
    async with store.transaction() as db:
        assert await conversations.language(db, "quiet") is None
        # Her case is open: staff may still answer her, so she is kept until it closes.
        assert await conversations.language(db, "in-case") == "fr"


async def test_case_openings_live_only_as_long_as_their_window_and_blocks_until_they_end(
    store: Store, db_path: Path
) -> None:
    async with store.transaction() as db:
        await conversations.ensure_person(db, "p", "fr")
        await cases.open_case(db, "p", lambda code: b"sealed", "fr", STAFF)
        await cases.block(db, "p", 2)
    assert (await purge(store, at=now() + 60)).windows == 0
    assert count(db_path, "case_opens") == 1
    assert (await purge(store, at=now() + cases.OPEN_WINDOW_SECONDS + 1)).windows == 1
    assert count(db_path, "case_opens") == 0
    async with store.transaction() as db:
        assert await cases.is_blocked(db, "p")
    assert (await purge(store, at=now() + 3 * DAY + 1)).windows == 1
    assert count(db_path, "blocks") == 0


async def test_a_closed_case_keeps_no_moment_and_no_trace_of_her(store: Store) -> None:
    async with store.transaction() as db:
        await conversations.ensure_person(db, "p", "fr")
        case, _ = await cases.open_case(db, "p", lambda code: b"sealed", "fr", STAFF)
        await cases.claim(db, case.id, 3003, "Fatou")
        await cases.mark_reminded(db, case.id)
        await cases.close(db, case.id, "closed_by_staff")
        closed = await cases.by_id(db, case.id)
    assert closed is not None
    assert (closed.person_key, closed.chat_sealed, closed.claimed_by, closed.claimed_name) == (
        None, None, None, None,
    )  # fmt: skip
    # Times to the day only: none can be matched to the moment of a row of hers elsewhere.
    times = [closed.opened_at, closed.claimed_at, closed.closed_at]
    assert all(isinstance(t, int) and t % DAY == 0 for t in times), times
    assert closed.reminded_at is None
