"""Private chats: every update becomes a flow event, and every event gets a screen back."""

from __future__ import annotations

from telegram import Chat, Update
from telegram.ext import Application, CallbackQueryHandler, MessageHandler, filters

from bot.context import JigiyaContext
from bot.conversation import StorageKey
from bot.flows.base import Event
from bot.flows.start import StartFlow
from bot.handlers.render import show
from bot.i18n import supported_language

START_FLOW = StartFlow()

# Long enough for any command or menu word; longer text cannot be either, and is not kept anyway.
_MAX_MATCH_TEXT = 200


def _event(update: Update) -> Event:
    """Reduce an update to what a flow may see. Nothing personal goes into the event."""
    user = update.effective_user
    hint = user.language_code if user else None
    if update.callback_query is not None:
        return Event("button", update.update_id, name=update.callback_query.data or "",
                     language_hint=hint)  # fmt: skip
    message = update.message
    if message is not None and message.text is not None:
        text = message.text[:_MAX_MATCH_TEXT]
        if text.startswith("/"):
            command = text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower() if text[1:] else ""
            return Event("command", update.update_id, name=command, language_hint=hint)
        return Event("text", update.update_id, text=text, language_hint=hint)
    if message is not None and message.location is not None:
        return Event("location", update.update_id, language_hint=hint)
    return Event("other", update.update_id, language_hint=hint)


async def on_private_update(update: Update, context: JigiyaContext) -> None:
    chat, user, query = update.effective_chat, update.effective_user, update.callback_query
    if query is not None:
        # Stop the spinner first, whatever the button turns out to mean.
        await query.answer()
    if chat is None or user is None or chat.type != Chat.PRIVATE:
        return
    services = context.services
    key = StorageKey(bot_id=context.bot.id, chat_id=chat.id, user_id=user.id)
    result = await services.runner.step(START_FLOW, key, _event(update))
    language = supported_language([result.language, user.language_code])
    await show(
        context.bot,
        chat.id,
        result.screen,
        services.catalogs.translator(language),
        replace_message_id=query.message.message_id if query and query.message else None,
    )


def register(application: Application) -> None:  # type: ignore[type-arg]
    # Messages of every kind, edited ones included, and button presses.
    application.add_handler(MessageHandler(filters.ChatType.PRIVATE, on_private_update))
    application.add_handler(CallbackQueryHandler(on_private_update))
