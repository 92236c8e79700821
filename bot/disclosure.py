"""Disclosure control for the published tables (the report, its chart, the partners' CSV).

A published table is a list of columns, one per period; a column holds one cell per row (every
combination of the indicator's values, zeros included, so that a row's absence says nothing)
and its total. Nothing else is published: no total of a row across periods, no margin of one
dimension. So the only relation between published numbers is, in each column, cells + ... =
total, and each column is protected alone:

- primary suppression: any number under SMALL (5) is shown as "<5";
- complementary suppression: while a hidden number could still be worked out exactly from the
  column's total and the other numbers (with what the marks say: "<5" is 0 to 4, "x" is 5 or
  more), the smallest number still shown is hidden too ("x"), or else the total.

A column's numbers never change once its period is over (counts are kept by week), and its
protection depends on nothing but them: every report, on any day and over any window, shows the
same figures for the same period, so comparing two reports tells nothing either. Weeks with
fewer than MERGE_BELOW (10) events are published together as their month (see bot/report.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

SMALL = 5
MERGE_BELOW = 10


@dataclass(frozen=True)
class Cell:
    value: int  # never published when hidden
    hidden: bool

    @property
    def shown(self) -> str:
        if not self.hidden:
            return str(self.value)
        return f"<{SMALL}" if self.value < SMALL else "x"

    @property
    def published(self) -> int | None:
        return None if self.hidden else self.value


@dataclass(frozen=True)
class Column:
    period: str  # an ISO week, a month, or a month's weeks merged ("2026-11*")
    cells: tuple[Cell, ...]
    total: Cell


def protect(values: Sequence[int]) -> tuple[tuple[Cell, ...], Cell]:
    """One column's cells and total, with small numbers and what would give them away hidden."""
    items = [*values, sum(values)]
    hidden = [v < SMALL for v in items]
    while not hidden[-1] and any(hidden) and _exposed(items, hidden):
        shown = [i for i in range(len(values)) if not hidden[i]]
        hidden[min(shown, key=lambda i: items[i]) if shown else -1] = True
    cells = tuple(Cell(v, h) for v, h in zip(values, hidden, strict=False))
    return cells, Cell(items[-1], hidden[-1])


def _exposed(items: list[int], hidden: list[bool]) -> bool:
    """Whether a hidden cell has only one possible value, given the shown total, the shown
    cells and the marks. One equation with bounds on each unknown: each unknown can take every
    whole value between its lowest and highest, so it is exposed when they meet."""
    rest = items[-1] - sum(v for v, h in zip(items[:-1], hidden, strict=False) if not h)
    unknown = [v for v, h in zip(items[:-1], hidden, strict=False) if h]
    bounds = [(0, SMALL - 1) if v < SMALL else (SMALL, rest) for v in unknown]
    low_sum = sum(lo for lo, _ in bounds)
    high_sum = sum(hi for _, hi in bounds)
    for lo, hi in bounds:
        lowest = max(lo, rest - (high_sum - hi))
        highest = min(hi, rest - (low_sum - lo))
        if lowest >= highest:
            return True
    return False
