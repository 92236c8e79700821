"""Safety end to end, as an attacker and a careful hotline manager would check it: the real bot
against the emulator, the disk read with the key in hand, her chat flooded and left."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

import bot.app
from bot import private_chat as private
from bot.emulator import BotApiEmulator, FakeUser
from bot.flows.screens import t
from bot.keys import Keys
from tests.conftest import StartBot
from tests.hotline_helpers import (
    HOTLINE,
    STAFF,
    Desk,
    fr,
    idle,
    open_case,
    posted,
    query,
    screen_with,
    texts,
    to_consent,
    wait_for_content,
    wait_until,
)
from tests.journey import EXIT, answer, button_data, goodbye, start_in

USER_ID = 7_731_406_229
MOPTI = (14.4931, -4.1872)
GOODBYE = fr(private.GOODBYE)


class Sealed:
    """Every value the bot seals while the test runs, with what it holds: the key in hand."""

    def __init__(self) -> None:
        self.blobs: list[tuple[bytes, bytes]] = []

    def hers(self, marker: bytes) -> list[bytes]:
        return [blob for plain, blob in self.blobs if marker in plain]


@pytest.fixture
def sealed(monkeypatch: pytest.MonkeyPatch) -> Sealed:
    record = Sealed()
    seal = Keys.seal

    def recording(keys: Keys, plaintext: bytes, *, context: bytes) -> bytes:
        blob = seal(keys, plaintext, context=context)
        record.blobs.append((plaintext, blob))
        return blob

    monkeypatch.setattr(Keys, "seal", recording)
    return record


def disk(db_path: Path) -> bytes:
    """The database, its -wal and -shm, as they are on disk now."""
    files = [db_path.with_name(db_path.name + suffix) for suffix in ("", "-wal", "-shm")]
    return b"".join(p.read_bytes() for p in files if p.exists())


def readable(blobs: list[bytes], db_path: Path) -> list[bytes]:
    """The sealed values any part of which is still on disk. AES-GCM is a stream cipher: with the
    key, even a fragment (with its nonce) decrypts, so no 16 bytes of one may remain."""
    data = disk(db_path)
    return [
        blob
        for blob in blobs
        if any(blob[i : i + 16] in data for i in range(0, max(1, len(blob) - 15), 8))
    ]


async def test_after_her_quick_exit_nothing_of_hers_can_be_decrypted_from_the_disk(
    emulator: BotApiEmulator, start_bot: StartBot, sealed: Sealed
) -> None:
    running = await start_bot(**HOTLINE)
    db_path = running.settings.db_path
    desk = Desk.make(emulator)
    her = emulator.user(USER_ID, "Mariam", language_code="fr", username="mariam_kone_77")
    # A journey with a shared location and a typed town, then a hotline case.
    menu = (await start_in(her)).screen
    await her.press(menu, "nav:centre")
    await answer(her, location_prompt=True)
    await her.send_location(*MOPTI)
    await her.press((await answer(her)).screen, "nav:centre")
    await answer(her, location_prompt=True)
    await her.send("Kayse")
    confirm = (await answer(her)).screen
    await her.press(confirm, button_data(confirm)[0])
    await her.press((await answer(her)).screen, "nav:talk")
    case = await open_case(desk, her, consent=await screen_with(her, "talk:agree"))
    said = await her.send("il me frappe chaque soir")
    await wait_for_content(emulator, STAFF, said, case.thread_id)
    await desk.claim(desk.fatou, case)
    await desk.fatou.send("Nous sommes là.", thread_id=case.thread_id)
    await wait_until(lambda: "Nous sommes là." in texts(posted(emulator, her.id)))

    hers = sealed.hers(str(USER_ID).encode())
    assert len(hers) > 5  # her updates, her sealed chat id, the relays to and from her
    assert readable(hers, db_path)  # the check can see them while they are needed

    await her.press(await screen_with(her, EXIT), EXIT)
    await goodbye(her)
    await wait_until(lambda: not readable(hers, db_path), timeout=3, what="her data erased")
    assert query(db_path, "SELECT COUNT(*) FROM inbox") == [(0,)]
    await running.shutdown()
    assert readable(hers, db_path) == []


async def test_a_handled_update_leaves_the_disk_within_the_purge_interval(
    emulator: BotApiEmulator,
    start_bot: StartBot,
    sealed: Sealed,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert bot.app.PURGE_INTERVAL <= 60  # the promise: a minute at most
    monkeypatch.setattr(bot.app, "PURGE_INTERVAL", 0.5)  # the same job, sooner
    running = await start_bot()
    awa = emulator.user(2001, "Awa", language_code="fr")
    await awa.send("/start")
    await answer(awa)
    hers = sealed.hers(b'"id":2001') or sealed.hers(b'"id": 2001')
    assert hers
    await wait_until(lambda: not readable(hers, running.settings.db_path), timeout=5,
                     what="the handled update folded out of the WAL")  # fmt: skip


async def test_the_location_keyboard_goes_when_a_case_opens_and_what_shows_where_she_is_waits_for_her_yes(  # noqa: E501
    emulator: BotApiEmulator, start_bot: StartBot
) -> None:
    running = await start_bot(**HOTLINE)
    desk = Desk.make(emulator)
    awa = emulator.user(2002, "Awa", language_code="fr")
    await awa.press((await start_in(awa)).screen, "nav:centre")
    where = (await answer(awa, location_prompt=True)).screen
    assert awa.reply_keyboard is not None  # "share my location" is up
    await awa.press(where, "nav:menu")
    await awa.press((await answer(awa)).screen, "nav:talk")
    case = await open_case(desk, awa, consent=(await answer(awa)).screen)
    await wait_until(lambda: awa.reply_keyboard is None, what="the location keyboard removed")

    shared = await awa.send_location(*MOPTI)
    ask = await screen_with(awa, f"share:{shared['message_id']}")
    assert ask["text"] == fr(private.SHARE_LOCATION)
    contact = await awa.send_contact("+223 70 12 34 56", "Awa Traoré")
    ask_number = await screen_with(awa, "share:c:+22370123456")
    assert ask_number["text"] == fr(private.SHARE_CONTACT)
    document = await awa.send_document("certificat.pdf")
    ask_file = await screen_with(awa, f"share:{document['message_id']}")
    assert ask_file["text"] == fr(private.SHARE_FILE)
    await idle(emulator, running.settings.db_path)  # anything relayed would be in the topic now
    in_topic = desk.in_topic(case)
    assert not [m for m in in_topic if {"location", "contact", "document"} & m.keys()]

    await awa.press(ask_file, "share:no")
    await awa.press(ask, f"share:{shared['message_id']}")
    await awa.press(ask_number, "share:c:+22370123456")
    await wait_until(lambda: any("location" in m for m in desk.in_topic(case)), what="location")
    card = await wait_until(
        lambda: next((m["contact"] for m in desk.in_topic(case) if "contact" in m), None),
        what="the number",
    )
    assert card["phone_number"] == "+22370123456"
    assert "user_id" not in card
    assert "vcard" not in card
    assert contact["contact"]["first_name"] not in str(card)
    await idle(emulator, running.settings.db_path)
    assert not [m for m in desk.in_topic(case) if "document" in m]  # she said no


async def test_a_closed_case_takes_her_conversation_back_to_the_menu(
    emulator: BotApiEmulator, start_bot: StartBot
) -> None:
    running = await start_bot(**HOTLINE)
    desk = Desk.make(emulator)
    awa = emulator.user(2003, "Awa", language_code="fr")
    case = await open_case(desk, awa, consent=await to_consent(awa))
    assert query(running.settings.db_path, "SELECT state FROM conversations") == [("handover",)]
    await desk.claim(desk.fatou, case)
    await desk.fatou.send("/close", thread_id=case.thread_id)
    await wait_until(
        lambda: query(running.settings.db_path, "SELECT state FROM conversations") == [("menu",)],
        what="her conversation back at the menu",
    )


async def flood(person: FakeUser, count: int) -> None:
    for n in range(count):
        await person.send(f"message {n}")


async def test_a_flood_from_one_chat_holds_nobody_up_and_her_quick_exit_leaves_silence(
    emulator: BotApiEmulator, start_bot: StartBot
) -> None:
    running = await start_bot()
    flooder = emulator.user(2004, "Awa", language_code="fr")
    other = emulator.user(2005, "Binta", language_code="fr")
    await flooder.send("/start")
    await answer(flooder)
    await flood(flooder, 600)
    await other.send("/start")
    greeted = await answer(other, timeout=10)
    assert greeted.screen["text"]
    # The flooder was told once to slow down, and is far from answered in full.
    slow = fr(t(private.SLOW_DOWN.msgid))
    await wait_until(lambda: slow in texts(posted(emulator, flooder.id)), what="the note")
    assert texts(posted(emulator, flooder.id)).count(slow) == 1

    await flooder.send("/exit")
    await wait_until(lambda: GOODBYE in texts(posted(emulator, flooder.id)), what="goodbye")
    chat = emulator.world.chats[flooder.id]
    at_goodbye = len(chat.events)
    await idle(emulator, running.settings.db_path)  # the flood and her exit are all handled
    after = [e for e in list(chat.events)[at_goodbye:] if e.kind != "delete"]
    assert after == []  # after the goodbye, silence
    assert [m.get("text") for m in flooder.messages] == [GOODBYE]
    # The bot answers her again when she comes back.
    await flooder.send("/start")
    await wait_until(lambda: len(flooder.messages) > 1, what="an answer after the exit")
    await asyncio.sleep(0)


async def test_an_answer_on_its_way_when_she_leaves_is_deleted_as_it_lands(
    emulator: BotApiEmulator, start_bot: StartBot
) -> None:
    running = await start_bot()
    awa = emulator.user(2006, "Awa", language_code="fr")
    menu = (await start_in(awa)).screen
    # Every answer now takes a while to come back: longer than the exit waits for an answer
    # being made (bot/telegram/intake.py), so it is cancelled with its request on the wire.
    emulator.set_return_latency(3.0)
    await awa.press(menu, "nav:emergency")  # several messages, the first already on its way
    await emulator.wait_for_call(
        "sendContact", timeout=5, predicate=lambda call: call.finished is None
    )
    await awa.send("/exit")
    await wait_until(lambda: GOODBYE in texts(posted(emulator, awa.id)), what="goodbye")
    await wait_until(lambda: [m.get("text") for m in awa.messages] == [GOODBYE], timeout=8,
                     what="the late answer deleted as it landed")  # fmt: skip
    emulator.set_return_latency(0)
    await idle(emulator, running.settings.db_path)  # every request of hers answered
    assert [m.get("text") for m in awa.messages] == [GOODBYE]


async def test_a_double_tap_on_the_quick_exit_leaves_one_goodbye(
    emulator: BotApiEmulator, start_bot: StartBot
) -> None:
    running = await start_bot()
    awa = emulator.user(2007, "Awa", language_code="fr")
    menu = (await start_in(awa)).screen
    await awa.press(menu, EXIT)
    await awa.press(menu, EXIT, check=False)  # the same button, tapped twice
    await wait_until(lambda: GOODBYE in texts(posted(emulator, awa.id)), what="goodbye")
    await idle(emulator, running.settings.db_path)  # both taps handled to their end
    # The second tap joined the first exit if that had not begun (one goodbye), or came after
    # it and took the first goodbye away: either way, one line is left.
    assert texts(posted(emulator, awa.id)).count(GOODBYE) in (1, 2)
    assert [m.get("text") for m in awa.messages] == [GOODBYE]


async def test_a_first_contact_that_is_a_burst_is_deleted_whole_by_her_exit(
    emulator: BotApiEmulator, start_bot: StartBot
) -> None:
    running = await start_bot()
    awa = emulator.user(2008, "Awa", language_code="fr")
    await flood(awa, 60)  # before any answer: no row of hers exists yet
    await awa.send("/exit")
    await wait_until(lambda: GOODBYE in texts(posted(emulator, awa.id)), what="goodbye")
    await idle(emulator, running.settings.db_path)
    assert [m.get("text") for m in awa.messages] == [GOODBYE]
