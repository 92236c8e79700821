"""Words that protect (issue 17), end to end against the emulator: help words reach the danger
screen from several states, also during a case; consent shows the limits of confidentiality;
messages that may reach her out of the app start neutral and ring silently."""

from __future__ import annotations

import pytest

import bot.app
from bot.emulator import ApiCall, BotApiEmulator, FakeUser
from bot.flows.survivor import IF_NOBODY_ANSWERS
from bot.hotline import service
from bot.hotline.outbox import CARD_OPEN
from tests.conftest import StartBot
from tests.hotline_helpers import (
    HOTLINE,
    Desk,
    Looks,
    button_data,
    execute,
    fr,
    from_bot,
    texts,
    wait_case,
    wait_until,
)
from tests.journey import Answer, answer, first_line

pytestmark = pytest.mark.usefixtures("unpaced", "in_process")  # what is said, not pace or wire

DANGER = "☎️ Numéros utiles"
# Words that would tell someone glancing at a lock screen what the chat is about.
REVEALING = ("violence", "viol", "vbg", "sexu", "abus", "agress", "victim", "surviv", "plainte",
             "vih", "danger", "🆘", "écoute")  # fmt: skip


def check_danger(got: Answer) -> None:
    """The numbers as cards, at once, then the danger screen with the menu's buttons."""
    assert len(got.contacts) == 4
    assert [("contact" in m) for m in got.sent] == [True] * 4 + [False]
    assert first_line(got.sent[-1]) == DANGER
    assert fr(IF_NOBODY_ANSWERS) in got.sent[-1]["text"]
    assert {"nav:plan", "nav:centre", "nav:talk", "exit"} <= set(button_data(got.sent[-1]))


def to_her(emulator: BotApiEmulator, person: FakeUser, method: str) -> list[ApiCall]:
    return [c for c in emulator.calls if c.method == method and c.params["chat_id"] == person.id]


async def test_help_words_reach_the_danger_screen_from_several_states_and_during_a_case(
    emulator: BotApiEmulator, start_bot: StartBot
) -> None:
    await start_bot(**HOTLINE)
    desk = Desk.make(emulator)
    awa = emulator.user(1701, "Awa", language_code="fr")

    await awa.send("au secours")  # her very first message
    got = await answer(awa)
    check_danger(got)
    await awa.press(got.screen, "nav:centre")  # where are you? a help word is not a place
    await answer(awa, location_prompt=True)
    await awa.send("Aidez moi svp")
    got = await answer(awa)
    check_danger(got)

    await awa.press(got.screen, "nav:talk")
    consent = (await answer(awa)).screen
    for must in (  # the limits of confidentiality, and what is kept (point 1)
        "pouvez-vous écrire en sécurité maintenant",
        "vos messages sont copiés dans ce groupe et y restent",
        "sauf si une vie est en danger, ou si un enfant de moins de 18 ans est en danger",
        "L'équipe peut alors devoir alerter un service de protection, et elle vous le dira avant.",
        "Elles ne peuvent pas envoyer de secours chez vous.",
    ):
        assert must in consent["text"], must
    assert "n'en garde aucun" not in consent["text"]
    await awa.send("SOS")  # on the consent screen
    got = await answer(awa)
    check_danger(got)

    # During her case the help word reaches staff, and the numbers reach her at once.
    await awa.press(got.screen, "nav:talk")
    before = set(desk.group.topics)
    await awa.press((await answer(awa)).screen, "talk:agree")
    case = await wait_case(desk, before)
    said = await awa.send("n dɛmɛ")
    await wait_until(lambda: said["text"] in texts(desk.in_topic(case)), what="her word to staff")
    danger = await wait_until(
        lambda: next((m for m in from_bot(emulator, awa) if first_line(m) == DANGER
                      and "case:end" in button_data(m)), None),
        what="the danger screen during her case",
    )  # fmt: skip
    assert button_data(danger) == ["case:end", "exit"]


async def test_what_reaches_her_out_of_the_app_starts_neutral_and_rings_silently(
    emulator: BotApiEmulator, start_bot: StartBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bot.app, "REMIND_INTERVAL", 0.1)
    looks = Looks.watch(monkeypatch)
    running = await start_bot(**HOTLINE, HOTLINE_REMINDER_MINUTES="1")
    desk = Desk.make(emulator)
    awa = emulator.user(1702, "Awa", language_code="fr")
    await awa.send("/start")
    await awa.press((await answer(awa)).screen, "lang:fr")
    await awa.press((await answer(awa)).screen, "nav:talk")
    before = set(desk.group.topics)
    await awa.press((await answer(awa)).screen, "talk:agree")
    case = await wait_case(desk, before)
    # Staff are told what may show on her lock screen.
    neutral = fr(CARD_OPEN).split("\n")[-1]
    assert neutral.startswith("Commencez chaque réponse par une ligne neutre")
    assert desk.card(case)["text"].endswith(neutral)

    # Nobody claimed it in time: a reminder to her.
    await looks.next()
    execute(running.settings.db_path, "UPDATE cases SET opened_at = opened_at - 120")
    waiting = fr(service.STILL_WAITING)
    await wait_until(lambda: waiting in texts(from_bot(emulator, awa)), what="the reminder")
    # A staff reply, then the closing note.
    await desk.claim(desk.fatou, case)
    await desk.fatou.send("Bonjour. Je suis là.", thread_id=case.thread_id)
    await wait_until(lambda: to_her(emulator, awa, "copyMessage"), what="the reply")
    await desk.fatou.send("/close", thread_id=case.thread_id)
    closed = fr(service.CLOSED_BY_STAFF)
    await wait_until(lambda: closed in texts(from_bot(emulator, awa)), what="the closing note")

    for text in (waiting, closed):
        line = text.split("\n")[0].lower()
        assert not [word for word in REVEALING if word in line], line
        (call,) = [c for c in to_her(emulator, awa, "sendMessage") if c.params["text"] == text]
        assert call.params.get("disable_notification") is True, text
    (reply,) = to_her(emulator, awa, "copyMessage")
    assert reply.params.get("disable_notification") is True
    # What she saw while in the app rings as usual.
    received = [
        c for c in to_her(emulator, awa, "sendMessage") if "file d'attente" in c.params["text"]
    ]
    assert received
    assert not received[0].params.get("disable_notification")
