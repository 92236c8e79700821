"""Bot API methods that send, change and remove messages."""

from __future__ import annotations

from typing import Any

from bot.emulator.context import ApiContext, Handler, registrar
from bot.emulator.formatting import utf16_len
from bot.emulator.wire import Params, Upload, bad_request
from bot.emulator.world import Chat, Json, StoredFile, photo_sizes

METHODS: dict[str, tuple[str, Handler]] = {}
method = registrar(METHODS)

# What a copy or a forward carries over from the original message.
CONTENT_KEYS = (
    "text",
    "entities",
    "caption",
    "caption_entities",
    "photo",
    "document",
    "voice",
    "sticker",
    "audio",
    "video",
    "animation",
    "video_note",
    "location",
    "venue",
    "contact",
)
MEDIA_KEYS = frozenset({"photo", "document", "voice", "audio", "video", "animation"})
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
# Telegram's limits: bots delete messages up to 48 hours old; a button press must be answered
# within about 15 seconds, with at most 200 characters.
DELETE_WINDOW = 48 * 3600
ANSWER_WINDOW = 15.0
MAX_ANSWER_TEXT = 200
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


@method("sendMessage")
async def send_message(ctx: ApiContext, p: Params) -> Json:
    chat = ctx.target(p)
    return ctx.send(chat, p, ctx.text(p))


def _location(p: Params) -> Json:
    location: Json = {"latitude": p.require("latitude"), "longitude": p.require("longitude")}
    for name in ("horizontal_accuracy", "live_period", "heading", "proximity_alert_radius"):
        if p.has(name):
            location[name] = p.raw[name]
    return location


@method("sendLocation")
async def send_location(ctx: ApiContext, p: Params) -> Json:
    chat = ctx.target(p)
    return ctx.send(chat, p, {"location": _location(p)})


@method("sendVenue")
async def send_venue(ctx: ApiContext, p: Params) -> Json:
    chat = ctx.target(p)
    location = _location(p)
    venue: Json = {
        "location": location,
        "title": p.required_string("title"),
        "address": p.required_string("address"),
    }
    for name in ("foursquare_id", "foursquare_type", "google_place_id", "google_place_type"):
        if p.has(name):
            venue[name] = p.string(name)
    # Telegram fills both fields for a venue.
    return ctx.send(chat, p, {"venue": venue, "location": location})


@method("sendContact")
async def send_contact(ctx: ApiContext, p: Params) -> Json:
    chat = ctx.target(p)
    contact: Json = {
        "phone_number": p.required_string("phone_number"),
        "first_name": p.required_string("first_name"),
    }
    for name in ("last_name", "vcard"):
        if p.has(name):
            contact[name] = p.string(name)
    return ctx.send(chat, p, {"contact": contact})


def _file(ctx: ApiContext, p: Params, kind: str) -> StoredFile:
    """An uploaded file, or one Telegram already has by file_id and of the same kind."""
    value = p.require(kind)
    if isinstance(value, Upload):
        return ctx.world.store_file(kind, value.data, value.filename, value.mime_type)
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        # The emulator is offline: it cannot fetch what Telegram would.
        raise bad_request("failed to get HTTP URL content")
    stored = ctx.world.files.get(value) if isinstance(value, str) else None
    if stored is None:
        raise bad_request("wrong file identifier/HTTP URL specified")
    if stored.kind != kind:  # a voice note's id does not send a document, nor a photo's
        raise bad_request("type of file mismatch")
    return stored


@method("sendDocument")
async def send_document(ctx: ApiContext, p: Params) -> Json:
    chat = ctx.target(p)
    stored = _file(ctx, p, "document")
    return ctx.send(chat, p, {"document": stored.as_dict(), **ctx.caption(p)})


@method("sendPhoto")
async def send_photo(ctx: ApiContext, p: Params) -> Json:
    chat = ctx.target(p)
    stored = _file(ctx, p, "photo")
    return ctx.send(chat, p, {"photo": photo_sizes(stored), **ctx.caption(p)})


@method("sendVoice")
async def send_voice(ctx: ApiContext, p: Params) -> Json:
    chat = ctx.target(p)
    stored = _file(ctx, p, "voice")
    # A Voice has no file_name.
    voice = {k: v for k, v in stored.as_dict().items() if k != "file_name"}
    voice["duration"] = p.opt_integer("duration") or 0
    return ctx.send(chat, p, {"voice": voice, **ctx.caption(p)})


@method("sendChatAction")
async def send_chat_action(ctx: ApiContext, p: Params) -> bool:
    chat = ctx.target(p)
    ctx.thread(chat, p)
    if p.string("action") not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    return True


# --- edits ------------------------------------------------------------------------------


def _own_message(ctx: ApiContext, p: Params) -> tuple[Chat, Json]:
    if p.has("inline_message_id"):
        raise bad_request("MESSAGE_ID_INVALID")  # inline mode is not emulated
    chat = ctx.target(p)
    message = ctx.world.message(chat, p.integer("message_id"), "message to edit not found")
    if message["from"]["id"] != ctx.bot_user["id"]:
        raise bad_request("message can't be edited")
    return chat, message


def _edit(ctx: ApiContext, chat: Chat, old: Json, drop: tuple[str, ...], new_content: Json) -> Json:
    """Replace fields of a message; an edit without reply_markup removes the keyboard."""
    new = {k: v for k, v in old.items() if k not in (*drop, "reply_markup", "edit_date")}
    new.update(new_content)
    if new == {k: v for k, v in old.items() if k != "edit_date"}:
        raise bad_request(NOT_MODIFIED)
    new["edit_date"] = ctx.world.now()
    chat.messages[new["message_id"]] = new
    ctx.world.emit(
        chat,
        "edit",
        thread_id=new.get("message_thread_id"),
        message=new,
        text=new.get("text", new.get("caption")),
        reply_markup=new.get("reply_markup"),
    )
    return new


def _inline_markup(ctx: ApiContext, p: Params) -> Json:
    markup = ctx.reply_markup(p)
    return {"reply_markup": markup} if markup and "inline_keyboard" in markup else {}


@method("editMessageText")
async def edit_message_text(ctx: ApiContext, p: Params) -> Json:
    chat, message = _own_message(ctx, p)
    if "text" not in message:
        raise bad_request("there is no text in the message to edit")
    content = {**ctx.text(p), **_inline_markup(ctx, p)}
    return _edit(ctx, chat, message, ("text", "entities"), content)


@method("editMessageCaption")
async def edit_message_caption(ctx: ApiContext, p: Params) -> Json:
    chat, message = _own_message(ctx, p)
    if not MEDIA_KEYS & message.keys():
        raise bad_request("there is no caption in the message to edit")
    content = {**ctx.caption(p), **_inline_markup(ctx, p)}
    return _edit(ctx, chat, message, ("caption", "caption_entities"), content)


@method("editMessageReplyMarkup")
async def edit_message_reply_markup(ctx: ApiContext, p: Params) -> Json:
    chat, message = _own_message(ctx, p)
    return _edit(ctx, chat, message, (), _inline_markup(ctx, p))


@method("answerCallbackQuery")
async def answer_callback_query(ctx: ApiContext, p: Params) -> bool:
    query_id = p.string("callback_query_id")
    record = ctx.world.callback_queries.get(query_id)
    if record is None or record.answered or ctx.world.clock.now() - record.sent_at > ANSWER_WINDOW:
        raise bad_request(QUERY_TOO_OLD)
    if utf16_len(p.string("text")) > MAX_ANSWER_TEXT:
        raise bad_request("MESSAGE_TOO_LONG")
    record.answered = True
    ctx.world.emit(
        ctx.world.chats[record.chat_id],
        "answer",
        thread_id=record.thread_id,
        message_ids=(record.message_id,),
        text=p.opt_string("text"),
        show_alert=p.flag("show_alert"),
        callback_query_id=query_id,
    )
    return True


# --- deletion ---------------------------------------------------------------------------


def _check_deletable(ctx: ApiContext, chat: Chat, message: Json) -> None:
    """Bots delete messages up to 48 hours old: their own, and others' in private chats or as
    admins; never the service message that opened a topic. The texts are TDLib's: a private
    chat or a basic group deletes "for everyone" or not at all."""
    allowed = (
        message["from"]["id"] == ctx.bot_user["id"]
        or chat.type == "private"
        or chat.bot_status == "administrator"
    )
    too_old = ctx.world.clock.now() - message["date"] > DELETE_WINDOW
    if "forum_topic_created" in message or (chat.type == "supergroup" and (too_old or not allowed)):
        raise bad_request("message can't be deleted")
    if too_old or not allowed:
        raise bad_request("message can't be deleted for everyone")


@method("deleteMessage")
async def delete_message(ctx: ApiContext, p: Params) -> bool:
    chat = ctx.target(p)
    message = ctx.world.message(chat, p.integer("message_id"), "message to delete not found")
    _check_deletable(ctx, chat, message)
    ctx.delete(chat, [message["message_id"]])
    return True


def _message_ids(p: Params) -> list[int]:
    ids = p.obj("message_ids")
    if not ids:
        raise bad_request("message identifiers are not specified")
    if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
        raise bad_request("invalid message identifier specified")
    if len(ids) > 100:
        raise bad_request("too many message identifiers specified")
    return ids


@method("deleteMessages")
async def delete_messages(ctx: ApiContext, p: Params) -> bool:
    chat = ctx.target(p)
    ids = _message_ids(p)
    # Telegram skips messages it cannot find, but one it may not delete fails the whole batch
    # (telegram-bot-api's deleteMessages drops only missing ids; TDLib then refuses them all).
    found = [i for i in dict.fromkeys(ids) if i in chat.messages]
    for message_id in found:
        _check_deletable(ctx, chat, chat.messages[message_id])
    ctx.delete(chat, found)
    return True


# --- copies and forwards ----------------------------------------------------------------


def _source(ctx: ApiContext, p: Params, message_id: int, verb: str) -> Json | None:
    chat = ctx.world.chat(p.require("from_chat_id"))
    message = chat.messages.get(message_id)
    if message is None:
        return None
    content = {k: message[k] for k in CONTENT_KEYS if k in message}
    if not content or message.get("has_protected_content"):
        raise bad_request(f"message can't be {verb}")
    return message


def _copy(ctx: ApiContext, p: Params, chat: Chat, source: Json) -> int:
    content = {k: source[k] for k in CONTENT_KEYS if k in source}
    if MEDIA_KEYS & content.keys() and (p.has("caption") or p.flag("remove_caption")):
        content.pop("caption", None)
        content.pop("caption_entities", None)
        content.update(ctx.caption(p))
    return int(ctx.send(chat, p, content)["message_id"])


@method("copyMessage")
async def copy_message(ctx: ApiContext, p: Params) -> Json:
    source = _source(ctx, p, p.integer("message_id"), "copied")
    if source is None:
        raise bad_request("message to copy not found")
    return {"message_id": _copy(ctx, p, ctx.target(p), source)}


@method("copyMessages")
async def copy_messages(ctx: ApiContext, p: Params) -> list[Json]:
    chat = ctx.target(p)
    sources = [_source(ctx, p, i, "copied") for i in _message_ids(p)]
    return [{"message_id": _copy(ctx, p, chat, s)} for s in sources if s is not None]


def _origin(source: Json) -> Any:
    if "forward_origin" in source:
        return source["forward_origin"]
    return {"type": "user", "sender_user": source["from"], "date": source["date"]}


@method("forwardMessage")
async def forward_message(ctx: ApiContext, p: Params) -> Json:
    source = _source(ctx, p, p.integer("message_id"), "forwarded")
    if source is None:
        raise bad_request("message to forward not found")
    content = {k: source[k] for k in CONTENT_KEYS if k in source}
    content["forward_origin"] = _origin(source)
    return ctx.send(ctx.target(p), p, content)
