"""Typed-place search: tolerant of accents, case, Bambara letters and spelling mistakes.

`PlaceIndex.search` returns a `PlaceSearch`:
- `sure` is True: `matches[0]` is the place meant, use it without asking;
- `sure` is False and `matches` is not empty: ask the person to pick one (best first);
- `matches` is empty: nothing looks like what was typed.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.content.models import Place

MAX_QUERY_CHARS = 64  # longer input is not a town name; cutting it keeps matching fast
MAX_QUERY_WORDS = 6
SURE_SCORE = 85.0
SURE_MARGIN = 8.0  # the best place must lead the next one by this much to be taken without asking
CANDIDATE_SCORE = 70.0
WORD_SCORE_CAP = 80.0  # a town found inside a longer phrase is only ever offered to confirm
MAX_CANDIDATES = 5

# Bambara and other letters that Unicode does not decompose into a base letter and an accent.
_LETTERS = str.maketrans({"ɛ": "e", "ɔ": "o", "ɲ": "ny", "ŋ": "ng", "œ": "oe", "æ": "ae"})


def fold(text: str) -> str:
    """Lower case, no accents, Latin letters and digits only, single spaces: 'Ségou-Koro' ->
    'segou koro', 'Jɛnɛ' -> 'jene'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_LETTERS))
    bare = (ch for ch in decomposed if not unicodedata.combining(ch))
    plain = "".join(ch if ch.isascii() and ch.isalnum() else " " for ch in bare)
    return " ".join(plain.split())


@dataclass(frozen=True)
class PlaceMatch:
    place: Place
    score: float  # 0 to 100
    matched: str  # the name or alias, as written in places.csv, that matched


@dataclass(frozen=True)
class PlaceSearch:
    matches: tuple[PlaceMatch, ...]  # best first, at most MAX_CANDIDATES
    sure: bool

    @property
    def best(self) -> PlaceMatch | None:
        return self.matches[0] if self.matches else None


class PlaceIndex:
    def __init__(self, places: Iterable[Place]) -> None:
        self._keys: list[str] = []
        self._owners: list[tuple[Place, str]] = []
        for place in places:
            seen: set[str] = set()
            for spelling in (place.name, place.ascii_name, *place.alt_names):
                key = fold(spelling).replace(" ", "")
                if key and key not in seen:
                    seen.add(key)
                    self._keys.append(key)
                    self._owners.append((place, spelling))

    def search(self, query: str) -> PlaceSearch:
        folded = fold(query[:MAX_QUERY_CHARS])
        if len(folded) < 2:
            return PlaceSearch((), sure=False)
        best: dict[str, PlaceMatch] = {}
        self._score(folded.replace(" ", ""), 100.0, best)
        words = folded.split()
        if len(words) > 1:  # "je suis à Mopti": look for a town among the words too
            for word in words[:MAX_QUERY_WORDS]:
                if len(word) >= 3:
                    self._score(word, WORD_SCORE_CAP, best)
        ranked = sorted(
            best.values(), key=lambda m: (-m.score, -(m.place.population or 0), m.place.name)
        )[:MAX_CANDIDATES]
        if not ranked:
            return PlaceSearch((), sure=False)
        lead = ranked[0].score - (ranked[1].score if len(ranked) > 1 else 0.0)
        return PlaceSearch(
            tuple(ranked), sure=ranked[0].score >= SURE_SCORE and lead >= SURE_MARGIN
        )

    def _score(self, key: str, cap: float, best: dict[str, PlaceMatch]) -> None:
        hits = process.extract(
            key, self._keys, scorer=fuzz.ratio, score_cutoff=CANDIDATE_SCORE, limit=None
        )
        for _, score, index in hits:
            place, spelling = self._owners[index]
            score = min(score, cap)
            current = best.get(place.id)
            if current is None or score > current.score:
                best[place.id] = PlaceMatch(place, score, spelling)
