"""Staff commands in a case topic, end to end over the emulator: they are parsed as commands (in
a text or a caption, addressed to this bot or to none), an internal note never reaches her,
/block is for whoever claimed the case or an administrator; and the topics of cases closed long
ago are deleted from the staff group."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
from telegram import Bot

from bot.emulator import BotApiEmulator
from bot.emulator.records import ChatEvent
from bot.emulator.world import Json, photo_sizes
from bot.handlers import staff
from bot.hotline import service
from bot.hotline.history import delete_old_topics
from state.store import Store
from tests.conftest import TOKEN, StartBot
from tests.hotline_helpers import (
    HOTLINE,
    STAFF,
    Case,
    Desk,
    calls_to,
    case_id_of,
    claimed_case,
    count_of,
    delete_topic,
    execute,
    fr,
    from_bot,
    open_case,
    open_cases,
    query,
    texts,
    wait_for_content,
    wait_until,
)

# In process: what staff commands do, at Telegram's pace but without the wire.
pytestmark = pytest.mark.usefixtures("in_process")
DAY = 86400


async def _relayed_after(desk: Desk, case: Case, awa_id: int) -> None:
    """The claimer writes once more and it reaches her: her lane keeps order, so anything sent
    before it that was to be relayed has been."""
    marker = await desk.fatou.send("Je suis toujours là.", thread_id=case.thread_id)
    await wait_for_content(desk.emulator, awa_id, marker)


def _album(desk: Desk, case: Case, caption: str, size: int = 3) -> list[Json]:
    """Fatou posts an album of photos in the topic; as in Telegram, the first carries the
    caption (FakeMember only sends text)."""
    album = []
    for i in range(size):
        stored = desk.emulator.world.store_file("photo", b"\xff\xd8%d" % i, None, "image/jpeg")
        content: Json = {"photo": photo_sizes(stored), "media_group_id": "13500000000000001"}
        if i == 0:
            content["caption"] = caption
        album.append(desk.fatou._post(desk.fatou.user.user, content, thread_id=case.thread_id))
    return album


def _status(db_path: Path) -> list[tuple[object, ...]]:
    return query(db_path, "SELECT status FROM cases ORDER BY id")


async def test_a_note_never_reaches_her_whether_captioned_or_addressed_to_the_bot(
    emulator: BotApiEmulator, start_bot: StartBot
) -> None:
    await start_bot(**HOTLINE)
    desk = Desk.make(emulator)
    awa, case = await claimed_case(emulator, desk)
    me = emulator.username
    notes = [
        await desk.send_media(desk.fatou, case, "photo", caption="/note ses bleus au bras"),
        await desk.send_media(desk.fatou, case, "voice", caption=f"/note@{me} ce qu'elle a dit"),
        await desk.fatou.send(f"/note@{me} elle a peur", thread_id=case.thread_id),
        await desk.fatou.send(f"/NOTE@{me.upper()} rappeler demain", thread_id=case.thread_id),
    ]
    await _relayed_after(desk, case, awa.id)
    assert [count_of(from_bot(emulator, awa), n) for n in notes] == [0, 0, 0, 0]
    assert fr(staff.COMMANDS) not in desk.notices(case)  # notes are answered by silence


async def test_an_album_captioned_as_a_note_stays_whole_in_the_topic(
    emulator: BotApiEmulator, start_bot: StartBot
) -> None:
    await start_bot(**HOTLINE)
    desk = Desk.make(emulator)
    awa, case = await claimed_case(emulator, desk)
    album = _album(desk, case, "/note son certificat, trois pages")
    await _relayed_after(desk, case, awa.id)
    assert [count_of(from_bot(emulator, awa), m) for m in album] == [0, 0, 0]


async def test_an_unknown_command_is_neither_obeyed_nor_relayed_and_gets_the_list(
    emulator: BotApiEmulator, start_bot: StartBot
) -> None:
    running = await start_bot(**HOTLINE)
    desk = Desk.make(emulator)
    awa, case = await claimed_case(emulator, desk)
    typos = [
        await desk.fatou.send("/closed", thread_id=case.thread_id),
        await desk.fatou.send("/notebook elle a peur", thread_id=case.thread_id),
        await desk.fatou.send("/block demain", thread_id=case.thread_id),
        await desk.send_media(desk.fatou, case, "photo", caption="/notes de la visite"),
    ]
    await _relayed_after(desk, case, awa.id)
    assert [count_of(from_bot(emulator, awa), m) for m in typos] == [0, 0, 0, 0]
    await wait_until(lambda: desk.notices(case).count(fr(staff.COMMANDS)) == 4, what="4 lists")
    assert "/close" in fr(staff.COMMANDS)
    assert _status(running.settings.db_path) == [("open",)]
    assert query(running.settings.db_path, "SELECT COUNT(*) FROM blocks") == [(0,)]


async def test_a_command_for_another_bot_does_nothing_and_ours_by_name_closes(
    emulator: BotApiEmulator, start_bot: StartBot
) -> None:
    running = await start_bot(**HOTLINE)
    desk = Desk.make(emulator)
    awa, case = await claimed_case(emulator, desk)
    theirs = [
        await desk.fatou.send("/close@other_bot", thread_id=case.thread_id),
        await desk.fatou.send("/block@other_bot 30", thread_id=case.thread_id),
    ]
    await _relayed_after(desk, case, awa.id)
    assert [count_of(from_bot(emulator, awa), m) for m in theirs] == [0, 0]
    assert _status(running.settings.db_path) == [("open",)]
    assert query(running.settings.db_path, "SELECT COUNT(*) FROM blocks") == [(0,)]
    assert fr(staff.COMMANDS) not in desk.notices(case)  # not ours to answer either

    await desk.fatou.send(f"/close@{emulator.username}", thread_id=case.thread_id)
    await wait_until(lambda: fr(service.CLOSED_BY_STAFF) in texts(from_bot(emulator, awa)))
    assert _status(running.settings.db_path) == [("closed",)]


async def test_only_the_member_who_claimed_the_case_or_an_administrator_may_block(
    emulator: BotApiEmulator, start_bot: StartBot
) -> None:
    admin_id = 3005
    running = await start_bot(**HOTLINE, BOT_ADMIN_IDS=str(admin_id))
    db = running.settings.db_path
    desk = Desk.make(emulator)
    admin = desk.group.member(emulator.user(admin_id, "Aïssata"))
    awa, mariam = emulator.user(1001, "Awa"), emulator.user(1002, "Mariam")
    case, other = await open_cases(desk, awa, mariam)
    await desk.claim(desk.fatou, case)

    # Another member, on a claimed case and on one nobody claimed: refused, nothing blocked.
    await desk.kadi.send("/block", thread_id=case.thread_id)
    await desk.kadi.send("/block 30", thread_id=other.thread_id)
    await wait_until(lambda: fr(staff.NOT_YOURS) in desk.notices(case), what="refused")
    await wait_until(lambda: fr(staff.NOT_YOURS) in desk.notices(other), what="refused too")
    assert query(db, "SELECT COUNT(*) FROM blocks") == [(0,)]
    await desk.fatou.send("/close", thread_id=case.thread_id)
    await wait_until(lambda: desk.group.topics[case.thread_id].closed, what="the topic closed")
    again = await open_case(desk, awa)  # she can still ask for a person

    # The member who claimed her new case may block her.
    await desk.claim(desk.fatou, again)
    before = int(time.time())
    await desk.fatou.send("/block 3", thread_id=again.thread_id)
    await desk.wait_text(again, fr(staff.BLOCKED, days=3))
    [(until,)] = query(db, "SELECT until FROM blocks")
    assert before + 3 * DAY <= until <= int(time.time()) + 4 * DAY  # to the day, at most

    # An administrator may block, claimed or not.
    await admin.send("/block", thread_id=other.thread_id)
    await desk.wait_text(other, fr(staff.BLOCKED, days=staff.BLOCK_DAYS))
    assert query(db, "SELECT COUNT(*) FROM blocks") == [(2,)]


async def _answer(desk: Desk, query_id: str) -> ChatEvent:
    """The bot's answer to a button press."""
    return await wait_until(
        lambda: next((e for e in desk.group.chat.events
                      if e.kind == "answer" and e.callback_query_id == query_id), None),
        what=f"the answer to {query_id}",
    )  # fmt: skip


async def test_a_second_claim_tap_by_the_same_member_says_she_already_has_it(
    emulator: BotApiEmulator, start_bot: StartBot
) -> None:
    await start_bot(**HOTLINE)
    desk = Desk.make(emulator)
    case = await open_case(desk, emulator.user(1001, "Awa"))
    claim = f"case:claim:{case_id_of(desk.card(case))}"
    first = await desk.fatou.press(desk.card(case), claim)
    second = await desk.fatou.press(desk.card(case), claim, check=False)  # a double tap
    other = await desk.kadi.press(desk.card(case), claim, check=False)
    answers = [await _answer(desk, q) for q in (first, second, other)]
    assert [(a.text, a.show_alert) for a in answers] == [
        (fr(staff.CLAIMED), False),
        (fr(staff.ALREADY_YOURS), False),
        (fr(staff.ALREADY_TAKEN), True),
    ]


async def test_topics_of_cases_closed_long_ago_are_deleted_with_her_messages(
    emulator: BotApiEmulator, start_bot: StartBot, caplog: pytest.LogCaptureFixture
) -> None:
    running = await start_bot(**HOTLINE)
    db = running.settings.db_path
    desk = Desk.make(emulator)
    names = ("Awa", "Mariam", "Oumou", "Fanta")
    people = [emulator.user(1001 + i, name) for i, name in enumerate(names)]
    old, recent, waiting, gone = await open_cases(desk, *people)
    hers = await people[0].send("Il me frappe")
    await wait_for_content(emulator, STAFF, hers, old.thread_id)
    cases = (old, recent, waiting, gone)
    for case in cases:
        await desk.kadi.send("/close", thread_id=case.thread_id)
    await wait_until(lambda: all(desk.group.topics[c.thread_id].closed for c in cases))
    await wait_until(lambda: query(db, "SELECT COUNT(*) FROM outbox") == [(0,)], what="outbox")
    await running.shutdown()

    ids = {thread: i for i, thread in query(db, "SELECT id, thread_id FROM cases")}
    [(closed_at,)] = query(db, "SELECT MAX(closed_at) FROM cases")
    execute(
        db, "UPDATE cases SET closed_at = ? WHERE id = ?", closed_at + DAY, ids[recent.thread_id]
    )
    # A message still waiting for the case's topic: deleting it now would make it again.
    execute(
        db,
        "INSERT INTO outbox (case_id, lane, priority, dedupe_key, payload, next_at, created_at) "
        "VALUES (?, 'staff', 1, 'waiting', x'00', 0, 0)",
        ids[waiting.thread_id],
    )
    await delete_topic(emulator, STAFF, gone.thread_id)  # by hand, already
    later = closed_at + 30 * DAY + 3600  # 30 days and an hour after the others closed
    store = await Store.open(db)
    try:
        async with Bot(TOKEN, base_url=emulator.base_url) as bot:
            deleted = await delete_old_topics(bot, store, staff_history_days=30, at=later)
            tried = len(calls_to(emulator, "deleteForumTopic", STAFF, ok=False))
            assert await delete_old_topics(bot, store, staff_history_days=30, at=later) == 0
            assert len(calls_to(emulator, "deleteForumTopic", STAFF, ok=False)) == tried

            # A refusal or Telegram out of reach keeps the topic for the next run.
            execute(db, "DELETE FROM outbox")
            emulator.fail("deleteForumTopic", status=403, description="Forbidden: no rights")
            with caplog.at_level(logging.INFO, logger="bot.hotline.history"):
                refused = await delete_old_topics(bot, store, staff_history_days=30, at=later)
            emulator.set_unreachable(True)
            unreachable = await delete_old_topics(bot, store, staff_history_days=30, at=later)
            emulator.set_unreachable(False)
            after_all = await delete_old_topics(bot, store, staff_history_days=30, at=later)
    finally:
        await store.close()

    topics, messages = desk.group.topics, emulator.world.chats[STAFF].messages.values()
    assert deleted == 1
    assert old.thread_id not in topics
    assert not [m for m in messages if m.get("message_thread_id") == old.thread_id]
    assert recent.thread_id in topics
    assert [m for m in messages if m.get("message_thread_id") == recent.thread_id]
    assert (refused, unreachable, after_all) == (0, 0, 1)
    assert waiting.thread_id not in topics  # its job gone, deleted once Telegram allowed it
    logged = [r for r in caplog.records if r.name == "bot.hotline.history"]
    assert [r.getMessage() for r in logged if r.levelno >= logging.WARNING] == [
        "Old case topics not deleted, tried again next run: 1 Forbidden (a 403 means the bot "
        "may not manage topics)"
    ]
    assert query(db, "SELECT thread_id FROM cases ORDER BY id") == [
        (None,), (recent.thread_id,), (None,), (None,)
    ]  # fmt: skip
