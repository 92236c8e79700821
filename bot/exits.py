"""After the goodbye, silence: the quick exit closes her chat to everything begun before it.

From the moment her quick exit arrives until it has said goodbye, only the exit itself may
reach her chat. A request not yet on its way is called off; one already on its way cannot be
called back, so when it lands its message is deleted at once, and the exit waits a little for
such messages first so that her chat is clean when it says goodbye. After the goodbye, work
begun before the exit (a hotline reply read from the outbox before the exit dropped it) is
still called off: only what starts afterwards reaches her, such as the answer to a new /start.

Every request to a private chat passes `departing` and `landed` (on Telegram, the rate limiter
calls them), so this holds for answers, hotline relays and anything added later. Chats are the
channel's ids as text (bot/channel.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

# How long an exit is remembered, to call off work begun before it: longer than any request
# or outbox retry waits. A few bytes per chat, and only for chats that left.
REMEMBER_SECONDS = 15 * 60

# The chat whose quick exit the current task is carrying out: its own requests pass.
LEAVING: ContextVar[str | None] = ContextVar("leaving", default=None)
# When the current work began, on the gate's clock; None for a handler, whose earlier work an
# exit cancels outright (see bot/telegram/intake.py).
BEGUN: ContextVar[int | None] = ContextVar("begun", default=None)


class CalledOff(Exception):
    """The request was not sent: her chat is closed to it by her quick exit."""


Deleter = Callable[[str, int], Awaitable[Any]]


@dataclass(slots=True)
class _Chat:
    closing: int = 0  # exits of this chat under way
    in_flight: int = 0  # requests on their way to this chat
    last_exit: int = 0  # the gate's clock when an exit of this chat began or ended
    exited_at: float = 0.0  # the event loop's time of that
    goodbye: int | None = None  # the message id of the last exit's goodbye, while remembered
    # Set when no request is on its way; made only when an exit waits for it (an Event is
    # about 0.8 KB, and every chat with an answer on its way has an entry).
    settled: asyncio.Event | None = None


class ExitGate:
    def __init__(self) -> None:
        self._clock = 0
        self._chats: dict[str, _Chat] = {}
        self._exited: deque[tuple[float, str]] = deque()
        self._late: set[asyncio.Task[Any]] = set()
        # Set once the bot exists (bot/app.py): deletes a message that landed too late.
        self.delete: Deleter | None = None

    def now(self) -> int:
        """The gate's clock, for `BEGUN`: it moves at every exit's start and end."""
        return self._clock

    def closed(self, chat: str) -> bool:
        entry = self._chats.get(chat)
        return entry is not None and entry.closing > 0

    def said_goodbye(self, chat: str, message_id: int) -> None:
        """Her exit's goodbye line: a second exit soon after (a double tap) deletes it, so that
        her chat still ends with one line."""
        self._entry(chat).goodbye = message_id

    def last_goodbye(self, chat: str) -> int | None:
        entry = self._chats.get(chat)
        return None if entry is None else entry.goodbye

    def close(self, chat: str) -> None:
        """Her quick exit has arrived: from now on only it may reach her chat."""
        entry = self._entry(chat)
        entry.closing += 1
        self._tick(entry, chat)

    def reopen(self, chat: str) -> None:
        """The exit has said goodbye: what begins from now on may reach her chat again."""
        entry = self._entry(chat)
        entry.closing = max(0, entry.closing - 1)
        self._tick(entry, chat)

    async def settle(self, chat: str, grace: float) -> None:
        """Wait, at most `grace` seconds, for requests on their way to her chat to land (and,
        if late, to delete their message)."""
        entry = self._chats.get(chat)
        if entry is None or entry.in_flight == 0:
            return
        if entry.settled is None:
            entry.settled = asyncio.Event()
        entry.settled.clear()
        try:
            await asyncio.wait_for(entry.settled.wait(), grace)
        except TimeoutError:
            log.info("Quick exit: a message still on its way will be deleted when it lands")

    def check(self, chat: str) -> None:
        """Raise CalledOff if a request of the current task may not reach `chat` (also before
        it waits for its turn, so that a called-off request takes no one's turn)."""
        entry = self._chats.get(chat)
        if entry is None or LEAVING.get() == chat:
            return
        begun = BEGUN.get()
        if entry.closing or (begun is not None and begun < entry.last_exit):
            raise CalledOff

    def departing(self, chat: str) -> int:
        """A request is about to leave for `chat`: raise CalledOff if it may not, else count it
        on its way and return the clock to give `landed`."""
        self.check(chat)
        if LEAVING.get() == chat:
            return -1  # the exit's own request is never late
        self._forget_old(asyncio.get_running_loop().time())
        entry = self._entry(chat)
        entry.in_flight += 1
        return self._clock

    def landed(self, chat: str, departed: int, result: object) -> None:
        """A request to `chat` is back; if an exit began while it was on its way and it made a
        message, that message is deleted now."""
        if departed < 0:
            return
        entry = self._chats[chat]
        entry.in_flight -= 1
        if departed < entry.last_exit:
            message_id = result.get("message_id") if isinstance(result, dict) else None
            if isinstance(message_id, int):
                self._delete_late(chat, message_id)
        if entry.in_flight == 0:
            if entry.settled is not None:
                entry.settled.set()
            self._forget_if_idle(chat, entry)

    def _delete_late(self, chat: str, message_id: int) -> None:
        if self.delete is None:
            return
        delete = self.delete

        async def run() -> None:
            LEAVING.set(chat)  # this deletion is part of her exit: it passes the gate
            try:
                await delete(chat, message_id)
            except Exception as exc:
                log.warning(
                    "Quick exit: a late message could not be deleted (%s)", type(exc).__name__
                )

        task = asyncio.create_task(run())
        self._late.add(task)
        task.add_done_callback(self._late.discard)

    def _entry(self, chat: str) -> _Chat:
        entry = self._chats.get(chat)
        if entry is None:
            entry = self._chats[chat] = _Chat()
        return entry

    def _tick(self, entry: _Chat, chat: str) -> None:
        self._clock += 1
        entry.last_exit = self._clock
        entry.exited_at = now = asyncio.get_running_loop().time()
        self._exited.append((now, chat))
        self._forget_old(now)

    def _forget_old(self, now: float) -> None:
        """Chats whose exit is older than REMEMBER_SECONDS are forgotten once idle: looked at
        on every exit and every request, so they go even if no one else ever leaves."""
        while self._exited and self._exited[0][0] < now - REMEMBER_SECONDS:
            _, old = self._exited.popleft()
            if old in self._chats:
                self._forget_if_idle(old, self._chats[old])

    def _forget_if_idle(self, chat: str, entry: _Chat) -> None:
        """Drop a chat's entry once nothing refers to it, so memory stays flat however many
        people come and go; one that left recently stays, to call off older work."""
        if entry.closing or entry.in_flight:
            return
        if (
            entry.exited_at
            and asyncio.get_running_loop().time() - entry.exited_at < REMEMBER_SECONDS
        ):
            return
        del self._chats[chat]
