"""Phase 2: resident memory of the bot process with many stored conversations, and with many
people in the middle of a journey at once.

The database is pre-filled with bulk inserts that match the schema the real migrations create
(state/migrations/): per stored conversation, a person row, a survivor conversation row in the
menu state and four message ids, all keyed by the same keyed hashes the bot computes
(`StorageKey.digest`, `ConversationRunner.person_key`), so each row is one the bot could resume.
Then the bot starts on that file, and its VmRSS (resident now) and VmHWM (peak) are read from
/proc/<pid>/status: once idle, and again after N people went to "where are you?" side by side.
"""

from __future__ import annotations

import asyncio
import json
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
    stats_path = workdir / "stats.json"
    result: dict[str, Any] = {"stored": config.stored, "active": config.active}
    async with BotApiEmulator(TOKEN) as emu:
        hub = Hub(emu)
        child = await spawn(
            ["-m", "bench.botproc", "jigiya", "--stats", str(stats_path)],
            bot_env(emu.base_url, db_path),
            workdir / "bot.log",
        )
        try:
            await wait_ready(emu, child)
            await asyncio.sleep(SETTLE_SECONDS)
            idle = memory_mib(child.pid)
            result.update(idle_rss_mb=mb(idle["VmRSS"]), idle_peak_mb=mb(idle["VmHWM"]))
            if config.active:
                people = await crowd(
                    hub, midway_journey, range(1_000_000, 1_000_000 + config.active)
                )
                busy = memory_mib(child.pid)
                result.update(
                    active_finished=people.finished,
                    active_failed=people.failed,
                    active_seconds=people.elapsed,
                    active_rss_mb=mb(busy["VmRSS"]),
                    active_peak_mb=mb(busy["VmHWM"]),
                )
        finally:
            await child.stop()
    stats: dict[str, Any] = json.loads(stats_path.read_text()) if stats_path.exists() else {}
    result.update(
        prefill_s=prefill_s,
        db_mb=db_mb,
        bot_errors=stats.get("errors"),
        bot_first_errors=stats.get("first_errors", []),
    )
    return result


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
                f"(peak {result['active_peak_mb']:.1f} MB)"
            )
        log(line)
        results.append(result)
    return {"runs": results}
