"""What Bot API methods share: the state they act on and Telegram's common checks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot.emulator.flood import FloodControl
from bot.emulator.formatting import render, utf16_len
from bot.emulator.updates import UpdateQueue, WebhookSender
from bot.emulator.wire import Params, bad_request, forbidden
from bot.emulator.world import Chat, Json, World

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64  # bytes

Handler = Callable[["ApiContext", Params], Awaitable[Any]]


def registrar(
    table: dict[str, tuple[str, Handler]],
) -> Callable[[str], Callable[[Handler], Handler]]:
    """A decorator that files handlers under their case-insensitive Bot API name."""

    def method(name: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            table[name.lower()] = (name, handler)
            return handler

        return register

    return method


class ApiContext:
    def __init__(
        self,
        world: World,
        updates: UpdateQueue,
        webhook: WebhookSender,
        inject: Callable[[Json], int],
        flood: FloodControl,
    ):
        self.world = world
        self.updates = updates
        self.webhook = webhook
        self.inject = inject
        self.flood = flood
        self.commands: dict[tuple[str, str], list[Json]] = {}

    @property
    def bot_user(self) -> Json:
        return self.world.bot_user

    def target(self, p: Params) -> Chat:
        """The chat to act in, refused the way Telegram refuses a bot that is not in it."""
        chat = self.world.chat(p.require("chat_id"))
        if chat.type == "private":
            if chat.deactivated:
                raise forbidden("user is deactivated")
            if chat.bot_status == "kicked":
                raise forbidden("bot was blocked by the user")
            if not chat.started:
                raise forbidden("bot can't initiate conversation with a user")
            return chat
        kind = "group chat" if chat.type == "group" else "supergroup chat"
        if chat.bot_status == "kicked":
            raise forbidden(f"bot was kicked from the {kind}")
        if chat.bot_status == "left":
            raise forbidden(f"bot is not a member of the {kind}")
        return chat

    def thread(self, chat: Chat, p: Params) -> int | None:
        thread_id = p.opt_integer("message_thread_id")
        if thread_id is None:
            return None
        topic = chat.topics.get(thread_id)
        if topic is None:
            raise bad_request("message thread not found")
        if topic.closed and chat.bot_status != "administrator":
            raise bad_request("TOPIC_CLOSED")
        return thread_id

    def reply_markup(self, p: Params) -> Json | None:
        markup = p.obj("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        rows = markup.get("inline_keyboard", markup.get("keyboard"))
        if rows is None:
            if markup.get("remove_keyboard") or markup.get("force_reply"):
                return markup
            raise bad_request("can't parse reply keyboard markup JSON object")
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request("can't parse reply keyboard markup JSON object")
        check = _check_inline_button if "inline_keyboard" in markup else _check_keyboard_button
        for button in (button for row in rows for button in row):
            check(button)
        return markup

    def text(self, p: Params, name: str = "text") -> Json:
        """Text content with its entities, after parse_mode, as Telegram stores it."""
        text, entities = render(p.string(name), p.opt_string("parse_mode"), p.obj("entities"))
        if not text:
            raise bad_request("message text is empty")
        if utf16_len(text) > MAX_TEXT:
            raise bad_request("message is too long")
        return {"text": text, "entities": entities} if entities else {"text": text}

    def caption(self, p: Params) -> Json:
        if not p.has("caption"):
            return {}
        caption, entities = render(
            p.string("caption"), p.opt_string("parse_mode"), p.obj("caption_entities")
        )
        if utf16_len(caption) > MAX_CAPTION:
            raise bad_request("message caption is too long")
        if not caption:
            return {}
        return (
            {"caption": caption, "caption_entities": entities} if entities else {"caption": caption}
        )

    def reply_to(self, chat: Chat, p: Params) -> int | None:
        replied = p.obj("reply_parameters")
        message_id = (
            replied.get("message_id")
            if isinstance(replied, dict)
            else p.opt_integer("reply_to_message_id")
        )
        if message_id is None or message_id in chat.messages:
            return message_id
        allow = replied.get("allow_sending_without_reply") if isinstance(replied, dict) else None
        if allow or p.flag("allow_sending_without_reply"):
            return None
        raise bad_request("message to be replied not found")

    def send(self, chat: Chat, p: Params, content: Json) -> Json:
        """Post a bot message built from content plus the common send parameters."""
        thread_id = self.thread(chat, p)
        markup = self.reply_markup(p)
        reply_to = self.reply_to(chat, p)
        if markup is not None and "inline_keyboard" in markup:
            content = {**content, "reply_markup": markup}
        if p.flag("protect_content"):
            content = {**content, "has_protected_content": True}
        self.flood.take(chat.id, private=chat.type == "private")
        message = self.world.post(
            chat, self.bot_user, content, thread_id=thread_id, reply_to=reply_to
        )
        if markup is not None and "keyboard" in markup:
            chat.reply_keyboard = markup
        elif markup is not None and markup.get("remove_keyboard"):
            chat.reply_keyboard = None
        self.world.emit(
            chat,
            "message",
            thread_id=thread_id,
            message=message,
            text=message.get("text", message.get("caption")),
            reply_markup=markup,
        )
        return message

    def service(self, chat: Chat, thread_id: int | None, content: Json) -> Json:
        """A service message the bot's action leaves in the chat (topic created, …)."""
        message = self.world.post(chat, self.bot_user, content, thread_id=thread_id)
        self.world.emit(chat, "service", thread_id=thread_id, message=message)
        return message

    def delete(self, chat: Chat, message_ids: list[int]) -> None:
        """Remove messages, telling each topic which of its messages went."""
        by_thread: dict[int | None, list[int]] = {}
        for message_id in message_ids:
            message = chat.messages.pop(message_id)
            by_thread.setdefault(message.get("message_thread_id"), []).append(message_id)
        for thread_id, ids in by_thread.items():
            self.world.emit(chat, "delete", thread_id=thread_id, message_ids=tuple(ids))

    def chat_member_update(self, chat: Chat, actor: Json, old: str, new: str) -> Json:
        return {
            "my_chat_member": {
                "chat": chat.as_dict(),
                "from": actor,
                "date": self.world.now(),
                "old_chat_member": member_object(self.bot_user, old),
                "new_chat_member": member_object(self.bot_user, new),
            }
        }


# What makes an inline button do something (one of them is required).
BUTTON_ACTIONS = frozenset(
    {
        "url",
        "callback_data",
        "web_app",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    }
)


# What a reply keyboard's button may carry (Bot API 10.1's KeyboardButton).
KEYBOARD_BUTTON_FIELDS = frozenset(
    {
        "text",
        "icon_custom_emoji_id",
        "style",
        "request_users",
        "request_chat",
        "request_managed_bot",
        "request_contact",
        "request_location",
        "request_poll",
        "web_app",
    }
)


def _button_text(button: Any, kind: str) -> None:
    if not isinstance(button, dict) or "text" not in button:
        raise bad_request(f"can't parse {kind} button: Can't find field \"text\"")
    if not isinstance(button["text"], str):
        raise bad_request(f'can\'t parse {kind} button: Field "text" must be of type String')
    if not button["text"]:
        raise bad_request("BUTTON_TEXT_INVALID")


def _check_keyboard_button(button: Any) -> None:
    if isinstance(button, str):  # Telegram takes a bare string as a text button
        button = {"text": button}
    _button_text(button, "keyboard")
    # Telegram ignores unknown fields; refusing them keeps a misspelt request_location from
    # silently becoming a plain text button.
    unknown = sorted(button.keys() - KEYBOARD_BUTTON_FIELDS)
    if unknown:
        raise bad_request(f"can't parse keyboard button: unknown field {unknown[0]!r}")


def _check_inline_button(button: Any) -> None:
    _button_text(button, "inline keyboard")
    if not BUTTON_ACTIONS & button.keys():
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    data = button.get("callback_data")
    if data is not None and not (
        isinstance(data, str) and 1 <= len(data.encode()) <= MAX_CALLBACK_DATA
    ):
        raise bad_request("BUTTON_DATA_INVALID")


# Rights of the bot when it is an administrator of a group.
ADMIN_RIGHTS = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": False,
    "can_restrict_members": False,
    "can_promote_members": False,
    "can_change_info": False,
    "can_invite_users": True,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
    "can_pin_messages": True,
    "can_manage_topics": True,
}


def member_object(user: Json, status: str) -> Json:
    """A ChatMember of the given status."""
    member: Json = {"status": status, "user": user}
    if status == "administrator":
        member.update(ADMIN_RIGHTS)
    elif status == "creator":
        member["is_anonymous"] = False
    elif status == "kicked":
        member["until_date"] = 0
    return member
