"""Phase 6: one chat floods the bot; another person and the flooder's own quick exit are timed.

The bot runs with its production rate limiter. One person sends /start, then `flood` texts as
fast as the emulator takes them. Right after, another person sends /start: the time until her
greeting arrives is what a flood costs everyone else. Then the flooder sends /exit: the time
until her goodbye arrives (every message of hers deleted before it) is what her own backlog
costs her quick exit. Then the chat is watched for two seconds: nothing may follow the goodbye.
Targets (issue 10): each within 2 s on this machine, with 5,000 updates.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from bench.common import TOKEN, bot_env, fresh_dir, spawn, wait_ready
from bot.emulator import BotApiEmulator, FakeUser

FLOODER, OTHER = 500_001, 500_002
WATCH_AFTER_GOODBYE = 2.0
GOODBYE_PREFIX = "Bonne journée"


def _texts(user: FakeUser) -> list[str]:
    chat = user.chat
    return [
        str(e.message.get("text", ""))
        for e in chat.events
        if e.kind == "message" and e.message is not None
    ]


async def _until(check: Callable[[], bool], timeout: float) -> float:
    """Seconds until `check` holds; raises TimeoutError after `timeout`."""
    began = time.monotonic()
    async with asyncio.timeout(timeout):
        while True:
            if check():
                return time.monotonic() - began
            await asyncio.sleep(0.005)


async def run_phase(quick: bool, log: Callable[[str], None] = print) -> dict[str, Any]:
    flood = 500 if quick else 5000
    workdir = fresh_dir("flood")
    result: dict[str, Any] = {"flood": flood}
    async with BotApiEmulator(TOKEN) as emu:
        child = await spawn(
            [
                "-m",
                "bench.botproc",
                "jigiya",
                "--paced",
                "--stats",
                str(workdir / "stats.json"),
                "--profile",
                "/tmp/flood.prof",
            ],
            bot_env(emu.base_url, workdir / "jigiya.sqlite3"),
            workdir / "bot.log",
        )
        try:
            await wait_ready(emu, child)
            flooder = emu.user(FLOODER, "Awa", language_code="fr")
            other = emu.user(OTHER, "Binta", language_code="fr")
            await flooder.send("/start")
            await _until(lambda: len(_texts(flooder)) >= 1, 30)
            began = time.monotonic()
            for n in range(flood):
                await flooder.send(f"message {n}")
            result["flood_sent_s"] = time.monotonic() - began
            log(f"  {flood} updates from one chat in {result['flood_sent_s']:.2f} s")

            await other.send("/start")
            result["other_start_s"] = await _until(lambda: len(_texts(other)) >= 1, 60)
            log(f"  another person's /start answered in {result['other_start_s']:.2f} s")

            answered = len(_texts(flooder))
            await flooder.send("/exit")
            result["exit_s"] = await _until(
                lambda: any(x.startswith(GOODBYE_PREFIX) for x in _texts(flooder)), 60
            )
            result["answered_before_exit"] = answered
            log(f"  the flooder's quick exit said goodbye in {result['exit_s']:.2f} s")
            events = flooder.chat.events
            at_goodbye = len(events)
            await asyncio.sleep(WATCH_AFTER_GOODBYE)
            result["after_goodbye"] = sum(
                1 for e in list(events)[at_goodbye:] if e.kind != "delete"
            )
            result["left_in_chat"] = len(flooder.messages)
        finally:
            await child.stop()
    return result
