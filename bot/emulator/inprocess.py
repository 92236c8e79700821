"""The emulator reached in process: a python-telegram-bot transport that hands each request to
`BotApiEmulator.call` instead of sending it over HTTP.

For tests of what the bot says and does (the in-process tier): python-telegram-bot still builds
every request and reads every answer, the emulator still records, checks and answers each call,
only the sockets are gone. What needs the wire — timeouts, dropped connections, the transport's
own behaviour — is tested over HTTP (bot/telegram/transport.py against the emulator's server).
"""

from __future__ import annotations

import json
from typing import Any

from telegram.error import NetworkError
from telegram.request import BaseRequest, RequestData

from bot.emulator.server import BotApiEmulator
from bot.emulator.wire import Upload, typed, with_uploads


class EmulatorRequest(BaseRequest):
    def __init__(self, emulator: BotApiEmulator) -> None:
        self._emulator = emulator

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        pass  # nothing to open

    async def shutdown(self) -> None:
        pass

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        emulator = self._emulator
        if emulator.unreachable:
            raise NetworkError("in-process emulator unreachable")
        if url.startswith(emulator.base_file_url):
            token, _, path = url.removeprefix(emulator.base_file_url).partition("/")
            data = emulator.file(token, path)
            return (404, b"") if data is None else (200, data)
        token, _, name = url.removeprefix(emulator.base_url).partition("/")
        status, body = await emulator.call(token, name, _params(request_data))
        return status, json.dumps(body).encode()


def _params(request_data: RequestData | None) -> dict[str, Any]:
    """The parameters as the emulator's server reads them from an HTTP body."""
    if request_data is None:
        return {}
    params: dict[str, Any] = {
        name: typed(name, raw) for name, raw in request_data.json_parameters.items()
    }
    uploads = {
        name: Upload(
            field=name,
            filename=filename,
            mime_type=mime_type,
            data=content if isinstance(content, bytes) else content.read(),
        )
        for name, (filename, content, mime_type) in (request_data.multipart_data or {}).items()
    }
    return with_uploads(params, uploads)
