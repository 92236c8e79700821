"""Officers' knowledge checks: the spaced-repetition order, the weekly question at its Bamako
time with a moved clock, the baseline on joining, /quiz off and on, answers counted once and only
as monthly aggregates, the record gone at revoke; and end to end, an officer taking the baseline
and /quiz in the real application."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.content.protocols import load_protocols
from bot.content.quiz import BASELINE, BASELINE_VSLC, load_questions, read_questions
from bot.emulator import BotApiEmulator
from bot.flows import quiz as flow
from bot.flows.screens import Localized, Msg, Screen, t
from bot.keys import Keys
from bot.quiz import Quiz
from state.officers import Officers
from state.quiz import Card
from state.store import Store
from tests.conftest import StartBot
from tests.test_officer_e2e import ACCESS, ADMIN, ADMINS, data_of, invite, press, shown

BANK = load_questions(load_protocols())
WEEK = timedelta(weeks=1)
OFFICER = 2001


def ids(screen: Screen) -> list[str]:
    return [b.data for row in screen.buttons for b in row]


def asked(screen: Screen) -> str:
    """The question a screen asks, from its answer buttons (quiz:a:<id>:<choice>)."""
    return ids(screen)[0].split(":")[2]


def texts(screen: Screen) -> list[str]:
    return [part.msgid if isinstance(part, Msg) else str(part) for part in screen.body]


# --- pure: what comes next and when ------------------------------------------------------------


def test_wrong_answers_come_back_first_then_new_questions_then_the_known_by_box() -> None:
    one, two, three, *rest = BANK.all
    start = 1_800_000_000
    cards = {
        one.id: flow.answered(None, one.id, True, start),  # box 2: back in 2 weeks
        two.id: flow.answered(None, two.id, False, start),  # box 1: back next week
    }
    assert cards[one.id] == Card(one.id, 2, start + 2 * flow.WEEK)
    assert cards[two.id] == Card(two.id, 1, start + flow.WEEK)
    # Within the week, nothing seen is due: a new question.
    chosen = flow.next_question(BANK.all, cards, start + flow.WEEK - 1, "s")
    assert chosen is not None
    assert chosen.id not in cards
    # A week on, the wrong answer comes back before any new question.
    assert flow.next_question(BANK.all, cards, start + flow.WEEK, "s") == two
    # Two weeks on, with every question seen: the wrong one still first, then the lower box.
    later = start + 2 * flow.WEEK
    for question in [*rest, three]:
        cards[question.id] = Card(question.id, 4, later)
    assert flow.next_question(BANK.all, cards, later, "s") == two
    cards[two.id] = flow.answered(cards[two.id], two.id, True, later)  # now box 2, not due
    assert flow.next_question(BANK.all, cards, later, "s") == one  # box 2 before box 4
    # Right answers climb to box 5 (16 weeks) and stay there; one wrong answer drops to box 1.
    card = None
    for _ in range(6):
        card = flow.answered(card, one.id, True, start)
    assert card == Card(one.id, 5, start + 16 * flow.WEEK)
    assert flow.answered(card, one.id, False, start).box == 1
    # Nothing due at all: the one due soonest.
    soon = {q.id: Card(q.id, 3, later + 100 + i) for i, q in enumerate(BANK.all)}
    assert flow.next_question(BANK.all, soon, later, "s") == BANK.all[0]


def test_the_baseline_is_five_questions_two_on_vslc_drawn_per_officer() -> None:
    first, second = flow.baseline(BANK.all, "2001"), flow.baseline(BANK.all, "2002")
    assert len(first) == BASELINE == len({q.id for q in first})
    assert sum(q.vslc for q in first) == BASELINE_VSLC
    assert first == flow.baseline(BANK.all, "2001")  # the same draw every time
    assert first != second


def test_the_weekly_time_falls_in_bamako_office_hours_once_a_week() -> None:
    seen: set[tuple[int, int]] = set()
    for seed in ("2001", "2002", "31337"):
        day = date(2026, 12, 7)
        for _ in range(30):
            slot = flow.send_time(day, seed)
            local = slot.astimezone(flow.BAMAKO)
            assert local.isocalendar()[:2] == day.isocalendar()[:2]  # in that very week
            assert local.weekday() < flow.OFFICE_DAYS  # Monday to Thursday
            assert flow.OFFICE_HOURS[0] <= local.time() < flow.OFFICE_HOURS[1]
            assert local.utcoffset() == timedelta(0)  # Bamako keeps UTC all year
            assert flow.next_send(slot, seed) == flow.send_time(day + WEEK, seed)
            assert flow.send_time(day, seed) == slot  # the same draw every time
            seen.add((local.weekday(), local.hour))
            day += WEEK
    assert len(seen) > 8  # not always the same day and hour


# --- the service, with a moved clock -----------------------------------------------------------


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
async def officer(store: Store) -> Officers:
    officers = Officers(store, Keys("quiz-tests-" + "k" * 30))
    invitation = await officers.invite(ADMIN, "gendarmerie")
    assert await officers.redeem(invitation.code, OFFICER) is not None
    return officers


def knowledge(db_path: Path) -> dict[tuple[str, str], int]:
    """The anonymous indicator's counts: (month, values) -> answers."""
    with sqlite3.connect(db_path) as db:
        rows = db.execute(
            "SELECT period, dims, count FROM indicator_counts WHERE indicator = 'knowledge'"
        ).fetchall()
    return {(period, dims): count for period, dims, count in rows}


async def answer_rightly(quiz: Quiz, screen: Screen) -> list[Screen]:
    question = BANK.get(asked(screen))
    assert question is not None
    return await quiz.answer(OFFICER, question.id, question.right)


async def test_baseline_on_joining_then_the_weekly_question_at_its_time(
    store: Store, officer: Officers, db_path: Path
) -> None:
    joined = datetime(2026, 12, 7, 10, 30, tzinfo=UTC)  # a Monday
    clock = Clock(joined)
    quiz = Quiz(store, BANK, clock)
    [screen] = await quiz.join(OFFICER)
    assert texts(screen)[0] == flow.WELCOME.msgid
    assert await quiz.join(OFFICER) == []  # joining again starts nothing
    for n in range(1, BASELINE + 1):
        assert t("🧠 Question %(n)s of %(of)s", n=n, of=BASELINE) in screen.body
        shown = await answer_rightly(quiz, screen)
        assert texts(shown[0])[1] == "✅ Right."
        screen = shown[-1]
    assert texts(screen) == [flow.BASELINE_DONE.msgid]
    baseline = "role=gendarmerie;topic={};phase=baseline;result=right"
    assert knowledge(db_path) == {
        ("2026-12", baseline.format("vslc")): BASELINE_VSLC,
        ("2026-12", baseline.format("general")): BASELINE - BASELINE_VSLC,
    }

    # Nothing before the week's drawn time; the question at it; then not again that week.
    slot = flow.send_time(joined.date() + WEEK, str(OFFICER))
    clock.at = slot - timedelta(minutes=1)
    assert await quiz.due() == []
    clock.at = slot
    [(user, [weekly])] = await quiz.due()
    assert user == OFFICER
    assert t("🧠 Question of the week") in weekly.body
    assert await quiz.due() == []
    # A wrong answer counts once, as "later"; the old button counts nothing.
    question = BANK.get(asked(weekly))
    assert question is not None
    wrong = (question.right + 1) % len(question.choices)
    [explained] = await quiz.answer(OFFICER, question.id, wrong)
    assert "❌ Not this one. The right answer:" in texts(explained)
    assert Localized(question.explain) in explained.body
    [again] = await quiz.answer(OFFICER, question.id, question.right)
    assert texts(again) == [flow.ALREADY.msgid]
    topic = "vslc" if question.vslc else "general"
    later = {k: n for k, n in knowledge(db_path).items() if "phase=later" in k[1]}
    assert later == {("2026-12", f"role=gendarmerie;topic={topic};phase=later;result=wrong"): 1}
    # Next week: the wrongly answered question comes back.
    clock.at = flow.send_time(slot.date() + WEEK, str(OFFICER))
    [(_, [back])] = await quiz.due()
    assert asked(back) == question.id


async def test_quiz_off_pauses_the_weekly_questions_and_on_resumes_them(
    store: Store, officer: Officers
) -> None:
    clock = Clock(datetime(2026, 12, 9, 16, tzinfo=UTC))
    quiz = Quiz(store, BANK, clock)
    [paused] = await quiz.pause(OFFICER, paused=True)
    assert texts(paused) == [flow.PAUSED.msgid]
    clock.at += 10 * WEEK
    assert await quiz.due() == []
    [now] = await quiz.ask(OFFICER)  # /quiz still asks one, the baseline's first
    assert t("🧠 Question %(n)s of %(of)s", n=1, of=BASELINE) in now.body
    [resumed] = await quiz.pause(OFFICER, paused=False)
    assert texts(resumed) == [flow.RESUMED.msgid]
    assert await quiz.due() == []
    clock.at = flow.send_time(clock.at.date() + WEEK, str(OFFICER))
    [(_, [screen])] = await quiz.due()
    assert asked(screen) == asked(now)  # the question left unanswered comes first


async def test_the_record_goes_with_the_officer_and_the_counts_stay_anonymous(
    store: Store, officer: Officers, db_path: Path
) -> None:
    quiz = Quiz(store, BANK, Clock(datetime(2026, 12, 7, 10, tzinfo=UTC)))
    [screen] = await quiz.join(OFFICER)
    await answer_rightly(quiz, screen)
    assert await officer.revoke(OFFICER, ADMIN)
    with sqlite3.connect(db_path) as db:
        assert db.execute("SELECT COUNT(*) FROM quiz_officers").fetchone() == (0,)
        assert db.execute("SELECT COUNT(*) FROM quiz_cards").fetchone() == (0,)
        columns = {row[1] for row in db.execute("PRAGMA table_info(indicator_counts)")}
    assert columns == {"period", "indicator", "dims", "count"}
    assert sum(knowledge(db_path).values()) == 1


# --- end to end --------------------------------------------------------------------------------


@pytest.mark.usefixtures("unpaced", "in_process")
async def test_an_officer_takes_the_baseline_and_quiz_in_the_application(
    emulator: BotApiEmulator, start_bot: StartBot
) -> None:
    await start_bot(**ADMINS)
    awa = emulator.user(OFFICER, "Awa", language_code="en")
    await awa.send(f"/start {await invite(emulator)}")
    await shown(awa)  # welcome
    question = await shown(awa)
    assert (await shown(awa))["text"].startswith("👮 ")  # the officer menu, last
    assert question["text"].startswith("🧠 Five short questions")
    assert "Question 1 of 5" in question["text"]
    assert data_of(question)[0].startswith("quiz:a:")
    explained = await press(awa, question, data_of(question)[0])
    assert explained["message_id"] == question["message_id"]  # the answer takes its place
    assert "Sources:" in explained["text"]
    assert "Question 2 of 5" in (await shown(awa))["text"]
    await awa.send("/quiz off")
    assert (await shown(awa))["text"].startswith("⏸ Weekly questions paused.")
    await awa.send("/quiz")
    assert "Question 2 of 5" in (await shown(awa))["text"]  # the one waiting, again
    await awa.send("/quiz later")
    assert (await shown(awa))["text"].startswith("Send /quiz for a question now")

    stranger = emulator.user(3001, language_code="en")
    await stranger.send("/quiz")
    refusal = await shown(stranger)
    assert ACCESS in refusal["text"]
    await stranger.press(refusal, data_of(question)[0], check=False)  # forged
    assert ACCESS in (await shown(stranger))["text"]


async def test_officers_from_before_get_their_baseline_next_monday_at_nine(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    migrations = sorted((Path(__file__).parent.parent / "state" / "migrations").glob("0*.sql"))
    before = [
        m for m in migrations if m.name < next(m.name for m in migrations if "_quiz" in m.name)
    ]
    with sqlite3.connect(path) as db:
        for migration in before:
            db.executescript(migration.read_text(encoding="utf-8"))
        db.execute(f"PRAGMA user_version = {len(before)}")
        db.execute("INSERT INTO officers VALUES (2001, 'police', 500, 0, 0, NULL, NULL)")
        db.execute("INSERT INTO officers VALUES (2002, 'justice', 500, 0, 0, 1, 500)")
    store = await Store.open(path)
    await store.close()
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT user_id, baseline_left, asked, next_at FROM quiz_officers")
        [(user, left, question, next_at)] = rows.fetchall()
    assert (user, left, question) == (2001, BASELINE, None)
    first = datetime.fromtimestamp(next_at, flow.BAMAKO)
    assert (first.weekday(), first.hour, first.minute) == (0, 9, 0)
    assert timedelta(0) <= first.date() - datetime.now(UTC).date() < WEEK


# --- content check -----------------------------------------------------------------------------

HEAD = 'last_reviewed = 2026-12-01\nreview_status = "draft"\nreviewed_by = "tests"\n'
ONE_RIGHT = '[{ fr = "a", right = true }, { fr = "b" }]'


def question(question_id: str, *lines: str, choices: str = ONE_RIGHT) -> str:
    head = ("[[questions]]", f'id = "{question_id}"', 'text.fr = "?"', 'explain.fr = "."')
    return "\n".join((*head, f"choices = {choices}", *lines)) + "\n"


def test_content_check_refuses_what_would_mislead_an_officer(tmp_path: Path) -> None:
    step = 'item = "medical/hiv-72h"'
    good = "".join(question(f"q{n}", step, f"vslc = {str(n < 2).lower()}") for n in range(5))
    (tmp_path / "a.toml").write_text(HEAD + good, encoding="utf-8")
    protocols = load_protocols()
    assert read_questions(protocols, tmp_path).errors == []
    two_right = '[{ fr = "a", right = true }, { fr = "b", right = true }]'
    local = "confirm_locally = true"
    bad = "".join(
        (
            HEAD,
            question("q1", step, "vslc = false"),
            question("two-right", step, "vslc = false", choices=two_right),
            question("no-source", "vslc = false"),
            question("no-mark", step),
            question("unmarked-vslc", 'item = "vslc/procureur"', "vslc = false", local),
            question("not-local", 'item = "statement/no-mediation"', "vslc = false"),
            question("no-step", 'item = "medical/nothing"', "vslc = false"),
        )
    )
    (tmp_path / "b.toml").write_text(bad, encoding="utf-8")
    errors = "\n".join(read_questions(protocols, tmp_path).errors)
    for expected in (
        "quiz/b.toml question q1: duplicate id",
        "question two-right: exactly one choice must be right = true (2 are)",
        "question no-source: a source is required",
        "question no-mark: vslc is required",
        "question unmarked-vslc: it recalls a step of the VSLC protocol: set vslc = true",
        "question not-local: the step statement/no-mediation is to confirm locally",
        "question no-step: item 'medical/nothing' is not a step of a protocol",
    ):
        assert expected in errors, errors
