"""Tests for the outgoing rate-limit policy in ``bot.telegram.ratelimit``.

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
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.warnings import PTBDeprecationWarning

from bot.exits import LEAVING, CalledOff, ExitGate
from bot.telegram.ratelimit import OutgoingRateLimiter

Result = bool | dict[str, Any] | list[dict[str, Any]]

LOGGER = "bot.telegram.ratelimit"
SECRET_TEXT = "secret survivor text"


def now() -> float:
    return asyncio.get_running_loop().time()


def flood(seconds: float) -> RetryAfter:
    with warnings.catch_warnings():
        # PTB 22 warns about the int form in the constructor unless PTB_TIMEDELTA is set.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        return RetryAfter(dtm.timedelta(seconds=seconds))


class FakeApi:
    """Records calls as (label, loop time); raises queued errors; can hold a call open."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, float]] = []
        self.errors: dict[str, list[TelegramError]] = {}
        self.holds: dict[str, asyncio.Event] = {}

    def callback(self, label: str) -> Callable[..., Coroutine[Any, Any, Result]]:
        async def call(*_args: object, **_kwargs: object) -> Result:
            self.calls.append((label, now()))
            if self.errors.get(label):
                raise self.errors[label].pop(0)
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
    api.errors["a1"] = [flood(0.5)]

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
    api.errors["me"] = [flood(0.4)]

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
    api.errors["me"] = [flood(0.4)]
    pending = asyncio.create_task(send(limiter, api, "me", None, "getMe"))
    await asyncio.sleep(0.05)  # the overall bucket is now paused too

    start = now()
    await send(limiter, api, "updates", None, "getUpdates")
    assert now() - start < 0.1

    # A 429 on getUpdates is not retried here: PTB's updater handles it.
    api.errors["flooded-updates"] = [flood(0.4)]
    with pytest.raises(RetryAfter):
        await send(limiter, api, "flooded-updates", None, "getUpdates")
    assert now() - start < 0.2

    assert await pending is True
    assert api.labels() == ["message", "me", "updates", "flooded-updates", "me"]


async def test_retries_then_reraises_and_logs_without_personal_data(
    api: FakeApi, caplog: pytest.LogCaptureFixture
) -> None:
    limiter = OutgoingRateLimiter(max_retries=2)
    api.errors["x"] = [flood(0.02) for _ in range(5)]

    with (
        caplog.at_level(logging.WARNING, logger=LOGGER),
        pytest.raises(RetryAfter),
    ):
        await send(limiter, api, "x", 987654321)

    assert api.labels() == ["x", "x", "x"]
    records = [r for r in caplog.records if r.name == LOGGER]
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
    api.errors["x"] = [flood(0.02)]

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


async def test_pruning_bounds_memory_but_keeps_paused_and_busy_buckets(api: FakeApi) -> None:
    # Private buckets refill within 0.01 s, so they are idle soon after use.
    limiter = OutgoingRateLimiter(private_max_rate=1, private_time_period=0.01, prune_threshold=4)
    api.errors["paused"] = [flood(0.5)]
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


async def test_a_quiet_chat_s_bucket_is_dropped_and_made_again_on_its_next_request(
    api: FakeApi,
) -> None:
    # Pruned at every new chat; deleting takes no token, so its bucket is idle at once.
    limiter = OutgoingRateLimiter(prune_every=0)
    await send(limiter, api, "delete", 1, endpoint="deleteMessage")
    assert 1 in limiter._chats
    await send(limiter, api, "other", 2, endpoint="deleteMessage")
    assert list(limiter._chats) == [2]  # chat 1 went quiet: nothing of it is kept
    await send(limiter, api, "again", 1)
    assert 1 in limiter._chats
    assert api.labels() == ["delete", "other", "again"]


# --- a chat's bucket, on the loop's clock moved by the test ----------------------------------


class LoopClock:
    """The running loop's clock, moved only by the test: a timer due by then fires at the next
    yields, so no test here waits for real time."""

    def __init__(self) -> None:
        self.now = 0.0

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
async def clock(monkeypatch: pytest.MonkeyPatch) -> LoopClock:
    clock = LoopClock()
    monkeypatch.setattr(asyncio.get_running_loop(), "time", lambda: clock.now)
    return clock


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_a_chat_bursts_3_then_1_a_second_in_arrival_order(
    api: FakeApi, clock: LoopClock
) -> None:
    limiter = OutgoingRateLimiter()  # a private chat: a burst of 3, then 1 a second
    sends = [asyncio.create_task(send(limiter, api, f"m{i}", 42)) for i in range(5)]
    await settle()
    assert api.labels() == ["m0", "m1", "m2"]
    clock.advance(0.75)
    await settle()
    assert api.labels() == ["m0", "m1", "m2"]  # the 4th token is not back yet
    clock.advance(0.25)
    await settle()
    assert api.labels() == ["m0", "m1", "m2", "m3"]
    await send(limiter, api, "other chat", 7)  # another chat's bucket is its own
    clock.advance(1.0)
    await settle()
    assert api.labels() == ["m0", "m1", "m2", "m3", "other chat", "m4"]
    assert await asyncio.gather(*sends) == [True] * 5


async def test_a_request_called_off_while_waiting_gives_its_turn_to_the_next(
    api: FakeApi, clock: LoopClock
) -> None:
    limiter = OutgoingRateLimiter()
    for i in range(3):
        await send(limiter, api, f"burst{i}", 42)
    first, middle, last = (asyncio.create_task(send(limiter, api, n, 42)) for n in "fml")
    await settle()
    first.cancel()  # first in line, waiting for the refill
    middle.cancel()  # waiting for the first to pass its turn on
    await settle()
    clock.advance(1.0)
    await settle()
    assert api.labels() == ["burst0", "burst1", "burst2", "l"]
    assert await last is True
    assert first.cancelled()
    assert middle.cancelled()
    assert limiter._chats[42].line is None  # nothing of the called-off requests is left


async def test_pruning_drops_a_chat_s_bucket_only_once_it_is_full_again(
    api: FakeApi, clock: LoopClock
) -> None:
    limiter = OutgoingRateLimiter(prune_every=0)  # pruned whenever a new chat's request comes
    await send(limiter, api, "a", 1)  # a token of chat 1, back after 1 s
    clock.advance(0.5)
    await send(limiter, api, "b", 2)
    assert list(limiter._chats) == [1, 2]  # chat 1 spoke half a second ago: its bucket is kept
    clock.advance(0.5)
    await send(limiter, api, "c", 3)
    assert list(limiter._chats) == [2, 3]


async def test_her_quick_exit_calls_off_a_request_waiting_for_her_chat_s_turn(
    api: FakeApi, clock: LoopClock
) -> None:
    gate = ExitGate()
    limiter = OutgoingRateLimiter(gate=gate)
    for i in range(3):
        await send(limiter, api, f"burst{i}", 42)
    late = asyncio.create_task(send(limiter, api, "late", 42))
    await settle()
    gate.close("42")  # her quick exit arrives while it waits for the refill
    clock.advance(1.0)
    await settle()
    with pytest.raises(CalledOff):
        await late
    assert api.labels() == ["burst0", "burst1", "burst2"]

    async def goodbye() -> Result:
        LEAVING.set("42")
        return await send(limiter, api, "goodbye", 42)

    # The called-off request took no token: her goodbye goes at once, not a second later.
    said = asyncio.create_task(goodbye())
    await settle()
    assert api.labels() == ["burst0", "burst1", "burst2", "goodbye"]
    assert await said is True


# --- 5xx and timeouts ---------------------------------------------------------------------------


def limiter_lines(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage()) for r in caplog.records if r.name == LOGGER]


@pytest.mark.parametrize(
    "fault",
    [NetworkError("Internal Server Error (500)"), NetworkError("httpx.ConnectError: refused")],
    ids=["5xx", "connection"],
)
async def test_a_5xx_or_lost_connection_is_sent_again_with_one_line(
    api: FakeApi, caplog: pytest.LogCaptureFixture, fault: NetworkError
) -> None:
    limiter = OutgoingRateLimiter(network_backoff=0.05)
    api.errors["x"] = [fault, fault]

    with caplog.at_level(logging.INFO, logger=LOGGER):
        assert await send(limiter, api, "x", 987654321) is True

    assert api.labels() == ["x", "x", "x"]
    assert api.time("x", 1) - api.time("x", 0) >= 0.05  # waited before sending again
    name = type(fault).__name__
    assert limiter_lines(caplog) == [
        (logging.WARNING, f"Telegram {name} on sendMessage: attempt 1 of 3, retrying"),
        (logging.INFO, "Telegram answers sendMessage again"),
    ]
    assert not [r for r in caplog.records if r.exc_info]
    assert "987654321" not in caplog.text
    assert SECRET_TEXT not in caplog.text


async def test_a_timeout_is_not_sent_again(api: FakeApi) -> None:
    """It may have reached Telegram, and another try would hold her chat another timeout."""
    limiter = OutgoingRateLimiter(network_backoff=0.01)
    api.errors["x"] = [TimedOut()]

    with pytest.raises(TimedOut):
        await send(limiter, api, "x", 5)
    assert api.labels() == ["x"]


async def test_a_lasting_network_fault_is_raised_after_the_attempts(api: FakeApi) -> None:
    limiter = OutgoingRateLimiter(network_attempts=2, network_backoff=0.01)
    api.errors["x"] = [NetworkError("Bad Gateway") for _ in range(5)]

    with pytest.raises(NetworkError, match="Bad Gateway"):
        await send(limiter, api, "x", 5)
    assert api.labels() == ["x", "x"]


@pytest.mark.parametrize(
    "refusal",
    [
        BadRequest("Bad Request: message text is empty"),  # a NetworkError in PTB
        Forbidden("Forbidden: bot was blocked by the user"),
        InvalidToken("Not Found"),
        ChatMigrated(-1001),
    ],
    ids=["400", "403", "401", "migrated"],
)
async def test_a_refusal_is_never_sent_again(
    api: FakeApi, caplog: pytest.LogCaptureFixture, refusal: TelegramError
) -> None:
    limiter = OutgoingRateLimiter(network_backoff=0.01)
    api.errors["x"] = [refusal]

    with (
        caplog.at_level(logging.INFO, logger=LOGGER),
        pytest.raises(type(refusal)),
    ):
        await send(limiter, api, "x", 5)
    assert api.labels() == ["x"]
    assert limiter_lines(caplog) == []


async def test_get_updates_network_faults_are_left_to_the_poller(api: FakeApi) -> None:
    limiter = OutgoingRateLimiter(network_backoff=0.01)
    api.errors["updates"] = [NetworkError("Bad Gateway")]

    with pytest.raises(NetworkError):
        await send(limiter, api, "updates", None, "getUpdates")
    assert api.labels() == ["updates"]


async def test_a_429_then_a_5xx_are_both_waited_out(api: FakeApi) -> None:
    limiter = OutgoingRateLimiter(network_backoff=0.01)
    api.errors["x"] = [flood(0.05), NetworkError("Bad Gateway"), flood(0.05)]

    assert await send(limiter, api, "x", 5) is True
    assert api.labels() == ["x"] * 4


async def test_an_outage_logs_when_it_begins_then_every_ten_faults(
    api: FakeApi, caplog: pytest.LogCaptureFixture
) -> None:
    limiter = OutgoingRateLimiter(network_attempts=1)
    # An endpoint that is not paced, so that 27 requests to one chat need not wait.
    api.errors["x"] = [NetworkError("Bad Gateway") for _ in range(25)]

    with caplog.at_level(logging.INFO, logger=LOGGER):
        for _ in range(25):
            with pytest.raises(NetworkError):
                await send(limiter, api, "x", 5, "deleteMessage")
        await send(limiter, api, "x", 5, "deleteMessage")

    head = "WARNING", "Telegram NetworkError on deleteMessage: attempt 1 of 1, giving up"
    assert [(logging.getLevelName(level), line) for level, line in limiter_lines(caplog)] == [
        head,
        (head[0], f"{head[1]} (10 faults in a row)"),
        (head[0], f"{head[1]} (20 faults in a row)"),
        ("INFO", "Telegram answers deleteMessage again"),
    ]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_retries": -1},
        {"private_max_rate": 0},
        {"group_time_period": -1.0},
        {"network_attempts": 0},
        {"network_backoff": -0.1},
    ],
)
def test_rejects_invalid_configuration(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must be"):
        OutgoingRateLimiter(**kwargs)
