"""`python -m bot content check`: validate the content files and say what needs attention."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from bot.content.directory import CONTENT_DIR
from bot.content.load import read_content
from bot.content.protocols import read_protocols


@dataclass(frozen=True)
class CheckReport:
    errors: list[str] = field(default_factory=list)  # the bot must not ship with any
    warnings: list[str] = field(default_factory=list)  # to review: unverified, stale, undated

    @property
    def ok(self) -> bool:
        return not self.errors


def check(content_dir: Path = CONTENT_DIR, today: date | None = None) -> CheckReport:
    today = today or date.today()
    content = read_content(content_dir, today)
    errors = [str(problem) for problem in content.errors]
    warnings = [str(problem) for problem in content.warnings]
    protocols_dir = content_dir / "protocols"
    if protocols_dir.is_dir():
        protocols = read_protocols(protocols_dir, today)
        errors += protocols.errors
        warnings += protocols.warnings
    else:
        warnings.append(f"protocols: no folder {protocols_dir}: officer mode cannot start")
    return CheckReport(errors=errors, warnings=warnings)


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
