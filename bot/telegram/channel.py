"""Telegram as a channel: flow outputs become Bot API calls, the one place they are rendered.

Every message to a person is protected from forwarding and saving (the chat may be on a shared
phone), except what is meant to be passed on: an officer's document, an invitation code.

Messages, edits, contact cards and map pins go as the Bot API's own JSON through
python-telegram-bot's request path (`Bot._post`: its rate limiter, and in it the quick exit's
gate, and its errors), and their answers are read as JSON: building PTB's objects for a keyboard
and reading each answer into a `Message`, of which only the id is read, cost more of the bot's
CPU than the rest of a call (bench/README.md, "Less CPU per call").
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from telegram import Bot, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.flows.screens import Contact, Document, Output, Picture, Pin, Screen, Voice, t
from bot.i18n import Translator
from bot.pdf import pdf_document

log = logging.getLogger(__name__)

LOCATION_HINT = t("📍 To share your location, tap the button below.")
LOCATION_BUTTON = t("📍 Share my location")
DELETE_BATCH = 100  # deleteMessages takes at most 100 ids
REMOVE_KEYBOARD = {"remove_keyboard": True}

Json = dict[str, Any]


def inline_keyboard(screen: Screen, translator: Translator) -> Json | None:
    """The screen's buttons as the Bot API's InlineKeyboardMarkup."""
    if not screen.buttons:
        return None
    return {
        "inline_keyboard": [
            [{"text": translator.render(b.label), "callback_data": b.data} for b in row]
            for row in screen.buttons
        ]
    }


def inline_markup(screen: Screen, translator: Translator) -> InlineKeyboardMarkup | None:
    """The same as python-telegram-bot's object, for callers that send through its methods."""
    keyboard = inline_keyboard(screen, translator)
    return None if keyboard is None else InlineKeyboardMarkup.de_json(keyboard, None)


def text_of(screen: Screen, translator: Translator) -> str:
    return "\n\n".join(translator.render(part) for part in screen.body)


def location_keyboard(translator: Translator) -> Json:
    return {
        "keyboard": [[{"text": translator.render(LOCATION_BUTTON), "request_location": True}]],
        "one_time_keyboard": True,
        "resize_keyboard": True,
    }


class TelegramChannel:
    name = "telegram"

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def _call(self, endpoint: str, **params: object) -> Any:
        """One Bot API call, parameters and answer as Telegram's JSON (None leaves a parameter
        out), through python-telegram-bot's request path: see the module's docstring."""
        return await self.bot._post(endpoint, params)

    async def show(
        self,
        chat: str,
        outputs: Sequence[Output],
        translator: Translator,
        shown: list[int],
        *,
        replace: int | None = None,
    ) -> None:
        chat_id = int(chat)
        lone = len([o for o in outputs if not isinstance(o, Document | Voice)]) == 1
        for output in outputs:
            if isinstance(output, Contact):
                sent = await self._call(
                    "sendContact", chat_id=chat_id, phone_number=output.phone,
                    first_name=translator.render(output.name), protect_content=True,
                )  # fmt: skip
                shown.append(sent["message_id"])
            elif isinstance(output, Pin):
                sent = await self._call(
                    "sendVenue", chat_id=chat_id, latitude=output.latitude,
                    longitude=output.longitude, title=translator.render(output.title),
                    address=translator.render(output.address), protect_content=True,
                )  # fmt: skip
                shown.append(sent["message_id"])
            elif isinstance(output, Voice):
                # By the file id Telegram holds: no audio passes through or stays on our disk.
                sent = await self.bot.send_voice(
                    chat_id,
                    voice=output.file_id,
                    duration=output.duration,
                    protect_content=True,
                )
                shown.append(sent.message_id)
            elif isinstance(output, Picture):
                # Not protected: anonymous figures an administrator passes on to partners.
                sent = await self.bot.send_photo(
                    chat_id, photo=output.png, caption=translator.render(output.caption)
                )
                shown.append(sent.message_id)
            elif isinstance(output, Document):
                lines = [translator.render(line) for line in output.body]
                # A PDF takes a moment to make: off the event loop, which serves everyone.
                pdf = await asyncio.to_thread(pdf_document, lines)
                # Not protected: officers print it or attach it to the case file, and it holds
                # nothing about the survivor.
                sent = await self.bot.send_document(
                    chat_id, document=pdf, filename=output.filename,
                    caption=translator.render(output.caption),
                )  # fmt: skip
                shown.append(sent.message_id)
            elif isinstance(output, Screen):
                # Only a new message takes a location keyboard away.
                edited = lone and output.edit and not output.drop_location_button
                if not (
                    edited
                    and replace is not None
                    and await self._edit(chat_id, replace, output, translator)
                ):
                    await self._send(chat_id, output, translator, shown)
                if output.ask_location:
                    # Only a reply keyboard asks for a location, and only a new message has one.
                    sent = await self._call(
                        "sendMessage", chat_id=chat_id, text=translator.render(LOCATION_HINT),
                        reply_markup=location_keyboard(translator), protect_content=True,
                    )  # fmt: skip
                    shown.append(sent["message_id"])

    async def _send(
        self, chat_id: int, screen: Screen, translator: Translator, shown: list[int]
    ) -> None:
        """A new message. One that takes the location keyboard away cannot carry inline buttons
        too (a message has one keyboard): it gets them at once by an edit, still one message."""
        inline = inline_keyboard(screen, translator)
        markup = REMOVE_KEYBOARD if screen.drop_location_button else inline
        sent = await self._call(
            "sendMessage", chat_id=chat_id, text=text_of(screen, translator),
            reply_markup=markup, protect_content=not screen.shareable,
            disable_notification=True if screen.silent else None,
        )  # fmt: skip
        shown.append(sent["message_id"])
        if screen.drop_location_button and inline is not None:
            await self._call(
                "editMessageReplyMarkup", chat_id=chat_id, message_id=sent["message_id"],
                reply_markup=inline,
            )  # fmt: skip

    async def _edit(
        self, chat_id: int, message_id: int | None, screen: Screen, translator: Translator
    ) -> bool:
        """Replace a message in place; False when Telegram refuses (too old, deleted)."""
        try:
            await self._call(
                "editMessageText", chat_id=chat_id, message_id=message_id,
                text=text_of(screen, translator), reply_markup=inline_keyboard(screen, translator),
            )  # fmt: skip
        except BadRequest as exc:
            return "not modified" in exc.message
        return True

    async def delete(self, chat: str, message_ids: Sequence[int]) -> list[int]:
        ordered = sorted(message_ids)
        undeleted: list[int] = []
        for start in range(0, len(ordered), DELETE_BATCH):
            batch = ordered[start : start + DELETE_BATCH]
            try:
                # A 5xx or a 429 is retried by the rate limiter (bot/telegram/ratelimit.py).
                await self.bot.delete_messages(int(chat), batch)
            except BadRequest:
                # One message Telegram may not delete (over 48 hours old) fails the whole
                # batch: the others go one by one.
                undeleted.extend(await self._one_by_one(int(chat), batch))
            except Forbidden:
                pass  # she blocked the bot: nothing can be deleted, nothing to retry
            except TelegramError as exc:
                log.warning("A batch of deletions failed (%s)", type(exc).__name__)
                undeleted.extend(batch)
        return undeleted

    async def _one_by_one(self, chat_id: int, message_ids: list[int]) -> list[int]:
        undeleted: list[int] = []
        for message_id in message_ids:
            try:
                await self.bot.delete_message(chat_id, message_id)
            except (BadRequest, Forbidden):
                pass  # too old, already gone, or she blocked the bot
            except TelegramError:
                undeleted.append(message_id)
        return undeleted

    async def relay(
        self,
        to_chat: str,
        from_chat: str,
        message_id: int,
        *,
        thread: int | None = None,
        silent: bool = False,
    ) -> int:
        """`silent`: without a notification sound (a staff reply may reach her out of the app)."""
        copied = await self.bot.copy_message(
            int(to_chat), int(from_chat), message_id, message_thread_id=thread,
            # To her chat, protected like every other message; to staff, as she sent it.
            protect_content=True if thread is None else None,
            disable_notification=True if silent else None,
        )  # fmt: skip
        return copied.message_id
