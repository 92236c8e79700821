"""Per-chat order, concurrency across chats, and locks that go away when idle."""

from __future__ import annotations

import asyncio
import random

from telegram import Chat, Message, Update

from bot.telegram.processor import ChatOrderedProcessor


def update(update_id: int, chat_id: int) -> Update:
    chat = Chat(chat_id, Chat.PRIVATE)
    return Update(update_id, message=Message(update_id, None, chat))  # type: ignore[arg-type]


async def test_each_chat_in_order_chats_side_by_side() -> None:
    processor = ChatOrderedProcessor(max_running=8)
    seen: dict[int, list[int]] = {}
    running = 0
    most = 0
    rng = random.Random(7)

    async def handle(u: Update) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(rng.uniform(0, 0.02))
        assert u.effective_chat is not None
        seen.setdefault(u.effective_chat.id, []).append(u.update_id)
        running -= 1

    updates = [update(i, chat_id=100 + i % 4) for i in range(80)]
    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.gather(*(processor.process_update(u, handle(u)) for u in updates))
    elapsed = loop.time() - started

    for chat_id, ids in seen.items():
        assert ids == sorted(ids), f"chat {chat_id} out of order"
    assert sum(len(ids) for ids in seen.values()) == 80
    assert most == 4  # one per chat at a time, four chats at once
    assert elapsed < 80 * 0.02  # not one after another
    assert processor._chats == {}  # idle chats keep no lock: memory stays flat


async def test_running_updates_are_bounded() -> None:
    processor = ChatOrderedProcessor(max_running=3)
    running = 0
    most = 0

    async def handle() -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.01)
        running -= 1

    await asyncio.gather(
        *(processor.process_update(update(i, chat_id=i), handle()) for i in range(20))
    )
    assert most == 3


async def test_a_backlogged_chat_holds_one_slot_only() -> None:
    processor = ChatOrderedProcessor(max_running=2)
    release = asyncio.Event()
    done: list[int] = []

    async def slow(i: int) -> None:
        await release.wait()
        done.append(i)

    async def quick(i: int) -> None:
        done.append(i)

    backlog = [
        asyncio.create_task(processor.process_update(update(i, chat_id=1), slow(i)))
        for i in range(10)
    ]
    await asyncio.sleep(0.01)
    # Ten waiting updates of chat 1 must not keep chat 2 waiting.
    await asyncio.wait_for(processor.process_update(update(99, chat_id=2), quick(99)), 1)
    assert done == [99]
    release.set()
    await asyncio.gather(*backlog)
    assert done[1:] == list(range(10))
