"""Telegram's text formatting: parse_mode markup to plain text plus message entities.

Entity offsets and lengths count UTF-16 code units, as in the Bot API. Error texts and their
"byte offset" (UTF-8 bytes of the markup) follow Telegram's, so a bot that sends broken markup
meets the same "can't parse entities" error here as in production.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.emulator.wire import bad_request

Entity = dict[str, Any]


class MarkupError(Exception):
    pass


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def render(text: str, parse_mode: str | None, entities: Any) -> tuple[str, list[Entity]]:
    """The text and entities Telegram stores for a message; explicit entities win."""
    mode = (parse_mode or "").lower()
    try:
        if entities is not None:
            plain, found = text, _checked_entities(entities)
        elif mode == "html":
            plain, found = parse_html(text)
        elif mode == "markdownv2":
            plain, found = parse_markdown_v2(text)
        elif mode == "markdown":
            plain, found = parse_markdown(text)
        elif mode:
            raise bad_request("unsupported parse_mode")
        else:
            plain, found = text, []
    except MarkupError as exc:
        raise bad_request(f"can't parse entities: {exc}") from exc
    return _strip(plain, found)


def _checked_entities(entities: Any) -> list[Entity]:
    if not isinstance(entities, list) or not all(
        isinstance(e, dict)
        and isinstance(e.get("type"), str)
        and isinstance(e.get("offset"), int)
        and isinstance(e.get("length"), int)
        for e in entities
    ):
        raise bad_request("can't parse entities JSON object")
    return [dict(e) for e in entities]


def _strip(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """Telegram trims surrounding whitespace and shifts entities to match."""
    stripped = text.strip()
    if not stripped:
        return "", []
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    size = utf16_len(stripped)
    kept = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, size)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    kept.sort(key=lambda e: (e["offset"], -e["length"]))
    return stripped, kept


@dataclass
class _Open:
    """An entity whose end is not reached yet."""

    name: str
    start: int
    byte_offset: int
    attrs: dict[str, str] = field(default_factory=dict)


class _Text:
    """Plain text being built, with its length in UTF-16 units."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.size += utf16_len(text)

    def value(self) -> str:
        return "".join(self.parts)


def _byte_offset(markup: str, index: int) -> int:
    return len(markup[:index].encode())


def _link_entity(url: str, start: int, length: int) -> Entity:
    if url.startswith("tg://user?id=") and url[13:].isdigit():
        user = {"id": int(url[13:]), "is_bot": False, "first_name": ""}
        return {"type": "text_mention", "offset": start, "length": length, "user": user}
    return {"type": "text_link", "offset": start, "length": length, "url": url}


# --- HTML -------------------------------------------------------------------------------

_HTML_TYPES = {
    "a": "text_link",
    "b": "bold",
    "blockquote": "blockquote",
    "code": "code",
    "del": "strikethrough",
    "em": "italic",
    "i": "italic",
    "ins": "underline",
    "pre": "pre",
    "s": "strikethrough",
    "span": "spoiler",
    "strike": "strikethrough",
    "strong": "bold",
    "tg-emoji": "custom_emoji",
    "tg-spoiler": "spoiler",
    "u": "underline",
}
_HTML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _html_char(markup: str, i: int) -> tuple[str, int] | None:
    """Decode the character reference at markup[i] ('&'); None leaves it literal."""
    j = i + 1
    if markup.startswith("#", j):
        j += 1
        hexa = markup.startswith(("x", "X"), j)
        j += 1 if hexa else 0
        digits_start = j
        while j < len(markup) and markup[j] in ("0123456789abcdefABCDEF" if hexa else "0123456789"):
            j += 1
        if j == digits_start or j - i >= 10:
            return None
        code = int(markup[digits_start:j], 16 if hexa else 10)
        if not 0 < code < 0x10FFFF:
            return None
        char = chr(code)
    else:
        while j < len(markup) and markup[j].isascii() and markup[j].isalpha():
            j += 1
        named = _HTML_NAMED.get(markup[i + 1 : j])
        if named is None:
            return None
        char = named
    return char, j + 1 if markup.startswith(";", j) else j


def _html_attrs(markup: str, j: int, tag: _Open) -> int:
    """Read the attributes of an open tag into tag.attrs; return the index after '>'."""
    n = len(markup)
    unclosed = MarkupError(f"Unclosed start tag at byte offset {tag.byte_offset}")
    while True:
        while j < n and markup[j].isspace():
            j += 1
        if j >= n:
            raise unclosed
        if markup[j] == ">":
            return j + 1
        name_start = j
        while j < n and not markup[j].isspace() and markup[j] not in "=>":
            j += 1
        name = markup[name_start:j].lower()
        while j < n and markup[j].isspace():
            j += 1
        if j >= n or markup[j] != "=":
            raise MarkupError(
                f'Expected equal sign in declaration of an attribute of the tag "{tag.name}" '
                f"at byte offset {tag.byte_offset}"
            )
        j += 1
        while j < n and markup[j].isspace():
            j += 1
        if j >= n:
            raise unclosed
        if markup[j] in "'\"":
            quote, j = markup[j], j + 1
            value = _Text()
            while j < n and markup[j] != quote:
                decoded = _html_char(markup, j) if markup[j] == "&" else None
                if decoded:
                    value.add(decoded[0])
                    j = decoded[1]
                else:
                    value.add(markup[j])
                    j += 1
            if j >= n:
                raise unclosed
            tag.attrs[name] = value.value()
            j += 1
        else:
            token_start = j
            while j < n and (markup[j].isalnum() or markup[j] in ".-"):
                j += 1
            if j < n and not markup[j].isspace() and markup[j] != ">":
                raise MarkupError(
                    f"Unexpected end of name token at byte offset "
                    f"{_byte_offset(markup, token_start)}"
                )
            tag.attrs[name] = markup[token_start:j].lower()


def _html_entity(tag: _Open, end: int, stack: list[_Open]) -> Entity | None:
    length = end - tag.start
    kind = _HTML_TYPES[tag.name]
    if tag.name == "code" and stack and stack[-1].name == "pre":
        # <pre><code class="language-x"> is one pre entity with a language.
        language = tag.attrs.get("class", "")
        if language.startswith("language-"):
            stack[-1].attrs["language"] = language.removeprefix("language-")
            return None
    if length <= 0:
        return None
    entity: Entity = {"type": kind, "offset": tag.start, "length": length}
    if tag.name == "a":
        return _link_entity(tag.attrs.get("href", ""), tag.start, length)
    if tag.name == "pre" and tag.attrs.get("language"):
        entity["language"] = tag.attrs["language"]
    elif tag.name == "blockquote" and "expandable" in tag.attrs:
        entity["type"] = "expandable_blockquote"
    elif tag.name == "tg-emoji":
        entity["custom_emoji_id"] = tag.attrs.get("emoji-id", "")
    return entity


def parse_html(markup: str) -> tuple[str, list[Entity]]:
    out = _Text()
    stack: list[_Open] = []
    entities: list[Entity] = []
    i, n = 0, len(markup)
    while i < n:
        char = markup[i]
        if char == "&" and (decoded := _html_char(markup, i)):
            out.add(decoded[0])
            i = decoded[1]
            continue
        if char != "<":
            out.add(char)
            i += 1
            continue
        at = _byte_offset(markup, i)
        closing = markup.startswith("</", i)
        j = i + 2 if closing else i + 1
        while j < n and not markup[j].isspace() and markup[j] != ">":
            j += 1
        name = markup[i + (2 if closing else 1) : j].lower()
        if closing:
            while j < n and markup[j].isspace():
                j += 1
            if j >= n:
                raise MarkupError(f"Unclosed end tag at byte offset {at}")
            if not stack:
                raise MarkupError(f"Unexpected end tag at byte offset {at}")
            tag = stack.pop()
            if name and name != tag.name:
                raise MarkupError(
                    f'Unmatched end tag at byte offset {at}, expected "</{tag.name}>", '
                    f'found "</{name}>"'
                )
            if entity := _html_entity(tag, out.size, stack):
                entities.append(entity)
            i = j + 1
            continue
        if j >= n:
            raise MarkupError(f"Unclosed start tag at byte offset {at}")
        if name not in _HTML_TYPES:
            raise MarkupError(f'Unsupported start tag "{name}" at byte offset {at}')
        tag = _Open(name, out.size, at)
        i = _html_attrs(markup, j, tag)
        if name == "span" and tag.attrs.get("class") != "tg-spoiler":
            raise MarkupError(f'Tag "span" must have class "tg-spoiler" at byte offset {at}')
        stack.append(tag)
    if stack:
        raise MarkupError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    return out.value(), entities


# --- MarkdownV2 -------------------------------------------------------------------------

_MD2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!\\")
_MD2_TYPES = {
    "*": ("bold", "Bold"),
    "_": ("italic", "Italic"),
    "__": ("underline", "Underline"),
    "~": ("strikethrough", "Strikethrough"),
    "||": ("spoiler", "Spoiler"),
    "[": ("text_link", "TextUrl"),
    "![": ("custom_emoji", "CustomEmoji"),
}


def _md2_until(markup: str, i: int, end: str) -> tuple[str, int] | None:
    """Unescaped text from i up to `end`; returns it with the index after `end`."""
    out = _Text()
    n = len(markup)
    while i < n:
        if markup[i] == "\\" and i + 1 < n and 0 < ord(markup[i + 1]) <= 126:
            out.add(markup[i + 1])
            i += 2
        elif markup.startswith(end, i):
            return out.value(), i + len(end)
        else:
            out.add(markup[i])
            i += 1
    return None


def _md2_code(markup: str, i: int, out: _Text, entities: list[Entity]) -> int:
    at = _byte_offset(markup, i)
    if markup.startswith("```", i):
        found = _md2_until(markup, i + 3, "```")
        if found is None:
            raise MarkupError(f"Can't find end of Pre entity at byte offset {at}")
        content, after = found
        first_line, newline, rest = content.partition("\n")
        entity: Entity = {"type": "pre"}
        if newline and first_line and not any(c.isspace() for c in first_line):
            entity["language"], content = first_line, rest
        elif newline and not first_line:
            content = rest
    else:
        found = _md2_until(markup, i + 1, "`")
        if found is None:
            raise MarkupError(f"Can't find end of Code entity at byte offset {at}")
        content, after = found
        entity = {"type": "code"}
    if content:
        entities.append({**entity, "offset": out.size, "length": utf16_len(content)})
        out.add(content)
    return after


def _md2_link_end(markup: str, i: int, tag: _Open, out: _Text, entities: list[Entity]) -> int:
    """Close [text](url) or ![emoji](tg://emoji?id=…) at markup[i] == ']'."""
    length = out.size - tag.start
    if not markup.startswith("(", i + 1):
        return i + 1
    found = _md2_until(markup, i + 2, ")")
    if found is None:
        raise MarkupError(f"Can't find end of a URL at byte offset {_byte_offset(markup, i + 1)}")
    url, after = found
    if length > 0 and tag.name == "![":
        emoji_id = url.partition("id=")[2]
        entities.append(
            {
                "type": "custom_emoji",
                "offset": tag.start,
                "length": length,
                "custom_emoji_id": emoji_id,
            }
        )
    elif length > 0:
        entities.append(_link_entity(url, tag.start, length))
    return after


def parse_markdown_v2(markup: str) -> tuple[str, list[Entity]]:
    out = _Text()
    stack: list[_Open] = []
    entities: list[Entity] = []
    quote_start: int | None = None
    i, n = 0, len(markup)
    while i < n:
        char = markup[i]
        line_start = i == 0 or markup[i - 1] == "\n"
        if line_start and quote_start is not None and char != ">":
            entities.append(_quote(quote_start, out.size - 1))
            quote_start = None
        if line_start and char == ">":
            quote_start = out.size if quote_start is None else quote_start
            i += 1
            continue
        if char == "\\" and i + 1 < n and 0 < ord(markup[i + 1]) <= 126:
            out.add(markup[i + 1])
            i += 2
            continue
        if char == "`":
            i = _md2_code(markup, i, out, entities)
            continue
        if char == "]" and stack and stack[-1].name in ("[", "!["):
            i = _md2_link_end(markup, i, stack.pop(), out, entities)
            continue
        token = next((t for t in ("__", "||", "![") if markup.startswith(t, i)), None)
        token = token or (char if char in "*_~[" else None)
        if token is None:
            if char in _MD2_RESERVED:
                raise MarkupError(
                    f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
                )
            out.add(char)
            i += 1
            continue
        if stack and stack[-1].name == token and token not in ("[", "!["):
            tag = stack.pop()
            if out.size > tag.start:
                kind = _MD2_TYPES[token][0]
                entities.append({"type": kind, "offset": tag.start, "length": out.size - tag.start})
        else:
            stack.append(_Open(token, out.size, _byte_offset(markup, i)))
        i += len(token)
    if stack:
        tag = stack[-1]
        raise MarkupError(
            f"Can't find end of {_MD2_TYPES[tag.name][1]} entity at byte offset {tag.byte_offset}"
        )
    if quote_start is not None:
        entities.append(_quote(quote_start, out.size))
    return out.value(), [e for e in entities if e["length"] > 0]


def _quote(start: int, end: int) -> Entity:
    return {"type": "blockquote", "offset": start, "length": end - start}


# --- legacy Markdown --------------------------------------------------------------------

_MD_TYPES = {"*": "bold", "_": "italic", "`": "code"}


def parse_markdown(markup: str) -> tuple[str, list[Entity]]:
    """Legacy Markdown: no nesting, no escaping inside entities."""
    out = _Text()
    entities: list[Entity] = []
    i, n = 0, len(markup)
    while i < n:
        char = markup[i]
        if char == "\\" and i + 1 < n and markup[i + 1] in "_*`[":
            out.add(markup[i + 1])
            i += 2
            continue
        if char not in "_*`[":
            out.add(char)
            i += 1
            continue
        unclosed = MarkupError(
            f"Can't find end of the entity starting at byte offset {_byte_offset(markup, i)}"
        )
        entity: Entity
        if char == "[":
            close = markup.find("]", i + 1)
            if close < 0:
                raise unclosed
            content, after = markup[i + 1 : close], close + 1
            url = ""
            if markup.startswith("(", after):
                url_end = markup.find(")", after)
                if url_end < 0:
                    raise unclosed
                url, after = markup[after + 1 : url_end], url_end + 1
            entity = _link_entity(url, out.size, utf16_len(content)) if url else {}
        elif markup.startswith("```", i):
            close = markup.find("```", i + 3)
            if close < 0:
                raise unclosed
            content, after = markup[i + 3 : close], close + 3
            language, newline, rest = content.partition("\n")
            entity = {"type": "pre"}
            if newline and language and " " not in language:
                entity["language"], content = language, rest
        else:
            close = markup.find(char, i + 1)
            if close < 0:
                raise unclosed
            content, after = markup[i + 1 : close], close + 1
            entity = {"type": _MD_TYPES[char]}
        if content and entity:
            entities.append({**entity, "offset": out.size, "length": utf16_len(content)})
        out.add(content)
        i = after
    return out.value(), entities
