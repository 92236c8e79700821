"""The people the tests play: a user in a private chat, a group, a member of a group.

What they do becomes updates for the bot. What the bot does in their chat is read back with
per-reader cursors: next_message() hands out each bot message once and next_event() each
event once (two separate cursors), oldest first, waiting when there is none yet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.emulator.context import member_object
from bot.emulator.records import ChatEvent, EventKind, Reader
from bot.emulator.world import Chat, Json, Topic, photo_sizes

if TYPE_CHECKING:
    from bot.emulator.server import BotApiEmulator

MESSAGE_KINDS: frozenset[EventKind] = frozenset({"message"})
ALL_KINDS: frozenset[EventKind] = frozenset({"message", "edit", "delete", "answer", "service"})


def text_content(text: str, entities: list[Json] | None) -> Json:
    """A user's text; a leading /command gets its bot_command entity, as clients add it."""
    content: Json = {"text": text}
    if entities is None and text.startswith("/"):
        command = text.split(maxsplit=1)[0]
        entities = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    if entities:
        content["entities"] = entities
    return content


class _Reading:
    """Reads what the bot did in one chat, with this reader's own cursors."""

    def __init__(self, emu: BotApiEmulator, chat: Chat, name: str):
        self._emu = emu
        self.chat = chat
        self._name = name
        self._messages = Reader()
        self._events = Reader()

    @property
    def messages(self) -> list[Json]:
        """The chat's current messages from both sides, after edits and deletions."""
        return [self.chat.messages[i] for i in sorted(self.chat.messages)]

    async def next_message(self, timeout: float = 5.0, *, thread_id: int | None = None) -> Json:
        """The next message the bot sent here that this reader has not seen yet."""
        event = await self._next(self._messages, MESSAGE_KINDS, thread_id, timeout, "message")
        assert event.message is not None
        return event.message

    async def next_event(self, timeout: float = 5.0, *, thread_id: int | None = None) -> ChatEvent:
        """The next thing the bot did here (message, edit, delete, answer, service)."""
        return await self._next(self._events, ALL_KINDS, thread_id, timeout, "event")

    async def _next(
        self,
        reader: Reader,
        kinds: frozenset[EventKind],
        thread_id: int | None,
        timeout: float,
        what: str,
    ) -> ChatEvent:
        def match(event: ChatEvent) -> bool:
            return event.kind in kinds and (thread_id is None or event.thread_id == thread_id)

        event = await self._emu.notifier.wait_for(
            lambda: reader.take(self.chat.events, match), timeout
        )
        if event is None:
            where = f"chat {self.chat.id}" + (f" topic {thread_id}" if thread_id else "")
            raise TimeoutError(
                self._emu.explain(f"{self._name}: no new bot {what} in {where} within {timeout}s")
            )
        return event

    def _post(
        self,
        sender: Json,
        content: Json,
        *,
        thread_id: int | None = None,
        reply_to: int | None = None,
    ) -> Json:
        """Store what sender says here and give it to the bot if the bot can see it."""
        if thread_id is not None and thread_id not in self.chat.topics:
            raise LookupError(f"no topic {thread_id} in chat {self.chat.id}")
        if reply_to is not None and reply_to not in self.chat.messages:
            raise LookupError(f"no message {reply_to} to reply to in chat {self.chat.id}")
        message = self._emu.world.post(
            self.chat, sender, content, thread_id=thread_id, reply_to=reply_to
        )
        if self._bot_sees(message):
            self._emu.inject({"message": message})
        return message

    def _bot_sees(self, message: Json) -> bool:
        """Privacy mode: in groups a bot that is not an admin sees only what concerns it."""
        chat = self.chat
        if chat.type == "private" or chat.bot_status == "administrator":
            return chat.bot_status != "kicked"
        if chat.bot_status != "member":
            return False
        text = message.get("text", "")
        replied = message.get("reply_to_message", {}).get("from", {})
        return (
            text.startswith("/")
            or f"@{self._emu.username}" in text
            or replied.get("id") == self._emu.world.bot_user["id"]
        )

    def _press(self, sender: Json, message: Json | int, data: str, check: bool) -> str:
        message_id = message if isinstance(message, int) else message["message_id"]
        current = self.chat.messages.get(message_id)
        if current is None:
            raise LookupError(f"message {message_id} is not in chat {self.chat.id} any more")
        rows = current.get("reply_markup", {}).get("inline_keyboard", [])
        offered = [button.get("callback_data") for row in rows for button in row]
        if check and data not in offered:
            raise LookupError(
                f"message {message_id} has no button with callback_data {data!r}; it has {offered}"
            )
        query_id = self._emu.world.new_callback_query(self.chat, current)
        query = {
            "id": query_id,
            "from": sender,
            "chat_instance": str(abs(self.chat.id) * 7 + 1_000_003),
            "message": current,
            "data": data,
        }
        self._emu.inject({"callback_query": query})
        return query_id

    def _membership(self, actor: Json, status: str) -> int:
        old, self.chat.bot_status = self.chat.bot_status, status
        update = {
            "my_chat_member": {
                "chat": self.chat.as_dict(),
                "from": actor,
                "date": self._emu.world.now(),
                "old_chat_member": member_object(self._emu.world.bot_user, old),
                "new_chat_member": member_object(self._emu.world.bot_user, status),
            }
        }
        return self._emu.inject(update)


class FakeUser(_Reading):
    """A person and their private chat with the bot (chat id == user id)."""

    def __init__(self, emu: BotApiEmulator, user: Json, chat: Chat):
        super().__init__(emu, chat, user["first_name"])
        self.user = user

    @property
    def id(self) -> int:
        return int(self.user["id"])

    @property
    def reply_keyboard(self) -> list[list[str]] | None:
        """Labels of the custom keyboard the bot currently shows this user."""
        if self.chat.reply_keyboard is None:
            return None
        return [
            [b if isinstance(b, str) else b["text"] for b in row]
            for row in self.chat.reply_keyboard["keyboard"]
        ]

    def _say(self, content: Json, reply_to: int | None = None) -> Json:
        if self.chat.deactivated:
            raise RuntimeError(f"{self.user['first_name']}'s account is deactivated")
        if self.chat.bot_status == "kicked":
            raise RuntimeError(f"{self.user['first_name']} blocked the bot; unblock() first")
        self.chat.started = True  # writing to the bot opens the chat, as pressing Start does
        return self._post(self.user, content, reply_to=reply_to)

    async def send(
        self, text: str, *, entities: list[Json] | None = None, reply_to: int | None = None
    ) -> Json:
        return self._say(text_content(text, entities), reply_to)

    async def edit(self, message_id: int, text: str) -> Json:
        """Edit one of this user's messages; the bot gets an edited_message update."""
        old = self.chat.messages.get(message_id)
        if old is None or old["from"]["id"] != self.id:
            raise LookupError(f"{self.user['first_name']} has no message {message_id} to edit")
        new = {k: v for k, v in old.items() if k not in ("text", "entities")}
        new.update(text_content(text, None), edit_date=self._emu.world.now())
        self.chat.messages[message_id] = new
        self._emu.inject({"edited_message": new})
        return new

    async def press(self, message: Json | int, data: str, *, check: bool = True) -> str:
        """Press an inline button; check=False sends data no button carries (a forged client).

        Returns the callback query id.
        """
        return self._press(self.user, message, data, check)

    async def send_location(self, latitude: float, longitude: float) -> Json:
        return self._say({"location": {"latitude": latitude, "longitude": longitude}})

    async def send_contact(self, phone_number: str, first_name: str, *, own: bool = True) -> Json:
        """Share a contact; own=True is the user's own one (as a request_contact button does)."""
        contact: Json = {"phone_number": phone_number, "first_name": first_name}
        if own:
            contact["user_id"] = self.id
        return self._say({"contact": contact})

    async def send_sticker(self, emoji: str = "👍") -> Json:
        stored = self._emu.world.store_file("sticker", b"RIFF-webp", "sticker.webp", "image/webp")
        sticker = {
            **stored.as_dict(),
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "type": "regular",
            "emoji": emoji,
        }
        for key in ("file_name", "mime_type"):
            sticker.pop(key, None)
        return self._say({"sticker": sticker})

    async def send_voice(
        self, duration: int = 3, data: bytes = b"OggS-voice", mime_type: str = "audio/ogg"
    ) -> Json:
        stored = self._emu.world.store_file("voice", data, None, mime_type)
        return self._say({"voice": {**stored.as_dict(), "duration": duration}})

    async def send_photo(self, caption: str | None = None) -> Json:
        stored = self._emu.world.store_file("photo", b"\xff\xd8jpeg", None, "image/jpeg")
        content: Json = {"photo": photo_sizes(stored)}
        if caption:
            content["caption"] = caption
        return self._say(content)

    async def send_document(
        self,
        file_name: str,
        data: bytes = b"%PDF-1.4 emulator",
        *,
        mime_type: str | None = None,
        caption: str | None = None,
    ) -> Json:
        stored = self._emu.world.store_file("document", data, file_name, mime_type)
        content: Json = {"document": stored.as_dict()}
        if caption:
            content["caption"] = caption
        return self._say(content)

    async def block(self) -> int:
        """Block the bot: its sends here now fail with 403; returns the update_id."""
        return self._membership(self.user, "kicked")

    async def unblock(self) -> int:
        return self._membership(self.user, "member")

    async def my_chat_member(self, status: str) -> int:
        """Set the bot's status in this private chat ("member" or "kicked")."""
        return self._membership(self.user, status)

    def deactivate(self) -> None:
        """Delete the account: the bot's sends here now fail with 403, and no update says so."""
        self.chat.deactivated = True


class FakeGroup(_Reading):
    """A group, or a forum supergroup whose topics the bot creates."""

    def __init__(self, emu: BotApiEmulator, chat: Chat):
        super().__init__(emu, chat, chat.title or str(chat.id))
        self._members: dict[int, FakeMember] = {}

    @property
    def id(self) -> int:
        return self.chat.id

    @property
    def topics(self) -> dict[int, Topic]:
        return self.chat.topics

    def topic_messages(self, thread_id: int) -> list[Json]:
        return [m for m in self.messages if m.get("message_thread_id") == thread_id]

    def member(self, user: FakeUser, *, status: str = "member") -> FakeMember:
        """Let user speak here; the same FakeMember comes back for the same user."""
        self.chat.members[user.id] = status
        if user.id not in self._members:
            self._members[user.id] = FakeMember(self._emu, self, user)
        return self._members[user.id]

    async def my_chat_member(self, status: str, *, by: FakeUser) -> int:
        """Someone changes the bot's membership ("member", "administrator", "left", "kicked")."""
        return self._membership(by.user, status)


class FakeMember(_Reading):
    """A user speaking in a group, with cursors of their own."""

    def __init__(self, emu: BotApiEmulator, group: FakeGroup, user: FakeUser):
        name = f"{user.user['first_name']} in {group.chat.title}"
        super().__init__(emu, group.chat, name)
        self.group = group
        self.user = user

    async def send(
        self,
        text: str,
        *,
        thread_id: int | None = None,
        entities: list[Json] | None = None,
        reply_to: int | None = None,
    ) -> Json:
        content = text_content(text, entities)
        return self._post(self.user.user, content, thread_id=thread_id, reply_to=reply_to)

    async def press(self, message: Json | int, data: str, *, check: bool = True) -> str:
        return self._press(self.user.user, message, data, check)
