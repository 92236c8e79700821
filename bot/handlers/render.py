"""Flow outputs in, Telegram messages out. Every message to a person is protected from
forwarding and saving: the chat may be on a shared phone."""

from __future__ import annotations

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.error import BadRequest

from bot.flows.screens import Contact, Output, Pin, Screen, t
from bot.i18n import Translator

LOCATION_HINT = t("📍 To share your location, tap the button below.")
LOCATION_BUTTON = t("📍 Share my location")


def inline_markup(screen: Screen, translator: Translator) -> InlineKeyboardMarkup | None:
    if not screen.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(translator.render(b.label), callback_data=b.data) for b in row]
            for row in screen.buttons
        ]
    )


def text_of(screen: Screen, translator: Translator) -> str:
    return "\n\n".join(translator.render(part) for part in screen.body)


def location_keyboard(translator: Translator) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        [[KeyboardButton(translator.render(LOCATION_BUTTON), request_location=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


async def show(
    bot: Bot,
    chat_id: int,
    outputs: list[Output],
    translator: Translator,
    shown: list[int],
    *,
    replace_message_id: int | None = None,
) -> None:
    """Show the outputs in order; the id of each new message is added to `shown` as soon as it
    is sent, so the caller knows what reached the chat even when a later output fails.

    A lone screen answering a button replaces the message of that button when it allows.
    Instructions such as `Handover` are the caller's to act on and show nothing here.
    """
    lone = len(outputs) == 1
    for output in outputs:
        if isinstance(output, Contact):
            sent = await bot.send_contact(
                chat_id, phone_number=output.phone, first_name=translator.render(output.name),
                protect_content=True,
            )  # fmt: skip
            shown.append(sent.message_id)
        elif isinstance(output, Pin):
            sent = await bot.send_venue(
                chat_id, latitude=output.latitude, longitude=output.longitude,
                title=translator.render(output.title), address=translator.render(output.address),
                protect_content=True,
            )  # fmt: skip
            shown.append(sent.message_id)
        elif isinstance(output, Screen):
            edited = lone and output.edit and replace_message_id is not None
            if not (edited and await _edit(bot, chat_id, replace_message_id, output, translator)):
                shown.append((await _send(bot, chat_id, output, translator)).message_id)
            if output.ask_location:
                # Only a reply keyboard can ask for a location, and only a new message carries one.
                sent = await bot.send_message(
                    chat_id, translator.render(LOCATION_HINT),
                    reply_markup=location_keyboard(translator), protect_content=True,
                )  # fmt: skip
                shown.append(sent.message_id)


async def _send(bot: Bot, chat_id: int, screen: Screen, translator: Translator) -> Message:
    markup: InlineKeyboardMarkup | ReplyKeyboardRemove | None = inline_markup(screen, translator)
    if markup is None and screen.drop_location_button:
        markup = ReplyKeyboardRemove()
    return await bot.send_message(
        chat_id, text_of(screen, translator), reply_markup=markup, protect_content=True
    )


async def _edit(
    bot: Bot, chat_id: int, message_id: int | None, screen: Screen, translator: Translator
) -> bool:
    """Replace a message in place; False when Telegram refuses (too old, deleted)."""
    try:
        await bot.edit_message_text(
            text_of(screen, translator),
            chat_id=chat_id,
            message_id=message_id,
            reply_markup=inline_markup(screen, translator),
        )
    except BadRequest as exc:
        return "not modified" in exc.message
    return True
