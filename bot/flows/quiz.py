"""Officers' knowledge checks: which question comes next, when the weekly one goes, and what the
officer sees. Pure functions of the question bank, the officer's cards, a time and a seed: the
caller (bot/quiz.py) reads and writes the officer's record, so tests move the clock.

Spaced repetition with Leitner boxes: a question answered wrongly goes to box 1 and comes back
the next week, before any other; one answered rightly moves up a box and comes back later (2, 4,
8, then 16 weeks). Questions never asked come after those answered wrongly.

One question a week, at a time drawn (from the officer's seed and the week) inside an office
day in Bamako: Monday to Thursday, 09:00 to 15:00 (Africa/Bamako is UTC all year). No figure of
the answers is shown to anyone but the officer.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.content.quiz import BASELINE, BASELINE_VSLC, Question
from bot.flows.officer_screens import framed
from bot.flows.screens import Button, Localized, Screen, Text, t
from state.quiz import Card

PREFIX = "quiz:"  # every quiz button; the channel checks the role before any of them
COMMAND = "quiz"
BAMAKO = ZoneInfo("Africa/Bamako")
OFFICE_DAYS = 4  # Monday to Thursday
OFFICE_HOURS = (time(9), time(15))
WEEK = 7 * 24 * 3600
BOXES = 5
INTERVAL_WEEKS = {1: 1, 2: 2, 3: 4, 4: 8, 5: 16}  # by box: wrong answers come back soonest
LETTERS = "ABCD"


def answered(card: Card | None, question_id: str, right: bool, at: int) -> Card:
    """The card after an answer: a box up when right, back to box 1 when wrong."""
    box = min((card.box if card else 1) + 1, BOXES) if right else 1
    return Card(question_id, box, at + INTERVAL_WEEKS[box] * WEEK)


def _shuffled(seed: str, question_id: str) -> str:
    """A stable order of its own for each officer."""
    return hashlib.sha256(f"{seed}:{question_id}".encode()).hexdigest()


def next_question(
    bank: Sequence[Question], cards: Mapping[str, Card], at: int, seed: str
) -> Question | None:
    """Due and answered wrongly first, then never asked, then due by box (lowest first); when
    none is due, the one due soonest."""

    def order(question: Question) -> tuple[int, int, int, str]:
        card, tiebreak = cards.get(question.id), _shuffled(seed, question.id)
        if card is None:
            return (0, 1, 0, tiebreak)
        if card.due_at > at:
            return (1, 0, card.due_at, tiebreak)
        return (0, 0 if card.box == 1 else card.box, card.due_at, tiebreak)

    return min(bank, key=order, default=None)


def baseline(bank: Sequence[Question], seed: str) -> list[Question]:
    """The questions an officer answers on joining, drawn from the seed: BASELINE_VSLC on
    conflict-related sexual violence and the rest on GBV care, in a shuffled order."""
    ranked = sorted(bank, key=lambda q: _shuffled(seed, q.id))
    vslc = [q for q in ranked if q.vslc][:BASELINE_VSLC]
    others = [q for q in ranked if not q.vslc][: BASELINE - len(vslc)]
    return sorted(vslc + others, key=lambda q: _shuffled(seed, q.id))


def send_time(day: date, seed: str) -> datetime:
    """The weekly question's time in the ISO week of `day`, drawn from the seed and the week."""
    year, week, weekday = day.isocalendar()
    draw = random.Random(f"{seed}:{year}-W{week}")  # noqa: S311 (a schedule, not a secret)
    start, end = (h.hour * 60 + h.minute for h in OFFICE_HOURS)
    minute = draw.randrange(start, end)
    office_day = day - timedelta(days=weekday - 1) + timedelta(days=draw.randrange(OFFICE_DAYS))
    return datetime.combine(office_day, time(minute // 60, minute % 60), BAMAKO)


def next_send(after: datetime, seed: str) -> datetime:
    """When the next weekly question goes: in the week after `after`'s, so one a week."""
    return send_time(after.astimezone(BAMAKO).date() + timedelta(weeks=1), seed)


# --- what the officer sees --------------------------------------------------------------------

PRIVATE = t("Only you see your answers: no grade goes to anyone.")
WELCOME = t(
    "🧠 Five short questions to see what you know today. Only you see your answers: no grade "
    "goes to anyone. After that, one question a week, on a working day."
)
BASELINE_DONE = t(
    "✅ Thank you: that was the fifth question. From now on, one question a week, on a working "
    "day. /quiz asks one now; /quiz off pauses them, /quiz on resumes them."
)
PAUSED = t("⏸ Weekly questions paused. /quiz on resumes them; /quiz still asks one now.")
RESUMED = t("▶️ Weekly questions resumed: the next one comes on a working day next week.")
ALREADY = t("This question has already been answered. /quiz asks another.")
USAGE = t("Send /quiz for a question now, /quiz off to pause the weekly questions, /quiz on to "
          "resume them.")  # fmt: skip


def question_screen(question: Question, position: tuple[int, int] | None) -> Screen:
    """The question with its lettered choices; `position` is (n, of) during the baseline."""
    head: Text = (
        t("🧠 Question of the week")
        if position is None
        else t("🧠 Question %(n)s of %(of)s", n=position[0], of=position[1])
    )
    body: list[Text] = [head, Localized(question.text)]
    body += [framed(c, f"{LETTERS[i]}. ") for i, c in enumerate(question.choices)]
    body.append(PRIVATE)
    buttons = tuple(
        Button(LETTERS[i], f"{PREFIX}a:{question.id}:{i}") for i in range(len(question.choices))
    )
    return Screen(body=tuple(body), buttons=(buttons,), edit=False)


def answer_screen(question: Question, chosen: int) -> Screen:
    """The question again, whether the answer was right, and why the right one is."""
    right = question.choices[question.right]
    body: list[Text] = [
        Localized(question.text),
        t("✅ Right.") if chosen == question.right else t("❌ Not this one. The right answer:"),
        framed(right, f"{LETTERS[question.right]}. "),
        Localized(question.explain),
    ]
    if question.confirm_locally:
        body.append(t("⚠️ To confirm locally with a Malian jurist."))
    sources = [s.title + (f" ({s.url})" if s.url else "") for s in question.sources]
    body.append(t("Sources: %(list)s", list="; ".join(sources)))
    return Screen(body=tuple(body))
