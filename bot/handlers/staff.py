"""The staff side of the hotline: case topics in the staff forum group.

Only the staff groups count; there, only messages in a case topic and the case buttons do
anything. Everything else in the group is ignored without a word.
"""

from __future__ import annotations

import logging
import re

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, MessageHandler, filters

from bot.context import JigiyaContext
from bot.flows.screens import t
from bot.hotline.service import Hotline
from state.cases import Case

log = logging.getLogger(__name__)

CLAIM_FIRST = t("Press ✋ Claim on the case card first, so that two people never answer at once.")
TAKEN = t("This case is taken by another member: your message was not sent to the person.")
CLAIMED = t("You have claimed this case. Your messages in this topic now reach the person.")
ALREADY_TAKEN = t("Someone else has already claimed this case.")
NOT_YOURS = t("Only the member who claimed this case can do that.")
BLOCKED = t("The person cannot open new cases for %(days)s days.")

_BUTTON = re.compile(r"^case:(claim|release|close):(\d{1,12})$")
_BLOCK = re.compile(r"^/block(?:@\w+)?(?:\s+(\d{1,3}))?\s*$")


def _may_act(case: Case, staff_id: int) -> bool:
    return case.claimed_by in (None, staff_id)


async def on_staff_message(update: Update, context: JigiyaContext) -> None:
    message, user = update.message, update.effective_user
    if message is None or user is None or user.is_bot or message.message_thread_id is None:
        return
    services = context.services
    hotline: Hotline = services.hotline
    case = await hotline.case_in_topic(message.chat_id, message.message_thread_id)
    if case is None or not case.is_open:
        return
    translator = services.catalogs.translator("fr")
    text = message.text or ""
    if text.startswith("/note"):
        return  # an internal note stays in the topic
    if text.startswith("/close"):
        if _may_act(case, user.id):
            await hotline.close(case, "closed_by_staff")
        else:
            await message.reply_text(translator.render(NOT_YOURS))
        return
    if (match := _BLOCK.match(text)) is not None:
        days = int(match.group(1) or 7)
        await hotline.block(case, days)
        await message.reply_text(translator.render(t(BLOCKED.msgid, days=days)))
        return
    if case.claimed_by is None:
        await message.reply_text(translator.render(CLAIM_FIRST))
    elif case.claimed_by != user.id:
        await message.reply_text(translator.render(TAKEN))
    else:
        await hotline.relay_out(case, update.update_id, message.message_id)


async def on_case_button(update: Update, context: JigiyaContext) -> None:
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    match = _BUTTON.match(query.data or "")
    services = context.services
    translator = services.catalogs.translator("fr")
    case = await services.hotline.case(int(match.group(2))) if match else None
    where = query.message.chat.id if query.message is not None else None
    if match is None or case is None or case.staff_chat_id != where:
        await query.answer()  # forged, stale or under an inline message: nothing happens
        return
    action = match.group(1)
    if action == "claim":
        won = await services.hotline.claim(case, user.id, user.first_name)
        await query.answer(translator.render(CLAIMED if won else ALREADY_TAKEN), show_alert=not won)
    elif action == "release":
        released = await services.hotline.release(case, user.id)
        await query.answer(None if released else translator.render(NOT_YOURS))
    elif _may_act(case, user.id):
        await services.hotline.close(case, "closed_by_staff")
        await query.answer()
    else:
        await query.answer(translator.render(NOT_YOURS), show_alert=True)


def register(application: Application, staff_chats: frozenset[int]) -> None:  # type: ignore[type-arg]
    if not staff_chats:
        return
    in_staff_group = filters.Chat(chat_id=staff_chats)
    application.add_handler(MessageHandler(in_staff_group, on_staff_message))
    application.add_handler(
        CallbackQueryHandler(on_case_button, pattern=r"^case:(claim|release|close):")
    )
