"""Hypothesis strategies for the hostile-input fuzz (tests/test_fuzz.py).

They describe what people, groups and channels do, not finished updates: an action that needs
Telegram's side of things (a message to press or edit, a code an administrator was just given)
names it by an index, resolved when the action is played against the emulator. Everything drawn
is something Telegram can deliver: updates PTB can parse, text without lone surrogates,
coordinates in range, callback data of 1 to 64 bytes. Within that, the values are hostile:
control, right-to-left and zero-width characters, texts of 4,096 characters, commands with odd
arguments, entities that point outside their text, button data forged or taken from other
people's screens and other flows, every kind of message and update.

Sizes are bounded so that an example stays far below Hypothesis' buffer: a long text is a short
unit repeated, not 4,096 drawn characters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from hypothesis import strategies as st

Json = dict[str, Any]

MAX_TEXT = 4096  # UTF-16 code units, as Telegram counts them
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64  # bytes

# --- characters and texts ------------------------------------------------------------------------

# fmt: off
CONTROL = [chr(c) for c in (*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0))]
BIDI = ["\u200e", "\u200f", "\u061c", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
        "\u2066", "\u2067", "\u2068", "\u2069"]
ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u180e", "\u00ad", "\u034f"]
ODD = [
    "\u0301", "\u0336", "\u2028", "\u2029", "\u3000", "\xa0", "\u2003", "\x85",  # marks, blanks
    "ﬁ", "ｅ", "Ｅｘｉｔ", "²", "³", "¹", "٣", "۷", "߃", "𝟘", "Ⅻ", "①",  # NFKC and digits
    "👩‍👩‍👧", "🏳️‍🌈", "😀", "🆘", "\U0010ffff", "\U000e0001",  # astral, ZWJ, tags
    "مرحبا", "שלום", "ߒߞߏ", "ⵜⵉⴼⵉⵏⴰⵖ", "ɛɔɲŋ", "İı", "ß", "Ω",  # N'Ko, Tifinagh, casefolding
]
# Words the bot matches on: the quick exit, greetings, places; decorated below.
WORDS = [
    "exit", "quitter", "sortir", "bɔ", "bo", "EXIT", "Quitter", "bonjour", "i ni ce", "help",
    "menu", "start", "dɛmɛ", "aide", "Bamako", "bamako", "Bamakoo", "Sévaré", "Sevare", "Mopti",
    "Kayes", "Ségou", "Segou", "Tombouctou", "Kidal", "Kati", "ZZZ", "police", "17", "80333",
]
COMMANDS = [
    "start", "menu", "language", "help", "exit", "quitter", "sortir", "officer", "checklists",
    "invite", "officers", "revoke", "close", "note", "block", "settings", "START", "Exit", "x",
]
ODD_COMMANDS = ["/", "//", "/ ", "/\u3000", "/\x1f", "/\u2028x", " /start", "/start\u200b"]
ROLES = ["police", "gendarmerie", "justice", "POLICE", "army", "", "police extra words"]
ENTITY_TYPES = ["bot_command", "mention", "hashtag", "url", "bold", "spoiler", "blockquote",
                "text_link", "text_mention", "custom_emoji", "pre", "future_entity", ""]
# fmt: on
SPECIAL = [*CONTROL, *BIDI, *ZERO_WIDTH, *ODD]
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

characters = st.one_of(
    st.characters(codec="utf-8"),  # never a lone surrogate: Telegram sends valid UTF-8
    st.sampled_from([c for c in SPECIAL if len(c) == 1]),
)
short_text = st.one_of(
    st.text(characters, min_size=1, max_size=16),
    st.tuples(
        st.text(characters, max_size=6), st.sampled_from(SPECIAL), st.text(characters, max_size=6)
    ).map("".join),
)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def fit(text: str, limit: int = MAX_TEXT) -> str:
    """Cut a text to `limit` UTF-16 code units without splitting a character."""
    out: list[str] = []
    size = 0
    for char in text:
        size += 2 if ord(char) > 0xFFFF else 1
        if size > limit:
            break
        out.append(char)
    return "".join(out)


@st.composite
def long_text(draw: st.DrawFn) -> str:
    """A text of the largest size Telegram delivers: 4,096 UTF-16 code units (or just under,
    when a two-unit character would not fit)."""
    unit = draw(st.one_of(short_text, st.sampled_from(SPECIAL), st.just("x")))
    return fit(unit * (MAX_TEXT // max(1, utf16_len(unit)) + 1))


@st.composite
def decorated_word(draw: st.DrawFn) -> str:
    word = draw(st.sampled_from(WORDS))
    before = draw(st.sampled_from(["", " ", "  ", "\u200b", "\u202e", "¿", "\n", "\u3000"]))
    after = draw(st.sampled_from(["", "!", " ?", ".", "\u200d", "\t", "…", " 🆘"]))
    shape = draw(st.sampled_from(["same", "upper", "title", "fullwidth"]))
    if shape == "upper":
        word = word.upper()
    elif shape == "title":
        word = word.title()
    elif shape == "fullwidth":  # NFKC folds these back to ASCII
        word = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in word)
    return f"{before}{word}{after}"


code_like = st.one_of(
    st.text(st.sampled_from(CODE_ALPHABET), min_size=12, max_size=12).map(
        lambda c: f"{c[:4]}-{c[4:8]}-{c[8:]}"
    ),
    st.text(st.sampled_from(CODE_ALPHABET.lower() + "-01OIl "), max_size=16),
)
# Digits of every kind: str.isdigit() takes "²" for one, int() does not.
unicode_digits = st.text(
    st.one_of(st.sampled_from("0123456789²³¹٣۷߃𝟘①Ⅻ"), st.characters(categories=["Nd", "No"])),
    min_size=1,
    max_size=6,
)


@st.composite
def command_text(draw: st.DrawFn) -> str:
    name = draw(st.one_of(st.sampled_from(COMMANDS), short_text))
    mention = draw(st.sampled_from(["", "@jigiya_bot", "@JIGIYA_BOT", "@other_bot", "@"]))
    argument = draw(
        st.one_of(
            st.just(""),
            code_like,
            st.sampled_from(ROLES),
            unicode_digits,
            st.integers(-(10**20), 10**20).map(str),
            short_text,
        )
    )
    separator = draw(st.sampled_from([" ", "  ", "\n", "\u00a0", "\t"]))
    return fit(f"/{name}{mention}{separator + argument if argument else ''}")


texts = st.one_of(
    short_text, decorated_word(), command_text(), st.sampled_from(ODD_COMMANDS), long_text()
)


@st.composite
def entities(draw: st.DrawFn, text_size: int) -> list[Json]:
    """Message entities, often malformed: offsets and lengths outside the text, unknown types,
    entities without the fields their type needs."""
    bounds = st.one_of(
        st.integers(0, text_size), st.integers(-5, -1), st.integers(text_size, 10**6)
    )
    found: list[Json] = []
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(ENTITY_TYPES))
        entity: Json = {"type": kind, "offset": draw(bounds), "length": draw(bounds)}
        if kind == "text_link" and draw(st.booleans()):
            entity["url"] = draw(st.sampled_from(["https://example.org", "tg://user?id=1", "x"]))
        if kind == "text_mention" and draw(st.booleans()):
            entity["user"] = {"id": draw(st.integers(1, 2**40)), "is_bot": False, "first_name": "A"}
        if kind == "custom_emoji" and draw(st.booleans()):
            entity["custom_emoji_id"] = draw(short_text)
        if kind == "pre" and draw(st.booleans()):
            entity["language"] = draw(short_text)
        found.append(entity)
    return found


# --- message contents ----------------------------------------------------------------------------


def _file(kind: str, n: int) -> Json:
    return {"file_id": f"fuzz-{kind}-{n}", "file_unique_id": f"FZ{kind[:2]}{n}"}


def text_content_of(text: str) -> Json:
    return {"text": text}


@st.composite
def text_content(draw: st.DrawFn) -> Json:
    text = draw(texts)
    content: Json = {"text": text}
    if draw(st.integers(0, 3)) == 0:
        content["entities"] = draw(entities(utf16_len(text)))
    return content


@st.composite
def media_content(draw: st.DrawFn) -> Json:
    n = draw(st.integers(1, 10**6))
    kind = draw(
        st.sampled_from(
            ["photo", "sticker", "voice", "video", "video_note", "audio", "document", "animation"]
        )
    )
    content: Json
    if kind == "photo":
        sizes = [{**_file("photo", n), "width": w, "height": w} for w in (90, 320, 1280)]
        content = {"photo": sizes[: draw(st.integers(1, 3))]}
    elif kind == "sticker":
        sticker_type = draw(st.sampled_from(["regular", "mask", "custom_emoji"]))
        emoji = draw(st.sampled_from(["👍", "🆘", "\u200d"]))
        content = {
            "sticker": {
                **_file("sticker", n), "width": 512, "height": 512, "type": sticker_type,
                "is_animated": draw(st.booleans()), "is_video": False, "emoji": emoji,
            }
        }  # fmt: skip
    elif kind == "voice":
        content = {"voice": {**_file("voice", n), "duration": draw(st.integers(0, 10**6))}}
    elif kind == "video":
        content = {"video": {**_file("video", n), "width": 1, "height": 1, "duration": 1}}
    elif kind == "video_note":
        content = {"video_note": {**_file("vnote", n), "length": 240, "duration": 1}}
    elif kind == "audio":
        content = {"audio": {**_file("audio", n), "duration": 1, "title": draw(short_text)}}
    elif kind == "document":
        name = draw(st.one_of(short_text, st.sampled_from(["../../etc/passwd", "a.exe", ""])))
        content = {"document": {**_file("doc", n), "file_name": name}}
    else:
        animation = {**_file("anim", n), "width": 1, "height": 1, "duration": 1}
        content = {"animation": animation, "document": _file("anim", n)}
    if kind not in ("sticker", "video_note") and draw(st.booleans()):
        caption = fit(draw(texts), MAX_CAPTION)
        content["caption"] = caption
        if draw(st.booleans()):
            content["caption_entities"] = draw(entities(utf16_len(caption)))
    if draw(st.integers(0, 4)) == 0:
        content["media_group_id"] = str(n)
    if draw(st.integers(0, 4)) == 0:
        content["has_media_spoiler"] = True
    return content


coordinates = st.tuples(
    st.one_of(st.floats(-90, 90), st.sampled_from([-90.0, 0.0, -0.0, 90.0, 12.6])),
    st.one_of(st.floats(-180, 180), st.sampled_from([-180.0, 0.0, 180.0, -8.0])),
)
in_mali = st.tuples(st.floats(10.2, 25.0), st.floats(-12.2, 4.2)).map(
    lambda spot: {"location": {"latitude": spot[0], "longitude": spot[1]}}
)


@st.composite
def location(draw: st.DrawFn, *, live: bool | None = None) -> Json:
    latitude, longitude = draw(coordinates)
    spot: Json = {"latitude": latitude, "longitude": longitude}
    if live if live is not None else draw(st.booleans()):
        spot["live_period"] = draw(st.sampled_from([60, 900, 86400, 0x7FFFFFFF]))
        spot["heading"] = draw(st.integers(1, 360))
    if draw(st.booleans()):
        spot["horizontal_accuracy"] = draw(st.floats(0, 1500))
    return spot


@st.composite
def place_content(draw: st.DrawFn) -> Json:
    """Locations, venues, contacts, and what else a person can share or send."""
    kind = draw(st.sampled_from(["location", "venue", "contact", "dice", "poll", "game", "story"]))
    if kind == "location":
        return {"location": draw(location())}
    if kind == "venue":
        spot = draw(location(live=False))
        venue = {"location": spot, "title": draw(short_text), "address": draw(short_text)}
        return {"venue": venue, "location": spot}
    if kind == "contact":
        contact: Json = {"phone_number": draw(short_text), "first_name": draw(short_text)}
        if draw(st.booleans()):
            contact["user_id"] = draw(st.integers(1, 2**40))
        if draw(st.booleans()):
            contact["vcard"] = draw(short_text)
        return {"contact": contact}
    if kind == "dice":
        emoji = draw(st.sampled_from(["🎲", "🎯", "🏀", "⚽", "🎳", "🎰"]))
        return {"dice": {"emoji": emoji, "value": draw(st.integers(1, 64))}}
    if kind == "poll":
        options = [
            {"text": draw(short_text), "voter_count": 0, "persistent_id": str(i)} for i in (1, 2)
        ]
        poll_type = draw(st.sampled_from(["regular", "quiz"]))
        poll = {
            "id": str(draw(st.integers(1, 10**12))), "question": draw(short_text),
            "options": options, "total_voter_count": 0, "is_closed": False, "is_anonymous": True,
            "type": poll_type, "allows_multiple_answers": False, "allows_revoting": False,
            "members_only": False,
        }  # fmt: skip
        return {"poll": poll}
    if kind == "game":
        photo = [{**_file("game", 1), "width": 1, "height": 1}]
        return {"game": {"title": draw(short_text), "description": "d", "photo": photo}}
    story_chat = {"id": -1001000000001, "type": "channel", "title": "Stories"}
    return {"story": {"chat": story_chat, "id": draw(st.integers(1, 10**6))}}


@st.composite
def service_content(draw: st.DrawFn) -> Json:
    """What clients put in a private chat without the person typing: shares, web apps, timers;
    a message kind newer than the bot's library; a text of nothing but invisible characters."""
    kind = draw(st.sampled_from(["write", "users", "chat", "web_app", "timer", "unknown", "blank"]))
    if kind == "write":
        return {"write_access_allowed": {"from_request": draw(st.booleans())}}
    if kind == "users":
        return {"users_shared": {"request_id": 1, "users": [{"user_id": 42}]}}
    if kind == "chat":
        return {"chat_shared": {"request_id": 2, "chat_id": -1001000000002}}
    if kind == "web_app":
        return {"web_app_data": {"data": draw(texts), "button_text": draw(short_text)}}
    if kind == "timer":
        return {"message_auto_delete_timer_changed": {"message_auto_delete_time": 86400}}
    if kind == "unknown":
        return {"brand_new_kind": {"anything": draw(short_text), "nested": [1, {"a": None}]}}
    return {"text": draw(st.sampled_from(["\u200b", "\u2060\u200d", "\u202e", "\x00", "\x7f"]))}


# fmt: off
FORWARDS = [
    {"type": "hidden_user", "date": 1, "sender_user_name": "\u202eevil"},
    {"type": "user", "date": 1, "sender_user": {"id": 9, "is_bot": True, "first_name": "B"}},
    {"type": "channel", "date": 1, "message_id": 5,
     "chat": {"id": -1001000000003, "type": "channel", "title": "C"}},
]
# fmt: on


@st.composite
def extras(draw: st.DrawFn) -> Json:
    """Fields a message may carry besides its content: forwards, quotes, future fields."""
    kind = draw(st.sampled_from(["", "", "", "forward", "quote", "via", "future", "protected"]))
    if kind == "forward":
        return {"forward_origin": draw(st.sampled_from(FORWARDS))}
    if kind == "quote":
        return {"quote": {"text": draw(short_text), "position": draw(st.integers(0, 10**6))}}
    if kind == "via":
        return {"via_bot": {"id": 8, "is_bot": True, "first_name": "Via", "username": "via_bot"}}
    if kind == "future":
        return {"x_future_field": {"a": draw(short_text), "b": [None, True, 1.5]}}
    if kind == "protected":
        return {"has_protected_content": True}
    return {}


message_content = st.one_of(
    text_content(), text_content(), text_content(), media_content(), place_content(),
    service_content(),
)  # fmt: skip


@st.composite
def contents(draw: st.DrawFn) -> Json:
    return {**draw(message_content), **draw(extras())}


# --- callback data -------------------------------------------------------------------------------

# fmt: off
FLOW_DATA = [
    "lang:fr", "lang:bm", "lang:en", "lang:xx", "lang:", "lang:fr:fr", "nav:menu",
    "nav:emergency", "nav:numbers", "nav:about", "nav:talk", "nav:centre", "nav:regions",
    "nav:language", "nav:nowhere", "nav:", "talk:agree", "case:end", "exit", "region:0",
    "region:19", "region:20", "region:-1", "region:", "region:00", "place:bamako", "place:kati",
    "place:nowhere", "place:", "case:claim:1", "case:release:1", "case:close:1",
    "case:claim:999999999999", "case:claim:x", "off:menu", "off:leave", "off:language",
    "off:lang:en", "off:list", "off:decide", "off:qback", "off:refer", "off:regions",
    "off:numbers", "off:open:first-contact", "off:open:vslc", "off:open:nope",
    "off:tick:first-contact:1", "off:tick:nope:x", "off:why:vslc:1", "off:src:vslc",
    "off:print:first-contact", "off:finish:vslc", "off:ans:0:yes", "off:ans:9:no", "off:ans:0",
    "off:region:3", "off:region:99", "off:place:kati", "off:", "off:::", ":", "::::",
]
DATA_PREFIXES = [
    "region:", "off:region:", "off:ans:", "off:ans:0:", "case:claim:", "case:close:",
    "case:release:", "place:", "off:place:", "off:tick:", "off:open:", "lang:", "nav:",
    "off:lang:",
]
# Where people head: the deeper screens of both flows, the hotline, the quick exit. (🆘 and the
# free numbers, answered with six messages each, are reached by the other kinds of press.)
DESTINATIONS = [
    "lang:", "nav:menu", "nav:centre", "nav:regions", "region:", "place:", "nav:about",
    "nav:talk", "talk:agree", "nav:language", "case:end", "exit", "off:open:", "off:tick:",
    "off:why:", "off:src:", "off:print:", "off:finish:", "off:decide", "off:ans:", "off:qback",
    "off:refer", "off:regions", "off:region:", "off:place:", "off:list", "off:menu", "off:leave",
    "off:language", "off:lang:",
]
# fmt: on


def clip_data(data: str) -> str:
    """Callback data as Telegram carries it: 1 to 64 bytes of UTF-8."""
    return data.encode("utf-8")[:MAX_CALLBACK_DATA].decode("utf-8", "ignore") or "x"


forged_data = st.one_of(
    st.sampled_from(FLOW_DATA),
    st.tuples(st.sampled_from(DATA_PREFIXES), st.one_of(unicode_digits, short_text)).map(
        lambda pair: clip_data(pair[0] + pair[1])
    ),
    short_text.map(clip_data),
    st.binary(min_size=1, max_size=MAX_CALLBACK_DATA).map(
        lambda raw: clip_data(raw.decode("latin-1"))
    ),
)


@dataclass(frozen=True)
class OwnButton:
    """A button of the pressed message (the n-th, cyclically); a seen one if it has none."""

    index: int


@dataclass(frozen=True)
class Wanted:
    """A button of the pressed message whose data starts with `prefix` (the n-th of them,
    cyclically), as someone heading somewhere presses; an own button if none has it."""

    prefix: str
    index: int = 0


@dataclass(frozen=True)
class SeenButton:
    """Data of a button the bot showed anyone: another person, an officer, the staff."""

    index: int


@dataclass(frozen=True)
class Forged:
    data: str


@dataclass(frozen=True)
class NoData:
    """A game button: game_short_name and no data."""


DataChoice = OwnButton | Wanted | SeenButton | Forged | NoData

data_choices: st.SearchStrategy[DataChoice] = st.one_of(
    st.builds(OwnButton, st.integers(0, 20)),
    st.builds(OwnButton, st.integers(0, 20)),
    st.builds(OwnButton, st.integers(0, 20)),
    st.builds(SeenButton, st.integers(0, 10**6)),
    st.builds(Forged, forged_data),
    st.builds(Forged, forged_data),
    st.just(NoData()),
)

# Which message is pressed: her latest screen, one of the bot's, any, one Telegram reports as
# inaccessible (date 0), or none (a button under an inline message).
Target = Literal["latest", "bot", "any", "inaccessible", "inline"]
targets: st.SearchStrategy[Target] = st.sampled_from(
    ["latest", "latest", "latest", "bot", "any", "inaccessible", "inline"]
)

# --- what a person does in her private chat ------------------------------------------------------


@dataclass(frozen=True)
class Send:
    content: Json
    reply_to: int | None = None  # index of a message of the chat to reply to


@dataclass(frozen=True)
class Edit:
    """She edits one of her messages (the n-th, cyclically): new text, or a live location."""

    index: int
    content: Json


@dataclass(frozen=True)
class Press:
    target: Target
    index: int
    data: DataChoice


@dataclass(frozen=True)
class Block:
    """She blocks the bot (my_chat_member: kicked); her next action unblocks it first."""


@dataclass(frozen=True)
class SendThenBlock:
    """She writes and blocks the bot before it answers: the answer meets 403."""

    content: Json


@dataclass(frozen=True)
class Redeem:
    """/start or /officer with a code an administrator gave out (the n-th, cyclically), used or
    not; `deep_link` is the t.me/<bot>?start=<code> form."""

    index: int
    deep_link: bool


@dataclass(frozen=True)
class React:
    index: int
    emoji: str


PersonAction = Send | Edit | Press | Block | SendThenBlock | Redeem | React

person_actions: st.SearchStrategy[PersonAction] = st.one_of(
    st.builds(Send, contents(), st.none() | st.integers(0, 30)),
    st.builds(Send, contents()),
    st.builds(Press, targets, st.integers(0, 30), data_choices),
    st.builds(Press, targets, st.integers(0, 30), data_choices),
    st.builds(Press, targets, st.integers(0, 30), data_choices),
    st.builds(
        Edit,
        st.integers(0, 30),
        st.one_of(text_content(), location(live=True).map(lambda spot: {"location": spot})),
    ),
    st.just(Block()),
    st.builds(SendThenBlock, contents()),
    st.builds(Redeem, st.integers(0, 30), st.booleans()),
    st.builds(React, st.integers(0, 30), st.sampled_from(["👍", "❤", "🔥", "🆘"])),
)

# What someone finding her way types: places, greetings, the exit words, the commands.
journey_texts = st.one_of(
    decorated_word(),
    st.sampled_from(
        ["/start", "/menu", "/language", "/help", "/exit", "/officer", "/checklists", "Kati",
         "kalaban koro", "Sikaso", "Tombouctou", "Gao", "I ni ce", "sortir"]
    ),
).map(text_content_of)  # fmt: skip
heading_somewhere = st.builds(
    Press,
    st.just("latest"),
    st.integers(0, 30),
    st.builds(Wanted, st.sampled_from(DESTINATIONS), st.integers(0, 30)),
)
# Someone finding her way through the screens: mostly pressing what the bot shows her.
journey_actions: st.SearchStrategy[PersonAction] = st.one_of(
    heading_somewhere,
    heading_somewhere,
    st.builds(
        Press, st.just("latest"), st.integers(0, 30), st.builds(OwnButton, st.integers(0, 30))
    ),
    st.builds(Send, journey_texts),
    st.builds(Send, in_mali),
    person_actions,
)

admin_commands = st.one_of(
    st.tuples(
        st.sampled_from(["/invite", "/invite@jigiya_bot", "/INVITE"]), st.sampled_from(ROLES)
    ).map(lambda p: f"{p[0]} {p[1]}".strip()),
    st.just("/officers"),
    st.one_of(unicode_digits, code_like, st.integers(-5, 10**12).map(str), short_text).map(
        lambda argument: fit(f"/revoke {argument}")
    ),
)
admin_actions: st.SearchStrategy[PersonAction] = st.one_of(
    admin_commands.map(lambda text: Send(text_content_of(text))),
    admin_commands.map(lambda text: Send(text_content_of(text))),
    person_actions,
)


@st.composite
def profiles(draw: st.DrawFn) -> Json:
    """Who a person is to Telegram; the id is given when the script is played."""
    person: Json = {"is_bot": False, "first_name": fit(draw(short_text), 64)}
    if draw(st.booleans()):
        person["last_name"] = fit(draw(short_text), 64)
    if draw(st.booleans()):
        person["username"] = draw(st.sampled_from(["aminata_k", "x" * 32, "jigiya_bot"]))
    language = draw(
        st.sampled_from(["fr", "en", "bm", None, "fr-FR", "en-US", "ar", "", "zz", "i-klingon"])
    )
    if language is not None:
        person["language_code"] = language
    if draw(st.integers(0, 4)) == 0:
        person["is_premium"] = True
    return person


@dataclass(frozen=True)
class PersonScript:
    profile: Json
    actions: tuple[PersonAction, ...]


def person_scripts(
    actions: st.SearchStrategy[PersonAction], *, min_size: int = 1, max_size: int = 3
) -> st.SearchStrategy[PersonScript]:
    return st.builds(
        PersonScript, profiles(), st.lists(actions, min_size=min_size, max_size=max_size).map(tuple)
    )


# fmt: off
# Whole routes through the screens, so that the deep ones are reached: the handover to a
# person, a town's centres, a checklist ticked and finished, the decision aid to its result.
SURVIVOR_ROUTES = [
    ("lang:", "nav:talk", "talk:agree"),  # a case: its staff group takes 20 messages a minute
    ("lang:", "nav:talk", "nav:menu"),
    ("lang:", "nav:centre", "nav:regions", "region:", "place:"),
    ("lang:", "nav:centre", "nav:regions", "region:", "place:"),
    ("lang:", "nav:regions", "region:", "nav:regions"),
    ("lang:", "nav:about", "nav:language", "lang:"),
    ("lang:", "nav:centre", "exit"),
    ("lang:", "nav:centre", "nav:regions", "exit"),
]
OFFICER_ROUTES = [
    ("off:language", "off:lang:", "off:leave"),  # first: Hypothesis' simplest example takes it
    ("off:list", "off:open:", "off:tick:", "off:tick:", "off:finish:"),
    ("off:decide", "off:ans:", "off:ans:", "off:ans:", "off:ans:", "off:ans:"),
    ("off:refer", "off:regions", "off:region:", "off:place:"),
    ("off:list", "off:open:", "off:why:", "off:src:", "off:print:"),
]
# fmt: on
openings = st.sampled_from(["/start", "bonjour", "I ni ce", "Hello", "/start@jigiya_bot", "aide"])


@st.composite
def route_scripts(draw: st.DrawFn, routes: list[tuple[str, ...]], *, opening: bool) -> PersonScript:
    route = draw(st.sampled_from(routes))
    first = [Send(text_content_of(draw(openings)))] if opening else []
    presses = [Press("latest", 0, Wanted(step, draw(st.integers(0, 30)))) for step in route]
    after = draw(st.lists(journey_actions, max_size=1))
    return PersonScript(draw(profiles()), (*first, *presses, *after))


# --- groups, channels and the staff group --------------------------------------------------------


@dataclass(frozen=True)
class AddBot:
    """Someone adds the bot to the group or channel; `then_removed`: and removes it again
    before the bot could act."""

    status: Literal["member", "administrator"]
    then_removed: bool = False


@dataclass(frozen=True)
class RemoveBot:
    status: Literal["left", "kicked"]


@dataclass(frozen=True)
class GroupSend:
    content: Json
    sender: Literal["member", "bot", "anonymous"] = "member"
    edited: bool = False


@dataclass(frozen=True)
class GroupPress:
    data: DataChoice


GroupEventKind = Literal[
    "chat_member", "join_request", "reaction", "reaction_count", "new_members", "left_member",
    "title", "pinned", "migrate", "boost", "removed_boost",
]  # fmt: skip


@dataclass(frozen=True)
class GroupEvent:
    """Membership changes, join requests, reactions, service messages, boosts."""

    kind: GroupEventKind


GroupAction = AddBot | RemoveBot | GroupSend | GroupPress | GroupEvent

group_events: st.SearchStrategy[GroupEventKind] = st.sampled_from(
    ["chat_member", "join_request", "reaction", "reaction_count", "new_members", "left_member",
     "title", "pinned", "migrate", "boost", "removed_boost"]
)  # fmt: skip
group_actions: st.SearchStrategy[GroupAction] = st.one_of(
    st.builds(AddBot, st.sampled_from(["member", "administrator"]), st.booleans()),
    st.builds(AddBot, st.sampled_from(["member", "administrator"])),
    st.builds(RemoveBot, st.sampled_from(["left", "kicked"])),
    st.builds(
        GroupSend, contents(), st.sampled_from(["member", "bot", "anonymous"]), st.booleans()
    ),
    st.builds(GroupPress, data_choices),
    st.builds(GroupEvent, group_events),
)


@dataclass(frozen=True)
class GroupScript:
    kind: Literal["group", "supergroup", "forum", "channel"]
    title: str
    actions: tuple[GroupAction, ...]


group_scripts = st.builds(
    GroupScript,
    st.sampled_from(["group", "supergroup", "forum", "channel"]),
    short_text.map(lambda t: fit(t, 128)),
    st.lists(group_actions, min_size=1, max_size=5).map(tuple),
)

Thread = Literal["general", "case", "any_topic", "missing"]


@dataclass(frozen=True)
class StaffSend:
    """A staff member writes in the staff group: in General, in an open case's topic or any
    topic (the n-th, cyclically), or in a topic that does not exist."""

    thread: Thread
    index: int
    text: str


@dataclass(frozen=True)
class StaffPress:
    """A staff member presses a button under a bot message of the staff group."""

    index: int
    data: DataChoice


@dataclass(frozen=True)
class StaffStatus:
    """A my_chat_member update about the staff group itself (Telegram's side unchanged)."""

    status: Literal["member", "administrator"]


StaffAction = StaffSend | StaffPress | StaffStatus

staff_texts = st.one_of(
    st.sampled_from(
        ["/note private", "/close", "/close@jigiya_bot", "/block", "/block 3", "/block 999",
         "/block x", "/block ²", "/note", "/closed"]
    ),
    texts,
)  # fmt: skip
# A message in an open case's topic is answered in the staff group, whose 20 messages a minute
# it shares with the case traffic: seconds each, so such messages are one action in six.
staff_actions: st.SearchStrategy[StaffAction] = st.one_of(
    st.builds(
        StaffSend,
        st.sampled_from(["general", "any_topic", "missing"]),
        st.integers(0, 50),
        staff_texts,
    ),
    st.builds(StaffSend, st.just("case"), st.integers(0, 50), staff_texts),
    st.builds(StaffPress, st.integers(0, 50), data_choices),
    st.builds(StaffPress, st.integers(0, 50), data_choices),
    st.builds(StaffPress, st.integers(0, 50), data_choices),
    st.builds(StaffStatus, st.sampled_from(["member", "administrator"])),
)

# --- updates that belong to no chat ---------------------------------------------------------------

OtherKind = Literal[
    "inline_query", "chosen_inline_result", "shipping_query", "pre_checkout_query", "poll",
    "poll_answer", "business_connection", "deleted_business_messages", "purchased_paid_media",
    "inline_button",
]  # fmt: skip


@dataclass(frozen=True)
class Other:
    """An update of a kind the bot has no use for, or a button under an inline message."""

    kind: OtherKind
    text: str


other_kinds: st.SearchStrategy[OtherKind] = st.sampled_from(
    ["inline_query", "chosen_inline_result", "shipping_query", "pre_checkout_query", "poll",
     "poll_answer", "business_connection", "deleted_business_messages", "purchased_paid_media",
     "inline_button"]
)  # fmt: skip
other_updates = st.builds(Other, other_kinds, short_text.map(lambda t: fit(t, 64)))

# --- one example ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Script:
    """What happens in one example, played side by side: each person, group or channel acts
    in order, the next action once the bot has handled the previous one."""

    survivors: tuple[PersonScript, ...]
    officer: PersonScript
    admin: tuple[PersonAction, ...]
    staff: tuple[StaffAction, ...]
    groups: tuple[GroupScript, ...]
    others: tuple[Other, ...]

    def __repr__(self) -> str:
        """A short account, one line per actor (a full repr runs to tens of kilobytes)."""

        def line(who: str, actions: tuple[object, ...]) -> str:
            return f"  {who}: " + "; ".join(_short(a) for a in actions)

        lines = [line(f"survivor {i}", p.actions) for i, p in enumerate(self.survivors)]
        lines += [line("officer", self.officer.actions), line("admin", self.admin)]
        lines += [line("staff", self.staff), line("others", self.others)]
        lines += [line(f"{g.kind} {i}", g.actions) for i, g in enumerate(self.groups)]
        return "Script(\n" + "\n".join(lines) + "\n)"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


def _short(value: object, limit: int = 90) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


scripts = st.builds(
    Script,
    st.lists(
        st.one_of(
            person_scripts(person_actions),
            person_scripts(journey_actions, min_size=2, max_size=4),
            route_scripts(SURVIVOR_ROUTES, opening=True),
        ),
        min_size=30,
        max_size=60,
    ).map(tuple),
    st.one_of(
        route_scripts(OFFICER_ROUTES, opening=False), person_scripts(journey_actions, max_size=4)
    ),
    st.lists(admin_actions, max_size=3).map(tuple),
    st.lists(staff_actions, max_size=3).map(tuple),
    st.lists(group_scripts, max_size=24).map(tuple),
    st.lists(other_updates, max_size=24).map(tuple),
)
