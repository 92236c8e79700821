"""Phase 1: throughput and latency of the survivor journey, side by side with the echo floor.

The floor is a minimal PTB echo bot on PTB's default HTTP client (httpx); "echo-aiohttp", the
same echo bot on Jigiya's aiohttp client (bench/echo.py), runs at 50 ms round trip too, so that
the report can tell the transport's share of the gap from Jigiya's own work.

Each run starts a fresh emulator (in this process) and a fresh bot process (bench/botproc.py),
lets a few people warm the bot up, then lets N people do their journey, each waiting for every
answer before her next action (no think time): 100 start at once and go to the end; of 1,000,
a window of steady state is measured (for Jigiya a rolling crowd: see `plan`):

* updates/s: answers that reached people / seconds from the first action to the last answer
  (100), or over the steady-state window (1,000, all of them at work);
* answer time: from a person's action to the last message of the bot's answer reaching her;
* in the bot process, per update (see bench/botproc.py): the handlers' wall time, the part of it
  spent waiting for the Bot API, the rest ("bot-side"), store transactions; CPU of each process.
"""

from __future__ import annotations

import asyncio
import json
import pstats
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.common import (
    TOKEN,
    bot_env,
    cpu_seconds,
    fresh_dir,
    memory_mib,
    spawn,
    summary_ms,
    wait_ready,
)
from bench.journey import (
    SURVIVOR_STEPS,
    Hub,
    Person,
    crowd,
    echo_journey,
    places,
    rolling_crowd,
    survivor_journey,
)
from bot.emulator import BotApiEmulator

WARMUP_PEOPLE = 5
RUN_LIMIT = 900.0  # seconds any one run may take, all included
PACED_ENDPOINTS = ("send", "editMessage", "copyMessage", "forwardMessage")


# How long the paced run's people read each answer before acting: a short screen read fast (a
# person with little reading, or listening to it, takes longer: this is the hard case).
READING_S = 3.0


@dataclass(frozen=True)
class RunConfig:
    bot: str  # "jigiya" | "echo" (the floor: PTB's httpx) | "echo-aiohttp" (Jigiya's transport)
    people: int
    latency: float  # injected Bot API round trip, seconds
    paced: bool = False  # Jigiya with its production OutgoingRateLimiter
    solo: bool = False  # one person after the other instead of all at once
    cutoff: float = 300.0  # seconds after which people still on their way are stopped
    window: float | None = None  # a rolling crowd measured over this many seconds (journey.py)
    profile: bool = False  # cProfile of the bot's event loop thread
    reading: float = 0.0  # seconds each person reads an answer before her next action

    @property
    def label(self) -> str:
        mode = "solo" if self.solo else f"{self.people}p"
        pace = "-paced" if self.paced else ""
        profile = "+profile" if self.profile else ""
        reading = f"-reading{self.reading:g}s" if self.reading else ""
        return f"{self.bot}-{mode}-{round(self.latency * 1000)}ms{pace}{reading}{profile}"


async def measure(config: RunConfig, *, first_user: int = 100_000) -> dict[str, Any]:
    workdir = fresh_dir(f"throughput/{config.label}")
    stats_path = workdir / "stats.json"
    journey = survivor_journey if config.bot == "jigiya" else echo_journey
    kind, _, transport = config.bot.partition("-")  # "echo-aiohttp": echo on aiohttp
    args = ["-m", "bench.botproc", kind, "--stats", str(stats_path)]
    if transport:
        args += ["--transport", transport]
    if config.paced:
        args.append("--paced")
    if config.profile:
        args += ["--profile", str(workdir / "profile.pstats")]
    async with BotApiEmulator(TOKEN) as emu:
        emu.set_latency(config.latency)
        hub = Hub(emu)
        child = await spawn(
            args, bot_env(emu.base_url, workdir / "jigiya.sqlite3"), workdir / "bot.log"
        )
        try:
            await wait_ready(emu, child)
            warm = await crowd(hub, journey, range(first_user, first_user + WARMUP_PEOPLE))
            if warm.failed or warm.cut:
                raise RuntimeError(f"warm-up failed ({config.label}): {warm.first_failure}")
            first_update = hub.next_update_id()
            marks: dict[str, tuple[float, float, float, int, int]] = {}

            def mark(moment: str) -> None:
                marks[moment] = (
                    time.monotonic(), cpu_seconds(child.pid), time.process_time(),
                    hub.sent_calls(), _paced_calls(hub),
                )  # fmt: skip

            people = range(first_user + WARMUP_PEOPLE, first_user + WARMUP_PEOPLE + config.people)
            if config.window is not None:
                result = await rolling_crowd(
                    hub, journey, people, cohorts=len(SURVIVOR_STEPS), window=config.window,
                    on_window=mark,
                )  # fmt: skip
            else:
                mark("start")
                result = await crowd(
                    hub, journey, people, together=not config.solo, cutoff=config.cutoff,
                    reading=config.reading,
                )  # fmt: skip
                mark("end")
            memory = memory_mib(child.pid)
        finally:
            returncode = await child.stop()
    stats: dict[str, Any] = json.loads(stats_path.read_text()) if stats_path.exists() else {}
    # The window: from the first action to the last answer or the cut-off (a rolling crowd: its
    # steady-state window). Figures from the bot process count what ended in it; CPU, calls:
    # read at its start and end.
    window_start, window_end = result.started, result.started + result.elapsed

    def in_window(ended: float) -> bool:
        return window_start <= ended <= window_end

    cpu_from, bot_cpu_from, own_cpu_from, calls_from, paced_from = marks["start"]
    cpu_to, bot_cpu_to, own_cpu_to, calls_to, paced_to = marks["end"]
    bot_cpu, own_cpu = bot_cpu_to - bot_cpu_from, own_cpu_to - own_cpu_from
    calls, paced = calls_to - calls_from, paced_to - paced_from
    updates = [s for s in stats.get("updates", []) if s[0] >= first_update]
    samples = [s for s in updates if in_window(s[4])]
    during_cpu = sum(1 for s in updates if cpu_from <= s[4] <= cpu_to) or result.answers
    intake = [
        duration
        for duration, ended in zip(
            stats.get("intake", []), stats.get("intake_ends", []), strict=True
        )
        if in_window(ended)
    ]
    waits = [s[0] for s in stats.get("store_waits", []) if in_window(s[1])]
    transactions = [s[0] for s in stats.get("transactions", []) if in_window(s[1])]
    reads = [at for at in stats.get("reads", []) if in_window(at)]

    def per_update(events: list[float]) -> float | None:
        return len(events) / len(samples) if samples and config.bot == "jigiya" else None

    answers = result.answers
    seconds = max(result.elapsed, 1e-9)
    cpu_wall = max(cpu_to - cpu_from, 1e-9)
    return {
        "config": asdict(config),
        "label": config.label,
        "people": result.people,
        "finished": result.finished,
        "cut": result.cut,
        "failed": result.failed,
        "first_failure": result.first_failure,
        "updates": answers,
        "elapsed_s": seconds,
        "updates_per_s": answers / seconds,
        "api_calls": calls,
        "api_calls_per_s": calls / cpu_wall,
        "api_calls_per_update": calls / during_cpu,
        "paced_calls_per_s": paced / cpu_wall,
        "answer_ms": summary_ms(result.latencies),
        "handler_wall_ms": summary_ms([s[1] for s in samples]),
        "bot_side_ms": summary_ms([max(s[1] - s[2], 0.0) for s in samples]),
        "api_wait_ms": summary_ms([s[2] for s in samples]),
        "pacing_wait_ms": summary_ms([max(s[2] - s[3], 0.0) for s in samples]),
        "handled_in_window": len(samples),
        "intake_ms": summary_ms(intake),
        "store_wait_ms": summary_ms(waits),
        "store_hold_ms": summary_ms(transactions),
        "transactions_per_update": per_update(transactions),
        "reads_per_update": per_update(reads),
        "bot_cpu_s": bot_cpu,
        "bot_cpu_ms_per_update": bot_cpu / during_cpu * 1000,
        "bot_cpu_util": bot_cpu / cpu_wall,
        "driver_cpu_util": own_cpu / cpu_wall,
        "bot_memory_mib": memory,
        "bot_errors": stats.get("errors"),
        "bot_warnings": stats.get("warnings"),
        "bot_first_errors": stats.get("first_errors", []),
        "bot_exit": returncode,
        "bot_shutdown_error": stats.get("shutdown_error"),
        "http_clients": stats.get("http_clients", []),
        "profile": _profile_shares(workdir / "profile.pstats") if config.profile else None,
    }


def _paced_calls(hub: Hub) -> int:
    return sum(n for method, n in hub.calls.items() if method.startswith(PACED_ENDPOINTS))


STEP_SETTLE = 0.3  # seconds after each answer in which a late call still counts for its step


async def measure_steps(people: int, *, first_user: int = 90_000) -> dict[str, Any]:
    """Issue 16's "messages per survivor step": people do the survivor journey one after the
    other, alone with the bot (pacing lifted, no round trip), and every Bot API call between
    one action and the next is counted for that step, by method. Paced: the calls Telegram
    paces per chat (messages sent or edited); answerCallbackQuery is a call, not a message."""
    workdir = fresh_dir("throughput/steps")
    args = ["-m", "bench.botproc", "jigiya", "--stats", str(workdir / "stats.json")]
    async with BotApiEmulator(TOKEN) as emu:
        hub = Hub(emu)
        child = await spawn(
            args, bot_env(emu.base_url, workdir / "jigiya.sqlite3"), workdir / "bot.log"
        )
        try:
            await wait_ready(emu, child)
            # One journey first, not counted: what the bot does once after it starts.
            await crowd(hub, survivor_journey, [first_user - 1])
            counted: list[list[dict[str, int]]] = []
            for user_id, where in zip(
                range(first_user, first_user + people), places(people, seed=3), strict=True
            ):
                person = Person.make(hub, user_id)
                person.hub, person.settle = hub, STEP_SETTLE
                await survivor_journey(person, where)
                hub.forget(user_id)
                counted.append([dict(calls) for calls in person.step_calls])
        finally:
            await child.stop()
    steps = []
    for index, name in enumerate(SURVIVOR_STEPS):
        by_method: dict[str, float] = {}
        for journey in counted:
            for method, n in journey[index].items():
                by_method[method] = by_method.get(method, 0) + n / len(counted)
        steps.append({"step": name, "calls": by_method})
    return {"people": people, "steps": steps, "without_exit": len(SURVIVOR_STEPS) - 1}


def paced_share(calls: dict[str, float]) -> float:
    return sum(n for method, n in calls.items() if method.startswith(PACED_ENDPOINTS))


# Where the event loop thread's CPU goes: (label, test on (file, function)). Cumulative times
# overlap (a request made by a handler counts in both), so shares are of the thread's total.
_PROFILE_PARTS: list[tuple[str, Callable[[str, str], bool]]] = [
    ("handling updates (Application.process_update)",
     lambda f, n: f.endswith("telegram/ext/_application.py") and n == "process_update"),
    ("Bot API requests, getUpdates included (Bot._post: PTB + its HTTP client)",
     lambda f, n: f.endswith("telegram/_bot.py") and n == "_post"),
    ("within them, aiohttp's client (ClientSession._request + ClientResponse.read)",
     lambda f, n: (f.endswith("aiohttp/client.py") and n == "_request")
     or (f.endswith("aiohttp/client_reqrep.py") and n == "read")),
    ("the conversation step: store + flow (ConversationRunner.step)",
     lambda f, n: f.endswith("bot/conversation.py") and n == "step"),
    ("the flow alone (transitions; SurvivorFlow.step)",
     lambda f, n: f.endswith("bot/flows/survivor.py") and n == "step"),
    ("receiving: getUpdates (bot/telegram/polling.py _fetch)",
     lambda f, n: f.endswith("bot/telegram/polling.py") and n == "_fetch"),
    ("receiving: storing each batch (Intake.accept)",
     lambda f, n: f.endswith("bot/telegram/intake.py") and n == "accept"),
]  # fmt: skip


def _profile_shares(path: Path) -> dict[str, float] | None:
    if not path.exists():
        return None
    stats = pstats.Stats(str(path))
    table: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(entry[2] for entry in table.values())  # tottime of every function
    shares: dict[str, float] = {}
    for label, test in _PROFILE_PARTS:
        cumulative = sum(entry[3] for (file, _, name), entry in table.items() if test(file, name))
        shares[label] = cumulative / total if total else 0.0
    return shares


def plan(quick: bool) -> list[RunConfig]:
    """Echo and Jigiya back to back for every size and round trip, so that noise hits both;
    at 50 ms echo-aiohttp too (the same echo bot on Jigiya's transport, bench/echo.py).

    The smaller crowd starts at once and runs to the end of its journeys. For the larger one
    the figures cover a window of steady state with all N at work. People who start together
    move in step (one answer each per round of the bot), so 1,000 people started at once spend
    the first minutes on /start and the language alone: for the echo bot, whose steps all cost
    the same, that is a fair sample; for Jigiya those are the cheapest steps (one or two Bot API
    calls, against six for the danger screen), so its larger crowd is a rolling one
    (bench/journey.py): it joins in as many groups as the journey has steps, one step apart, and
    every step is being done at any moment.
    """
    sizes = (10, 50) if quick else (100, 1000)
    window = 8.0 if quick else 20.0
    solo = 8 if quick else 20
    runs = [RunConfig("echo", solo, 0.0, solo=True), RunConfig("jigiya", solo, 0.0, solo=True)]
    for latency in (0.0, 0.05, 0.15):
        echoes = ("echo", "echo-aiohttp") if latency == 0.05 else ("echo",)
        for bot in (*echoes, "jigiya"):
            runs.append(RunConfig(bot, sizes[0], latency))
        for bot in echoes:
            runs.append(RunConfig(bot, sizes[1], latency, cutoff=window))
        runs.append(RunConfig("jigiya", sizes[1], latency, window=window))
    # Telegram's pace kept: the real-world ceiling, with people tapping the instant an answer
    # lands, then reading each answer for a few seconds as a person does.
    paced_people = 10 if quick else 30
    runs.append(RunConfig("jigiya", paced_people, 0.05, paced=True))
    runs.append(RunConfig("jigiya", paced_people, 0.05, paced=True, reading=READING_S))
    # Where the bot's CPU goes.
    runs.append(RunConfig("jigiya", 5 if quick else 10, 0.0, solo=True, profile=True))
    return runs


async def run_phase(quick: bool, log: Callable[[str], None] = print) -> dict[str, Any]:
    results = []
    broken = []
    steps: dict[str, Any] | None = None
    try:
        async with asyncio.timeout(RUN_LIMIT):
            steps = await measure_steps(2 if quick else 5)
        journey = steps["steps"][: steps["without_exit"]]
        calls = sum(sum(s["calls"].values()) for s in journey) / len(journey)
        paced = sum(paced_share(s["calls"]) for s in journey) / len(journey)
        log(f"  survivor steps: {calls:.2f} Bot API calls per step, {paced:.2f} paced messages")
    except Exception as exc:
        broken.append(f"steps: {type(exc).__name__}: {exc}"[:500])
        log(f"  survivor steps FAILED: {broken[-1]}")
    for config in plan(quick):
        started = time.monotonic()
        try:
            async with asyncio.timeout(RUN_LIMIT):
                result = await measure(config)
        except Exception as exc:  # one broken run must not lose the others
            broken.append(f"{config.label}: {type(exc).__name__}: {exc}"[:500])
            log(f"  {config.label:<30} FAILED: {broken[-1]}")
            continue
        done = (
            f"{result['finished']} journeys in the window"
            if config.window is not None
            else f"finished {result['finished']}/{result['people']}"
        )
        log(
            f"  {config.label:<30} {result['updates_per_s']:7.1f} updates/s  "
            f"bot-side p50/p99 {result['bot_side_ms']['p50']:.1f}/"
            f"{result['bot_side_ms']['p99']:.1f} ms  {done}  failed {result['failed']}  "
            f"({time.monotonic() - started:.0f} s)"
        )
        results.append(result)
    return {"runs": results, "broken": broken, "steps": steps}
