"""What happens to a case, each step in one transaction with the messages it causes.

Every message a step causes is put in the durable outbox in the same transaction as the step;
the outbox worker (bot/hotline/outbox.py) sends it. Actions carry what they need (her chat id
included), sealed in the outbox row, so a case may close while its last messages are on the way.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import aiosqlite

from bot.config import Settings
from bot.flows.screens import Msg, t
from bot.flows.survivor import HANDOVER, MENU, SurvivorFlow
from bot.indicators import Counter, tally, wait_bucket
from bot.keys import Keys
from state import cases, conversations, outbox
from state.cases import Case
from state.outbox import TO_PERSON, TO_STAFF
from state.store import Store, now

MAX_CASES_PER_HOUR = 3

Outcome = Literal["closed_by_staff", "ended_by_person", "person_left", "unreachable"]

# Messages the person receives about her case (rendered in her language when sent). Those that
# may reach her while she is not in the app (a reminder, a closing note) start with a neutral
# line, say nothing that would give her away on a lock screen, and go without a sound (issue 17,
# point 3); staff replies go without a sound too (bot/hotline/outbox.py).
RECEIVED = t(
    "Thank you. You are number %(position)s in the queue: trained staff will read your "
    "messages. Write here whenever you want; the quick exit still works at any time."
)
READ_FROM = t(
    "Nobody is reading right now. Someone will read your messages from %(opening)s (Bamako "
    "time). Meanwhile, you can call the free numbers from the menu."
)
STILL_WAITING = t(
    "Hello. Nobody has been able to answer you yet: we are sorry. Your messages are still "
    "waiting, and the free numbers are in the menu."
)
CLOSED_BY_STAFF = t("The conversation has ended. You are back at the menu.")
ENDED_BY_YOU = t("You have ended the conversation.")
TOO_MANY = t(
    "You have asked for a person several times in the last hour. Please try again later, or "
    "call the free numbers from the menu."
)
# A block set by staff (/block), told as it is, in neutral words (issue 17, point 7).
PAUSED = t(
    "The hotline team has paused conversations from this account for a while. You can still "
    "call the free numbers or find a centre from the menu."
)
NOT_AVAILABLE = t("Talking to a person is not available right now. Please call the free numbers.")

# Messages staff see in the case topic (in French, the staff's working language).
STAFF_REMINDER = t("⏰ Nobody has claimed this case yet.")
STAFF_PERSON_LEFT = t("The person left the conversation.")
STAFF_ENDED = t("The person ended the conversation.")
STAFF_CLOSED = t("Case closed.")
STAFF_UNREACHABLE = t(
    "⚠️ The person has blocked the bot or deleted their account: messages cannot reach them. "
    "The case is closed."
)
STAFF_NOT_DELIVERED = t("⚠️ A message could not be delivered to the person.")
STAFF_NOT_SHOWN = t("⚠️ A message from the person could not be shown here.")
STAFF_NEW_TOPIC = t("Earlier messages of this case are in a topic that was deleted.")


def message(msg: Msg) -> dict[str, Any]:
    """A message as outbox data, rendered when it is sent."""
    return {"msgid": msg.msgid, "params": dict(msg.params)}


@dataclass(frozen=True)
class Opened:
    case: Case | None
    refused: Msg | None = None


class Hotline:
    def __init__(
        self, store: Store, keys: Keys, settings: Settings, counter: Counter | None = None
    ) -> None:
        self._store = store
        self._keys = keys
        self._settings = settings
        self._counter = counter or Counter()
        # Set by the outbox worker: wake up on new jobs.
        self.on_enqueue: Callable[[], None] = lambda: None

    @property
    def configured(self) -> bool:
        return bool(self._settings.staff_chats)

    def staff_lane(self, case: Case) -> str:
        return f"staff:{case.staff_chat_id}"

    def person_lane(self, case: Case) -> str:
        return f"person:{case.id}"

    def chat_of(self, case: Case) -> str:
        """Her chat (the channel's id), from the sealed copy kept while the case is open."""
        assert case.chat_sealed is not None
        return self._keys.open(case.chat_sealed, context=_chat_context(case.code)).decode()

    async def open_case_of(self, person_key: str) -> Case | None:
        async with self._store.transaction() as db:
            return await cases.open_case_of(db, person_key)

    async def case_in_topic(self, staff_chat_id: int, thread_id: int) -> Case | None:
        async with self._store.transaction() as db:
            return await cases.by_thread(db, staff_chat_id, thread_id)

    async def case(self, case_id: int) -> Case | None:
        async with self._store.transaction() as db:
            return await cases.by_id(db, case_id)

    async def open(self, person_key: str, chat: str, language: str) -> Opened:
        """Her open case, or a new one with its topic and first messages on the way."""
        staff_chat = self._settings.staff_chat_for(language)
        if staff_chat is None:
            return Opened(None, NOT_AVAILABLE)
        async with self._store.transaction() as db:
            existing = await cases.open_case_of(db, person_key)
            if existing is not None:
                return Opened(existing)
            if await cases.is_blocked(db, person_key):
                return Opened(None, PAUSED)
            since = now() - cases.OPEN_WINDOW_SECONDS
            if await cases.opened_since(db, person_key, since) >= MAX_CASES_PER_HOUR:
                return Opened(None, TOO_MANY)
            case, _ = await cases.open_case(
                db,
                person_key,
                lambda code: self._keys.seal(chat.encode(), context=_chat_context(code)),
                language,
                staff_chat,
            )
            position = await cases.queue_position(db, case)
            await self._staff(db, case, "topic", {"kind": "topic"})
            # No buttons on this one: it takes away the location keyboard she may still have,
            # so that her exact position is never one tap away from staff.
            received = _say(chat, RECEIVED, position=position)
            await self._person(db, case, "received", {**received, "remove_keyboard": True})
            hours = self._settings.hotline_hours
            open_now = hours.is_open(datetime.now(UTC))
            if not open_now:
                opening = hours.next_opening(datetime.now(UTC)).strftime("%d/%m %H:%M")
                await self._person(db, case, "hours", _say(chat, READ_FROM, opening=opening))
            requested = tally("handover_requested", hours="open" if open_now else "closed")
            await self._counter.add(db, [requested])
        self.on_enqueue()
        return Opened(case)

    async def relay_in(self, case: Case, update_id: int, message_id: int) -> None:
        """Her message, copied into the case topic."""
        action = {"kind": "copy_in", "chat": self.chat_of(case), "message_id": message_id}
        async with self._store.transaction() as db:
            await self._staff(db, case, f"in:{update_id}", action, hers=True)
        self.on_enqueue()

    async def relay_contact(self, case: Case, update_id: int, phone: str) -> None:
        """A phone number she chose to pass on: as a card with only the number (no name, no
        vCard, no Telegram account behind it)."""
        async with self._store.transaction() as db:
            action = {"kind": "contact_in", "phone": phone}
            await self._staff(db, case, f"in:{update_id}", action, hers=True)
        self.on_enqueue()

    async def relay_out(self, case: Case, update_id: int, message_id: int) -> None:
        """A staff message, copied to her."""
        action = {
            "kind": "copy_out",
            "chat": self.chat_of(case),
            "from_chat": case.staff_chat_id,
            "message_id": message_id,
        }
        async with self._store.transaction() as db:
            await self._person(db, case, f"out:{update_id}", action)
        self.on_enqueue()

    async def claim(self, case: Case, staff_id: int, staff_name: str) -> bool:
        async with self._store.transaction() as db:
            if not await cases.claim(db, case.id, staff_id, staff_name):
                return False
            wait = wait_bucket(now() - case.opened_at)
            await self._counter.add(db, [tally("handover_claimed", wait=wait)])
            await self._staff(db, case, f"card:claim:{time.monotonic_ns()}", {"kind": "card"})
        self.on_enqueue()
        return True

    async def release(self, case: Case, staff_id: int) -> bool:
        async with self._store.transaction() as db:
            if not await cases.release(db, case.id, staff_id):
                return False
            await self._staff(db, case, f"card:release:{time.monotonic_ns()}", {"kind": "card"})
        self.on_enqueue()
        return True

    async def close(self, case: Case, outcome: Outcome) -> bool:
        """Close the case: both sides are told, the topic is closed, her chat id is erased."""
        chat = self.chat_of(case) if case.chat_sealed is not None else None
        staff_note = {
            "closed_by_staff": STAFF_CLOSED,
            "ended_by_person": STAFF_ENDED,
            "person_left": STAFF_PERSON_LEFT,
            "unreachable": STAFF_UNREACHABLE,
        }[outcome]
        async with self._store.transaction(durable=True) as db:  # her chat id is erased
            if not await cases.close(db, case.id, outcome):
                return False
            await self._counter.add(db, [tally("handover_closed", outcome=outcome)])
            if case.person_key is not None:
                # Back at the menu: her conversation no longer says she had a case.
                await conversations.leave_state(
                    db, case.person_key, SurvivorFlow.name, HANDOVER, MENU
                )
            if outcome in ("person_left", "unreachable"):
                # After a quick exit nothing more may appear in her chat.
                await outbox.drop_lane(db, self.person_lane(case))
            if chat is not None and outcome in ("closed_by_staff", "ended_by_person"):
                if outcome == "closed_by_staff":  # she may not be in the app
                    closing = _say(chat, CLOSED_BY_STAFF, menu=True, silent=True)
                else:
                    closing = _say(chat, ENDED_BY_YOU, menu=True)
                await self._person(db, case, "closed", closing)
            await self._staff(db, case, "closed-note", {"kind": "say", **message(staff_note)})
            await self._staff(db, case, "closed-card", {"kind": "card"})
            await self._staff(db, case, "close-topic", {"kind": "close_topic"})
        self.on_enqueue()
        return True

    async def person_left(self, person_key: str) -> None:
        """Her quick exit: nothing waiting for her, from any case open or closed, may reach her
        chat any more (a message already on its way is the exit gate's: bot/exits.py)."""
        async with self._store.transaction() as db:
            await outbox.drop_person(db, person_key)

    async def block(self, case: Case, days: int) -> None:
        if case.person_key is None:
            return
        async with self._store.transaction() as db:
            await cases.block(db, case.person_key, days)

    async def remind_unclaimed(self) -> int:
        """One reminder to staff, and an honest word to her, for cases nobody claimed in time."""
        cutoff = now() - self._settings.reminder_minutes * 60
        async with self._store.transaction() as db:
            waiting = await cases.unclaimed_before(db, cutoff)
            for case in waiting:
                await cases.mark_reminded(db, case.id)
                await self._staff(db, case, "reminder", {"kind": "say", **message(STAFF_REMINDER)})
                waiting_note = _say(self.chat_of(case), STILL_WAITING, silent=True)
                await self._person(db, case, "still-waiting", waiting_note)
        if waiting:
            self.on_enqueue()
        return len(waiting)

    async def _staff(
        self,
        db: aiosqlite.Connection,
        case: Case,
        key: str,
        action: dict[str, Any],
        *,
        hers: bool = False,
    ) -> None:
        # `hers`: it holds her chat id or her number, so it carries her key and her quick exit
        # drops it with everything else of hers, even while the staff group holds it back.
        await outbox.enqueue(
            db, self._keys, case_id=case.id, lane=self.staff_lane(case), priority=TO_STAFF,
            dedupe_key=f"{case.id}:{key}", action=action,
            person_key=case.person_key if hers else None,
        )  # fmt: skip

    async def _person(
        self, db: aiosqlite.Connection, case: Case, key: str, action: dict[str, Any]
    ) -> None:
        # Her key goes with the job, even after the case closes (which unlinks her from it): what
        # reaches her chat is remembered for the quick exit, and her quick exit stops the rest.
        await outbox.enqueue(
            db, self._keys, case_id=case.id, lane=self.person_lane(case), priority=TO_PERSON,
            dedupe_key=f"{case.id}:{key}", action=action, person_key=case.person_key,
        )  # fmt: skip


def _say(
    chat: str, msg: Msg, *, menu: bool = False, silent: bool = False, **params: Any
) -> dict[str, Any]:
    """A message to her, as outbox data; `silent`: without a notification sound."""
    return {"kind": "say", "chat": chat, "menu": menu, "silent": silent, "msgid": msg.msgid,
            "params": {**dict(msg.params), **params}}  # fmt: skip


def _chat_context(code: str) -> bytes:
    return f"case-chat:{code}".encode()
