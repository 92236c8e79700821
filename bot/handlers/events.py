"""Updates reduced to flow events: what a flow may see, and nothing personal."""

from __future__ import annotations

from telegram import Update

from bot.flows.base import Event

# Long enough for any command, word, code or place name; the rest of a long text is never read.
MAX_MATCH_TEXT = 200


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
    return Event("other", update.update_id, language_hint=hint)
