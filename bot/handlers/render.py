"""Screens in, Telegram messages out."""

from __future__ import annotations

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest

from bot.flows.screens import Screen
from bot.i18n import Translator


def markup(screen: Screen, translator: Translator) -> InlineKeyboardMarkup | None:
    if not screen.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(translator.render(b.label), callback_data=b.data) for b in row]
            for row in screen.buttons
        ]
    )


def text(screen: Screen, translator: Translator) -> str:
    return "\n\n".join(translator.render(msg) for msg in screen.body)


async def show(
    bot: Bot,
    chat_id: int,
    screen: Screen,
    translator: Translator,
    *,
    replace_message_id: int | None = None,
) -> None:
    """Send the screen, or edit the message whose button was pressed when the screen allows.

    Messages are protected from forwarding and saving: the chat may be on a shared phone.
    """
    body, keyboard = text(screen, translator), markup(screen, translator)
    if screen.edit and replace_message_id is not None:
        try:
            await bot.edit_message_text(
                body, chat_id=chat_id, message_id=replace_message_id, reply_markup=keyboard
            )
            return
        except BadRequest as exc:
            if "not modified" in exc.message:
                return
            # Too old to edit, or deleted: say it in a new message instead.
    await bot.send_message(chat_id, body, reply_markup=keyboard, protect_content=True)
