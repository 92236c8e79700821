"""The core's private chat over a channel that is not Telegram: a recording channel whose ids
are text, as a second channel's would be. Nothing here imports python-telegram-bot."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from bot.config import Settings
from bot.content import load_directory
from bot.content.protocols import load_protocols
from bot.content.quiz import load_questions
from bot.conversation import ConversationRunner, StorageKey
from bot.editing import Editing
from bot.exits import ExitGate
from bot.flows.base import Event, EventKind
from bot.flows.editor import DirectoryReview, EditorFlow
from bot.flows.officer import OfficerFlow
from bot.flows.review import ReviewFlow
from bot.flows.screens import Output, Screen
from bot.flows.survivor import EXIT, SurvivorFlow
from bot.flows.translator import TranslationReview, TranslatorFlow
from bot.hotline.service import Hotline
from bot.i18n import Translator
from bot.keys import Keys
from bot.private_chat import GOODBYE, SHARE_LOCATION, Incoming, PrivateChats
from bot.quiz import Quiz
from bot.services import Services
from bot.translations import Translations
from state import cases
from state.officers import Officers
from state.store import Store

KEYS = Keys("k" * 40)
STAFF = -100_123
HER = StorageKey(bot_id="wa:bot", chat_id="wa:22370000000", user_id="wa:22370000000")


@dataclass
class RecordingChannel:
    """Shows text, numbers its messages; `deletable` says whether it can delete them."""

    deletable: bool = True
    name: str = "recording"
    chats: dict[str, dict[int, str]] = field(default_factory=dict)
    next_id: int = 1

    def messages(self, chat: str) -> list[str]:
        return list(self.chats.get(chat, {}).values())

    def add(self, chat: str, text: str) -> int:
        message_id, self.next_id = self.next_id, self.next_id + 1
        self.chats.setdefault(chat, {})[message_id] = text
        return message_id

    async def show(
        self,
        chat: str,
        outputs: Sequence[Output],
        translator: Translator,
        shown: list[int],
        *,
        replace: int | None = None,
    ) -> None:
        for output in outputs:
            if isinstance(output, Screen):
                text = "\n\n".join(translator.render(part) for part in output.body)
                shown.append(self.add(chat, text))

    async def delete(self, chat: str, message_ids: Sequence[int]) -> list[int]:
        if self.deletable:
            for message_id in message_ids:
                self.chats.get(chat, {}).pop(message_id, None)
        return []  # nothing a retry would change

    async def relay(
        self,
        to_chat: str,
        from_chat: str,
        message_id: int,
        *,
        thread: int | None = None,
        silent: bool = False,
    ) -> int:
        return self.add(to_chat, self.chats[from_chat][message_id])


@pytest.fixture
async def services(store: Store) -> Services:
    settings = Settings(token=None, hotline_chat_id=STAFF)
    directory = load_directory()
    editing = Editing(store, directory)
    translations = Translations(store)
    survivor = SurvivorFlow(directory, settings.hotline_hours, voices=translations)
    protocols = load_protocols()
    return Services(
        settings, store, ConversationRunner(store, KEYS), translations.catalogs, survivor,
        Hotline(store, KEYS, settings), OfficerFlow(protocols, directory),
        Officers(store, KEYS), ExitGate(), editing, EditorFlow(editing),
        Quiz(store, load_questions(protocols)), translations,
        TranslatorFlow(translations, survivor),
        ReviewFlow([DirectoryReview(editing), TranslationReview(translations)]),
    )  # fmt: skip


def her(update_id: int, kind: EventKind, name: str) -> tuple[Event, Incoming]:
    """A command or button of hers; a command is a new message of hers (id 1000 + update id)."""
    message = None if kind == "button" else 1000 + update_id
    return Event(kind, update_id, name=name), Incoming(message_id=message)


async def test_a_journey_and_its_quick_exit_on_a_channel_with_text_ids(services: Services) -> None:
    channel = RecordingChannel()
    chats = PrivateChats(services, channel)
    await chats.handle(HER, *her(1, "command", name="start"))
    await chats.handle(HER, *her(2, "button", name="lang:fr"))
    assert len(channel.messages(HER.chat_id)) >= 2
    # Every message of the bot's is remembered for the quick exit, and her own /start.
    remembered = await services.runner.deletable_messages(HER)
    assert remembered == [*sorted(channel.chats[HER.chat_id]), 1001]

    await chats.handle(HER, *her(3, "button", name=EXIT.data))
    # Only the goodbye is left, in French, and nothing of her is kept.
    fr = services.catalogs.translator("fr").render
    assert channel.messages(HER.chat_id) == [fr(GOODBYE)]
    assert await services.runner.language(HER) is None
    assert await services.runner.deletable_messages(HER) == []


async def test_a_channel_that_cannot_delete_still_forgets_her(services: Services) -> None:
    channel = RecordingChannel(deletable=False)
    chats = PrivateChats(services, channel)
    await chats.handle(HER, *her(1, "command", name="start"))
    await chats.handle(HER, *her(2, "command", name="exit"))
    assert len(channel.messages(HER.chat_id)) > 1
    fr = services.catalogs.translator("fr").render
    assert channel.messages(HER.chat_id)[-1] == fr(GOODBYE)  # her chat still holds the rest
    assert await services.runner.language(HER) is None
    assert await services.runner.deletable_messages(HER) == []


async def test_her_case_keeps_her_channel_address_sealed_and_asks_before_a_location(
    services: Services,
) -> None:
    channel = RecordingChannel()
    chats = PrivateChats(services, channel)
    await chats.handle(HER, *her(1, "command", name="start"))
    await chats.handle(HER, *her(2, "button", name="lang:fr"))
    await chats.handle(HER, *her(3, "button", name="nav:talk"))
    await chats.handle(HER, *her(4, "button", name="talk:agree"))
    case = await services.hotline.open_case_of(services.runner.person_key(HER))
    assert case is not None
    assert services.hotline.chat_of(case) == HER.chat_id  # the channel's own id, as text
    async with services.store.transaction() as db:
        stored = await cases.by_id(db, case.id)
    assert stored is not None
    assert stored.chat_sealed is not None
    assert HER.chat_id.encode() not in stored.chat_sealed  # sealed, not kept in clear

    location = Incoming(message_id=1005, shares="location")
    await chats.handle(HER, Event("location", 5, location=(12.6, -8.0)), location)
    fr = services.catalogs.translator("fr").render
    assert channel.messages(HER.chat_id)[-1] == fr(SHARE_LOCATION)
