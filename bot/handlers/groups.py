"""Groups: the bot belongs only in the staff group. Added anywhere else, it leaves."""

from __future__ import annotations

import logging

from telegram import Chat, ChatMember, Update

from bot.telegram.context import JigiyaContext

log = logging.getLogger(__name__)

_JOINED = (ChatMember.MEMBER, ChatMember.ADMINISTRATOR)


async def on_my_membership(update: Update, context: JigiyaContext) -> None:
    change = update.my_chat_member
    if change is None or change.chat.type == Chat.PRIVATE:
        return  # a person blocking or unblocking the bot: nothing to say, nothing to keep
    if change.new_chat_member.status not in _JOINED:
        return
    if change.chat.id in context.services.settings.staff_chats:
        log.info("Added to the staff group")
        return
    log.info("Added to a group that is not the staff group; leaving it")
    await context.bot.leave_chat(change.chat.id)
