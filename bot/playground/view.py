"""What each phone of a world shows, as JSON for the page: the chat as Telegram draws it now
(after edits and deletions), with a faint note where the bot deleted a message.
"""

from __future__ import annotations

from typing import Any

from bot.emulator.world import Chat
from bot.playground.world import PHONES, World

Json = dict[str, Any]


def world_view(world: World) -> Json:
    return {name: phone_view(world, name) for name in PHONES}


def phone_view(world: World, name: str) -> Json:
    world.note_deletions()
    chat = world.chat(name)
    shown = [_message(m) for m in chat.messages.values() if not _service(m)]
    shown += [
        {"id": i, "deleted": True, "thread_id": None}
        for i in world.deleted.get(chat.id, ())
        if i not in chat.messages
    ]
    shown.sort(key=lambda m: m["id"])
    view: Json = {"messages": shown, "keyboard": _keyboard(chat), "notice": _notice(chat)}
    if chat.is_forum:
        view["topics"] = [
            {"thread_id": t.thread_id, "name": t.name, "closed": t.closed}
            for t in chat.topics.values()
        ]
    return view


def _service(message: Json) -> bool:
    return any(key.startswith("forum_topic_") for key in message)


def _message(message: Json) -> Json:
    sender = message.get("from", {})
    shown: Json = {
        "id": message["message_id"],
        "mine": not sender.get("is_bot", False),
        "thread_id": message.get("message_thread_id"),
        "text": message.get("text") or message.get("caption") or "",
        "edited": "edit_date" in message,
        "protected": bool(message.get("has_protected_content")),
    }
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    if rows:
        shown["buttons"] = [
            [{"text": b["text"], "data": b.get("callback_data", "")} for b in row] for row in rows
        ]
    if "contact" in message:
        card = message["contact"]
        shown["contact"] = {"name": card.get("first_name", ""), "phone": card["phone_number"]}
    if "venue" in message:
        venue = message["venue"]
        shown["venue"] = {
            "title": venue.get("title", ""),
            "address": venue.get("address", ""),
            **_where(venue["location"]),
        }
    elif "location" in message:
        shown["location"] = _where(message["location"])
    for kind in ("document", "voice"):
        if kind in message:
            media = message[kind]
            shown[kind] = {
                "file_id": media["file_id"],
                "name": media.get("file_name", kind),
                "duration": media.get("duration"),
            }
    for kind in ("photo", "sticker"):
        if kind in message:
            shown[kind] = True
    return shown


def _where(location: Json) -> Json:
    return {"latitude": location["latitude"], "longitude": location["longitude"]}


def _keyboard(chat: Chat) -> list[list[Json]] | None:
    """The reply keyboard the person sees now, with which buttons ask for a location."""
    if chat.reply_keyboard is None:
        return None
    return [
        [
            {"text": b, "location": False}
            if isinstance(b, str)
            else {"text": b["text"], "location": bool(b.get("request_location"))}
            for b in row
        ]
        for row in chat.reply_keyboard["keyboard"]
    ]


def _notice(chat: Chat) -> Json | None:
    """The latest answer to a button press that says something (Telegram shows it briefly)."""
    for event in reversed(chat.events):
        if event.kind == "answer" and event.text:
            return {"seq": event.seq, "text": event.text, "alert": event.show_alert}
    return None
