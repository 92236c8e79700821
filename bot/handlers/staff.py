"""The staff side of the hotline: case topics in the staff forum group.

Only the staff groups count; there, only messages in a case topic and the case buttons do
anything. Everything else in the group is ignored without a word.

A staff message starting with a command (in its text or its caption) is a command and never
reaches the person: an internal note stays in the topic in any form, a command for another bot
is left to that bot, and an unknown one (a typo such as /closed) gets the list of commands. An
album's caption is on its first item only: the album's other items go with it.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from typing import cast

from telegram import Message, Update

from bot.flows.screens import t
from bot.handlers.events import split_command
from bot.handlers.private import stop_spinner
from bot.hotline.service import Hotline
from bot.i18n import Translator
from bot.telegram.context import JigiyaContext
from state.cases import Case

log = logging.getLogger(__name__)

CLAIM_FIRST = t("Press ✋ Claim on the case card first, so that two people never answer at once.")
TAKEN = t("This case is taken by another member: your message was not sent to the person.")
CLAIMED = t("You have claimed this case. Your messages in this topic now reach the person.")
ALREADY_TAKEN = t("Someone else has already claimed this case.")
ALREADY_YOURS = t("You have already claimed this case.")
NOT_YOURS = t("Only the member who claimed this case can do that.")
BLOCKED = t("The person cannot open new cases for %(days)s days.")
COMMANDS = t(
    "Nothing was sent to the person. Commands in a case topic: /close, /note … (stays among "
    "staff), /block [days]."
)

BLOCK_DAYS = 7
# Albums whose first item was a command. An album's items arrive one after another, so
# remembering the last few albums is enough.
_HELD_ALBUMS = "staff.held_albums"
_HELD_ALBUMS_KEPT = 256
CASE_BUTTON = r"^case:(claim|release|close):"
_BUTTON = re.compile(CASE_BUTTON + r"(\d{1,12})$")
_DAYS = re.compile(r"[0-9]{1,3}")


def _may_act(case: Case, staff_id: int) -> bool:
    return case.claimed_by in (None, staff_id)


def _command(message: Message, bot_username: str) -> tuple[str, str] | None:
    """The command word and the rest, from the text or the caption; ("", "") when the message
    is not a command, None when it is one addressed to another bot."""
    text = message.text or message.caption or ""
    command, rest = split_command(text)
    if not command:
        return "", ""
    _, at, addressee = text.split(maxsplit=1)[0].partition("@")
    if at and addressee.lower() != bot_username.lower():
        return None
    return command, rest


def _held_with_album(context: JigiyaContext, message: Message, *, command: bool) -> bool:
    """True for an item of an album whose first item (the one with the caption) was a command:
    it is held with it."""
    album = message.media_group_id
    if album is None:
        return False
    held = cast("OrderedDict[str, None]", context.bot_data.setdefault(_HELD_ALBUMS, OrderedDict()))
    if album in held:
        return True
    if command:
        held[album] = None
        while len(held) > _HELD_ALBUMS_KEPT:
            held.popitem(last=False)
    return False


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
    parsed = _command(message, context.bot.username)
    if _held_with_album(context, message, command=parsed != ("", "")):
        return
    if parsed is None:
        return  # another bot's command: neither ours to act on nor hers to read
    command, rest = parsed
    if command:
        await _staff_command(context, case, message, user.id, command, rest, translator)
    elif case.claimed_by is None:
        await message.reply_text(translator.render(CLAIM_FIRST))
    elif case.claimed_by != user.id:
        await message.reply_text(translator.render(TAKEN))
    else:
        await hotline.relay_out(case, update.update_id, message.message_id)


async def _staff_command(
    context: JigiyaContext,
    case: Case,
    message: Message,
    staff_id: int,
    command: str,
    rest: str,
    translator: Translator,
) -> None:
    hotline = context.services.hotline
    if command == "note":
        return  # an internal note stays in the topic
    if command == "close":
        if _may_act(case, staff_id):
            await hotline.close(case, "closed_by_staff")
        else:
            await message.reply_text(translator.render(NOT_YOURS))
        return
    if command == "block" and (days := _block_days(rest)) is not None:
        # Blocking shuts her out of the hotline: only whoever knows the case, or an admin.
        if staff_id != case.claimed_by and staff_id not in context.services.settings.admin_ids:
            await message.reply_text(translator.render(NOT_YOURS))
            return
        await hotline.block(case, days)
        await message.reply_text(translator.render(t(BLOCKED.msgid, days=days)))
        return
    await message.reply_text(translator.render(COMMANDS))


def _block_days(rest: str) -> int | None:
    """The days of a /block: 7 when not given, 1 to 999; None for anything else."""
    if not rest:
        return BLOCK_DAYS
    return int(rest) if _DAYS.fullmatch(rest) and int(rest) > 0 else None


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
        await stop_spinner(query)  # forged, stale or under an inline message: nothing happens
        return
    action = match.group(1)
    if action == "claim":
        if await services.hotline.claim(case, user.id, user.first_name):
            await stop_spinner(query, translator.render(CLAIMED))
            return
        # Read again: a double tap's first press may have won since `case` was read.
        fresh = await services.hotline.case(case.id)
        mine = fresh is not None and fresh.claimed_by == user.id
        await stop_spinner(query, translator.render(ALREADY_YOURS if mine else ALREADY_TAKEN),
                           show_alert=not mine)  # fmt: skip
    elif action == "release":
        released = await services.hotline.release(case, user.id)
        await stop_spinner(query, None if released else translator.render(NOT_YOURS))
    elif _may_act(case, user.id):
        await services.hotline.close(case, "closed_by_staff")
        await stop_spinner(query)
    else:
        await stop_spinner(query, translator.render(NOT_YOURS), show_alert=True)
