"""`python -m bot content check`: validate the content files and say what needs attention."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from bot.content.directory import CONTENT_DIR
from bot.content.load import read_content


@dataclass(frozen=True)
class CheckReport:
    errors: list[str] = field(default_factory=list)  # the bot must not ship with any
    warnings: list[str] = field(default_factory=list)  # to review: unverified, stale, undated

    @property
    def ok(self) -> bool:
        return not self.errors


def check(content_dir: Path = CONTENT_DIR, today: date | None = None) -> CheckReport:
    content = read_content(content_dir, today or date.today())
    return CheckReport(
        errors=[str(problem) for problem in content.errors],
        warnings=[str(problem) for problem in content.warnings],
    )


def format_report(report: CheckReport) -> str:
    lines: list[str] = []
    for title, items in (("Errors", report.errors), ("Warnings", report.warnings)):
        if items:
            lines.append(f"{title} ({len(items)}):")
            lines.extend(f"  - {item}" for item in items)
    verdict = "OK" if report.ok else "FAILED"
    lines.append(f"{verdict}: {len(report.errors)} error(s), {len(report.warnings)} warning(s).")
    return "\n".join(lines)


def main_check(content_dir: Path | None = None, today: date | None = None) -> int:
    """Print the report; return the exit code: 0 when there is no error, 1 otherwise."""
    report = check(content_dir or CONTENT_DIR, today)
    print(format_report(report))
    return 0 if report.ok else 1
