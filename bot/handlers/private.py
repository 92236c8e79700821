"""Private chats: every update becomes a flow event, and every event gets an answer."""

from __future__ import annotations

import logging

from telegram import Chat, ReplyKeyboardRemove, Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, MessageHandler, filters

from bot.context import JigiyaContext
from bot.conversation import StorageKey
from bot.flows.base import Event
from bot.flows.screens import t
from bot.flows.survivor import wants_quick_exit
from bot.handlers.render import show
from bot.i18n import supported_language

log = logging.getLogger(__name__)

# Long enough for any command, word or place name; the rest of a long text is never looked at.
_MAX_MATCH_TEXT = 200
_DELETE_BATCH = 100  # deleteMessages takes at most 100 ids

GOODBYE = t("Have a good day.")


def _event(update: Update) -> Event:
    """Reduce an update to what a flow may see. Nothing personal goes into the event."""
    user = update.effective_user
    hint = user.language_code if user else None
    if update.callback_query is not None:
        data = update.callback_query.data or ""
        return Event("button", update.update_id, name=data, language_hint=hint)
    message = update.message  # a new message; edits are "other"
    if message is not None and message.text is not None:
        text = message.text[:_MAX_MATCH_TEXT]
        if text.startswith("/") and len(text) > 1:
            command = text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower()
            return Event("command", update.update_id, name=command, language_hint=hint)
        return Event("text", update.update_id, text=text, language_hint=hint)
    if message is not None and message.location is not None:
        where = (message.location.latitude, message.location.longitude)
        return Event("location", update.update_id, location=where, language_hint=hint)
    return Event("other", update.update_id, language_hint=hint)


async def on_private_update(update: Update, context: JigiyaContext) -> None:
    chat, user, query = update.effective_chat, update.effective_user, update.callback_query
    if query is not None:
        # Stop the spinner first, whatever the button turns out to mean.
        await query.answer()
    if chat is None or user is None or chat.type != Chat.PRIVATE:
        return
    edited = update.edited_message
    if edited is not None and edited.location is not None:
        return  # a live location moving: the first location was answered already
    services = context.services
    key = StorageKey(bot_id=context.bot.id, chat_id=chat.id, user_id=user.id)
    event = _event(update)
    if wants_quick_exit(event):
        await quick_exit(update, context, key)
        return
    incoming = update.message.message_id if update.message else None
    result = await services.runner.step(services.survivor, key, event, message_id=incoming)
    translator = services.catalogs.translator(
        supported_language([result.language, user.language_code])
    )
    pressed = query.message.message_id if query and query.message else None
    sent = await show(context.bot, chat.id, result.outputs, translator, replace_message_id=pressed)
    await services.runner.remember_sent(key, sent)


async def quick_exit(update: Update, context: JigiyaContext, key: StorageKey) -> None:
    """Delete every message of the chat the bot can, forget the person, say one harmless line.

    Run again after a crash, it does the same: deleting is repeated, forgetting is idempotent.
    """
    runner, bot = context.services.runner, context.bot
    translator = context.services.catalogs.translator(
        supported_language(
            [await runner.language(key), update.effective_user.language_code
             if update.effective_user else None]
        )
    )  # fmt: skip
    ids = set(await runner.deletable_messages(key))
    if update.effective_message is not None:
        ids.add(update.effective_message.message_id)
    ordered = sorted(ids)
    for start in range(0, len(ordered), _DELETE_BATCH):
        try:
            await bot.delete_messages(key.chat_id, ordered[start : start + _DELETE_BATCH])
        except TelegramError as exc:
            log.warning("Quick exit: a batch of deletions failed (%s)", type(exc).__name__)
    await runner.forget(key)
    await bot.send_message(
        key.chat_id,
        translator.render(GOODBYE),
        reply_markup=ReplyKeyboardRemove(),
        protect_content=True,
    )


def register(application: Application) -> None:  # type: ignore[type-arg]
    # Messages of every kind, edited ones included, and button presses.
    application.add_handler(MessageHandler(filters.ChatType.PRIVATE, on_private_update))
    application.add_handler(CallbackQueryHandler(on_private_update))
