"""python-telegram-bot's Application, less one thing that grows with every person ever seen."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, Job


class JigiyaApplication(Application[Any, Any, Any, Any, Any, Any]):
    """After each update, python-telegram-bot (22.x) adds its chat's and its user's ids to two
    sets for the next flush of its persistence, even when there is no persistence, and only a
    flush empties them. Jigiya keeps its conversations in its own store and has none, so these
    sets would hold the id of every person the bot ever met, for as long as it runs: 2 ints and
    2 set slots per person, with steps of +3 MB at 19,661 people and +4 MB at 78,643 when the
    sets' tables grow, 15 MB at 100,000 (bench/README.md, Waves of new people)."""

    def _mark_for_persistence_update(
        self, *, update: object | None = None, job: Job[Any] | None = None
    ) -> None:
        if self.persistence is not None:
            super()._mark_for_persistence_update(update=update, job=job)
