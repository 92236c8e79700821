"""Private chats: every update becomes a flow event, and every event gets an answer."""

from __future__ import annotations

import asyncio
import logging
import re

from telegram import CallbackQuery, Chat, Message, ReplyKeyboardRemove, Update
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import Application, CallbackQueryHandler, MessageHandler, filters

from bot.conversation import StorageKey
from bot.exits import CalledOff
from bot.flows.base import Event
from bot.flows.screens import Button, Handover, Msg, Output, Screen, t
from bot.flows.survivor import EXIT, wants_quick_exit
from bot.handlers.events import event_of
from bot.handlers.render import show
from bot.hotline.outbox import END as END_CASE
from bot.i18n import supported_language
from bot.languages import DEFAULT
from bot.services import Services
from bot.telegram.context import SERVICES, JigiyaContext
from state.cases import Case

log = logging.getLogger(__name__)

_DELETE_BATCH = 100  # deleteMessages takes at most 100 ids
# How long her quick exit waits for answers already on their way to land (each is deleted as it
# lands), so that her chat is clean when it says goodbye.
ON_ITS_WAY_GRACE = 1.5

GOODBYE = t("Have a good day.")
SLOW_DOWN = t("Many messages arrived at once: some were not read. Please wait a moment.")

# During a hotline case, what could reveal where she is or who she is goes to staff only once
# she has said yes to words that say what staff will see.
SHARE_LOCATION = t("Staff will see exactly where you are. Send it?")
SHARE_PLACE = t("Staff will see this place on a map. Send it?")
SHARE_CONTACT = t("Staff will see this phone number. Send it?")
SHARE_FILE = t("Staff will see this file and its name. Send it?")
SEND_IT = t("✅ Yes, send it")
KEEP_IT = t("✖️ No, do not send")
SHARED = t("Sent to the hotline staff.")
NOT_SHARED = t("Not sent: staff did not receive it.")
NOT_A_NUMBER = t("This is not a phone number staff could call: it was not sent.")
CASE_BUTTONS = ((Button(END_CASE, "case:end"),), (EXIT,))
_SHARE = re.compile(r"^share:(?:(\d{1,12})|c:(\+?\d{3,16})|no)$")


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
    if any(isinstance(o, Handover) for o in result.outputs):
        opened = await services.hotline.open(person_key, chat.id, language or DEFAULT)
        if opened.refused is not None:
            refused = Screen(body=(opened.refused,), edit=False)
            outputs = [refused, services.survivor.menu_screen()]
    pressed = query.message.message_id if query and query.message else None
    shown: list[int] = []
    try:
        await show(context.bot, chat.id, outputs, translator, shown, replace_message_id=pressed)
    finally:
        # What reached her chat is remembered for the quick exit, even if the rest failed.
        await services.runner.remember_sent(key, shown)


async def _in_case(
    update: Update, context: JigiyaContext, key: StorageKey, case: Case, event: Event
) -> None:
    """While her case is open, the bot's own menus stay quiet: her messages go to staff."""
    services = context.services
    if event.kind == "button":
        if event.name == "case:end":
            await services.hotline.close(case, "ended_by_person")
        elif (share := _SHARE.match(event.name)) is not None:
            await _share(update, context, key, case, share)
        return  # other buttons, from older messages, do nothing while a person is answering
    message = update.message
    if message is None:
        return  # an edit: the staff already have the message as it was sent
    await services.runner.remember_sent(key, [message.message_id])
    question = _asks_consent(message)
    if question is None:
        await services.hotline.relay_in(case, update.update_id, message.message_id)
        return
    if message.contact is not None:
        # As a number is dialled: "+223 (70) 12-34-56" is +22370123456.
        number = message.contact.phone_number
        digits = "".join(c for c in number if c.isascii() and c.isdecimal())
        data = f"share:c:{'+' if number.lstrip().startswith('+') else ''}{digits}"
    else:
        data = f"share:{message.message_id}"
    if _SHARE.match(data) is None:
        # Nothing staff could call: she is told, and nothing goes.
        await _show(context, key, [Screen(body=(NOT_A_NUMBER,), buttons=CASE_BUTTONS, edit=False)])
        return
    screen = Screen(
        body=(question,),
        buttons=((Button(SEND_IT, data),), (Button(KEEP_IT, "share:no"),), (EXIT,)),
        edit=False,
    )
    await _show(context, key, [screen])


def _asks_consent(message: Message) -> Msg | None:
    """What staff would see, for what must not reach them without her yes; None for the rest
    (text, voice, photos: Telegram strips a photo's metadata)."""
    if message.venue is not None:
        return SHARE_PLACE
    if message.location is not None:
        return SHARE_LOCATION
    if message.contact is not None:
        return SHARE_CONTACT
    if message.document is not None and message.animation is None:
        return SHARE_FILE
    return None


async def _share(
    update: Update, context: JigiyaContext, key: StorageKey, case: Case, share: re.Match[str]
) -> None:
    """Her answer to "Send it?": the message she named, or the number, goes to staff."""
    hotline = context.services.hotline
    message_id, phone = share.group(1), share.group(2)
    if message_id is not None:
        await hotline.relay_in(case, update.update_id, int(message_id))
    elif phone is not None:
        await hotline.relay_contact(case, update.update_id, phone)
    done = SHARED if message_id or phone else NOT_SHARED
    query = update.callback_query
    pressed = query.message.message_id if query and query.message else None
    await _show(context, key, [Screen(body=(done,), buttons=CASE_BUTTONS)],
                replace_message_id=pressed)  # fmt: skip


async def _show(
    context: JigiyaContext,
    key: StorageKey,
    outputs: list[Output],
    *,
    replace_message_id: int | None = None,
) -> None:
    """Show outputs in her language; what reaches her chat is remembered for the quick exit."""
    runner = context.services.runner
    translator = context.services.catalogs.translator(await runner.language(key))
    shown: list[int] = []
    try:
        await show(context.bot, key.chat_id, outputs, translator, shown,
                   replace_message_id=replace_message_id)  # fmt: skip
    finally:
        await runner.remember_sent(key, shown)


async def remember_unread(
    application: Application,  # type: ignore[type-arg]
    chat_id: int,
    user_id: int,
    message_ids: list[int],
) -> None:
    """Her messages the bot will never answer (dropped in a flood, called off by her quick
    exit): still in her chat, so remembered for the quick exit like every other."""
    services: Services = application.bot_data[SERVICES]
    key = StorageKey(bot_id=application.bot.id, chat_id=chat_id, user_id=user_id)
    # Made for her if need be (a first contact that is a burst): always before her exit runs.
    await services.runner.remember_sent(key, message_ids, ensure=True)


async def flood_note(application: Application, update: Update) -> None:  # type: ignore[type-arg]
    """Once per burst, to a private chat whose messages were dropped (bot/telegram/intake.py)."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return
    services: Services = application.bot_data[SERVICES]
    key = StorageKey(bot_id=application.bot.id, chat_id=chat.id, user_id=user.id)
    translator = services.catalogs.translator(await services.runner.language(key))
    try:
        sent = await application.bot.send_message(
            chat.id, translator.render(SLOW_DOWN), protect_content=True
        )
    except (TelegramError, CalledOff) as exc:
        log.info("The note to slow down was not sent (%s)", type(exc).__name__)
        return
    await services.runner.remember_sent(key, [sent.message_id])


async def quick_exit(update: Update, context: JigiyaContext, key: StorageKey) -> None:
    """Delete every message of the chat the bot can, forget the person, say one harmless line.

    Run again after a crash, it does the same: deleting is repeated, forgetting is idempotent.
    """
    runner, bot = context.services.runner, context.bot
    # Answers already on their way land first, each deleted as it lands (bot/exits.py).
    await context.services.exits.settle(key.chat_id, ON_ITS_WAY_GRACE)
    translator = context.services.catalogs.translator(
        supported_language(
            [await runner.language(key), update.effective_user.language_code
             if update.effective_user else None]
        )
    )  # fmt: skip
    exits = context.services.exits
    ids = set(await runner.deletable_messages(key))
    if update.effective_message is not None:
        ids.add(update.effective_message.message_id)
    if (previous := exits.last_goodbye(key.chat_id)) is not None:
        ids.add(previous)  # a second exit (a double tap): her chat still ends with one line
    ordered = sorted(ids)
    undeleted: list[int] = []
    for start in range(0, len(ordered), _DELETE_BATCH):
        batch = ordered[start : start + _DELETE_BATCH]
        try:
            # A 5xx or a 429 is retried by the rate limiter (bot/telegram/ratelimit.py).
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
    exits.said_goodbye(key.chat_id, goodbye.message_id)
    if undeleted:
        # The chat is not clean yet: the next quick exit also takes this line away.
        await runner.remember_sent(key, [goodbye.message_id])


def register(application: Application) -> None:  # type: ignore[type-arg]
    # Messages of every kind, edited ones included, and button presses.
    application.add_handler(MessageHandler(filters.ChatType.PRIVATE, on_private_update))
    application.add_handler(CallbackQueryHandler(on_private_update))
