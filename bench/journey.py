"""Simulated people, and how long each answer takes to reach them.

People act through the emulator's own FakeUser (send, press, send_location), exactly as the
end-to-end tests do. They read the bot's answers differently: the tests' next_event() polls every
waiting reader on every change, which is quadratic with 1,000 people waiting at once, so here a
`Hub` hooks the emulator's `World.emit` (in this process only) and hands each chat's events to
whoever listens to that chat.

An answer is complete when its last event arrives, as in tests/journey.py: the screen (a message
or edit whose inline keyboard carries the quick exit), plus the location keyboard message after
the "where are you?" screen; for the quick exit, the one goodbye line.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.emulator import BotApiEmulator, ChatEvent, FakeUser
from bot.emulator.world import Chat

Json = dict[str, Any]
Listener = Callable[[ChatEvent], None]
Ends = Callable[[ChatEvent], bool]

EXIT = "exit"
STEP_TIMEOUT = 120.0  # seconds an answer may take before the person gives up (counted as failed)

# Mali's bounding box, for shared locations.
LATITUDES = (10.2, 24.9)
LONGITUDES = (-12.2, 4.2)


def button_data(message: Json | None) -> list[str]:
    markup = (message or {}).get("reply_markup") or {}
    return [b.get("callback_data", "") for row in markup.get("inline_keyboard", []) for b in row]


def screen(event: ChatEvent) -> bool:
    """A screen of the survivor flow: inline buttons with the quick exit among them."""
    return event.kind in ("message", "edit") and EXIT in button_data(event.message)


def new_message(event: ChatEvent) -> bool:
    return event.kind == "message"


class Hub:
    """Routes what the emulated Telegram does in each chat to listeners, and counts API calls.

    Hooks `emu.world.emit` and `emu._record` on this emulator instance only.
    """

    def __init__(self, emu: BotApiEmulator) -> None:
        self.emu = emu
        self.calls: Counter[str] = Counter()
        self._listeners: dict[int, list[Listener]] = {}
        world = emu.world
        emit = world.emit
        record = emu._record

        def routed_emit(chat: Chat, kind: Any, **fields: Any) -> ChatEvent:
            event = emit(chat, kind, **fields)
            for listener in self._listeners.get(chat.id, ()):
                listener(event)
            return event

        def counted_record(method: str, params: dict[str, Any], arrived: float) -> Any:
            self.calls[method] += 1
            return record(method, params, arrived)

        setattr(world, "emit", routed_emit)  # noqa: B010
        setattr(emu, "_record", counted_record)  # noqa: B010

    def on(self, chat_id: int, listener: Listener) -> None:
        self._listeners.setdefault(chat_id, []).append(listener)

    def queue(self, chat_id: int) -> asyncio.Queue[ChatEvent]:
        events: asyncio.Queue[ChatEvent] = asyncio.Queue()
        self.on(chat_id, events.put_nowait)
        return events

    def forget(self, chat_id: int) -> None:
        self._listeners.pop(chat_id, None)

    def sent_calls(self) -> int:
        """Bot API calls other than getUpdates so far."""
        return sum(n for method, n in self.calls.items() if method != "getUpdates")

    def next_update_id(self) -> int:
        injected = self.emu.injected
        return int(injected[-1]["update_id"]) + 1 if injected else 1


@dataclass
class Person:
    """One simulated person in a private chat, with the time each answer took to reach her."""

    user: FakeUser
    events: asyncio.Queue[ChatEvent]
    latencies: list[float] = field(default_factory=list)
    answered_at: list[float] = field(default_factory=list)  # time.monotonic() of each answer
    # With a hub, the Bot API calls of each step, by method: counted from her action until
    # `settle` seconds after the answer (one person alone: every call is hers).
    hub: Hub | None = None
    settle: float = 0.0
    step_calls: list[Counter[str]] = field(default_factory=list)
    # Seconds she reads each answer before her next action (0: she acts the instant it lands).
    reading: float = 0.0

    @classmethod
    def make(cls, hub: Hub, user_id: int, name: str = "Awa", reading: float = 0.0) -> Person:
        user = hub.emu.user(user_id, name, language_code="fr")
        return cls(user, hub.queue(user_id), reading=reading)

    async def act(self, action: Awaitable[Any], *ends: Ends) -> list[ChatEvent]:
        """Do something, then read the bot's answer up to its last event: one event matching
        each of `ends`, in order. Returns those events; the time taken goes to `latencies`.
        After the first answer she reads each one for `reading` seconds before acting; the
        action is made only then (a coroutine does nothing until awaited)."""
        if self.reading and self.latencies:
            await asyncio.sleep(self.reading)
        before = Counter(self.hub.calls) if self.hub is not None else None
        started = time.monotonic()
        await action
        deadline = started + STEP_TIMEOUT
        matched: list[ChatEvent] = []
        for end in ends:
            while True:
                # asyncio.timeout, not wait_for: in 3.11 wait_for may swallow a cancellation
                # that lands as the answer arrives, and the person would then never stop.
                async with asyncio.timeout(max(deadline - time.monotonic(), 0.001)):
                    event = await self.events.get()
                if end(event):
                    matched.append(event)
                    break
        now = time.monotonic()
        self.latencies.append(now - started)
        self.answered_at.append(now)
        if self.hub is not None and before is not None:
            await asyncio.sleep(self.settle)
            calls = self.hub.calls - before
            del calls["getUpdates"]
            self.step_calls.append(calls)
        return matched

    def message(self, event: ChatEvent) -> Json:
        assert event.message is not None
        return event.message


# --- journeys -----------------------------------------------------------------------------------

# The survivor journey of issue 16's figure "messages per survivor step", then the quick exit.
SURVIVOR_STEPS = (
    "/start",
    "language",
    "menu: nearest centre",
    "nearest by location",
    "nearest centre again",
    "nearest by typed town",
    "free numbers",
    "danger",
    "what happens at a centre",
    "quick exit",
)
TYPED_TOWN = "Segou"


async def survivor_journey(person: Person, where: tuple[float, float]) -> None:
    """/start → French → nearest centre → shares her location → nearest centre again → types a
    town → free numbers → danger → what happens at a centre → quick exit. Each button is pressed
    on the last screen she received."""
    user = person.user
    (greeting,) = await person.act(user.send("/start"), screen)
    (last,) = await person.act(user.press(person.message(greeting), "lang:fr"), screen)
    asked = (screen, new_message)  # "where are you?" and the location keyboard's message
    (last, _) = await person.act(user.press(person.message(last), "nav:centre"), *asked)
    (last,) = await person.act(user.send_location(*where), screen)
    (last, _) = await person.act(user.press(person.message(last), "nav:centre"), *asked)
    (last,) = await person.act(user.send(TYPED_TOWN), screen)
    for data in ("nav:numbers", "nav:emergency", "nav:about"):
        (last,) = await person.act(user.press(person.message(last), data), screen)
    await person.act(user.press(person.message(last), EXIT), new_message)


async def midway_journey(person: Person, where: tuple[float, float]) -> None:
    """/start → French → nearest centre: she is left on "where are you?", mid-journey."""
    user = person.user
    (greeting,) = await person.act(user.send("/start"), screen)
    (menu,) = await person.act(user.press(person.message(greeting), "lang:fr"), screen)
    await person.act(user.press(person.message(menu), "nav:centre"), screen, new_message)


async def menu_journey(person: Person, where: tuple[float, float]) -> None:
    """/start → French → free numbers → quick exit: the short errand of someone who needs a
    number now."""
    user = person.user
    (greeting,) = await person.act(user.send("/start"), screen)
    (menu,) = await person.act(user.press(person.message(greeting), "lang:fr"), screen)
    (menu,) = await person.act(user.press(person.message(menu), "nav:numbers"), screen)
    await person.act(user.press(person.message(menu), EXIT), new_message)


async def errand_journey(person: Person, where: tuple[float, float]) -> None:
    """/start → French → free numbers, then quiet: most people leave without the quick exit,
    and the bot must not keep anything of theirs in memory once they have gone."""
    user = person.user
    (greeting,) = await person.act(user.send("/start"), screen)
    (menu,) = await person.act(user.press(person.message(greeting), "lang:fr"), screen)
    await person.act(user.press(person.message(menu), "nav:numbers"), screen)


async def echo_journey(person: Person, where: tuple[float, float]) -> None:
    """Texts to the echo bot, each waiting for its echo: as many updates as the survivor journey,
    one reply each."""
    for step in range(len(SURVIVOR_STEPS)):
        await person.act(person.user.send(f"Bonjour {step}"), new_message)


Journey = Callable[[Person, tuple[float, float]], Coroutine[Any, Any, None]]


# --- crowds ---------------------------------------------------------------------------------------


@dataclass
class CrowdResult:
    """What a crowd did. For a rolling crowd the figures are those of its window."""

    people: int
    started: float  # time.monotonic() of the first action
    elapsed: float  # seconds from the first action to the last answer (or to the cut-off)
    latencies: list[float]  # every answer's time to reach the person, seconds (by the cut-off)
    finished: int  # people whose journey finished
    cut: int  # people still on their way at the cut-off (stopped there, not failures)
    failed: int  # people whose journey broke (an answer never came in time)
    first_failure: str | None

    @property
    def answers(self) -> int:
        return len(self.latencies)


def places(count: int, seed: int) -> list[tuple[float, float]]:
    rng = random.Random(seed)
    return [(rng.uniform(*LATITUDES), rng.uniform(*LONGITUDES)) for _ in range(count)]


async def crowd(
    hub: Hub,
    journey: Journey,
    user_ids: Sequence[int],
    *,
    together: bool = True,
    seed: int = 1,
    cutoff: float = 600.0,
    reading: float = 0.0,
) -> CrowdResult:
    """Everyone does the journey, all at once (`together`) or one after the other. After
    `cutoff` seconds whoever is still on the way is stopped: the figures then cover the answers
    that arrived by then. `reading`: seconds each person reads an answer before acting."""
    people = [Person.make(hub, user_id, reading=reading) for user_id in user_ids]
    where = places(len(people), seed)
    started = time.monotonic()
    deadline = started + cutoff
    outcomes: list[str | BaseException] = []  # "done", "cut" or the failure
    if together:
        tasks = [asyncio.ensure_future(journey(p, w)) for p, w in zip(people, where, strict=True)]
        _, pending = await asyncio.wait(tasks, timeout=cutoff)
        await _stop(pending)
        for task in tasks:
            if not task.done() or task.cancelled():
                outcomes.append("cut")
            elif (error := task.exception()) is not None:
                outcomes.append(error)
            else:
                outcomes.append("done")
    else:
        for person, spot in zip(people, where, strict=True):
            left = deadline - time.monotonic()
            if left <= 0:
                outcomes.append("cut")
                continue
            try:
                async with asyncio.timeout(left):
                    await journey(person, spot)
                outcomes.append("done")
            except TimeoutError:
                outcomes.append("cut")
            except Exception as exc:
                outcomes.append(exc)
    last = max((t for p in people for t in p.answered_at), default=started)
    elapsed = (deadline if "cut" in outcomes else min(last, deadline)) - started
    for user_id in user_ids:
        hub.forget(user_id)
    failures = [o for o in outcomes if isinstance(o, BaseException)]
    return CrowdResult(
        people=len(people),
        started=started,
        elapsed=elapsed,
        latencies=[
            latency
            for p in people
            for latency, at in zip(p.latencies, p.answered_at, strict=True)
            if at <= deadline
        ],
        finished=outcomes.count("done"),
        cut=outcomes.count("cut"),
        failed=len(failures),
        first_failure=repr(failures[0])[:300] if failures else None,
    )


async def rolling_crowd(
    hub: Hub,
    journey: Journey,
    user_ids: Sequence[int],
    *,
    cohorts: int,
    window: float,
    on_window: Callable[[str], None] = lambda moment: None,
    seed: int = 1,
    ramp_timeout: float = 300.0,
) -> CrowdResult:
    """N people doing the journey again and again, measured in steady state.

    People who start together move in step (each gets one answer per round of the bot), so a
    crowd started at once would, for the first rounds, only do the first steps. Here the crowd
    joins in `cohorts` groups, each group one step behind the one before (it joins once every
    member of the previous group has had an answer); with as many groups as steps, every step
    of the journey is being done at any moment. Then all N are at work, each starting the
    journey again after its quick exit, and the figures cover the next `window` seconds.
    `on_window("start")` and `on_window("end")` mark the window for the caller.
    """
    people = [Person.make(hub, user_id) for user_id in user_ids]
    where = places(len(people), seed)
    groups = [list(range(i, len(people), cohorts)) for i in range(cohorts)]
    journeys_done: list[float] = []
    over = asyncio.Event()

    async def again_and_again(person: Person, spot: tuple[float, float]) -> None:
        while not over.is_set():
            await journey(person, spot)
            journeys_done.append(time.monotonic())

    tasks: list[asyncio.Task[None]] = []
    ramp_end = time.monotonic() + ramp_timeout
    for number, group in enumerate(groups):
        tasks += [asyncio.ensure_future(again_and_again(people[i], where[i])) for i in group]
        if number == len(groups) - 1:
            break
        while time.monotonic() < ramp_end and not all(people[i].latencies for i in group):
            if any(task.done() for task in tasks):
                break  # a journey broke: measure anyway, the failure is reported
            await asyncio.sleep(0.05)
    on_window("start")
    started = time.monotonic()
    await asyncio.sleep(window)
    ended = time.monotonic()
    on_window("end")
    over.set()
    await _stop(tasks)
    for user_id in user_ids:
        hub.forget(user_id)
    failures = [
        error for task in tasks
        if task.done() and not task.cancelled() and (error := task.exception()) is not None
    ]  # fmt: skip
    return CrowdResult(
        people=len(people),
        started=started,
        elapsed=ended - started,
        latencies=[
            latency
            for p in people
            for latency, at in zip(p.latencies, p.answered_at, strict=True)
            if started <= at <= ended
        ],
        finished=sum(1 for at in journeys_done if started <= at <= ended),
        cut=len(people) - len(failures),
        failed=len(failures),
        first_failure=repr(failures[0])[:300] if failures else None,
    )


async def _stop(tasks: Collection[asyncio.Task[None]], grace: float = 10.0) -> None:
    """Cancel the tasks and wait for them, a bounded time; tasks that outlive it (none should)
    are cancelled again and left behind."""
    for task in tasks:
        task.cancel()
    if not tasks:
        return
    _, pending = await asyncio.wait(tasks, timeout=grace)
    for task in pending:
        task.cancel()
