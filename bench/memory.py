"""Phase 2: resident memory of the bot process with many stored conversations, and with many
people in the middle of a journey at once.

The database is pre-filled with bulk inserts that match the schema the real migrations create
(state/migrations/): per stored conversation, a person row, a survivor conversation row in the
menu state and four message ids, all keyed by the same keyed hashes the bot computes
(`StorageKey.digest`, `ConversationRunner.person_key`), so each row is one the bot could resume.
Then the bot starts on that file, and its VmRSS (resident now) and VmHWM (peak) are read from
/proc/<pid>/status: once idle, then after a warm-up of a few people (what the first survivor's
step loads once), after N people went to "where are you?" side by side, and after N more did.
The bot runs with `--bare`: the benchmark's timing samples, kept per update, are not the bot's
memory.

Resident memory does not say what is held: the allocators keep what a burst of N updates in
flight used at once. So the N people go again, on a copy of the same database, through a bot
process under tracemalloc (its own RSS is not read: tracing costs memory): the Python memory
still held afterwards, per person, and the traced peak while they were at it (the transient
part). SQLite's page caches are not traced (they fill once, up to about 2 MB per connection).
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import signal
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import SECRET, TOKEN, bot_env, fresh_dir, mb, memory_mib, spawn, wait_ready
from bench.journey import Hub, crowd, midway_journey
from bot.conversation import StorageKey
from bot.emulator import BotApiEmulator
from bot.keys import Keys
from state.store import Store

BOT_ID = int(TOKEN.split(":")[0])
STORED_USERS = 50_000_000  # stored people have ids from here; active ones are far below
MESSAGES_PER_PERSON = 4
BATCH = 10_000
SETTLE_SECONDS = 2.0  # after start: the first purge runs 1 s after start (bot/app.py)
# Before the crowd, a few people go the same way: what the first survivor's step loads once
# (modules, catalogues, caches) is the bot's, not each person's.
WARMUP_PEOPLE = 20
QUIET_SECONDS = 1.0  # after the crowd's last answer: the bot ends its steps (saves, counts)
TRACE_WAIT = 60.0  # for the traced process to write its comparison (a snapshot takes seconds)
_TRACED = re.compile(
    r"traced (?P<now>[\d.]+) MB, grown (?P<grown>[-+\d.]+) MB since the mark, "
    r"peak (?P<peak>[\d.]+) MB since the mark, SQLite grown (?P<sqlite>[-+\d.]+) MB"
)


@dataclass(frozen=True)
class MemoryConfig:
    stored: int
    active: int  # people mid-journey at once after the idle reading (0: none)


async def prefill(db_path: Path, count: int) -> float:
    """Create the schema with the real migrations, then bulk-insert `count` conversations."""
    started = time.monotonic()
    store = await Store.open(db_path)
    await store.close()
    if count:
        await asyncio.to_thread(_insert, db_path, count)
    return time.monotonic() - started


def _insert(db_path: Path, count: int) -> None:
    keys = Keys(SECRET)
    now = int(time.time())
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous=OFF")  # this loader's connection only
        conn.execute("BEGIN")
        for first in range(0, count, BATCH):
            people: list[tuple[object, ...]] = []
            conversations: list[tuple[object, ...]] = []
            messages: list[tuple[object, ...]] = []
            for user_id in range(STORED_USERS + first, STORED_USERS + min(first + BATCH, count)):
                person = keys.pseudonym("person", BOT_ID, user_id)
                storage = StorageKey(str(BOT_ID), str(user_id), str(user_id)).digest(keys)
                people.append((person, "fr", now, now))
                conversations.append(
                    ("survivor", storage, person, "menu", '{"suggested":"fr"}', 3, 3, now)
                )
                messages.extend((person, i, now) for i in range(1, MESSAGES_PER_PERSON + 1))
            conn.executemany(
                "INSERT INTO people (person_key, language, created_at, updated_at) "
                "VALUES (?, ?, ?, ?)",
                people,
            )
            conn.executemany(
                "INSERT INTO conversations (flow, storage_key, person_key, state, data, "
                "last_update_id, version, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                conversations,
            )
            conn.executemany(
                "INSERT INTO chat_messages (person_key, message_id, sent_at) VALUES (?, ?, ?)",
                messages,
            )
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


async def measure(config: MemoryConfig) -> dict[str, Any]:
    workdir = fresh_dir(f"memory/{config.stored}")
    db_path = workdir / "jigiya.sqlite3"
    prefill_s = await prefill(db_path, config.stored)
    db_mb = sum(p.stat().st_size for p in workdir.glob("jigiya.sqlite3*")) / 1e6
    if config.active:  # the traced run's copy, before this run adds anyone
        shutil.copy(db_path, workdir / "traced.sqlite3")
    stats_path = workdir / "stats.json"
    result: dict[str, Any] = {"stored": config.stored, "active": config.active}
    async with BotApiEmulator(TOKEN) as emu:
        hub = Hub(emu)
        child = await spawn(
            ["-m", "bench.botproc", "jigiya", "--bare", "--stats", str(stats_path)],
            bot_env(emu.base_url, db_path),
            workdir / "bot.log",
        )
        try:
            await wait_ready(emu, child)
            await asyncio.sleep(SETTLE_SECONDS)
            idle = memory_mib(child.pid)
            result.update(idle_rss_mb=mb(idle["VmRSS"]), idle_peak_mb=mb(idle["VmHWM"]))
            if config.active:
                await _warm_up(hub)
                warm = memory_mib(child.pid)
                people = await crowd(hub, midway_journey, _people(config.active))
                await asyncio.sleep(QUIET_SECONDS)
                busy = memory_mib(child.pid)
                # As many new people again: what the first crowd's peak left to the allocators
                # is used again, so this growth is what each further person costs.
                await crowd(hub, midway_journey, _people(config.active, again=True))
                await asyncio.sleep(QUIET_SECONDS)
                again = memory_mib(child.pid)
                result.update(
                    again_rss_mb=mb(again["VmRSS"]),
                    warm_rss_mb=mb(warm["VmRSS"]),
                    active_finished=people.finished,
                    active_failed=people.failed,
                    active_seconds=people.elapsed,
                    active_rss_mb=mb(busy["VmRSS"]),
                    active_peak_mb=mb(busy["VmHWM"]),
                )
        finally:
            await child.stop()
    stats: dict[str, Any] = json.loads(stats_path.read_text()) if stats_path.exists() else {}
    if config.active:
        result.update(await traced(workdir, config.active))
    result.update(
        prefill_s=prefill_s,
        db_mb=db_mb,
        bot_errors=stats.get("errors"),
        bot_first_errors=stats.get("first_errors", []),
    )
    return result


async def traced(workdir: Path, active: int) -> dict[str, Any]:
    """The same crowd under tracemalloc: KB per person held after it, and at its peak."""
    trace_path = workdir / "tracemalloc.txt"
    async with BotApiEmulator(TOKEN) as emu:
        hub = Hub(emu)
        child = await spawn(
            ["-m", "bench.botproc", "jigiya", "--bare",
             "--stats", str(workdir / "traced-stats.json"),
             "--tracemalloc", str(trace_path)],
            bot_env(emu.base_url, workdir / "traced.sqlite3"),
            workdir / "traced-bot.log",
        )  # fmt: skip
        try:
            await wait_ready(emu, child)
            await asyncio.sleep(SETTLE_SECONDS)
            await _warm_up(hub)
            child.process.send_signal(signal.SIGUSR1)  # the mark: what is traced now
            await asyncio.sleep(SETTLE_SECONDS)
            await crowd(hub, midway_journey, _people(active))
            await asyncio.sleep(QUIET_SECONDS)
            child.process.send_signal(signal.SIGUSR2)  # what grew, written while it runs
            for _ in range(int(TRACE_WAIT / 0.5)):  # written whole: it is renamed into place
                if trace_path.exists():
                    break
                await asyncio.sleep(0.5)
        finally:
            await child.stop()
    found = _TRACED.match(trace_path.read_text()) if trace_path.exists() else None
    if found is None:
        return {}
    now, grown, peak, sqlite = (float(found[n]) for n in ("now", "grown", "peak", "sqlite"))
    return {
        "traced_held_kb": grown * 1e3 / active,
        "traced_peak_kb": (peak - (now - grown)) * 1e3 / active,
        "sqlite_kb": sqlite * 1e3 / active,
    }


async def _warm_up(hub: Hub) -> None:
    await crowd(hub, midway_journey, range(900_000, 900_000 + WARMUP_PEOPLE))
    await asyncio.sleep(SETTLE_SECONDS)


def _people(count: int, *, again: bool = False) -> range:
    first = 2_000_000 if again else 1_000_000
    return range(first, first + count)


def per_person_kb(run: dict[str, Any], reading: str = "active_rss_mb") -> float | None:
    """Resident growth per person mid-journey in KB, from the reading after the warm-up (the
    first crowd), or from the first crowd's reading (`again_rss_mb`: the next crowd)."""
    if not run.get("active") or reading not in run:
        return None
    start = run["active_rss_mb"] if reading == "again_rss_mb" else run.get("warm_rss_mb")
    return float((run[reading] - (run["idle_rss_mb"] if start is None else start)) * 1e3
                 / run["active"])  # fmt: skip


def plan(quick: bool) -> list[MemoryConfig]:
    if quick:
        return [MemoryConfig(0, 0), MemoryConfig(1_000, 0), MemoryConfig(10_000, 100)]
    return [MemoryConfig(0, 0), MemoryConfig(10_000, 0), MemoryConfig(100_000, 1_000)]


async def run_phase(quick: bool, log: Callable[[str], None] = print) -> dict[str, Any]:
    results = []
    for config in plan(quick):
        result = await measure(config)
        line = f"  {config.stored:>7,} stored: idle {result['idle_rss_mb']:.1f} MB"
        if config.active:
            line += (
                f", with {config.active:,} mid-journey {result['active_rss_mb']:.1f} MB "
                f"(peak {result['active_peak_mb']:.1f} MB); per person "
                f"{per_person_kb(result) or 0:.1f} KB "
                f"resident, {result.get('traced_held_kb', float('nan')):.1f} KB held and "
                f"{result.get('traced_peak_kb', float('nan')):.1f} KB at the peak (tracemalloc), "
                f"SQLite {result.get('sqlite_kb', float('nan')):.1f} KB; "
                f"{per_person_kb(result, 'again_rss_mb') or 0:.1f} "
                f"KB for each of {config.active:,} more"
            )
        log(line)
        results.append(result)
    return {"runs": results}
