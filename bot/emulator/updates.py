"""The update queue: getUpdates semantics and webhook delivery.

Telegram keeps unconfirmed updates until getUpdates is called with an offset above their id,
but never longer than 24 hours; a second poller terminates the first with 409; a webhook
receives them one chat at a time and gets each one again until it answers 2xx.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.emulator.clock import Clock
from bot.emulator.records import WebhookAttempt
from bot.emulator.wire import ApiError

Json = dict[str, Any]

KEPT_FOR = 24 * 3600  # seconds Telegram keeps an update nobody fetched
# Types a bot gets when it never asked for a list (or asked for []).
NOT_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
CONFLICT_OTHER_POLLER = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)


def update_type(update: Json) -> str:
    return next((key for key in update if key != "update_id"), "")


def update_chat(update: Json) -> int | None:
    """The chat an update belongs to, which orders webhook delivery."""
    body = update.get(update_type(update))
    if not isinstance(body, dict):
        return None
    chat = body.get("chat") or (body.get("message") or {}).get("chat")
    if isinstance(chat, dict):
        return chat.get("id")
    sender = body.get("from")
    return sender.get("id") if isinstance(sender, dict) else None


@dataclass
class _Pending:
    update: Json
    redelivery: bool  # injected again with an id Telegram had already confirmed
    created: float  # the clock's time
    delivered: bool = False

    @property
    def update_id(self) -> int:
        return int(self.update["update_id"])


class UpdateQueue:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._pending: list[_Pending] = []
        self._next_id = 1
        self.confirmed_offset = 0
        self.allowed: frozenset[str] | None = None  # None: Telegram's default set
        self.webhook_active = False
        self._changed = asyncio.Event()
        self._poll_generation = 0
        self._closing = False

    @property
    def pending(self) -> list[Json]:
        return [p.update for p in self._live()]

    def _live(self) -> list[_Pending]:
        """The pending updates, those older than Telegram keeps them dropped first."""
        oldest = self._clock.now() - KEPT_FOR
        if any(p.created < oldest for p in self._pending):
            self._pending = [p for p in self._pending if p.created >= oldest]
        return self._pending

    def wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def wants(self, kind: str) -> bool:
        return kind not in NOT_BY_DEFAULT if self.allowed is None else kind in self.allowed

    def add(self, update: Json) -> Json:
        """Queue an update and return it with its update_id.

        An explicit update_id is kept. One below the confirmed offset simulates Telegram
        sending an update again: it is delivered once more, then forgotten when confirmed.
        """
        if "update_id" not in update:
            update = {"update_id": self._next_id, **update}
        pending = _Pending(
            update,
            redelivery=update["update_id"] < self.confirmed_offset,
            created=self._clock.now(),
        )
        self._next_id = max(self._next_id, pending.update_id + 1)
        # allowed_updates filters updates as they are created, like Telegram.
        if self.wants(update_type(update)):
            bisect.insort(self._pending, pending, key=lambda p: p.update_id)
            self.wake()
        return update

    def set_allowed(self, allowed: list[str] | None) -> None:
        """Remember allowed_updates; None keeps the last setting, [] means the default."""
        if allowed is not None:
            self.allowed = frozenset(allowed) if allowed else None

    def first_for(self, chat_id: int | None) -> Json | None:
        return next((p.update for p in self._live() if update_chat(p.update) == chat_id), None)

    def remove(self, update: Json) -> None:
        self._pending = [p for p in self._pending if p.update is not update]

    def drop_all(self) -> None:
        self._pending.clear()

    def _confirm(self, offset: int) -> None:
        if offset < 0:
            # A negative offset keeps the last -offset updates and forgets the rest.
            kept = self._pending[offset:]
            if kept:
                self.confirmed_offset = max(self.confirmed_offset, kept[0].update_id)
            self._pending = kept
        elif offset > 0:
            self.confirmed_offset = max(self.confirmed_offset, offset)
            self._pending = [
                p
                for p in self._pending
                if p.update_id >= offset or (p.redelivery and not p.delivered)
            ]

    async def get_updates(
        self, offset: int, limit: int, timeout: float, allowed: list[str] | None
    ) -> list[Json]:
        if self.webhook_active:
            raise ApiError(409, CONFLICT_WEBHOOK)
        self._poll_generation += 1
        generation = self._poll_generation
        self.wake()  # an earlier long poll now ends with 409
        self.set_allowed(allowed)
        self._confirm(offset)
        deadline = time.monotonic() + timeout
        while True:
            if generation != self._poll_generation:
                raise ApiError(409, CONFLICT_OTHER_POLLER)
            if self.webhook_active:
                raise ApiError(409, CONFLICT_WEBHOOK)
            batch = self._live()[: max(1, min(limit, 100))]
            remaining = deadline - time.monotonic()
            if batch or remaining <= 0 or self._closing:
                for pending in batch:
                    pending.delivered = True
                return [p.update for p in batch]
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    def close(self) -> None:
        """End long polls now (they answer [])."""
        self._closing = True
        self.wake()

    def reopen(self) -> None:
        self._closing = False


class WebhookSender:
    """Posts pending updates to the webhook, in order per chat, retrying until 2xx."""

    def __init__(self, queue: UpdateQueue, retry_delay: float, history_limit: int, clock: Clock):
        self.queue = queue
        self._clock = clock
        self.retry_delay = retry_delay
        self.url = ""
        self.secret_token: str | None = None
        self.max_connections = 40
        self.attempts: deque[WebhookAttempt] = deque(maxlen=history_limit)
        self.last_error: tuple[int, str] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._workers: dict[int | None, asyncio.Task[None]] = {}
        self._slots = asyncio.Semaphore(self.max_connections)

    async def set(self, url: str, secret_token: str | None, max_connections: int) -> None:
        await self.clear()
        self.url, self.secret_token = url, secret_token
        self.max_connections = max_connections
        self._slots = asyncio.Semaphore(max_connections)
        self.last_error = None
        self.queue.webhook_active = True
        self.queue.wake()  # pollers notice the webhook and end with 409
        self.kick()

    async def clear(self) -> None:
        self.url = ""
        self.queue.webhook_active = False
        workers = list(self._workers.values())
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        self._workers.clear()

    async def close(self) -> None:
        await self.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None

    def kick(self) -> None:
        """Start a worker for every chat that has updates and none running."""
        if not self.url:
            return
        for chat_id in {update_chat(u) for u in self.queue.pending}:
            if chat_id not in self._workers:
                self._workers[chat_id] = asyncio.create_task(self._deliver_chat(chat_id))

    async def _deliver_chat(self, chat_id: int | None) -> None:
        try:
            while self.url and (update := self.queue.first_for(chat_id)) is not None:
                async with self._slots:
                    delivered = await self._post(update)
                if delivered:
                    self.queue.remove(update)
                else:
                    await asyncio.sleep(self.retry_delay)
        finally:
            if self._workers.get(chat_id) is asyncio.current_task():
                del self._workers[chat_id]

    async def _post(self, update: Json) -> bool:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        headers = (
            {"X-Telegram-Bot-Api-Secret-Token": self.secret_token} if self.secret_token else {}
        )
        status: int | None = None
        error: str | None = None
        try:
            async with self._session.post(self.url, json=update, headers=headers) as response:
                status = response.status
                await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = f"Connection failed: {exc!r}"
        if status is not None and not 200 <= status < 300:
            error = f"Wrong response from the webhook: {status}"
        self.attempts.append(
            WebhookAttempt(update["update_id"], self.url, status, error, time.monotonic())
        )
        if error is not None:
            self.last_error = (int(self._clock.now()), error)
        return error is None
