"""`python -m bot content check`: validate the content files and say what needs attention.

Besides the directory and the protocols, it checks the words that carry promises (issue 17): no
text a survivor may read claims that nothing of hers is stored (her messages are copied into the
staff group while a case's history is kept), and the VBG/VSLC decision aid cannot reach a
possible link to the conflict without a yes to its sexual-violence question.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from babel.messages.pofile import read_po

from bot.config import PROJECT_ROOT
from bot.content.directory import CONTENT_DIR
from bot.content.load import read_content
from bot.content.protocols import Protocols, read_protocols
from bot.content.quiz import read_questions
from bot.content.rows import Content
from bot.flows import decision

LOCALES_DIR = PROJECT_ROOT / "locales"
# Where the texts a survivor may read are written (the catalogs' locations).
SURVIVOR_SOURCES = (
    "bot/flows/survivor.py", "bot/flows/referral.py", "bot/flows/place.py", "bot/flows/base.py",
    "bot/private_chat.py", "bot/hotline/service.py", "bot/hotline/outbox.py",
    "bot/telegram/channel.py", "bot/app.py",
)  # fmt: skip
# "Nothing is kept", in French and English: a promise the hotline cannot keep.
_KEPT = r"(?:kept|stored|saved|recorded|retained)"
_GARDE = r"(?:gard|conserv|enregistr|stock)"
NOT_STORED = re.compile(
    "|".join(
        (
            r"\b(?:keeps?|stores?|saves?|records?|retains?)\s+(?:none|nothing|no\s+\w+)\b",
            rf"\bnothing\s+(?:\w+\s+){{0,2}}(?:is\s+|are\s+|gets\s+)?{_KEPT}\b",
            rf"\b(?:not|never)\s+(?:be\s+)?{_KEPT}\b",
            rf"\bn['’]\s*(?:en\s+)?{_GARDE}\w*\s+(?:aucun\w*|rien)\b",
            rf"\bne\s+(?:\w+\s+)?{_GARDE}\w*\s+(?:aucun\w*|rien|jamais|pas)\b",
            rf"\b(?:rien|aucun\w*)\b[^.]{{0,40}}\bn['’]\s*est\s+{_GARDE}\w*",
            rf"\b(?:pas|jamais)\s+{_GARDE}\w*[ée]s?\b",
        )
    ),
    re.IGNORECASE,
)


@dataclass(frozen=True)
class CheckReport:
    errors: list[str] = field(default_factory=list)  # the bot must not ship with any
    warnings: list[str] = field(default_factory=list)  # to review: unverified, stale, undated

    @property
    def ok(self) -> bool:
        return not self.errors


def check(
    content_dir: Path = CONTENT_DIR, today: date | None = None, locales_dir: Path = LOCALES_DIR
) -> CheckReport:
    today = today or date.today()
    content = read_content(content_dir, today)
    errors = [str(problem) for problem in content.errors]
    warnings = [str(problem) for problem in content.warnings]
    protocols_dir = content_dir / "protocols"
    if protocols_dir.is_dir():
        protocols = read_protocols(protocols_dir, today)
        errors += protocols.errors
        warnings += protocols.warnings
        if (content_dir / "quiz").is_dir():
            quiz = read_questions(Protocols(protocols.protocols), content_dir / "quiz", today)
            errors += quiz.errors
            warnings += quiz.warnings
        else:
            warnings.append(f"quiz: no folder {content_dir / 'quiz'}: officers get no questions")
    else:
        warnings.append(f"protocols: no folder {protocols_dir}: officer mode cannot start")
    errors += decision.check()
    claims = [*_claims(content), *_catalog_claims(locales_dir)]
    errors += [f"{where}: {text!r} claims nothing is stored" for where, text in claims]
    return CheckReport(errors=errors, warnings=warnings)


def claims_not_stored(text: str) -> bool:
    """True when the text tells its reader that nothing of theirs is kept."""
    return NOT_STORED.search(text) is not None


def _claims(content: Content) -> Iterator[tuple[str, str]]:
    """The numbers' names and purposes, shown to survivors."""
    for number in content.numbers:
        for _, text in (*number.name.texts, *number.purpose.texts):
            if claims_not_stored(text):
                yield f"numbers.csv {number.id}", text


def _catalog_claims(locales_dir: Path) -> Iterator[tuple[str, str]]:
    """Every message of the catalogs written in a survivor's screens, in every language."""
    for po_path in sorted(locales_dir.glob("*/LC_MESSAGES/messages.po")):
        with po_path.open("rb") as handle:
            catalog = read_po(handle)
        where = str(po_path.relative_to(locales_dir.parent))
        for message in catalog:
            if not message.id or not any(f in SURVIVOR_SOURCES for f, _ in message.locations):
                continue
            for text in (*_texts(message.id), *_texts(message.string)):
                if text and claims_not_stored(text):
                    yield where, text


def _texts(value: object) -> tuple[str, ...]:
    """A catalog message's id or string: one text, or a plural's forms."""
    if isinstance(value, tuple | list):
        return tuple(str(text) for text in value)
    return (str(value),) if value else ()


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
