"""The framework's floor: a minimal python-telegram-bot echo bot.

A plain `Application` with PTB's own Updater (long polling), one MessageHandler that sends the
text back, no rate limiter, no database. `concurrent_updates(64)` matches Jigiya's processor,
which runs at most 64 updates at a time (bot/processor.py); the connection pool is PTB's default
(256), as in Jigiya.
"""

from __future__ import annotations

import asyncio
import signal

from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters

MAX_RUNNING = 64


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.message
    if message is not None and message.text is not None:
        await context.bot.send_message(message.chat_id, message.text)


def build_echo_application(token: str, base_url: str) -> Application:  # type: ignore[type-arg]
    application = (
        ApplicationBuilder().token(token).base_url(base_url).concurrent_updates(MAX_RUNNING).build()
    )
    application.add_handler(MessageHandler(filters.TEXT, _echo))
    return application


async def run_echo(token: str, base_url: str) -> None:
    """Poll and echo until SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    application = build_echo_application(token, base_url)
    async with application:
        assert application.updater is not None
        await application.updater.start_polling(
            poll_interval=0.0, timeout=10, allowed_updates=Update.ALL_TYPES
        )
        await application.start()
        await stop.wait()
        await application.updater.stop()
        await application.stop()
