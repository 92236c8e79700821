"""Bot API methods about chats: forum topics, members, commands."""

from __future__ import annotations

import json
import re
from typing import Any

from bot.emulator.context import ApiContext, Handler, member_object, registrar
from bot.emulator.wire import Params, bad_request
from bot.emulator.world import DEFAULT_ICON_COLOR, Chat, Json, Topic

METHODS: dict[str, tuple[str, Handler]] = {}
method = registrar(METHODS)

COMMAND = re.compile(r"[a-z0-9_]{1,32}")
MAX_TOPIC_NAME = 128


# --- forum topics -----------------------------------------------------------------------


def _forum(ctx: ApiContext, p: Params) -> Chat:
    chat = ctx.target(p)
    if not chat.is_forum:
        raise bad_request("the chat is not a forum")
    if chat.bot_status != "administrator":
        raise bad_request("not enough rights to manage topics")
    return chat


def _topic_name(p: Params) -> str:
    """A topic's name as TDLib cleans it: spaces run together, trimmed, cut to 128 characters;
    nothing left is refused."""
    name = re.sub(r"\s+", " ", p.string("name")).strip()[:MAX_TOPIC_NAME].strip()
    if not name:
        raise bad_request("name must be non-empty")
    return name


def _topic(chat: Chat, p: Params) -> Topic:
    topic = chat.topics.get(p.integer("message_thread_id"))
    if topic is None:
        raise bad_request("TOPIC_ID_INVALID")
    return topic


@method("createForumTopic")
async def create_forum_topic(ctx: ApiContext, p: Params) -> Json:
    chat = _forum(ctx, p)
    name = _topic_name(p)
    # A topic's id is the id of the service message that opens it.
    topic = Topic(
        thread_id=chat.last_message_id + 1,
        name=name,
        icon_color=p.opt_integer("icon_color") or DEFAULT_ICON_COLOR,
        icon_custom_emoji_id=p.opt_string("icon_custom_emoji_id"),
    )
    chat.topics[topic.thread_id] = topic
    created = {k: v for k, v in topic.as_dict().items() if k != "message_thread_id"}
    ctx.service(chat, topic.thread_id, {"forum_topic_created": created})
    return topic.as_dict()


@method("editForumTopic")
async def edit_forum_topic(ctx: ApiContext, p: Params) -> bool:
    chat = _forum(ctx, p)
    topic = _topic(chat, p)
    # An empty name keeps the current one; no icon_custom_emoji_id keeps the icon.
    name = _topic_name(p) if p.has("name") else None
    icon = p.raw.get("icon_custom_emoji_id")
    if name is None and icon is None:
        return True  # nothing asked: TDLib answers without asking Telegram
    changes: Json = {}
    if name is not None and name != topic.name:
        topic.name = changes["name"] = name
    if icon is not None and p.string("icon_custom_emoji_id") != (topic.icon_custom_emoji_id or ""):
        topic.icon_custom_emoji_id = changes["icon_custom_emoji_id"] = p.string(
            "icon_custom_emoji_id"
        )
    if not changes:
        raise bad_request("TOPIC_NOT_MODIFIED")
    ctx.service(chat, topic.thread_id, {"forum_topic_edited": changes})
    return True


async def _set_closed(ctx: ApiContext, p: Params, closed: bool) -> bool:
    chat = _forum(ctx, p)
    topic = _topic(chat, p)
    if topic.closed == closed:
        raise bad_request("TOPIC_NOT_MODIFIED")
    topic.closed = closed
    event = "forum_topic_closed" if closed else "forum_topic_reopened"
    ctx.service(chat, topic.thread_id, {event: {}})
    return True


@method("closeForumTopic")
async def close_forum_topic(ctx: ApiContext, p: Params) -> bool:
    return await _set_closed(ctx, p, closed=True)


@method("reopenForumTopic")
async def reopen_forum_topic(ctx: ApiContext, p: Params) -> bool:
    return await _set_closed(ctx, p, closed=False)


@method("deleteForumTopic")
async def delete_forum_topic(ctx: ApiContext, p: Params) -> bool:
    chat = _forum(ctx, p)
    topic = chat.topics.pop(_topic(chat, p).thread_id)
    ids = [i for i, m in chat.messages.items() if m.get("message_thread_id") == topic.thread_id]
    ctx.delete(chat, ids)
    return True


# --- commands ---------------------------------------------------------------------------


def _commands_key(p: Params) -> tuple[str, str]:
    scope = p.obj("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), p.string("language_code")


def _checked_commands(commands: Any) -> list[Json]:
    if not isinstance(commands, list) or not all(isinstance(c, dict) for c in commands):
        raise bad_request("can't parse commands JSON object")
    if len(commands) > 100:
        raise bad_request("BOT_COMMANDS_TOO_MUCH")
    for command in commands:
        if not COMMAND.fullmatch(str(command.get("command", ""))):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(str(command.get("description", ""))) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    return [{"command": c["command"], "description": c["description"]} for c in commands]


@method("setMyCommands")
async def set_my_commands(ctx: ApiContext, p: Params) -> bool:
    commands = _checked_commands(p.obj("commands") or [])
    key = _commands_key(p)
    if commands:
        ctx.commands[key] = commands
    else:
        ctx.commands.pop(key, None)
    return True


@method("getMyCommands")
async def get_my_commands(ctx: ApiContext, p: Params) -> list[Json]:
    return ctx.commands.get(_commands_key(p), [])


@method("deleteMyCommands")
async def delete_my_commands(ctx: ApiContext, p: Params) -> bool:
    ctx.commands.pop(_commands_key(p), None)
    return True


# --- chats and members ------------------------------------------------------------------

NO_GIFTS = {
    "unlimited_gifts": False,
    "limited_gifts": False,
    "unique_gifts": False,
    "premium_subscription": False,
    "gifts_from_channels": False,
}


@method("getChat")
async def get_chat(ctx: ApiContext, p: Params) -> Json:
    chat = ctx.world.chat(p.require("chat_id"))
    return {
        **chat.as_dict(),
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": NO_GIFTS,
    }


@method("getChatMember")
async def get_chat_member(ctx: ApiContext, p: Params) -> Json:
    chat = ctx.world.chat(p.require("chat_id"))
    user_id = p.integer("user_id")
    if user_id == ctx.bot_user["id"]:
        return member_object(ctx.bot_user, chat.bot_status)
    user = ctx.world.users.get(user_id)
    if user is None or (chat.type == "private" and user_id != chat.id):
        raise bad_request("user not found")
    status = "member" if chat.type == "private" else chat.members.get(user_id, "left")
    return member_object(user, status)


@method("leaveChat")
async def leave_chat(ctx: ApiContext, p: Params) -> bool:
    chat = ctx.target(p)
    if chat.type == "private":
        raise bad_request("chat member status can't be changed in private chats")
    old, chat.bot_status = chat.bot_status, "left"
    ctx.inject(ctx.chat_member_update(chat, ctx.bot_user, old, "left"))
    return True
