"""What of an update is kept while it waits to be handled: only what handling reads.

Every update is stored (sealed) before Telegram is told it arrived, and handled from that form,
so the same fields are read whether it is handled at once or after a restart. Nothing else of
it reaches the disk: no names, usernames or full language tags, no contact vCards or user ids,
no file ids, no echo of the bot's own message under a button, no replies or forwards quoted. The
one file id kept is a translator's or administrator's own voice note in their private chat: the
recording they propose (bot/flows/translator.py), never anyone else's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.handlers.events import split_command
from state.officers import normalise_code

Json = dict[str, Any]

# Updates that carry a message, reduced alike; other kinds keep only their chat-member changes.
_MESSAGE_KINDS = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_message",
    "edited_business_message",
)
_MEMBER_KINDS = ("my_chat_member", "chat_member")

# Media are kept as their kind only (handling tells a photo from a document; the content is
# relayed by message id, never by file): the fields python-telegram-bot requires, emptied.
_NO_FILE = {"file_id": "", "file_unique_id": ""}
_MEDIA: dict[str, Json] = {
    "document": _NO_FILE,
    "voice": {**_NO_FILE, "duration": 0},
    "audio": {**_NO_FILE, "duration": 0},
    "video": {**_NO_FILE, "width": 0, "height": 0, "duration": 0},
    "video_note": {**_NO_FILE, "length": 0, "duration": 0},
    "animation": {**_NO_FILE, "width": 0, "height": 0, "duration": 0},
    "sticker": {
        **_NO_FILE, "width": 0, "height": 0, "is_animated": False, "is_video": False,
        "type": "regular",
    },
}  # fmt: skip
_PHOTO = [{**_NO_FILE, "width": 0, "height": 0}]


Recorder = Callable[[int], bool]  # whether this sender's voice notes are recordings to keep


def minimal(update: Json, recorder: Recorder | None = None) -> Json:
    """The update with only what handling needs."""
    kept: Json = {"update_id": update["update_id"]}
    for kind in _MESSAGE_KINDS:
        if isinstance(update.get(kind), dict):
            kept[kind] = _message(update[kind], recorder)
    if isinstance(update.get("callback_query"), dict):
        kept["callback_query"] = _callback_query(update["callback_query"])
    for kind in _MEMBER_KINDS:
        if isinstance(update.get(kind), dict):
            kept[kind] = _member_change(update[kind])
    return kept


def _private(chat: Json) -> bool:
    return chat.get("type") == "private"


def _user(user: Json, *, keep_name: bool = False) -> Json:
    """Id, bot flag, the app's language without its region; a name only where it serves: a
    staff member's first name, shown on the case card she claims, and an invited officer's,
    told to the administrator who invited them."""
    kept: Json = {"id": user["id"], "is_bot": bool(user.get("is_bot")), "first_name": ""}
    if keep_name:
        kept["first_name"] = user.get("first_name", "")
        if isinstance(user.get("last_name"), str):
            kept["last_name"] = user["last_name"]
    if isinstance(user.get("language_code"), str):
        kept["language_code"] = user["language_code"].split("-", 1)[0]  # "fr-FR": "fr"
    return kept


def _chat(chat: Json) -> Json:
    return {k: chat[k] for k in ("id", "type", "is_forum") if k in chat}


def _entities(entities: object) -> list[Json]:
    """Where commands are, never what a mention or a link points to."""
    if not isinstance(entities, list):
        return []
    return [
        {"type": e["type"], "offset": e["offset"], "length": e["length"]}
        for e in entities
        if isinstance(e, dict) and {"type", "offset", "length"} <= e.keys()
    ]


def _location(location: Json) -> Json:
    return {"latitude": location["latitude"], "longitude": location["longitude"]}


def _message(message: Json, recorder: Recorder | None = None) -> Json:
    chat = message["chat"]
    private = _private(chat)
    kept: Json = {"message_id": message["message_id"], "date": message["date"], "chat": _chat(chat)}
    for key in ("message_thread_id", "is_topic_message"):
        if key in message:
            kept[key] = message[key]
    if isinstance(message.get("from"), dict):
        # A name is kept only from someone redeeming an invitation (`/start CODE`): the
        # administrator who invited them is told who used it. Staff names come from their taps.
        kept["from"] = _user(message["from"], keep_name=_redeems(message))
    if isinstance(message.get("text"), str):
        kept["text"] = message["text"]
        kept["entities"] = _entities(message.get("entities"))
    if isinstance(message.get("media_group_id"), str) and not private:
        # A staff album captioned /note is held whole: only its first item carries the caption.
        kept["media_group_id"] = message["media_group_id"]
    if isinstance(message.get("caption"), str) and not private:
        # Staff captions are read for commands (a captioned /note stays internal); hers never.
        kept["caption"] = message["caption"]
        kept["caption_entities"] = _entities(message.get("caption_entities"))
    if isinstance(message.get("location"), dict):
        kept["location"] = _location(message["location"])
    if isinstance(message.get("venue"), dict):
        venue = message["venue"]
        kept["venue"] = {"location": _location(venue["location"]), "title": "", "address": ""}
    if isinstance(message.get("contact"), dict) and private:
        # The number she may choose to pass to staff; never its name, vCard or Telegram user.
        kept["contact"] = {"phone_number": message["contact"]["phone_number"], "first_name": ""}
    for kind, empty in _MEDIA.items():
        if kind in message:
            kept[kind] = dict(empty)
    if "photo" in message:
        kept["photo"] = [dict(size) for size in _PHOTO]
    voice, author = message.get("voice"), kept.get("from", {}).get("id")
    if private and isinstance(voice, dict) and recorder is not None and recorder(int(author or 0)):
        kept["voice"] = {"file_id": str(voice.get("file_id", "")),
                         "file_unique_id": str(voice.get("file_unique_id", "")),
                         "duration": int(voice.get("duration", 0))}  # fmt: skip
    return {k: v for k, v in kept.items() if v != []}


def _redeems(message: Json) -> bool:
    """`/start CODE` or `/officer CODE` with a well-formed invitation code."""
    text = message.get("text")
    if not isinstance(text, str) or not _private(message["chat"]):
        return False
    command, rest = split_command(text)
    return command in ("start", "officer") and normalise_code(rest) is not None


def _callback_query(query: Json) -> Json:
    kept: Json = {
        "id": query["id"],
        "chat_instance": query.get("chat_instance", ""),
    }
    message = query.get("message")
    in_group = isinstance(message, dict) and not _private(message.get("chat", {}))
    kept["from"] = _user(query["from"], keep_name=in_group)
    if isinstance(query.get("data"), str):
        kept["data"] = query["data"]
    if isinstance(query.get("inline_message_id"), str):
        kept["inline_message_id"] = query["inline_message_id"]
    if isinstance(message, dict):
        # The message under the button: where it is, never what it says.
        echoed: Json = {
            "message_id": message["message_id"],
            "date": message.get("date", 0),
            "chat": _chat(message["chat"]),
        }
        for key in ("message_thread_id", "is_topic_message"):
            if key in message:
                echoed[key] = message[key]
        kept["message"] = echoed
    return kept


def _member_change(change: Json) -> Json:
    """A membership change (the bot added to a group, or blocked by a person): statuses only."""
    kept = {k: v for k, v in change.items() if k not in ("from", "chat", "invite_link")}
    kept["chat"] = _chat(change["chat"])
    kept["from"] = _user(change["from"])
    for key in ("old_chat_member", "new_chat_member"):
        if isinstance(change.get(key), dict):
            kept[key] = {**change[key], "user": _user(change[key]["user"])}
    return kept


def private_chat(kept: Json) -> int | None:
    """The private chat a minimal update comes from, or None (a group, or no chat)."""
    for kind in _MESSAGE_KINDS:
        if kind in kept:
            chat = kept[kind]["chat"]
            return int(chat["id"]) if _private(chat) else None
    message = kept.get("callback_query", {}).get("message")
    if isinstance(message, dict) and _private(message["chat"]):
        return int(message["chat"]["id"])
    return None


def sender(kept: Json) -> int | None:
    """Who sent a minimal update's message or pressed its button."""
    for kind in (*_MESSAGE_KINDS, "callback_query"):
        if isinstance(kept.get(kind, {}).get("from"), dict):
            return int(kept[kind]["from"]["id"])
    return None


def chat_key(kept: Json) -> int | None:
    """The chat whose turn a minimal update waits for: its chat, or for a button under no
    message its sender (python-telegram-bot's effective chat, else effective user)."""
    for kind in (*_MESSAGE_KINDS, *_MEMBER_KINDS):
        if kind in kept:
            return int(kept[kind]["chat"]["id"])
    query = kept.get("callback_query")
    if query is None:
        return None
    message = query.get("message")
    return int(message["chat"]["id"] if isinstance(message, dict) else query["from"]["id"])
