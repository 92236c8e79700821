"""The report's chart: a PNG of each main indicator's published totals per period, as bars.

matplotlib is imported here only, when a report is made (the bot starts and answers without it),
with the Agg backend (no display). Only published totals are drawn: a hidden one has no bar,
only its mark ("<5" or "x") at the foot.
"""

from __future__ import annotations

import io
from collections.abc import Callable

from bot.flows.screens import Text, t
from bot.indicators import month_of_week
from bot.report import LABELS, Report, Table

WIDTH, HEIGHT, DPI = 8.0, 6.0, 100  # 800 x 600 pixels
PANELS = (
    (t("People looking for help"),
     ("start", "place_given", "screen", "handover_requested", "quick_exit")),
    (t("Officers"), ("checklist_started", "checklist_finished", "decision")),
)  # fmt: skip


def png(report: Report, render: Callable[[Text], str]) -> bytes:
    """The chart, its words in the reader's language (`render`)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI, layout="constrained")
    axes = figure.subplots(len(PANELS), 1)
    tables = {table.indicator.name: table for table in report.tables}
    periods = _periods(report)
    for ax, (title, names) in zip(axes, PANELS, strict=True):
        width = 0.8 / len(names)
        for k, name in enumerate(names):
            columns = tables[name].columns
            xs = [periods.index(c.period) + (k - (len(names) - 1) / 2) * width for c in columns]
            heights = [0 if c.total.hidden else c.total.value for c in columns]
            ax.bar(xs, heights, width, label=render(LABELS[name]))
            for x, column in zip(xs, columns, strict=True):
                if column.total.hidden:  # hidden: its mark at the foot, never a height
                    ax.text(x, 0, column.total.shown, ha="center", va="bottom", fontsize=6)
        ax.set_title(render(title), fontsize=10, loc="left")
        ax.set_xticks(range(len(periods)), periods, fontsize=7, rotation=30)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncols=3)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _periods(report: Report) -> list[str]:
    """Every period a chart column may have, in order: the window's weeks and merged months."""
    order: list[str] = []
    for table in _charted(report):
        for column in table.columns:
            if column.period not in order:
                order.append(column.period)
    return sorted(order, key=_sort_key)


def _charted(report: Report) -> list[Table]:
    names = {name for _, panel in PANELS for name in panel}
    return [table for table in report.tables if table.indicator.name in names]


def _sort_key(period: str) -> tuple[str, int]:
    # "2026-W47" before "2026-11*" (a merged month sits after its weeks, as in the tables),
    # approximated by the month's own weeks; precise enough for an axis.
    if "-W" in period:
        return (month_of_week(period), int(period[6:]))
    return (period.rstrip("*"), 99)
