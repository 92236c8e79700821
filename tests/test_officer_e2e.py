"""Officer mode end to end, over real HTTP against the emulator: invitations, checklists across a
restart, the summary document, the decision aid, the referral, and no officer screen for anyone
without the role, whatever button data they send."""

from __future__ import annotations

import asyncio
import io
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from bot.emulator import BotApiEmulator, FakeUser
from tests.conftest import RunningBot, StartBot

# What officers are shown and can do, not its pace nor the wire, is checked here.
pytestmark = pytest.mark.usefixtures("unpaced", "in_process")
Json = dict[str, Any]
ADMIN = 500
ADMINS = {"BOT_ADMIN_IDS": str(ADMIN)}
CODE = re.compile(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}")
ACCESS = "only for invited police, gendarmerie and justice officers"


@pytest.fixture
async def bot(start_bot: StartBot) -> RunningBot:
    return await start_bot(**ADMINS)


def pdf_text(data: bytes) -> str:
    """A PDF document's text, as a reader would copy it."""
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


# A PDF document takes a second of CPU to make (more on a busy machine, and the first one also
# imports fpdf2): its wait is longer.
DOCUMENT_SECONDS = 20.0


async def shown(person: FakeUser, timeout: float = 5.0) -> Json:
    """The next message the person sees appear or change (button answers skipped)."""
    while True:
        event = await person.next_event(timeout)
        if event.kind in ("message", "edit"):
            assert event.message is not None
            return event.message


def data_of(message: Json) -> list[str]:
    markup = message.get("reply_markup") or {}
    return [b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row]


def labels(message: Json) -> list[str]:
    markup = message.get("reply_markup") or {}
    return [b["text"] for row in markup.get("inline_keyboard", []) for b in row]


async def press(person: FakeUser, message: Json, data: str) -> Json:
    await person.press(message, data)
    return await shown(person)


async def invite(emulator: BotApiEmulator, role: str = "police") -> str:
    admin = emulator.user(ADMIN, "Focal", language_code="en")
    await admin.send(f"/invite {role}")
    invitation = await shown(admin)
    assert "has_protected_content" not in invitation  # the administrator passes it on
    found = CODE.search(invitation["text"])
    assert found is not None
    assert f"https://t.me/jigiya_bot?start={found[0]}" in invitation["text"]
    return found[0]


async def become_officer(emulator: BotApiEmulator, person: FakeUser, code: str = "") -> Json:
    """Invited and redeemed by the deep link; returns the officer menu."""
    await person.send(f"/start {code or await invite(emulator)}")
    assert (await shown(person))["text"].startswith("✅ ")  # welcome, in the person's language
    assert (await shown(person))["text"].startswith("🧠 ")  # the baseline's first question
    menu = await shown(person)
    assert menu["text"].startswith("👮 ")
    await shown(emulator.user(ADMIN))  # the administrator hears who used the code
    return menu


async def test_invite_redeem_tick_restart_resume_and_summary_document(
    emulator: BotApiEmulator, start_bot: StartBot, db_path: Path
) -> None:
    first = await start_bot(**ADMINS)
    admin = emulator.user(ADMIN, "Focal", language_code="en")
    awa = emulator.user(2001, "Awa Traoré", language_code="en")
    code = await invite(emulator)
    await awa.send(f"/start {code}")
    assert (await shown(awa))["text"] == "✅ Welcome. You now have access to the officer tools."
    assert "Five short questions" in (await shown(awa))["text"]  # the baseline's first
    menu = await shown(awa)
    assert "Never type anything about the person you are helping" in menu["text"]
    told = await shown(admin)
    assert "Awa Traoré" in told["text"]
    assert "2001" in told["text"]

    listing = await press(awa, menu, "off:list")
    assert listing["message_id"] == menu["message_id"]  # edited in place
    checklist = await press(awa, listing, "off:open:first-contact")
    checklist = await press(awa, checklist, "off:tick:first-contact:promptly")
    checklist = await press(awa, checklist, "off:tick:first-contact:private-space")
    assert labels(checklist)[0].startswith("✅ 1.")
    assert labels(checklist)[4].startswith("✅ 3.")

    await first.shutdown()
    await start_bot(**ADMINS)
    await awa.send("/checklists")
    listing = await shown(awa)
    assert "▶️ Receiving a GBV survivor at the station (first contact) (2/13)" in labels(listing)
    checklist = await press(awa, listing, "off:open:first-contact")
    assert "✅ 1. Respond promptly" in checklist["text"]
    assert "⬜ 2. Care first, the statement after" in checklist["text"]

    await awa.press(checklist, "off:finish:first-contact")
    document = await shown(awa, DOCUMENT_SECONDS)
    summary = await shown(awa)
    assert document["document"]["file_name"].startswith("jigiya-summary-first-contact-")
    assert "has_protected_content" not in document  # to print or attach to the case file
    assert summary["message_id"] == checklist["message_id"]
    assert "Done (2 steps):" in summary["text"]
    assert "Not done (11 steps):" in summary["text"]
    content = pdf_text(emulator.world.files[document["document"]["file_id"]].data)
    assert "[x] 1. Respond promptly" in content
    assert "[ ] 2. Care first, the statement after" in content
    assert "no information about the person helped" in content
    for secret in ("Awa", "Traoré", "2001"):
        assert secret not in content
    await awa.send("/checklists")
    assert not any(label.startswith("▶️") for label in labels(await shown(awa)))
    raw = b"".join(p.read_bytes() for p in db_path.parent.iterdir() if "sqlite3" in p.name)
    assert code.encode() not in raw


async def test_redeem_by_command_works_once(emulator: BotApiEmulator, bot: RunningBot) -> None:
    awa, binta = emulator.user(2002, language_code="en"), emulator.user(2003, language_code="en")
    code = await invite(emulator, "gendarmerie")
    await awa.send(f"/officer {code.lower()}")
    assert "Welcome" in (await shown(awa))["text"]
    assert (await shown(awa))["text"].startswith("🧠 Five short questions")
    assert (await shown(awa))["text"].startswith("👮 Officer tools")
    await binta.send(f"/officer {code}")
    assert "does not work" in (await shown(binta))["text"]
    await binta.send("/checklists")
    assert ACCESS in (await shown(binta))["text"]


async def test_never_invited_and_revoked_people_reach_no_officer_screen(
    emulator: BotApiEmulator, bot: RunningBot
) -> None:
    async def never_invited() -> None:
        stranger = emulator.user(3001, language_code="en")
        await stranger.send("/start")
        greeting = await shown(stranger)
        for data in ("off:list", "off:tick:vslc:procureur", "off:finish:medical"):
            await stranger.press(greeting, data, check=False)
            answer = await stranger.next_event()
            assert answer.kind == "answer"
            refusal = await shown(stranger)
            assert ACCESS in refusal["text"]
            assert data_of(refusal) == []
        for command in ("/officer", "/checklists"):
            await stranger.send(command)
            assert ACCESS in (await shown(stranger))["text"]
        await stranger.send("/invite police")  # not an administrator: the survivor side answers
        assert "Invitation" not in (await shown(stranger))["text"]

    async def revoked() -> None:
        awa = emulator.user(2004, language_code="en")
        listing = await press(awa, await become_officer(emulator, awa), "off:list")
        admin = emulator.user(ADMIN)
        await admin.send("/revoke 2004")
        assert (await shown(admin))["text"] == "Access taken away from 2004."
        await awa.press(listing, "off:open:vslc")
        assert (await awa.next_event()).kind == "answer"
        assert ACCESS in (await shown(awa))["text"]
        await awa.send("/checklists")
        assert ACCESS in (await shown(awa))["text"]
        assert awa.chat.messages[listing["message_id"]]["text"] == listing["text"]  # untouched

    await asyncio.gather(never_invited(), revoked())


PATHS = {
    2005: (
        ["yes"] + ["no"] * 5,
        "🟢 No known link to the conflict (VBG)",
        "first-contact",
    ),
    2015: (["yes", "no", "yes", "no", "no", "no"], "⚖️ Possible link to the conflict", "vslc"),
    2025: (["unsure", "no", "no", "no", "no", "unsure"], "❔ Not clear yet", "vslc"),
    2035: (["no", "yes"], "🟢 Not sexual violence", "first-contact"),
}


async def test_each_decision_aid_path(emulator: BotApiEmulator, bot: RunningBot) -> None:
    codes = [await invite(emulator) for _ in PATHS]  # one at a time: one administrator's chat

    async def walk(officer: int, code: str) -> None:
        answers, heading, first_button = PATHS[officer]
        awa = emulator.user(officer, language_code="en")
        screen = await press(awa, await become_officer(emulator, awa, code), "off:decide")
        assert "Question 1 of 6" in screen["text"]
        for index, answer in enumerate(answers):
            screen = await press(awa, screen, f"off:ans:{index}:{answer}")
        assert screen["text"].startswith(heading)
        assert "not a legal qualification" in screen["text"]
        assert data_of(screen)[0] == f"off:open:{first_button}"

    # Side by side: each chat has its own pace (Telegram allows about one message a second).
    await asyncio.gather(*(walk(officer, code) for officer, code in zip(PATHS, codes, strict=True)))


async def test_referral_in_french_by_typed_town_and_by_location(
    emulator: BotApiEmulator, bot: RunningBot
) -> None:
    awa = emulator.user(2006, language_code="fr")
    menu = await become_officer(emulator, awa)
    assert menu["text"].startswith("👮 Outils des agents")
    where = await press(awa, menu, "off:refer")
    assert where["text"].startswith("📍 Centre le plus proche pour une orientation")
    await shown(awa)  # the message carrying the location button
    assert awa.reply_keyboard is not None
    await awa.send("Sévaré")
    found = await shown(awa)
    assert found["text"].startswith("📍 Centres les plus proches de Sévaré :")
    assert "80 333" in found["text"]
    assert not awa.reply_keyboard  # taken away with the answer
    await shown(awa)  # the officer menu again

    await awa.send_location(16.27, -0.04)
    assert "One Stop Center de Gao" in (await shown(awa))["text"]
    await shown(awa)  # the officer menu again


async def test_officer_mode_hands_the_rest_back_to_the_survivor_side(
    emulator: BotApiEmulator, bot: RunningBot, db_path: Path
) -> None:
    awa = emulator.user(2007, language_code="en")
    menu = await become_officer(emulator, awa)
    await awa.press(menu, "off:open:child", check=False)  # as from an older message
    checklist = await shown(awa)
    await awa.send("Mariam, 12, lives near the market")
    reminder = await shown(awa)
    assert reminder["text"].startswith("🔒 Please do not type anything about the person")
    assert reminder["has_protected_content"] is True
    await awa.press(checklist, "off:print:child")
    printable = await shown(awa, DOCUMENT_SECONDS)
    assert printable["document"]["file_name"] == "jigiya-child.pdf"
    assert "[ ] 1. A child is anyone under eighteen." in pdf_text(
        emulator.world.files[printable["document"]["file_id"]].data
    )
    await awa.send("/start")
    assert (await shown(awa))["text"].startswith("Hello.")  # the survivor greeting
    await awa.send("quitter")
    goodbye = None
    while goodbye is None or "text" not in goodbye:
        goodbye = await shown(awa)
    assert goodbye["text"] == "Have a good day."
    await bot.shutdown()
    with sqlite3.connect(db_path) as conn:
        stored = repr(conn.execute("SELECT * FROM conversations").fetchall())
    assert "Mariam" not in stored


async def test_administrators_list_revoke_and_withdraw(
    emulator: BotApiEmulator, bot: RunningBot
) -> None:
    admin = emulator.user(ADMIN, language_code="en")
    await admin.send("/invite")
    assert "/invite police" in (await shown(admin))["text"]
    await become_officer(emulator, emulator.user(2008, language_code="en"))
    unused = await invite(emulator, "justice")
    await admin.send("/officers")
    listing = (await shown(admin))["text"]
    assert listing.startswith("👮 1 officer has access.")
    assert "• 2008 · police · since" in listing
    assert "Unused invitations: 1" in listing
    await admin.send(f"/revoke {unused}")
    assert (await shown(admin))["text"] == "Invitation withdrawn."
    binta = emulator.user(2009, language_code="en")
    await binta.send(f"/start {unused}")
    assert "does not work" in (await shown(binta))["text"]
    await admin.send("/revoke 999")
    assert (await shown(admin))["text"] == "No officer with access has the id 999."
