"""The aiohttp transport under PTB (bot/telegram/transport.py), against the emulator: uploads
arrive byte for byte, downloads come back, and faults become PTB's errors without quoting the
token."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import NetworkError, TimedOut

from bot.emulator import BotApiEmulator
from bot.telegram.transport import AiohttpRequest
from tests.conftest import TOKEN


@pytest.fixture
async def bot(emulator: BotApiEmulator) -> AsyncIterator[Bot]:
    bot = Bot(
        TOKEN,
        base_url=emulator.base_url,
        base_file_url=emulator.base_url.removesuffix("/bot") + "/file/bot",
        request=AiohttpRequest(),
        get_updates_request=AiohttpRequest(connection_pool_size=1),
    )
    async with bot:
        yield bot


async def test_a_document_is_uploaded_and_downloaded_byte_for_byte(
    emulator: BotApiEmulator, bot: Bot
) -> None:
    awa = emulator.user(3001)
    await awa.send("/start")
    content = "Protocole VBG · étape 1\n".encode() + bytes(range(256))
    sent = await bot.send_document(awa.id, document=content, filename="fiche.txt", caption="Fiche")
    assert sent.document is not None
    assert sent.document.file_name == "fiche.txt"
    assert sent.caption == "Fiche"
    assert emulator.world.files[sent.document.file_id].data == content
    file = await bot.get_file(sent.document.file_id)
    assert bytes(await file.download_as_bytearray()) == content


async def test_parameters_reach_telegram_as_sent(emulator: BotApiEmulator, bot: Bot) -> None:
    awa = emulator.user(3002)
    await awa.send("/start")
    text = "Numéro vert : 80 33 · ߒߞߏ · \u200f«»"
    sent = await bot.send_message(awa.id, text, protect_content=True)
    assert sent.text == text
    assert sent.has_protected_content


async def test_a_keyboard_and_a_text_that_looks_like_a_number_arrive_as_sent(
    emulator: BotApiEmulator, bot: Bot
) -> None:
    awa = emulator.user(3003)
    await awa.send("/start")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Numéro vert", callback_data="n:1")]])
    sent = await bot.send_message(awa.id, "80333", reply_markup=keyboard, protect_content=False)
    assert sent.text == "80333"  # a string, as the Bot API types it, not a number
    assert sent.reply_markup == keyboard
    assert not sent.has_protected_content


async def test_an_unreachable_api_is_a_network_error_that_does_not_quote_the_token(
    emulator: BotApiEmulator, bot: Bot
) -> None:
    emulator.set_unreachable(True)
    with pytest.raises(NetworkError) as raised:
        await bot.get_me()
    assert not isinstance(raised.value, TimedOut)
    assert TOKEN not in str(raised.value)
    assert raised.value.__cause__ is None  # nor chained to aiohttp's own message
    assert raised.value.__suppress_context__


async def test_an_answer_slower_than_the_read_timeout_is_timed_out(
    emulator: BotApiEmulator, bot: Bot
) -> None:
    emulator.set_latency(2)
    with pytest.raises(TimedOut):
        await bot.get_me(read_timeout=0.5)
    emulator.set_latency(0)
    assert (await bot.get_me()).is_bot
