"""The outbox worker: sends each lane's jobs one at a time, in order, lanes side by side.

A job is deleted right after Telegram accepts it, so a crash can repeat only a message that
Telegram accepted in the instant before the crash. Messages to the person and to staff are in
different lanes, so a staff group held back by its 20-per-minute limit never delays her.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from telegram import InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.exits import BEGUN, CalledOff, ExitGate
from bot.flows.screens import Button, Msg, Screen, t
from bot.flows.survivor import EXIT
from bot.hotline import service
from bot.hotline.service import Hotline
from bot.i18n import Catalogs
from bot.keys import Keys
from bot.telegram.channel import TelegramChannel, inline_markup
from state import cases, messages, outbox
from state.cases import Case
from state.outbox import Job
from state.store import Store, now

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
CALLED_OFF_WAIT = 5  # seconds before a job her quick exit called off is looked at again
IDLE_SECONDS = 30.0  # look again at least this often (for jobs waiting for a retry)
STAFF_LANGUAGE = "fr"

CLAIM = t("✋ Claim")
RELEASE = t("↩️ Release")
CLOSE = t("✅ Close")
END = t("End the conversation")
MENU = t("☰ Menu")
SHARED_NUMBER = t("Number shared by the person")
# What staff write first may show on her lock screen: the card says so while the case is open.
CARD_OPEN = t(
    "Case %(code)s · %(language)s\nOpened %(opened)s. Not claimed yet.\n"
    "Begin each reply with a neutral line (such as “Bonjour”): the first words may show on the "
    "person's lock screen."
)
CARD_TAKEN = t(
    "Case %(code)s · %(language)s\nOpened %(opened)s. Taken by %(name)s.\n"
    "Begin each reply with a neutral line (such as “Bonjour”): the first words may show on the "
    "person's lock screen."
)
CARD_CLOSED = t("Case %(code)s · %(language)s\nClosed.")


class _Gone(Exception):
    """The job can never be done (case purged, message gone): drop it."""


class OutboxWorker:
    def __init__(
        self,
        channel: TelegramChannel,
        store: Store,
        keys: Keys,
        catalogs: Catalogs,
        hotline: Hotline,
        exits: ExitGate,
    ) -> None:
        self._channel = channel
        self._bot = channel.bot  # the staff group's forum topics are Telegram's own
        self._store = store
        self._keys = keys
        self._catalogs = catalogs
        self._hotline = hotline
        self._exits = exits
        self._wake = asyncio.Event()
        self._busy: dict[str, asyncio.Task[None]] = {}
        hotline.on_enqueue = self._wake.set

    async def run(self, stop: asyncio.Event) -> None:
        """Send until `stop` is set; jobs in progress then finish, the rest wait for next time."""
        stopping = asyncio.create_task(stop.wait())
        try:
            while not stop.is_set():
                self._wake.clear()
                # Jobs read now began now: a quick exit after this calls them off (bot/exits.py),
                # even once it has dropped their rows and said goodbye.
                BEGUN.set(self._exits.now())
                async with self._store.transaction() as db:
                    jobs = await outbox.heads(db, self._keys)
                    next_at = await outbox.next_due_at(db)
                for job in jobs:
                    if job.lane not in self._busy:
                        self._busy[job.lane] = asyncio.create_task(self._run(job))
                wait = IDLE_SECONDS if next_at is None else max(0.05, next_at - now())
                waking = asyncio.create_task(self._wake.wait())
                await asyncio.wait(
                    {waking, stopping}, timeout=min(wait, IDLE_SECONDS),
                    return_when=asyncio.FIRST_COMPLETED,
                )  # fmt: skip
                waking.cancel()
        finally:
            stopping.cancel()
            if self._busy:
                await asyncio.wait(set(self._busy.values()), timeout=5)

    async def _run(self, job: Job) -> None:
        try:
            await self._attempt(job)
        except CalledOff:
            # She left before it went out: her quick exit drops its row; until then it waits.
            await self._retry(job, CALLED_OFF_WAIT)
        except Exception as exc:  # a bug must not stop the other lanes, nor repeat forever
            log.error("Outbox job %d failed: %s", job.id, type(exc).__name__)
            if job.attempts + 1 >= MAX_ATTEMPTS:
                await self._not_delivered(job)
            else:
                await self._retry(job, 60)
        finally:
            del self._busy[job.lane]
            self._wake.set()

    async def _attempt(self, job: Job) -> None:
        """One try; every outcome settles the job: done, dropped, or due again later."""
        try:
            await self._do(job)
        except RetryAfter as exc:
            after = exc.retry_after
            await self._retry(job, after.total_seconds() if isinstance(after, timedelta) else after)
        except Forbidden:
            if job.priority == outbox.TO_PERSON:
                await self._unreachable(job)
            else:
                # The bot lost its place or rights in the staff group: keep her message and try
                # again, less and less often, until an administrator fixes it.
                log.error("The staff group refuses the bot (403): check its admin rights")
                await self._retry(job, min(300, 2**job.attempts))
        except (_Gone, BadRequest) as exc:
            log.warning("Outbox job %d dropped (%s)", job.id, type(exc).__name__)
            await self._not_delivered(job)
        except (NetworkError, TelegramError) as exc:
            if job.attempts + 1 >= MAX_ATTEMPTS:
                log.warning("Outbox job %d given up after %d attempts", job.id, MAX_ATTEMPTS)
                await self._not_delivered(job)
            else:
                log.info("Outbox job %d will be retried (%s)", job.id, type(exc).__name__)
                await self._retry(job, min(300, 2**job.attempts))
        else:
            async with self._store.transaction() as db:
                await outbox.done(db, job.id)

    async def _retry(self, job: Job, delay: float) -> None:
        async with self._store.transaction() as db:
            await outbox.later(db, job.id, delay)

    async def _case(self, job: Job) -> Case:
        async with self._store.transaction() as db:
            case = await cases.by_id(db, job.case_id)
        if case is None:
            raise _Gone("case purged")
        return case

    async def _do(self, job: Job) -> None:
        action, case = job.action, await self._case(job)
        kind = action["kind"]
        if kind == "say" and "chat" in action:
            screen = Screen(
                body=(self._msg(action),),
                buttons=()
                if action.get("remove_keyboard")
                else self._person_buttons(menu=bool(action.get("menu"))),
                drop_location_button=bool(action.get("remove_keyboard")),
                silent=bool(action.get("silent")),
            )
            shown: list[int] = []
            try:
                await self._channel.show(
                    str(action["chat"]), [screen], self._catalogs.translator(case.language), shown
                )
            finally:
                await self._remember(job, case, shown)
        elif kind == "copy_out":
            # A staff reply may reach her out of the app: without a sound (issue 17, point 3).
            copied = await self._channel.relay(
                str(action["chat"]), str(action["from_chat"]), action["message_id"], silent=True
            )
            await self._remember(job, case, [copied])
        elif kind == "topic":
            if case.thread_id is None:
                await self._new_topic(case)
            elif case.card_message_id is None:  # the topic exists; its card did not get out
                await self._send_card(case, case.thread_id)
        else:
            await self._in_topic(case, action)

    async def _remember(self, job: Job, case: Case, message_ids: list[int]) -> None:
        """What reaches her chat is remembered for 48 h, so the quick exit can delete it. If she
        left while it was on its way, the exit's gate deletes it as it lands (bot/exits.py)."""
        person = job.person_key or case.person_key  # jobs queued before person keys were kept
        if person is None:
            return
        async with self._store.transaction() as db:
            await messages.remember(db, person, message_ids)

    async def _in_topic(self, case: Case, action: dict[str, Any]) -> None:
        """Staff-side jobs; a deleted topic is made again, with a note, and the job retried."""
        if case.thread_id is None:
            case = await self._new_topic(case)
        try:
            await self._topic_job(case, action)
        except BadRequest as exc:
            if "thread not found" not in exc.message.lower() and "topic" not in exc.message.lower():
                raise
            case = await self._new_topic(case, replaces_deleted=True)
            await self._topic_job(case, action)

    async def _topic_job(self, case: Case, action: dict[str, Any]) -> None:
        assert case.thread_id is not None
        kind, chat, thread = action["kind"], case.staff_chat_id, case.thread_id
        if kind == "copy_in":
            await self._channel.relay(
                str(chat), str(action["chat"]), action["message_id"], thread=thread
            )
        elif kind == "contact_in":
            await self._bot.send_contact(
                chat,
                phone_number=action["phone"],
                first_name=self._catalogs.translator(STAFF_LANGUAGE).render(SHARED_NUMBER),
                message_thread_id=thread,
            )
        elif kind == "say":
            await self._bot.send_message(
                chat, self._render(STAFF_LANGUAGE, action), message_thread_id=thread
            )
        elif kind == "card" and case.card_message_id is not None:
            with contextlib.suppress(BadRequest):  # unchanged card, or a card deleted by staff
                await self._bot.edit_message_text(
                    self._card_text(case),
                    chat_id=chat,
                    message_id=case.card_message_id,
                    reply_markup=self._card_buttons(case),
                )
        elif kind == "close_topic":
            with contextlib.suppress(BadRequest):  # already closed
                await self._bot.close_forum_topic(chat, thread)

    async def _new_topic(self, case: Case, *, replaces_deleted: bool = False) -> Case:
        # The thread is recorded as soon as Telegram gives it, so a crash right after cannot
        # make a second topic; the card follows.
        topic = await self._bot.create_forum_topic(
            case.staff_chat_id, name=f"{case.code} · {case.language}"
        )
        thread = topic.message_thread_id
        async with self._store.transaction() as db:
            await cases.set_topic(db, case.id, thread, None)
        updated = await self._send_card(case, thread)
        if replaces_deleted:
            await self._bot.send_message(
                case.staff_chat_id,
                self._catalogs.translator(STAFF_LANGUAGE).render(service.STAFF_NEW_TOPIC),
                message_thread_id=thread,
            )
        return updated

    async def _send_card(self, case: Case, thread: int) -> Case:
        card = await self._bot.send_message(
            case.staff_chat_id,
            self._card_text(case),
            message_thread_id=thread,
            reply_markup=self._card_buttons(case),
        )
        async with self._store.transaction() as db:
            await cases.set_topic(db, case.id, thread, card.message_id)
            updated = await cases.by_id(db, case.id)
        assert updated is not None
        return updated

    async def _unreachable(self, job: Job) -> None:
        """403: she blocked the bot or deleted her account. Staff are told; the case closes."""
        async with self._store.transaction() as db:
            await outbox.done(db, job.id)
            case = await cases.by_id(db, job.case_id)
        if case is not None and case.is_open:
            await self._hotline.close(case, "unreachable")

    async def _not_delivered(self, job: Job) -> None:
        """The job is given up; staff are told when it was a message to her or one of hers,
        whatever made it fail (a note about a failed note would only fail again)."""
        async with self._store.transaction() as db:
            await outbox.done(db, job.id)
            case = await cases.by_id(db, job.case_id)
            if job.priority == outbox.TO_PERSON:
                msg = service.STAFF_NOT_DELIVERED
            elif job.action["kind"] in ("copy_in", "contact_in"):
                msg = service.STAFF_NOT_SHOWN
            else:
                return
            if case is None:
                return  # purged: nobody left to tell
            await outbox.enqueue(
                db, self._keys, case_id=case.id, lane=self._hotline.staff_lane(case),
                priority=outbox.TO_STAFF, dedupe_key=f"{case.id}:undelivered:{job.id}",
                action={"kind": "say", **service.message(msg)},
            )  # fmt: skip
        self._wake.set()

    def _msg(self, action: dict[str, Any]) -> Msg:
        return Msg(action["msgid"], tuple(action.get("params", {}).items()))

    def _render(self, language: str, action: dict[str, Any]) -> str:
        return self._catalogs.translator(language).render(self._msg(action))

    def _card_text(self, case: Case) -> str:
        translator = self._catalogs.translator(STAFF_LANGUAGE)
        opened = datetime.fromtimestamp(case.opened_at, UTC).strftime("%d/%m %H:%M UTC")
        if not case.is_open:
            msg = CARD_CLOSED
        elif case.claimed_by is not None:
            msg = CARD_TAKEN
        else:
            msg = CARD_OPEN
        return translator.render(
            Msg(msg.msgid, (("code", case.code), ("language", case.language),
                            ("opened", opened), ("name", case.claimed_name or "?")))
        )  # fmt: skip

    def _card_buttons(self, case: Case) -> InlineKeyboardMarkup | None:
        if not case.is_open:
            return None
        first = (
            Button(RELEASE, f"case:release:{case.id}")
            if case.claimed_by is not None
            else Button(CLAIM, f"case:claim:{case.id}")
        )
        card = Screen(body=(), buttons=((first, Button(CLOSE, f"case:close:{case.id}")),))
        return inline_markup(card, self._catalogs.translator(STAFF_LANGUAGE))

    def _person_buttons(self, *, menu: bool) -> tuple[tuple[Button, ...], ...]:
        first = Button(MENU, "nav:menu") if menu else Button(END, "case:end")
        return ((first,), (EXIT,))
