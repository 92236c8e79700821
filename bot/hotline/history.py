"""Her messages do not stay in the staff group for ever: the topic of a closed case is deleted,
with everything in it, `staff_history_days` after the case closed."""

from __future__ import annotations

import logging
from collections import Counter

from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from state import topics
from state.store import Store, now

log = logging.getLogger(__name__)

# Topics deleted per run at most, so that one hourly purge stays short; the rest wait an hour.
MAX_PER_RUN = 200
# What Telegram answers for a topic that is no longer there (deleted by hand, or by a run whose
# bookkeeping was lost).
_GONE = ("topic_id_invalid", "thread not found", "topic_deleted")


async def delete_old_topics(
    bot: Bot, store: Store, *, staff_history_days: int, at: int | None = None
) -> int:
    """Delete the topics of cases closed more than `staff_history_days` ago; how many went now.

    `at` moves the clock, for tests. A topic that could not be deleted is tried again next run."""
    at = now() if at is None else at
    async with store.transaction() as db:
        due = await topics.closed_before(db, at - staff_history_days * 86400, MAX_PER_RUN)
    deleted = 0
    failed: Counter[str] = Counter()  # by error type: one log line per run, never an id
    refused: set[int] = set()  # a 403 is the whole group's: its other topics wait too
    for topic in due:
        if topic.staff_chat_id in refused:
            continue
        try:
            await bot.delete_forum_topic(topic.staff_chat_id, topic.thread_id)
        except BadRequest as exc:  # before NetworkError, of which it is a subclass
            if not any(gone in exc.message.lower() for gone in _GONE):
                failed["BadRequest"] += 1
                continue
        except (NetworkError, RetryAfter) as exc:
            log.info("Old case topics will be deleted later (%s)", type(exc).__name__)
            break  # Telegram out of reach or asking to wait: the other topics would wait too
        except TelegramError as exc:
            if isinstance(exc, Forbidden):
                refused.add(topic.staff_chat_id)
            failed[type(exc).__name__] += 1
            continue
        else:
            deleted += 1
        async with store.transaction() as db:
            await topics.forget(db, topic)
    if failed:
        counts = ", ".join(f"{n} {kind}" for kind, n in failed.items())
        log.warning("Old case topics not deleted, tried again next run: %s (a 403 means the bot "
                    "may not manage topics)", counts)  # fmt: skip
    return deleted
