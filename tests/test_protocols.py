"""The officer protocols: the shipped files pass the check and hold what the sources say; the
check finds every kind of fault and names where it is."""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from bot.content import CONTENT_DIR, ContentError, check
from bot.content.protocols import (
    PROTOCOLS_DIR,
    Protocols,
    load_protocols,
    read_protocols,
)

TODAY = date(2026, 12, 7)


@pytest.fixture(scope="module")
def protocols() -> Protocols:
    return load_protocols()


def french(protocols: Protocols, protocol_id: str) -> str:
    protocol = protocols.get(protocol_id)
    assert protocol is not None
    parts = [dict(protocol.title)["fr"], dict(protocol.intro).get("fr", "")]
    for item in protocol.items:
        parts += [dict(item.text)["fr"], dict(item.why).get("fr", "")]
    return "\n".join(parts)


# --- the shipped protocols -------------------------------------------------------------------


def test_shipped_protocols_pass_the_check() -> None:
    report = read_protocols(today=TODAY)
    assert report.errors == []
    assert any("not in Bambara (bm), shown in French instead" in w for w in report.warnings)


def test_the_six_protocols_of_the_issue_ship(protocols: Protocols) -> None:
    assert [p.id for p in protocols] == [
        "first-contact", "medical", "statement", "evidence", "child", "vslc",
    ]  # fmt: skip


def test_every_protocol_carries_sources_a_review_date_and_english(protocols: Protocols) -> None:
    for protocol in protocols:
        assert protocol.sources
        assert protocol.last_reviewed <= TODAY
        assert protocol.review_status == "draft"  # nobody in Mali has validated them yet
        for item in protocol.items:
            assert item.sources
            assert {"fr", "en"} <= dict(item.text).keys()
            assert {"fr", "en"} <= dict(item.why).keys()
            # Button data: "off:tick:<protocol>:<item>" must fit Telegram's 64 bytes.
            assert len(f"off:tick:{protocol.id}:{item.id}".encode()) <= 64


def test_urgent_medical_delays_and_care_without_complaint(protocols: Protocols) -> None:
    medical = french(protocols, "medical")
    assert "72 heures" in medical
    assert "120 heures" in medical
    assert "ne dépendent pas d'une plainte" in medical
    assert "72 heures" in french(protocols, "first-contact")


def test_no_push_towards_mediation(protocols: Protocols) -> None:
    assert "Ne poussez jamais vers une médiation" in french(protocols, "statement")


def test_unconfirmed_mali_points_are_flagged(protocols: Protocols) -> None:
    flagged = {(p.id, i.id) for p in protocols for i in p.items if i.confirm_locally}
    assert ("vslc", "procureur") in flagged  # Pôle judiciaire spécialisé: enactment not verified
    assert ("child", "child-code") in flagged  # legal age, mandatory reporting: not verified
    assert ("medical", "certificate") in flagged  # certificat médical: not found


def test_nothing_the_research_notes_forbid(protocols: Protocols) -> None:
    every = "\n".join(french(protocols, p.id) for p in protocols)
    assert not re.search(r"\barticles? \d", every, re.IGNORECASE)  # no Penal Code numbers
    assert "24/7" not in every
    assert "24 h/24" not in every


# --- the check ------------------------------------------------------------------------------


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "protocols"
    shutil.copytree(PROTOCOLS_DIR, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("old", "new", "fault"),
    [
        ('id = "medical"', 'id = "medicine"', "must match the file name"),
        ("last_reviewed = 2026-12-06", "last_reviewed = 2027-01-01", "in the future"),
        ("last_reviewed = 2026-12-06", 'last_reviewed = "2026-12-06"', "last_reviewed is required"),
        ('review_status = "draft"', 'review_status = "ok"', "review_status 'ok'"),
        ('text.fr = "Contraception', 'text.de = "Contraception', "unknown key 'de'"),
        ('id = "follow-up"', 'id = "hiv-72h"', "duplicate item id 'hiv-72h'"),
        ('sources = ["who-follow-up"]', 'sources = ["who-1999"]', "source 'who-1999'"),
        ('sources = ["who-follow-up"]', "sources = []", "sources are required"),
        ('id = "exam-consent"', 'id = "Exam consent"', "is not an id"),
        ("2 semaines, 3 mois", "15 jours, 3 mois", "mentions 15"),
        ('[[sources]]\nid = "msf"', '[[sources]]\nname = "x"\nid = "msf"', "unknown key"),
        ("order = 2", "order = two", "not valid TOML"),
        ("order = 2", "", "order is required"),
    ],
)
def test_the_check_names_each_fault(folder: Path, old: str, new: str, fault: str) -> None:
    edit(folder / "medical.toml", old, new)
    report = read_protocols(folder, TODAY)
    assert any(e.startswith("protocols/medical.toml") and fault in e for e in report.errors), (
        report.errors
    )
    assert "medical" not in {p.id for p in report.protocols}


def test_the_bot_refuses_to_load_protocols_with_an_error(folder: Path) -> None:
    edit(folder / "medical.toml", 'id = "hiv-72h"', 'id = "hiv 72h"')
    with pytest.raises(ContentError, match=r"medical\.toml item 3: id .hiv 72h. is not an id"):
        load_protocols(folder)


def test_a_missing_french_text_is_an_error_and_a_missing_english_one_a_warning(
    folder: Path,
) -> None:
    edit(folder / "evidence.toml", 'text.fr = "Écrivez', 'text.bm = "Écrivez')
    edit(folder / "child.toml", 'text.en = "Coordinate with', 'comment = "Coordinate with')
    report = read_protocols(folder, TODAY)
    assert any("evidence.toml item chain-of-custody text: French (fr) is required" in e
               for e in report.errors)  # fmt: skip
    assert any("child.toml item coordinate: unknown key 'comment'" in e for e in report.errors)


def test_missing_translations_are_listed_with_the_french_fallback(folder: Path) -> None:
    edit(folder / "vslc.toml", 'text.en = "Ask for consent', 'text.fr_old = "Ask for consent')
    edit(folder / "vslc.toml", 'text.fr_old = "Ask for consent', '# "Ask for consent')
    report = read_protocols(folder, TODAY)
    assert any(
        "vslc.toml: 1 text(s) not in English (en), shown in French instead: item consent-each-use"
        in w
        for w in report.warnings
    )


def test_old_reviews_are_flagged_and_required_protocols_checked(folder: Path) -> None:
    report = read_protocols(folder, date(2028, 1, 1))
    assert sum("over 12 months ago" in w for w in report.warnings) == 6
    (folder / "vslc.toml").unlink()
    report = read_protocols(folder, TODAY)
    assert any("vslc.toml is missing" in e for e in report.errors)
    for path in folder.glob("*.toml"):
        path.unlink()
    assert read_protocols(folder, TODAY).errors[0].startswith("protocols: no .toml file")


def test_the_content_check_also_checks_the_protocols(tmp_path: Path) -> None:
    report = check(CONTENT_DIR, TODAY)
    assert report.ok
    assert (
        "protocols/child.toml: 3 point(s) to confirm locally: marriage, refer-bcpem, child-code"
        in report.warnings
    )
    shutil.copytree(CONTENT_DIR, tmp_path / "content")
    edit(tmp_path / "content" / "protocols" / "vslc.toml", "order = 6", 'order = "six"')
    errors = check(tmp_path / "content", TODAY).errors
    assert any(e.startswith("protocols/vslc.toml: order is required") for e in errors)
