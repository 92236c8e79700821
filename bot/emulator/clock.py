"""Telegram's time as the emulator sees it: real time, plus however far a test moved it on.

Message dates, the 48-hour deletion limit, callback query answers, the 24 hours Telegram keeps
updates and flood control all read this clock, so a test moves it forward instead of sleeping.
"""

from __future__ import annotations

import time


class Clock:
    def __init__(self) -> None:
        # Unix time that never goes back: a wall-clock step would age or refill things wrongly.
        self._start = time.time() - time.monotonic()
        self._offset = 0.0

    def now(self) -> float:
        """Unix time in seconds, as Telegram would date things now."""
        return self._start + time.monotonic() + self._offset

    def advance(self, seconds: float) -> None:
        """Move Telegram's time forward (never back): messages age, queries and updates expire."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._offset += seconds
