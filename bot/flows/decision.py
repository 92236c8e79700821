"""The VBG/VSLC decision aid: up to six yes/no questions, and a result that says why, which
protocol applies besides first contact, and that it is an aid, not a legal qualification.

Conflict-related sexual violence is sexual violence "directly or indirectly linked (temporally,
geographically or causally) to a conflict" (the United Nations' definition). So the first
question is whether the violence was sexual: without a yes to it, the aid never says there may
be a link (`check` proves it for every path, and `python -m bot content check` runs it). If it
was not sexual, only the question on the security forces follows. The perpetrator's force or
group, an attack or an area held by an armed group, and violence used against a community point
to the conflict; displacement, detention or others targeted the same way are clues, which alone
never do. Even then the result says "possible link", never "probably VSLC". When the alleged
perpetrator may belong to a security or defence force, the result says what changes (issue 17,
point 8).

Officers answer from what they know; the answers say nothing about who the survivor is.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from bot.flows.screens import Msg, Text, t, tn

ANSWERS = ("yes", "no", "unsure")
Verdict = Literal["link", "unsure", "vbg", "not-sexual"]
Kind = Literal["sexual", "security", "link", "clue"]


@dataclass(frozen=True)
class Question:
    text: Msg
    link: Msg  # what a "yes" says, quoted in the result
    kind: Kind  # what a "yes" means: sexual violence, a link to the conflict, or only a clue


QUESTIONS = (
    Question(
        t("Was the violence sexual: rape, sexual slavery, forced prostitution, forced pregnancy, "
          "abortion or sterilisation, forced marriage, or other sexual violence as serious?"),
        t("the violence was sexual"),
        "sexual",
    ),
    Question(
        t("Does the alleged perpetrator belong to a security or defence force (army, police, "
          "gendarmerie, national guard)?"),
        t("the alleged perpetrator belongs to a security or defence force"),
        "security",
    ),
    Question(
        t("Is the alleged perpetrator linked to an armed group or a militia?"),
        t("the alleged perpetrator is linked to an armed group or a militia"),
        "link",
    ),
    Question(
        t("Did it happen during an attack or fighting, or in an area controlled by an armed "
          "group?"),
        t("it happened during an attack or fighting, or in an area controlled by an armed group"),
        "link",
    ),
    Question(
        t("Was the violence used to punish, terrorise or drive out a community or a group?"),
        t("it was used to punish, terrorise or drive out a community or a group"),
        "link",
    ),
    Question(
        t("Did it happen during displacement, flight, detention or captivity, or were other "
          "people targeted in the same way, in the same place or by the same group?"),
        t("displacement, flight, detention or captivity, or other people targeted in the same "
          "way"),
        "clue",
    ),
)  # fmt: skip
SEXUAL = 0  # the first question, always
SECURITY = next(i for i, q in enumerate(QUESTIONS) if q.kind == "security")

NOT_A_QUALIFICATION = t(
    "This is an aid, not a legal qualification: qualifying the facts is for the procureur and "
    "the judge."
)
# To confirm with a Malian jurist: who receives a complaint against a member of the forces (the
# vslc protocol's item "security-forces" carries `confirm_locally`).
SECURITY_FORCES = t(
    "⚠️ If the alleged perpetrator belongs to a security or defence force: do not route the case "
    "through the suspect's chain of command; inform the procureur directly; protect the "
    "survivor, the witnesses and yourself."
)


def asked(answers: Sequence[str]) -> tuple[int, ...]:
    """The questions asked, in order, given the answers so far: all of them, or only the
    security forces after "not sexual violence"."""
    if answers and answers[0] == "no":
        return (SEXUAL, SECURITY)
    return tuple(range(len(QUESTIONS)))


def _answered(answers: Sequence[str]) -> list[tuple[Question, str]]:
    return [(QUESTIONS[i], a) for i, a in zip(asked(answers), answers, strict=False)]


def verdict(answers: Sequence[str]) -> Verdict:
    """A link to the conflict is possible only for sexual violence with a sign pointing to the
    conflict; clues alone, unknown answers, or unknown sexual violence leave it open."""
    if not answers:
        return "unsure"
    if answers[0] == "no":
        return "not-sexual"
    given = _answered(answers)
    links = any(a == "yes" and q.kind in ("security", "link") for q, a in given)
    if answers[0] == "yes" and links:
        return "link"
    if links or any(a == "unsure" or (a == "yes" and q.kind == "clue") for q, a in given):
        return "unsure"
    return "vbg"


def question_body(answers: Sequence[str]) -> tuple[Text, ...]:
    index = len(answers)
    heading = t("⚖️ VBG or VSLC? Question %(num)s of %(total)s", num=index + 1,
                total=len(asked(answers)))  # fmt: skip
    question = QUESTIONS[asked(answers)[index]].text
    if index > 0:
        return (heading, question)
    intro = t(
        "A few questions to tell whether sexual violence may be linked to the armed conflict "
        "(conflict-related sexual violence, VSLC, as the United Nations define it). Answer from "
        "what you know; type nothing; never press the survivor for answers."
    )
    return (heading, intro, question, NOT_A_QUALIFICATION)


def result_body(answers: Sequence[str]) -> tuple[Text, ...]:
    found = verdict(answers)
    given = _answered(answers)
    security = [a for q, a in given if q.kind == "security"]
    forces = (SECURITY_FORCES,) if security and security[0] in ("yes", "unsure") else ()
    if found == "not-sexual":
        return (
            t("🟢 Not sexual violence: the VSLC protocol does not apply"),
            t(
                "Follow the first-contact protocol. The VSLC protocol and this aid are for "
                "sexual violence."
            ),
            *forces,
            NOT_A_QUALIFICATION,
        )
    links = tuple(q.link for q, a in given if a == "yes" and q.kind in ("security", "link"))
    if found == "link":
        return (
            t("⚖️ Possible link to the conflict"),
            t("Why: %(links)s.", links=links),
            t(
                "What changes: follow the VSLC protocol as well as the first-contact one: "
                "services first, no repeated interviews, consent for each use of information, "
                "secure storage. Inform the procureur: the case may fall under the Pôle "
                "judiciaire spécialisé (to confirm locally)."
            ),
            *forces,
            NOT_A_QUALIFICATION,
        )
    if found == "unsure":
        clues = tuple(q.link for q, a in given if a == "yes" and q.kind == "clue")
        unknown = [str(n) for n, (_, a) in enumerate(given, 1) if a == "unsure"]
        why: list[Text] = []
        if list(answers[:1]) == ["unsure"]:
            why.append(
                t(
                    "Whether the violence was sexual is not known: the VSLC protocol is for "
                    "sexual violence. Let the person say it when they are ready; do not press."
                )
            )
        if links:
            why.append(t("Some answers point to the conflict: %(links)s.", links=links))
        if clues:
            why.append(
                t("Clues only: %(clues)s. Alone, they do not show a link to the conflict.",
                  clues=clues)
            )  # fmt: skip
        if unknown:
            why.append(
                tn("An answer is not known (question %(numbers)s).",
                   "Some answers are not known (questions %(numbers)s).",
                   len(unknown), numbers=", ".join(unknown))
            )  # fmt: skip
        return (
            t("❔ Not clear yet"),
            *why,
            t(
                "Follow the first-contact protocol and, as a precaution, the VSLC protocol too. "
                "Run this aid again when you know more."
            ),
            *forces,
            NOT_A_QUALIFICATION,
        )
    return (
        t("🟢 No known link to the conflict (VBG)"),
        t("None of your answers links the violence to the armed conflict."),
        t(
            "Follow the first-contact protocol, and the urgent medical referral if needed. "
            "If new facts appear, run this aid again."
        ),
        NOT_A_QUALIFICATION,
    )


def paths() -> list[tuple[str, ...]]:
    """Every complete list of answers an officer can give."""
    found = {
        combo[: len(asked(combo))] for combo in itertools.product(ANSWERS, repeat=len(QUESTIONS))
    }
    return sorted(found)


def check(judge: Callable[[Sequence[str]], Verdict] = verdict) -> list[str]:
    """What would let the aid say more than it may: the sexual-violence question not first, or a
    path to "possible link" without a yes to it. Empty when the aid is sound."""
    problems: list[str] = []
    if QUESTIONS[SEXUAL].kind != "sexual":
        problems.append("decision aid: the first question must ask whether the violence was sexual")
    for path in paths():
        if judge(path) == "link" and path[SEXUAL] != "yes":
            problems.append(
                f"decision aid: answers {', '.join(path)} reach a possible link to the conflict "
                "without a yes to the sexual-violence question"
            )
    return problems
