"""Invited members (officers, editors and translators) and their invitations.

Members are professionals, not survivors: their Telegram id, role, who invited them and when
are kept. Invitation codes are kept only as a keyed hash, work once and expire after 7 days.
"""

from __future__ import annotations

import re
import secrets
import sqlite3
from dataclasses import dataclass
from typing import Protocol

import aiosqlite

from state.store import Store, first_row, now

OFFICER_ROLES = ("police", "gendarmerie", "justice")
EDITOR = "editor"  # keeps the directory true (bot/editing.py); not an officer
ROLES = (*OFFICER_ROLES, EDITOR)
# A translator's role names their language: "translator:bm" (bot/translations.py).
TRANSLATOR = "translator"
_TRANSLATOR_ROLE = re.compile(r"translator:[a-z]{2,3}")
INVITATION_SECONDS = 7 * 24 * 3600

# Letters and digits that cannot be mistaken for one another when read aloud or copied by hand.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
_GROUPS, _GROUP_LENGTH = 3, 4  # XXXX-XXXX-XXXX: 31^12, about 2^59, for a 7-day single-use code
_CODE = re.compile(f"[{CODE_ALPHABET}]{{{_GROUPS * _GROUP_LENGTH}}}")


def is_role(role: str) -> bool:
    return role in ROLES or _TRANSLATOR_ROLE.fullmatch(role) is not None


def translator_language(role: str | None) -> str | None:
    """The language of a translator's role; None for any other role."""
    if role is None or _TRANSLATOR_ROLE.fullmatch(role) is None:
        return None
    return role.partition(":")[2]


class Hasher(Protocol):
    def pseudonym(self, *parts: object) -> str: ...


@dataclass(frozen=True)
class Invitation:
    code: str  # shown once to the administrator, never stored
    role: str
    expires_at: int


@dataclass(frozen=True)
class Officer:
    user_id: int
    role: str
    invited_by: int
    invited_at: int
    joined_at: int


@dataclass(frozen=True)
class Redemption:
    officer: Officer
    already: bool  # the person had access already: the code was left unused


def normalise_code(text: str) -> str | None:
    """The code in its canonical XXXX-XXXX-XXXX form, whatever the case, spaces and dashes;
    None when the text cannot be a code."""
    compact = re.sub(r"[\s-]+", "", text).upper()
    if not _CODE.fullmatch(compact):
        return None
    size = _GROUP_LENGTH
    return "-".join(compact[i : i + size] for i in range(0, len(compact), size))


def _new_code() -> str:
    letters = "".join(secrets.choice(CODE_ALPHABET) for _ in range(_GROUPS * _GROUP_LENGTH))
    code = normalise_code(letters)
    assert code is not None
    return code


class Officers:
    """Only this class writes the officers table, so it keeps the active officers in memory as
    well: the role is checked on every private message, and reading it from the store each
    time took a turn of the store's one lock from every survivor's step."""

    def __init__(self, store: Store, hasher: Hasher) -> None:
        self._store = store
        self._hasher = hasher
        self._active: dict[int, Officer] | None = None  # loaded on first use

    def _hash(self, code: str) -> str:
        return self._hasher.pseudonym("invitation", code)

    async def invite(self, admin_id: int, role: str, *, at: int | None = None) -> Invitation:
        if not is_role(role):
            raise ValueError(f"unknown role {role!r}")
        at = at or now()
        code = _new_code()
        expires_at = at + INVITATION_SECONDS
        async with self._store.transaction() as db:
            await db.execute(
                "INSERT INTO invitations (code_hash, role, created_by, created_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (self._hash(code), role, admin_id, at, expires_at),
            )
        return Invitation(code, role, expires_at)

    async def redeem(self, code: str, user_id: int, *, at: int | None = None) -> Redemption | None:
        """Give access with a valid code, which is then spent; None when the code is unknown,
        spent or expired. Someone who has access already keeps it and the code stays unused."""
        at = at or now()
        code_hash = self._hash(code)
        async with self._store.transaction() as db:
            current = await _active(db, user_id)
            if current is not None:
                return Redemption(current, already=True)
            async with db.execute(
                "SELECT role, created_by, created_at FROM invitations "
                "WHERE code_hash = ? AND expires_at > ?",
                (code_hash, at),
            ) as cur:
                row = await cur.fetchone()
            if row is None:
                return None
            await db.execute("DELETE FROM invitations WHERE code_hash = ?", (code_hash,))
            officer = Officer(user_id, str(row[0]), int(row[1]), int(row[2]), at)
            await db.execute(
                "INSERT INTO officers (user_id, role, invited_by, invited_at, joined_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET "
                "role = excluded.role, invited_by = excluded.invited_by, "
                "invited_at = excluded.invited_at, joined_at = excluded.joined_at, "
                "revoked_at = NULL, revoked_by = NULL",
                (officer.user_id, officer.role, officer.invited_by, officer.invited_at, at),
            )
        if self._active is not None:
            self._active[user_id] = officer
        return Redemption(officer, already=False)

    async def officer(self, user_id: int) -> Officer | None:
        """The officer with this id if their access stands; checked on every officer action."""
        return (await self._loaded()).get(user_id)

    def known_role(self, user_id: int) -> str | None:
        """The role of an active member, from memory only (for the intake, which cannot wait);
        None until the members are loaded (`active()` at start loads them)."""
        member = None if self._active is None else self._active.get(user_id)
        return None if member is None else member.role

    async def active(self) -> list[Officer]:
        return sorted((await self._loaded()).values(), key=lambda o: (o.joined_at, o.user_id))

    async def _loaded(self) -> dict[int, Officer]:
        if self._active is None:
            async with self._store.transaction() as db:
                rows = await db.execute_fetchall(f"{_SELECT} WHERE revoked_at IS NULL")
            self._active = {int(row[0]): _officer(row) for row in rows}
        return self._active

    async def pending_invitations(self, *, at: int | None = None) -> int:
        async with (
            self._store.transaction() as db,
            db.execute(
                "SELECT COUNT(*) FROM invitations WHERE expires_at > ?", (at or now(),)
            ) as cur,
        ):
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def revoke(self, user_id: int, admin_id: int, *, at: int | None = None) -> bool:
        """Take access away; False when this id has no access to take."""
        async with self._store.transaction() as db:
            cur = await db.execute(
                "UPDATE officers SET revoked_at = ?, revoked_by = ? "
                "WHERE user_id = ? AND revoked_at IS NULL",
                (at or now(), admin_id, user_id),
            )
        if self._active is not None:
            self._active.pop(user_id, None)
        return cur.rowcount == 1

    async def cancel(self, code: str) -> bool:
        """Withdraw an invitation not used yet; False when there is none with this code."""
        async with self._store.transaction() as db:
            cur = await db.execute(
                "DELETE FROM invitations WHERE code_hash = ?", (self._hash(code),)
            )
        return cur.rowcount == 1


_SELECT = "SELECT user_id, role, invited_by, invited_at, joined_at FROM officers"


async def _active(db: aiosqlite.Connection, user_id: int) -> Officer | None:
    row = await first_row(db, f"{_SELECT} WHERE user_id = ? AND revoked_at IS NULL", (user_id,))
    return None if row is None else _officer(row)


def _officer(row: sqlite3.Row) -> Officer:
    return Officer(int(row[0]), str(row[1]), int(row[2]), int(row[3]), int(row[4]))
