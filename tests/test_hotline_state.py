"""Hotline building blocks without Telegram: working hours, cases, and the outbox order."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.hotline.hours import Hours, HoursError
from bot.keys import Keys
from state import cases, conversations, outbox
from state.store import Store, now

STAFF = -1001234567890
KEYS = Keys("k" * 40)


def bamako(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)  # Bamako is UTC all year


def test_hours_open_and_next_opening() -> None:
    hours = Hours.parse("mon-fri 08:00-17:00; sat 09:00-12:00")
    friday_noon, friday_night = bamako(2026, 11, 27, 12), bamako(2026, 11, 27, 20)
    assert hours.is_open(friday_noon)
    assert not hours.is_open(friday_night)
    assert hours.next_opening(friday_night) == bamako(2026, 11, 28, 9)  # Saturday morning
    assert hours.next_opening(bamako(2026, 11, 28, 13)) == bamako(2026, 11, 30, 8)  # Monday
    assert hours.describe("fr") == "lundi–vendredi 08:00–17:00; samedi 09:00–12:00"


def test_hours_around_the_clock_and_across_the_week_end() -> None:
    always = Hours.parse("mon-sun 00:00-24:00")
    assert always.is_open(bamako(2026, 11, 29, 23, 59))
    weekend = Hours.parse("fri-mon 10:00-11:00")
    assert [s.day for s in weekend.spans] == [0, 4, 5, 6]


@pytest.mark.parametrize(
    "text", ["", "monday 08:00-17:00", "mon-fri 17:00-08:00", "mon 25:00-26:00", "xyz 1:00-2:00"]
)
def test_bad_hours_are_refused(text: str) -> None:
    with pytest.raises(HoursError):
        Hours.parse(text)


@pytest.fixture
async def store(store: Store) -> Store:
    """The shared store, with two people in it."""
    async with store.transaction() as db:
        for person in ("p", "q"):
            await conversations.ensure_person(db, person, "fr")
    return store


async def test_one_open_case_per_person_and_a_random_code(store: Store) -> None:
    async with store.transaction() as db:
        first, created = await cases.open_case(db, "p", lambda c: c.encode(), "fr", STAFF)
        again, created_again = await cases.open_case(db, "p", lambda c: c.encode(), "fr", STAFF)
        other, _ = await cases.open_case(db, "q", lambda c: c.encode(), "bm", STAFF)
    assert created
    assert not created_again
    assert again.id == first.id
    assert first.chat_sealed == first.code.encode()
    assert len(first.code) == 4
    assert first.code != other.code


async def test_the_first_claim_wins_and_close_leaves_metadata_only(store: Store) -> None:
    async with store.transaction() as db:
        case, _ = await cases.open_case(db, "p", lambda c: b"sealed", "fr", STAFF)
        assert await cases.claim(db, case.id, 11, "Fatou")
        assert not await cases.claim(db, case.id, 22, "Kadi")
        assert not await cases.release(db, case.id, 22)
        assert await cases.close(db, case.id, "closed_by_staff")
        closed = await cases.by_id(db, case.id)
    assert closed is not None
    assert closed.status == "closed"
    assert closed.outcome == "closed_by_staff"
    assert closed.chat_sealed is None
    assert closed.person_key is None
    assert closed.claimed_by is None
    assert closed.claimed_name is None
    assert closed.claimed_at is not None
    assert closed.closed_at is not None


async def test_blocks_and_the_count_of_recent_cases(store: Store) -> None:
    async with store.transaction() as db:
        case, _ = await cases.open_case(db, "p", lambda c: b"s", "fr", STAFF)
        await cases.close(db, case.id, "ended_by_person")
        await cases.open_case(db, "p", lambda c: b"s", "fr", STAFF)
        assert await cases.opened_since(db, "p", now() - 3600) == 2
        assert not await cases.is_blocked(db, "p")
        await cases.block(db, "p", 1)
        assert await cases.is_blocked(db, "p")
        await cases.block(db, "p", -1)
        assert not await cases.is_blocked(db, "p")


async def test_a_lane_never_skips_a_job_waiting_for_its_retry(store: Store) -> None:
    async with store.transaction() as db:
        case, _ = await cases.open_case(db, "p", lambda c: b"s", "fr", STAFF)
        for n in range(3):
            await outbox.enqueue(db, KEYS, case_id=case.id, lane="staff", priority=1,
                                 dedupe_key=f"s{n}", action={"n": n})  # fmt: skip
        await outbox.enqueue(db, KEYS, case_id=case.id, lane="person", priority=0,
                             dedupe_key="p0", action={"n": 9})  # fmt: skip
        assert not await outbox.enqueue(db, KEYS, case_id=case.id, lane="staff", priority=1,
                                        dedupe_key="s0", action={"n": 0})  # fmt: skip
        heads = await outbox.heads(db, KEYS)
        assert [(j.lane, j.action["n"]) for j in heads] == [("person", 9), ("staff", 0)]
        staff_head = heads[1]
        await outbox.later(db, staff_head.id, 30)
        # The staff lane waits for its first job; the person lane goes on.
        assert [j.lane for j in await outbox.heads(db, KEYS)] == ["person"]
        assert [j.action["n"] for j in await outbox.heads(db, KEYS, at=now() + 31)] == [9, 0]
