"""Officers' documents as PDF: read back with a PDF library, a printable protocol in French has
every step with its accents, the "to confirm locally" marks and the sources, and the font shows
the Bambara letters."""

from __future__ import annotations

from datetime import date

from bot.content.protocols import load_protocols
from bot.flows import officer_documents
from bot.flows.screens import t
from bot.i18n import Catalogs
from bot.pdf import pdf_document
from tests.test_officer_e2e import pdf_text


def flat(text: str) -> str:
    """Lines wrapped on the page joined again."""
    return " ".join(text.split())


def test_a_printable_protocol_in_french_reads_back_with_its_steps_accents_and_marks() -> None:
    protocol = load_protocols().get("vslc")
    assert protocol is not None
    french = Catalogs().translator("fr")
    document = officer_documents.printable(protocol)
    assert document.filename == "jigiya-vslc.pdf"
    lines = [french.render(line) for line in document.body]
    text = flat(pdf_text(pdf_document([*lines, "Bamanankan : ɛ ɔ ɲ ŋ Ɛ Ɔ Ɲ Ŋ"])))
    assert text.startswith("JIGIYA: Violences sexuelles liées au conflit (VSLC)")
    for number, item in enumerate(protocol.items, 1):
        assert f"[ ] {number}. {flat(dict(item.text)['fr'])}" in text
    marks = sum(item.confirm_locally for item in protocol.items)
    assert marks == 2
    assert text.count("À confirmer localement.") == marks
    for source in protocol.sources:
        assert flat(source.title) in text
    assert "Bamanankan : ɛ ɔ ɲ ŋ Ɛ Ɔ Ɲ Ŋ" in text


def test_the_summary_marks_what_is_to_confirm_locally_and_holds_nothing_typed() -> None:
    protocol = load_protocols().get("statement")
    assert protocol is not None
    done = [protocol.items[0].id]
    document = officer_documents.summary(protocol, done, date(2026, 12, 7))
    assert document.filename == "jigiya-summary-statement-2026-12-07.pdf"
    marks = document.body.count(officer_documents.TO_CONFIRM)
    assert marks == sum(item.confirm_locally for item in protocol.items) > 0
    assert t("This document holds no information about the person helped.") in document.body
