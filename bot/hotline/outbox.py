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

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.flows.screens import Msg, t
from bot.flows.survivor import EXIT
from bot.hotline import service
from bot.hotline.service import Hotline
from bot.i18n import Catalogs
from bot.keys import Keys
from bot.ratelimit import DEPARTURE, CalledOff, Departure
from state import cases, messages, outbox
from state.cases import Case
from state.outbox import Job
from state.store import Store, now

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
IDLE_SECONDS = 30.0  # look again at least this often (for jobs waiting for a retry)
# How long her quick exit waits for a message already on its way to her, to delete it with
# the rest; one slower than that deletes itself when it arrives.
ON_ITS_WAY_GRACE = 5.0
STAFF_LANGUAGE = "fr"

CLAIM = t("✋ Claim")
RELEASE = t("↩️ Release")
CLOSE = t("✅ Close")
END = t("End the conversation")
MENU = t("☰ Menu")
CARD_OPEN = t("Case %(code)s · %(language)s\nOpened %(opened)s. Not claimed yet.")
CARD_TAKEN = t("Case %(code)s · %(language)s\nOpened %(opened)s. Taken by %(name)s.")
CARD_CLOSED = t("Case %(code)s · %(language)s\nClosed.")


class _Gone(Exception):
    """The job can never be done (case purged, message gone): drop it."""


class OutboxWorker:
    def __init__(
        self, bot: Bot, store: Store, keys: Keys, catalogs: Catalogs, hotline: Hotline
    ) -> None:
        self._bot = bot
        self._store = store
        self._keys = keys
        self._catalogs = catalogs
        self._hotline = hotline
        self._wake = asyncio.Event()
        self._busy: dict[str, asyncio.Task[None]] = {}
        # Per busy lane: whether its request has left for Telegram, or was called off.
        self._departures: dict[str, Departure] = {}
        hotline.on_enqueue = self._wake.set
        hotline.on_lane_closed = self.cancel_lane

    async def run(self, stop: asyncio.Event) -> None:
        """Send until `stop` is set; jobs in progress then finish, the rest wait for next time."""
        stopping = asyncio.create_task(stop.wait())
        try:
            while not stop.is_set():
                self._wake.clear()
                async with self._store.transaction() as db:
                    jobs = await outbox.heads(db, self._keys)
                    next_at = await outbox.next_due_at(db)
                for job in jobs:
                    if job.lane not in self._busy:
                        departure = self._departures[job.lane] = Departure()
                        self._busy[job.lane] = asyncio.create_task(self._run(job, departure))
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

    async def _run(self, job: Job, departure: Departure) -> None:
        DEPARTURE.set(departure)  # in this task's own context: the rate limiter reads it
        try:
            await self._attempt(job)
        except CalledOff:
            pass  # she left before it went out: its row went with her lane
        except Exception as exc:  # a bug must not stop the other lanes, nor repeat forever
            log.error("Outbox job %d failed: %s", job.id, type(exc).__name__)
            if job.attempts + 1 >= MAX_ATTEMPTS:
                async with self._store.transaction() as db:
                    await outbox.done(db, job.id)
            else:
                await self._retry(job, 60)
        finally:
            del self._busy[job.lane]
            del self._departures[job.lane]
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

    async def cancel_lane(self, lane: str) -> None:
        """She left: nothing more may reach her chat. A job waiting for its turn is stopped. A
        message already on its way cannot be called back: it is let arrive and deleted at once
        (see _remember), and the job tries no more. Her quick exit waits for that a little, so
        that her chat is clean when it says goodbye."""
        task = self._busy.get(lane)
        if task is None or task is asyncio.current_task():
            return
        departure = self._departures[lane]
        departure.called_off = True
        deadline = asyncio.get_running_loop().time() + ON_ITS_WAY_GRACE
        while departure.on_its_way and not task.done():
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                return  # slower than that: it deletes its message itself when it arrives
            await asyncio.wait({task}, timeout=min(left, 0.05))
        if not task.done():
            task.cancel()
            await asyncio.wait({task})

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
            sent = await self._bot.send_message(
                action["chat"],
                self._render(case.language, action),
                reply_markup=self._person_buttons(case, menu=bool(action.get("menu"))),
                protect_content=True,
            )
            await self._remember(job, case, sent.message_id)
        elif kind == "copy_out":
            copied = await self._bot.copy_message(
                action["chat"], action["from_chat"], action["message_id"], protect_content=True
            )
            await self._remember(job, case, copied.message_id)
        elif kind == "topic":
            if case.thread_id is None:
                await self._new_topic(case)
            elif case.card_message_id is None:  # the topic exists; its card did not get out
                await self._send_card(case, case.thread_id)
        else:
            await self._in_topic(case, action)

    async def _remember(self, job: Job, case: Case, message_id: int) -> None:
        """What reaches her chat is remembered for 48 h, so the quick exit can delete it. If she
        left while it was on its way, it is deleted at once. Decided inside the transaction: her
        quick exit calls the lane off before it reads what to delete."""
        person = job.person_key or case.person_key  # jobs queued before person keys were kept
        async with self._store.transaction() as db:
            left = self._departures[job.lane].called_off
            if not left and person is not None:
                await messages.remember(db, person, [message_id])
        if left:
            DEPARTURE.set(None)  # this deletion is not to be called off with the message
            with contextlib.suppress(TelegramError):
                await self._bot.delete_message(job.action["chat"], message_id)

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
            await self._bot.copy_message(
                chat, action["chat"], action["message_id"], message_thread_id=thread
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
        async with self._store.transaction() as db:
            await outbox.done(db, job.id)
        if job.priority == outbox.TO_PERSON:
            case = await self._case(job)
            note = {"kind": "say", **service.message(service.STAFF_NOT_DELIVERED)}
            async with self._store.transaction() as db:
                await outbox.enqueue(
                    db, self._keys, case_id=case.id, lane=self._hotline.staff_lane(case),
                    priority=outbox.TO_STAFF, dedupe_key=f"{case.id}:undelivered:{job.id}",
                    action=note,
                )  # fmt: skip

    def _render(self, language: str, action: dict[str, Any]) -> str:
        msg = Msg(action["msgid"], tuple(action.get("params", {}).items()))
        return self._catalogs.translator(language).render(msg)

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
        render = self._catalogs.translator(STAFF_LANGUAGE).render
        first = (
            InlineKeyboardButton(render(RELEASE), callback_data=f"case:release:{case.id}")
            if case.claimed_by is not None
            else InlineKeyboardButton(render(CLAIM), callback_data=f"case:claim:{case.id}")
        )
        close = InlineKeyboardButton(render(CLOSE), callback_data=f"case:close:{case.id}")
        return InlineKeyboardMarkup([[first, close]])

    def _person_buttons(self, case: Case, *, menu: bool) -> InlineKeyboardMarkup:
        render = self._catalogs.translator(case.language).render
        first = (
            InlineKeyboardButton(render(MENU), callback_data="nav:menu")
            if menu
            else InlineKeyboardButton(render(END), callback_data="case:end")
        )
        return InlineKeyboardMarkup(
            [[first], [InlineKeyboardButton(render(EXIT.label), callback_data=EXIT.data)]]
        )
