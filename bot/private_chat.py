"""A person's private chat, on any channel: her events go to the survivor or officer flow or to
her open hotline case, every answer takes the one delivery path (translate, show on the channel,
remember what reached her chat for the quick exit), and her quick exit empties the chat.

Her quick exit is recognised first, in every state; then her help words ("au secours", "sos"…),
which the survivor flow answers with the danger screen, and which during a case also reach staff.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from bot.channel import Channel
from bot.conversation import StorageKey
from bot.editing import OwnChange
from bot.exits import CalledOff
from bot.flows.base import Event, Flow
from bot.flows.review import ALREADY_DECIDED
from bot.flows.screens import Button, Decision, Handover, Msg, Output, Proposal, Record, Screen, t
from bot.flows.survivor import EXIT, wants_help, wants_quick_exit
from bot.hotline.outbox import END as END_CASE
from bot.i18n import supported_language
from bot.indicators import tally
from bot.languages import CODES, DEFAULT
from bot.services import Services
from state.append_log import AlreadyDecided
from state.cases import Case
from state.directory_log import LogEntry
from state.officers import EDITOR, OFFICER_ROLES, translator_language
from state.translation_log import Role, TranslationEntry

log = logging.getLogger(__name__)

# How long her quick exit waits for answers already on their way to land (each is deleted as it
# lands), so that her chat is clean when it says goodbye.
ON_ITS_WAY_GRACE = 1.5

GOODBYE = t("Have a good day.")
SLOW_DOWN = t("Many messages arrived at once: some were not read. Please wait a moment.")

# During a hotline case, what could reveal where she is or who she is goes to staff only once
# she has said yes to words that say what staff will see, and that it stays in their group (a
# copy kept until the case's history is deleted, as the consent screen says).
SHARE_LOCATION = t("Staff will see exactly where you are, and it stays in their group. Send it?")
SHARE_PLACE = t("Staff will see this place on a map, and it stays in their group. Send it?")
SHARE_CONTACT = t("Staff will see this phone number, and it stays in their group. Send it?")
SHARE_FILE = t("Staff will see this file and its name, and they stay in their group. Send it?")
SEND_IT = t("✅ Yes, send it")
KEEP_IT = t("✖️ No, do not send")
SHARED = t("Sent to the hotline staff.")
NOT_SHARED = t("Not sent: staff did not receive it.")
NOT_A_NUMBER = t("This is not a phone number staff could call: it was not sent.")
CASE_BUTTONS = ((Button(END_CASE, "case:end"),), (EXIT,))
OWN_CHANGE = t("Nobody approves their own change: another editor or an administrator will.")
OWN_TRANSLATION = t(
    "Nobody approves their own work: another translator of this language or an administrator will."
)
NOT_YOURS = t("This is not yours to decide: it is for another role or language.")
HIDDEN = t(
    "⚠️ %(item)s is now hidden from survivors: two people found it not working. Check it with "
    "/verify or /review."
)
_SHARE = re.compile(r"^share:(?:(\d{1,12})|c:(\+?\d{3,16})|no)$")

Shares = Literal["location", "place", "contact", "file"]
Tool = Literal["officer", "editor", "translator", "review"]
_ASK: dict[Shares, Msg] = {
    "location": SHARE_LOCATION,
    "place": SHARE_PLACE,
    "contact": SHARE_CONTACT,
    "file": SHARE_FILE,
}


@dataclass(frozen=True)
class Incoming:
    """What the core reads of her update beyond the flow event; nothing of it is stored."""

    message_id: int | None = None  # her own new message: in her chat, so deleted at her exit
    pressed: int | None = None  # the message whose button she pressed
    shares: Shares | None = None  # what staff would see of it, asked about during a case
    phone: str | None = None  # a shared contact's number, as she would dial it
    member: int | None = None  # an invited member's or administrator's id (never a survivor's)
    tools: frozenset[Tool] = frozenset()  # the member's tools: officer mode, editing...
    text: str | None = None  # a member's whole text (a translation may be long)


class PrivateChats:
    def __init__(self, services: Services, channel: Channel) -> None:
        self.services = services
        self.channel = channel

    async def deliver(
        self,
        key: StorageKey,
        outputs: Sequence[Output],
        *,
        language: str | None = None,
        hint: str | None = None,
        replace: int | None = None,
        ensure: bool = False,
    ) -> list[int]:
        """Show outputs in `language`, else her stored one, else the `hint` (her app's);
        what reaches her chat is remembered for the quick exit even if the rest fails.
        `ensure` makes the person first (an officer or administrator keeps no conversation)."""
        runner = self.services.runner
        if language is None:
            language = supported_language([await runner.language(key), hint])
        translator = self.services.catalogs.translator(language)
        shown: list[int] = []
        try:
            await self.channel.show(key.chat_id, outputs, translator, shown, replace=replace)
        finally:
            await runner.remember_sent(key, shown, ensure=ensure)
        return shown

    async def remember(self, key: StorageKey, message_ids: list[int]) -> None:
        """Her messages the bot will not answer through a flow (dropped in a flood, called off
        by her quick exit, an officer's command): still in her chat, so remembered for the
        quick exit like every other. Made for her if need be: always before her exit runs."""
        await self.services.runner.remember_sent(key, message_ids, ensure=True)

    async def handle(self, key: StorageKey, event: Event, incoming: Incoming) -> None:
        """Every private update that no more specific route took: it always gets an answer."""
        services = self.services
        person_key = services.runner.person_key(key)
        case = None
        if services.hotline.configured:
            case = await services.hotline.open_case_of(person_key)
        if wants_quick_exit(event):
            if case is not None:
                await services.hotline.close(case, "person_left")
            if services.hotline.configured:
                # Also what still waits from a case already closed (its closing note, a reply).
                await services.hotline.person_left(person_key)
            await self.quick_exit(key, event.language_hint, incoming.message_id)
            return
        if incoming.message_id is not None:  # a member's typed text, in the middle of a tool
            for tool in sorted(incoming.tools):
                if await self.tool_step(tool, key, event, incoming):
                    return
        if case is not None:
            await self._in_case(key, case, event, incoming)
            return
        # Translators and administrators also see the languages they are filling in.
        preview = await self.languages_of(incoming.member) if "translator" in incoming.tools else ()
        result = await services.runner.step(
            services.survivor, key, event, message_id=incoming.message_id,
            view={"preview": preview},
        )  # fmt: skip
        language = supported_language([result.language, event.language_hint])
        outputs = [o for o in result.outputs if not isinstance(o, Handover)]
        if any(isinstance(o, Handover) for o in result.outputs):
            opened = await services.hotline.open(person_key, key.chat_id, language or DEFAULT)
            if opened.refused is not None:
                menu = services.survivor.menu_screen(language)
                outputs = [replace(menu, body=(opened.refused, *menu.body))]
        await self.deliver(key, outputs, language=language, replace=incoming.pressed)

    async def tools_of(self, member: int) -> frozenset[Tool]:
        """The tools of an invited member (by role); an administrator has every role but the
        officer's (editing, translating, reviewing)."""
        invited = await self.services.officers.officer(member)
        role = None if invited is None else invited.role
        admin = member in self.services.settings.admin_ids
        tools: set[Tool] = {"officer"} if role in OFFICER_ROLES else set()
        if role == EDITOR or admin:
            tools.add("editor")
        if translator_language(role) is not None or admin:
            tools.add("translator")
        if tools & {"editor", "translator"}:
            tools.add("review")
        return frozenset(tools)

    async def languages_of(self, member: int | None) -> tuple[str, ...]:
        """The languages a member translates: their role's, or every one but French for an
        administrator."""
        if member is None:
            return ()
        if member in self.services.settings.admin_ids:
            return tuple(code for code in CODES if code != DEFAULT)
        invited = await self.services.officers.officer(member)
        language = translator_language(None if invited is None else invited.role)
        return () if language is None else (language,)

    def _flow(self, tool: Tool) -> Flow:
        services = self.services
        flows: dict[Tool, Flow] = {
            "officer": services.officer,
            "editor": services.editor,
            "translator": services.translator,
            "review": services.review,
        }
        return flows[tool]  # fmt: skip

    async def _view(self, tool: Tool, member: int | None) -> dict[str, Any]:
        """What the tool's flow may know of the member, from the server, never from buttons."""
        if tool == "translator":
            return {"languages": await self.languages_of(member)}
        if tool == "review" and member is not None:
            scope = {f"tr:{code}" for code in await self.languages_of(member)}
            if "editor" in await self.tools_of(member):
                scope.add("directory")
            return {"member": member, "scope": frozenset(scope)}
        return {}

    async def tool_step(
        self, tool: Tool, key: StorageKey, event: Event, incoming: Incoming
    ) -> bool:
        """One step of a member's tool (officer mode, editing, translating, reviewing), shown;
        the caller checked the member may use it. False when the event is not for that tool."""
        services = self.services
        if incoming.text is not None and event.kind == "text":
            event = replace(event, text=incoming.text)
        view = await self._view(tool, incoming.member)
        role = None
        if tool == "officer" and incoming.member is not None:
            invited = await services.officers.officer(incoming.member)
            role = None if invited is None else invited.role
        result = await services.runner.step(self._flow(tool), key, event, role=role, view=view)
        if not result.outputs:
            return False
        if incoming.message_id is not None:
            await self.remember(key, [incoming.message_id])
        outputs: list[Output] = []
        for output in result.outputs:
            if isinstance(output, Record):
                outputs.append(await self._record(key, output, incoming.member))
            elif isinstance(output, Proposal):
                outputs.append(await self._propose(output, incoming.member))
            elif isinstance(output, Decision):
                outputs.append(await self._decide(key, output, view, incoming.member))
            else:
                outputs.append(output)
        language = supported_language([result.language, event.language_hint])
        if incoming.member is not None and language is not None and language != result.language:
            # The language a member uses the tools in, kept for notices they did not ask for.
            await services.runner.remember_language(key, language)
        await self.deliver(key, outputs, language=language, replace=incoming.pressed, ensure=True)
        return True

    async def open_tool(
        self, tool: Tool, key: StorageKey, event: Event, incoming: Incoming
    ) -> None:
        """A tool's command: the member's other tools step back first, so that what they type
        next reaches the tool they open (an administrator has several)."""
        if incoming.member is not None:
            for other in await self.tools_of(incoming.member) - {tool}:
                await self.services.runner.step(self._flow(other), key, event)
        await self.tool_step(tool, key, event, incoming)

    def _role(self, member: int) -> Role:
        return "administrator" if member in self.services.settings.admin_ids else "translator"

    async def _propose(self, proposal: Proposal, member: int | None) -> Screen:
        """A translator's proposal written to the translation log, in a language of theirs."""
        if member is None or proposal.language not in await self.languages_of(member):
            return Screen(body=(NOT_YOURS,), edit=False)
        entry = TranslationEntry(0, 0, member, self._role(member), "propose", proposal.language,
                                 proposal.kind, proposal.msgid, proposal.content,
                                 proposal.duration)  # fmt: skip
        await self.services.translations.record(entry)
        return Screen(body=(proposal.done,), edit=False)

    async def _decide(
        self, key: StorageKey, decision: Decision, view: dict[str, Any], member: int | None
    ) -> Screen:
        """A reviewer's decision, if the work is theirs to decide, written to its log."""
        kind, _, number = decision.key.partition(":")
        scope: frozenset[str] = view.get("scope", frozenset())
        action: Literal["approve", "reject"] = "approve" if decision.approve else "reject"
        try:
            if kind == "dir" and "directory" in scope:
                proposal = self.services.editing.proposal(int(number))
                if proposal is None:
                    raise AlreadyDecided
                record = Record(action, proposal.item_kind, proposal.item_id, decision.done,
                                proposal=proposal.id)  # fmt: skip
                return await self._record(key, record, member)
            pending = self.services.translations.pending.get(int(number))
            if kind != "tr" or member is None:
                return Screen(body=(NOT_YOURS,), edit=False)
            if pending is None:
                raise AlreadyDecided
            if f"tr:{pending.language}" not in scope:
                return Screen(body=(NOT_YOURS,), edit=False)
            entry = TranslationEntry(0, 0, member, self._role(member), action, pending.language,
                                     pending.kind, pending.msgid, proposal=pending.id)  # fmt: skip
            await self.services.translations.record(entry)
        except OwnChange:
            return Screen(body=(OWN_TRANSLATION if kind == "tr" else OWN_CHANGE,), edit=False)
        except AlreadyDecided:
            return Screen(body=(ALREADY_DECIDED,), edit=False)
        return Screen(body=(decision.done,), edit=False)

    async def _record(self, key: StorageKey, record: Record, member: int | None) -> Screen:
        """An editor's act written to the directory's log; its line, or why it was refused."""
        entry = LogEntry(0, 0, member or 0, record.action, record.item_kind, record.item_id,
                         record.field, record.before, record.after, record.reason,
                         record.proposal)  # fmt: skip
        try:
            hid = await self.services.editing.record(entry)
        except OwnChange:
            return Screen(body=(OWN_CHANGE,), edit=False)
        except AlreadyDecided:
            return Screen(body=(ALREADY_DECIDED,), edit=False)
        if hid:
            await self._tell_admins(key, record)
        return Screen(body=(record.done,), edit=False)

    async def _tell_admins(self, key: StorageKey, record: Record) -> None:
        """A number two people found not working is hidden from survivors: administrators are
        told, in their own chats (a member's chat on this channel is named by the member), in
        the language they chose or last used the bot in, else French."""
        item = self.services.editing.item(f"{record.item_kind}:{record.item_id}")
        name = record.item_id if item is None else item.entry.name
        note = Screen(body=(t(HIDDEN.msgid, item=name),), edit=False)
        for admin in self.services.settings.admin_ids:
            chat = replace(key, chat_id=str(admin), user_id=str(admin))
            try:
                await self.deliver(chat, [note], ensure=True)
            except Exception as exc:  # one administrator out of reach must not stop the others
                log.warning("An administrator could not be told (%s)", type(exc).__name__)

    async def _in_case(self, key: StorageKey, case: Case, event: Event, incoming: Incoming) -> None:
        """While her case is open, the bot's own menus stay quiet: her messages go to staff."""
        hotline = self.services.hotline
        if event.kind == "button":
            if event.name == "case:end":
                await hotline.close(case, "ended_by_person")
            elif (share := _SHARE.match(event.name)) is not None:
                await self._share(key, case, event, share, incoming.pressed)
            return  # other buttons, from older messages, do nothing while a person is answering
        if incoming.message_id is None:
            return  # an edit: the staff already have the message as it was sent
        await self.services.runner.remember_sent(key, [incoming.message_id])
        if incoming.shares is None:
            await hotline.relay_in(case, event.update_id, incoming.message_id)
            if wants_help(event):
                # A help word goes to staff like any message, and the numbers come at once: a
                # person may not be reading yet.
                danger = self.services.survivor.danger_outputs(buttons=CASE_BUTTONS)
                await self.deliver(key, danger)
            return
        if incoming.shares == "contact":
            data = f"share:c:{incoming.phone or ''}"
        else:
            data = f"share:{incoming.message_id}"
        if _SHARE.match(data) is None:
            # Nothing staff could call: she is told, and nothing goes.
            await self.deliver(key, [Screen(body=(NOT_A_NUMBER,), buttons=CASE_BUTTONS,
                                            edit=False)])  # fmt: skip
            return
        screen = Screen(
            body=(_ASK[incoming.shares],),
            buttons=((Button(SEND_IT, data),), (Button(KEEP_IT, "share:no"),), (EXIT,)),
            edit=False,
        )
        await self.deliver(key, [screen])

    async def _share(
        self, key: StorageKey, case: Case, event: Event, share: re.Match[str], pressed: int | None
    ) -> None:
        """Her answer to "Send it?": the message she named, or the number, goes to staff."""
        hotline = self.services.hotline
        message_id, phone = share.group(1), share.group(2)
        if message_id is not None:
            await hotline.relay_in(case, event.update_id, int(message_id))
        elif phone is not None:
            await hotline.relay_contact(case, event.update_id, phone)
        done = SHARED if message_id or phone else NOT_SHARED
        await self.deliver(key, [Screen(body=(done,), buttons=CASE_BUTTONS)], replace=pressed)

    async def flood_note(self, key: StorageKey, hint: str | None) -> None:
        """Once per burst, to a private chat whose messages were dropped."""
        try:
            await self.deliver(key, [Screen(body=(SLOW_DOWN,), edit=False)], hint=hint)
        except CalledOff:
            log.info("The note to slow down was not sent: she left")

    async def quick_exit(self, key: StorageKey, hint: str | None, message_id: int | None) -> None:
        """Delete every message of the chat the channel can, forget the person, say one
        harmless line.

        Run again after a crash, it does the same: deleting is repeated, forgetting is
        idempotent."""
        runner, exits = self.services.runner, self.services.exits
        # Answers already on their way land first, each deleted as it lands (bot/exits.py).
        await exits.settle(key.chat_id, ON_ITS_WAY_GRACE)
        language = supported_language([await runner.language(key), hint])
        ids = set(await runner.deletable_messages(key))
        if message_id is not None:
            ids.add(message_id)
        if (previous := exits.last_goodbye(key.chat_id)) is not None:
            ids.add(previous)  # a second exit (a double tap): her chat still ends with one line
        undeleted = await self.channel.delete(key.chat_id, sorted(ids))
        await runner.forget(key, undeleted=undeleted, tallies=(tally("quick_exit"),))
        goodbye: list[int] = []
        # Also takes away a location keyboard she may still have.
        await self.channel.show(
            key.chat_id,
            [Screen(body=(GOODBYE,), edit=False, drop_location_button=True)],
            self.services.catalogs.translator(language),
            goodbye,
        )
        exits.said_goodbye(key.chat_id, goodbye[0])
        if undeleted:
            # The chat is not clean yet: the next quick exit also takes this line away.
            await runner.remember_sent(key, goodbye)
