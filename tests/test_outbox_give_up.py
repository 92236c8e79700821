"""An outbox job that gives up tells staff, whatever made it fail: a real store, a worker whose
sending fails in ways Telegram never answers (a bug, a value it cannot handle)."""

from __future__ import annotations

from typing import Any, cast

import pytest
from telegram import Bot

from bot.config import Settings
from bot.exits import ExitGate
from bot.hotline import service
from bot.hotline.outbox import MAX_ATTEMPTS, OutboxWorker
from bot.hotline.service import Hotline
from bot.i18n import Catalogs
from bot.keys import Keys
from bot.telegram.channel import TelegramChannel
from state import cases, conversations, outbox
from state.outbox import TO_PERSON, TO_STAFF, Job
from state.store import Store
from tests.conftest import SECRET

STAFF = -1001234567890
KEYS = Keys(SECRET)


async def last_job(store: Store) -> Job:
    async with store.transaction() as db:
        (job,) = await outbox.heads(db, KEYS, at=2**40)
    return job


@pytest.mark.parametrize(
    ("priority", "action", "told"),
    [
        (TO_PERSON, {"kind": "copy_out", "chat": 7, "from_chat": STAFF, "message_id": 1},
         service.STAFF_NOT_DELIVERED),
        (TO_STAFF, {"kind": "copy_in", "chat": 7, "message_id": 1}, service.STAFF_NOT_SHOWN),
    ],
)  # fmt: skip
async def test_a_job_that_fails_on_its_last_attempt_for_any_reason_tells_staff(
    store: Store, monkeypatch: pytest.MonkeyPatch, priority: int, action: dict[str, Any],
    told: object,
) -> None:  # fmt: skip
    settings = Settings(token=None, hotline_chat_id=STAFF)
    hotline = Hotline(store, KEYS, settings)
    channel = TelegramChannel(cast(Bot, None))  # never called: every attempt fails first
    worker = OutboxWorker(channel, store, KEYS, Catalogs(), hotline, ExitGate())
    async with store.transaction() as db:
        await conversations.ensure_person(db, "p", "fr")
        case, _ = await cases.open_case(db, "p", lambda code: b"sealed", "fr", STAFF)
        await outbox.enqueue(db, KEYS, case_id=case.id, lane="lane", priority=priority,
                             dedupe_key="job", action=action, person_key="p")  # fmt: skip
        for _ in range(MAX_ATTEMPTS - 1):
            (job,) = await outbox.heads(db, KEYS, at=2**40)
            await outbox.later(db, job.id, 0)

    async def broken(job: Job) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(worker, "_attempt", broken)
    job = await last_job(store)
    worker._busy[job.lane] = None  # type: ignore[assignment]  # as run() marks a busy lane
    await worker._run(job)
    note = await last_job(store)
    assert note.priority == TO_STAFF
    assert note.action == {"kind": "say", **service.message(told)}  # type: ignore[arg-type]
