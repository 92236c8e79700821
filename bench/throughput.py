"""Phase 1: throughput and latency of the survivor journey, side by side with the echo floor.

Each run starts a fresh emulator (in this process) and a fresh bot process (bench/botproc.py),
lets a few people warm the bot up, then lets N people start their journey at the same moment,
each waiting for every answer before her next action (no think time). Measured over that window:

* updates/s: answers that reached people / seconds from the first action to the last answer, or
  to the cut-off (large crowds are cut off after a fixed window: the bot is then in steady state
  with every one of the N people waiting for an answer);
* answer time: from a person's action to the last message of the bot's answer reaching her;
* in the bot process, per update (see bench/botproc.py): the handlers' wall time, the part of it
  spent waiting for the Bot API, the rest ("bot-side"), store transactions; CPU of each process.
"""

from __future__ import annotations

import json
import pstats
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
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
from bench.journey import Hub, crowd, echo_journey, survivor_journey
from bot.emulator import BotApiEmulator

WARMUP_PEOPLE = 5
PACED_ENDPOINTS = ("send", "editMessage", "copyMessage", "forwardMessage")


@dataclass(frozen=True)
class RunConfig:
    bot: str  # "jigiya" | "echo"
    people: int
    latency: float  # injected Bot API round trip, seconds
    paced: bool = False  # Jigiya with its production OutgoingRateLimiter
    solo: bool = False  # one person after the other instead of all at once
    cutoff: float = 300.0  # seconds after which people still on their way are stopped
    what_if: tuple[str, ...] = field(default=())  # diagnostic variants (bench/botproc.py)
    profile: bool = False  # cProfile of the bot's event loop thread

    @property
    def label(self) -> str:
        mode = "solo" if self.solo else f"{self.people}p"
        pace = "-paced" if self.paced else ""
        variant = "".join(f"+{change}" for change in self.what_if)
        variant += "+profile" if self.profile else ""
        return f"{self.bot}-{mode}-{round(self.latency * 1000)}ms{pace}{variant}"


async def measure(config: RunConfig, *, first_user: int = 100_000) -> dict[str, Any]:
    workdir = fresh_dir(f"throughput/{config.label}")
    stats_path = workdir / "stats.json"
    journey = survivor_journey if config.bot == "jigiya" else echo_journey
    args = ["-m", "bench.botproc", config.bot, "--stats", str(stats_path)]
    if config.paced:
        args.append("--paced")
    if config.profile:
        args += ["--profile", str(workdir / "profile.pstats")]
    for change in config.what_if:
        args += ["--what-if", change]
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
            calls_before, paced_before = hub.sent_calls(), _paced_calls(hub)
            cpu_start, own_start = cpu_seconds(child.pid), time.process_time()
            cpu_from = time.monotonic()
            people = range(first_user + WARMUP_PEOPLE, first_user + WARMUP_PEOPLE + config.people)
            result = await crowd(
                hub, journey, people, together=not config.solo, cutoff=config.cutoff
            )
            cpu_to = time.monotonic()
            bot_cpu = cpu_seconds(child.pid) - cpu_start
            own_cpu = time.process_time() - own_start
            memory = memory_mib(child.pid)
            calls = hub.sent_calls() - calls_before
            paced = _paced_calls(hub) - paced_before
        finally:
            returncode = await child.stop()
    stats: dict[str, Any] = json.loads(stats_path.read_text()) if stats_path.exists() else {}
    # The window: from the first action to the last answer or the cut-off. Figures from the bot
    # process count what ended in it; CPU is read just around it.
    window_start, window_end = result.started, result.started + result.elapsed

    def in_window(ended: float) -> bool:
        return window_start <= ended <= window_end

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
    store = [s for s in stats.get("store", []) if in_window(s[2])]
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
        "store_wait_ms": summary_ms([s[0] for s in store]),
        "store_hold_ms": summary_ms([s[1] for s in store]),
        "transactions_per_update": len(store) / len(samples) if samples and store else None,
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
        "profile": _profile_shares(workdir / "profile.pstats") if config.profile else None,
    }


def _paced_calls(hub: Hub) -> int:
    return sum(n for method, n in hub.calls.items() if method.startswith(PACED_ENDPOINTS))


# Where the event loop thread's CPU goes: (label, test on (file, function)). Cumulative times
# overlap (a request made by a handler counts in both), so shares are of the thread's total.
_PROFILE_PARTS: list[tuple[str, Callable[[str, str], bool]]] = [
    ("handling updates (Application.process_update)",
     lambda f, n: f.endswith("telegram/ext/_application.py") and n == "process_update"),
    ("Bot API requests, getUpdates included (Bot._post: PTB + httpx)",
     lambda f, n: f.endswith("telegram/_bot.py") and n == "_post"),
    ("the conversation step: store + flow (ConversationRunner.step)",
     lambda f, n: f.endswith("bot/conversation.py") and n == "step"),
    ("the flow alone (transitions; SurvivorFlow.step)",
     lambda f, n: f.endswith("bot/flows/survivor.py") and n == "step"),
    ("receiving: getUpdates (bot/polling.py _fetch)",
     lambda f, n: f.endswith("bot/polling.py") and n == "_fetch"),
    ("receiving: storing each batch (Intake.accept)",
     lambda f, n: f.endswith("bot/intake.py") and n == "accept"),
    ("failed `import sniffio` in httpcore (current_async_library)",
     lambda f, n: f.endswith("httpcore/_synchronization.py") and n == "current_async_library"),
    ("httpcore connection pool bookkeeping (_assign_requests_to_connections)",
     lambda f, n: f.endswith("connection_pool.py") and n == "_assign_requests_to_connections"),
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


def plan(quick: bool, diagnostics: bool = False) -> list[RunConfig]:
    """Echo and Jigiya back to back for every size and round trip, so that noise hits both.

    Every Jigiya crowd runs to the end of its journeys: its steps differ in cost (one Bot API
    call for /start, about six for the free numbers), and 1,000 people who start together move
    in step, so a window would see only the cheap first steps. The echo bot's steps all cost the
    same, so its largest crowd is measured over a window, which keeps the run short.
    """
    sizes = (10, 50) if quick else (100, 1000)
    echo_window = 10.0 if quick else 20.0
    solo = 8 if quick else 20
    runs = [RunConfig("echo", solo, 0.0, solo=True), RunConfig("jigiya", solo, 0.0, solo=True)]
    for latency in (0.0, 0.05, 0.15):
        for people in sizes:
            cutoff = echo_window if people == sizes[-1] else 300.0
            runs.append(RunConfig("echo", people, latency, cutoff=cutoff))
            runs.append(RunConfig("jigiya", people, latency, cutoff=480.0))
    # Telegram's pace kept: the real-world ceiling.
    runs.append(RunConfig("jigiya", 10 if quick else 30, 0.05, paced=True))
    # Where the bot's CPU goes.
    runs.append(RunConfig("jigiya", 5 if quick else 10, 0.0, solo=True, profile=True))
    if diagnostics:  # one dependency fix, tried in the bench process only
        for bot in ("echo", "jigiya"):
            runs.append(RunConfig(bot, sizes[0], 0.05, what_if=("sniffio",)))
    return runs


async def run_phase(
    quick: bool, log: Callable[[str], None] = print, *, diagnostics: bool = False
) -> dict[str, Any]:
    results = []
    for config in plan(quick, diagnostics):
        started = time.monotonic()
        result = await measure(config)
        log(
            f"  {config.label:<30} {result['updates_per_s']:7.1f} updates/s  "
            f"bot-side p50/p99 {result['bot_side_ms']['p50']:.1f}/"
            f"{result['bot_side_ms']['p99']:.1f} ms  finished {result['finished']}/"
            f"{result['people']}  failed {result['failed']}  ({time.monotonic() - started:.0f} s)"
        )
        results.append(result)
    return {"runs": results}
