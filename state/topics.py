"""Case topics in the staff group past their time: her relayed messages are kept there only for
`staff_history_days` after the case closed (see bot/hotline/history.py)."""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite


@dataclass(frozen=True)
class OldTopic:
    case_id: int
    staff_chat_id: int
    thread_id: int


async def closed_before(db: aiosqlite.Connection, closed_before: int, limit: int) -> list[OldTopic]:
    """Topics of cases closed before a time, oldest first. A case with messages still waiting
    in the outbox is left for later: a staff note would make its deleted topic again."""
    async with db.execute(
        "SELECT id, staff_chat_id, thread_id FROM cases "
        "WHERE status = 'closed' AND closed_at < ? AND thread_id IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM outbox WHERE outbox.case_id = cases.id) "
        "ORDER BY closed_at, id LIMIT ?",
        (closed_before, limit),
    ) as cur:
        return [OldTopic(*row) for row in await cur.fetchall()]


async def forget(db: aiosqlite.Connection, topic: OldTopic) -> None:
    """The topic is gone: not tried again, and the case's metadata may be purged in its time."""
    await db.execute(
        "UPDATE cases SET thread_id = NULL, card_message_id = NULL WHERE id = ? AND thread_id = ?",
        (topic.case_id, topic.thread_id),
    )
