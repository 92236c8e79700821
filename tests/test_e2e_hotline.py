"""The hotline handover end to end: two survivors (Awa, Mariam) and two staff members (Fatou,
Kadiatou) in the staff forum, through the emulator over real HTTP."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

import bot.app
from bot.config import PROJECT_ROOT
from bot.emulator import BotApiEmulator
from bot.flows.screens import t
from bot.handlers import staff
from bot.hotline import service
from bot.hotline.hours import BAMAKO, DAYS, Hours
from tests.conftest import SECRET, TOKEN, StartBot
from tests.hotline_helpers import (
    HOTLINE,
    STAFF,
    CallOffs,
    Desk,
    Looks,
    button_data,
    buttons,
    calls_to,
    case_id_of,
    count_of,
    delete_topic,
    execute,
    fr,
    from_bot,
    idle,
    monotonic,
    open_case,
    open_cases,
    posted,
    query,
    screen_with,
    texts,
    to_consent,
    wait_case,
    wait_for_content,
    wait_until,
)

# In process: what reaches her and staff, at Telegram's pace, without the wire.
pytestmark = pytest.mark.usefixtures("in_process")


async def test_consent_first_then_one_case_and_one_topic_per_person_even_under_double_taps(
    emulator: BotApiEmulator, start_bot: StartBot
) -> None:
    running = await start_bot(**HOTLINE)
    desk = Desk.make(emulator)
    awa, mariam = emulator.user(1001, "Awa"), emulator.user(1002, "Mariam")
    consent, other_consent = await asyncio.gather(to_consent(awa), to_consent(mariam))
    text = consent["text"]
    assert fr(t("Someone is reading now.")) in text
    assert "formées" in text  # trained staff read
    assert "copiés dans ce groupe et y restent" in text  # the truth: staff keep a copy a while
    assert "lundi–dimanche 00:00–24:00" in text  # the hours
    assert "« Terminer la conversation », ou la sortie rapide" in text  # she can stop any time
    assert button_data(consent)[:2] == ["talk:agree", "nav:menu"]
    assert "exit" in button_data(consent)
    # Going back opens nothing.
    await mariam.press(other_consent, "nav:menu")
    menu = await screen_with(mariam, "nav:talk")
    assert desk.group.topics == {}
    assert query(running.settings.db_path, "SELECT COUNT(*) FROM cases") == [(0,)]

    before = set(desk.group.topics)
    await awa.press(consent, "talk:agree")
    await awa.press(consent, "talk:agree")  # a double tap: both updates arrive
    case = await wait_case(desk, before)
    received = fr(service.RECEIVED, position=1)
    await wait_until(lambda: received in texts(from_bot(emulator, awa)), what="her queue place")
    await awa.press(consent, "talk:agree")  # later still: the open case is reused
    await idle(emulator, running.settings.db_path)  # handled, and all it queued is sent
    assert len(desk.group.topics) == 1
    assert len(calls_to(emulator, "createForumTopic", STAFF, ok=False)) == 1
    assert texts(from_bot(emulator, awa)).count(received) == 1
    assert query(running.settings.db_path, "SELECT COUNT(*) FROM cases") == [(1,)]
    # The topic is named by a random code and the language, with a card to claim or close.
    assert case.name.endswith(" · fr")
    assert len(case.code) == 4
    assert [d.split(":")[1] for d in button_data(desk.card(case))] == ["claim", "close"]
    # A second survivor gets her own case, second in the queue.
    await mariam.press(menu, "nav:talk")
    second = await open_case(desk, mariam, consent=await screen_with(mariam, "talk:agree"))
    assert second.thread_id != case.thread_id
    assert second.code != case.code
    await wait_until(
        lambda: fr(service.RECEIVED, position=2) in texts(from_bot(emulator, mariam)),
        what="Mariam's queue place",
    )


async def test_the_claim_race_has_one_winner_and_only_she_reaches_the_person(
    emulator: BotApiEmulator, start_bot: StartBot
) -> None:
    running = await start_bot(**HOTLINE)
    desk = Desk.make(emulator)
    fatou, kadi = desk.fatou, desk.kadi
    awa = emulator.user(1001, "Awa")
    case = await open_case(desk, awa)

    # Before anyone claims, nobody's message reaches her.
    early = await kadi.send("Bonjour ?", thread_id=case.thread_id)
    await wait_until(lambda: desk.notices(case) == [fr(staff.CLAIM_FIRST)], what="claim first")

    card = desk.card(case)
    claim = next(d for d in button_data(card) if d.startswith("case:claim:"))
    await fatou.press(card, claim)
    await kadi.press(card, claim)  # at the same moment
    answers = {}
    for _ in range(2):
        event = await desk.group.next_event()
        while event.kind != "answer":
            event = await desk.group.next_event()
        answers[event.callback_query_id] = (event.text, event.show_alert)
    assert sorted(answers.values()) == sorted(
        [(fr(staff.CLAIMED), False), (fr(staff.ALREADY_TAKEN), True)]
    )
    taken = await desk.wait_card(case, lambda c: "Fatou" in c["text"])
    assert "Kadiatou" not in taken["text"]
    assert [d.split(":")[1] for d in button_data(taken)] == ["release", "close"]

    # The other member is told why her reply does not go out; she cannot close the case.
    refused = await kadi.send("Je m'en occupe", thread_id=case.thread_id)
    await wait_until(lambda: desk.notices(case).count(fr(staff.TAKEN)) == 1)
    await kadi.press(desk.card(case), f"case:close:{claim.rsplit(':', 1)[1]}")
    await kadi.send("/close", thread_id=case.thread_id)
    await wait_until(lambda: fr(staff.NOT_YOURS) in desk.notices(case))
    # Notes, hers or anyone's, stay in the topic, unanswered.
    notes = [
        await fatou.send("/note elle a peur de son mari", thread_id=case.thread_id),
        await kadi.send("/note je peux prendre le relais demain", thread_id=case.thread_id),
    ]
    mine = await fatou.send("Bonjour, je m'appelle Fatou, je suis là.", thread_id=case.thread_id)
    # Her lane keeps order: once the message after the notes is there, a relayed note would be.
    await wait_for_content(emulator, awa.id, mine)
    assert [count_of(from_bot(emulator, awa), n) for n in notes] == [0, 0]
    assert desk.notices(case) == [fr(staff.CLAIM_FIRST), fr(staff.TAKEN), fr(staff.NOT_YOURS)]

    # She releases it; now Kadiatou can take it over.
    await fatou.press(desk.card(case), f"case:release:{claim.rsplit(':', 1)[1]}")
    await desk.wait_card(case, lambda c: claim in button_data(c))
    await desk.claim(kadi, case)
    hers = await kadi.send("C'est Kadiatou qui continue avec vous.", thread_id=case.thread_id)
    await wait_for_content(emulator, awa.id, hers)
    await idle(emulator, running.settings.db_path)  # nothing else is on its way to her
    got = from_bot(emulator, awa)
    assert [count_of(got, m) for m in (early, refused, mine, hers)] == [0, 0, 1, 1]
    assert [m.get("text") for m in got][-2:] == [mine["text"], hers["text"]]


async def test_text_voice_and_photo_are_copied_both_ways_never_forwarded(
    emulator: BotApiEmulator, start_bot: StartBot
) -> None:
    running = await start_bot(**HOTLINE)
    desk = Desk.make(emulator)
    awa, mariam = emulator.user(1001, "Awa"), emulator.user(1002, "Mariam")
    case, other = await open_cases(desk, awa, mariam)
    await desk.claim(desk.fatou, case)
    await desk.claim(desk.kadi, other)
    seen_by_her = len(from_bot(emulator, awa))

    hers = [
        await awa.send("J'ai besoin d'aide"),
        await awa.send_voice(),
        await awa.send_photo(caption="regardez"),
    ]
    from_mariam = await mariam.send("Moi aussi")
    for message in hers:
        await wait_for_content(emulator, STAFF, message, case.thread_id)
    await wait_for_content(emulator, STAFF, from_mariam, other.thread_id)

    replies = [
        await desk.fatou.send("Je vous écoute.", thread_id=case.thread_id),
        await desk.send_media(desk.fatou, case, "voice"),
        await desk.send_media(desk.fatou, case, "photo", caption="le centre"),
    ]
    to_mariam = await desk.kadi.send("Je suis avec vous, Mariam.", thread_id=other.thread_id)
    for message in replies:
        await wait_for_content(emulator, awa.id, message)
    await wait_for_content(emulator, mariam.id, to_mariam)
    await idle(emulator, running.settings.db_path)  # no menu, no second copy still to come

    topic = desk.in_topic(case)
    relayed_in = [m for m in topic if any(k in m for k in ("voice", "photo"))
                  or m.get("text") == hers[0]["text"]]  # fmt: skip
    assert [count_of(topic, m) for m in hers] == [1, 1, 1]
    assert [m["message_id"] for m in relayed_in] == sorted(m["message_id"] for m in relayed_in)
    assert relayed_in[2]["caption"] == "regardez"
    assert count_of(topic, from_mariam) == 0  # no crossed wires
    assert count_of(desk.in_topic(other), from_mariam) == 1

    got = from_bot(emulator, awa)[seen_by_her:]
    # Only the copies: the bot's menus stay quiet while her case is open.
    assert [m.get("text") or next(k for k in ("voice", "photo") if k in m) for m in got] == [
        "Je vous écoute.", "voice", "photo",
    ]  # fmt: skip
    assert got[2]["caption"] == "le centre"
    assert [count_of(got, m) for m in replies] == [1, 1, 1]
    assert count_of(got, to_mariam) == 0
    for message in got + relayed_in:
        assert "forward_origin" not in message
        assert message["from"]["id"] == emulator.world.bot_user["id"]
    assert all(m.get("has_protected_content") for m in got)  # her chat may be on a shared phone
    assert not [c for c in emulator.calls if c.method.startswith("forward")]
    assert buttons(desk.card(case))  # still open


async def test_staff_close_by_button_or_command_tells_both_sides_and_keeps_only_metadata(
    emulator: BotApiEmulator, start_bot: StartBot
) -> None:
    running = await start_bot(**HOTLINE)
    desk = Desk.make(emulator)
    awa, mariam = emulator.user(1001, "Awa"), emulator.user(1002, "Mariam")
    case, other = await open_cases(desk, awa, mariam)
    await desk.claim(desk.fatou, case)

    await desk.fatou.press(desk.card(case), f"case:close:{case_id_of(desk.card(case))}")
    closing = await wait_until(
        lambda: next((m for m in from_bot(emulator, awa)
                      if m.get("text") == fr(service.CLOSED_BY_STAFF)), None),
        what="her closing message",
    )  # fmt: skip
    assert button_data(closing) == ["nav:menu", "exit"]
    await desk.wait_text(case, fr(service.STAFF_CLOSED))
    closed = await desk.wait_card(case, lambda c: not buttons(c))
    assert closed["text"].startswith(f"Cas {case.code}")
    await wait_until(lambda: desk.group.topics[case.thread_id].closed, what="the topic closed")

    # An unclaimed case: any member may close it with /close.
    await desk.kadi.send("/close", thread_id=other.thread_id)
    await wait_until(lambda: fr(service.CLOSED_BY_STAFF) in texts(from_bot(emulator, mariam)))
    await wait_until(lambda: desk.group.topics[other.thread_id].closed, what="her topic closed")
    assert fr(service.STAFF_CLOSED) in desk.notices(other)

    # She is back at the menu: what she writes now is not relayed.
    after = await awa.send("merci")
    await screen_with(awa, "nav:talk")
    assert count_of(desk.in_topic(case), after) == 0
    rows = query(running.settings.db_path,
                 "SELECT status, outcome, person_key, chat_sealed, closed_at IS NOT NULL "
                 "FROM cases ORDER BY id")  # fmt: skip
    assert rows == [("closed", "closed_by_staff", None, None, 1)] * 2


async def test_she_ends_it_with_a_button_or_leaves_by_the_quick_exit(
    emulator: BotApiEmulator, start_bot: StartBot
) -> None:
    running = await start_bot(**HOTLINE)
    desk = Desk.make(emulator)
    awa, mariam = emulator.user(1001, "Awa"), emulator.user(1002, "Mariam")
    case, other = await open_cases(desk, awa, mariam)
    await desk.claim(desk.fatou, case)
    await desk.claim(desk.kadi, other)

    await awa.press(await screen_with(awa, "case:end"), "case:end")
    ended = await wait_until(
        lambda: next((m for m in from_bot(emulator, awa)
                      if m.get("text") == fr(service.ENDED_BY_YOU)), None),
        what="her goodbye",
    )  # fmt: skip
    assert "nav:menu" in button_data(ended)
    await desk.wait_text(case, fr(service.STAFF_ENDED))
    await wait_until(lambda: desk.group.topics[case.thread_id].closed, what="the topic closed")

    # The quick exit: her chat is wiped, staff learn only that she left.
    reply = await desk.kadi.send("Je suis là pour vous.", thread_id=other.thread_id)
    await wait_for_content(emulator, mariam.id, reply)
    await mariam.send("/exit")
    await desk.wait_text(other, fr(service.STAFF_PERSON_LEFT))
    await wait_until(lambda: desk.group.topics[other.thread_id].closed, what="her topic closed")
    await idle(emulator, running.settings.db_path)
    assert [m.get("text") for m in mariam.messages] == ["Bonne journée."]
    assert desk.notices(other) == [fr(service.STAFF_PERSON_LEFT)]  # nothing else about her
    rows = query(running.settings.db_path, "SELECT outcome, person_key, chat_sealed FROM cases "
                 "ORDER BY id")  # fmt: skip
    assert rows == [("ended_by_person", None, None), ("person_left", None, None)]


async def test_outside_hours_she_is_told_when_someone_reads_and_may_write_anyway(
    emulator: BotApiEmulator, start_bot: StartBot
) -> None:
    today = datetime.now(UTC).astimezone(BAMAKO).weekday()
    hours = f"{DAYS[(today + 2) % 7]} 08:00-17:00"  # the day after tomorrow only
    await start_bot(HOTLINE_CHAT_ID=str(STAFF), HOTLINE_HOURS=hours)
    desk = Desk.make(emulator)
    awa = emulator.user(1001, "Awa")
    opening = Hours.parse(hours).next_opening(datetime.now(UTC)).strftime("%d/%m %H:%M")
    assert opening.endswith(" 08:00")
    consent = await to_consent(awa)
    assert opening in consent["text"]
    assert fr(t("Someone is reading now.")) not in consent["text"]
    assert {"talk:agree", "nav:numbers", "nav:centre"} <= set(button_data(consent))
    case = await open_case(desk, awa, consent=consent)
    await wait_until(
        lambda: fr(service.READ_FROM, opening=opening) in texts(from_bot(emulator, awa)),
        what="when someone will read",
    )
    message = await awa.send("Je laisse un message")
    await wait_for_content(emulator, STAFF, message, case.thread_id)


async def test_one_reminder_for_a_case_nobody_claimed_and_an_honest_word_to_her(
    emulator: BotApiEmulator, start_bot: StartBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bot.app, "REMIND_INTERVAL", 0.1)  # the same job, looking more often
    looks = Looks.watch(monkeypatch)
    running = await start_bot(**HOTLINE, HOTLINE_REMINDER_MINUTES="1")
    db_path = running.settings.db_path
    desk = Desk.make(emulator)
    awa, mariam = emulator.user(1001, "Awa"), emulator.user(1002, "Mariam")
    waiting, taken = await open_cases(desk, awa, mariam)
    await desk.claim(desk.kadi, taken)
    assert await looks.next() == [0]  # a look: not yet a minute
    await idle(emulator, db_path)
    assert fr(service.STAFF_REMINDER) not in desk.notices(waiting)
    execute(db_path, "UPDATE cases SET opened_at = opened_at - 120")
    await desk.wait_text(waiting, fr(service.STAFF_REMINDER))
    await wait_until(lambda: fr(service.STILL_WAITING) in texts(from_bot(emulator, awa)))
    assert await looks.next(3) == [0, 0, 0]  # three more looks: nobody reminded again
    await idle(emulator, db_path)
    assert desk.notices(waiting).count(fr(service.STAFF_REMINDER)) == 1
    assert texts(from_bot(emulator, awa)).count(fr(service.STILL_WAITING)) == 1
    assert fr(service.STAFF_REMINDER) not in desk.notices(taken)  # claimed in time
    assert fr(service.STILL_WAITING) not in texts(from_bot(emulator, mariam))


async def test_a_deleted_topic_is_made_again_with_a_note_and_nothing_is_lost(
    emulator: BotApiEmulator, start_bot: StartBot
) -> None:
    running = await start_bot(**HOTLINE)
    desk = Desk.make(emulator)
    awa = emulator.user(1001, "Awa")
    case = await open_case(desk, awa)
    await desk.claim(desk.fatou, case)
    first = await awa.send("Premier message")
    await wait_for_content(emulator, STAFF, first, case.thread_id)
    await delete_topic(emulator, STAFF, case.thread_id)

    second = await awa.send("Deuxième message")
    again = await wait_case(desk, {case.thread_id})
    assert again.name == case.name  # same code, same language
    copy = await wait_for_content(emulator, STAFF, second, again.thread_id)
    note = await desk.wait_text(again, fr(service.STAFF_NEW_TOPIC))
    assert again.card_id < note["message_id"] < copy["message_id"]
    assert count_of(desk.in_topic(again), first) == 0
    assert query(running.settings.db_path, "SELECT thread_id FROM cases") == [(again.thread_id,)]
    # Staff go on in the new topic.
    reply = await desk.fatou.send("Je vois votre message.", thread_id=again.thread_id)
    await wait_for_content(emulator, awa.id, reply)
    assert count_of(posted(emulator, STAFF), second) == 1


async def test_a_remade_topic_card_still_says_who_took_the_case(
    emulator: BotApiEmulator, start_bot: StartBot
) -> None:
    await start_bot(**HOTLINE)
    desk = Desk.make(emulator)
    awa = emulator.user(1001, "Awa")
    case = await open_case(desk, awa)
    await desk.claim(desk.fatou, case)
    await delete_topic(emulator, STAFF, case.thread_id)
    await awa.send("Vous êtes là ?")
    again = await wait_case(desk, {case.thread_id})
    assert "Pris par Fatou" in desk.card(again)["text"]


async def test_when_she_blocked_the_bot_the_case_closes_as_unreachable(
    emulator: BotApiEmulator, start_bot: StartBot
) -> None:
    running = await start_bot(**HOTLINE)
    desk = Desk.make(emulator)
    awa = emulator.user(1001, "Awa")
    case = await open_case(desk, awa)
    await desk.claim(desk.fatou, case)
    await awa.block()
    await desk.fatou.send("Êtes-vous toujours là ?", thread_id=case.thread_id)
    closed = await desk.wait_card(case, lambda c: not buttons(c))
    assert closed["text"].startswith(f"Cas {case.code}")
    await wait_until(lambda: desk.group.topics[case.thread_id].closed, what="the topic closed")
    assert query(running.settings.db_path, "SELECT outcome, chat_sealed FROM cases") == [
        ("unreachable", None)
    ]
    await idle(emulator, running.settings.db_path)  # a retry would keep the outbox waiting
    assert query(running.settings.db_path, "SELECT COUNT(*) FROM outbox") == [(0,)]
    assert len(calls_to(emulator, "copyMessage", awa.id, ok=False)) == 1  # not retried


async def _quiet_outbox(db_path: Path) -> None:
    await wait_until(
        lambda: query(db_path, "SELECT COUNT(*) FROM outbox") == [(0,)], what="an empty outbox"
    )


async def test_staff_are_told_when_she_blocked_the_bot(
    emulator: BotApiEmulator, start_bot: StartBot
) -> None:
    running = await start_bot(**HOTLINE)
    desk = Desk.make(emulator)
    awa = emulator.user(1001, "Awa")
    case = await open_case(desk, awa)
    await desk.claim(desk.fatou, case)
    await _quiet_outbox(running.settings.db_path)
    await awa.block()
    await desk.fatou.send("Êtes-vous toujours là ?", thread_id=case.thread_id)
    await wait_until(lambda: desk.group.topics[case.thread_id].closed, what="the topic closed")
    await desk.wait_text(case, fr(service.STAFF_UNREACHABLE))


async def test_a_message_to_her_that_fails_for_good_is_marked_in_the_topic(
    emulator: BotApiEmulator, start_bot: StartBot
) -> None:
    running = await start_bot(**HOTLINE)
    desk = Desk.make(emulator)
    awa = emulator.user(1001, "Awa")
    case = await open_case(desk, awa)
    await desk.claim(desk.fatou, case)
    await _quiet_outbox(running.settings.db_path)
    emulator.fail("copyMessage", status=400, description="Bad Request: message to copy not found",
                  chat_id=awa.id)  # fmt: skip
    lost = await desk.fatou.send("Ce message se perd", thread_id=case.thread_id)
    await wait_until(lambda: calls_to(emulator, "copyMessage", awa.id, ok=False), what="the try")
    await desk.wait_text(case, fr(service.STAFF_NOT_DELIVERED))
    await idle(emulator, running.settings.db_path)  # given up: no later try is waiting
    assert count_of(from_bot(emulator, awa), lost) == 0


async def test_a_429_burst_on_the_staff_group_drains_without_loss_and_does_not_hold_her_up(
    emulator: BotApiEmulator, start_bot: StartBot
) -> None:
    running = await start_bot(**HOTLINE)
    desk = Desk.make(emulator)
    awa = emulator.user(1001, "Awa")
    case = await open_case(desk, awa)
    await desk.claim(desk.fatou, case)
    await idle(emulator, running.settings.db_path)  # the burst starts from a quiet bot
    emulator.fail("copyMessage", status=429, description="Too Many Requests: retry after 2",
                  retry_after=2, times=2, chat_id=STAFF)  # fmt: skip
    burst_start = monotonic()
    hers = [await awa.send(f"Message {i} d'Awa") for i in range(1, 4)]
    staff_side = [
        await desk.fatou.send(f"Réponse {i} de Fatou", thread_id=case.thread_id)
        for i in range(1, 4)
    ]
    for message in staff_side:
        await wait_for_content(emulator, awa.id, message)
    for message in hers:
        await wait_for_content(emulator, STAFF, message, case.thread_id, timeout=30)
    await idle(emulator, running.settings.db_path)

    got, topic = from_bot(emulator, awa), desk.in_topic(case)
    assert [count_of(got, m) for m in staff_side] == [1, 1, 1]
    assert [count_of(topic, m) for m in hers] == [1, 1, 1]
    assert [m["text"] for m in got if m.get("text", "").startswith("Réponse")] == [
        m["text"] for m in staff_side
    ]
    assert [m["text"] for m in topic if m.get("text", "").startswith("Message")] == [
        m["text"] for m in hers
    ]
    to_her = calls_to(emulator, "copyMessage", awa.id)
    to_staff = [c for c in calls_to(emulator, "copyMessage", STAFF, ok=False)
                if c.time >= burst_start]  # fmt: skip
    refused = [c for c in to_staff if c.error is not None]
    assert [c.error.status for c in refused if c.error] == [429, 429]
    # Each retry waited retry_after for that chat.
    for earlier, later in itertools.pairwise(to_staff[:3]):
        assert later.time - earlier.time >= 1.9
    first_in = min(c.time for c in to_staff if c.ok)
    # Her messages went out while the staff group was still held back.
    delivered = [c.finished for c in to_her if c.finished is not None]
    assert len(delivered) == 3
    assert max(delivered) < first_in
    assert max(delivered) - burst_start < 3.0


BM_STAFF = -1009876543210


async def test_cases_go_to_the_staff_group_of_their_language(
    emulator: BotApiEmulator, start_bot: StartBot
) -> None:
    await start_bot(**HOTLINE, HOTLINE_CHAT_IDS=f"bm:{BM_STAFF}")
    desk, bm_desk = Desk.make(emulator), Desk.make(emulator, BM_STAFF)
    awa, mariam = emulator.user(1001, "Awa"), emulator.user(1002, "Mariam")
    case = await open_case(desk, awa)
    bm_case = await open_case(bm_desk, mariam, language="bm")
    assert case.name.endswith(" · fr")
    assert bm_case.name.endswith(" · bm")
    assert list(desk.group.topics) == [case.thread_id]
    await bm_desk.claim(bm_desk.kadi, bm_case)
    reply = await bm_desk.kadi.send("I ni ce", thread_id=bm_case.thread_id)
    await wait_for_content(emulator, mariam.id, reply)


async def test_the_bot_stays_in_a_language_staff_group_it_is_added_to(
    emulator: BotApiEmulator, start_bot: StartBot
) -> None:
    running = await start_bot(**HOTLINE, HOTLINE_CHAT_IDS=f"bm:{BM_STAFF}")
    bm_group = emulator.forum(BM_STAFF, "Ligne d'écoute bm")
    await bm_group.my_chat_member("administrator", by=emulator.user(3003, "Fatou"))
    await idle(emulator, running.settings.db_path)  # the update is handled
    assert not [c for c in emulator.calls if c.method == "leaveChat"]


async def test_a_403_from_the_staff_group_neither_closes_her_case_nor_loses_her_message(
    emulator: BotApiEmulator, start_bot: StartBot
) -> None:
    running = await start_bot(**HOTLINE)
    desk = Desk.make(emulator)
    awa = emulator.user(1001, "Awa")
    case = await open_case(desk, awa)
    emulator.fail("copyMessage", status=403, chat_id=STAFF,
                  description="Forbidden: bot is not a member of the supergroup chat")  # fmt: skip
    message = await awa.send("Aidez-moi s'il vous plaît")
    await wait_until(lambda: calls_to(emulator, "copyMessage", STAFF, ok=False), what="the try")
    await wait_until(
        lambda: query(running.settings.db_path, "SELECT id FROM outbox WHERE attempts > 0"),
        what="the 403 taken in: the job waits for its next try",
    )
    assert query(running.settings.db_path, "SELECT status FROM cases") == [("open",)]
    await wait_for_content(emulator, STAFF, message, case.thread_id)  # the try after a second
    assert query(running.settings.db_path, "SELECT status FROM cases") == [("open",)]


async def test_after_the_quick_exit_no_staff_reply_in_flight_stays_in_her_chat(
    emulator: BotApiEmulator, start_bot: StartBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    call_offs = CallOffs.watch(monkeypatch)
    running = await start_bot(**HOTLINE)
    desk = Desk.make(emulator)
    awa = emulator.user(1001, "Awa")
    case = await open_case(desk, awa)
    await desk.claim(desk.fatou, case)
    emulator.fail("copyMessage", status=429, description="Too Many Requests: retry after 2",
                  retry_after=2, chat_id=awa.id)  # fmt: skip
    await desk.fatou.send("Êtes-vous là ?", thread_id=case.thread_id)
    await wait_until(lambda: calls_to(emulator, "copyMessage", awa.id, ok=False), what="the try")
    await awa.send("/exit")
    await desk.wait_text(case, fr(service.STAFF_PERSON_LEFT))
    # The reply waits out the 429's pause in the rate limiter (her exit dropped its outbox row
    # meanwhile); then it meets her exit's gate, or (were it let through) reaches Telegram.
    await wait_until(
        lambda: call_offs.count or len(calls_to(emulator, "copyMessage", awa.id, ok=False)) > 1,
        what="the reply's next try",
    )
    await idle(emulator, running.settings.db_path)
    assert [m.get("text") for m in awa.messages] == ["Bonne journée."]


async def test_a_quick_exit_after_her_case_closed_stops_what_still_waits_for_her(
    emulator: BotApiEmulator, start_bot: StartBot
) -> None:
    running = await start_bot(**HOTLINE)
    desk = Desk.make(emulator)
    awa = emulator.user(1001, "Awa")
    case = await open_case(desk, awa)
    await desk.claim(desk.fatou, case)
    # The closing note to her fails the rate limiter's three tries; the outbox tries it later.
    emulator.fail("sendMessage", status=500, description="Internal Server Error",
                  chat_id=awa.id, times=3)  # fmt: skip
    await desk.fatou.send("/close", thread_id=case.thread_id)
    await wait_until(
        lambda: (
            len([c for c in calls_to(emulator, "sendMessage", awa.id, ok=False) if not c.ok]) == 3
        ),
        what="the note's three tries",
    )
    await awa.send("/exit")  # her case is closed: only her quick exit knows of the note now
    # Idle once the note is dropped; had it been kept, once its next try had sent it.
    await idle(emulator, running.settings.db_path)
    assert [m.get("text") for m in awa.messages] == ["Bonne journée."]


def _staff_side_dump(emulator: BotApiEmulator, chat_id: int) -> list[str]:
    """Everything the bot showed in a staff group, as JSON: its messages (texts, captions,
    files, buttons) and their edits, topic names, answers to button presses, and the
    parameters of every call it made there but copyMessage's from_chat_id."""
    me = emulator.world.bot_user["id"]
    chat = emulator.world.chats[chat_id]
    shown: list[object] = [t.as_dict() for t in chat.topics.values()]
    for event in chat.events:
        if event.kind == "answer":
            shown.append(event.text)
        elif event.message is not None and event.message["from"]["id"] == me:
            shown.append(event.message)
    for call in emulator.calls:
        if call.params.get("chat_id") == chat_id:
            shown.append({k: v for k, v in call.params.items() if k != "from_chat_id"})
    return [json.dumps(item, ensure_ascii=False) for item in shown]


async def test_nothing_shown_to_staff_names_or_identifies_her(
    emulator: BotApiEmulator, start_bot: StartBot
) -> None:
    running = await start_bot(**HOTLINE, HOTLINE_REMINDER_MINUTES="1")
    desk = Desk.make(emulator)
    aminata = emulator.user(987654321, "Aminata", username="aminata_k")
    case = await open_case(desk, aminata)
    hers = [
        await aminata.send("Bonjour, j'ai besoin de parler à quelqu'un"),
        await aminata.send_voice(),
        await aminata.send_photo(caption="la blessure"),
        await aminata.send_document("certificat.pdf", caption="le certificat"),
        await aminata.send_sticker(),
    ]
    # A file goes to staff only once she says yes to "Staff will see this file".
    share = f"share:{hers[3]['message_id']}"
    await aminata.press(await screen_with(aminata, share), share)
    for message in hers:
        await wait_for_content(emulator, STAFF, message, case.thread_id)
    await desk.kadi.send("Bonjour ?", thread_id=case.thread_id)  # told to claim first
    await desk.claim(desk.fatou, case)
    await desk.kadi.send("Je peux aider", thread_id=case.thread_id)  # told it is taken
    await desk.fatou.send("/note à rappeler demain", thread_id=case.thread_id)
    reply = await desk.fatou.send("Je suis là, je vous écoute.", thread_id=case.thread_id)
    await wait_for_content(emulator, aminata.id, reply)
    await aminata.press(await screen_with(aminata, "case:end"), "case:end")
    await desk.wait_text(case, fr(service.STAFF_ENDED))
    await wait_until(lambda: desk.group.topics[case.thread_id].closed, what="the topic closed")
    assert {fr(staff.CLAIM_FIRST), fr(staff.TAKEN)} <= set(desk.notices(case))

    shown = _staff_side_dump(emulator, STAFF)
    for expected in (case.name, "Pris par Fatou", fr(staff.CLAIMED), "certificat.pdf"):
        assert [s for s in shown if expected in s], expected  # the dump does cover all this
    for secret in ("Aminata", "aminata", "987654321"):
        assert not [s for s in shown if secret.lower() in s.lower()], secret
    copies = [m for m in desk.in_topic(case) if m["message_id"] > case.card_id]
    assert all("forward_origin" not in m for m in copies)
    assert "certificat.pdf" in json.dumps(copies)  # her file as she named it, nothing added

    # Nor is anything of her kept, once the case is closed.
    await running.shutdown()
    state = running.settings.db_path.parent
    raw = b"".join(p.read_bytes() for p in state.iterdir() if "sqlite3" in p.name)
    for secret_bytes in (b"987654321", b"Aminata", b"aminata_k", b"besoin"):
        assert secret_bytes not in raw


# --- a real process, killed -------------------------------------------------------------------

Spawn = Callable[[], Awaitable[asyncio.subprocess.Process]]


@pytest.fixture
async def spawn(emulator: BotApiEmulator, db_path: Path) -> AsyncIterator[Spawn]:
    """`python -m bot run` against the emulator, with the staff forum configured."""
    processes: list[asyncio.subprocess.Process] = []
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "BOT_", "HOT"))}
    env.update(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=emulator.base_url,
               BOT_DB_PATH=str(db_path), BOT_SECRET=SECRET, **HOTLINE)  # fmt: skip
    db_path.parent.mkdir(parents=True, exist_ok=True)

    async def start() -> asyncio.subprocess.Process:
        emulator.consume_calls()  # the next getUpdates is this process's
        log = (db_path.parent / f"bot-{len(processes)}.log").open("wb")
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=PROJECT_ROOT, env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=log,
        )  # fmt: skip
        log.close()
        processes.append(proc)
        await emulator.wait_for_call("getUpdates", timeout=30)
        return proc

    yield start
    for proc in processes:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def _kill(emulator: BotApiEmulator, proc: asyncio.subprocess.Process) -> None:
    """SIGKILL; then wait until the emulator has dropped the requests the process left held."""
    proc.kill()
    await proc.wait()
    await wait_until(
        lambda: all(c.finished is not None for c in emulator.calls if c.method != "getUpdates"),
        what="held requests dropped",
    )


async def test_sigkill_in_the_middle_of_a_relay_then_restart_delivers_everything_once(
    emulator: BotApiEmulator, spawn: Spawn, db_path: Path
) -> None:
    proc = await spawn()
    desk = Desk.make(emulator)
    awa = emulator.user(1001, "Awa")
    case = await open_case(desk, awa)
    await desk.claim(desk.fatou, case)
    await _quiet_outbox(db_path)

    emulator.set_latency(30.0, "copyMessage")  # copies are on their way when the kill comes
    hers = [await awa.send(f"Message {i} d'Awa") for i in range(1, 4)]
    replies = [
        await desk.fatou.send(f"Réponse {i} de Fatou", thread_id=case.thread_id)
        for i in range(1, 4)
    ]
    await wait_until(
        lambda: query(db_path, "SELECT COUNT(*) FROM outbox") == [(6,)], what="six jobs queued"
    )
    held = await wait_until(
        lambda: (lambda c: c if len(c) == 2 else None)(
            [c for c in emulator.calls if c.method == "copyMessage" and c.finished is None]
        ),
        what="a copy in flight each way",
    )
    assert {c.params["chat_id"] for c in held} == {STAFF, awa.id}
    await _kill(emulator, proc)
    assert all(c.error is not None and c.error.status == 499 for c in held)  # never happened

    emulator.set_latency(0, "copyMessage")
    await spawn()
    for message in hers:
        await wait_for_content(emulator, STAFF, message, case.thread_id, timeout=20)
    for message in replies:
        await wait_for_content(emulator, awa.id, message, timeout=20)
    await idle(emulator, db_path)  # no second copy still to come
    topic, got = desk.in_topic(case), from_bot(emulator, awa)
    assert [count_of(topic, m) for m in hers] == [1, 1, 1]
    assert [count_of(got, m) for m in replies] == [1, 1, 1]
    assert [m["text"] for m in topic if m.get("text", "").startswith("Message")] == [
        m["text"] for m in hers
    ]
    assert [m["text"] for m in got if m.get("text", "").startswith("Réponse")] == [
        m["text"] for m in replies
    ]
    assert query(db_path, "SELECT COUNT(*) FROM outbox") == [(0,)]


async def test_sigkill_while_the_case_card_is_sent_makes_no_second_topic(
    emulator: BotApiEmulator, spawn: Spawn, db_path: Path
) -> None:
    proc = await spawn()
    desk = Desk.make(emulator)
    awa = emulator.user(1001, "Awa")
    consent = await to_consent(awa)
    emulator.set_latency(30.0, "sendMessage")
    await awa.press(consent, "talk:agree")
    await emulator.wait_for_call(
        "sendMessage", timeout=10, predicate=lambda c: c.params.get("chat_id") == STAFF
    )
    assert len(desk.group.topics) == 1
    await _kill(emulator, proc)
    emulator.set_latency(0, "sendMessage")
    await spawn()
    await wait_until(
        lambda: any(desk.group.topic_messages(t) for t in desk.group.topics), what="a card"
    )
    await idle(emulator, db_path)  # the resumed topic job is done
    assert len(desk.group.topics) == 1
