"""The nearest centres and the phone numbers, as both the survivor flow and officer mode show them.

What is the same for a survivor looking for help and an officer referring someone lives here:
how a centre, a number and a number's card are written, the map pin, when a centre is "far",
and where to look from. What differs (the words addressed to each, which numbers, what follows
the list) is given by the flow. Like every flow, nothing here knows about a channel.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from transitions.extensions.asyncio import AsyncEventData

from bot.content import Centre, Directory, Number, Place, PlaceSearch
from bot.flows.base import argument
from bot.flows.screens import Contact, Localized, Msg, Output, Pin, Screen, Text, t

NEAREST = 3  # centres listed
FAR_KM = 100  # beyond this, the nearest centre is said to be far and other help is given

SERVICE_NAMES = {
    "medical": t("medical care"),
    "psychosocial": t("psychological support"),
    "legal": t("legal help"),
    "security": t("security (police)"),
    "shelter": t("shelter"),
    "reinsertion": t("help to start again (work, school)"),
}

NOT_KNOWN = t("not known")
FREE_NUMBERS = t("Free numbers:")
BEING_CHECKED = t(
    "These numbers come from public sources and are being checked. If a line does not answer, "
    "go to the nearest police station, gendarmerie brigade or health centre (CSRef)."
)

Entry = Callable[[int, Centre, float], Msg]  # a centre's rank, the centre, its distance in km


def freshness(entry: Centre | Number) -> Msg:
    """How fresh an entry is for the person reading it: checked by someone who called or went
    there (bot/editing.py), or not yet confirmed, whatever the sources say."""
    if entry.verified_by == "phone":
        return t("checked by phone on %(date)s", date=entry.last_verified)
    if entry.verified_by == "visit":
        return t("checked on site on %(date)s", date=entry.last_verified)
    return t("not yet confirmed")


def distance(centre: Centre, km: float) -> Msg:
    """Worded to match the position: a town centre's is only about right."""
    rounded = max(1, round(km))
    if centre.coordinates == "facility":
        return t("%(km)s km away", km=rounded)
    return t("about %(km)s km away", km=rounded)


def position(centre: Centre) -> Msg:
    if centre.coordinates == "facility":
        return t("Exact position")
    return t("Approximate position (town centre)")


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
    """Where a centre is, what it offers, its hours and phone, how exact and fresh that is."""
    return t(
        "%(where)s\nServices: %(services)s\nHours: %(hours)s · Phone: %(phone)s\n"
        "%(position)s · %(freshness)s",
        where=_where(centre),
        services=_services(centre),
        hours=Localized.of(fr=centre.hours) if centre.hours else NOT_KNOWN,
        phone=centre.phone or NOT_KNOWN,
        position=position(centre),
        freshness=freshness(centre),
    )


def referral_entry(rank: int, centre: Centre, km: float) -> Msg:
    """A centre to refer someone to, in fewer lines: where and what it offers."""
    return t(
        "%(rank)s. %(name)s (%(where)s), %(distance)s\nServices: %(services)s\n"
        "%(position)s · %(freshness)s",
        rank=rank,
        name=centre.name,
        where=_where(centre),
        distance=distance(centre, km),
        services=_services(centre),
        position=position(centre),
        freshness=freshness(centre),
    )


def _where(centre: Centre) -> str:
    return f"{centre.host_facility}, {centre.town}" if centre.host_facility else centre.town


def _services(centre: Centre) -> tuple[Msg, ...]:
    return tuple(SERVICE_NAMES[s] for s in centre.services)


def pin(centre: Centre) -> Pin:
    """Only for a centre whose coordinates are its own (`coordinates == "facility"`)."""
    assert centre.location is not None
    latitude, longitude = centre.location
    return Pin(latitude, longitude, centre.name, f"{centre.host_facility}, {centre.town}")


def nearest_outputs(
    directory: Directory,
    latitude: float,
    longitude: float,
    place: Place | None,
    *,
    shared: Msg,
    entry: Entry,
    none_listed: Msg | None = None,
    far_note: Sequence[Text] = (),
    below: Sequence[Text] = (),
    far_message: Sequence[Text] = (),
) -> list[Output]:
    """The nearest centres to a point: one message with a heading (the place's name, else
    `shared`, the flow's words for a shared location) and an `entry` per centre (`none_listed`
    when there is none), then a map pin for the first centre when its coordinates are its own.

    When the nearest centre is farther than FAR_KM, or there is none, `far_note` is added under
    the entries and `far_message` is sent as a message of its own at the end. `below` always
    ends the list.
    """
    nearest = directory.nearest(latitude, longitude, k=NEAREST)
    far = not nearest or nearest[0][1] > FAR_KM
    heading = t("📍 Nearest centres to %(place)s:", place=place.name) if place else shared
    entries: list[Text] = [entry(i, c, km) for i, (c, km) in enumerate(nearest, 1)]
    if not entries and none_listed is not None:
        entries = [none_listed]
    if far:
        entries.extend(far_note)
    outputs: list[Output] = [
        Screen(body=(heading, *entries, *below), edit=False, drop_location_button=True)
    ]
    if nearest and nearest[0][0].coordinates == "facility":
        outputs.append(pin(nearest[0][0]))
    if far and far_message:
        outputs.append(Screen(body=tuple(far_message), edit=False))
    return outputs


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
    return t(
        "%(number)s: %(name)s\n%(purpose)s\nHours: %(hours)s · %(status)s",
        number=number.display,
        name=number.name,
        purpose=number.purpose,
        hours=Localized.of(fr=number.hours) if number.hours else NOT_KNOWN,
        status=freshness(number),
    )


def card(number: Number) -> Contact:
    """A number as a contact card to tap and call."""
    return Contact(phone=number.number, name=number.name)
