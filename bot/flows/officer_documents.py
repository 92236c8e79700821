"""Officer mode's two documents: a protocol's printable checklist, and the summary of a finished
one for the case file. Neither holds anything about the person helped."""

from __future__ import annotations

from datetime import date

from bot.content.protocols import Protocol
from bot.flows.officer_screens import framed, review, source_lines, split
from bot.flows.screens import Document, Localized, Text, t, tn


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
            lines.append(t("    ⚠️ To confirm locally."))
    lines.extend(["", t("Sources:"), *source_lines(protocol), ""])
    lines.extend(review(protocol))
    return Document(
        body=tuple(lines),
        filename=f"jigiya-{protocol.id}.txt",
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
        *(framed(item.text, f"[x] {numbered[item.id]}. ") for item in done),
        "",
        tn("Not done (%(num)s step):", "Not done (%(num)s steps):", len(skipped)),
        *(framed(item.text, f"[ ] {numbered[item.id]}. ") for item in skipped),
        "",
        t("Sources:"),
        *source_lines(protocol),
        "",
        *review(protocol),
    ]
    return Document(
        body=tuple(lines),
        filename=f"jigiya-summary-{protocol.id}-{on.isoformat()}.txt",
        caption=t("🧾 Summary for the case file: %(title)s", title=Localized(protocol.title)),
        edit=False,
    )
