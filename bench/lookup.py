"""Phase 3: nearest-centre and typed-place lookups, timed call by call in this process.

`Directory.nearest` is measured on the real directory (content/) and on a synthetic one of
10,000 centres spread over Mali; `Directory.find_place` on the real gazetteer and on a synthetic
one of 10,000 places, with exact names, typos, phrases, Bambara letters and nonsense.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from bench.common import summary_ms
from bench.journey import LATITUDES, LONGITUDES
from bot.content import REGION_CAPITALS, Centre, Directory, Place, load_directory

SYNTHETIC = 10_000
QUERIES = {
    "exact": ["Mopti", "Bamako", "Kayes", "Tombouctou", "Sévaré"],
    "typo": ["Mopiti", "Bamakou", "Tombouctu", "Segu", "Sikaso"],
    "phrase": ["je suis à Sévaré près du marché", "I am in Gao now", "n bɛ Sikasso"],
    "bambara letters": ["Jɛnɛ", "Sɛgu", "Kɔlɔkani"],
    "not found": ["Paris", "xq", "zzzzzzzz"],
    "64+ chars": ["azertyuiop qsdfghjklm wxcvbn " * 4],
}
_SYLLABLES = [
    "ba",
    "ma",
    "ko",
    "si",
    "ka",
    "ya",
    "dou",
    "se",
    "gou",
    "ni",
    "kan",
    "to",
    "djé",
    "ɛn",
]


def _timed(call: Callable[[], object], repeat: int) -> list[float]:
    durations = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        durations.append(time.perf_counter() - started)
    return durations


def _name(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()


def synthetic_centres(real: Directory, count: int, seed: int = 7) -> list[Centre]:
    rng = random.Random(seed)
    towns = real.places
    centres = []
    for i in range(count):
        town = rng.choice(towns)
        centres.append(
            Centre(
                id=f"synthetic-{i}", name=f"Centre {i}", host_facility="CSRef", town=town.name,
                region=town.region, latitude=rng.uniform(*LATITUDES),
                longitude=rng.uniform(*LONGITUDES), coordinates="approximate",
                services=("medical", "psychosocial"), hours="", phone="", operator="",
                opened="", source_url="", source_date="", last_verified=date(2026, 11, 1),
                status="unverified", notes="",
            )
        )  # fmt: skip
    return centres


def synthetic_places(count: int, seed: int = 11) -> list[Place]:
    rng = random.Random(seed)
    regions = list(REGION_CAPITALS)
    places = []
    for i in range(count):
        name = _name(rng)
        places.append(
            Place(
                id=f"place-{i}", geonameid=None, name=name, ascii_name=name,
                alt_names=(_name(rng),) if rng.random() < 0.3 else (),
                region=rng.choice(regions), latitude=rng.uniform(*LATITUDES),
                longitude=rng.uniform(*LONGITUDES), population=rng.randint(500, 50_000),
                source="synthetic", notes="",
            )
        )  # fmt: skip
    return places


def run_phase(quick: bool, log: Callable[[str], None] = print) -> dict[str, Any]:
    rng = random.Random(3)
    real = load_directory()
    big_centres = Directory(synthetic_centres(real, SYNTHETIC), real.numbers, real.places)
    # Real places included, so the real queries still find what they look for.
    big_places = Directory(real.centres, real.numbers, [*real.places, *synthetic_places(SYNTHETIC)])
    points = [(rng.uniform(*LATITUDES), rng.uniform(*LONGITUDES)) for _ in range(200)]
    repeat_small, repeat_big = (200, 20) if quick else (2000, 100)

    def nearest(directory: Directory, repeat: int) -> dict[str, float]:
        durations: list[float] = []
        for i in range(repeat):
            lat, lon = points[i % len(points)]
            durations += _timed(lambda: directory.nearest(lat, lon), 1)  # noqa: B023
        return summary_ms(durations)

    def places(directory: Directory, repeat: int) -> dict[str, dict[str, float]]:
        found: dict[str, dict[str, float]] = {}
        every: list[float] = []
        for kind, queries in QUERIES.items():
            durations: list[float] = []
            for query in queries:
                durations += _timed(lambda: directory.find_place(query), repeat)  # noqa: B023
            found[kind] = summary_ms(durations)
            every += durations
        found["all"] = summary_ms(every)
        return found

    result: dict[str, Any] = {
        "centres_real": len(real.centres),
        "places_real": len(real.places),
        "nearest_real": nearest(real, repeat_small),
        "nearest_synthetic": nearest(big_centres, repeat_big),
        "find_place_real": places(real, max(repeat_small // 20, 5)),
        "find_place_synthetic": places(big_places, max(repeat_big // 20, 3)),
        "synthetic": SYNTHETIC,
    }
    log(
        f"  nearest: {result['nearest_real']['p50']:.3f} ms ({len(real.centres)} centres), "
        f"{result['nearest_synthetic']['p50']:.2f} ms ({SYNTHETIC:,}); find_place: "
        f"{result['find_place_real']['all']['p50']:.3f} ms ({len(real.places)} places), "
        f"{result['find_place_synthetic']['all']['p50']:.2f} ms ({SYNTHETIC:,} more)"
    )
    return result
