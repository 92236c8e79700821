"""The directory as editors keep it: the CSV files, with the log of their checks and approved
changes applied, live in the Directory every flow holds.

Every act is one row of the append-only log (state/directory_log.py), written before it takes
effect. Two people stand behind every change that could mislead: a correction, a new number or
centre, or a "not working" takes effect once someone else approves it, and a number two people
found not working is hidden at once (bot/content/changes.py).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace

from bot.content import Centre, Directory, Number
from bot.content.changes import Applied, apply_entry, apply_log, key
from state import directory_log
from state.append_log import AlreadyDecided
from state.directory_log import ItemKind, LogEntry
from state.store import Store, now

_KINDS: dict[str, ItemKind] = {"number": "number", "centre": "centre"}


class OwnChange(Exception):
    """Nobody approves or rejects their own change."""


@dataclass(frozen=True)
class Item:
    kind: ItemKind
    entry: Centre | Number

    @property
    def key(self) -> str:
        return key(self.kind, self.entry.id)


class Editing:
    def __init__(self, store: Store, directory: Directory) -> None:
        self._store = store
        self.directory = directory
        self._base = (list(directory.centres), list(directory.numbers))
        self.applied = Applied(*self._base)

    async def load(self) -> None:
        """Apply the whole log over the CSV files (at start)."""
        async with self._store.transaction() as db:
            log = await directory_log.entries(db)
        self.applied = apply_log(*self._base, log)
        self._show()

    def queue(self, done: Collection[str] = ()) -> list[Item]:
        """What to check next: numbers first, then centres; never checked by phone or visit
        first, then the longest unchecked. `done`: keys already seen in this session."""
        items = [Item("number", n) for n in self.applied.numbers]
        items += [Item("centre", c) for c in self.applied.centres]
        items = [item for item in items if item.key not in done]
        return sorted(
            items,
            key=lambda i: (i.kind != "number", i.entry.verified_by is not None,
                           i.entry.last_verified, i.entry.id),
        )  # fmt: skip

    def item(self, item_key: str) -> Item | None:
        name, _, item_id = item_key.partition(":")
        kind = _KINDS.get(name)
        entry = None if kind is None else self.applied.entry(kind, item_id)
        return None if kind is None or entry is None else Item(kind, entry)

    def pending(self, member: int) -> list[LogEntry]:
        """Changes and reports waiting for a second person, oldest first; not this member's."""
        return [p for p in self.applied.pending.values() if p.actor != member]

    def proposal(self, proposal_id: int) -> LogEntry | None:
        return self.applied.pending.get(proposal_id)

    def hidden(self, item_key: str) -> bool:
        return item_key in self.applied.hidden

    async def record(self, entry: LogEntry) -> bool:
        """Write one act to the log, then apply it; True when it hid a number from survivors.
        OwnChange or AlreadyDecided when a decision may not be taken."""
        if entry.proposal is not None:
            proposal = self.applied.pending.get(entry.proposal)
            if proposal is None:
                raise AlreadyDecided
            if proposal.actor == entry.actor:
                raise OwnChange
        was_hidden = set(self.applied.hidden)
        async with self._store.transaction() as db:
            written = await directory_log.append(db, replace(entry, at=entry.at or now()))
        apply_entry(self.applied, written)
        self._show()
        return bool(self.applied.hidden - was_hidden)

    def _show(self) -> None:
        self.directory.show(self.applied.centres, self.applied.visible_numbers())
