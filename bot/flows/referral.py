"""The nearest centres and the phone numbers, as both the survivor flow and officer mode show them.

What is the same for a survivor looking for help and an officer referring someone lives here:
how a centre, a number and a number's card are written, the nearest centres as one message
with a map button per centre, the map pin, when a centre is "far", and where to look from. What
differs (the words addressed to each, which numbers, what follows the list) is given by the
flow. Like every flow, nothing here knows about a channel.

What a reader is told about an entry is only what is known (issue 17, point 12): the date of
the source that reported it, never a research date dressed up as a check; "not yet confirmed"
until an editor called or went there (bot/editing.py); "in Bamako (exact place not yet known)"
where the position is only the town's; and a centre known only from an old source is listed
after those with recent ones, with its uncertainty.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from transitions.extensions.asyncio import AsyncEventData

from bot.content import Centre, Directory, Number, Place, PlaceSearch
from bot.flows.base import argument
from bot.flows.screens import Button, Contact, Localized, Msg, Pin, Screen, Text, t

NEAREST = 3  # centres listed
FAR_KM = 100  # beyond this, the nearest centre is said to be far and other help is given
# Closer than this to a centre known only by its town's centre, she is in that town: a distance
# measured from the town centre ("about 1 km") would pretend to know where the centre is.
TOWN_KM = 10
# A centre whose newest source is this much older than the day its sources were last read (and
# that nobody has called or visited since) may have closed: it is listed after the others.
OLD_SOURCE_YEARS = 8

SERVICE_NAMES = {
    "medical": t("medical care"),
    "psychosocial": t("psychological support"),
    "legal": t("legal help"),
    "security": t("security (police)"),
    "shelter": t("shelter"),
    "reinsertion": t("help to start again (work, school)"),
}

NOT_KNOWN = t("not known")
HOURS_NOT_KNOWN = t("not known yet")  # hours: a plural in French ("pas encore connus")
FREE_NUMBERS = t("Free numbers:")
# A police post is not a safe place when the perpetrator is in the security forces: it is
# offered "if you feel safe there", never as the only place (issue 17, point 5).
BEING_CHECKED = t(
    "These numbers come from public sources and are being checked. If a line does not answer, "
    "go to a health centre (CSRef), or to the police or gendarmerie if you feel safe there."
)

# A source's month, as a reader says it ("juillet 2021"): words of the catalogs, so that a
# language nobody has reviewed falls back to French rather than to machine-made names.
MONTHS = (
    t("January %(year)s"), t("February %(year)s"), t("March %(year)s"), t("April %(year)s"),
    t("May %(year)s"), t("June %(year)s"), t("July %(year)s"), t("August %(year)s"),
    t("September %(year)s"), t("October %(year)s"), t("November %(year)s"),
    t("December %(year)s"),
)  # fmt: skip

# A number as a card she may save in her phone: named by what anyone may have in a contact
# list, never "VBG" or anything else that says why she has it (issue 17, point 3).
CARD_NAMES = {
    "gbv": t("Free line %(number)s"),
    "police": t("Police %(number)s"),
    "gendarmerie": t("Gendarmerie %(number)s"),
}

Entry = Callable[[int, Centre, float], Msg]  # a centre's rank, the centre, its distance in km


def freshness(entry: Centre | Number) -> Msg:
    """How fresh an entry is for the person reading it: checked by someone who called or went
    there (bot/editing.py), or not yet confirmed, whatever the sources say."""
    if entry.verified_by == "phone":
        return t("checked by phone on %(date)s", date=entry.last_verified)
    if entry.verified_by == "visit":
        return t("checked on site on %(date)s", date=entry.last_verified)
    if isinstance(entry, Number):
        return t("not yet confirmed by phone")
    return t("not yet confirmed by a call or a visit")


def source_month(partial: str) -> Text | None:
    """A source's date as a reader says it: its month and year, or its year; None if undated."""
    if not partial:
        return None
    year, _, rest = partial.partition("-")
    if not rest:
        return year
    return t(MONTHS[int(rest[:2]) - 1].msgid, year=int(year))


def old_source(centre: Centre) -> bool:
    """Nobody has called or visited, and its newest source was already over OLD_SOURCE_YEARS
    old when the sources were last read (an undated source counts as old)."""
    if centre.verified_by is not None:
        return False
    if not centre.source_date:
        return True
    year, _, rest = centre.source_date.partition("-")
    month = int(rest[:2]) if rest else 1
    checked = centre.last_verified
    return (checked.year - int(year)) * 12 + checked.month - month > OLD_SOURCE_YEARS * 12


def reported(centre: Centre) -> Msg:
    """What the sources say of a centre and when: "Reported open in July 2021"."""
    when = source_month(centre.source_date)
    if when is None:
        return t("Source undated: the centre may have closed")
    if old_source(centre):
        return t(
            "Reported open in %(when)s, an old source: the centre may have closed since", when=when
        )
    return t("Reported open in %(when)s", when=when)


def distance(centre: Centre, km: float) -> Msg:
    """Worded to match the position: a town centre's is only about right, and close to it she
    is in that town, where the centre's own place is not known yet."""
    rounded = max(1, round(km))
    if centre.coordinates == "facility":
        return t("%(km)s km away", km=rounded)
    if km <= TOWN_KM:
        return t("in %(town)s (exact place not yet known)", town=centre.town)
    return t("about %(km)s km away (measured from the town centre)", km=rounded)


# --- centres ----------------------------------------------------------------------------------


def centre_entry(rank: int, centre: Centre, km: float) -> Msg:
    """A centre for someone who will go there: where, what it offers, its hours and phone."""
    return t(
        "%(rank)s. %(name)s, %(distance)s\n%(details)s",
        rank=rank,
        name=centre.name,
        distance=distance(centre, km),
        details=centre_details(centre),
    )


def centre_details(centre: Centre) -> Msg:
    """Where a centre is, what it offers, its hours and phone, what its source says and when,
    and whether anyone has checked it."""
    return t(
        "%(where)s\nServices: %(services)s\nHours: %(hours)s · Phone: %(phone)s\n"
        "%(reported)s · %(freshness)s",
        where=_where(centre),
        services=_services(centre),
        hours=Localized.of(fr=centre.hours) if centre.hours else HOURS_NOT_KNOWN,
        phone=centre.phone or NOT_KNOWN,
        reported=reported(centre),
        freshness=freshness(centre),
    )


def referral_entry(rank: int, centre: Centre, km: float) -> Msg:
    """A centre to refer someone to, in fewer lines: where and what it offers."""
    return t(
        "%(rank)s. %(name)s (%(where)s), %(distance)s\nServices: %(services)s\n"
        "%(reported)s · %(freshness)s",
        rank=rank,
        name=centre.name,
        where=_where(centre),
        distance=distance(centre, km),
        services=_services(centre),
        reported=reported(centre),
        freshness=freshness(centre),
    )


def _where(centre: Centre) -> str:
    """Where to go: the host facility, the address a source or an editor gave, the town."""
    return ", ".join(part for part in (centre.host_facility, centre.address, centre.town) if part)


def _services(centre: Centre) -> tuple[Msg, ...]:
    return tuple(SERVICE_NAMES[s] for s in centre.services)


def pin(centre: Centre) -> Pin:
    """Only for a centre whose coordinates are its own (`coordinates == "facility"`)."""
    assert centre.location is not None
    latitude, longitude = centre.location
    return Pin(latitude, longitude, centre.name, _where(centre))


def suggested(
    directory: Directory, latitude: float, longitude: float
) -> list[tuple[Centre, float]]:
    """The centres suggested for a point, in the order shown: nearest first, those known only
    from an old source after the others (`old_source`)."""
    found = directory.nearest(latitude, longitude, k=NEAREST)
    return sorted(found, key=lambda pair: old_source(pair[0]))  # stable: nearest first


def nearest_screen(
    directory: Directory,
    latitude: float,
    longitude: float,
    place: Place | None,
    *,
    shared: Msg,
    entry: Entry,
    map_prefix: str,
    none_listed: Msg | None = None,
    far_note: Sequence[Text] = (),
    below: Sequence[Text] = (),
) -> Screen:
    """The nearest centres to a point, as one message: a heading (the place's name, else
    `shared`, the flow's words for a shared location) and an `entry` per centre (`none_listed`
    when there is none), with a "📍 Map" button for each centre whose coordinates are its own
    (its data: `map_prefix` + "map:" + its id). Centres come in the order `suggested` gives.
    When the nearest centre is farther than FAR_KM, or there is none, `far_note` follows the
    entries. `below` always ends the list.

    It takes away the location keyboard (she has answered "where are you?") and is kept: a
    button pressed on it leaves the list in the chat (bot/flows/base.py).
    """
    nearest = suggested(directory, latitude, longitude)
    far = not nearest or min(km for _, km in nearest) > FAR_KM
    heading = t("📍 Nearest centres to %(place)s:", place=place.name) if place else shared
    entries: list[Text] = [entry(i, c, km) for i, (c, km) in enumerate(nearest, 1)]
    if not entries and none_listed is not None:
        entries = [none_listed]
    if far:
        entries.extend(far_note)
    maps = tuple(
        (Button(t("📍 Map %(rank)s: %(name)s", rank=i, name=c.name), f"{map_prefix}map:{c.id}"),)
        for i, (c, _) in enumerate(nearest, 1)
        if c.coordinates == "facility"
    )
    return Screen(
        body=(heading, *entries, *below), buttons=maps, drop_location_button=True, kept=True
    )


def map_pin(directory: Directory, centre_id: str) -> Pin | None:
    """The map pin a "📍 Map" button asks for: None for a centre unknown, or whose position is
    only its town's (a forged or outdated button)."""
    centre = directory.centre(centre_id)
    if centre is None or centre.coordinates != "facility":
        return None
    return pin(centre)


def origin(event: AsyncEventData) -> tuple[float, float, Place | None]:
    """Where to look from, for the three triggers that show the nearest centres: a shared
    location (two coordinates), a place picked from buttons, or the best match for a typed
    name (the transition's condition made sure there is one)."""
    first = argument(event)
    if isinstance(first, PlaceSearch):
        assert first.best is not None
        first = first.best.place
    if isinstance(first, Place):
        return first.latitude, first.longitude, first
    latitude, longitude = event.args
    return float(latitude), float(longitude), None


# --- numbers ----------------------------------------------------------------------------------


def number_line(number: Number) -> Msg:
    return t(
        "• %(number)s: %(purpose)s (%(status)s)",
        number=number.display,
        purpose=number.purpose,
        status=freshness(number),
    )


def number_details(number: Number) -> Msg:
    """A number with what it is for, its hours as its source gives them, the source's date, and
    whether anyone has called it."""
    when = source_month(number.source_date)
    return t(
        "%(number)s: %(name)s\n%(purpose)s\nHours: %(hours)s · %(source)s · %(status)s",
        number=number.display,
        name=number.name,
        purpose=number.purpose,
        hours=Localized.of(fr=number.hours) if number.hours else HOURS_NOT_KNOWN,
        source=t("undated source") if when is None else t("source dated %(when)s", when=when),
        status=freshness(number),
    )


def card_name(number: Number) -> Msg:
    return t(CARD_NAMES[number.kind].msgid, number=number.display)


def card(number: Number) -> Contact:
    """A number as a contact card to tap and call, under a name that gives nothing away."""
    return Contact(phone=number.number, name=card_name(number))
