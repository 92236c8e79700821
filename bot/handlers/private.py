"""Private chats on Telegram, last in the routing table: every update no other route took becomes
a flow event for the core (bot/private_chat.py), and every event gets an answer."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from telegram import CallbackQuery, Update
from telegram.error import TelegramError
from telegram.ext import Application

from bot.handlers.events import event_of, incoming_of, private_key, telegram_key
from bot.private_chat import PrivateChats
from bot.telegram.context import CHATS, JigiyaContext

log = logging.getLogger(__name__)


async def stop_spinner(
    query: CallbackQuery, text: str | None = None, *, show_alert: bool = False
) -> None:
    """Answer a button press, whatever it turns out to mean. Telegram may refuse (a press
    answered late, after an outage, a restart or slow work): what the press does still happens.

    As the Bot API's JSON through python-telegram-bot's request path (its rate limiter and its
    errors), as the channel sends (bot/telegram/channel.py): `CallbackQuery.answer` passes
    through three layers of keyword arguments first, for every press."""
    params = {"callback_query_id": query.id, "text": text, "show_alert": show_alert or None}
    try:
        await query.get_bot()._post("answerCallbackQuery", params)
    except TelegramError as exc:
        log.info("A button press could not be acknowledged (%s)", type(exc).__name__)


async def beside_spinner(
    query: CallbackQuery, work: Coroutine[Any, Any, object], text: str | None = None
) -> None:
    """A press's acknowledgement and what the press does, side by side: one round trip less to
    wait. One task for the work, not the two (and a gathering future) of asyncio.gather."""
    working = asyncio.create_task(work)
    try:
        await stop_spinner(query, text)
    except asyncio.CancelledError:
        working.cancel()  # her quick exit calls this update off: all of it
        raise
    finally:
        await working  # never left running alone: her next update waits for it


async def on_private_update(update: Update, context: JigiyaContext) -> None:
    query = update.callback_query
    if query is None:
        await _answer(update, context)
    else:
        await beside_spinner(query, _answer(update, context))


async def _answer(update: Update, context: JigiyaContext) -> None:
    key = private_key(update, context.bot)
    if key is None:
        return
    edited = update.edited_message
    if edited is not None and edited.location is not None:
        return  # a live location moving: the first location was answered already
    user = update.effective_user
    member = user.id if user is not None and update.edited_message is None else None
    tools = frozenset() if member is None else await context.chats.tools_of(member)
    incoming = incoming_of(update, member=member if tools else None, tools=tools)
    await context.chats.handle(key, event_of(update), incoming)


async def remember_unread(
    application: Application,  # type: ignore[type-arg]
    chat_id: int,
    user_id: int,
    message_ids: list[int],
) -> None:
    """Her messages the bot will never answer (dropped in a flood, called off by her quick
    exit): the intake (bot/telegram/intake.py) hands them here."""
    chats: PrivateChats = application.bot_data[CHATS]
    await chats.remember(telegram_key(application.bot, chat_id, user_id), message_ids)


async def flood_note(application: Application, update: Update) -> None:  # type: ignore[type-arg]
    """Once per burst, to a private chat whose messages were dropped (bot/telegram/intake.py)."""
    key = private_key(update, application.bot)
    if key is None:
        return
    chats: PrivateChats = application.bot_data[CHATS]
    user = update.effective_user
    try:
        await chats.flood_note(key, user.language_code if user else None)
    except TelegramError as exc:
        log.info("The note to slow down was not sent (%s)", type(exc).__name__)
