"""Invited members on Telegram: administrators invite and revoke; officers, editors and
translators redeem a code and use their tools (officer mode, checking the directory,
translating and recording, reviewing).

Each handler is one line of the routing table (bot/app.py), before the private catch-all. The
role is checked on the server for every officer command and button, so forged button data from
someone without it gets a kind answer and no officer screen. An officer's typed text, in the
middle of a tool, reaches the officer flow through the private chat (bot/private_chat.py).
Codes, ids and names are never logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from datetime import UTC, date, datetime
from typing import Any

from telegram import Message, Update, User
from telegram.error import TelegramError
from telegram.ext import filters

from bot import report
from bot.conversation import StorageKey
from bot.exits import CalledOff
from bot.flows import quiz as knowledge
from bot.flows.base import Event
from bot.flows.screens import Msg, Screen, Text, t, tn
from bot.handlers.events import event_of, pressed, split_command, telegram_key
from bot.handlers.private import beside_spinner, stop_spinner
from bot.i18n import Translator, supported_language
from bot.languages import CODES, DEFAULT, NATIVE_NAMES
from bot.private_chat import Incoming, Tool
from bot.telegram.context import JigiyaContext
from state.officers import EDITOR, ROLES, TRANSLATOR, Officer, normalise_code, translator_language

log = logging.getLogger(__name__)

ADMIN_COMMANDS = ("invite", "officers", "revoke", "report")
_LIST_CHUNK = 30  # officers per message: a message holds at most 4096 characters

ACCESS: dict[Tool, Msg] = {
    "officer": t(
        "👮 The officer tools are only for invited police, gendarmerie and justice officers. To "
        "get access, ask your gender focal point for an invitation code, then open the link you "
        "are given or send /officer followed by the code."
    ),
    "editor": t(
        "📒 Checking the directory is only for invited editors. To get access, ask an "
        "administrator for an invitation code, then open the link you are given or send "
        "/officer followed by the code."
    ),
    "translator": t(
        "🌐 Translating the bot is only for invited translators. To get access, ask an "
        "administrator for an invitation code, then open the link you are given or send "
        "/officer followed by the code."
    ),
    "review": t(
        "Reviewing is only for invited editors and translators. To get access, ask an "
        "administrator for an invitation code."
    ),
}
ONLY_FOR: dict[Tool, Msg] = {
    "officer": t("Only for invited officers."),
    "editor": t("Only for invited editors."),
    "translator": t("Only for invited translators."),
    "review": t("Only for invited editors and translators."),
}
WELCOME: dict[Tool, Msg] = {
    "officer": t("✅ Welcome. You now have access to the officer tools."),
    "editor": t(
        "✅ Welcome. You can now check the directory: /verify goes through the numbers and "
        "centres, /review shows the changes waiting for a second person."
    ),
    "translator": t(
        "✅ Welcome. You can now translate the bot: /translate shows the next words to "
        "translate, /record the screens to read aloud as voice notes, /review what others "
        "proposed in your language."
    ),
}
ALREADY_WELCOME: dict[Tool, Msg] = {
    "officer": t("You already have access to the officer tools."),
    "editor": t("You already have access to the editor tools."),
    "translator": t("You already have access to the translator tools."),
}
BAD_CODE = t(
    "This invitation code does not work: it may have been used already or have expired (codes "
    "are valid for 7 days). Ask your focal point for a new one."
)
ROLE_NAMES = {
    "police": t("police"),
    "gendarmerie": t("gendarmerie"),
    "justice": t("justice"),
    "editor": t("editor"),
}


def role_name(role: str) -> Text:
    if (language := translator_language(role)) is not None:
        return t("translator (%(language)s)", language=NATIVE_NAMES.get(language, language))
    return ROLE_NAMES.get(role, role)


def _tool(role: str) -> Tool:
    if role == EDITOR:
        return "editor"
    return "translator" if translator_language(role) is not None else "officer"


FIRST_COMMAND: dict[Tool, str] = {"officer": "officer", "editor": "verify",
                                  "translator": "translate"}  # fmt: skip


class InvitationCode(filters.MessageFilter):
    """/start followed by something shaped like an invitation code (a deep link's payload)."""

    def filter(self, message: Message) -> bool:
        return normalise_code(split_command(message.text)[1]) is not None


def _key(context: JigiyaContext, user_id: int) -> StorageKey:
    return telegram_key(context.bot, user_id, user_id)  # a private chat's id is its user's


async def _translator(context: JigiyaContext, user: User) -> Translator:
    stored = await context.services.runner.language(_key(context, user.id))
    return context.services.catalogs.translator(supported_language([stored, user.language_code]))


def _day(timestamp: int) -> date:
    return datetime.fromtimestamp(timestamp, UTC).date()


# --- updates -----------------------------------------------------------------------------------


async def _handled(context: JigiyaContext, update: Update) -> tuple[User, Message] | None:
    """The sender and her message; her message is in her chat, so it is remembered for the
    quick exit, as every other."""
    message, user = update.message, update.effective_user
    if message is None or user is None:
        return None
    await context.chats.remember(_key(context, user.id), [message.message_id])
    return user, message


async def on_admin_command(update: Update, context: JigiyaContext) -> None:
    """/invite, /officers, /revoke: the routing table lets only administrators reach this."""
    if (sent := await _handled(context, update)) is None:
        return
    user, message = sent
    key = _key(context, user.id)
    stored = await context.services.runner.language(key)
    language = supported_language([stored, user.language_code])
    if language is not None and language != stored:
        # An administrator's language, kept for the notices they did not ask for.
        await context.services.runner.remember_language(key, language)
    command, rest = split_command(message.text)
    if command == "invite":
        await _invite(context, user, rest.lower())
    elif command == "report":
        await send_report(context, user.id, user.language_code)
    elif command == "officers":
        for screen in await _officer_list(context):
            await _say(context, user, screen)
    else:
        await _say(context, user, await _revoke(context, user, rest))


async def on_redeem(update: Update, context: JigiyaContext) -> None:
    """/officer CODE, or /start CODE from an invitation link."""
    if (sent := await _handled(context, update)) is None:
        return
    user, message = sent
    code = normalise_code(split_command(message.text)[1])
    services = context.services
    redemption = await services.officers.redeem(code, user.id) if code else None
    if redemption is None:
        await _say(context, user, Screen(body=(BAD_CODE,), edit=False))
        return
    tool = _tool(redemption.officer.role)
    if redemption.already:
        welcome = ALREADY_WELCOME[tool]
    else:
        log.info("%s access granted", tool.capitalize())
        welcome = WELCOME[tool]
        await _tell_inviter(context, redemption.officer, user)
    await _say(context, user, Screen(body=(welcome,), edit=False))
    if tool == "officer" and not redemption.already:
        # The baseline: what the officer knows on joining, to see what lasts. Above the menu,
        # so that the tools stay the last message.
        await _show(context, user, await services.quiz.join(user.id))
    event = Event("command", update.update_id, name=FIRST_COMMAND[tool],
                  language_hint=user.language_code)  # fmt: skip
    await context.chats.open_tool(tool, _key(context, user.id), event, Incoming(member=user.id))


def on_tool_command(tool: Tool) -> Callable[[Update, JigiyaContext], Coroutine[Any, Any, None]]:
    """A tool's commands (/officer, /checklists; /verify, /review): the tool for its members,
    how to get access for others."""

    async def on_command(update: Update, context: JigiyaContext) -> None:
        if (sent := await _handled(context, update)) is None:
            return
        user, _ = sent
        if tool not in await context.chats.tools_of(user.id):
            await _say(context, user, Screen(body=(ACCESS[tool],), edit=False))
            return
        incoming = Incoming(member=user.id)
        await context.chats.open_tool(tool, _key(context, user.id), event_of(update), incoming)

    return on_command


def on_tool_button(tool: Tool) -> Callable[[Update, JigiyaContext], Coroutine[Any, Any, None]]:
    """A tool's buttons, checked against the member's tools at every press."""

    async def on_button(update: Update, context: JigiyaContext) -> None:
        query, user = update.callback_query, update.effective_user
        if query is None or user is None:
            return
        if tool not in await context.chats.tools_of(user.id):
            # Never-invited, revoked or forged: a kind answer and nothing more.
            translator = await _translator(context, user)
            await beside_spinner(
                query,
                _say(context, user, Screen(body=(ACCESS[tool],), edit=False)),
                translator.render(ONLY_FOR[tool]),
            )
            return
        incoming = Incoming(pressed=pressed(query), member=user.id)
        step = context.chats.tool_step(tool, _key(context, user.id), event_of(update), incoming)
        await beside_spinner(query, step)

    return on_button


# --- knowledge checks --------------------------------------------------------------------------


async def on_quiz_command(update: Update, context: JigiyaContext) -> None:
    """/quiz asks a question now; /quiz off and /quiz on pause and resume the weekly ones."""
    if (sent := await _handled(context, update)) is None:
        return
    user, message = sent
    if "officer" not in await context.chats.tools_of(user.id):
        await _say(context, user, Screen(body=(ACCESS["officer"],), edit=False))
        return
    quiz = context.services.quiz
    argument = split_command(message.text)[1].lower()
    if argument in ("off", "on"):
        await _show(context, user, await quiz.pause(user.id, paused=argument == "off"))
    elif argument:
        await _say(context, user, Screen(body=(knowledge.USAGE,), edit=False))
    else:
        await _show(context, user, await quiz.ask(user.id))


async def on_quiz_button(update: Update, context: JigiyaContext) -> None:
    """An answer: quiz:a:<question>:<choice>, checked against the role and the question on
    screen, so forged or old buttons count nothing."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    if "officer" not in await context.chats.tools_of(user.id):
        translator = await _translator(context, user)
        await beside_spinner(
            query,
            _say(context, user, Screen(body=(ACCESS["officer"],), edit=False)),
            translator.render(ONLY_FOR["officer"]),
        )
        return
    kind, _, rest = (query.data or "")[len(knowledge.PREFIX) :].partition(":")
    question, _, choice = rest.partition(":")
    if kind != "a" or not choice.isdecimal() or len(choice) > 1:
        await stop_spinner(query)
        return
    pressed = query.message.message_id if query.message else None
    screens = await context.services.quiz.answer(user.id, question, int(choice))
    await stop_spinner(query)
    # The answer takes the question's place; a next baseline question comes below it.
    key = _key(context, user.id)
    await context.chats.deliver(key, screens[:1], hint=user.language_code, replace=pressed,
                                ensure=True)  # fmt: skip
    await _show(context, user, screens[1:])


async def send_weekly_questions(context: JigiyaContext) -> None:
    """The job: each officer's weekly question when it is due (bot/flows/quiz.py)."""
    for user_id, screens in await context.services.quiz.due():
        try:
            await context.chats.deliver(_key(context, user_id), screens, ensure=True)
        except (TelegramError, CalledOff) as exc:
            log.warning("A weekly question could not be sent (%s)", type(exc).__name__)


async def _show(context: JigiyaContext, user: User, screens: list[Screen]) -> None:
    if screens:
        await context.chats.deliver(
            _key(context, user.id), screens, hint=user.language_code, ensure=True
        )


async def _say(context: JigiyaContext, user: User, screen: Screen) -> None:
    await context.chats.deliver(
        _key(context, user.id), [screen], hint=user.language_code, ensure=True
    )


async def send_report(context: JigiyaContext, admin: int, hint: str | None = None) -> None:
    """The anonymous figures of the last weeks (bot/report.py), in the administrator's language:
    asked for with /report, and every Monday morning (bot/app.py)."""
    services, key = context.services, _key(context, admin)
    language = supported_language([await services.runner.language(key), hint])
    render = services.catalogs.translator(language).render
    await services.counter.close_periods(services.store)  # the week just over, in full
    today = services.counter.clock().astimezone(UTC).date()
    protocols = [protocol.id for protocol in services.officer.protocols]
    shown = await report.outputs(services.store, today, protocols, render)
    await context.chats.deliver(key, shown, language=language, ensure=True)


# --- invitations -------------------------------------------------------------------------------


async def _tell_inviter(context: JigiyaContext, officer: Officer, user: User) -> None:
    """So the administrator knows which id is whom: the name is shown here, never stored."""
    used = t(
        "✅ Your invitation (%(role)s) was used by %(name)s, id %(id)s.",
        role=role_name(officer.role),
        name=user.full_name,
        id=officer.user_id,
    )
    admin = _key(context, officer.invited_by)
    try:
        await context.chats.deliver(admin, [Screen(body=(used,), edit=False)], ensure=True)
    except (TelegramError, CalledOff) as exc:
        log.warning("Could not tell the inviting administrator (%s)", type(exc).__name__)


# --- administration ----------------------------------------------------------------------------


async def _invite(context: JigiyaContext, user: User, rest: str) -> None:
    word, _, language = rest.partition(" ")
    role = rest
    if word == TRANSLATOR and language.strip() in CODES and language.strip() != DEFAULT:
        role = f"{TRANSLATOR}:{language.strip()}"
    elif role not in ROLES:
        usage = t(
            "Send /invite police, /invite gendarmerie, /invite justice, /invite editor, or "
            "/invite translator followed by the language (%(codes)s).",
            codes=", ".join(code for code in CODES if code != DEFAULT),
        )
        await _say(context, user, Screen(body=(usage,), edit=False))
        return
    invitation = await context.services.officers.invite(user.id, role)
    log.info("Invitation created")
    link = f"https://t.me/{context.bot.username}?start={invitation.code}"  # a deep link
    text = t(
        "🔑 Invitation (%(role)s)\nCode: %(code)s\nLink: %(link)s\n"
        "It works once, until %(date)s. Give it only to this person, in person or by a "
        "trusted channel: it is shown only this once.",
        role=role_name(role),
        code=invitation.code,
        link=link,
        date=_day(invitation.expires_at),
    )
    # Shareable, unlike every other message: the administrator passes the code on.
    await _say(context, user, Screen(body=(text,), edit=False, shareable=True))


async def _officer_list(context: JigiyaContext) -> list[Screen]:
    officers = context.services.officers
    active = await officers.active()
    lines: list[Text] = [
        t(
            "• %(id)s · %(role)s · since %(date)s · invited by %(inviter)s",
            id=officer.user_id,
            role=role_name(officer.role),
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
