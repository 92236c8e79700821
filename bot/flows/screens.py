"""What a flow returns: messages made of message keys, buttons, contact cards and map pins, with
no channel in sight.

A flow never translates: it names messages with `t()` / `tn()` (which the catalog extractor picks
up) or carries content text per language (`Localized`), and the channel adapter renders them in
the person's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from state.directory_log import Action, ItemKind


@dataclass(frozen=True)
class Msg:
    """A translatable message: gettext msgid (plural form and count optional) and parameters.

    Parameter values may themselves be `Msg` or `Localized` (rendered first), dates (written
    out in the person's language) or plain values.
    """

    msgid: str
    params: tuple[tuple[str, object], ...] = ()
    plural: str | None = None
    n: int | None = None


def t(msgid: str, **params: object) -> Msg:
    return Msg(msgid, tuple(params.items()))


def tn(singular: str, plural: str, n: int, **params: object) -> Msg:
    return Msg(singular, (("num", n), *params.items()), plural, n)


@dataclass(frozen=True)
class Localized:
    """Text from the content files, given per language; a missing language falls back to French."""

    texts: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, **texts: str) -> Localized:
        return cls(tuple((lang, text) for lang, text in texts.items() if text))


Text = Msg | Localized | str  # a plain str is shown as is (a language's own name, a place name)


@dataclass(frozen=True)
class Button:
    label: Text
    data: str  # locale-independent; checked against the flow's allowlist when pressed


@dataclass(frozen=True)
class Screen:
    """One message: paragraphs of text and rows of buttons.

    `edit` lets the channel replace the message whose button was pressed (fewer messages left on
    a phone others may read). `ask_location` adds a way to share a location (on Telegram, a reply
    keyboard button); `drop_location_button` takes that way away again. `shareable` lets the
    person forward or save it (an invitation code to pass on): never a survivor's screen.
    `silent` sends it without a notification sound (a message that may reach her while she is
    not in the app, on a phone someone near her may hear). `kept` marks an answer she may still
    need (the nearest centres, the numbers): a button pressed on it brings the next screen below
    it instead of in its place (bot/flows/base.py).
    """

    body: tuple[Text, ...]
    buttons: tuple[tuple[Button, ...], ...] = ()
    edit: bool = True
    ask_location: bool = False
    drop_location_button: bool = False
    shareable: bool = False
    silent: bool = False
    kept: bool = False


@dataclass(frozen=True, kw_only=True)
class Document(Screen):
    """A document to keep, print or attach to the case file (a PDF on Telegram, bot/pdf.py);
    never anything about the survivor.

    `body` holds its lines, the first its title. A channel that cannot send files shows it as
    a message."""

    filename: str
    caption: Text


@dataclass(frozen=True)
class Picture:
    """A PNG image someone asked for (an administrator's report chart); never to a survivor,
    who gets no image she did not ask for."""

    png: bytes
    caption: Text


@dataclass(frozen=True)
class Contact:
    """A phone number as a card the person can tap to call."""

    phone: str
    name: Text


@dataclass(frozen=True)
class Pin:
    """A place on a map, only for coordinates that are the place's own (never a town centroid)."""

    latitude: float
    longitude: float
    title: Text
    address: Text


@dataclass(frozen=True)
class Handover:
    """The person agreed to talk to hotline staff: the channel opens (or reuses) her case."""


@dataclass(frozen=True)
class Record:
    """An editor's act on the directory (bot/flows/editor.py): the core writes it to the log,
    adding who acted, then shows `done`, or why it could not be done."""

    action: Action
    item_kind: ItemKind
    item_id: str
    done: Msg
    field: str | None = None
    before: str | None = None
    after: str | None = None
    reason: str | None = None
    proposal: int | None = None


@dataclass(frozen=True)
class Voice:
    """A voice note Telegram already holds (no audio is kept on our disk), sent only when the
    person asked to hear it."""

    file_id: str
    duration: int | None = None  # seconds, as Telegram shows it before it plays


@dataclass(frozen=True)
class Proposal:
    """A translator's proposal (bot/flows/translator.py): the core writes it to the log with
    who proposed it and their role, then shows `done`. `content`: the forms of a translation
    as a JSON list, or a voice note's file_id."""

    kind: Literal["text", "voice"]
    language: str
    msgid: str
    content: str
    done: Msg
    duration: int | None = None


@dataclass(frozen=True)
class Decision:
    """A reviewer's approval or rejection (bot/flows/review.py) of the pending work named by
    `key` ("dir:12", "tr:5"); the core checks the reviewer may decide it, then shows `done`."""

    key: str
    approve: bool
    done: Msg


Output = Screen | Contact | Pin | Picture | Handover | Record | Voice | Proposal | Decision
