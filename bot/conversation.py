"""Runs one flow step for one update: read the row, trigger the shared machine, save. The intake
runs a chat's updates one after another (bot/telegram/intake.py): steps of a chat never overlap.

The row is read on the store's reading connection, which never waits behind a write. The save
(version-checked) is on disk before the step returns, so before any answer is sent; it shares
its transaction with other people's writes made at the same time. The ids of messages sent, for
the quick exit, may wait: in the intake's unit of work for the update they are committed with
the update's removal from the inbox (state/store.py).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.flows.base import Event, Flow, FlowModel
from bot.flows.screens import Output
from bot.indicators import Counter, Tally
from bot.keys import Keys
from state import conversations, messages
from state.conversations import ConversationRow
from state.store import Store


@dataclass(frozen=True)
class StorageKey:
    """Whose conversation this is, in aiogram's shape, on any channel: the bot's account, the
    chat and the person as the channel's own ids, as text (a channel other than Telegram prefixes
    them with its name, so that ids never meet across channels). Stored only as a keyed hash."""

    bot_id: str
    chat_id: str
    user_id: str
    destiny: str = "default"

    def digest(self, keys: Keys) -> str:
        # The 0 stands where aiogram's key has a thread id: keys already stored stay the same.
        return keys.pseudonym("storage", self.bot_id, self.chat_id, self.user_id, 0, self.destiny)


@dataclass(frozen=True)
class StepResult:
    outputs: list[Output]
    language: str | None  # the person's language after the step (it may have just been chosen)


class ConversationRunner:
    def __init__(self, store: Store, keys: Keys, counter: Counter | None = None) -> None:
        self._store = store
        self._keys = keys
        self.counter = counter or Counter()

    def person_key(self, key: StorageKey) -> str:
        """The person, whatever chat she writes from: the name of her rows in the store."""
        return self._keys.pseudonym("person", key.bot_id, key.user_id)

    async def step(
        self,
        flow: Flow,
        key: StorageKey,
        event: Event,
        *,
        message_id: int | None = None,
        role: str | None = None,
        view: Mapping[str, Any] | None = None,
    ) -> StepResult:
        """One flow step; `message_id`, the person's own message, is remembered for the quick
        exit with the step, and what the step counts (by `role`, an officer's) with its save.
        `view`: what the core knows for this step only (a member's languages, what they may
        review), never stored."""
        storage_key = key.digest(self._keys)
        person_key = self.person_key(key)
        async with self._store.reading() as db:
            row, language = await conversations.load(db, flow.name, storage_key, person_key)
        row = row or ConversationRow(state=flow.initial)
        model = FlowModel(row.data, language, role)
        model.view.update(view or {})
        flow.machine.add_model(model, initial=row.state)
        try:
            if row.last_update_id is not None and event.update_id <= row.last_update_id:
                # Replayed after a crash that fell after this step was saved: show where the
                # person is rather than applying the same event twice.
                return StepResult([flow.with_notices(model)], model.language)
            outputs = await flow.step(model, event)
        finally:
            flow.machine.remove_model(model)
        row.state, row.data, row.last_update_id = model.state, model.data, event.update_id

        def save(conn: sqlite3.Connection) -> None:
            conversations.ensure_person_sync(conn, person_key, model.language)
            conversations.save(conn, flow.name, storage_key, person_key, row)
            if message_id is not None:
                messages.remember_sync(conn, person_key, [message_id])
            self.counter.add_sync(conn, model.tallies)

        await self._store.write(save)
        return StepResult(outputs, model.language)

    async def remember_sent(
        self, key: StorageKey, message_ids: list[int], *, ensure: bool = False
    ) -> None:
        """Remember ids of messages in the person's chat, for the quick exit. Only for a person
        the store knows, so that one her quick exit has just forgotten is never written back;
        `ensure` makes the person first (for an officer or administrator, whose tools keep no
        conversation row)."""
        if not message_ids:
            return
        person_key = self.person_key(key)
        ids = list(message_ids)

        def remember(conn: sqlite3.Connection) -> None:
            if ensure:
                conversations.ensure_person_sync(conn, person_key, None)
            messages.remember_sync(conn, person_key, ids)

        await self._store.defer(remember)

    async def remember_language(self, key: StorageKey, language: str) -> None:
        """Keep a member's language (an officer's, editor's or administrator's: never call it for
        a survivor, whose language is hers to choose), so that notices they did not ask for
        reach them in it. It lives in their person row, and goes with it."""
        person_key = self.person_key(key)

        def remember(conn: sqlite3.Connection) -> None:
            conversations.ensure_person_sync(conn, person_key, language)

        await self._store.write(remember)

    async def language(self, key: StorageKey) -> str | None:
        async with self._store.reading() as db:
            return await conversations.language(db, self.person_key(key))

    async def deletable_messages(self, key: StorageKey) -> list[int]:
        async with self._store.reading() as db:
            return await messages.deletable(db, self.person_key(key))

    async def forget(
        self, key: StorageKey, *, undeleted: list[int] | None = None, tallies: Sequence[Tally] = ()
    ) -> None:
        """Delete every row of this person: conversations and message ids go with the person.

        `undeleted` are ids of messages Telegram would not delete just now: only they are kept,
        so that the next quick exit can try again (they go with the 48-hour purge anyway).
        `tallies` (her quick exit) are counted in the same transaction."""
        person_key = self.person_key(key)

        def forget(conn: sqlite3.Connection) -> None:
            conversations.forget_person(conn, person_key)
            self.counter.add_sync(conn, tallies)
            if undeleted:
                conversations.ensure_person_sync(conn, person_key, None)
                messages.remember_sync(conn, person_key, undeleted)

        await self._store.write(forget, durable=True)
