"""The Bot API emulator behaves like Telegram for a real PTB client."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from bot.emulator import BotApiEmulator

TOKEN = "123456:TEST-token"
AWA = 1001
FORUM = -1001234567890


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(TOKEN, webhook_retry_delay=0.05) as emulator:
        yield emulator


@pytest.fixture
async def bot(emu: BotApiEmulator) -> AsyncIterator[Bot]:
    client = Bot(TOKEN, base_url=emu.base_url, base_file_url=emu.base_file_url)
    await client.initialize()
    yield client
    await client.shutdown()


@pytest.fixture
async def http(emu: BotApiEmulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"{emu.base_url}{TOKEN}/") as client:
        yield client


async def eventually(condition: Callable[[], bool], timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(d, callback_data=d) for d in data]])


# --- routes and identity ----------------------------------------------------------------


async def test_get_me_describes_the_bot(bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.first_name, me.username, me.is_bot) == (123456, "Jigiya", "jigiya_bot", True)
    assert me.can_join_groups is True
    assert me.can_read_all_group_messages is False
    assert me.supports_inline_queries is False


async def test_routes_answer_like_telegram(emu: BotApiEmulator) -> None:
    async with httpx.AsyncClient() as client:
        wrong = await client.get(f"{emu.base_url}999:nope/getMe")
        unknown = await client.post(f"{emu.base_url}{TOKEN}/sendTelepathy")
        any_case = await client.get(f"{emu.base_url}{TOKEN}/GETME")
    assert wrong.status_code == 401
    assert wrong.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert unknown.status_code == 404
    assert unknown.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    assert any_case.json()["result"]["id"] == 123456
    with pytest.raises(InvalidToken):
        await Bot("999:nope", base_url=emu.base_url).get_me()


# --- encodings --------------------------------------------------------------------------

MARKUP = {"inline_keyboard": [[{"text": "Oui", "callback_data": "yes"}]]}


@pytest.mark.parametrize(
    "send",
    [
        pytest.param(
            lambda c: c.post(
                "sendMessage",
                data={"chat_id": str(AWA), "text": "007", "reply_markup": json.dumps(MARKUP)},
            ),
            id="form",
        ),
        pytest.param(
            lambda c: c.post(
                "sendMessage", json={"chat_id": AWA, "text": "007", "reply_markup": MARKUP}
            ),
            id="json",
        ),
        pytest.param(
            lambda c: c.get(
                "sendMessage",
                params={"chat_id": AWA, "text": "007", "reply_markup": json.dumps(MARKUP)},
            ),
            id="query",
        ),
        pytest.param(
            lambda c: c.post(
                "sendMessage",
                data={"chat_id": str(AWA), "text": "007", "reply_markup": json.dumps(MARKUP)},
                files={"unused": ("a.txt", b"x", "text/plain")},
            ),
            id="multipart",
        ),
    ],
)
async def test_each_encoding_keeps_string_parameters_strings(
    emu: BotApiEmulator,
    http: httpx.AsyncClient,
    send: Callable[[httpx.AsyncClient], Awaitable[httpx.Response]],
) -> None:
    emu.user(AWA)
    response = await send(http)
    body = response.json()
    assert body["ok"], body
    assert body["result"]["text"] == "007"
    assert body["result"]["reply_markup"] == MARKUP
    call = await emu.wait_for_call("sendMessage")
    assert call.params["chat_id"] == AWA
    assert call.params["text"] == "007"


async def test_json_numbers_for_string_parameters_become_text(
    emu: BotApiEmulator, http: httpx.AsyncClient
) -> None:
    emu.user(AWA)
    body = (
        await http.post(
            "sendContact", json={"chat_id": AWA, "phone_number": 70000000, "first_name": 12}
        )
    ).json()
    assert body["result"]["contact"] == {"phone_number": "70000000", "first_name": "12"}


async def test_multipart_upload_keeps_file_name_size_and_type(
    emu: BotApiEmulator, bot: Bot
) -> None:
    emu.user(AWA)
    pdf = b"%PDF-1.4 certificate"
    sent = await bot.send_document(AWA, InputFile(pdf, filename="certificat.pdf"), caption="0042")
    assert sent.caption == "0042"
    assert sent.document is not None
    assert sent.document.file_name == "certificat.pdf"
    assert sent.document.file_size == len(pdf)
    assert sent.document.mime_type == "application/pdf"
    file = await bot.get_file(sent.document.file_id)
    assert bytes(await file.download_as_bytearray()) == pdf
    again = await bot.send_document(AWA, sent.document.file_id)
    assert again.document is not None
    assert again.document.file_unique_id == sent.document.file_unique_id


# --- getUpdates -------------------------------------------------------------------------


async def test_offset_confirms_updates_for_good(emu: BotApiEmulator, bot: Bot) -> None:
    awa = emu.user(AWA)
    for text in ("un", "deux", "trois"):
        await awa.send(text)
    first = await bot.get_updates()
    assert [u.message.text for u in first if u.message] == ["un", "deux", "trois"]
    assert len(await bot.get_updates()) == 3  # nothing confirmed yet
    second_id = first[1].update_id
    assert [u.update_id for u in await bot.get_updates(offset=second_id)] == [
        second_id,
        first[2].update_id,
    ]
    assert emu.confirmed_offset == second_id
    assert [u["update_id"] for u in emu.pending_updates] == [second_id, first[2].update_id]
    # A lower offset cannot bring the first update back.
    assert len(await bot.get_updates(offset=first[0].update_id)) == 2
    assert [u.update_id for u in await bot.get_updates(offset=-1)] == [first[2].update_id]
    assert len(emu.pending_updates) == 1


async def test_limit_is_clamped_to_1_100(
    emu: BotApiEmulator, bot: Bot, http: httpx.AsyncClient
) -> None:
    awa = emu.user(AWA)
    for n in range(5):
        await awa.send(f"m{n}")
    assert len(await bot.get_updates(limit=2)) == 2
    assert len((await http.post("getUpdates", data={"limit": "0"})).json()["result"]) == 1
    assert len(await bot.get_updates()) == 5


async def test_long_poll_waits_for_an_update_or_the_timeout(emu: BotApiEmulator, bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert time.monotonic() - started >= 0.95

    async def later() -> None:
        await asyncio.sleep(0.2)
        await emu.user(AWA).send("là")

    task = asyncio.create_task(later())
    started = time.monotonic()
    updates = await bot.get_updates(timeout=5)
    await task
    assert [u.message.text for u in updates if u.message] == ["là"]
    assert time.monotonic() - started < 1.5


async def test_second_poller_terminates_the_first(emu: BotApiEmulator, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=3))
    await asyncio.sleep(0.1)  # let the first long poll reach the emulator
    async with Bot(TOKEN, base_url=emu.base_url) as other_instance:
        assert await other_instance.get_updates() == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await first


async def test_allowed_updates_filter_is_remembered(emu: BotApiEmulator, bot: Bot) -> None:
    awa = emu.user(AWA)
    await bot.get_updates(allowed_updates=["callback_query"])
    await awa.send("ignoré")
    sent = await bot.send_message(AWA, "?", reply_markup=keyboard("ok"))
    await awa.press(sent.to_dict(), "ok")
    updates = await bot.get_updates()  # no allowed_updates: the filter stays
    assert [u.callback_query.data for u in updates if u.callback_query] == ["ok"]
    assert all(u.message is None for u in updates)
    await bot.get_updates(allowed_updates=[])  # back to the default set
    emu.inject({"chat_member": {}})
    await awa.send("vu")
    assert [update_kind(u) for u in await bot.get_updates()] == ["callback_query", "message"]


def update_kind(update: Update) -> str:
    return next(k for k in update.to_dict() if k != "update_id")


async def test_webhook_blocks_get_updates_and_drop_pending(emu: BotApiEmulator, bot: Bot) -> None:
    await emu.user(AWA).send("en attente")
    await bot.set_webhook("http://127.0.0.1:9/unused")
    with pytest.raises(Conflict, match="can't use getUpdates method while webhook is active"):
        await bot.get_updates()
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert emu.pending_updates == []
    assert await bot.get_updates() == ()


async def test_an_explicit_update_id_is_delivered_again(emu: BotApiEmulator, bot: Bot) -> None:
    await emu.user(AWA).send("une fois")
    first = await bot.get_updates()
    await bot.get_updates(offset=first[-1].update_id + 1)
    duplicate = emu.injected[-1]
    assert emu.inject(duplicate) == first[-1].update_id
    again = await bot.get_updates(offset=first[-1].update_id + 1)
    assert [u.update_id for u in again] == [first[-1].update_id]


# --- errors -----------------------------------------------------------------------------


async def test_queued_faults_map_to_ptb_exceptions(
    emu: BotApiEmulator, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # RetryAfter's int form is deprecated
    emu.user(AWA)
    emu.fail(
        "sendMessage", status=429, description="Too Many Requests: retry after 3", retry_after=3
    )
    emu.fail("sendMessage", status=403, description="Forbidden: user is deactivated")
    emu.fail("SENDMESSAGE", status=502, description="Bad Gateway", times=2)
    with pytest.raises(RetryAfter) as flood:
        await bot.send_message(AWA, "a")
    assert flood.value.retry_after.total_seconds() == 3  # type: ignore[union-attr]
    with pytest.raises(Forbidden, match="user is deactivated"):
        await bot.send_message(AWA, "b")
    for _ in range(2):
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.send_message(AWA, "c")
    await bot.send_message(AWA, "d")
    assert [c.error.status if c.error else 200 for c in emu.calls[-5:]] == [429, 403, 502, 502, 200]


async def test_fault_limited_to_one_chat(emu: BotApiEmulator, bot: Bot) -> None:
    emu.user(AWA)
    emu.user(1002, "Fanta")
    emu.fail("sendMessage", status=400, description="Bad Request: chat not found", chat_id=1002)
    await bot.send_message(AWA, "ok")
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(1002, "ko")


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"chat_id": 777, "text": "x"}, "Chat not found"),
        ({"chat_id": AWA, "text": "  "}, "Message text is empty"),
        ({"chat_id": AWA, "text": "x" * 4097}, "Message is too long"),
        ({"chat_id": AWA, "text": "x", "reply_markup": keyboard("d" * 65)}, "Button_data_invalid"),
        ({"chat_id": AWA, "text": "<b>x", "parse_mode": "HTML"}, 'start tag "b"'),
        ({"chat_id": AWA, "text": "1.5", "parse_mode": "MarkdownV2"}, "character '.' is reserved"),
        ({"chat_id": AWA, "text": "x", "message_thread_id": 5}, "Message thread not found"),
    ],
)
async def test_send_message_validation(
    emu: BotApiEmulator, bot: Bot, kwargs: dict[str, Any], error: str
) -> None:
    emu.user(AWA)
    with pytest.raises(BadRequest, match=error):
        await bot.send_message(**kwargs)
    assert emu.calls[-1].error is not None
    assert emu.calls[-1].error.status == 400


async def test_blocked_user_gives_403_and_an_update(emu: BotApiEmulator, bot: Bot) -> None:
    awa = emu.user(AWA)
    await awa.block()
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(AWA, "allô")
    await awa.unblock()
    await bot.send_message(AWA, "allô")
    changes = [u.my_chat_member for u in await bot.get_updates() if u.my_chat_member]
    assert [c.new_chat_member.status for c in changes] == ["kicked", "member"]


async def test_formatting_gives_telegram_text_and_utf16_entities(
    emu: BotApiEmulator, bot: Bot
) -> None:
    emu.user(AWA)
    sent = await bot.send_message(AWA, "👋 <b>Awa</b> &amp; <i>toi</i>", parse_mode="HTML")
    assert sent.text == "👋 Awa & toi"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [
        ("bold", 3, 3),
        ("italic", 9, 3),
    ]
    md = await bot.send_message(AWA, "*gras* et \\.", parse_mode="MarkdownV2")
    assert (md.text, md.entities[0].type) == ("gras et .", "bold")


# --- messages ---------------------------------------------------------------------------


async def test_what_users_do_reaches_the_bot_as_parsable_updates(
    emu: BotApiEmulator, bot: Bot
) -> None:
    awa = emu.user(AWA, username="awa_ml")
    said = await awa.send("/aide maintenant")
    await awa.edit(said["message_id"], "/aide")
    await awa.send_location(12.64, -8.0)
    await awa.send_contact("+22370000000", "Awa")
    await awa.send_sticker()
    await awa.send_voice()
    await awa.send_photo(caption="preuve")
    await awa.send_document("certificat.pdf", mime_type="application/pdf")
    updates = await bot.get_updates()
    first, edited = updates[0].message, updates[1].edited_message
    assert first is not None
    assert edited is not None
    assert first.entities[0].type == "bot_command"
    assert first.entities[0].length == len("/aide")
    assert first.from_user is not None
    assert (first.from_user.username, first.from_user.language_code) == ("awa_ml", "fr")
    assert (edited.message_id, edited.text) == (said["message_id"], "/aide")
    media = [u.message for u in updates[2:]]
    assert all(m is not None for m in media)
    location, contact, sticker, voice, photo, document = (m for m in media if m is not None)
    assert location.location is not None
    assert contact.contact is not None
    assert contact.contact.user_id == AWA
    assert sticker.sticker is not None
    assert voice.voice is not None
    assert (photo.caption, len(photo.photo)) == ("preuve", 1)
    assert document.document is not None
    assert document.document.file_name == "certificat.pdf"
    forwarded = await bot.send_document(AWA, document.document.file_id)
    assert forwarded.document is not None


async def test_message_ids_count_per_chat_for_both_sides(emu: BotApiEmulator, bot: Bot) -> None:
    awa, fanta = emu.user(AWA), emu.user(1002, "Fanta")
    assert (await awa.send("salut"))["message_id"] == 1
    assert (await bot.send_message(AWA, "bonjour")).message_id == 2
    assert (await awa.send("merci"))["message_id"] == 3
    assert (await bot.send_message(1002, "bonjour")).message_id == 1
    assert (await fanta.send("ok"))["message_id"] == 2
    assert [m["message_id"] for m in awa.messages] == [1, 2, 3]
    assert (await awa.next_message())["text"] == "bonjour"


async def test_edit_and_delete(emu: BotApiEmulator, bot: Bot) -> None:
    awa = emu.user(AWA)
    sent = await bot.send_message(AWA, "Choisis", reply_markup=keyboard("a", "b"))
    edited = await bot.edit_message_text(
        "Choisis encore", AWA, sent.message_id, reply_markup=keyboard("a")
    )
    assert isinstance(edited, type(sent))
    assert edited.edit_date is not None
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text(
            "Choisis encore", AWA, sent.message_id, reply_markup=keyboard("a")
        )
    await bot.edit_message_text("Choisis encore", AWA, sent.message_id)  # drops the keyboard
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_reply_markup(AWA, sent.message_id)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("?", AWA, 99)
    mine = await awa.send("mon message")
    with pytest.raises(BadRequest, match="Message can't be edited"):
        await bot.edit_message_text("?", AWA, mine["message_id"])
    assert await bot.delete_message(AWA, sent.message_id)
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(AWA, sent.message_id)
    assert [m["text"] for m in awa.messages] == ["mon message"]
    kinds = [(await awa.next_event()).kind for _ in range(4)]
    assert kinds == ["message", "edit", "edit", "delete"]
    assert awa.chat.messages == {mine["message_id"]: mine}


async def test_delete_messages_bounds(
    emu: BotApiEmulator, bot: Bot, http: httpx.AsyncClient
) -> None:
    awa = emu.user(AWA)
    ids = [(await bot.send_message(AWA, str(n))).message_id for n in range(3)]
    assert await bot.delete_messages(AWA, [*ids[:2], 999])
    assert [m["text"] for m in awa.messages] == ["2"]
    with pytest.raises(BadRequest, match="Too many message identifiers"):
        await bot.delete_messages(AWA, list(range(1, 102)))
    empty = await http.post("deleteMessages", data={"chat_id": AWA, "message_ids": "[]"})
    assert empty.status_code == 400
    assert empty.json()["description"] == "Bad Request: message identifiers are not specified"


async def test_copy_and_forward_into_a_forum_topic(emu: BotApiEmulator, bot: Bot) -> None:
    awa = emu.user(AWA)
    hotline = emu.forum(FORUM)
    topic = await bot.create_forum_topic(FORUM, "Cas 17")
    said = await awa.send("J'ai besoin d'aide")
    copy = await bot.copy_message(
        FORUM, AWA, said["message_id"], message_thread_id=topic.message_thread_id
    )
    stored = hotline.chat.messages[copy.message_id]
    assert stored["text"] == "J'ai besoin d'aide"
    assert stored["from"]["id"] == 123456
    assert "forward_origin" not in stored
    forwarded = await bot.forward_message(
        FORUM, AWA, said["message_id"], message_thread_id=topic.message_thread_id
    )
    assert forwarded.forward_origin is not None
    assert forwarded.forward_origin.sender_user.id == AWA  # type: ignore[attr-defined]
    assert forwarded.message_thread_id == topic.message_thread_id
    many = await bot.copy_messages(FORUM, AWA, [said["message_id"], 404])
    assert len(many) == 1
    with pytest.raises(BadRequest, match="Message to copy not found"):
        await bot.copy_message(FORUM, AWA, 404)


# --- forums -----------------------------------------------------------------------------


async def test_forum_topics(emu: BotApiEmulator, bot: Bot) -> None:
    hotline = emu.forum(FORUM)
    staff = hotline.member(emu.user(2001, "Mariam"))
    one = await bot.create_forum_topic(FORUM, "Cas 1")
    two = await bot.create_forum_topic(FORUM, "Cas 2")
    assert (one.message_thread_id, two.message_thread_id) == (1, 2)
    assert hotline.topics[2].name == "Cas 2"
    await bot.send_message(FORUM, "pour cas 1", message_thread_id=1)
    in_two = await bot.send_message(FORUM, "pour cas 2", message_thread_id=2)
    assert (in_two.message_thread_id, in_two.is_topic_message) == (2, True)
    assert (await staff.next_message(thread_id=2))["text"] == "pour cas 2"
    assert (await staff.next_message())["text"] == "pour cas 1"
    reply = await staff.send("je m'en occupe", thread_id=2)
    assert reply["message_thread_id"] == 2
    update = (await bot.get_updates())[-1]
    assert update.message is not None
    assert update.message.message_thread_id == 2
    assert await bot.edit_forum_topic(FORUM, 2, name="Cas 2 (urgent)")
    assert await bot.close_forum_topic(FORUM, 2)
    with pytest.raises(BadRequest, match="Topic_not_modified"):
        await bot.close_forum_topic(FORUM, 2)
    assert await bot.reopen_forum_topic(FORUM, 2)
    assert await bot.delete_forum_topic(FORUM, 2)
    assert hotline.topic_messages(2) == []
    with pytest.raises(BadRequest, match="Message thread not found"):
        await bot.send_message(FORUM, "?", message_thread_id=2)
    with pytest.raises(BadRequest, match="Topic_id_invalid"):
        await bot.edit_forum_topic(FORUM, 2, name="?")
    with pytest.raises(BadRequest, match="The chat is not a forum"):
        await bot.create_forum_topic(emu.group(-42).id, "?")


async def test_group_privacy_and_leaving(emu: BotApiEmulator, bot: Bot) -> None:
    family = emu.group(-42)
    cousin = family.member(emu.user(3001, "Issa"))
    await cousin.send("bonjour tout le monde")
    await cousin.send("/start")
    texts = [u.message.text for u in await bot.get_updates() if u.message]
    assert texts == ["/start"]
    assert await bot.leave_chat(-42)
    with pytest.raises(Forbidden, match="bot is not a member of the group chat"):
        await bot.send_message(-42, "?")
    left = (await bot.get_updates(offset=-1))[0].my_chat_member
    assert left is not None
    assert left.new_chat_member.status == "left"


# --- callback queries -------------------------------------------------------------------


async def test_callback_answer_validation(emu: BotApiEmulator, bot: Bot) -> None:
    awa = emu.user(AWA)
    sent = await bot.send_message(AWA, "?", reply_markup=keyboard("oui"))
    query_id = await awa.press(sent.message_id, "oui")
    assert await bot.answer_callback_query(query_id, "Noté")
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(query_id)
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query("12345")
    with pytest.raises(LookupError, match="no button"):
        await awa.press(sent.message_id, "non")
    forged = await awa.press(sent.message_id, "admin:delete", check=False)
    update = (await bot.get_updates())[-1]
    assert update.callback_query is not None
    assert (update.callback_query.id, update.callback_query.data) == (forged, "admin:delete")
    await awa.next_event()
    answer = await awa.next_event()
    assert (answer.kind, answer.text, answer.message_ids) == ("answer", "Noté", (sent.message_id,))


async def test_other_methods_return_objects_ptb_parses(emu: BotApiEmulator, bot: Bot) -> None:
    emu.user(AWA)
    emu.forum(FORUM).member(emu.user(2001, "Mariam"))
    venue = await bot.send_venue(AWA, 12.65, -8.0, "CSRef CV", "Quartier Mali, Bamako")
    assert venue.venue is not None
    assert venue.location is not None
    assert (venue.venue.title, venue.location.latitude) == ("CSRef CV", 12.65)
    location = await bot.send_location(AWA, 12.6, -8.0)
    assert location.location is not None
    assert location.location.longitude == -8.0
    contact = await bot.send_contact(AWA, "80001132", "Numéro vert")
    assert contact.contact is not None
    assert contact.contact.phone_number == "80001132"
    photo = await bot.send_photo(
        AWA, InputFile(b"\xff\xd8", filename="p.jpg"), caption="<i>vu</i>", parse_mode="HTML"
    )
    assert photo.photo[0].width > 0
    assert (photo.caption, photo.caption_entities[0].type) == ("vu", "italic")
    edited = await bot.edit_message_caption(AWA, photo.message_id, caption="revu")
    assert isinstance(edited, type(photo))
    assert edited.caption == "revu"
    assert await bot.send_chat_action(AWA, "typing")
    with pytest.raises(BadRequest, match="Wrong parameter action"):
        await bot.send_chat_action(AWA, "dancing")
    reply = await bot.send_message(AWA, "réponse", reply_to_message_id=venue.message_id)
    assert reply.reply_to_message is not None
    assert reply.reply_to_message.message_id == venue.message_id
    with pytest.raises(BadRequest, match="Message to be replied not found"):
        await bot.send_message(AWA, "?", reply_to_message_id=999)
    chat = await bot.get_chat(FORUM)
    assert (chat.is_forum, chat.title) == (True, "Hotline")
    assert (await bot.get_chat(AWA)).first_name == "Awa"
    assert (await bot.get_chat_member(FORUM, 123456)).status == "administrator"
    assert (await bot.get_chat_member(FORUM, 2001)).status == "member"
    with pytest.raises(BadRequest, match="User not found"):
        await bot.get_chat_member(FORUM, 9999)
    assert (await bot.get_webhook_info()).url == ""
    assert await bot.log_out()
    assert await bot.close()


# --- reading and waiting ----------------------------------------------------------------


async def test_wait_for_call_finds_earlier_calls_once(emu: BotApiEmulator, bot: Bot) -> None:
    emu.user(AWA)
    await bot.send_message(AWA, "un")
    await bot.send_message(AWA, "deux")
    first = await emu.wait_for_call("sendMessage")
    second = await emu.wait_for_call("sendmessage")
    assert (first.params["text"], second.params["text"]) == ("un", "deux")
    with pytest.raises(TimeoutError, match=r"sendMessage\(.*deux"):
        await emu.wait_for_call("sendMessage", timeout=0.1)
    sender = asyncio.create_task(bot.send_message(AWA, "trois"))
    third = await emu.wait_for_call("sendMessage", predicate=lambda c: c.ok)
    await sender
    assert third.result["text"] == "trois"


async def test_next_message_timeout_lists_recent_calls(emu: BotApiEmulator, bot: Bot) -> None:
    awa = emu.user(AWA)
    emu.user(1002)
    await bot.send_message(1002, "pas pour Awa")
    with pytest.raises(TimeoutError, match="pas pour Awa"):
        await awa.next_message(timeout=0.1)


async def test_reply_keyboard_is_what_the_user_sees(emu: BotApiEmulator, bot: Bot) -> None:
    awa = emu.user(AWA)
    await bot.send_message(
        AWA, "Langue ?", reply_markup=ReplyKeyboardMarkup([["Français", "Bamanankan"]])
    )
    assert awa.reply_keyboard == [["Français", "Bamanankan"]]
    assert "reply_markup" not in (await awa.next_message())  # Telegram returns inline ones only


async def test_latency_applies_to_the_chosen_method(emu: BotApiEmulator, bot: Bot) -> None:
    emu.user(AWA)
    emu.set_latency(0.3, "sendMessage")
    started = time.monotonic()
    await bot.get_me()
    assert time.monotonic() - started < 0.25
    sending = asyncio.create_task(bot.send_message(AWA, "lent"))
    call = await emu.wait_for_call("sendMessage")
    assert call.finished is None  # seen on arrival, still being answered
    await sending
    assert call.ok
    assert call.duration is not None
    assert call.duration >= 0.3


async def test_unreachable_api_is_a_network_error(emu: BotApiEmulator, bot: Bot) -> None:
    emu.set_unreachable(True)
    with pytest.raises(NetworkError):
        await bot.get_me()
    assert emu.calls[-1].error is not None
    emu.set_unreachable(False)
    assert (await bot.get_me()).id == 123456


async def test_commands_are_stored_per_scope_and_language(bot: Bot) -> None:
    assert await bot.set_my_commands([BotCommand("aide", "Obtenir de l'aide")], language_code="fr")
    assert [c.command for c in await bot.get_my_commands(language_code="fr")] == ["aide"]
    assert await bot.get_my_commands() == ()
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Aide!", "x")])


# --- webhook ----------------------------------------------------------------------------


async def test_webhook_delivers_in_order_with_secret_and_retries(
    emu: BotApiEmulator, bot: Bot
) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []
    answers = [500]

    async def hook(request: web.Request) -> web.Response:
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response(status=answers.pop() if answers else 200)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
        assert await bot.set_webhook(url, secret_token="s3cr3t")
        awa = emu.user(AWA)
        await awa.send("un")
        await awa.send("deux")
        await eventually(lambda: len(received) == 3)
        first, second = (u["update_id"] for u in emu.injected)
        assert [u["update_id"] for _, u in received] == [first, first, second]
        assert {secret for secret, _ in received} == {"s3cr3t"}
        # An attempt is recorded once its answer is read, just after the hook has the update.
        await eventually(lambda: len(emu.webhook_attempts) == 3)
        assert [a.status for a in emu.webhook_attempts] == [500, 200, 200]
        info = await bot.get_webhook_info()
        assert (info.url, info.pending_update_count) == (url, 0)
        assert info.last_error_message == "Wrong response from the webhook: 500"
    finally:
        await runner.cleanup()


# --- a real Application -----------------------------------------------------------------


async def test_a_polling_application_talks_to_a_user(emu: BotApiEmulator) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text(
            "Bonjour <b>Awa</b>", parse_mode="HTML", reply_markup=keyboard("aide")
        )

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()
        await query.edit_message_text("On t'écoute.")

    app: Application[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder().token(TOKEN).base_url(emu.base_url).build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    awa = emu.user(AWA)
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        await awa.send("/start")
        greeting = await awa.next_message()
        assert greeting["text"] == "Bonjour Awa"
        await awa.press(greeting, "aide")
        assert (await awa.next_event()).kind == "message"
        assert (await awa.next_event()).kind == "answer"
        edit = await awa.next_event()
        assert edit.message is not None
        assert edit.message["text"] == "On t'écoute."
        await app.updater.stop()
        await app.stop()
    assert emu.pending_updates == []
    assert [c.method for c in emu.calls[:2]] == ["getMe", "deleteWebhook"]


async def test_stop_ends_long_polls_and_webhook_retries() -> None:
    before = asyncio.all_tasks()
    polled = BotApiEmulator(TOKEN)
    await polled.start()
    async with Bot(TOKEN, base_url=polled.base_url) as client:
        poll = asyncio.create_task(client.get_updates(timeout=5))
        await asyncio.sleep(0.1)
        started = time.monotonic()
        await polled.stop()
        assert await poll == ()
        assert time.monotonic() - started < 1
    async with BotApiEmulator(TOKEN, webhook_retry_delay=0.01) as hooked:
        async with Bot(TOKEN, base_url=hooked.base_url) as client:
            await client.set_webhook("http://127.0.0.1:9/refused")
        await hooked.user(AWA).send("personne n'écoute")
        await eventually(lambda: len(hooked.webhook_attempts) >= 2)
        assert hooked.webhook_attempts[0].status is None
        assert len(hooked.pending_updates) == 1
    assert asyncio.all_tasks() - before == set()
