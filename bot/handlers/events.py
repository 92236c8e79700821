"""Updates reduced to what the core reads: the flow event (what a flow may see, and nothing
personal), whose conversation it is, and what else of her message the private chat needs."""

from __future__ import annotations

import time
from collections.abc import Callable

from telegram import Bot, CallbackQuery, Chat, Message, Update

from bot.conversation import StorageKey
from bot.flows.base import Event
from bot.private_chat import Incoming, Shares, Tool

# Long enough for any command, word, code or place name; the rest of a long text is never read.
MAX_MATCH_TEXT = 200
# A message is replaced in place only while it is young. An edit keeps the message's date, and
# Telegram lets a bot delete a message only 48 hours after that date: what an edit puts into an
# older message would stay in her chat, out of her quick exit's reach, sooner. Older than this,
# the answer comes as a new message, deletable for 48 hours like any other.
EDIT_WITHIN_SECONDS = 3600.0
wall_clock: Callable[[], float] = time.time  # Telegram's dates are Unix time; tests move it


def split_command(text: str | None) -> tuple[str, str]:
    """The command of a text, lowercased, without its slash or @bot, and the rest of the line;
    ("", "") when the text is not a command. As in Telegram's own command entities, the word
    must follow the slash: a slash before a blank (a no-break space too) is plain text."""
    if not text or not text.startswith("/"):
        return "", ""
    head, *rest = text[:MAX_MATCH_TEXT].split(maxsplit=1)
    command = head[1:].split("@", 1)[0].lower()
    if not command:
        return "", ""
    return command, rest[0].strip() if rest else ""


def event_of(update: Update) -> Event:
    """A button press, a new message's command, text or location; anything else (an edit, a
    sticker, a voice note...) is "other", which every flow answers kindly."""
    user = update.effective_user
    hint = user.language_code if user else None
    if update.callback_query is not None:
        data = update.callback_query.data or ""
        return Event("button", update.update_id, name=data, language_hint=hint)
    message = update.message
    if message is not None and message.text is not None:
        command, _ = split_command(message.text)
        if command:
            return Event("command", update.update_id, name=command, language_hint=hint)
        text = message.text[:MAX_MATCH_TEXT]
        return Event("text", update.update_id, text=text, language_hint=hint)
    if message is not None and message.location is not None:
        where = (message.location.latitude, message.location.longitude)
        return Event("location", update.update_id, location=where, language_hint=hint)
    if message is not None and message.voice is not None:
        duration = message.voice.duration
        seconds = duration if isinstance(duration, int) else int(duration.total_seconds())
        voice = (message.voice.file_id, seconds)
        return Event("other", update.update_id, language_hint=hint, voice=voice)
    return Event("other", update.update_id, language_hint=hint)


def private_key(update: Update, bot: Bot) -> StorageKey | None:
    """Whose conversation a private chat's update belongs to; None outside private chats."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None or chat.type != Chat.PRIVATE:
        return None
    return telegram_key(bot, chat.id, user.id)


def telegram_key(bot: Bot, chat_id: int, user_id: int) -> StorageKey:
    return StorageKey(bot_id=str(bot.id), chat_id=str(chat_id), user_id=str(user_id))


def pressed(query: CallbackQuery) -> int | None:
    """The message whose button was pressed, to be replaced by the answer; None when it is too
    old to edit safely (`EDIT_WITHIN_SECONDS`) or out of reach (its date is then 0)."""
    message = query.message
    if message is None or wall_clock() - message.date.timestamp() > EDIT_WITHIN_SECONDS:
        return None
    return message.message_id


def incoming_of(
    update: Update, *, member: int | None = None, tools: frozenset[Tool] = frozenset()
) -> Incoming:
    query, message = update.callback_query, update.message
    if query is not None:
        return Incoming(pressed=pressed(query), member=member, tools=tools)
    if message is None:
        return Incoming()  # an edit
    phone = None
    if message.contact is not None:
        # As a number is dialled: "+223 (70) 12-34-56" is +22370123456.
        number = message.contact.phone_number
        digits = "".join(c for c in number if c.isascii() and c.isdecimal())
        phone = f"{'+' if number.lstrip().startswith('+') else ''}{digits}"
    # A member's whole text (a translation may be long); flows read only its start.
    text = message.text if member is not None else None
    return Incoming(
        message.message_id, shares=_shares(message), phone=phone, member=member, tools=tools,
        text=text,
    )  # fmt: skip


def _shares(message: Message) -> Shares | None:
    """What staff would see, for what must not reach them without her yes; None for the rest
    (text, voice, photos: Telegram strips a photo's metadata)."""
    if message.venue is not None:
        return "place"
    if message.location is not None:
        return "location"
    if message.contact is not None:
        return "contact"
    if message.document is not None and message.animation is None:
        return "file"
    return None
