"""What the emulator records, and the cursors tests read it with."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeVar

from bot.emulator.wire import ApiError

EventKind = Literal["message", "edit", "delete", "answer", "service"]


@dataclass
class ApiCall:
    """One Bot API request, recorded on arrival and completed when it is answered."""

    seq: int
    method: str
    params: dict[str, Any]
    time: float  # time.monotonic() on arrival
    result: Any = None
    error: ApiError | None = None
    finished: float | None = None  # time.monotonic() of the answer; None while pending

    @property
    def ok(self) -> bool:
        """Answered, and successfully."""
        return self.finished is not None and self.error is None

    @property
    def duration(self) -> float | None:
        return None if self.finished is None else self.finished - self.time

    def describe(self) -> str:
        shown = {k: v for k, v in self.params.items() if k not in ("reply_markup", "entities")}
        if self.finished is None:
            outcome = "pending"
        else:
            outcome = "ok" if self.error is None else repr(self.error)
        return f"#{self.seq} {self.method}({_short(shown)}) -> {outcome}"


@dataclass(frozen=True)
class ChatEvent:
    """Something the bot did that the people in a chat can see.

    kind "message": a new message (message); "edit": its new version (message); "delete":
    message_ids removed; "answer": a callback query answer (text, show_alert,
    callback_query_id); "service": a service message such as a topic being created.
    """

    seq: int
    kind: EventKind
    chat_id: int
    thread_id: int | None = None
    message: dict[str, Any] | None = None
    message_ids: tuple[int, ...] = ()
    text: str | None = None
    show_alert: bool = False
    callback_query_id: str | None = None
    reply_markup: dict[str, Any] | None = None  # as sent, reply keyboards included


@dataclass(frozen=True)
class WebhookAttempt:
    """One POST of an update to the webhook; status None when the connection failed."""

    update_id: int
    url: str
    status: int | None
    error: str | None
    time: float


class _Sequenced(Protocol):
    @property
    def seq(self) -> int: ...


S = TypeVar("S", bound=_Sequenced)
T = TypeVar("T")


@dataclass
class Reader:
    """A cursor that hands out each matching entry of a log once, oldest first.

    Entries a filter skipped stay available to later reads with another filter.
    """

    _floor: int = 0  # every entry below this was handed out or fell off the log
    _taken: set[int] = field(default_factory=set)

    def take(self, entries: Iterable[S], match: Callable[[S], bool]) -> S | None:
        first_open: int | None = None
        found: S | None = None
        for entry in entries:
            if entry.seq < self._floor or entry.seq in self._taken:
                continue
            if found is None and match(entry):
                found = entry
                self._taken.add(entry.seq)
                continue
            first_open = entry.seq if first_open is None else first_open
            if found is not None:
                break
        if found is not None:
            self._floor = first_open if first_open is not None else found.seq + 1
            self._taken = {seq for seq in self._taken if seq >= self._floor}
        return found

    def skip_to(self, seq: int) -> None:
        """Consider everything before seq as read."""
        self._floor = max(self._floor, seq)
        self._taken = {s for s in self._taken if s >= self._floor}


class Notifier:
    """Wakes every waiter when the emulator records something new."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait_for(self, find: Callable[[], T | None], timeout: float) -> T | None:
        """Poll `find` after each change until it returns a value or the timeout passes."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (found := find()) is None:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            try:
                await asyncio.wait_for(self._event.wait(), remaining)
            except TimeoutError:
                continue
        return found


def _short(value: Any, limit: int = 160) -> str:
    text = json.dumps(value, ensure_ascii=False, default=repr)
    return text if len(text) <= limit else text[: limit - 1] + "…"
