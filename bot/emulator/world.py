"""Telegram's side of the conversation: chats, topics, messages, files, callback queries."""

from __future__ import annotations

import itertools
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

from bot.emulator.clock import Clock
from bot.emulator.records import ChatEvent, EventKind, Notifier
from bot.emulator.wire import bad_request

Json = dict[str, Any]

# Telegram's default topic icon color (the Bot API lists six allowed colors).
DEFAULT_ICON_COLOR = 0x6FB9F0


@dataclass
class Topic:
    thread_id: int
    name: str
    icon_color: int = DEFAULT_ICON_COLOR
    icon_custom_emoji_id: str | None = None
    closed: bool = False

    def as_dict(self) -> Json:
        topic: Json = {
            "message_thread_id": self.thread_id,
            "name": self.name,
            "icon_color": self.icon_color,
        }
        if self.icon_custom_emoji_id:
            topic["icon_custom_emoji_id"] = self.icon_custom_emoji_id
        return topic


@dataclass
class Chat:
    """A chat as Telegram stores it; message ids count per chat, both senders together."""

    id: int
    type: str  # "private" | "group" | "supergroup"
    events: deque[ChatEvent]
    title: str | None = None
    person: Json | None = None  # the user of a private chat
    is_forum: bool = False
    bot_status: str = "member"  # "administrator" | "member" | "left" | "kicked"
    # Private chats: whether the user ever started the bot, and whether their account is gone.
    started: bool = True
    deactivated: bool = False
    members: dict[int, str] = field(default_factory=dict)  # user id -> status
    messages: dict[int, Json] = field(default_factory=dict)
    topics: dict[int, Topic] = field(default_factory=dict)
    reply_keyboard: Json | None = None  # the custom keyboard the user currently sees
    last_message_id: int = 0

    def as_dict(self) -> Json:
        chat: Json = {"id": self.id, "type": self.type}
        if self.person is not None:
            for key in ("first_name", "last_name", "username"):
                if key in self.person:
                    chat[key] = self.person[key]
        else:
            chat["title"] = self.title
        if self.is_forum:
            chat["is_forum"] = True
        return chat

    def next_message_id(self) -> int:
        self.last_message_id += 1
        return self.last_message_id


@dataclass(frozen=True)
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: str  # "document" | "photo" | "voice" | "sticker"
    file_name: str | None
    mime_type: str | None
    data: bytes

    @property
    def file_path(self) -> str:
        return f"{self.kind}s/{self.file_unique_id}_{self.file_name or self.kind}"

    def as_dict(self) -> Json:
        described: Json = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
        }
        if self.file_name:
            described["file_name"] = self.file_name
        if self.mime_type:
            described["mime_type"] = self.mime_type
        return described


@dataclass
class CallbackQueryRecord:
    chat_id: int
    message_id: int
    thread_id: int | None
    sent_at: float  # the clock's time when the user pressed
    answered: bool = False


class World:
    """All Telegram-side state; methods here keep it consistent, callers validate input."""

    def __init__(self, bot_user: Json, notifier: Notifier, history_limit: int, clock: Clock):
        self.bot_user = bot_user
        self.clock = clock
        self.chats: dict[int, Chat] = {}
        self.users: dict[int, Json] = {}
        self.files: dict[str, StoredFile] = {}
        self.callback_queries: OrderedDict[str, CallbackQueryRecord] = OrderedDict()
        self._notifier = notifier
        self._history_limit = history_limit
        self._event_seq = itertools.count(1)
        self._file_seq = itertools.count(1)
        self._query_seq = itertools.count(1)

    # --- chats ------------------------------------------------------------------------

    def add_chat(self, chat_id: int, chat_type: str, **attrs: Any) -> Chat:
        chat = Chat(chat_id, chat_type, deque(maxlen=self._history_limit), **attrs)
        self.chats[chat_id] = chat
        return chat

    def chat(self, chat_id: Any) -> Chat:
        chat = self.chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise bad_request("chat not found")
        return chat

    # --- messages ---------------------------------------------------------------------

    def now(self) -> int:
        """The time as Telegram dates messages and updates."""
        return int(self.clock.now())

    def post(
        self,
        chat: Chat,
        sender: Json,
        content: Json,
        *,
        thread_id: int | None = None,
        reply_to: int | None = None,
    ) -> Json:
        """Store a new message in chat and return it."""
        message: Json = {
            "message_id": chat.next_message_id(),
            "from": sender,
            "date": self.now(),
            "chat": chat.as_dict(),
        }
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
        if reply_to is not None:
            replied = dict(chat.messages[reply_to])
            replied.pop("reply_to_message", None)
            message["reply_to_message"] = replied
        message.update(content)
        chat.messages[message["message_id"]] = message
        return message

    def message(self, chat: Chat, message_id: int, missing: str) -> Json:
        message = chat.messages.get(message_id)
        if message is None:
            raise bad_request(missing)
        return message

    def emit(self, chat: Chat, kind: EventKind, **fields: Any) -> ChatEvent:
        event = ChatEvent(seq=next(self._event_seq), kind=kind, chat_id=chat.id, **fields)
        chat.events.append(event)
        self._notifier.notify()
        return event

    # --- files ------------------------------------------------------------------------

    def store_file(
        self, kind: str, data: bytes, file_name: str | None, mime_type: str | None
    ) -> StoredFile:
        number = next(self._file_seq)
        stored = StoredFile(
            file_id=f"emu-{kind}-{number:06d}",
            file_unique_id=f"U{number:06d}",
            kind=kind,
            file_name=file_name,
            mime_type=mime_type,
            data=data,
        )
        self.files[stored.file_id] = stored
        return stored

    # --- callback queries -------------------------------------------------------------

    def new_callback_query(self, chat: Chat, message: Json) -> str:
        query_id = str(4_200_000_000_000_000 + next(self._query_seq))
        self.callback_queries[query_id] = CallbackQueryRecord(
            chat.id, message["message_id"], message.get("message_thread_id"), self.clock.now()
        )
        while len(self.callback_queries) > self._history_limit:
            self.callback_queries.popitem(last=False)
        return query_id


def photo_sizes(stored: StoredFile) -> list[Json]:
    """The PhotoSize list of a photo; the emulator keeps one size."""
    return [
        {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "width": 800,
            "height": 600,
            "file_size": len(stored.data),
        }
    ]
