"""Officers' knowledge checks, on any channel: the baseline on joining, /quiz, /quiz off and on,
answers, and the weekly questions. Reads and writes the officer's own record (state/quiz.py);
what comes next and when is decided by bot/flows/quiz.py from an injected clock.

An officer's answers are theirs alone: only the anonymous indicator `knowledge` leaves the
record (by role and month, bot/indicators.py), and the record goes when their access is revoked
(migration 008).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

import aiosqlite

from bot.content.quiz import BASELINE, Question, QuestionBank
from bot.flows import quiz as flow
from bot.flows.screens import Screen
from bot.indicators import Counter, allowed, knowledge_answer
from state import quiz as records
from state.quiz import QuizRecord
from state.store import Store


def _now() -> datetime:
    return datetime.now(UTC)


def _welcomed(question: Screen) -> Screen:
    """The baseline's first question, under what the questions are for (which says already
    that the answers are private)."""
    body = (flow.WELCOME, *(part for part in question.body if part != flow.PRIVATE))
    return replace(question, body=body)


class Quiz:
    def __init__(
        self,
        store: Store,
        bank: QuestionBank,
        clock: Callable[[], datetime] = _now,
        counter: Counter | None = None,
    ) -> None:
        self._store = store
        self.bank = bank
        self._clock = clock
        self._counter = counter or Counter(clock)  # the bot's, whose clock dates every count

    async def join(self, user_id: int) -> list[Screen]:
        """An officer who just got access: the first baseline question (none if they had a
        record already)."""
        async with self._store.reading() as db:
            if await records.record(db, user_id) is not None:
                return []
        return [_welcomed((await self.ask(user_id))[0])]

    async def ask(self, user_id: int) -> list[Screen]:
        """/quiz: the question on screen again if one waits, else the next one."""
        at = self._clock()
        async with self._store.transaction() as db:
            quiz = await self._record(db, user_id, at)
            question, position = await self._next(db, quiz, at)
            await records.update(db, replace(quiz, asked=question.id))
        return [flow.question_screen(question, position)]

    async def answer(self, user_id: int, question_id: str, chosen: int) -> list[Screen]:
        """The answer to the question on screen, counted once; during the baseline, the next
        baseline question follows."""
        at = self._clock()
        question = self.bank.get(question_id)
        async with self._store.transaction() as db:
            quiz = await records.record(db, user_id)
            if quiz is None or question is None or quiz.asked != question_id:
                return [Screen(body=(flow.ALREADY,), edit=False)]
            if not 0 <= chosen < len(question.choices):
                return [flow.question_screen(question, None)]
            right = chosen == question.right
            cards = await records.cards(db, user_id)
            card = flow.answered(cards.get(question.id), question.id, right, int(at.timestamp()))
            await records.save_card(db, user_id, card)
            phase: records.Phase = "baseline" if quiz.baseline_left > 0 else "later"
            if allowed("role", quiz.role):  # an officer's role (never an editor's)
                counted = knowledge_answer(quiz.role, question.id, vslc=question.vslc,
                                           baseline=phase == "baseline", right=right)  # fmt: skip
                await self._counter.add(db, [counted])
            quiz = replace(quiz, asked=None, baseline_left=max(quiz.baseline_left - 1, 0))
            await records.update(db, quiz)
        shown = [flow.answer_screen(question, chosen)]
        if phase == "baseline" and quiz.baseline_left == 0:
            shown.append(Screen(body=(flow.BASELINE_DONE,), edit=False))
        elif phase == "baseline":
            shown.extend(await self.ask(user_id))
        return shown

    async def pause(self, user_id: int, paused: bool) -> list[Screen]:
        """/quiz off and /quiz on. Resuming sets the next question in the coming week."""
        at = self._clock()
        async with self._store.transaction() as db:
            quiz = await self._record(db, user_id, at)
            next_at = quiz.next_at if paused else self._next_at(user_id, at)
            await records.update(db, replace(quiz, paused=paused, next_at=next_at))
        return [Screen(body=(flow.PAUSED if paused else flow.RESUMED,), edit=False)]

    async def due(self) -> list[tuple[int, list[Screen]]]:
        """The weekly questions due now, by officer, each marked asked and its next week set."""
        at = self._clock()
        sent: list[tuple[int, list[Screen]]] = []
        async with self._store.transaction() as db:
            for quiz in await records.due(db, int(at.timestamp())):
                question, position = await self._next(db, quiz, at)
                next_at = self._next_at(quiz.user_id, at)
                await records.update(db, replace(quiz, asked=question.id, next_at=next_at))
                screen = flow.question_screen(question, position)
                if quiz.baseline_left == BASELINE and quiz.asked is None:
                    screen = _welcomed(screen)  # an officer from before the knowledge checks
                sent.append((quiz.user_id, [screen]))
        return sent

    # --- the record -------------------------------------------------------------------------

    def _next_at(self, user_id: int, at: datetime) -> int:
        return int(flow.next_send(at, str(user_id)).timestamp())

    async def _record(self, db: aiosqlite.Connection, user_id: int, at: datetime) -> QuizRecord:
        """The officer's record, made with a baseline to answer if there is none (an officer
        who joined before the knowledge checks existed)."""
        await records.create(db, user_id, BASELINE, self._next_at(user_id, at))
        quiz = await records.record(db, user_id)
        assert quiz is not None  # the caller checked the officer's access
        return quiz

    async def _next(
        self, db: aiosqlite.Connection, quiz: QuizRecord, at: datetime
    ) -> tuple[Question, tuple[int, int] | None]:
        """The question on screen if one waits, else the next; with its place in the baseline."""
        cards = await records.cards(db, quiz.user_id)
        position = None
        if quiz.baseline_left > 0:
            position = (BASELINE - quiz.baseline_left + 1, BASELINE)
        waiting = self.bank.get(quiz.asked) if quiz.asked else None
        if waiting is not None:
            return waiting, position
        seed = str(quiz.user_id)
        if position is not None:
            left = [q for q in flow.baseline(self.bank.all, seed) if q.id not in cards]
            if left:
                return left[0], position
        question = flow.next_question(self.bank.all, cards, int(at.timestamp()), seed)
        assert question is not None  # content check: the bank holds at least BASELINE questions
        return question, position
