"""Invitations and officers in the store: single use, expiry, revocation, codes never stored."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.keys import Keys
from state.officers import INVITATION_SECONDS, Officers, normalise_code
from state.store import Store

ADMIN, AWA, BINTA = 11, 1001, 1002
NOW = 1_800_000_000


@pytest.fixture
def officers(store: Store) -> Officers:
    return Officers(store, Keys("officer-tests-" + "k" * 30))


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("abcd-efgh-jkmn", "ABCD-EFGH-JKMN"),
        ("ABCDEFGHJKMN", "ABCD-EFGH-JKMN"),
        (" abcd efgh jkmn ", "ABCD-EFGH-JKMN"),
        ("ABCD-EFGH-JKM", None),  # too short
        ("ABCD-EFGH-JKM0", None),  # 0 is not in the alphabet: it reads like O
        ("hello", None),
        ("", None),
    ],
)
def test_codes_are_read_whatever_the_case_spaces_and_dashes(
    typed: str, expected: str | None
) -> None:
    assert normalise_code(typed) == expected


async def test_a_code_works_once(officers: Officers) -> None:
    invitation = await officers.invite(ADMIN, "police", at=NOW)
    assert normalise_code(invitation.code) == invitation.code
    assert invitation.expires_at == NOW + INVITATION_SECONDS
    redeemed = await officers.redeem(invitation.code, AWA, at=NOW + 60)
    assert redeemed is not None
    assert not redeemed.already
    assert (redeemed.officer.role, redeemed.officer.invited_by) == ("police", ADMIN)
    assert (redeemed.officer.invited_at, redeemed.officer.joined_at) == (NOW, NOW + 60)
    assert await officers.redeem(invitation.code, BINTA, at=NOW + 120) is None
    assert await officers.officer(AWA) == redeemed.officer
    assert await officers.officer(BINTA) is None


async def test_a_code_expires_after_seven_days(officers: Officers) -> None:
    invitation = await officers.invite(ADMIN, "gendarmerie", at=NOW)
    assert await officers.redeem(invitation.code, AWA, at=NOW + INVITATION_SECONDS) is None
    assert await officers.pending_invitations(at=NOW) == 1
    assert await officers.pending_invitations(at=NOW + INVITATION_SECONDS) == 0
    # The expired row itself goes with the scheduled purge (tests/test_retention.py).


async def test_someone_with_access_keeps_the_code_unspent(officers: Officers) -> None:
    first = await officers.invite(ADMIN, "police", at=NOW)
    second = await officers.invite(ADMIN, "justice", at=NOW)
    await officers.redeem(first.code, AWA, at=NOW)
    again = await officers.redeem(second.code, AWA, at=NOW)
    assert again is not None
    assert again.already
    assert again.officer.role == "police"
    assert await officers.redeem(second.code, BINTA, at=NOW) is not None


async def test_revoking_takes_access_away_until_a_new_invitation(officers: Officers) -> None:
    await officers.redeem((await officers.invite(ADMIN, "police", at=NOW)).code, AWA, at=NOW)
    assert await officers.revoke(AWA, ADMIN, at=NOW + 10)
    assert not await officers.revoke(AWA, ADMIN)
    assert await officers.officer(AWA) is None
    assert await officers.active() == []
    invitation = await officers.invite(ADMIN, "gendarmerie", at=NOW + 20)
    back = await officers.redeem(invitation.code, AWA, at=NOW + 30)
    assert back is not None
    assert not back.already
    assert [o.role for o in await officers.active()] == ["gendarmerie"]


async def test_an_unused_invitation_can_be_withdrawn(officers: Officers) -> None:
    invitation = await officers.invite(ADMIN, "police", at=NOW)
    assert await officers.cancel(invitation.code)
    assert not await officers.cancel(invitation.code)
    assert await officers.redeem(invitation.code, AWA, at=NOW) is None


async def test_roles_are_checked(officers: Officers) -> None:
    with pytest.raises(ValueError, match="role"):
        await officers.invite(ADMIN, "admin")


async def test_only_a_keyed_hash_of_the_code_is_stored(
    officers: Officers, store: Store, db_path: Path
) -> None:
    invitation = await officers.invite(ADMIN, "police", at=NOW)
    await store.checkpoint()
    raw = b"".join(p.read_bytes() for p in db_path.parent.iterdir())
    for form in (invitation.code, invitation.code.replace("-", "")):
        assert form.encode() not in raw
