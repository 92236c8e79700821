"""Hotline cases: one open case per person, claimed by one staff member, closed to metadata."""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

import aiosqlite

from state.store import DAY, day_of, first_row, now

# Case codes name forum topics: short, unambiguous letters and digits, never anything personal.
_CODE_ALPHABET = "ACDEFGHJKLMNPQRTUVWXY3479"
_CODE_LENGTH = 4

# Openings of cases are counted over this window (at most a few per hour), then forgotten.
OPEN_WINDOW_SECONDS = 3600

_COLUMNS = (
    "id, code, person_key, chat_sealed, language, staff_chat_id, thread_id, card_message_id, "
    "claimed_by, claimed_name, status, outcome, opened_at, claimed_at, reminded_at, closed_at"
)


@dataclass(frozen=True)
class Case:
    id: int
    code: str
    person_key: str | None
    chat_sealed: bytes | None
    language: str
    staff_chat_id: int
    thread_id: int | None
    card_message_id: int | None
    claimed_by: int | None
    claimed_name: str | None  # shown on the card inside the staff group; erased on close
    status: str
    outcome: str | None
    opened_at: int
    claimed_at: int | None
    reminded_at: int | None
    closed_at: int | None

    @property
    def is_open(self) -> bool:
        return self.status == "open"


def _case(row: sqlite3.Row | tuple[object, ...] | None) -> Case | None:
    return None if row is None else Case(*row)


async def _one(db: aiosqlite.Connection, where: str, args: tuple[object, ...]) -> Case | None:
    return _case(await first_row(db, f"SELECT {_COLUMNS} FROM cases WHERE {where}", args))  # noqa: S608


async def open_case_of(db: aiosqlite.Connection, person_key: str) -> Case | None:
    return await _one(db, "person_key = ? AND status = 'open'", (person_key,))


async def by_id(db: aiosqlite.Connection, case_id: int) -> Case | None:
    return await _one(db, "id = ?", (case_id,))


async def by_thread(db: aiosqlite.Connection, staff_chat_id: int, thread_id: int) -> Case | None:
    return await _one(
        db,
        "staff_chat_id = ? AND thread_id = ? ORDER BY id DESC LIMIT 1",
        (staff_chat_id, thread_id),
    )


async def open_case(
    db: aiosqlite.Connection,
    person_key: str,
    seal_chat: Callable[[str], bytes],
    language: str,
    staff_chat_id: int,
) -> tuple[Case, bool]:
    """The person's open case, or a new one; True when it was created now.

    `seal_chat(code)` gives her chat id sealed for the case's code, drawn here."""
    existing = await open_case_of(db, person_key)
    if existing is not None:
        return existing, False
    while True:
        code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_LENGTH))
        try:
            await db.execute(
                "INSERT INTO cases (code, person_key, chat_sealed, language, staff_chat_id, "
                "status, opened_at) VALUES (?, ?, ?, ?, ?, 'open', ?)",
                (code, person_key, seal_chat(code), language, staff_chat_id, now()),
            )
        except sqlite3.IntegrityError as exc:
            if "cases.code" in str(exc):
                continue  # that code was used before: draw another
            raise
        await db.execute(
            "INSERT INTO case_opens (person_key, opened_at) VALUES (?, ?)", (person_key, now())
        )
        created = await open_case_of(db, person_key)
        assert created is not None
        return created, True


async def opened_since(db: aiosqlite.Connection, person_key: str, since: int) -> int:
    """How many cases this person opened since a time (closed cases no longer name her)."""
    async with db.execute(
        "SELECT COUNT(*) FROM case_opens WHERE person_key = ? AND opened_at >= ?",
        (person_key, since),
    ) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def queue_position(db: aiosqlite.Connection, case: Case) -> int:
    """1 for the oldest unclaimed open case of its staff group."""
    async with db.execute(
        "SELECT COUNT(*) FROM cases WHERE status = 'open' AND claimed_by IS NULL "
        "AND staff_chat_id = ? AND id <= ?",
        (case.staff_chat_id, case.id),
    ) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 1


async def set_topic(
    db: aiosqlite.Connection, case_id: int, thread_id: int, card_message_id: int | None
) -> None:
    await db.execute(
        "UPDATE cases SET thread_id = ?, card_message_id = ? WHERE id = ?",
        (thread_id, card_message_id, case_id),
    )


async def claim(db: aiosqlite.Connection, case_id: int, staff_id: int, staff_name: str) -> bool:
    """True for the first claim of an open case: the race is settled by the database."""
    cur = await db.execute(
        "UPDATE cases SET claimed_by = ?, claimed_name = ?, claimed_at = ? "
        "WHERE id = ? AND status = 'open' AND claimed_by IS NULL",
        (staff_id, staff_name, now(), case_id),
    )
    return cur.rowcount == 1


async def release(db: aiosqlite.Connection, case_id: int, staff_id: int) -> bool:
    cur = await db.execute(
        "UPDATE cases SET claimed_by = NULL, claimed_name = NULL, claimed_at = NULL "
        "WHERE id = ? AND status = 'open' AND claimed_by = ?",
        (case_id, staff_id),
    )
    return cur.rowcount == 1


async def close(db: aiosqlite.Connection, case_id: int, outcome: str) -> bool:
    """Close an open case: her chat id is erased and the person unlinked; metadata stays, its
    times kept to the day, so that no time of hers elsewhere points back to it. It counts as
    closed at the end of its day, so that what is kept "N days after closing" is never less."""
    cur = await db.execute(
        "UPDATE cases SET status = 'closed', outcome = :outcome, chat_sealed = NULL, "
        "person_key = NULL, claimed_by = NULL, claimed_name = NULL, closed_at = :day_end, "
        "opened_at = opened_at - opened_at % :day, claimed_at = claimed_at - claimed_at % :day, "
        "reminded_at = NULL WHERE id = :id AND status = 'open'",
        {"outcome": outcome, "day_end": day_of(now()) + DAY, "day": DAY, "id": case_id},
    )
    return cur.rowcount == 1


async def mark_reminded(db: aiosqlite.Connection, case_id: int) -> None:
    await db.execute("UPDATE cases SET reminded_at = ? WHERE id = ?", (now(), case_id))


async def unclaimed_before(db: aiosqlite.Connection, opened_before: int) -> list[Case]:
    """Open cases nobody claimed, opened before a time, not reminded yet."""
    async with db.execute(
        f"SELECT {_COLUMNS} FROM cases WHERE status = 'open' AND claimed_by IS NULL "  # noqa: S608
        "AND reminded_at IS NULL AND opened_at < ?",
        (opened_before,),
    ) as cur:
        return [Case(*row) for row in await cur.fetchall()]


async def purge_closed(db: aiosqlite.Connection, closed_before: int) -> int:
    """Closed cases past their time; one whose staff topic is not deleted yet waits for it
    (bot/hotline/history.py), or the topic with her messages would never be deleted."""
    cur = await db.execute(
        "DELETE FROM cases WHERE status = 'closed' AND closed_at < ? AND thread_id IS NULL",
        (closed_before,),
    )
    return cur.rowcount


async def block(db: aiosqlite.Connection, person_key: str, days: int) -> None:
    """Until the end of a day, not a moment: the block's time says nothing of when staff set it."""
    until = day_of(now()) + (days + 1) * DAY
    await db.execute(
        "INSERT INTO blocks (person_key, until) VALUES (?, ?) "
        "ON CONFLICT (person_key) DO UPDATE SET until = excluded.until",
        (person_key, until),
    )


async def is_blocked(db: aiosqlite.Connection, person_key: str) -> bool:
    async with db.execute(
        "SELECT 1 FROM blocks WHERE person_key = ? AND until > ?", (person_key, now())
    ) as cur:
        return await cur.fetchone() is not None


async def purge_windows(db: aiosqlite.Connection, *, at: int) -> int:
    """Forget case openings once past the hourly limit's window, and blocks that have ended."""
    opens = await db.execute(
        "DELETE FROM case_opens WHERE opened_at < ?", (at - OPEN_WINDOW_SECONDS,)
    )
    blocks = await db.execute("DELETE FROM blocks WHERE until <= ?", (at,))
    return opens.rowcount + blocks.rowcount
