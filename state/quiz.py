"""Officers' knowledge-check records (migration 008): one row per officer and one card per
question answered, read and written in one transaction per act. What leaves the records is the
anonymous indicator `knowledge` (bot/indicators.py), by role and month, with no officer id.

Functions take an aiosqlite connection inside `Store.transaction()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import aiosqlite

from state.store import Reads, first_row

Phase = Literal["baseline", "later"]


@dataclass(frozen=True)
class Card:
    """An officer's record of one question: its Leitner box and when it is due again."""

    question_id: str
    box: int
    due_at: int


@dataclass(frozen=True)
class QuizRecord:
    user_id: int
    role: str  # the officer's, for the monthly counts
    paused: bool
    baseline_left: int
    asked: str | None  # the question on screen, not answered yet
    next_at: int  # when the next weekly question goes


_SELECT = (
    "SELECT q.user_id, o.role, q.paused, q.baseline_left, q.asked, q.next_at "
    "FROM quiz_officers AS q JOIN officers AS o ON o.user_id = q.user_id "
    "WHERE o.revoked_at IS NULL"
)


def _record(row: aiosqlite.Row) -> QuizRecord:
    return QuizRecord(int(row[0]), str(row[1]), bool(row[2]), int(row[3]), row[4], int(row[5]))


async def record(db: Reads, user_id: int) -> QuizRecord | None:
    row = await first_row(db, f"{_SELECT} AND q.user_id = ?", (user_id,))
    return None if row is None else _record(row)


async def due(db: aiosqlite.Connection, at: int) -> list[QuizRecord]:
    """Officers whose weekly question is due and who have not paused them."""
    rows = await db.execute_fetchall(
        f"{_SELECT} AND q.paused = 0 AND q.next_at <= ? ORDER BY q.next_at", (at,)
    )
    return [_record(row) for row in rows]


async def create(db: aiosqlite.Connection, user_id: int, baseline_left: int, next_at: int) -> None:
    """An officer's record on joining; nothing changes if there is one already."""
    await db.execute(
        "INSERT INTO quiz_officers (user_id, baseline_left, next_at) VALUES (?, ?, ?) "
        "ON CONFLICT (user_id) DO NOTHING",
        (user_id, baseline_left, next_at),
    )


async def update(db: aiosqlite.Connection, quiz: QuizRecord) -> None:
    await db.execute(
        "UPDATE quiz_officers SET paused = ?, baseline_left = ?, asked = ?, next_at = ? "
        "WHERE user_id = ?",
        (int(quiz.paused), quiz.baseline_left, quiz.asked, quiz.next_at, quiz.user_id),
    )


async def cards(db: aiosqlite.Connection, user_id: int) -> dict[str, Card]:
    rows = await db.execute_fetchall(
        "SELECT question_id, box, due_at FROM quiz_cards WHERE user_id = ?", (user_id,)
    )
    return {str(r[0]): Card(str(r[0]), int(r[1]), int(r[2])) for r in rows}


async def save_card(db: aiosqlite.Connection, user_id: int, card: Card) -> None:
    await db.execute(
        "INSERT INTO quiz_cards (user_id, question_id, box, due_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (user_id, question_id) DO UPDATE SET box = excluded.box, "
        "due_at = excluded.due_at",
        (user_id, card.question_id, card.box, card.due_at),
    )
