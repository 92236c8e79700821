"""The HTTP client under python-telegram-bot: aiohttp instead of PTB's default httpx.

Each survivor step makes about three Bot API calls, and the benchmark (bench/RESULTS.md) found
most of the bot's CPU in PTB's httpx client; aiohttp, already here for the webhook, parses HTTP
in C and costs a fraction of that per call. PTB supports this through its `BaseRequest`
interface; this class only moves bytes, and PTB still builds every request and reads every
answer, errors included.

Parameters go as one JSON body (the Bot API takes JSON for every method that uploads no file),
encoded by the json module's C encoder: a url-encoded form, PTB's and aiohttp's way, quotes
every character of a text and its keyboard in Python, about a tenth of the bot's CPU per call.
Uploads go as multipart forms.
"""

from __future__ import annotations

import functools
import json
import ssl

import aiohttp
import certifi
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

# PTB's own defaults for its httpx client, in seconds.
READ_TIMEOUT = 5.0
WRITE_TIMEOUT = 5.0
CONNECT_TIMEOUT = 5.0
POOL_TIMEOUT = 1.0
MEDIA_WRITE_TIMEOUT = 20.0

_HEADERS = {"User-Agent": BaseRequest.USER_AGENT}
_JSON_HEADERS = {**_HEADERS, "Content-Type": "application/json"}


class AiohttpRequest(BaseRequest):
    def __init__(self, connection_pool_size: int = 256) -> None:
        self._pool_size = connection_pool_size
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float:
        return READ_TIMEOUT

    async def initialize(self) -> None:
        # Called again after a failed start (bot/app.py retries getMe): one session only.
        if self._session is None or self._session.closed:
            tls = ssl.create_default_context(cafile=certifi.where())
            connector = aiohttp.TCPConnector(limit=self._pool_size, ssl=tls)
            self._session = aiohttp.ClientSession(connector=connector)

    async def shutdown(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

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
        if self._session is None:
            raise RuntimeError("AiohttpRequest is not initialized")
        files = request_data.multipart_data if request_data else None
        body: aiohttp.FormData | bytes | None = None
        headers = _HEADERS
        if files:
            body = aiohttp.FormData(request_data.json_parameters if request_data else {})
            for name, (filename, content, mimetype) in files.items():
                body.add_field(name, content, filename=filename, content_type=mimetype)
        elif request_data is not None:
            body = json.dumps(request_data.parameters, ensure_ascii=False).encode()
            headers = _JSON_HEADERS
        timeout = _timeout(
            _given(read_timeout, READ_TIMEOUT),
            _given(write_timeout, MEDIA_WRITE_TIMEOUT if files else WRITE_TIMEOUT),
            _given(connect_timeout, CONNECT_TIMEOUT),
            _given(pool_timeout, POOL_TIMEOUT),
            upload=bool(files),
        )
        try:
            async with self._session.request(
                method,
                url,
                data=body,
                headers=headers,
                timeout=timeout,
                allow_redirects=False,
            ) as response:
                return response.status, await response.read()
        # The class only, and no chained error: some aiohttp messages quote the URL, which holds
        # the token.
        except TimeoutError:
            raise TimedOut from None
        except (aiohttp.ClientError, ValueError, RuntimeError, OSError) as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}") from None


@functools.lru_cache(maxsize=64)
def _timeout(
    read: float | None,
    write: float | None,
    connect: float | None,
    pool: float | None,
    *,
    upload: bool,
) -> aiohttp.ClientTimeout:
    """aiohttp's timeouts for PTB's four (a handful of combinations, made once each)."""
    # aiohttp counts the wait for a free connection in its connect timeout.
    connect = _sum(connect, pool)
    if not upload:
        # A JSON body (at most a few KB) is handed to the socket at once and never waits to be
        # written, and the wait for its answer is bounded by sock_read, which starts once it is
        # sent: no whole-call timer, a second timer armed and cancelled on every call (about
        # 17 of a call's 480 µs of CPU, bench/README.md).
        return aiohttp.ClientTimeout(connect=connect, sock_read=read)
    # aiohttp has no write timeout: an upload is bounded as a whole by the sum of all of them.
    return aiohttp.ClientTimeout(total=_sum(_sum(connect, write), read), connect=connect,
                                 sock_read=read)  # fmt: skip


def _given(value: object, default: float) -> float | None:
    """A timeout the call gave (None: no limit), else the default."""
    if value is None or isinstance(value, int | float):
        return value
    return default  # BaseRequest.DEFAULT_NONE: the call left it to us


def _sum(first: float | None, second: float | None) -> float | None:
    """None means no limit, so a sum with None has none either."""
    return None if first is None or second is None else first + second
