"""The bot under test, in a process of its own, with timing added in this process only.

    python -m bench.botproc jigiya --stats FILE [--paced]   # settings from the environment
    python -m bench.botproc echo --stats FILE               # the echo floor (bench/echo.py)
    python -m bench.botproc echo --transport aiohttp --stats FILE   # echo-aiohttp: the same
                                                            # echo bot on Jigiya's aiohttp client

`--profile FILE` adds a cProfile of the event loop thread (thread CPU time) to either;
`--tracemalloc FILE` writes where the process's memory is at the end (or what grew since a
SIGUSR1, if one came); `--bare` leaves the timing
out (its samples grow with every update), for the waves phase.

Jigiya runs exactly as `python -m bot run` does (`bot.app.run`), with these changes made here by
monkeypatching, never in the product code:

* unless `--paced`, Telegram's pacing is lifted the way tests/test_e2e_survivor.py lifts it: the
  application is built with an `OutgoingRateLimiter` whose rates are so high that it never waits,
  so the limiter's code stays in the path but the bot's own capacity is measured;
* `Application.process_update` (the handlers of one update, after it got its chat lock and a
  running slot), `ExtBot._do_post` (a Bot API request: rate limiter + HTTP) and the HTTP
  client's `do_request` (the HTTP exchange alone: `HTTPXRequest.do_request`, PTB's default
  client, used by the echo floor; `bot.telegram.transport.AiohttpRequest.do_request`, used by
  Jigiya and echo-aiohttp) are timed. A context variable ties each request to the update it
  serves, so per update we know the wall time of its handlers and the part of it spent waiting
  for the Bot API (overlapping requests are counted once); the names of the HTTP client classes
  that served requests are recorded too;
* the durable intake (`Inbox.take_in` per received batch), every wait for the store's one lock
  (a transaction's, or a write's until a group commit took it) and every write transaction
  (a `transaction()` block, `Store._begun`, or a group commit, `Store._commit_group`) are
  timed, and reads on the reading connection counted.

On SIGTERM the bot stops as in production; the figures are then written to the --stats file.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import ctypes
import json
import logging
import os
import resource
import signal
import time
import tracemalloc
from collections.abc import Callable, Coroutine
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

from telegram import Update
from telegram.ext import Application, ExtBot
from telegram.request import BaseRequest, HTTPXRequest

from bench.common import memory_mib
from bench.echo import TRANSPORTS, run_echo
from bot.telegram.transport import AiohttpRequest

UNPACED_RATE = 1_000_000.0  # requests per second: never reached, so the limiter never waits


class _Span:
    """Time covered by one or more possibly overlapping waits."""

    __slots__ = ("depth", "since", "total")

    def __init__(self) -> None:
        self.depth = 0
        self.since = 0.0
        self.total = 0.0

    def enter(self) -> None:
        if self.depth == 0:
            self.since = time.perf_counter()
        self.depth += 1

    def leave(self) -> None:
        self.depth -= 1
        if self.depth == 0:
            self.total += time.perf_counter() - self.since


class _UpdateTiming:
    __slots__ = ("api", "http")

    def __init__(self) -> None:
        self.api = _Span()  # inside ExtBot._do_post: rate limiter wait + HTTP exchange
        self.http = _Span()  # inside the HTTP client's do_request: the HTTP exchange alone


_current: ContextVar[_UpdateTiming | None] = ContextVar("bench_update_timing", default=None)


class Recorder(logging.Handler):
    """Per-update samples, intake timings, and a count of warnings and errors logged."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        # (update_id, wall s, Bot API wait s, HTTP wait s, time.monotonic() at the end)
        self.updates: list[tuple[int, float, float, float, float]] = []
        self.intake: list[float] = []  # Inbox.take_in per batch, s
        self.intake_ends: list[float] = []  # time.monotonic() at the end of each
        self.intake_sizes: list[int] = []
        # Waits for the store's lock: (s waiting; time.monotonic() when it was granted)
        self.store_waits: list[tuple[float, float]] = []
        # Write transactions, BEGIN to COMMIT: (s; time.monotonic() at the end)
        self.transactions: list[tuple[float, float]] = []
        self.group_sizes: list[int] = []  # callers whose writes each group commit carried
        self.reads: list[float] = []  # time.monotonic() of each read on the reading connection
        self.warnings = 0
        self.errors = 0
        self.first_errors: list[str] = []
        self.http_clients: set[str] = set()  # classes whose do_request served a request
        # The application and the intake under test, to count their per-chat objects at the end.
        self.application: Application | None = None  # type: ignore[type-arg]
        self.receiving: Any = None  # the Intake

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR:
            self.errors += 1
            if len(self.first_errors) < 5:
                self.first_errors.append(f"{record.name}: {record.getMessage()[:300]}")
        else:
            self.warnings += 1

    def as_json(self) -> dict[str, Any]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return {
            "updates": self.updates,
            "intake": self.intake,
            "intake_ends": self.intake_ends,
            "intake_sizes": self.intake_sizes,
            "store_waits": self.store_waits,
            "transactions": self.transactions,
            "group_sizes": self.group_sizes,
            "reads": self.reads,
            "warnings": self.warnings,
            "errors": self.errors,
            "first_errors": self.first_errors,
            "http_clients": sorted(self.http_clients),
            "cpu_seconds": usage.ru_utime + usage.ru_stime,
            "maxrss_mib": usage.ru_maxrss / 1024,
            "memory": memory_mib(os.getpid()),  # from /proc/self/status
            "per_chat": self.per_chat(),
        }

    def per_chat(self) -> dict[str, int] | None:
        """Per-chat objects the bot still holds (after its last update): what would grow with
        the number of people ever seen if it were never dropped."""
        app = self.application
        if app is None:
            return None
        from bot.telegram.context import SERVICES

        limiter: Any = app.bot.rate_limiter
        exits: Any = app.bot_data[SERVICES].exits
        intake = self.receiving
        return {
            "ptb_chat_data": len(app.chat_data),
            "ptb_user_data": len(app.user_data),
            # ids marked for a persistence flush that never comes (bot/telegram/application.py)
            "ptb_persistence_marks": len(app._chat_ids_to_be_updated_in_persistence)
            + len(app._user_ids_to_be_updated_in_persistence),
            "pacing_buckets": len(getattr(limiter, "_chats", ())),
            "exit_gate": len(exits._chats),
            "intake_queues": 0 if intake is None else len(intake._chats),
            "intake_flooded": 0 if intake is None else len(intake._flooded),
        }


Wrapped = Callable[..., Coroutine[Any, Any, Any]]


def instrument(recorder: Recorder) -> None:
    """Patch PTB's classes and Jigiya's HTTP client (this process only) to time each update
    and its Bot API waits."""
    process_update: Wrapped = Application.process_update
    do_post: Wrapped = ExtBot._do_post

    async def timed_process_update(self: Application, update: object) -> None:  # type: ignore[type-arg]
        timing = _UpdateTiming()
        token = _current.set(timing)
        started = time.perf_counter()
        try:
            await process_update(self, update)
        finally:
            ended = time.perf_counter()
            _current.reset(token)
            update_id = update.update_id if isinstance(update, Update) else -1
            recorder.updates.append(
                (update_id, ended - started, timing.api.total, timing.http.total, time.monotonic())
            )

    async def timed_do_post(self: ExtBot[Any], *args: Any, **kwargs: Any) -> Any:
        timing = _current.get()
        if timing is None:
            return await do_post(self, *args, **kwargs)
        timing.api.enter()
        try:
            return await do_post(self, *args, **kwargs)
        finally:
            timing.api.leave()

    setattr(Application, "process_update", timed_process_update)  # noqa: B010
    setattr(ExtBot, "_do_post", timed_do_post)  # noqa: B010
    # PTB's default client (the echo floor) and Jigiya's (Jigiya, echo-aiohttp), timed alike.
    for client in (HTTPXRequest, AiohttpRequest):
        _time_do_request(client, recorder)


def _time_do_request(client: type[BaseRequest], recorder: Recorder) -> None:
    """Time `client.do_request`, the HTTP exchange alone, as part of the current update."""
    do_request: Wrapped = client.do_request
    name = client.__name__

    async def timed_do_request(self: BaseRequest, *args: Any, **kwargs: Any) -> Any:
        recorder.http_clients.add(name)
        timing = _current.get()
        if timing is None:
            return await do_request(self, *args, **kwargs)
        timing.http.enter()
        try:
            return await do_request(self, *args, **kwargs)
        finally:
            timing.http.leave()

    setattr(client, "do_request", timed_do_request)  # noqa: B010


def instrument_store(recorder: Recorder) -> None:
    """Time the durable intake (one transaction per received batch), every wait for the store's
    one lock and every write transaction; count reads on the reading connection."""
    from contextlib import asynccontextmanager

    from state.inbox import Inbox
    from state.store import Store

    take_in: Wrapped = Inbox.take_in

    async def timed_take_in(self: Inbox, updates: Any) -> list[int]:
        started = time.perf_counter()
        try:
            result: list[int] = await take_in(self, updates)
            return result
        finally:
            recorder.intake.append(time.perf_counter() - started)
            recorder.intake_ends.append(time.monotonic())
            recorder.intake_sizes.append(len(updates))

    setattr(Inbox, "take_in", timed_take_in)  # noqa: B010

    class TimedLock(asyncio.Lock):
        """The store's one lock: how long each caller waited for it."""

        async def acquire(self) -> Literal[True]:
            asked = time.perf_counter()
            await super().acquire()
            recorder.store_waits.append((time.perf_counter() - asked, time.monotonic()))
            return True

    store_init = Store.__init__

    def timed_init(self: Store, *args: Any, **kwargs: Any) -> None:
        store_init(self, *args, **kwargs)
        self._lock = TimedLock()

    begun = Store._begun

    @asynccontextmanager
    async def timed_begun(self: Store, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            async with begun(self, **kwargs) as db:
                yield db
        finally:
            recorder.transactions.append((time.perf_counter() - started, time.monotonic()))

    commit_group: Wrapped = Store._commit_group

    async def timed_commit_group(self: Store, group: Any) -> None:
        started = time.perf_counter()
        try:
            await commit_group(self, group)
        finally:
            recorder.transactions.append((time.perf_counter() - started, time.monotonic()))
            recorder.group_sizes.append(len(group))

    reading = Store.reading

    @asynccontextmanager
    async def counted_reading(self: Store) -> Any:
        async with reading(self) as db:
            recorder.reads.append(time.monotonic())
            yield db

    setattr(Store, "__init__", timed_init)  # noqa: B010
    setattr(Store, "_begun", timed_begun)  # noqa: B010
    setattr(Store, "_commit_group", timed_commit_group)  # noqa: B010
    setattr(Store, "reading", counted_reading)  # noqa: B010


def capture(recorder: Recorder) -> None:
    """Keep the application and the intake the bot builds, for `Recorder.per_chat`."""
    from bot import app
    from bot.telegram.intake import Intake

    build: Callable[..., Any] = app.build_application

    def kept_application(*args: Any, **kwargs: Any) -> Any:
        recorder.application = build(*args, **kwargs)
        return recorder.application

    intake_init = Intake.__init__

    def kept_intake(self: Intake, *args: Any, **kwargs: Any) -> None:
        intake_init(self, *args, **kwargs)
        recorder.receiving = self

    setattr(app, "build_application", kept_application)  # noqa: B010
    setattr(Intake, "__init__", kept_intake)  # noqa: B010


def lift_pacing() -> None:
    """Build Jigiya's application with a limiter that never waits (see the module docstring)."""
    from bot import app
    from bot.telegram.ratelimit import OutgoingRateLimiter

    def unpaced(**wiring: Any) -> OutgoingRateLimiter:
        return OutgoingRateLimiter(
            overall_max_rate=UNPACED_RATE,
            private_max_rate=UNPACED_RATE,
            private_time_period=1.0,
            group_max_rate=UNPACED_RATE,
            group_time_period=1.0,
            **wiring,
        )

    setattr(app, "OutgoingRateLimiter", unpaced)  # noqa: B010


async def _run_jigiya() -> None:
    from bot.app import run
    from bot.config import load_settings

    await run(load_settings())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.botproc")
    parser.add_argument("kind", choices=["jigiya", "echo"])
    parser.add_argument("--stats", type=Path, required=True, help="where to write the figures")
    parser.add_argument("--paced", action="store_true", help="keep Telegram's pacing (jigiya)")
    parser.add_argument(
        "--transport",
        choices=TRANSPORTS,
        default="httpx",
        help="the echo bot's HTTP client: PTB's default (httpx, the floor) or Jigiya's (aiohttp)",
    )
    parser.add_argument("--profile", type=Path, help="write cProfile statistics here")
    parser.add_argument(
        "--tracemalloc", type=Path, help="write the lines holding the most memory at the end here"
    )
    parser.add_argument(
        "--bare",
        action="store_true",
        help="no timing of updates, requests or the store: their samples would grow with every "
        "update, and the waves phase measures what the bot itself keeps (jigiya)",
    )
    args = parser.parse_args(argv)
    if args.kind == "jigiya" and args.transport != "httpx":
        parser.error("--transport is the echo bot's; Jigiya's client is set by bot/app.py")
    # CPU time of the event loop thread, so that waiting in epoll does not count.
    profiler = cProfile.Profile(time.thread_time) if args.profile else None

    from bot.logs import setup_logging

    setup_logging()
    recorder = Recorder()
    logging.getLogger().addHandler(recorder)
    if not args.bare:
        instrument(recorder)
    baseline: list[tracemalloc.Snapshot] = []
    written: list[bool] = []  # SIGUSR2 wrote the comparison: the end does not overwrite it
    if args.tracemalloc:
        tracemalloc.start(8)
        # SIGUSR1 marks the moment to compare the end with (the waves phase sends it after
        # its first wave): what grew since is what the bot keeps per person.
        signal.signal(signal.SIGUSR1, lambda *_: _mark(baseline))
        # SIGUSR2 writes the comparison at once, while the application still holds what it
        # holds (at the end, its per-chat objects are gone with it).
        signal.signal(
            signal.SIGUSR2, lambda *_: written.append(_write_trace(args.tracemalloc, baseline))
        )
    if profiler is not None:
        profiler.enable()
    failure: BaseException | None = None
    try:
        if args.kind == "jigiya":
            if not args.bare:
                instrument_store(recorder)
            capture(recorder)
            if not args.paced:
                lift_pacing()
            asyncio.run(_run_jigiya())
        else:
            token, url = os.environ["TELEGRAM_BOT_TOKEN"], os.environ["TELEGRAM_API_URL"]
            asyncio.run(run_echo(token, url, args.transport))
    except Exception as exc:
        failure = exc
        logging.getLogger(__name__).exception("The bot did not stop cleanly")
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(args.profile)
    if args.tracemalloc and not written:
        _write_trace(args.tracemalloc, baseline)
    figures = recorder.as_json()
    figures["shutdown_error"] = None if failure is None else f"{type(failure).__name__}: {failure}"
    args.stats.write_text(json.dumps(figures))
    if failure is not None:
        # A store that failed to close leaves aiosqlite's (non-daemon) thread running, and the
        # interpreter would wait for it forever: leave now, the figures are written.
        logging.shutdown()
        os._exit(1)
    return 0


def _mark(baseline: list[tracemalloc.Snapshot]) -> None:
    baseline.append(tracemalloc.take_snapshot())
    _SQLITE_AT_MARK.append(sqlite_memory())
    tracemalloc.reset_peak()


_SQLITE_AT_MARK: list[int] = []


def sqlite_memory() -> int:
    """Bytes SQLite's own allocator holds now (page caches, statements), which tracemalloc does
    not see: the same shared library the sqlite3 module uses, so the same counters."""
    library = ctypes.CDLL("libsqlite3.so.0")
    library.sqlite3_memory_used.restype = ctypes.c_int64
    return int(library.sqlite3_memory_used())


def _write_trace(path: Path, baseline: list[tracemalloc.Snapshot]) -> bool:
    """The lines holding the most memory now, or what grew since the SIGUSR1 mark; the first
    line gives the totals (traced now, and grown since the mark)."""
    # Read first: the comparison below is traced too, and made the peak look about 5 MB higher.
    peak = tracemalloc.get_traced_memory()[1]
    snapshot = tracemalloc.take_snapshot()
    total = sum(stat.size for stat in snapshot.statistics("filename"))
    head = f"traced {total / 1e6:.3f} MB"
    if baseline:
        grown = snapshot.compare_to(baseline[-1], "traceback")
        head += f", grown {sum(stat.size_diff for stat in grown) / 1e6:+.3f} MB since the mark"
        head += f", peak {peak / 1e6:.3f} MB since the mark"
        head += f", SQLite grown {(sqlite_memory() - _SQLITE_AT_MARK[-1]) / 1e6:+.3f} MB"
        lines = [f"{stat.size_diff / 1e6:+.3f} MB in {stat.count_diff:+} blocks\n" +
                 "\n".join(stat.traceback.format()) for stat in grown[:40]]  # fmt: skip
    else:
        top = snapshot.statistics("traceback")[:40]
        lines = [f"{stat.size / 1e6:.2f} MB in {stat.count} blocks\n" +
                 "\n".join(stat.traceback.format()) for stat in top]  # fmt: skip
    # Renamed into place, so that whoever waits for the file reads it whole.
    partial = path.with_suffix(".partial")
    partial.write_text("\n\n".join([head, *lines]))
    partial.replace(path)
    return True


if __name__ == "__main__":
    raise SystemExit(main())
