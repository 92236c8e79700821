"""Officer mode's two documents: a protocol's printable checklist, and the summary of a finished
one for the case file, each with the sources and the points to confirm locally (sent as PDF
files). Neither holds anything about the person helped."""

from __future__ import annotations

from datetime import date

from bot.content.protocols import Item, Protocol
from bot.flows.officer_screens import framed, review, source_lines, split
from bot.flows.screens import Document, Localized, Text, t, tn

TO_CONFIRM = t("    ⚠️ To confirm locally.")


def _step(item: Item, mark: str) -> list[Text]:
    """A step of the summary, with its mark when it is to confirm locally."""
    return [framed(item.text, mark), *((TO_CONFIRM,) if item.confirm_locally else ())]


def printable(protocol: Protocol) -> Document:
    """Every item to tick on paper, with its reason and the sources."""
    lines: list[Text] = [framed(protocol.title, "JIGIYA: ")]
    if protocol.intro:
        lines.append(Localized(protocol.intro))
    lines.append("")
    for number, item in enumerate(protocol.items, 1):
        lines.append(framed(item.text, f"[ ] {number}. "))
        if item.why:
            lines.append(t("    Why: %(why)s", why=Localized(item.why)))
        if item.confirm_locally:
            lines.append(TO_CONFIRM)
    lines.extend(["", t("Sources:"), *source_lines(protocol), ""])
    lines.extend(review(protocol))
    return Document(
        body=tuple(lines),
        filename=f"jigiya-{protocol.id}.pdf",
        caption=t("🖨️ Printable version: %(title)s", title=Localized(protocol.title)),
        edit=False,
    )


def summary(protocol: Protocol, done_ids: list[str], on: date) -> Document:
    """The items done and not done on the day the checklist was finished."""
    done, skipped = split(protocol, done_ids)
    numbered = {item.id: n for n, item in enumerate(protocol.items, 1)}
    lines: list[Text] = [
        t("JIGIYA: checklist summary"),
        Localized(protocol.title),
        t("Date: %(date)s", date=on),
        t("This document holds no information about the person helped."),
        "",
        tn("Done (%(num)s step):", "Done (%(num)s steps):", len(done)),
        *(line for item in done for line in _step(item, f"[x] {numbered[item.id]}. ")),
        "",
        tn("Not done (%(num)s step):", "Not done (%(num)s steps):", len(skipped)),
        *(line for item in skipped for line in _step(item, f"[ ] {numbered[item.id]}. ")),
        "",
        t("Sources:"),
        *source_lines(protocol),
        "",
        *review(protocol),
    ]
    return Document(
        body=tuple(lines),
        filename=f"jigiya-summary-{protocol.id}-{on.isoformat()}.pdf",
        caption=t("🧾 Summary for the case file: %(title)s", title=Localized(protocol.title)),
        edit=False,
    )
