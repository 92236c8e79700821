"""Officer mode on Telegram: administrators invite and revoke, officers redeem a code and use
the officer flow.

Registered in handler group -1, before the survivor handler: what is handled here stops there
(ApplicationHandlerStop), everything else reaches the survivor side untouched. The role is
checked on the server for every officer command and button, so forged button data from someone
without it gets a kind answer and no officer screen. Codes, ids and names are never logged.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from datetime import UTC, date, datetime
from typing import NoReturn

from telegram import Chat, Message, Update, User
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    MessageHandler,
    filters,
)

from bot.conversation import StorageKey
from bot.exits import CalledOff
from bot.flows.base import Event
from bot.flows.officer import COMMANDS, PREFIX
from bot.flows.screens import Document, Output, Screen, Text, t, tn
from bot.flows.survivor import wants_quick_exit
from bot.handlers.events import event_of, split_command
from bot.handlers.private import stop_spinner
from bot.handlers.render import show
from bot.i18n import Translator, supported_language
from bot.telegram.context import JigiyaContext
from state.officers import ROLES, Officer, normalise_code

log = logging.getLogger(__name__)

GROUP = -1  # before the survivor handler (group 0), which takes every private update
ADMIN_COMMANDS = frozenset({"invite", "officers", "revoke"})
_LIST_CHUNK = 30  # officers per message: a message holds at most 4096 characters

ACCESS = t(
    "👮 The officer tools are only for invited police, gendarmerie and justice officers. To get "
    "access, ask your gender focal point for an invitation code, then open the link you are "
    "given or send /officer followed by the code."
)
BAD_CODE = t(
    "This invitation code does not work: it may have been used already or have expired (codes "
    "are valid for 7 days). Ask your focal point for a new one."
)
ROLE_NAMES = {"police": t("police"), "gendarmerie": t("gendarmerie"), "justice": t("justice")}


def _key(context: JigiyaContext, user_id: int) -> StorageKey:
    return StorageKey(bot_id=context.bot.id, chat_id=user_id, user_id=user_id)


async def _translator(context: JigiyaContext, user: User) -> Translator:
    stored = await context.services.runner.language(_key(context, user.id))
    return context.services.catalogs.translator(supported_language([stored, user.language_code]))


def _day(timestamp: int) -> date:
    return datetime.fromtimestamp(timestamp, UTC).date()


# --- updates -----------------------------------------------------------------------------------


async def on_message(update: Update, context: JigiyaContext) -> None:
    message, chat, user = update.message, update.effective_chat, update.effective_user
    if message is None or chat is None or user is None or chat.type != Chat.PRIVATE:
        return
    services = context.services
    command, rest = split_command(message.text)
    if command in ADMIN_COMMANDS and user.id in services.settings.admin_ids:
        await _admin(context, user, command, rest)
        await _handled(context, user, message)
    code = normalise_code(rest)
    if (command == "officer" and rest) or (command == "start" and code):
        await _redeem(update, context, user, code)
        await _handled(context, user, message)
    is_officer = await services.officers.officer(user.id) is not None
    if command in COMMANDS and not is_officer:
        await _say(context, user, Screen(body=(ACCESS,), edit=False))
        await _handled(context, user, message)
    event = event_of(update)
    if not is_officer or wants_quick_exit(event):
        return  # the survivor side, where the quick exit always works
    if await _step(context, user, event):
        await _handled(context, user, message)


async def _handled(context: JigiyaContext, user: User, message: Message) -> NoReturn:
    """Her own message is remembered for the quick exit, as the survivor side does; the
    survivor handler is then skipped."""
    try:
        await context.services.runner.remember_sent(
            _key(context, user.id), [message.message_id], ensure=True
        )
    except sqlite3.Error as exc:
        # Answered already: the survivor side must not answer it a second time.
        log.warning("Could not remember a message for the quick exit (%s)", type(exc).__name__)
    raise ApplicationHandlerStop


async def on_button(update: Update, context: JigiyaContext) -> None:
    query, chat, user = update.callback_query, update.effective_chat, update.effective_user
    if query is None or chat is None or user is None or chat.type != Chat.PRIVATE:
        return
    if await context.services.officers.officer(user.id) is None:
        # Never-invited, revoked or forged: a kind answer and nothing more.
        translator = await _translator(context, user)
        await asyncio.gather(
            stop_spinner(query, translator.render(t("Only for invited officers."))),
            _say(context, user, Screen(body=(ACCESS,), edit=False)),
        )
        raise ApplicationHandlerStop
    event = Event("button", update.update_id, name=query.data or "",
                  language_hint=user.language_code)  # fmt: skip
    pressed = query.message.message_id if query.message else None
    # The press's answer and its screen side by side, as on the survivor side.
    await asyncio.gather(stop_spinner(query), _step(context, user, event, pressed))
    raise ApplicationHandlerStop


async def _step(
    context: JigiyaContext, user: User, event: Event, pressed: int | None = None
) -> bool:
    """One officer flow step, shown; False when the event was not for officer mode."""
    services = context.services
    result = await services.runner.step(services.officer, _key(context, user.id), event)
    if not result.outputs:
        return False
    language = supported_language([result.language, user.language_code])
    await _show(context, user.id, result.outputs, services.catalogs.translator(language), pressed)
    return True


async def _show(
    context: JigiyaContext,
    chat_id: int,
    outputs: list[Output],
    translator: Translator,
    pressed: int | None = None,
) -> None:
    """Documents as files, the rest as the survivor side shows it; a lone screen answering a
    button replaces that button's message."""
    screens = [output for output in outputs if not isinstance(output, Document)]
    replace = pressed if len(screens) == 1 else None
    shown: list[int] = []
    try:
        for output in outputs:
            if isinstance(output, Document):
                text = "\n".join(translator.render(line) for line in output.body) + "\n"
                # Not protected, unlike every other message: officers print it or attach it to
                # the case file, and it holds nothing about the survivor.
                sent = await context.bot.send_document(
                    chat_id,
                    document=text.encode("utf-8"),
                    filename=output.filename,
                    caption=translator.render(output.caption),
                )
                shown.append(sent.message_id)
            else:
                await show(context.bot, chat_id, [output], translator, shown,
                           replace_message_id=replace)  # fmt: skip
    finally:
        # The quick exit works for everyone, so everything shown here is remembered too.
        await context.services.runner.remember_sent(_key(context, chat_id), shown, ensure=True)


async def _say(context: JigiyaContext, user: User, screen: Screen) -> None:
    await _show(context, user.id, [screen], await _translator(context, user))


# --- invitations -------------------------------------------------------------------------------


async def _redeem(update: Update, context: JigiyaContext, user: User, code: str | None) -> None:
    services = context.services
    redemption = await services.officers.redeem(code, user.id) if code else None
    if redemption is None:
        await _say(context, user, Screen(body=(BAD_CODE,), edit=False))
        return
    if redemption.already:
        welcome = t("You already have access to the officer tools.")
    else:
        log.info("Officer access granted")
        welcome = t("✅ Welcome. You now have access to the officer tools.")
        await _tell_inviter(context, redemption.officer, user)
    await _say(context, user, Screen(body=(welcome,), edit=False))
    event = Event("command", update.update_id, name="officer", language_hint=user.language_code)
    await _step(context, user, event)


async def _tell_inviter(context: JigiyaContext, officer: Officer, user: User) -> None:
    """So the administrator knows which id is whom: the name is shown here, never stored."""
    stored = await context.services.runner.language(_key(context, officer.invited_by))
    translator = context.services.catalogs.translator(stored)
    text = translator.render(
        t(
            "✅ Your invitation (%(role)s) was used by %(name)s, id %(id)s.",
            role=ROLE_NAMES[officer.role],
            name=user.full_name,
            id=officer.user_id,
        )
    )
    try:
        await context.bot.send_message(officer.invited_by, text, protect_content=True)
    except (TelegramError, CalledOff) as exc:
        log.warning("Could not tell the inviting administrator (%s)", type(exc).__name__)


# --- administration ----------------------------------------------------------------------------


async def _admin(context: JigiyaContext, user: User, command: str, rest: str) -> None:
    if command == "invite":
        await _invite(context, user, rest.lower())
    elif command == "officers":
        for screen in await _officer_list(context):
            await _say(context, user, screen)
    else:
        await _say(context, user, await _revoke(context, user, rest))


async def _invite(context: JigiyaContext, user: User, role: str) -> None:
    if role not in ROLES:
        usage = t("Send /invite police, /invite gendarmerie or /invite justice.")
        await _say(context, user, Screen(body=(usage,), edit=False))
        return
    invitation = await context.services.officers.invite(user.id, role)
    log.info("Invitation created")
    translator = await _translator(context, user)
    link = f"https://t.me/{context.bot.username}?start={invitation.code}"  # a deep link
    text = translator.render(
        t(
            "🔑 Invitation for an officer (%(role)s)\nCode: %(code)s\nLink: %(link)s\n"
            "It works once, until %(date)s. Give it only to this officer, in person or by a "
            "trusted channel: it is shown only this once.",
            role=ROLE_NAMES[role],
            code=invitation.code,
            link=link,
            date=_day(invitation.expires_at),
        )
    )
    # Not protected, unlike every other message: the administrator passes the code on.
    await context.bot.send_message(user.id, text)


async def _officer_list(context: JigiyaContext) -> list[Screen]:
    officers = context.services.officers
    active = await officers.active()
    lines: list[Text] = [
        t(
            "• %(id)s · %(role)s · since %(date)s · invited by %(inviter)s",
            id=officer.user_id,
            role=ROLE_NAMES.get(officer.role, officer.role),
            date=_day(officer.joined_at),
            inviter=officer.invited_by,
        )
        for officer in active
    ]
    head = tn("👮 %(num)s officer has access.", "👮 %(num)s officers have access.", len(active))
    tail = (
        t("Unused invitations: %(num)s", num=await officers.pending_invitations()),
        t("To take access away: /revoke followed by the id."),
    )
    chunks = [lines[i : i + _LIST_CHUNK] for i in range(0, len(lines), _LIST_CHUNK)] or [[]]
    screens = [Screen(body=tuple(chunk), edit=False) for chunk in chunks]
    screens[0] = Screen(body=(head, *screens[0].body), edit=False)
    screens[-1] = Screen(body=(*screens[-1].body, *tail), edit=False)
    return screens


async def _revoke(context: JigiyaContext, user: User, rest: str) -> Screen:
    officers = context.services.officers
    code = normalise_code(rest)
    if rest.isdecimal():
        revoked = await officers.revoke(int(rest), user.id)
        if revoked:
            log.info("Officer access revoked")
        answer = (
            t("Access taken away from %(id)s.", id=int(rest))
            if revoked
            else t("No officer with access has the id %(id)s.", id=int(rest))
        )
    elif code is not None:
        withdrawn = await officers.cancel(code)
        answer = (
            t("Invitation withdrawn.") if withdrawn else t("No unused invitation has this code.")
        )
    else:
        answer = t(
            "Send /revoke followed by the officer's id (see /officers) or by an unused "
            "invitation code."
        )
    return Screen(body=(answer,), edit=False)


def register(application: Application) -> None:  # type: ignore[type-arg]
    private_messages = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    application.add_handler(MessageHandler(private_messages, on_message), group=GROUP)
    application.add_handler(CallbackQueryHandler(on_button, pattern=f"^{PREFIX}"), group=GROUP)
