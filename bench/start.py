"""Phase 5: from process start to the first answered update.

A person's /start is already waiting in the emulated Telegram; then `python -m bot run` is spawned
(the production entry point, nothing patched) and timed from just before the spawn to:
* its first getUpdates (everything before polling is done: imports, settings, database and
  migrations, getMe, the command menus, the replay of unfinished updates);
* the sendMessage that answers the /start reaching the Bot API.
"Cold" starts on a new database (migrations applied), "warm" on the one left by the previous run.
Python's own start (`python -c pass`) and the bot's imports (`python -c "import bot.app"`) are
timed too, to show where the time goes.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from bench.common import ROOT, TOKEN, bot_env, child_env, fresh_dir, spawn
from bot.emulator import BotApiEmulator

FIRST_USER = 400_000


async def _python(code: str) -> float:
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, cwd=ROOT, env=child_env({})
    )
    await asyncio.wait_for(process.wait(), 60)
    return time.monotonic() - started


async def _import_breakdown(top: int = 6) -> list[tuple[str, float]]:
    """The slowest imports made directly by bot.app, in seconds (`python -X importtime`)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-X", "importtime", "-c", "import bot.app",
        cwd=ROOT, env=child_env({}), stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(process.communicate(), 60)
    found: list[tuple[str, float]] = []
    for line in err.decode(errors="replace").splitlines():
        parts = line.split("|")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        name = parts[2]
        depth = (len(name) - len(name.lstrip(" ")) - 1) // 2
        if depth == 1:
            found.append((name.strip(), int(parts[1]) / 1e6))
    return sorted(found, key=lambda item: -item[1])[:top]


async def _one(emu: BotApiEmulator, kind: str, latency: float, number: int) -> dict[str, Any]:
    workdir = fresh_dir("start") if kind == "cold" else (ROOT / "bench" / "out" / "start")
    emu.set_latency(latency)
    user = emu.user(FIRST_USER + number)
    await user.send("/start")
    emu.consume_calls()
    last_seq = emu.calls[-1].seq if emu.calls else 0
    child = await spawn(
        ["-m", "bot", "run"],
        bot_env(emu.base_url, workdir / "jigiya.sqlite3"),
        workdir / f"bot-{number}.log",
    )
    try:
        polling = await emu.wait_for_call("getUpdates", timeout=60)
        answer = await emu.wait_for_call(
            "sendMessage", timeout=60, predicate=lambda c: c.params.get("chat_id") == user.id
        )
        before_answer = [c for c in emu.calls if last_seq < c.seq < answer.seq]
    finally:
        returncode = await child.stop()
    return {
        "kind": kind,
        "latency_ms": latency * 1000,
        "to_polling_s": polling.time - child.started,
        "to_answer_s": answer.time - child.started,
        "calls_before_answer": len(before_answer),
        "methods_before_answer": [c.method for c in before_answer],
        "exit": returncode,
    }


async def run_phase(quick: bool, log: Callable[[str], None] = print) -> dict[str, Any]:
    plan = [("cold", 0.0), ("warm", 0.0)]
    if not quick:
        plan += [("warm", 0.0), ("cold", 0.05), ("warm", 0.05), ("warm", 0.15)]
    runs = []
    async with BotApiEmulator(TOKEN) as emu:
        for number, (kind, latency) in enumerate(plan):
            run = await _one(emu, kind, latency, number)
            log(
                f"  {kind} start, {run['latency_ms']:.0f} ms round trip: polling after "
                f"{run['to_polling_s']:.2f} s, first answer after {run['to_answer_s']:.2f} s"
            )
            runs.append(run)
    repeat = 2 if quick else 3
    python_s = statistics.median([await _python("pass") for _ in range(repeat)])
    imports_s = statistics.median([await _python("import bot.app") for _ in range(repeat)])
    breakdown = await _import_breakdown()
    return {
        "runs": runs,
        "python_s": python_s,
        "imports_s": imports_s,
        "slowest_imports": breakdown,
    }
