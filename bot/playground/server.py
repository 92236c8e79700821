"""The trainers' playground over HTTP: the page, and one emulated world per browser session.

A browser gets a session cookie on its first visit; its world (the real bot and an emulated
Telegram with four people) starts on its first look at the phones and is closed after it has
been idle for a while, or when the room is full and a new trainee arrives. Nothing reaches
Telegram and nothing is kept: each world's database lives in a temporary folder.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from bot.playground.mali import map_data
from bot.playground.scenarios import Scenario, load_scenarios, play_step
from bot.playground.view import world_view
from bot.playground.world import BadAction, Json, World

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
COOKIE = "jigiya_playground"
MAX_SESSIONS = 30  # a room of trainees
IDLE_SECONDS = 30 * 60  # a world nobody looked at for this long may be closed
LONG_POLL_SECONDS = 20.0
STATIC_FILES = {"app.js": "text/javascript", "app.css": "text/css"}


@dataclass
class Session:
    world: World
    generation: int = 1  # counts resets, so the page sees a new world as a change
    used: float = field(default_factory=time.monotonic)
    scenario: Scenario | None = None
    step: int = 0  # steps of the scenario played so far
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class RoomFull(Exception):
    pass


class Playground:
    def __init__(
        self,
        *,
        max_sessions: int = MAX_SESSIONS,
        idle_seconds: float = IDLE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        scenarios: list[Scenario] | None = None,
    ) -> None:
        self.sessions: dict[str, Session] = {}
        self._max = max_sessions
        self._idle = idle_seconds
        self._clock = clock
        self._opening = asyncio.Lock()
        self._starting = 0  # worlds being opened for new sessions
        self._closing = False
        self._scenarios = {s.id: s for s in (load_scenarios() if scenarios is None else scenarios)}
        self._map = map_data()

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024)
        app.router.add_get("/", self._page)
        app.router.add_get("/static/{name}", self._static)
        app.router.add_get("/api/map", self._map_json)
        app.router.add_get("/api/scenarios", self._scenario_list)
        app.router.add_get("/api/view", self._view)
        app.router.add_post("/api/act", self._act)
        app.router.add_post("/api/reset", self._reset)
        app.router.add_post("/api/scenario", self._scenario)
        app.router.add_get("/api/file/{file_id}", self._file)
        app.on_shutdown.append(self._end_long_polls)
        app.on_cleanup.append(self._close_all)
        return app

    # --- sessions -------------------------------------------------------------------------

    async def _session(self, request: web.Request) -> Session:
        key = request.cookies.get(COOKIE, "")
        session = self.sessions.get(key)
        if session is None:
            raise web.HTTPUnauthorized(text="no session: load the page first")
        session.used = self._clock()
        if not session.world.running:  # it was closed to make room, or it stopped
            async with session.lock:
                if not session.world.running:
                    await self._renew(session)
        return session

    async def open_session(self) -> str:
        """A new session with its world; the idlest one is closed if the room is full. Worlds
        open side by side: a room arriving at once waits for the slowest start, not the sum."""
        async with self._opening:
            if len(self.sessions) + self._starting >= self._max:
                if not self.sessions:
                    raise RoomFull
                oldest = min(self.sessions, key=lambda k: self.sessions[k].used)
                if self._clock() - self.sessions[oldest].used < self._idle:
                    raise RoomFull
                await self.sessions.pop(oldest).world.close()
            self._starting += 1
        try:
            world = await World.open()
        finally:
            self._starting -= 1
        key = secrets.token_urlsafe(18)
        self.sessions[key] = Session(world, used=self._clock())
        return key

    async def _renew(self, session: Session) -> None:
        old = session.world
        session.world = await World.open()
        session.generation += 1
        session.scenario, session.step = None, 0
        old.emulator.notifier.notify()  # wakes the page's long poll on the old world
        await old.close()

    async def _end_long_polls(self, _: web.Application) -> None:
        """The server stops: long polls answer now rather than hold the stop for their time."""
        self._closing = True
        for session in self.sessions.values():
            session.world.emulator.notifier.notify()

    async def _close_all(self, _: web.Application) -> None:
        await asyncio.gather(*(s.world.close() for s in self.sessions.values()))
        self.sessions.clear()

    # --- the page -------------------------------------------------------------------------

    async def _page(self, request: web.Request) -> web.StreamResponse:
        response = web.FileResponse(STATIC / "index.html")
        if request.cookies.get(COOKIE) not in self.sessions:
            try:
                key = await self.open_session()
            except RoomFull:
                return web.Response(
                    status=503,
                    text="The room is full (30 trainees): try again in a while.\n"
                    "La salle est pleine (30 personnes) : réessayez dans un moment.\n",
                )
            response.set_cookie(COOKIE, key, httponly=True, samesite="Strict")
        return response

    async def _static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in STATIC_FILES:
            raise web.HTTPNotFound()
        return web.FileResponse(STATIC / name, headers={"Content-Type": STATIC_FILES[name]})

    async def _map_json(self, _: web.Request) -> web.Response:
        return web.json_response(self._map)

    async def _scenario_list(self, _: web.Request) -> web.Response:
        return web.json_response(
            [
                {"id": s.id, "title": s.title, "steps": len(s.steps)}
                for s in self._scenarios.values()
            ]
        )

    # --- the phones -----------------------------------------------------------------------

    async def _view(self, request: web.Request) -> web.Response:
        """The phones as they are, once they differ from what the page saw (`since`)."""
        session = await self._session(request)
        since = request.query.get("since", "")
        world = session.world

        def changed() -> Json | None:
            if session.world is not world or self._closing:
                return {}  # reset meanwhile (the page asks again), or the server stops
            view = {"generation": session.generation, "phones": world_view(world)}
            version = _digest(view)
            return None if version == since else {**view, "version": version}

        found = await world.emulator.notifier.wait_for(changed, LONG_POLL_SECONDS)
        return web.json_response(found or {"version": since, "same": True})

    async def _act(self, request: web.Request) -> web.Response:
        session = await self._session(request)
        action = await _json(request)
        try:
            await session.world.act(str(action.get("phone", "")), action)
        except BadAction as exc:
            return web.json_response({"error": str(exc)}, status=400)
        session.world.emulator.notifier.notify()  # her own message shows at once
        return web.json_response({"ok": True})

    async def _reset(self, request: web.Request) -> web.Response:
        session = await self._session(request)
        async with session.lock:
            await self._renew(session)
        return web.json_response({"ok": True, "generation": session.generation})

    async def _scenario(self, request: web.Request) -> web.Response:
        """{"start": id} begins a scenario in a new world; {"next": true} plays its next step."""
        session = await self._session(request)
        body = await _json(request)
        async with session.lock:
            if "start" in body:
                scenario = self._scenarios.get(str(body["start"]))
                if scenario is None:
                    raise web.HTTPNotFound(text="no such scenario")
                await self._renew(session)
                session.scenario = scenario
                return web.json_response({"ok": True, "step": 0, "steps": len(scenario.steps)})
            scenario = session.scenario
            if scenario is None or session.step >= len(scenario.steps):
                return web.json_response({"error": "no scenario step to play"}, status=400)
            step = scenario.steps[session.step]
            session.step += 1
            try:
                reached = await play_step(session.world, step)
            except BadAction as exc:
                return web.json_response({"error": str(exc)}, status=400)
        return web.json_response(
            {
                "ok": reached,
                "step": session.step,
                "steps": len(scenario.steps),
                "phone": step.phone,
                "seen_by": step.seen_by,
                "say": step.say,
            }
        )

    async def _file(self, request: web.Request) -> web.StreamResponse:
        session = await self._session(request)
        stored = session.world.emulator.world.files.get(request.match_info["file_id"])
        if stored is None:
            raise web.HTTPNotFound()
        name = stored.file_name or f"{stored.kind}.{_extension(stored.mime_type)}"
        disposition = "inline" if stored.kind == "voice" else "attachment"
        return web.Response(
            body=stored.data,
            content_type=stored.mime_type or "application/octet-stream",
            headers={"Content-Disposition": f'{disposition}; filename="{name}"'},
        )


def _digest(view: Json) -> str:
    return hashlib.sha256(json.dumps(view, sort_keys=True).encode()).hexdigest()[:16]


def _extension(mime_type: str | None) -> str:
    return {"audio/wav": "wav", "audio/ogg": "ogg", "image/jpeg": "jpg"}.get(mime_type or "", "bin")


async def _json(request: web.Request) -> Json:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="expected a JSON object")
    return body


def is_loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")


async def serve(host: str, port: int, stop: asyncio.Event) -> None:
    """Serve the playground until `stop` is set."""
    logging.getLogger().setLevel(logging.WARNING)  # not each world's start and stop
    runner = web.AppRunner(Playground().app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    shown = f"[{host}]" if ":" in host else host
    print(f"Jigiya playground: open http://{shown}:{port} in a browser (Ctrl-C to stop).")
    if not is_loopback(host):
        print(
            f"WARNING: listening on {host}, so other machines can reach this page. It is a demo: "
            "nothing reaches Telegram, but anyone on the network can play in it."
        )
    try:
        await stop.wait()
    finally:
        with contextlib.suppress(Exception):
            await runner.cleanup()
