"""Bot API methods about the bot itself: identity, updates, webhook, files."""

from __future__ import annotations

import re

from bot.emulator.context import ApiContext, Handler, registrar
from bot.emulator.wire import Params, bad_request
from bot.emulator.world import Json

METHODS: dict[str, tuple[str, Handler]] = {}
method = registrar(METHODS)

SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")


@method("getMe")
async def get_me(ctx: ApiContext, p: Params) -> Json:
    return {
        **ctx.bot_user,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


@method("logOut")
async def log_out(ctx: ApiContext, p: Params) -> bool:
    return True


@method("close")
async def close(ctx: ApiContext, p: Params) -> bool:
    return True


@method("getUpdates")
async def get_updates(ctx: ApiContext, p: Params) -> list[Json]:
    limit = p.opt_integer("limit")
    timeout = p.raw.get("timeout")
    allowed = p.obj("allowed_updates")
    return await ctx.updates.get_updates(
        offset=p.opt_integer("offset") or 0,
        limit=100 if limit is None else min(max(limit, 1), 100),
        timeout=max(float(timeout), 0.0) if isinstance(timeout, int | float) else 0.0,
        allowed=allowed if isinstance(allowed, list) else None,
    )


@method("setWebhook")
async def set_webhook(ctx: ApiContext, p: Params) -> bool:
    # Required, though it may be empty: an empty url removes the webhook.
    if "url" not in p.raw:
        raise bad_request('parameter "url" is required')
    url = p.string("url")
    secret = p.opt_string("secret_token")
    if secret is not None and not SECRET_TOKEN.fullmatch(secret):
        raise bad_request("secret token contains unallowed characters")
    # Telegram wants HTTPS on ports 443/80/88/8443; a loopback emulator accepts plain HTTP.
    if url and not url.startswith(("http://", "https://")):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    if p.flag("drop_pending_updates"):
        ctx.updates.drop_all()
    allowed = p.obj("allowed_updates")
    ctx.updates.set_allowed(allowed if isinstance(allowed, list) else None)
    if not url:
        await ctx.webhook.clear()
        return True
    max_connections = min(max(p.opt_integer("max_connections") or 40, 1), 100)
    await ctx.webhook.set(url, secret, max_connections)
    return True


@method("deleteWebhook")
async def delete_webhook(ctx: ApiContext, p: Params) -> bool:
    if p.flag("drop_pending_updates"):
        ctx.updates.drop_all()
    await ctx.webhook.clear()
    return True


@method("getWebhookInfo")
async def get_webhook_info(ctx: ApiContext, p: Params) -> Json:
    info: Json = {
        "url": ctx.webhook.url,
        "has_custom_certificate": False,
        "pending_update_count": len(ctx.updates.pending),
    }
    if ctx.webhook.url:
        info["max_connections"] = ctx.webhook.max_connections
    if ctx.webhook.last_error is not None:
        info["last_error_date"], info["last_error_message"] = ctx.webhook.last_error
    if ctx.updates.allowed is not None:
        info["allowed_updates"] = sorted(ctx.updates.allowed)
    return info


@method("getFile")
async def get_file(ctx: ApiContext, p: Params) -> Json:
    stored = ctx.world.files.get(p.string("file_id"))
    if stored is None:
        raise bad_request("invalid file_id")
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
        "file_path": stored.file_path,
    }
