"""The bot against Telegram's limits, end to end: messages too old to delete, button presses
answered too late, flood control. Time moves on the emulator's clock, never by sleeping."""

from __future__ import annotations

import logging

import pytest

from bot.emulator import BotApiEmulator, FloodLimits, Limit
from tests.conftest import StartBot
from tests.hotline_helpers import (
    HOTLINE,
    Desk,
    button_data,
    case_id_of,
    open_case,
    wait_for_content,
)
from tests.journey import EXIT, answer, goodbye, start_in

HOUR = 3600.0
LATE = 16.0  # Telegram waits about 15 s for a button press's answer


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def test_her_quick_exit_deletes_what_it_can_when_part_of_her_chat_is_too_old(
    emulator: BotApiEmulator, start_bot: StartBot
) -> None:
    await start_bot()
    awa = emulator.user(2101, "Awa")
    await start_in(awa)
    too_old = {m["message_id"] for m in awa.messages}
    emulator.clock.advance(49 * HOUR)  # she comes back two days later
    await awa.send("/start")
    menu = (await answer(awa)).screen
    await awa.press(menu, EXIT)
    said = (await goodbye(awa)).sent[-1]
    # What is over 48 hours old cannot go; everything else does.
    assert {m["message_id"] for m in awa.messages} == too_old | {said["message_id"]}


async def test_her_button_answered_too_late_still_gets_its_screen(
    emulator: BotApiEmulator, start_bot: StartBot, caplog: pytest.LogCaptureFixture
) -> None:
    await start_bot()
    awa = emulator.user(2102, "Awa")
    menu = (await start_in(awa)).screen
    query_id = await awa.press(menu, "nav:centre")
    emulator.clock.advance(LATE)  # the bot answers after Telegram stopped waiting
    where = await answer(awa, location_prompt=True)
    assert "nav:menu" in button_data(where.screen)
    late = await emulator.wait_for_call(
        "answerCallbackQuery",
        predicate=lambda c: (
            c.params.get("callback_query_id") == query_id and c.finished is not None
        ),
    )
    assert late.error is not None
    assert "query is too old" in late.error.description
    assert errors(caplog) == []


async def test_a_case_button_answered_too_late_still_claims_the_case_without_an_error(
    emulator: BotApiEmulator, start_bot: StartBot, caplog: pytest.LogCaptureFixture
) -> None:
    await start_bot(**HOTLINE)
    desk = Desk.make(emulator)
    awa = emulator.user(2103, "Awa")
    case = await open_case(desk, awa)
    await desk.fatou.press(desk.card(case), f"case:claim:{case_id_of(desk.card(case))}")
    emulator.clock.advance(LATE)  # the database was slow: the answer comes too late
    await desk.wait_card(case, lambda card: any("release" in d for d in button_data(card)))
    # The staff group's updates are handled in order: once her next message is relayed, the
    # press has been handled to its end.
    reply = await desk.fatou.send("Je suis là.", thread_id=case.thread_id)
    await wait_for_content(emulator, awa.id, reply)
    assert errors(caplog) == []


async def test_under_real_429s_the_bot_waits_what_telegram_says_and_her_answer_arrives_whole(
    emulator: BotApiEmulator, start_bot: StartBot
) -> None:
    await start_bot()
    # Stricter than the bot's own pace (a burst of three): its second message meets a 429.
    emulator.set_flood_limits(FloodLimits(private=Limit(burst=1, per_second=1)))
    awa = emulator.user(2104, "Awa")
    for _ in range(2):
        await awa.send("/start")
        assert (await answer(awa)).screen["text"]
    sends = [c for c in emulator.calls if c.method == "sendMessage"]
    refused = [c for c in sends if c.error is not None]
    assert refused
    assert [c.error.status for c in refused if c.error] == [429] * len(refused)
    retried = sends[sends.index(refused[-1]) + 1]
    assert retried.ok
    assert retried.time - refused[-1].time >= 1.0  # retry_after, on the same clock
