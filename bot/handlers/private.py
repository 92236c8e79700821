"""Private chats: every update becomes a flow event, and every event gets an answer."""

from __future__ import annotations

import asyncio
import logging

from telegram import CallbackQuery, Chat, ReplyKeyboardRemove, Update
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import Application, CallbackQueryHandler, MessageHandler, filters

from bot.context import JigiyaContext, Services
from bot.conversation import StepResult, StorageKey
from bot.flows.base import Event, FlowModel
from bot.flows.screens import Handover, Output, Screen, t
from bot.flows.survivor import MENU, wants_quick_exit
from bot.handlers.events import event_of
from bot.handlers.render import show
from bot.i18n import supported_language
from state.cases import Case

log = logging.getLogger(__name__)

_DELETE_BATCH = 100  # deleteMessages takes at most 100 ids

GOODBYE = t("Have a good day.")


async def stop_spinner(query: CallbackQuery, text: str | None = None) -> None:
    """Answer a button press, whatever it turns out to mean. Telegram may refuse (a press
    answered late, after an outage or a restart): the press still gets its screen."""
    try:
        await query.answer(text)
    except TelegramError as exc:
        log.info("A button press could not be acknowledged (%s)", type(exc).__name__)


async def on_private_update(update: Update, context: JigiyaContext) -> None:
    query = update.callback_query
    if query is None:
        await _answer(update, context)
    else:
        # The press's answer and its screen go out side by side: one round trip less to wait.
        await asyncio.gather(stop_spinner(query), _answer(update, context))


async def _answer(update: Update, context: JigiyaContext) -> None:
    chat, user, query = update.effective_chat, update.effective_user, update.callback_query
    if chat is None or user is None or chat.type != Chat.PRIVATE:
        return
    edited = update.edited_message
    if edited is not None and edited.location is not None:
        return  # a live location moving: the first location was answered already
    services = context.services
    key = StorageKey(bot_id=context.bot.id, chat_id=chat.id, user_id=user.id)
    event = event_of(update)
    case = None
    person_key = services.runner.person_key(key.bot_id, user.id)
    if services.hotline.configured:
        case = await services.hotline.open_case_of(person_key)
    if wants_quick_exit(event):
        if case is not None:
            await services.hotline.close(case, "person_left")
        if services.hotline.configured:
            # Also what still waits from a case already closed (its closing note, a last reply).
            await services.hotline.person_left(person_key)
        await quick_exit(update, context, key)
        return
    if case is not None:
        await _in_case(update, context, key, case, event)
        return
    incoming = update.message.message_id if update.message else None
    result = await services.runner.step(services.survivor, key, event, message_id=incoming)
    language = supported_language([result.language, user.language_code])
    translator = services.catalogs.translator(language)
    outputs: list[Output] = [o for o in result.outputs if not isinstance(o, Handover)]
    if len(outputs) < len(result.outputs):
        opened = await services.hotline.open(person_key, chat.id, language or "fr")
        if opened.refused is not None:
            outputs = [Screen(body=(opened.refused,), edit=False), _menu(services, result)]
    pressed = query.message.message_id if query and query.message else None
    shown: list[int] = []
    try:
        await show(context.bot, chat.id, outputs, translator, shown, replace_message_id=pressed)
    finally:
        # What reached her chat is remembered for the quick exit, even if the rest failed.
        await services.runner.remember_sent(key, shown)


def _menu(services: Services, result: StepResult) -> Screen:
    """The menu screen, for when a handover could not start."""
    model = FlowModel({}, result.language)
    model.state = MENU
    return services.survivor.screen(model)


async def _in_case(
    update: Update, context: JigiyaContext, key: StorageKey, case: Case, event: Event
) -> None:
    """While her case is open, the bot's own menus stay quiet: her messages go to staff."""
    services = context.services
    if event.kind == "button":
        if event.name == "case:end":
            await services.hotline.close(case, "ended_by_person")
        return  # other buttons, from older messages, do nothing while a person is answering
    message = update.message
    if message is None:
        return  # an edit: the staff already have the message as it was sent
    await services.runner.remember_sent(key, [message.message_id])
    await services.hotline.relay_in(case, update.update_id, message.message_id)


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
    undeleted: list[int] = []
    for start in range(0, len(ordered), _DELETE_BATCH):
        batch = ordered[start : start + _DELETE_BATCH]
        try:
            # A 5xx or a 429 is retried by the rate limiter (bot/ratelimit.py).
            await bot.delete_messages(key.chat_id, batch)
        except (BadRequest, Forbidden):
            pass  # too old to delete, already gone, or she blocked the bot: nothing to retry
        except TelegramError as exc:
            log.warning("Quick exit: a batch of deletions failed (%s)", type(exc).__name__)
            undeleted.extend(batch)
    await runner.forget(key, undeleted=undeleted)
    goodbye = await bot.send_message(
        key.chat_id,
        translator.render(GOODBYE),
        reply_markup=ReplyKeyboardRemove(),
        protect_content=True,
    )
    if undeleted:
        # The chat is not clean yet: the next quick exit also takes this line away.
        await runner.remember_sent(key, [goodbye.message_id])


def register(application: Application) -> None:  # type: ignore[type-arg]
    # Messages of every kind, edited ones included, and button presses.
    application.add_handler(MessageHandler(filters.ChatType.PRIVATE, on_private_update))
    application.add_handler(CallbackQueryHandler(on_private_update))
