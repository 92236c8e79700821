"""Long polling that acknowledges an update only after the intake has stored it, and the patience
that receiving needs: Telegram, the network or the disk may fail for a while, and the bot waits
for them (polling, the start, the webhook) instead of dying.

The offset sent with each getUpdates call is what tells Telegram it may forget earlier
updates; it moves past a batch only once `Intake.accept` has committed that batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial
from typing import TypeVar

from telegram import Bot, Update
from telegram.error import BadRequest, Conflict, NetworkError, RetryAfter, TelegramError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, wait_exponential_jitter

from bot.telegram.intake import Intake
from bot.telegram.minimal import Json
from bot.telegram.transport import READ_TIMEOUT

log = logging.getLogger(__name__)

T = TypeVar("T")

POLL_TIMEOUT = 10  # seconds Telegram holds a getUpdates call open when there is nothing new

# Conflict: another poller, or a webhook still set; both end without us.
NETWORK_FAULTS: tuple[type[Exception], ...] = (NetworkError, RetryAfter, Conflict)
# A full disk, a read-only file, a locked database: the store can write again once fixed.
STORE_FAULTS: tuple[type[Exception], ...] = (sqlite3.OperationalError,)

_backoff = wait_exponential_jitter(multiplier=0.5, max=30)


class Stopped(Exception):
    """`stop` was set before the call succeeded."""


def describe(error: BaseException | None) -> str:
    """The error class, or SQLite's own name for what is wrong (SQLITE_FULL, SQLITE_READONLY):
    never the message, which may quote a token or a person's data."""
    name = getattr(error, "sqlite_errorname", None)
    return name if isinstance(name, str) else type(error).__name__


def _wait(state: RetryCallState) -> float:
    error = state.outcome.exception() if state.outcome else None
    if isinstance(error, RetryAfter):
        after = error.retry_after
        return after.total_seconds() if isinstance(after, timedelta) else float(after)
    return float(_backoff(state))


def _log_retry(what: str, state: RetryCallState) -> None:
    # One line for the first failure, then one every ten, so a long outage does not flood logs.
    if state.attempt_number == 1 or state.attempt_number % 10 == 0:
        error = state.outcome.exception() if state.outcome else None
        log.warning(
            "%s failed (%s, attempt %d); retrying", what, describe(error), state.attempt_number
        )


async def pause(seconds: float, stop: asyncio.Event | None) -> None:
    """Wait `seconds`, or until `stop` is set: the one clock the waiting out of faults reads,
    so that a test can let an outage of minutes pass at once."""
    if stop is None:
        await asyncio.sleep(seconds)
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


def _sleeper(stop: asyncio.Event | None) -> Callable[[float], Awaitable[None]]:
    async def sleep(seconds: float) -> None:
        await pause(seconds, stop)
        if stop is not None and stop.is_set():
            raise Stopped

    return sleep


async def persist(
    call: Callable[[], Awaitable[T]],
    what: str,
    *,
    faults: tuple[type[Exception], ...] = NETWORK_FAULTS,
    stop: asyncio.Event | None = None,
) -> T:
    """Call until it succeeds, waiting out `faults` with a growing pause (or Telegram's
    retry_after); anything else is raised at once. A BadRequest is never retried: PTB makes it a
    NetworkError, but the same request would be refused again.

    With `stop`, a pause ends as soon as it is set, raising `Stopped`; an attempt under way
    always runs to its end (wrap in `until_stopped` to cut a network call short)."""

    def retryable(error: BaseException) -> bool:
        return isinstance(error, faults) and not isinstance(error, BadRequest)

    try:
        return await call()
    except Exception as exc:
        if not retryable(exc):
            raise
        # Only now is tenacity set up (it costs a little on every getUpdates and every batch
        # stored); its first attempt is the one that just failed.
        failed: list[Exception] = [exc]

    async def again() -> T:
        if failed:
            raise failed.pop()
        return await call()

    retrying = AsyncRetrying(
        retry=retry_if_exception(retryable),
        wait=_wait,
        sleep=_sleeper(stop),
        before_sleep=partial(_log_retry, what),
        reraise=True,
    )
    async for attempt in retrying:
        with attempt:
            result = await again()
    log.info("%s works again", what)
    return result


async def until_stopped(awaitable: Awaitable[T], stop: asyncio.Event) -> T:
    """Await, but give up with `Stopped` as soon as `stop` is set: for calls that can be cut off
    with nothing lost, such as a request to Telegram that may hang for its whole timeout."""
    task = asyncio.ensure_future(awaitable)
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            return task.result()
        raise Stopped
    finally:
        stopping.cancel()
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def _fetch(bot: Bot, offset: int | None) -> list[Json]:
    """Telegram's JSON as it comes: the intake reads only what it keeps
    (bot/telegram/minimal.py), so a flood from one chat costs no parsing of the updates it drops."""
    data = {"offset": offset, "timeout": POLL_TIMEOUT, "allowed_updates": Update.ALL_TYPES}
    # Bot.get_updates would parse every update; its own request path, without the parsing.
    result = await bot._post("getUpdates", data, read_timeout=POLL_TIMEOUT + READ_TIMEOUT)
    return result if isinstance(result, list) else []


async def poll(bot: Bot, intake: Intake, stop: asyncio.Event) -> None:
    """Fetch, store, acknowledge, until `stop` is set. Only a network call or a pause is ever
    cut short: a batch being stored is always stored to the end. While the store cannot write,
    the batch is kept unacknowledged (Telegram keeps it) and stored again after a pause."""
    offset: int | None = None
    with contextlib.suppress(Stopped):
        while not stop.is_set():
            updates = await until_stopped(persist(partial(_fetch, bot, offset), "getUpdates"), stop)
            if updates:
                last = updates[-1]["update_id"]
                # Telegram's JSON (with the message under each button, its keyboard) is let go
                # now: while the batch waits to be stored, only its minimal forms are held.
                batch = intake.reduce(updates)
                del updates
                store = partial(intake.take, batch)
                await persist(store, "Storing updates", faults=STORE_FAULTS, stop=stop)
                offset = last + 1
    if offset is not None:
        await _acknowledge(bot, offset)


async def _acknowledge(bot: Bot, offset: int) -> None:
    """Confirm the last stored batch so a restart does not receive it again (harmless if it
    does: the inbox remembers update ids)."""
    try:
        await bot.get_updates(offset=offset, timeout=0, limit=1)
    except TelegramError as exc:
        log.info("Could not confirm the last updates before stopping (%s)", type(exc).__name__)
