"""A loopback Telegram Bot API: the real HTTP path for an unmodified PTB Application.

    async with BotApiEmulator("123456:TEST") as emu:
        app = ApplicationBuilder().token(emu.token).base_url(emu.base_url).build()
        awa = emu.user(1001)
        await awa.send("/start")
        reply = await awa.next_message()

Every request is recorded in `calls` when it arrives and completed (result or error,
`finished`) when it is answered. wait_for_call() reads them with one emulator-wide cursor: it
returns the oldest call that matches and that no earlier wait_for_call() returned, so a call
the bot made before the wait began is still found. A call matches as soon as it arrives; a
predicate is checked again when the call is answered, so `predicate=lambda c: c.ok` waits for
a successful answer. People's next_message() and next_event() have cursors of their own (see
people.py).

Telegram's time is `clock` (clock.py): tests move it with `emu.clock.advance(seconds)`. Flood
control (flood.py) is off unless `flood_limits` is given or set_flood_limits() switches it on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from bot.emulator import methods_bot, methods_chats, methods_messages
from bot.emulator.clock import Clock
from bot.emulator.context import ApiContext, Handler
from bot.emulator.flood import FloodControl, FloodLimits
from bot.emulator.people import FakeGroup, FakeUser
from bot.emulator.records import ApiCall, Notifier, Reader, WebhookAttempt
from bot.emulator.updates import UpdateQueue, WebhookSender
from bot.emulator.wire import ApiError, Params, read_params
from bot.emulator.world import Json, StoredFile, World

logger = logging.getLogger(__name__)

METHODS: dict[str, tuple[str, Handler]] = {
    **methods_bot.METHODS,
    **methods_chats.METHODS,
    **methods_messages.METHODS,
}
UNAUTHORIZED = ApiError(401, "Unauthorized")
NOT_FOUND = ApiError(404, "Not Found")


@dataclass
class _Fault:
    method: str  # lower case
    error: ApiError
    times: int
    chat_id: int | None

    def matches(self, method: str, params: dict[str, Any]) -> bool:
        return self.method == method.lower() and (
            self.chat_id is None or params.get("chat_id") == self.chat_id
        )


class BotApiEmulator:
    def __init__(
        self,
        token: str,
        *,
        username: str = "jigiya_bot",
        host: str = "127.0.0.1",
        port: int = 0,
        webhook_retry_delay: float = 0.2,
        history_limit: int = 10_000,
        clock: Clock | None = None,
        flood_limits: FloodLimits | None = None,
    ):
        bot_id, _, secret = token.partition(":")
        if not bot_id.isdigit() or not secret:
            raise ValueError("a bot token looks like '123456:secret'")
        self.token = token
        self.username = username
        self.host = host
        self.calls: list[ApiCall] = []
        self.injected: deque[Json] = deque(maxlen=history_limit)  # recent updates, newest last
        self.notifier = Notifier()
        self.clock = clock or Clock()
        bot_user = {"id": int(bot_id), "is_bot": True, "first_name": "Jigiya", "username": username}
        self.world = World(bot_user, self.notifier, history_limit, self.clock)
        self.updates = UpdateQueue(self.clock)
        self.webhook = WebhookSender(self.updates, webhook_retry_delay, history_limit, self.clock)
        self.flood = FloodControl(self.clock, flood_limits)
        self._api = ApiContext(self.world, self.updates, self.webhook, self.inject, self.flood)
        self._history_limit = history_limit
        self._port = port
        self._runner: web.AppRunner | None = None
        self._call_seq = 0
        self._call_reader = Reader()
        self._faults: list[_Fault] = []
        self._latency: dict[str | None, float] = {}
        self._return_latency = 0.0
        self._unreachable = False
        self._users: dict[int, FakeUser] = {}
        self._groups: dict[int, FakeGroup] = {}

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=60 * 1024 * 1024)  # uploads go up to 50 MB
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        # Long polls end at stop(); a short grace keeps stop() quick when latency is set.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self._port)
        await site.start()
        self._port = self._runner.addresses[0][1]
        self.updates.reopen()

    async def stop(self) -> None:
        self.updates.close()
        await self.webhook.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self._port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://{self.host}:{self._port}/file/bot"

    # --- the people and the updates -----------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str = "Awa",
        *,
        language_code: str | None = "fr",
        username: str | None = None,
        started: bool = True,
    ) -> FakeUser:
        """A person with a private chat (chat id == user id); same id, same FakeUser.

        started=False: they never opened the bot, so it cannot write to them (403) until they
        write to it.
        """
        if user_id not in self._users:
            person: Json = {"id": user_id, "is_bot": False, "first_name": first_name}
            if username:
                person["username"] = username
            if language_code:
                person["language_code"] = language_code
            self.world.users[user_id] = person
            chat = self.world.add_chat(user_id, "private", person=person, started=started)
            self._users[user_id] = FakeUser(self, person, chat)
        return self._users[user_id]

    def forum(self, chat_id: int, title: str = "Hotline") -> FakeGroup:
        """A forum supergroup where the bot is an administrator."""
        return self._group(chat_id, title, "supergroup", is_forum=True, bot_status="administrator")

    def group(self, chat_id: int, title: str = "Famille") -> FakeGroup:
        """A plain group with the bot as an ordinary member (privacy mode applies)."""
        return self._group(chat_id, title, "group", is_forum=False, bot_status="member")

    def _group(self, chat_id: int, title: str, kind: str, **attrs: Any) -> FakeGroup:
        if chat_id not in self._groups:
            chat = self.world.add_chat(chat_id, kind, title=title, **attrs)
            self._groups[chat_id] = FakeGroup(self, chat)
        return self._groups[chat_id]

    def inject(self, update: Json) -> int:
        """Queue any update; update_id is assigned unless given (a given one is kept)."""
        stored = self.updates.add(dict(update))
        self.injected.append(stored)
        self.webhook.kick()
        return int(stored["update_id"])

    @property
    def confirmed_offset(self) -> int:
        """The highest offset getUpdates confirmed: older updates are gone for good."""
        return self.updates.confirmed_offset

    @property
    def pending_updates(self) -> list[Json]:
        return self.updates.pending

    @property
    def webhook_attempts(self) -> list[WebhookAttempt]:
        return list(self.webhook.attempts)

    # --- faults -------------------------------------------------------------------------

    def fail(
        self,
        method: str,
        *,
        status: int,
        description: str,
        retry_after: int | None = None,
        times: int = 1,
        chat_id: int | None = None,
    ) -> None:
        """Answer the next `times` calls of method (in chat_id, if given) with this error."""
        error = ApiError(status, description, retry_after=retry_after)
        self._faults.append(_Fault(method.lower(), error, times, chat_id))

    def set_latency(self, seconds: float, method: str | None = None) -> None:
        """Delay answers to method (or to every method) by seconds; 0 removes the delay. The
        request takes effect only after the delay: one the client gives up meanwhile has none."""
        key = method.lower() if method else None
        if seconds > 0:
            self._latency[key] = seconds
        else:
            self._latency.pop(key, None)

    def set_return_latency(self, seconds: float) -> None:
        """Delay every answer by seconds *after* the request took effect, as the way back from
        Telegram does: a client that gives up meanwhile has still sent its message."""
        self._return_latency = max(0.0, seconds)

    def set_flood_limits(self, limits: FloodLimits | None) -> None:
        """Switch flood control on with these limits (FloodLimits() for Telegram's), or off."""
        self.flood.set_limits(limits)

    def set_unreachable(self, unreachable: bool) -> None:
        """Drop every connection without an answer, as if the Bot API were down."""
        self._unreachable = unreachable

    # --- reading the calls --------------------------------------------------------------

    async def wait_for_call(
        self,
        method: str,
        *,
        timeout: float = 5.0,
        predicate: Callable[[ApiCall], bool] | None = None,
    ) -> ApiCall:
        """The oldest call of method (matching predicate) not returned by an earlier wait.

        It may still be pending (finished is None) unless the predicate asks for an answer.
        """

        def match(call: ApiCall) -> bool:
            return call.method.lower() == method.lower() and (predicate is None or predicate(call))

        found = await self.notifier.wait_for(
            lambda: self._call_reader.take(self.calls, match), timeout
        )
        if found is None:
            raise TimeoutError(self.explain(f"no {method} call within {timeout}s"))
        return found

    def consume_calls(self) -> None:
        """Make wait_for_call() ignore every call recorded so far."""
        self._call_reader.skip_to(self._call_seq + 1)

    def explain(self, what: str, recent: int = 12) -> str:
        """A timeout message with the latest calls, getUpdates left out."""
        calls = [c for c in self.calls if c.method != "getUpdates"][-recent:]
        lines = "\n  ".join(c.describe() for c in calls) or "(none)"
        return f"{what}. Latest Bot API calls (getUpdates omitted):\n  {lines}"

    def _record(self, method: str, params: dict[str, Any], arrived: float) -> ApiCall:
        self._call_seq += 1
        call = ApiCall(self._call_seq, method, params, arrived)
        self.calls.append(call)
        if len(self.calls) > self._history_limit:
            del self.calls[: len(self.calls) - self._history_limit]
        self.notifier.notify()
        return call

    def _answer(self, call: ApiCall, result: Any) -> tuple[int, Json]:
        call.result, call.finished = result, time.monotonic()
        self.notifier.notify()
        return 200, {"ok": True, "result": result}

    def _refuse(self, call: ApiCall, error: ApiError) -> tuple[int, Json]:
        call.error, call.finished = error, time.monotonic()
        self.notifier.notify()
        return error.status, error.body()

    # --- HTTP ---------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        arrived = time.monotonic()
        name = request.match_info["method"]
        if self._unreachable:
            call = self._record(name, {}, arrived)
            self._refuse(call, ApiError(503, "unreachable: connection dropped"))
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=503)
        try:
            params = await read_params(request)
        except ApiError as error:
            status, body = self._refuse(self._record(name, {}, arrived), error)
            return web.json_response(body, status=status)

        def alive() -> bool:
            return request.transport is not None and not request.transport.is_closing()

        status, body = await self.call(request.match_info["token"], name, params, alive, arrived)
        return web.json_response(body, status=status)

    async def call(
        self,
        token: str,
        name: str,
        params: dict[str, Any],
        alive: Callable[[], bool] = lambda: True,
        arrived: float | None = None,
    ) -> tuple[int, Json]:
        """One Bot API call, served as over HTTP: the status and the JSON body. The in-process
        transport (bot/emulator/inprocess.py) calls this directly; `alive` says whether the
        client still waits."""
        arrived = time.monotonic() if arrived is None else arrived
        if token != self.token:
            return self._refuse(self._record(name, {}, arrived), UNAUTHORIZED)
        entry = METHODS.get(name.lower())
        if entry is None:
            return self._refuse(self._record(name, {}, arrived), NOT_FOUND)
        method, handler = entry
        call = self._record(method, params, arrived)
        try:
            if not await self._delay(method, alive):
                # The client hung up (or was killed) while the answer was held back: like a
                # request that never reached Telegram, it has no effect.
                raise ApiError(499, "client closed the connection before the request was handled")
            self._raise_fault(method, params)
            result = await handler(self._api, Params(params))
            if self._return_latency and method != "getUpdates":
                await asyncio.sleep(self._return_latency)
        except ApiError as error:
            return self._refuse(call, error)
        except Exception:
            logger.exception("emulator failed on %s", method)
            return self._refuse(
                call, ApiError(500, f"Internal Server Error: emulator failed on {method}")
            )
        return self._answer(call, result)

    @property
    def unreachable(self) -> bool:
        return self._unreachable

    async def _delay(self, method: str, alive: Callable[[], bool]) -> bool:
        """Hold the answer back; False if the client went away meanwhile."""
        seconds = self._latency.get(method.lower(), self._latency.get(None, 0.0))
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if not alive():
                return False
            await asyncio.sleep(min(left, 0.05))
        return True

    def _raise_fault(self, method: str, params: dict[str, Any]) -> None:
        for fault in self._faults:
            if fault.matches(method, params):
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                raise fault.error

    async def _download(self, request: web.Request) -> web.StreamResponse:
        if self._unreachable:
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=503)
        stored = self._stored(request.match_info["token"], request.match_info["path"])
        if stored is None:
            return web.json_response(NOT_FOUND.body(), status=404)
        return web.Response(body=stored.data, content_type=stored.mime_type)

    def file(self, token: str, path: str) -> bytes | None:
        """A stored file's bytes, as a download returns them (None: not found)."""
        stored = self._stored(token, path)
        return None if stored is None else stored.data

    def _stored(self, token: str, path: str) -> StoredFile | None:
        stored = next((f for f in self.world.files.values() if f.file_path == path), None)
        return stored if token == self.token else None
