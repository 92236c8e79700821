"""What the bot asks of Telegram and what the emulator answers conform to the Bot API schema
(tests/botapi_schema.json, see tests/botapi_schema.py): every request of two journeys that use
most of what the bot asks of Telegram, every answer, every update the people's actions became."""

from __future__ import annotations

import pytest

from bot.content import load_directory
from bot.emulator import ApiCall, ApiError, BotApiEmulator
from bot.emulator.context import BUTTON_ACTIONS, KEYBOARD_BUTTON_FIELDS
from bot.emulator.server import METHODS
from bot.emulator.wire import STRING_PARAMS
from tests.botapi_schema import Schema
from tests.conftest import StartBot
from tests.hotline_helpers import (
    HOTLINE,
    Desk,
    case_id_of,
    open_case,
    screen_with,
    wait_for_content,
    wait_until,
)
from tests.journey import EXIT, answer, messages, start_in

SCHEMA = Schema.load()
MOPTI = (14.4931, -4.1872)
ADMIN = 500


# The bot's answers at once (see `unpaced`): its pace is not what these journeys check.
pytestmark = pytest.mark.usefixtures("unpaced")


def traffic_problems(emulator: BotApiEmulator) -> list[str]:
    assert all(call.finished is not None for call in emulator.calls if call.method != "getUpdates")
    return [problem for call in emulator.calls for problem in SCHEMA.call_problems(call)]


def test_the_check_finds_what_does_not_conform() -> None:
    markup = {"inline_keyboard": [[{"text": "a", "callback_data": "a", "colour": "red"}]]}
    request = {"chat_id": 1, "text": 5, "reply_markup": markup, "oops": True}
    sent = {"message_id": 1, "date": 1, "chat": {"id": 1, "type": "private"}}
    member = {"status": "member", "user": {"id": 2, "is_bot": False}, "can_fly": True}
    calls = [
        ApiCall(1, "sendMessage", request, 0.0, result=sent, finished=1.0),
        ApiCall(2, "getChatMember", {"chat_id": 1, "user_id": 2}, 0.0, result=member, finished=1.0),
        ApiCall(3, "sendMesage", {}, 0.0, error=ApiError(404, "Not Found"), finished=1.0),
    ]
    assert [SCHEMA.call_problems(call) for call in calls] == [
        [
            "#1 sendMessage request: unknown 'oops'",
            "#1 sendMessage request.text: a String expected, got 5",
            "#1 sendMessage request.reply_markup.inline_keyboard[0][0]: unknown 'colour'",
        ],
        [
            "#2 getChatMember result<ChatMember>: unknown 'can_fly'",
            "#2 getChatMember result<ChatMember>.user: 'first_name' missing",
        ],
        ["#3 sendMesage: no such method"],
    ]


def test_the_emulator_reads_methods_strings_and_buttons_as_the_schema_has_them() -> None:
    emulated = [name for name, _ in METHODS.values()]
    assert [name for name in emulated if name not in SCHEMA.params] == []
    # A String parameter outside STRING_PARAMS would reach a method as a number if it looked
    # like one ("123" as a text).
    strings = {
        (method, name)
        for method in emulated
        for name, spec in SCHEMA.params[method].items()
        if spec.types == ("String",)
    }
    assert {(method, name) for method, name in strings if name not in STRING_PARAMS} == set()
    assert set(SCHEMA.fields["KeyboardButton"]) == KEYBOARD_BUTTON_FIELDS
    assert set(SCHEMA.fields["InlineKeyboardButton"]) > BUTTON_ACTIONS


async def test_a_survivor_and_hotline_journey_conforms(
    emulator: BotApiEmulator, start_bot: StartBot
) -> None:
    await start_bot(**HOTLINE)
    desk = Desk.make(emulator)
    awa = emulator.user(1001, "Awa")
    menu = (await start_in(awa)).screen
    await awa.press(menu, "nav:centre")
    await answer(awa, location_prompt=True)
    await awa.send_location(*MOPTI)  # a location keyboard, its removal, buttons given after
    await awa.press((await answer(awa)).screen, "nav:numbers")
    numbers = (await answer(awa)).screen
    await awa.press(numbers, "nav:cards")  # contact cards
    await messages(awa, len(load_directory().numbers))
    await awa.press(numbers, "nav:talk")
    case = await open_case(desk, awa, consent=await screen_with(awa, "talk:agree"))
    await desk.claim(desk.fatou, case)
    for hers in (await awa.send("Il me frappe"), await awa.send_voice(), await awa.send_photo()):
        await wait_for_content(emulator, desk.group.id, hers, case.thread_id)
    for reply in (
        await desk.fatou.send("Nous sommes là.", thread_id=case.thread_id),
        await desk.send_media(desk.fatou, case, "voice"),
        await desk.send_media(desk.fatou, case, "photo", caption="le centre"),
    ):
        await wait_for_content(emulator, awa.id, reply)
    await desk.fatou.press(desk.card(case), f"case:close:{case_id_of(desk.card(case))}")
    await wait_until(lambda: desk.group.topics[case.thread_id].closed, what="the topic closed")
    await awa.press(await screen_with(awa, "nav:menu"), EXIT)
    await wait_until(lambda: len(awa.messages) == 1, what="her chat down to the goodbye")

    used = {call.method for call in emulator.calls if call.ok}
    assert {"sendContact", "copyMessage", "createForumTopic", "deleteMessages"} <= used
    assert traffic_problems(emulator) == []


async def test_an_officer_journey_with_a_summary_document_conforms(
    emulator: BotApiEmulator, start_bot: StartBot
) -> None:
    await start_bot(BOT_ADMIN_IDS=str(ADMIN))
    admin = emulator.user(ADMIN, "Focal", language_code="en")
    await admin.send("/invite police")
    invitation = await admin.next_message()
    code = invitation["text"].split("start=")[1].split()[0]
    officer = emulator.user(2001, "Moussa", language_code="en")
    await officer.send(f"/start {code}")
    await officer.press(await screen_with(officer, "off:list"), "off:list")
    listing = await screen_with(officer, "off:open:first-contact")
    await officer.press(listing, "off:open:first-contact")
    finish = "off:finish:first-contact"
    await officer.press(await screen_with(officer, finish), finish)
    await wait_until(lambda: any("document" in m for m in officer.messages), what="the summary")

    assert traffic_problems(emulator) == []
