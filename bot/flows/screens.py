"""What a flow returns: screens made of message keys and buttons, with no channel in sight.

A flow never translates: it names messages with `t()` / `tn()` (which the catalog extractor
picks up), and the channel adapter renders them in the person's language.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Msg:
    """A translatable message: gettext msgid (plural form and count optional) and parameters."""

    msgid: str
    params: tuple[tuple[str, object], ...] = ()
    plural: str | None = None
    n: int | None = None


def t(msgid: str, **params: object) -> Msg:
    return Msg(msgid, tuple(params.items()))


def tn(singular: str, plural: str, n: int, **params: object) -> Msg:
    return Msg(singular, (("num", n), *params.items()), plural, n)


Label = Msg | str  # a plain str is shown as is (for example a language's own name)


@dataclass(frozen=True)
class Button:
    label: Label
    data: str  # locale-independent; checked against the flow's allowlist when pressed


@dataclass(frozen=True)
class Screen:
    """One message to show: paragraphs of text and rows of buttons.

    `edit` asks the channel to replace the message whose button was pressed, when there is one,
    instead of adding a new message (fewer messages left on a phone others may read).
    """

    body: tuple[Msg, ...]
    buttons: tuple[tuple[Button, ...], ...] = ()
    edit: bool = True
