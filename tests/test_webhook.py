"""Webhook mode: Telegram POSTs updates; only requests with the secret token get in."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bot.app import WebhookOptions, run
from bot.emulator import BotApiEmulator
from tests.conftest import settings_for


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Hook:
    url: str
    secret: str


@pytest.fixture
async def hook(emulator: BotApiEmulator, tmp_path: Path) -> AsyncIterator[Hook]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/jigiya-hook"
    stop = asyncio.Event()
    options = WebhookOptions(url=url, host="127.0.0.1", port=port)
    task = asyncio.create_task(
        run(settings_for(emulator, tmp_path / "w.sqlite3"), webhook_options=options, stop=stop)
    )
    call = await emulator.wait_for_call("setWebhook", timeout=10)
    assert call.params["url"] == url
    yield Hook(url, call.params["secret_token"])
    stop.set()
    await asyncio.wait_for(task, 15)


async def test_updates_arrive_by_webhook(emulator: BotApiEmulator, hook: Hook) -> None:
    assert len(hook.secret) >= 32
    awa = emulator.user(5001)
    await awa.send("/start")
    assert (await awa.next_message())["text"].startswith("Bonjour")
    assert [a.status for a in emulator.webhook_attempts] == [200]


@pytest.mark.parametrize("secret", [None, "", "wrong-secret", "x" * 300])
async def test_requests_without_the_secret_are_refused(
    emulator: BotApiEmulator, hook: Hook, secret: str | None
) -> None:
    headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
    update = {"update_id": 77, "message": {"message_id": 1, "date": 0,
              "chat": {"id": 5002, "type": "private"}, "text": "/start"}}  # fmt: skip
    async with httpx.AsyncClient() as client:
        response = await client.post(hook.url, json=update, headers=headers)
    assert response.status_code == 403
    await asyncio.sleep(0.2)
    assert not [c for c in emulator.calls if c.method == "sendMessage"]


async def test_a_body_that_is_not_an_update_is_refused(hook: Hook) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(
            hook.url, content=b"not json", headers={"X-Telegram-Bot-Api-Secret-Token": hook.secret}
        )
    assert response.status_code == 400


NOT_UPDATES = [
    b"not json",
    b"\xff\xfe",
    b"[" * 100_000,
    b"[1, 2]",
    b"42",
    b'"an update"',
    b"null",
    b"{}",
    b'{"update_id": "7"}',
    b'{"update_id": true}',
    b'{"update_id": 7, "message": 5}',
    b'{"update_id": 7, "message": {"message_id": 1, "date": 1e300, "chat": {"id": 1}}}',
]


async def test_bodies_that_are_not_updates_get_400_and_one_line_without_traceback(
    emulator: BotApiEmulator, hook: Hook, caplog: pytest.LogCaptureFixture
) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": hook.secret}
    async with httpx.AsyncClient() as client:
        statuses = [
            (await client.post(hook.url, content=body, headers=headers)).status_code
            for body in NOT_UPDATES
        ]
    assert statuses == [400] * len(NOT_UPDATES)
    refusals = [r for r in caplog.records if r.name == "bot.telegram.webhook"]
    assert [r.getMessage() for r in refusals] == [
        "Webhook request with a body that is not an update refused"
    ] * len(NOT_UPDATES)
    assert [r for r in caplog.records if r.exc_info] == []
    assert not [c for c in emulator.calls if c.method == "sendMessage"]
