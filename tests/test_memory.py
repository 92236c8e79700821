"""Memory that does not grow with the number of people ever seen (issue 16, point 4): once her
chat is quiet, the bot keeps no object of hers in memory; what her conversation needs is in the
store, and her next message makes what it needs again. The figures over 100,000 people are the
benchmark's (bench/waves.py)."""

from __future__ import annotations

import gc
from typing import Any

import pytest

import bot.app as wiring
from bot import exits
from bot.emulator import BotApiEmulator
from bot.flows.base import FlowModel
from bot.telegram.context import SERVICES
from bot.telegram.intake import Intake
from tests.conftest import StartBot
from tests.hotline_helpers import idle
from tests.journey import EXIT, answer, goodbye, start_in


class Kept:
    """The application and the intake the bot builds, to look inside them."""

    application: Any = None
    intake: Intake | None = None


@pytest.fixture
def kept(monkeypatch: pytest.MonkeyPatch) -> Kept:
    kept = Kept()
    build = wiring.build_application
    intake_init = Intake.__init__

    def keep_application(*args: Any, **kwargs: Any) -> Any:
        kept.application = build(*args, **kwargs)
        return kept.application

    def keep_intake(self: Intake, *args: Any, **kwargs: Any) -> None:
        intake_init(self, *args, **kwargs)
        kept.intake = self

    monkeypatch.setattr(wiring, "build_application", keep_application)
    monkeypatch.setattr(Intake, "__init__", keep_intake)
    return kept


@pytest.mark.usefixtures("in_process", "unpaced")
async def test_nothing_of_a_quiet_chat_stays_in_memory_and_she_is_answered_when_she_is_back(
    emulator: BotApiEmulator,
    start_bot: StartBot,
    kept: Kept,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    running = await start_bot()
    people = [emulator.user(6100 + i, language_code="fr") for i in range(4)]
    menus = [(await start_in(person)).screen for person in people]
    await people[0].press(menus[0], EXIT)
    await goodbye(people[0])
    await idle(emulator, running.settings.db_path)
    services = kept.application.bot_data[SERVICES]
    # Her exit is remembered a while, to call off work begun before it...
    assert list(services.exits._chats) == [str(people[0].id)]
    # ...and forgotten once that while is over, whoever writes next.
    monkeypatch.setattr(exits, "REMEMBER_SECONDS", 0)
    await people[1].press(menus[1], "nav:numbers")
    await answer(people[1])
    await idle(emulator, running.settings.db_path)

    app, intake = kept.application, kept.intake
    assert intake is not None
    assert len(app.chat_data) == 0  # python-telegram-bot's per-chat and per-user dicts
    assert len(app.user_data) == 0
    # ...and its marks for a persistence the bot does not have, which only a persistence's flush
    # would empty: every chat and user id ever seen, for ever (bot/telegram/application.py).
    assert app._chat_ids_to_be_updated_in_persistence == set()
    assert app._user_ids_to_be_updated_in_persistence == set()
    assert intake._chats == {}  # queues of updates per chat
    assert services.exits._chats == {}  # the quick exit's gate
    # Back after being forgotten: her place in the conversation comes from the store.
    await people[2].press(menus[2], "nav:numbers")
    assert (await answer(people[2])).screen["text"]


@pytest.mark.usefixtures("in_process", "unpaced")
async def test_a_step_leaves_no_garbage_for_the_collector(
    emulator: BotApiEmulator, start_bot: StartBot
) -> None:
    """A step's model is freed as soon as the step ends, not by the garbage collector's full
    passes, which come rarely in a process with many long-lived objects: until then every
    person's last step stayed in memory (bench/README.md, Memory)."""
    running = await start_bot()
    gc.collect()
    gc.disable()
    try:
        people = [emulator.user(6200 + i, language_code="fr") for i in range(3)]
        menus = [(await start_in(person)).screen for person in people]
        for person, menu in zip(people, menus, strict=True):
            await person.press(menu, "nav:numbers")
            await answer(person)
        await idle(emulator, running.settings.db_path)
        assert [o for o in gc.get_objects() if isinstance(o, FlowModel)] == []
    finally:
        gc.enable()
    # Her conversation goes on from the store.
    await people[0].press(menus[0], "nav:centre")
    assert (await answer(people[0])).screen["text"]
