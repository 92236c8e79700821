"""Tests for the outgoing rate-limit policy in ``bot.ratelimit``.

Requests go through ``process_request`` with a fake API callback that records when it
is called. Timing checks use lower bounds (a token bucket can't release early) and
loose upper bounds far below the next pacing step; ordering checks are preferred.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import logging
import warnings
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from telegram.error import RetryAfter
from telegram.warnings import PTBDeprecationWarning

from bot.ratelimit import OutgoingRateLimiter, Priority

Result = bool | dict[str, Any] | list[dict[str, Any]]

SECRET_TEXT = "secret survivor text"


def now() -> float:
    return asyncio.get_running_loop().time()


def flood(seconds: float) -> RetryAfter:
    with warnings.catch_warnings():
        # PTB 22 warns about the int form in the constructor unless PTB_TIMEDELTA is set.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        return RetryAfter(dtm.timedelta(seconds=seconds))


class FakeApi:
    """Records calls as (label, loop time); raises queued 429s; can hold a call open."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, float]] = []
        self.floods: dict[str, list[RetryAfter]] = {}
        self.holds: dict[str, asyncio.Event] = {}

    def callback(self, label: str) -> Callable[..., Coroutine[Any, Any, Result]]:
        async def call(*_args: object, **_kwargs: object) -> Result:
            self.calls.append((label, now()))
            if self.floods.get(label):
                raise self.floods[label].pop(0)
            if label in self.holds:
                await self.holds[label].wait()
            return True

        return call

    def labels(self) -> list[str]:
        return [label for label, _ in self.calls]

    def time(self, label: str, nth: int = 0) -> float:
        return [t for name, t in self.calls if name == label][nth]


async def send(
    limiter: OutgoingRateLimiter,
    api: FakeApi,
    label: str,
    chat_id: int | str | None,
    endpoint: str = "sendMessage",
    rate_limit_args: int | None = None,
) -> Result:
    data: dict[str, Any] = {"text": SECRET_TEXT}
    if chat_id is not None:
        data["chat_id"] = chat_id
    return await limiter.process_request(
        callback=api.callback(label),
        args=(endpoint, data),
        kwargs={},
        endpoint=endpoint,
        data=data,
        rate_limit_args=rate_limit_args,
    )


@pytest.fixture
def api() -> FakeApi:
    return FakeApi()


async def test_private_chat_bursts_then_paces(api: FakeApi) -> None:
    # Burst of 3, then one token every 0.3 s.
    limiter = OutgoingRateLimiter(private_max_rate=3, private_time_period=0.9)
    start = now()
    await asyncio.gather(*(send(limiter, api, f"m{i}", 42) for i in range(5)))

    assert api.labels() == ["m0", "m1", "m2", "m3", "m4"]
    assert api.time("m2") - start < 0.2
    assert api.time("m3") - start >= 0.28
    assert api.time("m4") - start >= 0.58


async def test_group_pacing_per_group(api: FakeApi) -> None:
    # Burst of 2, then one token every 0.3 s, separately for each group.
    limiter = OutgoingRateLimiter(group_max_rate=2, group_time_period=0.6)
    start = now()
    await asyncio.gather(
        send(limiter, api, "g0", -100),
        send(limiter, api, "g1", -100),
        # The same group, its id given as a string: must share the bucket.
        send(limiter, api, "g2", "-100"),
        send(limiter, api, "s0", "@staff"),
        send(limiter, api, "s1", "@staff"),
    )

    assert max(api.time(label) for label in ("g0", "g1", "s0", "s1")) - start < 0.2
    assert api.time("g2") - start >= 0.28
    assert api.labels()[-1] == "g2"


async def test_overall_bucket_spans_chats(api: FakeApi) -> None:
    # Burst of 3 over all chats, then one token every 0.3 s.
    limiter = OutgoingRateLimiter(overall_max_rate=3, overall_time_period=0.9)
    start = now()
    await asyncio.gather(*(send(limiter, api, f"p{chat}", chat) for chat in range(1, 5)))

    assert api.time("p3") - start < 0.2
    assert api.time("p4") - start >= 0.28


async def test_other_endpoints_are_not_paced(api: FakeApi) -> None:
    limiter = OutgoingRateLimiter(
        overall_max_rate=1,
        overall_time_period=10,
        private_max_rate=1,
        private_time_period=10,
    )
    start = now()
    await send(limiter, api, "message", 42)  # empties both buckets for 10 s
    await asyncio.gather(
        *(send(limiter, api, f"answer{i}", None, "answerCallbackQuery") for i in range(5)),
        *(send(limiter, api, f"delete{i}", 42, "deleteMessage") for i in range(5)),
        send(limiter, api, "commands", None, "setMyCommands"),
    )

    assert len(api.calls) == 12
    assert now() - start < 0.5


@pytest.mark.parametrize("timedelta_mode", ["true", "false"])
async def test_429_pauses_only_that_chat(
    api: FakeApi, monkeypatch: pytest.MonkeyPatch, timedelta_mode: str
) -> None:
    # PTB 22 gives retry_after as a timedelta with PTB_TIMEDELTA set, else as seconds.
    monkeypatch.setenv("PTB_TIMEDELTA", timedelta_mode)
    limiter = OutgoingRateLimiter()
    api.floods["a1"] = [flood(0.5)]

    first = asyncio.create_task(send(limiter, api, "a1", 1))
    await asyncio.sleep(0.05)  # a1 has hit its 429; chat 1 is paused
    await send(limiter, api, "b", 2)
    await send(limiter, api, "staff", -100)
    other_chats_done = now()
    second = asyncio.create_task(send(limiter, api, "a2", 1))
    assert await first is True
    assert await second is True

    flooded_at = api.time("a1")
    assert other_chats_done - flooded_at < 0.3
    assert api.labels()[:3] == ["a1", "b", "staff"]
    assert sorted(api.labels()[3:]) == ["a1", "a2"]
    assert api.time("a1", 1) - flooded_at >= 0.48  # the retry waited for the pause
    assert api.time("a2") - flooded_at >= 0.48  # so did a later request to chat 1


async def test_429_without_chat_pauses_overall_bucket(api: FakeApi) -> None:
    limiter = OutgoingRateLimiter()
    api.floods["me"] = [flood(0.4)]

    first = asyncio.create_task(send(limiter, api, "me", None, "getMe"))
    await asyncio.sleep(0.05)
    await send(limiter, api, "message", 7)

    assert await first is True
    flooded_at = api.time("me")
    assert api.time("message") - flooded_at >= 0.38
    assert api.time("me", 1) - flooded_at >= 0.38


async def test_get_updates_never_delayed(api: FakeApi) -> None:
    limiter = OutgoingRateLimiter(overall_max_rate=1, overall_time_period=10)
    await send(limiter, api, "message", 1)  # empties the overall bucket for 10 s
    api.floods["me"] = [flood(0.4)]
    pending = asyncio.create_task(send(limiter, api, "me", None, "getMe"))
    await asyncio.sleep(0.05)  # the overall bucket is now paused too

    start = now()
    await send(limiter, api, "updates", None, "getUpdates")
    assert now() - start < 0.1

    # A 429 on getUpdates is not retried here: PTB's updater handles it.
    api.floods["flooded-updates"] = [flood(0.4)]
    with pytest.raises(RetryAfter):
        await send(limiter, api, "flooded-updates", None, "getUpdates")
    assert now() - start < 0.2

    assert await pending is True
    assert api.labels() == ["message", "me", "updates", "flooded-updates", "me"]


async def test_retries_then_reraises_and_logs_without_personal_data(
    api: FakeApi, caplog: pytest.LogCaptureFixture
) -> None:
    limiter = OutgoingRateLimiter(max_retries=2)
    api.floods["x"] = [flood(0.02) for _ in range(5)]

    with caplog.at_level(logging.WARNING, logger="bot.ratelimit"), pytest.raises(RetryAfter):
        await send(limiter, api, "x", 987654321)

    assert api.labels() == ["x", "x", "x"]
    records = [r for r in caplog.records if r.name == "bot.ratelimit"]
    assert [r.levelno for r in records] == [logging.WARNING] * 3
    messages = [r.getMessage() for r in records]
    for attempt, message in enumerate(messages, start=1):
        assert "sendMessage" in message
        assert "retry_after=0.02s" in message
        assert f"attempt {attempt} of 3" in message
        assert "987654321" not in message
        assert SECRET_TEXT not in message
    assert "giving up" in messages[-1]


async def test_no_retry_when_max_retries_is_zero(api: FakeApi) -> None:
    limiter = OutgoingRateLimiter(max_retries=0)
    api.floods["x"] = [flood(0.02)]

    with pytest.raises(RetryAfter):
        await send(limiter, api, "x", 5)
    assert api.labels() == ["x"]


async def test_private_request_goes_before_waiting_group_requests(api: FakeApi) -> None:
    # One overall token every 0.2 s.
    limiter = OutgoingRateLimiter(overall_max_rate=1, overall_time_period=0.2)
    await send(limiter, api, "first", 1)
    groups = [asyncio.create_task(send(limiter, api, f"g{i}", -100 - i)) for i in range(3)]
    await asyncio.sleep(0.02)  # the group requests are waiting for the overall bucket
    private = asyncio.create_task(send(limiter, api, "p", 2))
    await asyncio.gather(private, *groups)

    assert api.labels() == ["first", "p", "g0", "g1", "g2"]


async def test_rate_limit_args_override_priority(api: FakeApi) -> None:
    limiter = OutgoingRateLimiter(overall_max_rate=1, overall_time_period=0.2)
    await send(limiter, api, "first", 1)
    staff_dm = asyncio.create_task(
        send(limiter, api, "staff-dm", 3, rate_limit_args=Priority.STAFF)
    )
    group = asyncio.create_task(send(limiter, api, "group", -5))
    await asyncio.sleep(0.02)
    urgent = asyncio.create_task(send(limiter, api, "urgent", -6, rate_limit_args=Priority.USER))
    await asyncio.gather(staff_dm, group, urgent)

    # Low-priority requests keep their arrival order behind the high-priority one.
    assert api.labels() == ["first", "urgent", "staff-dm", "group"]


async def test_pruning_bounds_memory_but_keeps_paused_and_busy_buckets(api: FakeApi) -> None:
    # Private buckets refill within 0.01 s, so they are idle soon after use.
    limiter = OutgoingRateLimiter(private_max_rate=1, private_time_period=0.01, prune_threshold=4)
    api.floods["paused"] = [flood(0.5)]
    paused = asyncio.create_task(send(limiter, api, "paused", 1))
    api.holds["busy"] = asyncio.Event()
    busy = asyncio.create_task(send(limiter, api, "busy", 2))
    await asyncio.sleep(0.02)  # chat 1 is paused, chat 2's request is in flight

    sizes = []
    for chat in range(10, 20):
        await send(limiter, api, f"c{chat}", chat)
        sizes.append(len(limiter._chats))
        await asyncio.sleep(0.015)

    assert max(sizes) <= 4
    assert 1 in limiter._chats
    assert 2 in limiter._chats
    # Chat 1's pause survived the pruning: a new request still waits for it.
    await send(limiter, api, "later", 1)
    assert api.time("later") - api.time("paused") >= 0.48

    api.holds["busy"].set()
    assert await busy is True
    assert await paused is True


@pytest.mark.parametrize(
    "kwargs",
    [{"max_retries": -1}, {"private_max_rate": 0}, {"group_time_period": -1.0}],
)
def test_rejects_invalid_configuration(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must be"):
        OutgoingRateLimiter(**kwargs)
