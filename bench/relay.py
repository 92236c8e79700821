"""Phase 4: a burst of survivor messages to the staff group under its 20-per-minute limit, and
what survivor-facing replies wait meanwhile.

The bot runs with its production rate limiter and the hotline on (always open). Survivors open
cases the way the tests do (/start, French, "talk to a person", "I agree"); a staff member
claims each case. Then they all write at once: `per_case` messages each, copied by the outbox
into the case topics, all through the one staff group and its 20-per-minute budget. Meanwhile:

* staff replies to the survivors (staff message in a topic → copy in her private chat), and
* other people doing a short menu errand (/start → French → free numbers → quick exit)

are timed, and compared with the same measured just before the burst. Were they queued behind
the staff group they would wait about 3 s per message of the backlog.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from typing import Any

from bench.common import (
    ALWAYS_OPEN,
    STAFF_CHAT,
    TOKEN,
    bot_env,
    fresh_dir,
    spawn,
    summary_ms,
    wait_ready,
)
from bench.journey import Hub, Person, button_data, crowd, menu_journey, new_message, screen
from bot.emulator import BotApiEmulator, ChatEvent

LATENCY = 0.05  # injected Bot API round trip
GROUP_LIMIT = 20  # messages per minute in one group (Telegram; bot/telegram/ratelimit.py)
STAFF_ID = 3003
SURVIVORS = 200_000
PROBES = 300_000
SETUP_TIMEOUT = 60.0


async def _wait_event(
    events: asyncio.Queue[ChatEvent], match: Callable[[ChatEvent], bool], timeout: float
) -> ChatEvent:
    """The next event that matches (others are dropped), within timeout seconds."""
    async with asyncio.timeout(timeout):
        while True:
            event = await events.get()
            if match(event):
                return event


async def _to_case(person: Person) -> None:
    """/start, French, "talk to a person", "I agree": her handover screen and her place in the
    queue (sent by the outbox) both arrive."""
    user = person.user
    (greeting,) = await person.act(user.send("/start"), screen)
    (menu,) = await person.act(user.press(person.message(greeting), "lang:fr"), screen)
    (consent,) = await person.act(user.press(person.message(menu), "nav:talk"), screen)
    await person.act(user.press(person.message(consent), "talk:agree"), new_message, new_message)


def _card(event: ChatEvent) -> bool:
    return event.kind == "message" and any(
        d.startswith("case:claim:") for d in button_data(event.message)
    )


async def run_phase(quick: bool, log: Callable[[str], None] = print) -> dict[str, Any]:
    cases, per_case = (2, 15) if quick else (5, 20)
    probe_every, reply_every = (5.0, 5.0) if quick else (15.0, 10.0)
    baseline_count = 2 if quick else 3
    total = cases * per_case
    workdir = fresh_dir("relay")
    stats_path = workdir / "stats.json"
    hotline = {"HOTLINE_CHAT_ID": str(STAFF_CHAT), "HOTLINE_HOURS": ALWAYS_OPEN}
    group_posts: list[float] = []  # when the bot posted or edited anything in the staff group
    arrivals: dict[int, float] = {}  # burst message number -> when its copy reached the topic
    expected: dict[str, asyncio.Future[float]] = {}  # staff reply text -> when it reached her
    result: dict[str, Any] = {"cases": cases, "per_case": per_case, "burst": total}
    all_arrived = asyncio.Event()

    async with BotApiEmulator(TOKEN) as emu:
        emu.set_latency(LATENCY)
        hub = Hub(emu)
        group = emu.forum(STAFF_CHAT, "Hotline")
        staff = group.member(emu.user(STAFF_ID, "Fatou"))
        staff_events = hub.queue(STAFF_CHAT)

        def on_staff_group(event: ChatEvent) -> None:
            if event.kind in ("message", "edit", "service"):
                group_posts.append(time.monotonic())
            text = str((event.message or {}).get("text", ""))
            if event.kind == "message" and text.startswith("Burst "):
                arrivals.setdefault(int(text.split()[1]), time.monotonic())
                if len(arrivals) == total:
                    all_arrived.set()

        hub.on(STAFF_CHAT, on_staff_group)
        child = await spawn(
            ["-m", "bench.botproc", "jigiya", "--paced", "--stats", str(stats_path)],
            bot_env(emu.base_url, workdir / "jigiya.sqlite3", **hotline),
            workdir / "bot.log",
        )
        try:
            await wait_ready(emu, child)
            # Cases opened one after the other, each claimed by the staff member.
            survivors: list[tuple[Person, int]] = []
            for i in range(cases):
                person = Person.make(hub, SURVIVORS + i)
                await _to_case(person)
                card = await _wait_event(staff_events, _card, SETUP_TIMEOUT)
                assert card.message is not None
                assert card.thread_id is not None
                claim = next(d for d in button_data(card.message) if d.startswith("case:claim:"))
                await staff.press(card.message, claim)
                card_id = card.message["message_id"]
                await _wait_event(
                    staff_events,
                    lambda e: e.kind == "edit" and (e.message or {}).get("message_id") == card_id,  # noqa: B023
                    SETUP_TIMEOUT,
                )
                hub.forget(person.user.id)
                hub.on(person.user.id, _reply_listener(expected))
                survivors.append((person, card.thread_id))
            hub.forget(STAFF_CHAT)
            hub.on(STAFF_CHAT, on_staff_group)
            setup_posts = len(group_posts)
            first_post = group_posts[0] if group_posts else time.monotonic()

            async def staff_reply(label: str) -> float:
                _, thread = survivors[len(expected) % cases]
                text = f"Réponse {label} {len(expected)}"
                arrived = expected[text] = asyncio.get_running_loop().create_future()
                sent = time.monotonic()
                await staff.send(text, thread_id=thread)
                async with asyncio.timeout(120):
                    reached: float = await arrived
                return reached - sent

            async def probe(number: int) -> list[float]:
                done = await crowd(hub, menu_journey, [PROBES + number], cutoff=120)
                return done.latencies

            # Before the burst: what survivor-facing replies take with no backlog.
            base_replies, base_probes = [], []
            for k in range(baseline_count):
                base_replies.append(await staff_reply(f"before {k}"))
                base_probes += await probe(k)

            # The burst, all at once.
            burst_start = time.monotonic()
            level = max(0.0, setup_posts - (burst_start - first_post) * GROUP_LIMIT / 60)
            for i in range(total):
                person, _ = survivors[i % cases]
                await person.user.send(f"Burst {i:03d} from case {i % cases}")
            floor_s = max(0.0, total - (GROUP_LIMIT - level)) * 60 / GROUP_LIMIT
            deadline = burst_start + floor_s * 1.5 + 60

            during_replies: list[float] = []
            during_probes: list[float] = []

            over = asyncio.Event()

            async def replies_meanwhile() -> None:
                k = 0
                while not over.is_set():
                    await asyncio.sleep(reply_every)
                    during_replies.append(await staff_reply(f"during {k}"))
                    k += 1

            async def probes_meanwhile() -> None:
                k = baseline_count
                while not over.is_set():
                    await asyncio.sleep(probe_every)
                    during_probes.extend(await probe(k))
                    k += 1

            side = [asyncio.ensure_future(replies_meanwhile()),
                    asyncio.ensure_future(probes_meanwhile())]  # fmt: skip
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(deadline - time.monotonic()):
                    await all_arrived.wait()
            over.set()
            for task in side:
                task.cancel()
            await asyncio.wait(side, timeout=30)
        finally:
            await child.stop()

    stats: dict[str, Any] = json.loads(stats_path.read_text()) if stats_path.exists() else {}
    times = sorted(arrivals.values())
    steady = times[GROUP_LIMIT:]
    in_order = all(
        [arrivals[i] for i in range(c, total, cases) if i in arrivals]
        == sorted(arrivals[i] for i in range(c, total, cases) if i in arrivals)
        for c in range(cases)
    )
    result.update(
        delivered=len(arrivals),
        in_order_per_case=in_order,
        setup_group_posts=setup_posts,
        bucket_level_at_start=level,
        floor_s=floor_s,
        first_s=times[0] - burst_start if times else None,
        total_s=times[-1] - burst_start if times else None,
        steady_per_min=(len(steady) - 1) / (steady[-1] - steady[0]) * 60
        if len(steady) > 1 and steady[-1] > steady[0]
        else None,
        replies_before_ms=summary_ms(base_replies),
        replies_during_ms=summary_ms(during_replies),
        probes_before_ms=summary_ms(base_probes),
        probes_during_ms=summary_ms(during_probes),
        bot_errors=stats.get("errors"),
        bot_first_errors=stats.get("first_errors", []),
    )
    log(
        f"  {len(arrivals)}/{total} copies in {result['total_s'] or 0:.0f} s "
        f"(floor {floor_s:.0f} s); staff replies before/during max "
        f"{result['replies_before_ms']['max']:.0f}/{result['replies_during_ms']['max']:.0f} ms; "
        f"menu answers max {result['probes_before_ms']['max']:.0f}/"
        f"{result['probes_during_ms']['max']:.0f} ms"
    )
    return result


def _reply_listener(expected: dict[str, asyncio.Future[float]]) -> Callable[[ChatEvent], None]:
    """Notes when a staff reply's copy reaches her chat."""

    def listener(event: ChatEvent) -> None:
        text = str((event.message or {}).get("text", ""))
        future = expected.get(text)
        if event.kind == "message" and future is not None and not future.done():
            future.set_result(time.monotonic())

    return listener
