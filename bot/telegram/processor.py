"""Per-chat order with bounded concurrency across chats.

Updates of one chat run strictly one after another; different chats run side by side, at most
`max_running` at a time. The chat lock is taken before a running slot, so a slow chat with a
backlog holds one slot, not one per waiting update, and never makes other people wait.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


class _ChatLock:
    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0


class ChatOrderedProcessor(BaseUpdateProcessor):
    """`max_pending` is the base class' bound: the intake never has more ordinary updates in
    flight, so the base semaphore never blocks them and they reach the chat locks (which are
    FIFO) in the order they were dispatched. Quick exits take no place of the intake's, and
    per-chat caps keep the bound far from full: one waiting here would be a rare, short wait."""

    def __init__(self, *, max_running: int = 64, max_pending: int = 4096) -> None:
        super().__init__(max_concurrent_updates=max_pending)
        self._running = asyncio.BoundedSemaphore(max_running)
        self._chats: dict[int, _ChatLock] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat_id = _chat_of(update)
        if chat_id is None:
            async with self._running:
                await coroutine
            return
        entry = self._chats.setdefault(chat_id, _ChatLock())
        entry.users += 1
        try:
            async with entry.lock, self._running:
                await coroutine
        finally:
            entry.users -= 1
            if entry.users == 0:
                del self._chats[chat_id]

    async def initialize(self) -> None:
        """Nothing to set up: locks are made on demand."""

    async def shutdown(self) -> None:
        """Nothing to release: locks go with their last user."""


def _chat_of(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return None
