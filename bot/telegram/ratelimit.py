"""Outgoing rate limiting: Telegram's flood limits as a PTB ``BaseRateLimiter``.

PTB's ``AIORateLimiter`` pauses *all* requests on any 429 and has no per-private-chat
limit. This module keeps its overall bucket (``aiolimiter``) and replaces the policy:

* Buckets: overall (30/s), per private chat (burst of 3, refilled at 1/s) and per
  group/supergroup/channel (20 per 60 s). Only message-producing endpoints are paced.
* Survivors first: a request to a private chat takes the overall bucket before any
  staff-group request that is waiting for it.
* A 429 pauses only the bucket it concerns: the request's chat, or the overall bucket
  when the request has no chat.
* A 5xx or a lost connection is sent again a few times after a short wait, so a passing fault
  on Telegram's side does not cost a person her answer.
* Every request to a private chat goes through the quick exit's gate (bot/exits.py): after her
  quick exit, nothing begun before it reaches her chat.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import logging
import warnings
from collections.abc import Callable, Coroutine
from functools import partial
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from bot.exits import ExitGate

_LOGGER = logging.getLogger(__name__)


_Result = bool | dict[str, Any] | list[dict[str, Any]]
_Callback = Callable[..., Coroutine[Any, Any, _Result]]
_ChatKey = int | str

_PACED_ENDPOINTS = frozenset(
    {
        "copyMessage",
        "copyMessages",
        "forwardMessage",
        "forwardMessages",
        "createForumTopic",
        "editForumTopic",
    }
)


class _Pausable:
    """A bucket that a 429 can pause."""

    __slots__ = ("paused_until",)

    def __init__(self) -> None:
        # Event-loop time until which Telegram told us to wait (429 ``retry_after``).
        self.paused_until = 0.0

    def pause(self, seconds: float) -> None:
        until = asyncio.get_running_loop().time() + seconds
        self.paused_until = max(self.paused_until, until)

    async def wait_pause(self) -> None:
        loop = asyncio.get_running_loop()
        remaining = self.paused_until - loop.time()
        while remaining > 0:
            await asyncio.sleep(remaining)
            # Another 429 may have extended the pause meanwhile.
            remaining = self.paused_until - loop.time()


class _Overall(_Pausable):
    __slots__ = ("limiter",)

    def __init__(self, limiter: AsyncLimiter) -> None:
        super().__init__()
        self.limiter = limiter


class _ChatBucket(_Pausable):
    """One chat's pacing: a leaky bucket of `capacity` tokens refilled at `per_second`, as
    aiolimiter's, but in a few numbers. One is kept for each chat that spoke lately, so it is
    memory per person: an ``AsyncLimiter`` with its bucket took about 0.6 KB a chat, one of the
    largest shares of a person mid-journey (bench/README.md, Memory). Requests take tokens in
    arrival order; one called off while waiting gives its turn to the next."""

    __slots__ = ("checked", "in_use", "level", "line", "rate")

    def __init__(self, rate: tuple[float, float]) -> None:
        super().__init__()
        self.rate = rate  # (capacity, tokens refilled per second): shared by chats of a kind
        self.level = 0.0  # tokens taken and not refilled yet, as of `checked` (loop time)
        self.checked = 0.0
        # Requests holding this bucket (waiting or sending); such a bucket is never pruned.
        self.in_use = 0
        # Futures of the requests waiting for a token, first in line first; None if none waits.
        self.line: list[asyncio.Future[None]] | None = None

    def _leak(self, now: float) -> float:
        self.level = max(0.0, self.level - (now - self.checked) * self.rate[1])
        self.checked = now
        return self.level

    async def acquire(self, check: Callable[[], None] | None = None) -> None:
        """Take a token, after every request that came before. `check` (the quick exit's gate)
        may call the request off after its wait: it then passes its turn on without a token,
        so that her goodbye does not wait for a token a called-off request took."""
        loop = asyncio.get_running_loop()
        capacity, per_second = self.rate
        if self.line is None and self._leak(loop.time()) + 1 <= capacity:
            self.level += 1
            return
        turn: asyncio.Future[None] = loop.create_future()
        if self.line is None:
            self.line = []
        line = self.line
        line.append(turn)
        try:
            if line[0] is not turn:
                await turn  # the request before it passes the turn on
            # Only the first in line takes tokens: one wait for the refill is enough.
            short = self._leak(loop.time()) + 1 - capacity
            if short > 0:
                await asyncio.sleep(short / per_second)
                self._leak(loop.time())
            if check is not None:
                check()
            self.level += 1
        finally:  # taken or called off: the next in line goes on
            line.remove(turn)
            if not line:
                self.line = None
            elif not line[0].done():
                line[0].set_result(None)

    def is_idle(self, now: float) -> bool:
        # Full again (unused for its refill time), not paused, and no request holds it.
        return not self.in_use and self.paused_until <= now and self._leak(now) == 0


def _chat_key(data: dict[str, Any]) -> _ChatKey | None:
    chat_id = data.get("chat_id")
    if chat_id is None:
        return None
    try:
        # PTB accepts integer chat ids passed as strings; "@name" stays a string.
        return int(chat_id)
    except (TypeError, ValueError):
        return str(chat_id)


def _is_private(key: _ChatKey) -> bool:
    # Groups, supergroups and channels have negative ids or an "@name".
    return isinstance(key, int) and key > 0


def _is_paced(endpoint: str) -> bool:
    return endpoint.startswith(("send", "editMessage")) or endpoint in _PACED_ENDPOINTS


def _is_transient(exc: BaseException) -> bool:
    # PTB makes BadRequest a NetworkError, but the same request would be refused again. A
    # timeout is not tried again: the request may have reached Telegram, and another try would
    # hold the chat (her quick exit waits its turn in it) for another whole timeout.
    return isinstance(exc, NetworkError) and not isinstance(exc, BadRequest | TimedOut)


def _posted(request: asyncio.Future[_Result]) -> _Result | None:
    """What a finished request returned, or None if it failed or was cancelled."""
    if request.cancelled() or request.exception() is not None:
        return None
    return request.result()


def _retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        # PTB 22 returns int/float seconds (with a deprecation warning) unless
        # PTB_TIMEDELTA is set, then a timedelta; both are handled below.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    if isinstance(value, dtm.timedelta):
        return value.total_seconds()
    return float(value)


class OutgoingRateLimiter(BaseRateLimiter[int]):
    """Rate limiter for all Bot API requests of the bot (``ApplicationBuilder().rate_limiter``).

    Pacing (``aiolimiter`` leaky buckets, ``max_rate`` requests per ``time_period``
    seconds, bursts up to ``max_rate``) applies only to message-producing endpoints
    (``send*``, ``copyMessage(s)``, ``forwardMessage(s)``, ``editMessage*``,
    ``createForumTopic``, ``editForumTopic``): each takes a token from its chat's
    bucket, then from the overall bucket. Other endpoints are never paced.

    Priority: a request to a private chat (``chat_id > 0``) or without a chat is
    high priority, one to a group/supergroup/channel (``chat_id < 0`` or ``"@name"``)
    low priority. Low-priority requests take the overall bucket one at a time and only
    while no high-priority request waits for it.

    429 (``RetryAfter``): the request's chat bucket, or the overall bucket for a
    request without a chat, is paused for ``retry_after`` seconds and the request is
    retried up to ``max_retries`` times, then the error is re-raised. Every later
    request to a paused chat waits for the pause; a paused overall bucket holds every
    request. Other chats carry on. ``getUpdates`` is passed straight through.

    5xx and connection errors (``NetworkError`` other than ``BadRequest`` and ``TimedOut``):
    the request is sent again, ``network_attempts`` attempts in all, after a jittered wait
    of about ``network_backoff`` seconds, doubled each time; then the error is re-raised.
    Timeouts are not: the request may have reached Telegram, and another try would hold its
    chat for another whole timeout. Other errors (403, 400, 401/404) are never retried. One
    warning per endpoint when its faults begin, then one every ten faults in a row, so an
    outage does not flood the log.

    Per-chat buckets are pruned once ``prune_threshold`` chats are tracked, and at most
    every ``prune_every`` seconds whatever their number: those that are full (unused for their
    refill period), not paused and not in use are dropped, so that memory does not grow with
    the number of people ever seen; a chat's next request makes its bucket again.

    Like ``aiolimiter.AsyncLimiter``, an instance belongs to one event loop.
    """

    def __init__(
        self,
        *,
        overall_max_rate: float = 30,
        overall_time_period: float = 1.0,
        private_max_rate: float = 3,
        private_time_period: float = 3.0,
        group_max_rate: float = 20,
        group_time_period: float = 60.0,
        max_retries: int = 3,
        network_attempts: int = 3,
        network_backoff: float = 0.5,
        prune_threshold: int = 1024,
        prune_every: float = 60.0,
        gate: ExitGate | None = None,
    ) -> None:
        if (
            min(
                overall_max_rate,
                overall_time_period,
                private_max_rate,
                private_time_period,
                group_max_rate,
                group_time_period,
            )
            <= 0
        ):
            raise ValueError("rates and time periods must be positive")
        if max_retries < 0 or prune_threshold < 1 or prune_every < 0:
            raise ValueError("max_retries, prune_every must be >= 0 and prune_threshold >= 1")
        if network_attempts < 1 or network_backoff < 0:
            raise ValueError("network_attempts must be >= 1 and network_backoff >= 0")
        self._overall = _Overall(AsyncLimiter(overall_max_rate, overall_time_period))
        # Time for one overall token to refill: how often a waiting low-priority request looks.
        self._overall_tick = overall_time_period / overall_max_rate
        self._private_rate = (private_max_rate, private_max_rate / private_time_period)
        self._group_rate = (group_max_rate, group_max_rate / group_time_period)
        self._max_retries = max_retries
        self._network_attempts = network_attempts
        self._network_wait = wait_exponential_jitter(
            multiplier=network_backoff, jitter=network_backoff
        )
        # Network faults in a row per endpoint, reset by a success: keeps the log short.
        self._faults: dict[str, int] = {}
        self._prune_threshold = prune_threshold
        self._prune_every = prune_every
        self._next_prune = 0.0  # event-loop time of the next pruning whatever the number
        self._gate = gate
        self._chats: dict[_ChatKey, _ChatBucket] = {}
        self._high_waiting = 0
        # Keeps low-priority requests in arrival order at the overall bucket.
        self._low_lane = asyncio.Lock()

    async def initialize(self) -> None:
        """Nothing to set up: buckets are created on demand."""

    async def shutdown(self) -> None:
        """Nothing to release: buckets hold no external resources."""

    async def process_request(
        self,
        callback: _Callback,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> _Result:
        """Pace, prioritise and, on a 429, retry one request; see the class docstring.
        ``rate_limit_args`` is not used: the priority comes from the chat id."""
        if endpoint == "getUpdates":
            # Long polling must never wait behind our own traffic or a pause.
            return await callback(*args, **kwargs)
        key = _chat_key(data)
        high = key is None or _is_private(key)
        chat = None if key is None else self._checkout(key)
        try:
            return await self._run(
                callback, args, kwargs, endpoint, chat=chat, high=high, chat_key=key
            )
        finally:
            if chat is not None:
                chat.in_use -= 1

    async def _run(
        self,
        callback: _Callback,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        *,
        chat: _ChatBucket | None,
        high: bool,
        chat_key: _ChatKey | None,
    ) -> _Result:
        paced = _is_paced(endpoint)
        gate = self._gate if isinstance(chat_key, int) and _is_private(chat_key) else None
        attempt = 0
        while True:
            attempt += 1
            if gate is not None:
                assert isinstance(chat_key, int)
                gate.check(
                    str(chat_key)
                )  # before waiting a turn that a called-off request won't use
            if chat is not None:
                await chat.wait_pause()
                if paced:
                    await chat.acquire(None if gate is None else partial(gate.check, str(chat_key)))
            await self._enter_overall(paced, high)
            try:
                return await self._send(callback, args, kwargs, endpoint, chat_key)
            except RetryAfter as exc:
                delay = _retry_after_seconds(exc)
                giving_up = attempt > self._max_retries
                # No chat id, text or token here: a survivor's chat id is personal data.
                _LOGGER.warning(
                    "Telegram 429 on %s: retry_after=%.3gs, attempt %d of %d, %s",
                    endpoint,
                    delay,
                    attempt,
                    self._max_retries + 1,
                    "giving up" if giving_up else "retrying",
                )
                if giving_up:
                    raise
                (self._overall if chat is None else chat).pause(delay)

    async def _send(
        self,
        callback: _Callback,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        chat_key: _ChatKey | None,
    ) -> _Result:
        # A retry takes no new token: a request that failed rarely counted against the limits.
        gate = self._gate if isinstance(chat_key, int) and _is_private(chat_key) else None

        async def once() -> _Result:
            if gate is None:
                return await callback(*args, **kwargs)
            chat = str(chat_key)
            departed = gate.departing(chat)  # called off here if she has left
            # Once on its way, a request runs to its end even if its caller is cancelled (her
            # quick exit cancels work of hers): whatever it posted is seen as it lands.
            request = asyncio.ensure_future(callback(*args, **kwargs))
            request.add_done_callback(
                lambda done: gate.landed(str(chat_key), departed, _posted(done))
            )
            return await asyncio.shield(request)

        try:
            result = await once()
        except Exception as exc:
            if not _is_transient(exc):
                raise
            # Only now is tenacity set up: doing it for every call cost about 6 % of the bot's
            # CPU. Its first attempt is the one that just failed.
            replay: list[Exception] = [exc]

            async def again() -> _Result:
                if replay:
                    raise replay.pop()
                return await once()

            retrying = AsyncRetrying(
                retry=retry_if_exception(_is_transient),
                stop=stop_after_attempt(self._network_attempts),
                wait=self._network_wait,
                after=lambda state: self._log_fault(endpoint, state),
                reraise=True,
            )
            result = await retrying(again)
        if self._faults.pop(endpoint, 0):
            _LOGGER.info("Telegram answers %s again", endpoint)
        return result

    def _log_fault(self, endpoint: str, state: RetryCallState) -> None:
        streak = self._faults[endpoint] = self._faults.get(endpoint, 0) + 1
        if streak != 1 and streak % 10:
            return
        error = state.outcome.exception() if state.outcome else None
        # The class only: no chat id, text or token (a survivor's chat id is personal data),
        # and no traceback for what is Telegram's passing fault.
        _LOGGER.warning(
            "Telegram %s on %s: attempt %d of %d, %s%s",
            type(error).__name__,
            endpoint,
            state.attempt_number,
            self._network_attempts,
            "giving up" if state.attempt_number >= self._network_attempts else "retrying",
            f" ({streak} faults in a row)" if streak > 1 else "",
        )

    async def _enter_overall(self, paced: bool, high: bool) -> None:
        if not paced:
            await self._overall.wait_pause()
        elif high:
            self._high_waiting += 1
            try:
                await self._overall.wait_pause()
                await self._overall.limiter.acquire()
            finally:
                self._high_waiting -= 1
        else:
            async with self._low_lane:
                while True:
                    await self._overall.wait_pause()
                    if not self._high_waiting and self._overall.limiter.has_capacity():
                        # There is capacity, so this takes the token without waiting and
                        # no high-priority request can slip in between.
                        await self._overall.limiter.acquire()
                        return
                    await asyncio.sleep(self._overall_tick)

    def _checkout(self, key: _ChatKey) -> _ChatBucket:
        bucket = self._chats.get(key)
        if bucket is None:
            now = asyncio.get_running_loop().time()
            if len(self._chats) >= self._prune_threshold or now >= self._next_prune:
                self._prune(now)
                self._next_prune = now + self._prune_every
            rate = self._private_rate if _is_private(key) else self._group_rate
            bucket = self._chats[key] = _ChatBucket(rate)
        bucket.in_use += 1
        return bucket

    def _prune(self, now: float) -> None:
        for key in [key for key, bucket in self._chats.items() if bucket.is_idle(now)]:
            del self._chats[key]
