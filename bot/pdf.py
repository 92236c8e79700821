"""Officers' documents as PDF files (a printable protocol, a checklist summary), with the DejaVu
Sans font shipped in bot/fonts/ so that French accents and the Bambara letters ɛ ɔ ɲ ŋ show on
any machine. fpdf2 is imported only when a document is made: the bot starts without it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

FONT = Path(__file__).parent / "fonts" / "DejaVuSans.ttf"
_FAMILY = "DejaVu"
_SIZE, _TITLE_SIZE, _LINE = 10.5, 14, 5.5  # points, points, millimetres


def pdf_document(lines: Sequence[str]) -> bytes:
    """An A4 PDF of the lines, the first one as its title. Characters the font lacks (emoji)
    are left out rather than shown as empty boxes."""
    from fpdf import FPDF
    from fpdf.fonts import TTFFont

    pdf = FPDF(format="A4")
    pdf.set_margins(18, 16)
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_font(_FAMILY, fname=str(FONT))
    pdf.set_creator("Jigiya")
    pdf.set_title(lines[0] if lines else "Jigiya")
    pdf.add_page()
    font = pdf.fonts[_FAMILY.lower()]
    assert isinstance(font, TTFFont)
    shown = set(font.cmap)
    for number, line in enumerate(lines):
        pdf.set_font(_FAMILY, size=_TITLE_SIZE if number == 0 else _SIZE)
        text = "".join(c for c in line if ord(c) in shown or c in "\n\t").rstrip()
        pdf.multi_cell(0, _LINE, text or " ", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
