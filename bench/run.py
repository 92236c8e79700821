"""One command for every benchmark: `.venv/bin/python -m bench.run [--quick]`.

Writes bench/RESULTS.md (and the raw figures to bench/out/results.json). See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench import flood, lookup, memory, relay, start, throughput, waves
from bench.common import OUT, ROOT
from bench.machine import describe
from bench.report import render

PHASES = ("lookup", "start", "throughput", "memory", "relay", "flood", "waves")


def _log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", flush=True)


async def _run(phases: list[str], quick: bool) -> dict[str, Any]:
    runners: dict[str, Callable[[], Awaitable[dict[str, Any]]]] = {
        "start": lambda: start.run_phase(quick, _log),
        "throughput": lambda: throughput.run_phase(quick, _log),
        "memory": lambda: memory.run_phase(quick, _log),
        "relay": lambda: relay.run_phase(quick, _log),
        "flood": lambda: flood.run_phase(quick, _log),
        "waves": lambda: waves.run_phase(quick, _log),
    }
    results: dict[str, Any] = {}
    for phase in phases:
        began = time.monotonic()
        _log(f"{phase}…")
        if phase == "lookup":
            results[phase] = lookup.run_phase(quick, _log)
        else:
            results[phase] = await runners[phase]()
        _log(f"{phase} done in {time.monotonic() - began:.0f} s")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description="Benchmarks of Jigiya against the loopback Bot API emulator; writes "
        "bench/RESULTS.md.",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    parser.add_argument(
        "--only",
        help=f"comma-separated phases to run (default: all): {', '.join(PHASES)}",
    )
    parser.add_argument(
        "--output", type=Path, default=ROOT / "bench" / "RESULTS.md", help="the report to write"
    )
    parser.add_argument(
        "--render",
        type=Path,
        metavar="RESULTS_JSON",
        help="measure nothing: write the report again from a run's figures (after the report's "
        "wording changed)",
    )
    args = parser.parse_args(argv)
    if args.render is not None:
        args.output.write_text(render(json.loads(args.render.read_text())))
        _log(f"wrote {args.output} from {args.render}")
        return 0
    phases = list(PHASES) if not args.only else [p.strip() for p in args.only.split(",")]
    unknown = [p for p in phases if p not in PHASES]
    if unknown:
        parser.error(f"unknown phase(s): {', '.join(unknown)}")
    # The emulator logs at INFO; only problems matter here.
    logging.basicConfig(level=logging.WARNING)

    started = time.monotonic()
    _log(f"bench: {'quick' if args.quick else 'full'} run of {', '.join(phases)}")
    machine = describe()
    results: dict[str, Any] = asyncio.run(_run(phases, args.quick))
    command = ".venv/bin/python -m bench.run" + " ".join(["", *sys.argv[1:]]).rstrip()
    results.update(
        machine=machine,
        quick=args.quick,
        phases=phases,
        command=command,
        seconds=time.monotonic() - started,
        load_end=os.getloadavg(),
    )
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(results, indent=1, default=str))
    args.output.write_text(render(results))
    _log(f"wrote {args.output} ({results['seconds'] / 60:.1f} min)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
