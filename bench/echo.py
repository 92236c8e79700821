"""The framework's floor: a minimal python-telegram-bot echo bot.

A plain `Application` with PTB's own Updater (long polling), one MessageHandler that sends the
text back, no rate limiter, no database. `concurrent_updates(64)` matches Jigiya's intake,
which runs at most 64 updates at a time (`MAX_RUNNING` in bot/telegram/intake.py); the connection
pool holds 256 connections, as in Jigiya.

`transport="httpx"` (the default) keeps PTB's own HTTP client: that is the floor the targets are
measured against. `transport="aiohttp"` ("echo-aiohttp" in the report) builds the same bot on
Jigiya's transport, exactly as bot/app.py does (`bot.telegram.transport.AiohttpRequest`, one
connection for getUpdates), so that the cost of the transport and the cost of Jigiya's own work
can be told apart.
"""

from __future__ import annotations

import asyncio
import signal
from typing import Literal

from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters

from bot.telegram.transport import AiohttpRequest

MAX_RUNNING = 64

Transport = Literal["httpx", "aiohttp"]
TRANSPORTS: tuple[Transport, ...] = ("httpx", "aiohttp")


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.message
    if message is not None and message.text is not None:
        await context.bot.send_message(message.chat_id, message.text)


def build_echo_application(
    token: str, base_url: str, transport: Transport = "httpx"
) -> Application:  # type: ignore[type-arg]
    builder = ApplicationBuilder().token(token).base_url(base_url).concurrent_updates(MAX_RUNNING)
    if transport == "aiohttp":
        # As bot/app.py builds Jigiya: one long poll at a time.
        builder = builder.request(AiohttpRequest()).get_updates_request(
            AiohttpRequest(connection_pool_size=1)
        )
    application = builder.build()
    application.add_handler(MessageHandler(filters.TEXT, _echo))
    return application


async def run_echo(token: str, base_url: str, transport: Transport = "httpx") -> None:
    """Poll and echo until SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    application = build_echo_application(token, base_url, transport)
    async with application:
        assert application.updater is not None
        await application.updater.start_polling(
            poll_interval=0.0, timeout=10, allowed_updates=Update.ALL_TYPES
        )
        await application.start()
        await stop.wait()
        await application.updater.stop()
        await application.stop()
