"""The machine, the versions and the date a run happened on, for the head of RESULTS.md."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import platform
import sqlite3
import subprocess
import sys
import time
import timeit
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.common import OUT, ROOT, percentile

PACKAGES = (
    "python-telegram-bot",
    "httpx",
    "httpcore",
    "anyio",
    "sniffio",
    "transitions",
    "aiosqlite",
    "aiohttp",
    "aiolimiter",
    "rapidfuzz",
    "babel",
    "cryptography",
    "tenacity",
    "APScheduler",
)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return float("nan")


def _git(*args: str) -> str:
    """Read-only git queries (commit, whether the tree has changes)."""
    try:
        done = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip()


def _fsync_ms(samples: int = 50) -> dict[str, float]:
    """fsync of a 4 KiB write in bench/out/, where the benchmark databases live."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "fsync-probe.tmp"
    durations = []
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for _ in range(samples):
            os.write(fd, b"x" * 4096)
            started = time.perf_counter()
            os.fsync(fd)
            durations.append(time.perf_counter() - started)
    finally:
        os.close(fd)
        path.unlink()
    return {"p50": percentile(durations, 50) * 1000, "p99": percentile(durations, 99) * 1000}


async def _aiosqlite_ms(samples: int = 300) -> dict[str, float]:
    """One `await conn.execute("SELECT 1")` through aiosqlite, with an idle event loop: the
    price of every store call (a hop to the connection's thread and back)."""
    import aiosqlite

    path = OUT / "aiosqlite-probe.sqlite3"
    durations = []
    async with aiosqlite.connect(path) as conn:
        for _ in range(samples):
            started = time.perf_counter()
            await conn.execute("SELECT 1")
            durations.append(time.perf_counter() - started)
    path.unlink(missing_ok=True)
    return {"p50": percentile(durations, 50) * 1000, "p99": percentile(durations, 99) * 1000}


def _filesystem(path: Path) -> str:
    best, kind = "", "unknown"
    try:
        for line in Path("/proc/mounts").read_text().splitlines():
            parts = line.split()
            mount, fs = parts[1], parts[2]
            if str(path).startswith(mount) and len(mount) > len(best):
                best, kind = mount, fs
    except OSError:
        pass
    return kind


def describe() -> dict[str, Any]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    reference = min(timeit.repeat("sum(range(1000))", number=2000, repeat=5)) / 2000
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "ram_gib": _ram_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "packages": versions,
        "commit": _git("rev-parse", "--short", "HEAD"),
        "dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "load_start": os.getloadavg(),
        "cpu_reference_us": reference * 1e6,
        "filesystem": _filesystem(OUT.resolve()),
        "fsync_ms": _fsync_ms(),
        "aiosqlite_ms": asyncio.run(_aiosqlite_ms()),
    }
