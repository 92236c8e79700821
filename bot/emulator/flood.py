"""Flood control: Telegram's limits on the messages a bot sends, answered with 429 retry_after.

Telegram publishes only approximate limits (https://core.telegram.org/bots/faq): about 30
messages a second in all, about one a second in a private chat after a short burst, 20 a minute
in a group. It does not publish how it counts, so each limit here is a token bucket: `burst`
messages at once, refilled at `per_second`. Each new message the bot posts (a send, a copy, a
forward) takes a token from the bot's bucket and from its chat's; a message refused with 429
takes none.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from bot.emulator.clock import Clock
from bot.emulator.wire import ApiError


@dataclass(frozen=True)
class Limit:
    burst: float
    per_second: float


@dataclass(frozen=True)
class FloodLimits:
    """Telegram's limits (the defaults) or others for a test; see the module docstring."""

    bot: Limit = field(default_factory=lambda: Limit(burst=30, per_second=30))
    private: Limit = field(default_factory=lambda: Limit(burst=3, per_second=1))
    group: Limit = field(default_factory=lambda: Limit(burst=20, per_second=20 / 60))


@dataclass
class _Bucket:
    limit: Limit
    tokens: float
    at: float

    def refill(self, now: float) -> None:
        gained = max(0.0, now - self.at) * self.limit.per_second
        self.tokens = min(self.limit.burst, self.tokens + gained)
        self.at = now

    def wait(self) -> float:
        """Seconds until a token is free."""
        return max(0.0, (1 - self.tokens) / self.limit.per_second)


class FloodControl:
    """Off (limits None) until a test or world switches it on."""

    def __init__(self, clock: Clock, limits: FloodLimits | None = None):
        self._clock = clock
        self.limits = limits
        self._buckets: dict[int | None, _Bucket] = {}  # None: the bot's own

    def set_limits(self, limits: FloodLimits | None) -> None:
        """New limits (None: off), with every bucket full again."""
        self.limits = limits
        self._buckets.clear()

    def take(self, chat_id: int, private: bool) -> None:
        """Count one new message in chat_id, or refuse it with 429 when a limit is reached."""
        if self.limits is None:
            return
        now = self._clock.now()
        chat_limit = self.limits.private if private else self.limits.group
        buckets = [self._bucket(None, self.limits.bot, now), self._bucket(chat_id, chat_limit, now)]
        wait = max(bucket.wait() for bucket in buckets)
        if wait > 0:
            # Telegram gives whole seconds, at least one.
            seconds = max(1, math.ceil(wait))
            raise ApiError(429, f"Too Many Requests: retry after {seconds}", retry_after=seconds)
        for bucket in buckets:
            bucket.tokens -= 1

    def _bucket(self, key: int | None, limit: Limit, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(limit, limit.burst, now)
        bucket.refill(now)
        return bucket
