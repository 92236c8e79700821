"""How the Bot API reads requests and writes errors.

Telegram accepts parameters in the query string, url-encoded forms, JSON and multipart
bodies. Outside JSON every value is text: clients JSON-encode non-string values (ints,
reply_markup, entities, message_ids) and send strings raw. So a parameter whose Bot API type
is String must stay a string even when it looks like a number, and every other parameter is
JSON-decoded when it parses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.web_request import FileField

# Bot API parameters of type String (or file_id strings), never JSON-decoded.
STRING_PARAMS = frozenset(
    {
        "action",
        "address",
        "animation",
        "audio",
        "business_connection_id",
        "callback_query_id",
        "caption",
        "currency",
        "custom_title",
        "description",
        "document",
        "emoji",
        "error_message",
        "explanation",
        "explanation_parse_mode",
        "file_id",
        "first_name",
        "foursquare_id",
        "foursquare_type",
        "game_short_name",
        "google_place_id",
        "google_place_type",
        "icon_custom_emoji_id",
        "inline_message_id",
        "invite_link",
        "ip_address",
        "language_code",
        "last_name",
        "message_effect_id",
        "name",
        "next_offset",
        "parse_mode",
        "payload",
        "phone_number",
        "photo",
        "pre_checkout_query_id",
        "provider_token",
        "question",
        "question_parse_mode",
        "result_id",
        "secret_token",
        "shipping_query_id",
        "short_description",
        "start_parameter",
        "sticker",
        "text",
        "thumbnail",
        "title",
        "url",
        "vcard",
        "video",
        "video_note",
        "voice",
    }
)


class ApiError(Exception):
    """A Bot API error answer: HTTP status, Telegram's description, optional retry_after."""

    def __init__(self, status: int, description: str, *, retry_after: int | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body

    def __repr__(self) -> str:
        return f"ApiError({self.status}, {self.description!r})"


def bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


def forbidden(detail: str) -> ApiError:
    return ApiError(403, f"Forbidden: {detail}")


@dataclass(frozen=True)
class Upload:
    """A file sent in a multipart body."""

    field: str
    filename: str
    mime_type: str
    data: bytes


def typed(name: str, raw: str) -> Any:
    """Decode one textual parameter the way the Bot API does."""
    if name in STRING_PARAMS:
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


async def read_params(request: web.Request) -> dict[str, Any]:
    """All parameters of a request, body values overriding the query string."""
    params: dict[str, Any] = {name: typed(name, value) for name, value in request.query.items()}
    if not request.can_read_body:
        return params
    if request.content_type == "application/json":
        try:
            body = json.loads(await request.read() or b"{}")
        except ValueError as exc:
            raise bad_request("can't parse JSON encoded request") from exc
        if not isinstance(body, dict):
            raise bad_request("can't parse JSON encoded request")
        for name, value in body.items():
            # Telegram re-reads non-string JSON values as their JSON text.
            raw = value if isinstance(value, str) else json.dumps(value)
            params[name] = typed(name, raw)
        return params
    uploads: dict[str, Upload] = {}
    for name, value in (await request.post()).items():
        if isinstance(value, FileField):
            uploads[name] = Upload(
                field=name,
                filename=value.filename,
                mime_type=value.content_type,
                data=value.file.read(),
            )
        elif isinstance(value, str):
            params[name] = typed(name, value)
    return with_uploads(params, uploads)


def with_uploads(params: dict[str, Any], uploads: dict[str, Upload]) -> dict[str, Any]:
    """Uploaded files among the parameters: by their field's name, and where a value such as
    "attach://file0" points at another multipart field."""
    for name, upload in uploads.items():
        params.setdefault(name, upload)
    for name, value in list(params.items()):
        if isinstance(value, str) and value.startswith("attach://"):
            params[name] = uploads.get(value.removeprefix("attach://"), value)
    return params


class Params:
    """Typed, Telegram-lenient access to decoded parameters."""

    def __init__(self, raw: dict[str, Any]):
        self.raw = raw

    def has(self, name: str) -> bool:
        return self.raw.get(name) not in (None, "")

    def require(self, name: str) -> Any:
        if not self.has(name):
            raise bad_request(f"{name} is empty")
        return self.raw[name]

    def integer(self, name: str) -> int:
        """A required integer; like Telegram, an unparsable value reads as 0."""
        return _as_int(self.require(name))

    def opt_integer(self, name: str) -> int | None:
        return _as_int(self.raw[name]) if self.has(name) else None

    def string(self, name: str) -> str:
        value = self.raw.get(name)
        if value is None:
            return ""
        return value if isinstance(value, str) else json.dumps(value)

    def required_string(self, name: str) -> str:
        self.require(name)
        return self.string(name)

    def opt_string(self, name: str) -> str | None:
        return self.string(name) if self.has(name) else None

    def flag(self, name: str) -> bool:
        value = self.raw.get(name)
        if isinstance(value, str):
            return value.lower() in ("true", "1")
        return bool(value)

    def obj(self, name: str) -> Any:
        """An object or array parameter; text that is not JSON is a Bad Request."""
        value = self.raw.get(name)
        if value == "":
            return None
        if isinstance(value, str):
            raise bad_request(f"can't parse {name} JSON object")
        return value


def _as_int(value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return 0
