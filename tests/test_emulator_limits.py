"""The emulator keeps Telegram's limits: what may be deleted, how long a button press waits for
its answer, flood control, who can be reached, how long updates are kept; and the methods the
coming issues need. Time moves on the emulator's clock, never by sleeping."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    KeyboardButton,
    ReplyKeyboardMarkup,
)
from telegram.error import BadRequest, Forbidden, RetryAfter

from bot.emulator import BotApiEmulator, FloodLimits, Limit

TOKEN = "123456:TEST-token"
AWA = 1001
FORUM = -1001234567890
HOUR = 3600.0


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(TOKEN) as emulator:
        yield emulator


@pytest.fixture
async def bot(emu: BotApiEmulator) -> AsyncIterator[Bot]:
    client = Bot(TOKEN, base_url=emu.base_url, base_file_url=emu.base_file_url)
    await client.initialize()
    yield client
    await client.shutdown()


@pytest.fixture
async def http(emu: BotApiEmulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"{emu.base_url}{TOKEN}/") as client:
        yield client


def keyboard(data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(data, callback_data=data)]])


# --- deleting ---------------------------------------------------------------------------


async def test_messages_older_than_48_hours_stay(emu: BotApiEmulator, bot: Bot) -> None:
    awa = emu.user(AWA)
    old = (await bot.send_message(AWA, "hier")).message_id
    hers = (await awa.send("avant-hier"))["message_id"]
    emu.clock.advance(48 * HOUR + 1)
    new = (await bot.send_message(AWA, "maintenant")).message_id
    assert [m["date"] for m in awa.messages][-1] >= awa.messages[0]["date"] + 48 * HOUR

    with pytest.raises(BadRequest, match="Message can't be deleted for everyone"):
        await bot.delete_message(AWA, old)
    # One message too old fails the whole batch, as it does in Telegram: nothing is deleted.
    with pytest.raises(BadRequest, match="Message can't be deleted for everyone"):
        await bot.delete_messages(AWA, [hers, new])
    assert [m["message_id"] for m in awa.messages] == [old, hers, new]
    assert await bot.delete_messages(AWA, [new, 999])  # a missing one is skipped
    assert [m["message_id"] for m in awa.messages] == [old, hers]


async def test_a_topic_s_first_message_and_old_group_messages_stay(
    emu: BotApiEmulator, bot: Bot
) -> None:
    hotline = emu.forum(FORUM)
    topic = await bot.create_forum_topic(FORUM, "Cas 1")
    sent = await bot.send_message(FORUM, "pour cas 1", message_thread_id=topic.message_thread_id)
    with pytest.raises(BadRequest, match=r"Message can't be deleted$"):
        await bot.delete_message(FORUM, topic.message_thread_id)
    emu.clock.advance(49 * HOUR)
    with pytest.raises(BadRequest, match=r"Message can't be deleted$"):
        await bot.delete_messages(FORUM, [sent.message_id])
    assert await bot.delete_forum_topic(FORUM, topic.message_thread_id)  # whatever its age
    assert hotline.messages == []


# --- callback queries -------------------------------------------------------------------


async def test_a_press_is_answered_within_15_seconds_and_200_characters(
    emu: BotApiEmulator, bot: Bot
) -> None:
    awa = emu.user(AWA)
    sent = await bot.send_message(AWA, "?", reply_markup=keyboard("oui"))
    late = await awa.press(sent.message_id, "oui")
    emu.clock.advance(15.5)
    with pytest.raises(BadRequest, match="Query is too old and response timeout expired"):
        await bot.answer_callback_query(late)

    query = await awa.press(sent.message_id, "oui")
    emu.clock.advance(14)
    with pytest.raises(BadRequest, match="Message_too_long"):
        await bot.answer_callback_query(query, "x" * 201)
    assert await bot.answer_callback_query(query, "x" * 200)  # the refused answer did not count


# --- flood control ----------------------------------------------------------------------


async def test_off_by_default_then_a_private_chat_takes_a_burst_then_one_a_second(
    emu: BotApiEmulator, bot: Bot, http: httpx.AsyncClient
) -> None:
    awa = emu.user(AWA)
    for n in range(10):
        await bot.send_message(AWA, str(n))
    emu.set_flood_limits(FloodLimits())
    for n in range(3):
        await bot.send_message(AWA, str(n))
    refused = await http.post("sendMessage", json={"chat_id": AWA, "text": "4"})
    assert refused.status_code == 429
    assert refused.json() == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    }
    emu.clock.advance(1)
    await bot.send_message(AWA, "4")
    with pytest.raises(RetryAfter):
        await bot.send_message(AWA, "5")
    assert len(awa.messages) == 14  # what was refused was not sent


async def test_a_group_takes_20_a_minute(emu: BotApiEmulator, bot: Bot) -> None:
    emu.forum(FORUM)
    emu.user(AWA)
    emu.set_flood_limits(FloodLimits())
    for n in range(20):
        await bot.send_message(FORUM, str(n))
    with pytest.raises(RetryAfter):
        await bot.send_message(FORUM, "21")
    refused = emu.calls[-1].error
    assert refused is not None
    assert refused.retry_after == 3
    await bot.send_message(AWA, "her chat is not held up")
    emu.clock.advance(3)
    await bot.send_message(FORUM, "21")


async def test_the_bot_s_own_limit_spans_its_chats(emu: BotApiEmulator, bot: Bot) -> None:
    for user_id in (1, 2, 3):
        emu.user(user_id)
    emu.set_flood_limits(FloodLimits(bot=Limit(burst=2, per_second=2)))
    await bot.send_message(1, "a")
    await bot.send_message(2, "b")
    with pytest.raises(RetryAfter):
        await bot.send_message(3, "c")
    emu.clock.advance(0.5)
    await bot.send_message(3, "c")


# --- who can be reached -----------------------------------------------------------------


async def test_someone_who_never_started_the_bot_or_left_telegram_gives_403(
    emu: BotApiEmulator, bot: Bot
) -> None:
    stranger = emu.user(1002, "Inconnue", started=False)
    with pytest.raises(Forbidden, match="bot can't initiate conversation with a user"):
        await bot.send_message(stranger.id, "Bonjour")
    await stranger.send("/start")
    await bot.send_message(stranger.id, "Bonjour")

    gone = emu.user(1003, "Partie")
    gone.deactivate()
    with pytest.raises(Forbidden, match="user is deactivated"):
        await bot.send_message(gone.id, "Bonjour")
    with pytest.raises(RuntimeError, match="deactivated"):
        await gone.send("?")


# --- updates ----------------------------------------------------------------------------


async def test_updates_nobody_fetched_for_24_hours_are_gone(emu: BotApiEmulator, bot: Bot) -> None:
    awa = emu.user(AWA)
    await awa.send("hier")
    emu.clock.advance(24 * HOUR + 1)
    await awa.send("aujourd'hui")
    assert [u["message"]["text"] for u in emu.pending_updates] == ["aujourd'hui"]
    assert [u.message.text for u in await bot.get_updates() if u.message] == ["aujourd'hui"]


# --- methods ----------------------------------------------------------------------------


async def test_voice_and_photo_by_upload_and_again_by_file_id(
    emu: BotApiEmulator, bot: Bot
) -> None:
    awa = emu.user(AWA)
    voice = await bot.send_voice(AWA, InputFile(b"OggS-voice", filename="note.ogg"), duration=3)
    assert voice.voice is not None
    assert awa.messages[-1]["voice"]["duration"] == 3
    again = await bot.send_voice(AWA, voice.voice.file_id, caption="encore")
    assert again.voice is not None
    assert (again.voice.file_id, again.caption) == (voice.voice.file_id, "encore")
    hers = (await awa.send_voice())["voice"]["file_id"]
    assert await bot.send_voice(AWA, hers)

    photo = await bot.send_photo(AWA, InputFile(b"\xff\xd8jpeg", filename="carte.jpg"))
    photo_id = photo.photo[-1].file_id
    assert (await bot.send_photo(AWA, photo_id)).photo[-1].file_id == photo_id
    # A file id sends only its own kind.
    with pytest.raises(BadRequest, match="Type of file mismatch"):
        await bot.send_document(AWA, voice.voice.file_id)
    with pytest.raises(BadRequest, match="Type of file mismatch"):
        await bot.send_voice(AWA, photo_id)


async def test_topic_names_are_cleaned_cut_to_128_and_never_empty(
    emu: BotApiEmulator, bot: Bot
) -> None:
    hotline = emu.forum(FORUM)
    topic = await bot.create_forum_topic(FORUM, "  Cas \n 7  ")
    assert topic.name == "Cas 7"
    thread = topic.message_thread_id
    assert await bot.edit_forum_topic(FORUM, thread, name="é" * 129)
    assert hotline.topics[thread].name == "é" * 128  # Telegram cuts, it does not refuse
    with pytest.raises(BadRequest, match="Name must be non-empty"):
        await bot.edit_forum_topic(FORUM, thread, name="   ")
    with pytest.raises(BadRequest, match="Name must be non-empty"):
        await bot.create_forum_topic(FORUM, " ")
    assert await bot.edit_forum_topic(FORUM, thread)  # nothing asked, nothing changed
    assert hotline.topics[thread].name == "é" * 128


async def test_set_webhook_needs_a_url_even_an_empty_one(
    emu: BotApiEmulator, http: httpx.AsyncClient
) -> None:
    missing = await http.post("setWebhook", json={})
    assert missing.status_code == 400
    assert (await http.post("setWebhook", json={"url": "http://127.0.0.1:9/hook"})).is_success
    assert emu.webhook.url
    assert (await http.post("setWebhook", json={"url": ""})).is_success  # removes it
    assert not emu.webhook.url


BAD_MARKUPS: list[tuple[dict[str, Any], str]] = [
    ({"keyboard": [[{"request_location": True}]]}, 'Can\'t find field "text"'),
    ({"keyboard": [[{"text": 5}]]}, 'Field "text" must be of type String'),
    ({"keyboard": [[{"text": ""}]]}, "BUTTON_TEXT_INVALID"),
    ({"keyboard": [[{"text": "x", "request_locaton": True}]]}, "unknown field"),
    ({"inline_keyboard": [[{"text": "", "callback_data": "x"}]]}, "BUTTON_TEXT_INVALID"),
    ({"inline_keyboard": [[{"callback_data": "x"}]]}, 'Can\'t find field "text"'),
]


async def test_keyboard_buttons_are_checked(
    emu: BotApiEmulator, bot: Bot, http: httpx.AsyncClient
) -> None:
    awa = emu.user(AWA)
    for markup, error in BAD_MARKUPS:
        body = {"chat_id": AWA, "text": "?", "reply_markup": markup}
        refused = (await http.post("sendMessage", json=body)).json()
        assert (refused["error_code"], error in refused["description"]) == (400, True), markup
    good = ReplyKeyboardMarkup([[KeyboardButton("📍", request_location=True), "Annuler"]])
    await bot.send_message(AWA, "Où ?", reply_markup=good)
    assert awa.reply_keyboard == [["📍", "Annuler"]]
