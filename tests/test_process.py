"""The bot as a real process: `python -m bot run` against the emulator, stopped by signals."""

from __future__ import annotations

import asyncio
import os
import signal
import stat
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT
from bot.emulator import BotApiEmulator, FakeUser
from tests.conftest import SECRET, TOKEN

Spawn = Callable[[], Awaitable[asyncio.subprocess.Process]]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "BOT_"))}
    env.update(extra)
    return env


@pytest.fixture
async def spawn(emulator: BotApiEmulator, tmp_path: Path) -> AsyncIterator[Spawn]:
    processes: list[asyncio.subprocess.Process] = []

    async def start() -> asyncio.subprocess.Process:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run",
            cwd=PROJECT_ROOT,
            env=_env(
                TELEGRAM_BOT_TOKEN=TOKEN,
                TELEGRAM_API_URL=emulator.base_url,
                BOT_DB_PATH=str(tmp_path / "jigiya.sqlite3"),
                BOT_SECRET=SECRET,
            ),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            umask=0o022,  # a usual shell's: the bot must not rely on a stricter one
        )  # fmt: skip
        processes.append(proc)
        await emulator.wait_for_call("getUpdates", timeout=30)
        return proc

    yield start
    for proc in processes:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def greetings(person: FakeUser, settle: float = 1.0) -> int:
    """How many greetings the person got, once no more arrive for `settle` seconds."""
    await person.next_message(timeout=15)
    count = 1
    while True:
        try:
            await person.next_message(timeout=settle)
        except TimeoutError:
            return count
        count += 1


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
async def test_a_stop_signal_finishes_work_in_progress_and_exits_0(
    emulator: BotApiEmulator, spawn: Spawn, stop_signal: signal.Signals
) -> None:
    proc = await spawn()
    awa = emulator.user(2001)
    emulator.set_latency(2.0, "sendMessage")  # the answer is still on its way at SIGTERM
    await awa.send("/start")
    await emulator.wait_for_call("sendMessage", timeout=10)
    loop = asyncio.get_running_loop()
    started = loop.time()
    proc.send_signal(stop_signal)
    assert await asyncio.wait_for(proc.wait(), timeout=12) == 0
    assert loop.time() - started < 10
    assert (await awa.next_message(timeout=1))["text"].startswith("Bonjour")
    assert proc.stderr is not None
    log = (await proc.stderr.read()).decode()
    assert "Stopped" in log
    assert TOKEN not in log
    assert TOKEN.split(":")[1] not in log


async def test_updates_taken_in_before_sigkill_are_all_handled_once_after_restart(
    emulator: BotApiEmulator, spawn: Spawn
) -> None:
    proc = await spawn()
    people = [emulator.user(3000 + i) for i in range(5)]
    # Handlers hang on their reply, so the updates are received and acknowledged but not handled.
    emulator.set_latency(60.0, "sendMessage")
    last = 0
    for person in people:
        await person.send("/start")
    last = max(u["update_id"] for u in emulator.injected)
    for _ in range(200):
        if emulator.confirmed_offset > last:
            break
        await asyncio.sleep(0.05)
    assert emulator.confirmed_offset > last, "Telegram was never told the updates arrived"
    await emulator.wait_for_call("sendMessage", timeout=10)
    proc.kill()
    await proc.wait()

    emulator.set_latency(0, "sendMessage")
    # Telegram re-delivering an update already taken in must not make it run twice.
    emulator.inject({**emulator.injected[-1]})
    await spawn()
    for person in people:
        assert await greetings(person) == 1


async def test_the_database_and_its_journal_files_are_the_owners_alone(
    emulator: BotApiEmulator, spawn: Spawn, tmp_path: Path
) -> None:
    await spawn()
    awa = emulator.user(2101)
    await awa.send("/start")
    await awa.next_message(timeout=15)
    database = tmp_path / "jigiya.sqlite3"
    files = [
        database,
        database.with_name("jigiya.sqlite3-wal"),
        database.with_name("jigiya.sqlite3-shm"),
    ]
    assert {f.name: stat.S_IMODE(f.stat().st_mode) for f in files} == {f.name: 0o600 for f in files}


async def test_a_key_file_others_can_read_stops_the_start_as_a_configuration_error(
    tmp_path: Path,
) -> None:
    key = tmp_path / "config" / "jigiya" / "secret.key"
    key.parent.mkdir(parents=True)
    key.write_text(SECRET + "\n", encoding="ascii")
    key.chmod(0o644)
    env = _env(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL="http://127.0.0.1:9/bot",  # never reached: the key is read first
        BOT_DB_PATH=str(tmp_path / "data" / "jigiya.sqlite3"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run",
        cwd=PROJECT_ROOT, env=env, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode == 2
    message = err.decode()
    assert "Configuration error" in message
    assert f"chmod 600 {key}" in message
    assert "Traceback" not in message
    assert SECRET not in message


async def test_run_without_a_token_explains_and_fails() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run",
        cwd=PROJECT_ROOT, env=_env(), stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await proc.communicate()
    assert proc.returncode == 2
    assert b"BotFather" in err
    assert b"python -m bot demo" in err


async def test_demo_runs_offline_from_piped_input(tmp_path: Path) -> None:
    home = tmp_path / "home"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "demo",
        cwd=PROJECT_ROOT, env=_env(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config")),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(b"/start\n3\n!quit\n"), timeout=60)
    assert proc.returncode == 0
    text = out.decode()
    assert "Bonjour. Jigiya" in text
    assert "What would you like to do?" in text  # pressed [3] English
    assert not home.exists()  # its key stayed in its own temporary folder
