"""Webhook mode: Telegram POSTs updates; we answer 200 only once an update is stored, and 503
while the store cannot write, so that Telegram sends the update again later."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from functools import partial
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Bot, Update

from bot.telegram.intake import Intake
from bot.telegram.minimal import Json
from bot.telegram.polling import STORE_FAULTS, Stopped, describe, persist, until_stopped

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
# Telegram's updates are small; anything far larger is not from Telegram.
MAX_BODY = 1024 * 1024


def make_webhook_app(bot: Bot, intake: Intake, path: str, secret: str) -> web.Application:
    expected = secret.encode("utf-8")
    # Requests refused in a row because the store cannot write: one line when it begins, then
    # one every ten, however often Telegram sends the updates again.
    faults = 0

    async def receive(request: web.Request) -> web.Response:
        nonlocal faults
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8")
        if not hmac.compare_digest(given, expected):
            log.warning("Webhook request with a missing or wrong secret token refused")
            return web.Response(status=403)
        update = _update(await request.read(), bot)
        if update is None:
            log.warning("Webhook request with a body that is not an update refused")
            return web.Response(status=400)
        try:
            await intake.accept([update])
        except STORE_FAULTS as exc:
            faults += 1
            if faults == 1 or faults % 10 == 0:
                log.warning(
                    "Storing updates failed (%s, %d in a row); Telegram will send them again",
                    describe(exc),
                    faults,
                )
            return web.Response(status=503)
        if faults:
            faults = 0
            log.info("Storing updates works again")
        return web.Response(status=200)

    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_post(path, receive)
    return app


def _update(body: bytes, bot: Bot) -> Json | None:
    """The update a request body holds (Telegram's JSON, checked to be one), or None."""
    try:
        data: object = json.loads(body)
    except (ValueError, RecursionError):  # also bytes that are not UTF-8, and nesting too deep
        return None
    if not isinstance(data, dict):
        return None
    update_id = data.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        return None
    try:
        Update.de_json(data, bot)
    except Exception:  # PTB raises KeyError, AttributeError, OverflowError... on a bad shape
        return None
    return data


async def serve(
    bot: Bot, intake: Intake, *, url: str, host: str, port: int, secret: str, stop: asyncio.Event
) -> None:
    """Listen, register the webhook with Telegram (waiting out its faults), and serve until
    `stop` is set."""
    path = urlsplit(url).path or "/"
    runner = web.AppRunner(make_webhook_app(bot, intake, path, secret), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        register = partial(
            bot.set_webhook, url, secret_token=secret, allowed_updates=Update.ALL_TYPES
        )
        await until_stopped(persist(register, "setWebhook"), stop)
        log.info("Receiving updates by webhook on %s:%d%s", host, port, path)
        await stop.wait()
    except Stopped:
        pass  # stopped while Telegram could not be reached: nothing was registered
    finally:
        # Requests already inside finish storing their update before the server goes.
        await runner.cleanup()
