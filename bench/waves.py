"""Phase 7: memory that does not grow with the number of people ever seen (issue 16, point 4).

A country's bot runs for months without a restart, and most people it meets write for a few
minutes and never come back. Waves of people the bot has never seen each do a short errand
(/start → Français → free numbers, bench/journey.py `errand_journey`) and fall quiet. After each
wave, once every answer has arrived and the bot has been quiet for `QUIET_SECONDS`, the bot
process's resident memory (VmRSS) is read from /proc. A bot that keeps something per person
for ever grows by about the same step every wave; one that drops its per-chat objects when a
chat goes quiet levels off once its caches (SQLite's page caches, the allocator's arenas) are
warm. What the store keeps of each person (30 days) is on disk, not in memory.

At the end, the bot process reports how many per-chat objects it still holds (bench/botproc.py):
python-telegram-bot's chat_data and user_data and its marks for a persistence flush, the chat
locks, the pacing buckets, the exit gate's entries and the intake's queues.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import Callable, Sequence
from typing import Any

from bench.common import TOKEN, bot_env, fresh_dir, mb, memory_mib, spawn, wait_ready
from bench.journey import Hub, crowd, errand_journey
from bot.emulator import BotApiEmulator

FIRST_USER = 10_000_000
WARMUP_PEOPLE = 50
QUIET_SECONDS = 3.0  # after a wave: longer than a pacing bucket takes to refill (3 s)


def plan(quick: bool) -> tuple[int, int]:
    """(waves, people per wave): 100,000 distinct people in all, or a smoke test."""
    return (4, 250) if quick else (50, 2_000)


def _forget(emu: BotApiEmulator, user_ids: Sequence[int]) -> None:
    """Drop a wave's people from the emulator (this process's memory, not the bot's): with
    100,000 of them it would otherwise be the benchmark that grows."""
    for user_id in user_ids:
        emu._users.pop(user_id, None)
        emu.world.users.pop(user_id, None)
        emu.world.chats.pop(user_id, None)
    emu.injected.clear()


async def run_phase(
    quick: bool, log: Callable[[str], None] = print, *, trace: bool = False
) -> dict[str, Any]:
    """`trace`: the bot process runs under tracemalloc and writes what grew from the end of the
    first wave to the end of the last to bench/out/waves/tracemalloc.txt (slow: for finding
    what grows, not for figures)."""
    waves, size = plan(quick)
    workdir = fresh_dir("waves")
    stats_path = workdir / "stats.json"
    extra = ["--tracemalloc", str(workdir / "tracemalloc.txt")] if trace else []
    readings: list[dict[str, float]] = []
    failed = 0
    first_failure: str | None = None
    started = time.monotonic()
    async with BotApiEmulator(TOKEN) as emu:
        hub = Hub(emu)
        child = await spawn(
            ["-m", "bench.botproc", "jigiya", "--bare", "--stats", str(stats_path), *extra],
            bot_env(emu.base_url, workdir / "jigiya.sqlite3"),
            workdir / "bot.log",
        )
        try:
            await wait_ready(emu, child)
            warm = range(FIRST_USER - WARMUP_PEOPLE, FIRST_USER)
            await crowd(hub, errand_journey, warm)
            _forget(emu, warm)
            await asyncio.sleep(QUIET_SECONDS)
            idle = mb(memory_mib(child.pid)["VmRSS"])
            for wave in range(waves):
                people = range(FIRST_USER + wave * size, FIRST_USER + (wave + 1) * size)
                result = await crowd(hub, errand_journey, people, seed=wave)
                _forget(emu, people)
                failed += result.failed
                first_failure = first_failure or result.first_failure
                await asyncio.sleep(QUIET_SECONDS)
                rss = mb(memory_mib(child.pid)["VmRSS"])
                if trace and wave == 0:
                    child.process.send_signal(signal.SIGUSR1)  # compare the end with now
                readings.append({"people": (wave + 1) * size, "rss_mb": rss,
                                 "seconds": result.elapsed})  # fmt: skip
                log(f"  wave {wave + 1:>2}/{waves}: {(wave + 1) * size:>7,} people seen, "
                    f"{rss:.1f} MB resident ({rss - idle:+.1f} MB from idle), "
                    f"{result.elapsed:.0f} s")  # fmt: skip
            peak = mb(memory_mib(child.pid)["VmHWM"])
        finally:
            await child.stop()
    stats: dict[str, Any] = json.loads(stats_path.read_text()) if stats_path.exists() else {}
    return {
        "waves": waves,
        "size": size,
        "idle_rss_mb": idle,
        "readings": readings,
        "peak_rss_mb": peak,
        "per_wave_mb": _slope(readings[len(readings) // 2 :]),
        "failed": failed,
        "first_failure": first_failure,
        "per_chat_left": stats.get("per_chat"),
        "bot_errors": stats.get("errors"),
        "bot_first_errors": stats.get("first_errors", []),
        "seconds": time.monotonic() - started,
    }


def _slope(readings: list[dict[str, float]]) -> float | None:
    """MB per wave over these readings (least squares): the growth once caches are warm."""
    if len(readings) < 2:
        return None
    xs = [float(i) for i in range(len(readings))]
    ys = [r["rss_mb"] for r in readings]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread
