"""Security: no secret in the logs of a full run, by polling and by webhook; near-miss webhook
secrets refused; staff, officer and administrator powers checked on the server for every action;
every dependency pinned.

The log scans run `python -m bot run` as a real process, so what is scanned is exactly what
production writes (`setup_logging()` at INFO, the level production runs at: the README forbids
DEBUG there). The emulator runs in the test process, so its own logs are not in the scan.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from bot.config import PROJECT_ROOT
from bot.emulator import BotApiEmulator, FakeUser
from bot.keys import Keys
from tests.conftest import StartBot
from tests.hotline_helpers import (
    ALWAYS_OPEN,
    STAFF,
    Desk,
    button_data,
    case_id_of,
    open_case,
    query,
    settle,
    wait_for_content,
    wait_until,
)
from tests.test_officer_e2e import ADMIN, become_officer

# Realistic-looking values, so that a redaction that only knows the tests' usual "TTTT…" token
# would not pass by luck.
TOKEN = "7349215584:AAFq3ZkP0xWn8rT2vYbH6cLmJd9sEuQiGo4"
BOT_SECRET = "Zr8Lq2Vx-Wm4Tn7Kc_Pd5Hy1Bs9Fg3Jk6Qe0Ua4Xo8Ni2Rt"
WEBHOOK_SECRET = Keys(BOT_SECRET).pseudonym("webhook-secret-token")
BM_STAFF = -1009876543210


def secret_forms(webhook_secret: str) -> dict[str, str]:
    """Each secret as it could show up in a log line: whole, URL-encoded, or cut short."""
    token_key = TOKEN.split(":", 1)[1]
    return {
        "token": TOKEN,
        "token (URL-encoded)": quote(TOKEN, safe=""),
        "token key": token_key,
        "start of the token key": token_key[:12],
        "BOT_SECRET": BOT_SECRET,
        "start of BOT_SECRET": BOT_SECRET[:12],
        "webhook secret": webhook_secret,
        "start of the webhook secret": webhook_secret[:12],
    }


def leaked(log: str, webhook_secret: str = WEBHOOK_SECRET) -> list[str]:
    """The secrets found in `log`. The default webhook secret is the one the bot would register
    in webhook mode (derived from BOT_SECRET); a webhook run passes the one it registered."""
    lowered = log.lower()
    forms = secret_forms(webhook_secret)
    return [name for name, form in forms.items() if form.lower() in lowered]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- the bot as a process -------------------------------------------------------------------------


@dataclass
class Process:
    proc: asyncio.subprocess.Process
    stderr: bytearray = field(default_factory=bytearray)
    reader: asyncio.Task[None] | None = None

    @property
    def log(self) -> str:
        return self.stderr.decode("utf-8", errors="replace")

    async def stop(self) -> int:
        """SIGTERM, as systemd stops it; the exit code once every log line is read."""
        self.proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self.proc.wait(), timeout=15)
        if self.reader is not None:
            await asyncio.wait_for(self.reader, timeout=5)
        return code


Spawn = Callable[..., Awaitable[Process]]


@pytest.fixture
async def api() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(TOKEN) as emu:
        yield emu


@pytest.fixture
async def spawn(api: BotApiEmulator, tmp_path: Path) -> AsyncIterator[Spawn]:
    started: list[Process] = []

    async def start(*args: str, **env: str) -> Process:
        environment = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("TELEGRAM_", "BOT_", "HOTLINE"))
        }
        environment.update(
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_API_URL=api.base_url,
            BOT_DB_PATH=str(tmp_path / "jigiya.sqlite3"),
            BOT_SECRET=BOT_SECRET,
            **env,
        )
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", *args,
            cwd=PROJECT_ROOT, env=environment,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        process = Process(proc)

        async def drain() -> None:  # a full pipe would block the bot
            assert proc.stderr is not None
            while chunk := await proc.stderr.read(65536):
                process.stderr.extend(chunk)

        process.reader = asyncio.create_task(drain())
        started.append(process)
        return process

    yield start
    for process in started:
        if process.proc.returncode is None:
            process.proc.kill()
            await process.proc.wait()
        if process.reader is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(process.reader, timeout=5)


async def greeted(person: FakeUser, timeout: float = 10.0) -> None:
    message = await person.next_message(timeout=timeout)
    assert message["text"].startswith("Bonjour. Jigiya"), message


# --- no secret in the logs -----------------------------------------------------------------------


async def test_a_full_polling_run_with_faults_logs_no_secret(
    api: BotApiEmulator, spawn: Spawn
) -> None:
    bot = await spawn(
        HOTLINE_CHAT_ID=str(STAFF), HOTLINE_HOURS=ALWAYS_OPEN, BOT_ADMIN_IDS=str(ADMIN)
    )
    await api.wait_for_call("getUpdates", timeout=30)
    api.fail("getUpdates", status=502, description="Bad Gateway")
    api.fail("sendMessage", status=429, description="Too Many Requests: retry after 1",
             retry_after=1)  # fmt: skip
    desk = Desk.make(api)

    async def hotline() -> None:
        awa = api.user(1001, "Awa")
        case = await open_case(desk, awa)
        await desk.claim(desk.fatou, case)
        # More failures than the rate limiter's own tries, so the outbox retries too.
        api.fail("copyMessage", status=500, description="Internal Server Error", chat_id=STAFF,
                 times=3)  # fmt: skip
        hers = await awa.send("Il me menace, je ne sais pas quoi faire.")
        await wait_for_content(api, STAFF, hers, case.thread_id)
        reply = await desk.fatou.send(
            "Je suis là. Êtes-vous en sécurité ?", thread_id=case.thread_id
        )
        await wait_for_content(api, awa.id, reply)
        await awa.send("quitter")  # the quick exit closes her case
        await wait_until(lambda: desk.group.topics[case.thread_id].closed, what="topic closed")

    async def blocked() -> None:
        binta = api.user(1002, "Binta")
        await binta.send("/start")
        await binta.block()
        await api.wait_for_call("sendMessage", predicate=lambda c: c.params.get("chat_id") == 1002
                                and c.error is not None)  # fmt: skip

    async def officer() -> None:
        await become_officer(api, api.user(2001, language_code="en"))

    async def group() -> None:
        await api.group(-4001, "Famille").my_chat_member("member", by=api.user(1009))
        await api.wait_for_call("leaveChat", timeout=10)

    await asyncio.gather(hotline(), blocked(), officer(), group())
    await settle(0.5)
    assert await bot.stop() == 0

    log = bot.log
    assert leaked(log) == []
    # The scan read a run that went through the paths that log, faults included.
    for line in (
        "Jigiya is running (polling)",
        "getUpdates failed (NetworkError, attempt 1)",
        "Telegram 429 on sendMessage",
        "will be retried (NetworkError)",
        "failed: Forbidden",
        "Invitation created",
        "Officer access granted",
        "Added to a group that is not the staff group",
        "Stopped",
    ):
        assert line in log, f"{line!r} missing from:\n{log}"


async def test_a_full_webhook_run_logs_no_secret_and_refuses_near_miss_secrets(
    api: BotApiEmulator, spawn: Spawn
) -> None:
    port = free_port()
    bot = await spawn(
        "--webhook-url", "https://jigiya.example.org/tg-hook", "--listen", f"127.0.0.1:{port}"
    )
    registered = await api.wait_for_call("setWebhook", timeout=30, predicate=lambda c: c.ok)
    secret = registered.params["secret_token"]
    assert len(secret) >= 32
    assert BOT_SECRET not in secret
    assert TOKEN.split(":", 1)[1] not in secret
    # Telegram delivers to the public https URL; here, to the bot's plain listener behind it.
    hook = f"http://127.0.0.1:{port}/tg-hook"
    api.webhook.url = hook

    api.fail("sendMessage", status=429, description="Too Many Requests: retry after 1",
             retry_after=1)  # fmt: skip
    awa = api.user(5001)
    await awa.send("/start")
    await greeted(awa)

    # Secrets that differ by one character, by case or by length are refused like a wrong one.
    forged = {"update_id": 9001, "message": {"message_id": 1, "date": 0,
              "chat": {"id": 5002, "type": "private"}, "text": "/start"}}  # fmt: skip
    near_misses = [secret[:-1], secret + "0", secret.upper(), secret[1:] + secret[0], BOT_SECRET]
    async with httpx.AsyncClient() as client:
        for given in near_misses:
            response = await client.post(
                hook, json=forged, headers={"X-Telegram-Bot-Api-Secret-Token": given}
            )
            assert response.status_code == 403, given
        response = await client.post(hook, json=forged, params={"secret_token": secret})
        assert response.status_code == 403  # only the header counts
        response = await client.post(
            hook, content=b"{", headers={"X-Telegram-Bot-Api-Secret-Token": secret}
        )
        assert response.status_code == 400
    await settle(0.5)
    assert not [c for c in api.calls if c.params.get("chat_id") == 5002]
    assert await bot.stop() == 0

    log = bot.log
    assert leaked(log, secret) == []
    for line in (
        "Receiving updates by webhook",
        "Telegram 429 on sendMessage",
        "Webhook request with a missing or wrong secret token refused",
        "Webhook request with a body that is not an update refused",
        "Stopped",
    ):
        assert line in log, f"{line!r} missing from:\n{log}"


# --- powers are checked on the server ----------------------------------------------------------


def cases_now(db_path: Path) -> list[tuple[object, ...]]:
    return query(db_path, "SELECT id, status, claimed_by FROM cases ORDER BY id")


async def test_staff_buttons_and_commands_do_nothing_outside_their_own_staff_group(
    emulator: BotApiEmulator, start_bot: StartBot
) -> None:
    running = await start_bot(
        HOTLINE_CHAT_ID=str(STAFF), HOTLINE_CHAT_IDS=f"bm:{BM_STAFF}", HOTLINE_HOURS=ALWAYS_OPEN
    )
    db_path = running.settings.db_path
    desk, bm_desk = Desk.make(emulator), Desk.make(emulator, BM_STAFF)
    awa, mariam = emulator.user(1001, "Awa"), emulator.user(1002, "Mariam")
    case = await open_case(desk, awa)
    bm_case = await open_case(bm_desk, mariam, language="bm")
    ours, theirs = case_id_of(desk.card(case)), case_id_of(bm_desk.card(bm_case))
    before = cases_now(db_path)
    assert [(status, claimed) for _, status, claimed in before] == [("open", None)] * 2
    cards = (desk.card(case), bm_desk.card(bm_case))

    # The survivor forges the staff buttons of her own case in her private chat, and types the
    # staff commands there (they reach the staff as her words, nothing more).
    own = awa.messages[-1]
    forged = [await awa.press(own, f"case:{action}:{ours}", check=False)
              for action in ("claim", "close", "release")]  # fmt: skip
    for command in ("/close", "/block 365"):
        await wait_for_content(emulator, STAFF, await awa.send(command), case.thread_id)
    # A staff member of the bm group presses buttons carrying the fr group's case id, or none.
    bm_card = bm_desk.card(bm_case)
    forged += [
        await bm_desk.kadi.press(bm_card, data, check=False)
        for data in (f"case:claim:{ours}", f"case:close:{ours}", f"case:claim:{theirs + 99}")
    ]
    # Someone in a forum group that is not a staff group, where the bot is an administrator.
    other = emulator.forum(-1005555555555, "Pas le personnel")
    stranger = other.member(emulator.user(3999, "Inconnu"))
    note = await stranger.send("Bonjour")
    forged += [await stranger.press(note, f"case:{action}:{ours}", check=False)
               for action in ("claim", "close")]  # fmt: skip

    def answers() -> dict[str, tuple[str | None, bool]]:
        events = [e for g in (awa, bm_desk.group, other) for e in g.chat.events]
        return {
            e.callback_query_id: (e.text, e.show_alert)
            for e in events
            if e.kind == "answer" and e.callback_query_id in forged
        }

    await wait_until(lambda: len(answers()) == len(forged), what="an answer to each press")
    assert set(answers().values()) == {(None, False)}  # the spinner stops; nothing more
    await settle(0.5)
    assert cases_now(db_path) == before
    assert query(db_path, "SELECT COUNT(*) FROM blocks") == [(0,)]
    assert (desk.card(case), bm_desk.card(bm_case)) == cards
    assert other.messages == [note]  # nothing said in the other group
    assert button_data(desk.card(case))[0] == f"case:claim:{ours}"


async def test_administrator_commands_from_an_officer_or_a_survivor_do_nothing(
    emulator: BotApiEmulator, start_bot: StartBot
) -> None:
    running = await start_bot(BOT_ADMIN_IDS=str(ADMIN))
    db_path = running.settings.db_path
    first, second = emulator.user(2101, language_code="en"), emulator.user(2102, language_code="en")
    await become_officer(emulator, first)
    await become_officer(emulator, second)
    survivor = emulator.user(2103, language_code="en")
    officers = query(db_path, "SELECT user_id, revoked_at FROM officers ORDER BY user_id")
    assert officers == [(2101, None), (2102, None)]
    invitations = query(db_path, "SELECT COUNT(*) FROM invitations")

    admin = emulator.user(ADMIN)
    told_admin = len(admin.messages)
    commands = {
        first: ["/officers", "/revoke 2102", "/invite police"],
        survivor: ["/officers", "/revoke 2101", "/invite justice"],
    }
    since = {person.id: len(person.messages) for person in commands}
    for person, sent in commands.items():
        for text in sent:
            await person.send(text)
    for person in commands:  # each command gets at least one answer
        for _ in range(3):
            await person.next_message()
    await settle(0.5)

    assert query(db_path, "SELECT user_id, revoked_at FROM officers ORDER BY user_id") == officers
    assert query(db_path, "SELECT COUNT(*) FROM invitations") == invitations
    said = "\n".join(str(m.get("text", "")) for p in commands for m in p.messages[since[p.id] :])
    for power in ("officer has access", "officers have access", "Access taken away",
                  "🔑", "Code:", "start="):  # fmt: skip
        assert power not in said
    assert len(admin.messages) == told_admin  # nobody used a code meanwhile


# --- the dependency set is pinned --------------------------------------------------------------


CONSTRAINTS = PROJECT_ROOT / "constraints.txt"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)$")


def pins() -> dict[str, str]:
    found: dict[str, str] = {}
    for raw in CONSTRAINTS.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = _PIN.match(line)
        assert match is not None, f"constraints.txt: {raw!r} is not an exact pin (name==version)"
        found[canonicalize_name(match.group(1))] = match.group(2)
    return found


def installed_closure(root: str, extras: frozenset[str]) -> dict[str, str]:
    """Every installed distribution `root` (with `extras`) needs, directly or not, by name."""
    found: dict[str, str] = {}
    todo = [(root, extras)]
    while todo:
        name, wanted = todo.pop()
        for text in metadata.requires(name) or []:
            requirement = Requirement(text)
            marker: Marker | None = requirement.marker
            if marker is not None and not any(
                marker.evaluate({"extra": extra}) for extra in {"", *wanted}
            ):
                continue
            key = canonicalize_name(requirement.name)
            if key in found:
                continue
            found[key] = metadata.version(requirement.name)
            todo.append((requirement.name, frozenset(requirement.extras)))
    return found


def test_every_dependency_is_pinned_in_constraints_txt_at_the_installed_version() -> None:
    assert CONSTRAINTS.is_file(), "constraints.txt is missing at the repository root"
    pinned = pins()
    needed = installed_closure("jigiya", frozenset({"dev"}))
    assert {"python-telegram-bot", "apscheduler", "aiosqlite", "httpx", "pytest"} <= set(needed)
    assert sorted(set(needed) - set(pinned)) == [], "not pinned in constraints.txt"
    differ = {name: (pinned[name], v) for name, v in needed.items() if pinned[name] != v}
    assert differ == {}, "pinned (left) and installed (right) versions differ"
    # Both ways of installing use the pins.
    for recipe in ("Makefile", "Dockerfile"):
        assert "-c constraints.txt" in (PROJECT_ROOT / recipe).read_text(encoding="utf-8"), recipe
