"""python-telegram-bot's Application, less one thing that grows with every person ever seen."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, Job


class JigiyaApplication(Application[Any, Any, Any, Any, Any, Any]):
    """After each update, python-telegram-bot (22.x) adds its chat's and its user's ids to two
    sets for the next flush of its persistence, even when there is no persistence, and only a
    flush empties them. Jigiya keeps its conversations in its own store and has none, so these
    sets would hold the id of every person the bot ever met, for as long as it runs: 2 ints and
    2 set slots per person, about 3 MB at 20,000 people and 7 MB more at 80,000, when a set
    grows (bench/README.md, Waves of new people)."""

    def _mark_for_persistence_update(
        self, *, update: object | None = None, job: Job[Any] | None = None
    ) -> None:
        if self.persistence is not None:
            super()._mark_for_persistence_update(update=update, job=job)
