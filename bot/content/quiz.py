"""Officers' knowledge checks: questions in content/quiz/*.toml (see the README there).

Each question has two to four choices, exactly one of them right, and the explanation of the
right one, per language (French required). It is sourced like the protocols: by the protocol
step it recalls (`item = "protocol/item"`, whose sources back it), by sources of its own file, or
both; a point of Malian law no source confirms carries `confirm_locally`. Questions on
conflict-related sexual violence are marked `vslc = true`: the study behind Jigiya found officers
knew least about it, so their results are counted apart. Channel-free.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from bot.content.directory import CONTENT_DIR, ContentError
from bot.content.protocols import (
    _ITEM_ID,
    LANGUAGE_NAMES,
    ProtocolReport,
    Protocols,
    Source,
    Texts,
    _FileReader,
)

QUIZ_DIR = CONTENT_DIR / "quiz"
BASELINE = 5  # questions an officer answers on joining
BASELINE_VSLC = 2  # of which on conflict-related sexual violence, so its baseline exists
CHOICES = (2, 4)  # fewest and most choices: letters A to D on buttons

_TOP_KEYS = frozenset({"last_reviewed", "review_status", "reviewed_by", "sources", "questions"})
Step = tuple[tuple[Source, ...], bool]  # a protocol step's sources, and confirm_locally
_QUESTION_KEYS = frozenset(
    {"id", "item", "sources", "vslc", "confirm_locally", "text", "choices", "explain"}
)


@dataclass(frozen=True)
class Question:
    id: str
    text: Texts
    choices: tuple[Texts, ...]
    right: int  # the index of the right choice
    explain: Texts  # why the right choice is right
    vslc: bool
    confirm_locally: bool
    sources: tuple[Source, ...]  # its own, then those of the step it recalls
    item: str  # "protocol/item", or "" when it recalls no step


class QuestionBank:
    """Every question, in file order."""

    def __init__(self, questions: list[Question]) -> None:
        self.all = tuple(questions)
        self._by_id = {q.id: q for q in self.all}

    def get(self, question_id: str) -> Question | None:
        return self._by_id.get(question_id)

    def __len__(self) -> int:
        return len(self.all)


@dataclass
class QuizReport:
    questions: list[Question]
    errors: list[str]
    warnings: list[str]


def load_questions(protocols: Protocols, directory: Path = QUIZ_DIR) -> QuestionBank:
    """Load and validate every question; raise ContentError listing every problem if any."""
    report = read_questions(protocols, directory)
    if report.errors:
        raise ContentError(report.errors)
    return QuestionBank(report.questions)


def read_questions(
    protocols: Protocols, directory: Path = QUIZ_DIR, today: date | None = None
) -> QuizReport:
    """Read every *.toml file; a file with an error is left out."""
    found = ProtocolReport()
    questions: list[Question] = []
    files = sorted(directory.glob("*.toml"))
    if not files:
        found.errors.append(f"quiz: no .toml file in {directory}")
    for path in files:
        reader = _QuizReader(path, found, today, protocols)
        read = reader.read_quiz()
        for question in read:
            if any(q.id == question.id for q in questions):
                reader.fail(f" question {question.id}", "duplicate id: ids are unique across files")
        if reader.ok:
            questions.extend(read)
    vslc = sum(q.vslc for q in questions)
    if files and (len(questions) < BASELINE or vslc < BASELINE_VSLC):
        found.errors.append(
            f"quiz: {len(questions)} question(s), {vslc} on VSLC: the baseline needs {BASELINE}, "
            f"{BASELINE_VSLC} of them on VSLC"
        )
    return QuizReport(questions, found.errors, found.warnings)


class _QuizReader(_FileReader):
    """Reads one quiz file with the protocols' field readers (texts, sources, review date)."""

    def __init__(
        self, path: Path, report: ProtocolReport, today: date | None, protocols: Protocols
    ) -> None:
        super().__init__(path, report, today)
        self.file = f"quiz/{path.name}"
        self.protocols = protocols

    def read_quiz(self) -> list[Question]:
        data = self._toml()
        if data is None:
            return []
        self._unknown("", data, _TOP_KEYS)
        self._reviewed(data.get("last_reviewed"))
        status = self._review_status(data.get("review_status"))
        self._string("", "reviewed_by", data.get("reviewed_by"))
        sources = self._sources(data["sources"]) if "sources" in data else ()
        entries = data.get("questions")
        if not isinstance(entries, list) or not entries:
            self.fail("", "questions are required: one or more [[questions]]")
            return []
        questions: list[Question] = []
        for number, entry in enumerate(entries, start=1):
            if not isinstance(entry, dict):
                self.fail(f" question {number}", "expected a [[questions]] table")
                continue
            question = self._question(number, entry, {s.id: s for s in sources})
            if any(q.id == question.id for q in questions):
                self.fail(f" question {question.id}", "duplicate id: ids are unique across files")
            questions.append(question)
        if self.ok:
            self._advise_quiz(status, questions)
        return questions

    def _toml(self) -> dict[str, Any] | None:
        try:
            with self.path.open("rb") as handle:
                return tomllib.load(handle)
        except tomllib.TOMLDecodeError as exc:
            self.fail("", f"not valid TOML: {exc}")
        except UnicodeDecodeError:
            self.fail("", "not UTF-8")
        return None

    def _question(self, number: int, entry: dict[str, Any], sources: dict[str, Source]) -> Question:
        question_id = self._id(f" question {number}", entry, _ITEM_ID, 24)
        where = f" question {question_id or number}"
        self._unknown(where, entry, _QUESTION_KEYS)
        cited = entry.get("sources", [])
        if not isinstance(cited, list):
            self.fail(where, "sources must be a list of the file's source ids")
            cited = []
        own = []
        for source_id in cited:
            if source_id in sources:
                own.append(sources[source_id])
            else:
                self.fail(where, f"source {source_id!r} is not among the file's [[sources]]")
        item, step = self._item(where, entry.get("item", ""))
        if not own and step is None:
            self.fail(where, 'a source is required: item = "protocol/item", or sources')
        vslc, confirm = entry.get("vslc"), entry.get("confirm_locally", False)
        if not isinstance(vslc, bool):
            self.fail(where, "vslc is required: true for a question on conflict-related sexual "
                             "violence, else false")  # fmt: skip
        elif item.startswith("vslc/") and not vslc:
            self.fail(where, "it recalls a step of the VSLC protocol: set vslc = true")
        if not isinstance(confirm, bool):
            self.fail(where, "confirm_locally must be true or false")
        elif step is not None and step[1] and not confirm:
            self.fail(where, f"the step {item} is to confirm locally: set confirm_locally = true")
        choices, right = self._choices(where, entry.get("choices"))
        step_sources = step[0] if step else ()
        return Question(
            id=question_id,
            text=self._texts(f"{where} text", entry.get("text"), required=True),
            choices=choices,
            right=right,
            explain=self._texts(f"{where} explain", entry.get("explain"), required=True),
            vslc=vslc is True,
            confirm_locally=confirm is True,
            sources=(*own, *(s for s in step_sources if s not in own)),
            item=item,
        )

    def _item(
        self, where: str, value: object
    ) -> tuple[str, tuple[tuple[Source, ...], bool] | None]:
        """The step a question recalls: its sources and whether it is to confirm locally."""
        if value == "":
            return "", None
        protocol_id, _, item_id = str(value).partition("/")
        protocol = self.protocols.get(protocol_id)
        item = None if protocol is None else protocol.item(item_id)
        if protocol is None or item is None:
            self.fail(where, f"item {value!r} is not a step of a protocol (protocol/item)")
            return str(value), None
        cited = tuple(s for s in protocol.sources if s.id in item.sources)
        return str(value), (cited, item.confirm_locally)

    def _choices(self, where: str, value: object) -> tuple[tuple[Texts, ...], int]:
        fewest, most = CHOICES
        if not isinstance(value, list) or not fewest <= len(value) <= most:
            self.fail(where, f'choices: a list of {fewest} to {most} {{ fr = "..." }} tables')
            return (), -1
        choices: list[Texts] = []
        right: list[int] = []
        for index, choice in enumerate(value):
            if not isinstance(choice, dict):
                self.fail(where, f'choice {index + 1}: expected {{ fr = "..." }}')
                continue
            texts = {k: v for k, v in choice.items() if k != "right"}
            if choice.get("right", False) is True:
                right.append(index)
            elif choice.get("right", False) is not False:
                self.fail(where, f"choice {index + 1}: right must be true or false")
            choices.append(self._texts(f"{where} choice {index + 1}", texts, required=True))
        if len(right) != 1:
            self.fail(where, f"exactly one choice must be right = true ({len(right)} are)")
            return tuple(choices), -1
        return tuple(choices), right[0]

    def _advise_quiz(self, status: str, questions: list[Question]) -> None:
        if status == "draft":
            self.warn("draft: have a Malian partner validate it, then set review_status")
        local = [q.id for q in questions if q.confirm_locally]
        if local:
            self.warn(f"{len(local)} question(s) to confirm locally: {', '.join(local)}")
        for language, name in LANGUAGE_NAMES.items():
            missing = [
                q.id for q in questions
                if any(language not in dict(texts) for texts in (q.text, q.explain, *q.choices))
            ]  # fmt: skip
            if missing:
                self.warn(f"{len(missing)} question(s) not wholly in {name} ({language}), shown "
                          f"in French instead")  # fmt: skip
