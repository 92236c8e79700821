"""The VBG/VSLC decision aid: five yes/no questions on how the violence relates to the armed
conflict, and a result that says why, which protocol applies besides first contact, and that it
is an aid, not a legal qualification.

Officers answer from what they know; the answers say nothing about who the survivor is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from bot.flows.screens import Msg, Text, t

ANSWERS = ("yes", "no", "unsure")
Verdict = Literal["vslc", "unsure", "vbg"]


@dataclass(frozen=True)
class Question:
    text: Msg
    link: Msg  # what a "yes" says about the link to the conflict, quoted in the result


QUESTIONS = (
    Question(
        t(
            "Is the alleged perpetrator linked to an armed group, a militia, or a security or "
            "defence force?"
        ),
        t("the alleged perpetrator is linked to an armed group, a militia or a security or "
          "defence force"),
    ),
    Question(
        t("Did it happen during an attack or fighting, or in an area controlled by an armed "
          "group?"),
        t("it happened during an attack or fighting, or in an area controlled by an armed group"),
    ),
    Question(
        t("Did it happen while the survivor was displaced, fleeing, detained or held captive?"),
        t("it happened during displacement, flight, detention or captivity"),
    ),
    Question(
        t("Was the violence used to punish, terrorise or drive out a community or a group?"),
        t("it was used to punish, terrorise or drive out a community or a group"),
    ),
    Question(
        t("Have other people been targeted in the same way, in the same place or by the same "
          "group?"),
        t("other people were targeted in the same way, in the same place or by the same group"),
    ),
)  # fmt: skip

NOT_A_QUALIFICATION = t(
    "This is an aid, not a legal qualification: qualifying the facts is for the procureur and "
    "the judge."
)


def verdict(answers: Sequence[str]) -> Verdict:
    """Any link to the conflict makes it likely VSLC; an unknown with no link leaves it open."""
    if "yes" in answers:
        return "vslc"
    if "unsure" in answers:
        return "unsure"
    return "vbg"


def question_body(index: int) -> tuple[Text, ...]:
    heading = t("⚖️ VBG or VSLC? Question %(num)s of %(total)s", num=index + 1,
                total=len(QUESTIONS))  # fmt: skip
    if index > 0:
        return (heading, QUESTIONS[index].text)
    intro = t(
        "Five questions to tell whether the violence may be linked to the armed conflict "
        "(conflict-related sexual violence, VSLC). Answer from what you know; type nothing."
    )
    return (heading, intro, QUESTIONS[index].text, NOT_A_QUALIFICATION)


def result_body(answers: Sequence[str]) -> tuple[Text, ...]:
    found = verdict(answers)
    if found == "vslc":
        links = tuple(q.link for q, a in zip(QUESTIONS, answers, strict=False) if a == "yes")
        return (
            t("⚖️ Likely conflict-related sexual violence (VSLC)"),
            t("Why: %(links)s.", links=links),
            t(
                "What changes: follow the VSLC protocol as well as the first-contact one: "
                "services first, no repeated interviews, consent for each use of information, "
                "secure storage. Inform the procureur: the case may fall under the Pôle "
                "judiciaire spécialisé (to confirm locally)."
            ),
            NOT_A_QUALIFICATION,
        )
    if found == "unsure":
        unknown = ", ".join(str(i) for i, a in enumerate(answers, 1) if a == "unsure")
        return (
            t("❔ Not clear yet"),
            t(
                "Nothing you know links the violence to the conflict, but some answers are not "
                "known (questions %(numbers)s).",
                numbers=unknown,
            ),
            t(
                "Follow the first-contact protocol and, as a precaution, the VSLC protocol too. "
                "Run this aid again when you know more."
            ),
            NOT_A_QUALIFICATION,
        )
    return (
        t("🟢 Likely gender-based violence not linked to the conflict (VBG)"),
        t("None of your answers links the violence to the armed conflict."),
        t(
            "Follow the first-contact protocol, and the urgent medical referral if needed. "
            "If new facts appear, run this aid again."
        ),
        NOT_A_QUALIFICATION,
    )
