"""Catalogs: French complete, plurals never compiled half-translated, fallbacks to French."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from bot.flows.screens import t, tn
from bot.i18n import (
    LOCALES_DIR,
    Catalogs,
    compiled_catalog,
    is_translated,
    supported_language,
)
from bot.languages import CODES


def catalog(language: str) -> Catalog:
    with (LOCALES_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh)


def template_ids() -> set[str]:
    with (LOCALES_DIR / "messages.pot").open("rb") as fh:
        return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}


def test_every_message_has_a_french_translation() -> None:
    french = catalog("fr")
    missing = [m.id for m in french if m.id and (m.fuzzy or not is_translated(m))]
    assert missing == []
    assert {m.id if isinstance(m.id, str) else m.id[0] for m in french if m.id} >= template_ids()


@pytest.mark.parametrize("language", CODES)
def test_no_plural_is_half_translated(language: str) -> None:
    # babel #697: ('', '') counts as translated and compiles to the English msgid.
    half = [
        m.id
        for m in catalog(language)
        if isinstance(m.string, tuple) and any(m.string) and not all(m.string)
    ]
    assert half == []


@pytest.mark.parametrize("language", CODES)
def test_catalogs_cover_the_template(language: str) -> None:
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog(language) if m.id}
    assert template_ids() <= ids, "run pybabel update (see README) after changing messages"


def _write_po(directory: Path, language: str, entries: dict[object, object]) -> None:
    cat = Catalog(locale=language, domain="messages")
    for msgid, msgstr in entries.items():
        cat.add(msgid, msgstr)  # type: ignore[arg-type]
    path = directory / language / "LC_MESSAGES" / "messages.po"
    path.parent.mkdir(parents=True)
    with path.open("wb") as fh:
        write_po(fh, cat)


@pytest.fixture
def toy_locales(tmp_path: Path) -> Path:
    plural = ("%(num)d file", "%(num)d files")
    # CLDR gives French three plural forms (one, many, other): all three must be filled.
    french = ("%(num)d fichier", "%(num)d de fichiers", "%(num)d fichiers")
    _write_po(tmp_path, "fr", {"Hello": "Bonjour", plural: french})
    # Bambara: the plural is untranslated, which babel would compile as the English singular.
    _write_po(tmp_path, "bm", {"Hello": "I ni ce", plural: ("",)})
    _write_po(tmp_path, "en", {"Hello": "", plural: ("%(num)d file", "%(num)d files")})
    return tmp_path


def test_untranslated_plural_falls_back_to_french_not_english(toy_locales: Path) -> None:
    catalogs = Catalogs(toy_locales)
    bm = catalogs.translator("bm")
    assert bm.render(t("Hello")) == "I ni ce"
    assert bm.render(tn("%(num)d file", "%(num)d files", 5)) == "5 fichiers"


def test_a_french_plural_missing_a_form_is_not_compiled(toy_locales: Path) -> None:
    po = toy_locales / "fr" / "LC_MESSAGES" / "messages.po"
    po.write_text(
        po.read_text(encoding="utf-8").replace('"%(num)d de fichiers"', '""'), encoding="utf-8"
    )
    mo = compiled_catalog(po)
    assert b"fichiers" not in mo
    assert b"Bonjour" in mo


def test_missing_english_falls_back_to_french(toy_locales: Path) -> None:
    en = Catalogs(toy_locales).translator("en")
    assert en.render(t("Hello")) == "Bonjour"
    assert en.render(tn("%(num)d file", "%(num)d files", 1)) == "1 file"


def test_stale_catalogs_are_recompiled(toy_locales: Path) -> None:
    Catalogs(toy_locales)
    mo = toy_locales / "fr" / "LC_MESSAGES" / "messages.mo"
    assert mo.exists()
    po = mo.with_suffix(".po")
    po.write_text(po.read_text(encoding="utf-8").replace("Bonjour", "Salut"), encoding="utf-8")
    mo_mtime = mo.stat().st_mtime
    os.utime(po, (mo_mtime + 10, mo_mtime + 10))
    assert Catalogs(toy_locales).translator("fr").render(t("Hello")) == "Salut"


def test_read_only_locales_are_compiled_in_memory(toy_locales: Path, tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    shutil.copytree(toy_locales, ro)
    for path in ro.rglob("*.mo"):
        path.unlink()
    for directory in ro.rglob("LC_MESSAGES"):
        directory.chmod(0o555)
    try:
        assert Catalogs(ro).translator("bm").render(t("Hello")) == "I ni ce"
    finally:
        for directory in ro.rglob("LC_MESSAGES"):
            directory.chmod(0o755)


def test_unknown_language_gets_french() -> None:
    catalogs = Catalogs()
    assert catalogs.translator("de").language == "fr"
    assert catalogs.translator(None).language == "fr"


@pytest.mark.parametrize(
    ("candidates", "expected"),
    [
        (["bm", "en"], "bm"),
        ([None, "en-US"], "en"),
        ([None, "fr-ML"], "fr"),
        ([None, "de"], None),
        (["", "not a locale!"], None),
    ],
)
def test_supported_language(candidates: list[str | None], expected: str | None) -> None:
    assert supported_language(candidates) == expected


def test_real_catalogs_render_french_for_unreviewed_bambara() -> None:
    catalogs = Catalogs()
    bm, fr = catalogs.translator("bm"), catalogs.translator("fr")
    # Fuzzy (unreviewed) Bambara must show French, never English.
    for message in catalog("bm"):
        if message.id and message.fuzzy:
            assert bm.render(t(str(message.id))) == fr.render(t(str(message.id)))
