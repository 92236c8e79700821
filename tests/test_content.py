"""The directory content: the shipped files pass the check, safety rules hold, and lookups work."""

from __future__ import annotations

import csv
import random
import re
import shutil
import string
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.content import (
    CONTENT_DIR,
    Centre,
    ContentError,
    Directory,
    check,
    fold,
    load_directory,
    main_check,
)

ALLOWED_NUMBERS = {"80001132", "80333", "80001115", "80001114"}
FORBIDDEN = {"116", "15", "17", "18"}
CSV_FILES = ("centres.csv", "numbers.csv", "places.csv")
MOPTI = (14.49, -4.19)
BAMAKO = (12.64, -8.0)
GAO = (16.27, -0.04)
DESERT = (20.0, -2.0)


@pytest.fixture(scope="module")
def directory() -> Directory:
    return load_directory()


# --- the shipped content -------------------------------------------------------------------


def test_shipped_content_passes_the_check() -> None:
    report = check(CONTENT_DIR, date.today())
    assert report.errors == []
    assert report.ok


def test_shipped_content_loads(directory: Directory) -> None:
    assert len(directory.centres) >= 10
    assert len(directory.numbers) == len(ALLOWED_NUMBERS)
    assert len(directory.places) >= 90


def test_only_the_four_allowed_numbers_ship(directory: Directory) -> None:
    assert {n.number for n in directory.numbers} == ALLOWED_NUMBERS
    assert {n.display.replace(" ", "") for n in directory.numbers} == ALLOWED_NUMBERS


def test_every_number_is_flagged_unverified_with_its_source(directory: Directory) -> None:
    for number in directory.numbers:
        assert number.status == "unverified"
        assert number.source_url.startswith(("http://", "https://"))


def test_police_and_gendarmerie_lines_are_emergency_lines(directory: Directory) -> None:
    for number in directory.numbers:
        if number.kind in ("police", "gendarmerie"):
            assert number.emergency


def test_no_centre_says_it_is_open_round_the_clock(directory: Directory) -> None:
    round_the_clock = re.compile(r"24\s*h?\s*(/|sur)|7\s*j?\s*(/|sur)\s*7", re.IGNORECASE)
    for centre in directory.centres:
        assert not round_the_clock.search(centre.hours), centre.id


def test_confirmed_only_with_a_source_from_2021_or_later(directory: Directory) -> None:
    for centre in directory.centres:
        if centre.status == "confirmed":
            assert centre.source_date >= "2021", centre.id


@pytest.mark.parametrize("file", CSV_FILES)
def test_no_forbidden_number_anywhere_in_the_content_files(file: str) -> None:
    with (CONTENT_DIR / file).open(encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle):
            for cell in row:
                assert not _standalone_numbers(cell) & FORBIDDEN, cell


def _standalone_numbers(text: str) -> set[str]:
    """Numbers as someone would dial them ("80 00 11 15" is one), leaving out parts of dates,
    ranges and bigger numbers such as "2021-07-15" or "1,600"."""
    found = set()
    for match in re.finditer(r"\d+(?: \d+)*", text):
        before, after = text[max(0, match.start() - 2) : match.start()], text[match.end() :]
        joined_before = before[-1:] in ("-", "/", ":") or (
            before[-1:] in (".", ",") and before[:1].isdigit()
        )
        joined_after = after[:1] in ("-", "/", ":") or (
            after[:1] in (".", ",") and after[1:2].isdigit()
        )
        if not (joined_before or joined_after):
            found.add(match[0].replace(" ", ""))
    return found


def test_the_forbidden_number_scan_itself() -> None:
    assert _standalone_numbers("appelez le 17.") == {"17"}
    assert _standalone_numbers("le 80 00 11 15 ou le 18") == {"80001115", "18"}
    assert not _standalone_numbers("2021-07-15, 1,600 calls, 15/07") & FORBIDDEN


# --- the check finds broken content --------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "record", "column", "value", "expected"),
    [
        ("centres.csv", "kayes", "latitude", "45.2", "outside Mali"),
        ("centres.csv", "kayes", "longitude", "east", "is not a number"),
        ("places.csv", "mopti", "latitude", "4.48", "outside Mali"),
        ("numbers.csv", "vbg-80333", "number", "8033", "not a Malian phone number"),
        ("numbers.csv", "vbg-80333", "number", "17", "must never be shipped"),
        ("numbers.csv", "vbg-80001132", "display", "80 00 11 33", "does not match number"),
        ("numbers.csv", "vbg-80333", "purpose_fr", "Sinon, appelez le 17.", "mentions 17"),
        ("centres.csv", "diema", "id", "kayes", "duplicate id 'kayes': also centres.csv row"),
        ("numbers.csv", "vbg-80333", "id", "kayes", "duplicate id 'kayes': also centres.csv row"),
        ("centres.csv", "kayes", "source_url", "", "required but empty"),
        ("centres.csv", "kayes", "source_url", "www.lessor.ml/posts", "not an http(s) URL"),
        ("centres.csv", "kayes", "last_verified", "2026-13-01", "not an ISO date"),
        ("numbers.csv", "vbg-80001132", "source_date", "March 2014", "not an ISO date"),
        ("centres.csv", "kayes", "status", "active", "'active' is not one of: confirmed"),
        ("centres.csv", "kayes", "services", "medical;food", "'food' is not one of"),
        ("centres.csv", "kayes", "coordinates", "exact", "'exact' is not one of: facility"),
        ("centres.csv", "kayes", "hours", "24h/24", "never say 24/7"),
        ("centres.csv", "kayes", "region", "Segou", "not a 2023 region"),
        ("centres.csv", "kayes", "town", "Atlantis", "'Atlantis' is not in places.csv"),
        ("centres.csv", "kayes", "region", "Nioro", "but Kayes is in 'Kayes' in places.csv"),
        ("numbers.csv", "police-80001115", "emergency", "false", "is an emergency line"),
    ],
)
def test_a_broken_cell_is_reported_by_file_row_and_column(
    tmp_path: Path, file: str, record: str, column: str, value: str, expected: str
) -> None:
    _edit(tmp_path, file, record, column, value)
    errors = check(tmp_path, date(2026, 12, 7)).errors
    shown_id = value if column == "id" else record
    where = re.compile(rf"^{file} row \d+ \({shown_id}\), column {column}: ")
    assert any(where.match(error) for error in errors if expected in error), errors
    with pytest.raises(ContentError) as info:
        load_directory(tmp_path)
    assert any(expected in problem for problem in info.value.problems)


def test_load_lists_every_problem_not_just_the_first(tmp_path: Path) -> None:
    _edit(tmp_path, "centres.csv", "gao", "latitude", "99")
    _edit(tmp_path, "numbers.csv", "vbg-80333", "status", "maybe", copy=False)
    with pytest.raises(ContentError) as info:
        load_directory(tmp_path)
    problems = "\n".join(info.value.problems)
    assert "centres.csv row" in problems
    assert "(gao), column latitude" in problems
    assert "numbers.csv row 3 (vbg-80333), column status" in problems
    assert "2 problem(s)" in str(info.value)


def test_missing_file_and_missing_column_are_reported(tmp_path: Path) -> None:
    _copy(tmp_path)
    (tmp_path / "numbers.csv").unlink()
    text = (tmp_path / "places.csv").read_text(encoding="utf-8")
    (tmp_path / "places.csv").write_text(text.replace(",population,", ",people,", 1), "utf-8")
    errors = check(tmp_path, date(2026, 12, 7)).errors
    assert any(e.startswith("numbers.csv: file not found") for e in errors)
    assert "places.csv: missing column(s): population" in errors


def test_a_language_is_a_column_added_and_french_fills_its_gaps(tmp_path: Path) -> None:
    _copy(tmp_path)
    path = tmp_path / "numbers.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:  # a Bambara column, filled for one number only
        row["purpose_bm"] = "Sɛgɛsɛgɛli" if row["id"] == "vbg-80333" else ""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    report = check(tmp_path, date(2026, 12, 7))
    assert report.errors == []
    assert not [w for w in report.warnings if "purpose_bm" in w]  # a known language
    numbers = {n.id: n for n in load_directory(tmp_path).numbers}
    assert dict(numbers["vbg-80333"].purpose.texts)["bm"] == "Sɛgɛsɛgɛli"
    assert "bm" not in dict(numbers["vbg-80001132"].purpose.texts)  # French is shown instead


def test_a_spreadsheet_byte_order_mark_and_empty_rows_are_accepted(tmp_path: Path) -> None:
    _copy(tmp_path)
    path = tmp_path / "numbers.csv"
    path.write_text("\ufeff" + path.read_text(encoding="utf-8") + ",,,,,,,,,,,,,,\n", "utf-8")
    assert check(tmp_path, date(2026, 12, 7)).errors == []


def test_old_entries_are_warned_about_and_future_dates_are_errors() -> None:
    later = check(CONTENT_DIR, date(2028, 1, 1))
    assert later.errors == []
    assert any("over 180 days ago" in w and "(kayes)" in w for w in later.warnings)
    # Checked within 180 days: not flagged; one day more: flagged (editors check with /verify).
    kayes = next(c for c in load_directory().centres if c.id == "kayes")
    fresh = check(CONTENT_DIR, kayes.last_verified + timedelta(days=180))
    assert not any("(kayes), column last_verified" in w for w in fresh.warnings)
    stale = check(CONTENT_DIR, kayes.last_verified + timedelta(days=181))
    assert any("(kayes), column last_verified" in w for w in stale.warnings)
    earlier = check(CONTENT_DIR, date(2020, 1, 1))
    assert any(
        "(kolondieba), column opened: 2024-05-27 is in the future" in e for e in earlier.errors
    )


def test_every_unverified_entry_is_warned_about(directory: Directory) -> None:
    warnings = check(CONTENT_DIR, date(2026, 12, 7)).warnings
    unverified = [c.id for c in directory.centres if c.status == "unverified"]
    unverified += [n.id for n in directory.numbers if n.status == "unverified"]
    for entry in unverified:
        assert any(f"({entry}), column status: unverified" in w for w in warnings), entry


def test_main_check_prints_the_report_and_returns_the_exit_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main_check(today=date(2026, 12, 7)) == 0
    assert "OK: 0 error(s)" in capsys.readouterr().out
    _edit(tmp_path, "centres.csv", "kayes", "status", "active")
    assert main_check(tmp_path, date(2026, 12, 7)) == 1
    out = capsys.readouterr().out
    assert "Errors (1):" in out
    assert "FAILED: 1 error(s)" in out


# --- nearest centre ------------------------------------------------------------------------


def test_nearest_from_mopti_is_the_sevare_centre(directory: Directory) -> None:
    (centre, km), *_ = directory.nearest(*MOPTI)
    assert centre.id == "sevare"
    assert centre.town == "Sévaré"
    assert km < 20


def test_nearest_from_bamako_is_a_bamako_unit(directory: Directory) -> None:
    centre, km = directory.nearest(*BAMAKO)[0]
    assert centre.town == "Bamako"
    assert km < 10


def test_nearest_from_gao_is_the_gao_centre(directory: Directory) -> None:
    assert directory.nearest(*GAO)[0][0].id == "gao"


def test_nearest_from_the_middle_of_the_desert_is_far(directory: Directory) -> None:
    centre, km = directory.nearest(*DESERT)[0]
    assert km > 100
    assert centre.id == "tombouctou"


def test_nearest_is_sorted_and_takes_k(directory: Directory) -> None:
    found = directory.nearest(*MOPTI, k=5)
    assert len(found) == 5
    distances = [km for _, km in found]
    assert distances == sorted(distances)
    assert directory.nearest(*MOPTI, k=0) == []


def test_distances_are_great_circle_kilometres(directory: Directory) -> None:
    # Bamako to Mopti town centres: about 460 km as the crow flies
    mopti = directory.place("mopti")
    assert mopti is not None
    km = dict((c.id, d) for c, d in directory.nearest(mopti.latitude, mopti.longitude, k=15))
    assert 440 < km["bamako-commune-5"] < 480


def test_nearest_leaves_out_centres_without_coordinates(directory: Directory) -> None:
    kayes = directory.centre("kayes")
    assert kayes is not None
    unlocated = Centre(**{**kayes.__dict__, "id": "nowhere", "latitude": None, "longitude": None})
    small = Directory([unlocated, kayes], directory.numbers, directory.places)
    assert [c.id for c, _ in small.nearest(*MOPTI, k=3)] == ["kayes"]


# --- typed places --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "place"),
    [
        ("Tombouctou", "Tombouctou"),
        ("Timbuktu", "Tombouctou"),
        ("tombouctu", "Tombouctou"),
        ("Segou", "Ségou"),
        ("SÉGOU", "Ségou"),
        ("Mopi", "Mopti"),
        ("sevare", "Sévaré"),
        ("Sévaré", "Sévaré"),
        ("bamakoo", "Bamako"),
        ("Bamako", "Bamako"),
        ("Koutiyala", "Koutiala"),
        ("Kolondieba", "Kolondiéba"),
        ("Bougoni", "Bougouni"),
        ("Djene", "Djenné"),
        ("Nioro du Sahel", "Nioro"),
        ("  kidal  ", "Kidal"),
    ],
)
def test_typed_place_is_found_surely(directory: Directory, query: str, place: str) -> None:
    result = directory.find_place(query)
    assert result.sure
    assert result.best is not None
    assert result.best.place.name == place


def test_an_unclear_spelling_is_offered_to_confirm(directory: Directory) -> None:
    result = directory.find_place("Kayse")
    assert not result.sure
    assert result.best is not None
    assert result.best.place.name == "Kayes"


def test_a_town_inside_a_phrase_is_offered_to_confirm(directory: Directory) -> None:
    result = directory.find_place("je suis à Mopti")
    assert not result.sure
    assert "Mopti" in [m.place.name for m in result.matches]


def test_the_match_says_which_spelling_matched(directory: Directory) -> None:
    best = directory.find_place("Timbuktu").best
    assert best is not None
    assert best.matched == "Timbuktu"
    assert best.score == 100


@pytest.mark.parametrize("query", ["zzzz", "", " ", "?!", "x", "qwxzptk vvbnm"])
def test_nonsense_finds_nothing(directory: Directory, query: str) -> None:
    result = directory.find_place(query)
    assert result.matches == ()
    assert not result.sure
    assert result.best is None


def test_a_huge_random_input_is_handled_fast(directory: Directory) -> None:
    rng = random.Random(7)
    junk = "".join(rng.choice(string.printable + "éɛɔ") for _ in range(4096))
    started = time.perf_counter()
    result = directory.find_place(junk)
    assert time.perf_counter() - started < 0.5
    assert not result.sure


def test_fold_drops_accents_and_keeps_words_whole() -> None:
    assert fold("Ségou-Koro") == "segou koro"
    assert fold("Jɛnɛ") == "jene"
    assert fold("  SÉVARÉ ") == "sevare"


# --- region and town menus -----------------------------------------------------------------


def test_regions_are_the_twenty_of_2023_bamako_first(directory: Directory) -> None:
    regions = directory.regions()
    assert len(regions) == 20
    assert regions[0] == "Bamako"
    assert {"Mopti", "Nioro", "Bougouni", "San", "Taoudénit", "Ménaka"} <= set(regions)


def test_towns_fit_a_menu_and_start_with_the_capital(directory: Directory) -> None:
    for region in directory.regions():
        towns = directory.towns_in(region)
        assert 1 <= len(towns) <= 12
        assert all(t.region == region for t in towns)
    assert directory.towns_in("Tombouctou")[0].name == "Tombouctou"


def test_towns_with_a_centre_come_right_after_the_capital(directory: Directory) -> None:
    assert [t.name for t in directory.towns_in("Mopti")[:3]] == ["Mopti", "Konna", "Sévaré"]
    assert [t.name for t in directory.towns_in("Koulikoro")[:2]] == ["Koulikoro", "Kangaba"]


def test_region_names_may_be_typed_without_accents(directory: Directory) -> None:
    assert directory.towns_in("segou") == directory.towns_in("Ségou")
    assert directory.towns_in("Atlantis") == []


def test_centres_are_in_known_towns_and_regions(directory: Directory) -> None:
    regions = set(directory.regions())
    for centre in directory.centres:
        assert centre.region in regions
        assert any(t.name == centre.town for t in directory.towns_in(centre.region))


# --- helpers -------------------------------------------------------------------------------


def _copy(target: Path) -> None:
    for file in CSV_FILES:
        shutil.copy(CONTENT_DIR / file, target / file)


def _edit(target: Path, file: str, record: str, column: str, value: str, copy: bool = True) -> None:
    """Copy the content files to `target` (unless already there) and set one cell."""
    if copy:
        _copy(target)
    path = target / file
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert any(row["id"] == record for row in rows), record
    for row in rows:
        if row["id"] == record:
            row[column] = value
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
