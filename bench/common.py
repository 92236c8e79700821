"""What every phase shares: the bot's settings, child processes, /proc readings, percentiles.

The bot under test always runs in a child process of its own (`python -m bench.botproc` or
`python -m bot run`), while this process plays Telegram (the emulator) and the people. On a
2-core machine each side then has a core, and the bot's CPU time and resident memory are its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.emulator import BotApiEmulator

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"  # git-ignored scratch space: databases, logs, raw JSON

TOKEN = "123456789:" + "B" * 35
SECRET = "TUhflEgxNZyvhTIM26vC1MqOAaITbvuo3bAY-AqfOfs"
STAFF_CHAT = -1001234567890
ALWAYS_OPEN = "mon-sun 00:00-24:00"

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def bot_env(api_url: str, db_path: Path, **extra: str) -> dict[str, str]:
    """Settings for the bot, as environment variables (what `python -m bot run` reads)."""
    return {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": api_url,
        "BOT_DB_PATH": str(db_path),
        "BOT_SECRET": SECRET,
        **extra,
    }


def child_env(extra: dict[str, str]) -> dict[str, str]:
    """The environment of a child process: this one's, minus any bot setting, plus `extra`."""
    prefixes = ("TELEGRAM_", "BOT_", "HOTLINE_", "CASE_", "JIGIYA_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def fresh_dir(name: str) -> Path:
    """An empty scratch directory under bench/out/."""
    path = OUT / name
    if path.exists():
        for child in sorted(path.rglob("*"), reverse=True):
            if child.is_dir():
                child.rmdir()
            else:
                child.unlink()
    path.mkdir(parents=True, exist_ok=True)
    return path


# --- child processes ------------------------------------------------------------------------


@dataclass
class Child:
    """A bot process started by a phase; always stopped by `stop()` (SIGTERM, then SIGKILL)."""

    process: asyncio.subprocess.Process
    log_path: Path
    started: float  # time.monotonic() just before the spawn

    @property
    def pid(self) -> int:
        return self.process.pid

    async def stop(self, timeout: float = 30.0) -> int:
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), timeout)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self.process.kill()
                await self.process.wait()
        return int(self.process.returncode or 0)


async def spawn(args: Sequence[str], env: dict[str, str], log_path: Path) -> Child:
    """Start `python <args>` from the project root, output to log_path."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        started = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            sys.executable, *args, cwd=ROOT, env=child_env(env), stdout=log, stderr=log
        )
    return Child(process, log_path, started)


async def wait_ready(emu: BotApiEmulator, child: Child, timeout: float = 60.0) -> float:
    """Wait for the bot's first getUpdates (everything before polling is done); return when
    it arrived (time.monotonic()). Fails early if the child dies."""
    polling = asyncio.ensure_future(emu.wait_for_call("getUpdates", timeout=timeout))
    died = asyncio.ensure_future(child.process.wait())
    try:
        done, _ = await asyncio.wait({polling, died}, return_when=asyncio.FIRST_COMPLETED)
        if polling in done:
            return polling.result().time
        tail = child.log_path.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"the bot process exited before polling; its log ends:\n{tail}")
    finally:
        for task in (polling, died):
            task.cancel()
        await asyncio.gather(polling, died, return_exceptions=True)


# --- /proc ------------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # After the command name: state is field 3, so utime (14) and stime (15) are at 11 and 12.
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def mb(mib: float) -> float:
    """MiB (what /proc reports, in KiB) to MB of 10^6 bytes, the unit of the targets."""
    return mib * 1024 * 1024 / 1e6


def memory_mib(pid: int) -> dict[str, float]:
    """VmRSS (resident now) and VmHWM (peak resident) of a process, in MiB."""
    found: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) / 1024
    return found


# --- numbers ----------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def summary_ms(values: Sequence[float]) -> dict[str, float]:
    """p50, p99, max and mean of durations given in seconds, in milliseconds."""
    if not values:
        return {"n": 0, "p50": math.nan, "p99": math.nan, "max": math.nan, "mean": math.nan}
    return {
        "n": len(values),
        "p50": percentile(values, 50) * 1000,
        "p99": percentile(values, 99) * 1000,
        "max": max(values) * 1000,
        "mean": sum(values) / len(values) * 1000,
    }


def fmt(value: Any, digits: int = 1) -> str:
    """A number for a table: fixed digits, thousands separated, '–' for missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table, then a blank line."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]
