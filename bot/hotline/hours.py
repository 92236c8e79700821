"""Working hours of the hotline, in Bamako time: when someone reads, and when next."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel.dates import get_day_names

BAMAKO = ZoneInfo("Africa/Bamako")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"^(?P<days>[a-z]{3}(?:-[a-z]{3})?(?:,[a-z]{3}(?:-[a-z]{3})?)*)\s+"
                   r"(?P<start>\d{1,2}:\d{2})-(?P<end>\d{1,2}:\d{2})$")  # fmt: skip


class HoursError(ValueError):
    pass


@dataclass(frozen=True)
class Span:
    day: int  # 0 = Monday
    start: time
    end: time


@dataclass(frozen=True)
class Hours:
    """Parsed from text such as "mon-fri 08:00-17:00; sat 09:00-12:00"."""

    spans: tuple[Span, ...]
    text: str

    @classmethod
    def parse(cls, text: str) -> Hours:
        spans: list[Span] = []
        for part in (p.strip().lower() for p in text.split(";")):
            if not part:
                continue
            match = _SPAN.match(part)
            if not match:
                raise HoursError(f"{part!r} is not like 'mon-fri 08:00-17:00'")
            start, end = _clock(match["start"]), _clock(match["end"])
            if end <= start:
                raise HoursError(f"{part!r} ends before it starts")
            for day in _days(match["days"]):
                spans.append(Span(day, start, end))
        if not spans:
            raise HoursError("no opening hours given")
        return cls(tuple(sorted(spans, key=lambda s: (s.day, s.start))), text)

    def describe(self, locale: str) -> str:
        """The hours in words of a language, e.g. "lundi–vendredi 08:00–17:00"."""
        names = get_day_names("wide", locale=locale)
        by_times: dict[tuple[time, time], list[int]] = {}
        for span in self.spans:
            by_times.setdefault((span.start, span.end), []).append(span.day)
        parts = []
        for (start, end), days in by_times.items():
            consecutive = days == list(range(days[0], days[0] + len(days)))
            if consecutive and len(days) > 2:
                day_text = f"{names[days[0]]}–{names[days[-1]]}"
            else:
                day_text = ", ".join(names[d] for d in days)
            end_text = "24:00" if end == time.max else end.strftime("%H:%M")
            parts.append(f"{day_text} {start.strftime('%H:%M')}–{end_text}")
        return "; ".join(parts)

    def is_open(self, at: datetime) -> bool:
        local = at.astimezone(BAMAKO)
        return any(s.day == local.weekday() and s.start <= local.time() < s.end for s in self.spans)

    def next_opening(self, at: datetime) -> datetime:
        """The next time someone reads (now, if open)."""
        local = at.astimezone(BAMAKO)
        if self.is_open(at):
            return local
        for offset in range(8):
            day = local.date() + timedelta(days=offset)
            for span in self.spans:
                if span.day != day.weekday():
                    continue
                opening = datetime.combine(day, span.start, tzinfo=BAMAKO)
                if opening > local:
                    return opening
        raise AssertionError("a week always has an opening")  # spans are never empty


def _clock(text: str) -> time:
    hours, minutes = (int(x) for x in text.split(":"))
    if hours > 24 or minutes > 59 or (hours == 24 and minutes):
        raise HoursError(f"{text} is not a time of day")
    return time.max if hours == 24 else time(hours, minutes)


def _days(text: str) -> list[int]:
    days: list[int] = []
    for item in text.split(","):
        first, _, last = item.partition("-")
        if first not in DAYS or (last and last not in DAYS):
            raise HoursError(f"unknown day in {item!r} (use mon, tue, wed, thu, fri, sat, sun)")
        a, b = DAYS.index(first), DAYS.index(last or first)
        days.extend(range(a, b + 1) if a <= b else [*range(a, 7), *range(b + 1)])
    return days
