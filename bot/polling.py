"""Long polling that acknowledges an update only after the intake has stored it.

The offset sent with each getUpdates call is what tells Telegram it may forget earlier
updates; it moves past a batch only once `Intake.accept` has committed that batch.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from telegram import Bot, Update
from telegram.error import Conflict, NetworkError, RetryAfter, TelegramError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential_jitter

from bot.intake import Intake

log = logging.getLogger(__name__)

POLL_TIMEOUT = 10  # seconds Telegram holds a getUpdates call open when there is nothing new

_backoff = wait_exponential_jitter(multiplier=0.5, max=30)


def _wait(state: RetryCallState) -> float:
    error = state.outcome.exception() if state.outcome else None
    if isinstance(error, RetryAfter):
        after = error.retry_after
        return after.total_seconds() if isinstance(after, timedelta) else float(after)
    return float(_backoff(state))


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    # One line for the first failure, then one every ten, so a long outage does not flood logs.
    if state.attempt_number == 1 or state.attempt_number % 10 == 0:
        log.warning(
            "getUpdates failed (%s, attempt %d); retrying",
            type(error).__name__,
            state.attempt_number,
        )


async def _fetch(bot: Bot, offset: int | None) -> tuple[Update, ...]:
    retrying = AsyncRetrying(
        retry=retry_if_exception_type((NetworkError, RetryAfter, Conflict)),
        wait=_wait,
        before_sleep=_log_retry,
        reraise=True,
    )
    async for attempt in retrying:
        with attempt:
            updates = await bot.get_updates(
                offset=offset, timeout=POLL_TIMEOUT, allowed_updates=Update.ALL_TYPES
            )
        if attempt.retry_state.attempt_number > 1:
            log.info("getUpdates works again")
    return updates


async def poll(bot: Bot, intake: Intake, stop: asyncio.Event) -> None:
    """Fetch, store, acknowledge, until `stop` is set. Only the network wait is ever cut short:
    a batch being stored is always stored to the end."""
    offset: int | None = None
    stopping = asyncio.create_task(stop.wait())
    try:
        while not stop.is_set():
            fetching = asyncio.create_task(_fetch(bot, offset))
            await asyncio.wait({fetching, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not fetching.done():
                fetching.cancel()
                await asyncio.gather(fetching, return_exceptions=True)
                break
            updates = fetching.result()
            if updates:
                await intake.accept(list(updates))
                offset = updates[-1].update_id + 1
    finally:
        stopping.cancel()
    if offset is not None:
        await _acknowledge(bot, offset)


async def _acknowledge(bot: Bot, offset: int) -> None:
    """Confirm the last stored batch so a restart does not receive it again (harmless if it
    does: the inbox remembers update ids)."""
    try:
        await bot.get_updates(offset=offset, timeout=0, limit=1)
    except TelegramError as exc:
        log.info("Could not confirm the last updates before stopping (%s)", type(exc).__name__)
