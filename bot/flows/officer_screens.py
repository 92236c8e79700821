"""Officer mode's screens: its menu, the checklists, why a step, sources, a summary, the decision
aid, and the words of its place picker; with the ways of writing protocol texts its documents
share.

Texts from the protocols are shown in each language they have; the rest falls back to French.
"""

from __future__ import annotations

from typing import Any

from bot.content import Directory
from bot.content.protocols import Item, Protocol, Protocols, Texts
from bot.flows import decision, place, referral
from bot.flows.base import FlowModel
from bot.flows.screens import Button, Localized, Msg, Screen, Text, t, tn
from bot.languages import CODES, NATIVE_NAMES, OFFERED

LABEL_CHARS = 30  # an item's words on its tick button; the full text is in the message

NEVER_TYPE = t(
    "🔒 Never type anything about the person you are helping (name, age, address, what "
    "happened): the bot does not need it and must not receive it."
)
TO_CONFIRM = t("⚠️ = to confirm locally: not yet confirmed for Mali.")
MENU_BUTTON = Button(t("☰ Officer menu"), "off:menu")
LIST_BUTTON = Button(t("📋 Checklists"), "off:list")

PLACE_WORDS = place.Words(
    where=(
        t("📍 Nearest centre for a referral"),
        t(
            "Share a location with the button at the bottom of the screen, choose the "
            "region, or type the name of the town (only the town)."
        ),
    ),
    choose_region=t("🗺️ Choose the region"),
    regions=t("Choose the region:"),
    towns=lambda region: t("Choose the town or the nearest one (%(region)s):", region=region),
    not_found=t("I could not find that place. Check the spelling, or choose the region."),
)


class OfficerScreens:
    """What each state of officer mode shows, from the protocols and the model's data."""

    def __init__(self, protocols: Protocols) -> None:
        self.protocols = protocols

    def protocol(self, model: FlowModel, protocol_id: str | None = None) -> Protocol:
        """The protocol in view; the first one if the content no longer has it."""
        found = self.protocols.get(protocol_id or str(model.data.get("protocol")))
        return found or self.protocols.all[0]

    def closed(self, model: FlowModel) -> Screen:
        return Screen(
            body=(t("Officer mode is closed. Send /officer to open it again."),),
            buttons=((Button(t("👮 Officer mode"), "off:menu"),),),
        )

    def menu(self, model: FlowModel) -> Screen:
        return Screen(
            body=(t("👮 Officer tools"), NEVER_TYPE),
            buttons=(
                (LIST_BUTTON,),
                (Button(t("⚖️ VBG or VSLC?"), "off:decide"),),
                (Button(t("📍 Nearest centre for a referral"), "off:refer"),),
                (Button(t("📞 Free numbers"), "off:numbers"),),
                (Button(t("🌐 Language"), "off:language"),
                 Button(t("🚪 Leave officer mode"), "off:leave")),
            ),
        )  # fmt: skip

    def languages(self, model: FlowModel) -> Screen:
        return Screen(
            body=(t("Choose your language:"),),
            buttons=(
                *((Button(NATIVE_NAMES[code], f"off:lang:{code}"),) for code in OFFERED),
                (MENU_BUTTON,),
            ),
        )

    def checklists(self, model: FlowModel) -> Screen:
        progress: dict[str, list[str]] = model.data.get("progress", {})
        buttons = []
        for protocol in self.protocols:
            done = len(progress.get(protocol.id, []))
            label = (
                framed(protocol.title, "▶️ ", f" ({done}/{len(protocol.items)})")
                if done
                else Localized(protocol.title)
            )
            buttons.append((Button(label, f"off:open:{protocol.id}"),))
        started = sum(1 for p in self.protocols if progress.get(p.id))
        body: list[Text] = [
            t("📋 Checklists"),
            t("Choose a protocol. Ticks are saved: you can come back to a checklist later."),
        ]
        if started:
            body.append(
                tn("▶️ %(num)s checklist in progress.", "▶️ %(num)s checklists in progress.",
                   started)
            )  # fmt: skip
        return Screen(body=tuple(body), buttons=(*buttons, (MENU_BUTTON,)))

    def checklist(self, model: FlowModel) -> Screen:
        protocol = self.protocol(model)
        done = set(model.data.get("progress", {}).get(protocol.id, []))
        lines: list[Text] = [framed(protocol.title, "📋 ")]
        if protocol.intro:
            lines.append(Localized(protocol.intro))
        rows: list[tuple[Button, ...]] = []
        for number, item in enumerate(protocol.items, 1):
            mark = "✅" if item.id in done else "⬜"
            local = " ⚠️" if item.confirm_locally else ""
            lines.append(framed(item.text, f"{mark} {number}. ", local))
            tick = framed(item.text, f"{mark} {number}. ", short=True)
            rows.append(
                (
                    Button(tick, f"off:tick:{protocol.id}:{item.id}"),
                    Button(t("❓ Why?"), f"off:why:{protocol.id}:{item.id}"),
                )
            )
        lines.append(t("%(done)s of %(total)s done.", done=len(done), total=len(protocol.items)))
        if any(item.confirm_locally for item in protocol.items):
            lines.append(TO_CONFIRM)
        lines.extend(review(protocol))
        lines.append(t("🔒 Tick the steps only; never type anything about the person."))
        return Screen(
            body=tuple(lines),
            buttons=(
                *rows,
                (Button(t("🧾 Finish: summary"), f"off:finish:{protocol.id}"),
                 Button(t("🖨️ Printable version"), f"off:print:{protocol.id}")),
                (Button(t("📚 Sources"), f"off:src:{protocol.id}"), LIST_BUTTON),
                (MENU_BUTTON,),
            ),
        )  # fmt: skip

    def why(self, model: FlowModel) -> Screen:
        protocol = self.protocol(model)
        item = protocol.item(str(model.data.get("item"))) or protocol.items[0]
        number = protocol.items.index(item) + 1
        ticked = item.id in model.data.get("progress", {}).get(protocol.id, [])
        body: list[Text] = [
            framed(item.text, f"❓ {number}. "),
            Localized(item.why) if item.why else t("No reason is given for this step."),
            _cited(protocol, item),
        ]
        if item.confirm_locally:
            body.append(TO_CONFIRM)
        toggle = t("⬜ Mark as not done") if ticked else t("✅ Mark as done")
        return Screen(
            body=tuple(body),
            buttons=(
                (Button(toggle, f"off:tick:{protocol.id}:{item.id}"),),
                (Button(t("↩️ Back to the checklist"), f"off:open:{protocol.id}"),),
            ),
        )

    def sources(self, model: FlowModel) -> Screen:
        protocol = self.protocol(model)
        return Screen(
            body=(
                t("📚 Sources: %(title)s", title=Localized(protocol.title)),
                *source_lines(protocol),
                *review(protocol),
                t("Reviewed by: %(who)s", who=protocol.reviewed_by),
            ),
            buttons=((Button(t("↩️ Back to the checklist"), f"off:open:{protocol.id}"),),),
        )

    def summary(self, model: FlowModel) -> Screen:
        finished: dict[str, Any] = model.data.get("finished", {})
        protocol = self.protocols.get(str(finished.get("protocol")))
        if protocol is None:  # content changed since: nothing to sum up
            return self.checklists(model)
        done, skipped = split(protocol, finished.get("done", []))
        body: list[Text] = [t("🧾 Summary: %(title)s", title=Localized(protocol.title))]
        body.append(tn("Done (%(num)s step):", "Done (%(num)s steps):", len(done)))
        if done:
            body.append(_listed([item.text for item in done], "✅"))
        body.append(tn("Not done (%(num)s step):", "Not done (%(num)s steps):", len(skipped)))
        if skipped:
            body.append(_listed([item.text for item in skipped], "⬜"))
        body.append(
            t(
                "This summary holds no information about the person. The document below can be "
                "printed or attached to the case file."
            )
        )
        return Screen(body=tuple(body), buttons=((LIST_BUTTON, MENU_BUTTON),))

    def question(self, model: FlowModel) -> Screen:
        answers = model.data.get("answers", [])
        index = len(answers)
        labels = {"yes": t("Yes"), "no": t("No"), "unsure": t("Not sure")}
        return Screen(
            body=decision.question_body(answers),
            buttons=(
                tuple(Button(labels[a], f"off:ans:{index}:{a}") for a in decision.ANSWERS),
                (Button(t("↩️ Back"), "off:qback"), MENU_BUTTON),
            ),
        )

    def result(self, model: FlowModel) -> Screen:
        answers = model.data.get("answers", [])
        opens = [Button(t("📋 First contact checklist"), "off:open:first-contact")]
        if decision.verdict(answers) in ("link", "unsure"):
            opens.insert(0, Button(t("📋 VSLC checklist"), "off:open:vslc"))
        return Screen(
            body=decision.result_body(answers),
            buttons=(
                *((button,) for button in opens),
                (Button(t("↩️ Back"), "off:qback"), Button(t("🔁 Start again"), "off:decide")),
                (MENU_BUTTON,),
            ),
        )


# --- building blocks, shared with the documents -------------------------------------------------


def framed(texts: Texts, before: str = "", after: str = "", *, short: bool = False) -> Localized:
    """Content text with marks around it, in each language it has (the rest falls back to
    French); `short` keeps the first words, for a button."""
    return Localized(
        tuple(
            (language, f"{before}{_short(text) if short else text}{after}")
            for language, text in texts
        )
    )


def split(protocol: Protocol, done_ids: list[str]) -> tuple[list[Item], list[Item]]:
    """A protocol's items done, and those not done."""
    done = [item for item in protocol.items if item.id in done_ids]
    return done, [item for item in protocol.items if item.id not in done_ids]


def source_lines(protocol: Protocol) -> list[Text]:
    return [
        f"{n}. {source.title}" + (f"\n   {source.url}" if source.url else "")
        for n, source in enumerate(protocol.sources, 1)
    ]


def review(protocol: Protocol) -> list[Text]:
    lines: list[Text] = [t("Last reviewed: %(date)s.", date=protocol.last_reviewed)]
    if protocol.review_status == "draft":
        lines.append(t("Draft: not yet validated by a Malian partner."))
    return lines


def numbers(directory: Directory) -> list[Text]:
    """Every free number, under the nearest centres and on their own."""
    return [
        referral.FREE_NUMBERS,
        *(referral.number_line(n) for n in directory.numbers),
        referral.BEING_CHECKED,
    ]


def _in(texts: Texts, language: str) -> str:
    found = dict(texts)
    return found.get(language) or found.get("fr", "")


def _listed(texts: list[Texts], mark: str) -> Localized:
    """Content texts as marked lines in one paragraph, each line falling back to French."""
    return Localized(
        tuple(
            (language, "\n".join(f"{mark} {_in(text, language)}" for text in texts))
            for language in CODES
        )
    )


def _short(text: str) -> str:
    if len(text) <= LABEL_CHARS:
        return text
    return text[:LABEL_CHARS].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _cited(protocol: Protocol, item: Item) -> Msg:
    titles = [s.title for s in protocol.sources if s.id in item.sources]
    return t("Sources: %(sources)s", sources="; ".join(titles))
