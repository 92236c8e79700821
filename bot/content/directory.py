"""The directory the bot answers from: centres, phone lines and towns, loaded once and validated."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bot.config import PROJECT_ROOT
from bot.content.geo import distance_km
from bot.content.load import read_content
from bot.content.models import REGION_CAPITALS, Centre, Number, Place
from bot.content.places import PlaceIndex, PlaceSearch, fold

CONTENT_DIR = PROJECT_ROOT / "content"
MAX_TOWNS_PER_REGION = 12  # a menu of buttons, not a list to scroll


class ContentError(ValueError):
    """The content files are invalid; `problems` lists every one (file, row, column, fault)."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) in the content files:\n{lines}")


def load_directory(content_dir: Path = CONTENT_DIR) -> Directory:
    """Load and validate all three files; raise ContentError listing every problem if any."""
    content = read_content(content_dir)
    if content.errors:
        raise ContentError([str(problem) for problem in content.errors])
    return Directory(content.centres, content.numbers, content.places)


class Directory:
    def __init__(
        self, centres: Sequence[Centre], numbers: Sequence[Number], places: Sequence[Place]
    ) -> None:
        self.places = tuple(places)
        self._places_by_id = {p.id: p for p in self.places}
        self._index = PlaceIndex(self.places)
        self._by_name = {fold(name): p for p in self.places for name in (p.name, *p.alt_names)}
        self.show(centres, numbers)

    def show(self, centres: Sequence[Centre], numbers: Sequence[Number]) -> None:
        """What survivors and officers are shown from now on: editors' approved changes are
        applied in place (bot/editing.py), so every flow holding this directory sees them."""
        self.centres = tuple(centres)
        self.numbers = tuple(numbers)
        self._centres_by_id = {c.id: c for c in self.centres}
        self._centre_towns = {
            self._by_name[fold(c.town)].id for c in self.centres if fold(c.town) in self._by_name
        }

    def town_of(self, centre: Centre) -> Place | None:
        return self._by_name.get(fold(centre.town))

    def centre(self, centre_id: str) -> Centre | None:
        return self._centres_by_id.get(centre_id)

    def place(self, place_id: str) -> Place | None:
        return self._places_by_id.get(place_id)

    def nearest(self, latitude: float, longitude: float, k: int = 3) -> list[tuple[Centre, float]]:
        """The k centres nearest to a point, nearest first, with great-circle distances in km.
        Centres without coordinates are left out: their distance is unknown."""
        located: list[tuple[Centre, float]] = []
        for centre in self.centres:
            if (where := centre.location) is not None:
                located.append((centre, distance_km(latitude, longitude, *where)))
        located.sort(key=lambda pair: (pair[1], pair[0].name))
        return located[: max(k, 0)]

    def find_place(self, query: str) -> PlaceSearch:
        """Match a typed place name; see bot.content.places for how to read the result."""
        return self._index.search(query)

    def regions(self) -> list[str]:
        """The 2023 regions that have towns, in official order (Bamako District first)."""
        present = {place.region for place in self.places}
        return [region for region in REGION_CAPITALS if region in present]

    def towns_in(self, region: str) -> list[Place]:
        """Up to 12 towns of a region for a menu: the capital, then towns with a centre, then
        the most populous. The region name may be typed without accents."""
        wanted = fold(region)
        name = next((r for r in REGION_CAPITALS if fold(r) == wanted), None)
        if name is None:
            return []
        capital = REGION_CAPITALS[name]
        towns = [place for place in self.places if place.region == name]
        towns.sort(
            key=lambda p: (
                p.name != capital,
                p.id not in self._centre_towns,
                -(p.population or 0),
                p.name,
            )
        )
        return towns[:MAX_TOWNS_PER_REGION]
