"""The trainers' playground without a browser: sessions, their worlds, reset, a room of 30, the
phones as the page reads them, and the command line's defaults."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.__main__ import _parser
from bot.demo import DEMO_TOKEN, SURVIVOR_ID
from bot.playground.scenarios import check_all
from bot.playground.server import MAX_SESSIONS, Playground, serve
from bot.playground.view import phone_view

Json = dict[str, Any]
Client = TestClient[web.Request, web.Application]
Clients = Callable[[], Awaitable[Client]]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def playground(clock: Clock) -> Playground:
    return Playground(clock=clock)


@pytest.fixture
async def browsers(playground: Playground) -> AsyncIterator[Clients]:
    """Browsers on one playground, each with its own cookies."""
    server = TestServer(playground.app(), host="127.0.0.1")
    await server.start_server()
    clients: list[Client] = []

    async def browser() -> Client:
        client: Client = TestClient(server)
        await client.start_server()
        clients.append(client)
        return client

    yield browser
    for client in clients:
        await client.close()
    await server.close()


async def visit(client: Client) -> int:
    response = await client.get("/")
    return response.status


async def phones(client: Client, since: str = "") -> Json:
    response = await client.get("/api/view", params={"since": since})
    assert response.status == 200
    return dict(await response.json())


async def act(client: Client, **action: object) -> int:
    response = await client.post("/api/act", json=action)
    return response.status


async def bot_texts(client: Client, phone: str, expected: str) -> list[str]:
    """The texts on a phone once one holds `expected` (the long poll brings each change)."""
    version = ""
    for _ in range(20):
        view = await phones(client, version)
        version = view["version"]
        texts = [m.get("text", "") for m in view["phones"][phone]["messages"]]
        if any(expected in text for text in texts):
            return texts
    raise AssertionError(f"{expected!r} never shown on the {phone}'s phone")


async def test_each_browser_has_its_own_world_and_reset_starts_it_over(browsers: Clients) -> None:
    first, second = await browsers(), await browsers()
    assert await visit(first) == 200
    assert await visit(second) == 200
    assert await act(first, phone="survivor", type="text", text="/start") == 200
    await bot_texts(first, "survivor", "Choisissez votre langue")
    other = await phones(second)
    assert all(not view["messages"] for view in other["phones"].values())

    reset = await first.post("/api/reset", json={})
    assert (await reset.json())["generation"] == 2
    after = await phones(first)
    assert after["generation"] == 2
    assert not after["phones"]["survivor"]["messages"]


async def test_a_room_of_thirty_plays_at_once_and_a_thirty_first_is_told_it_is_full(
    browsers: Clients, clock: Clock, playground: Playground
) -> None:
    room = [await browsers() for _ in range(MAX_SESSIONS)]
    assert await asyncio.gather(*(visit(b) for b in room)) == [200] * MAX_SESSIONS
    assert len({id(s.world) for s in playground.sessions.values()}) == MAX_SESSIONS
    await asyncio.gather(*(act(b, phone="survivor", type="text", text="/start") for b in room))
    for browser in room:
        await bot_texts(browser, "survivor", "Choisissez votre langue")

    late = await browsers()
    response = await late.get("/")
    assert response.status == 503
    assert "full" in await response.text()

    clock.now += 31 * 60  # the room left its phones alone for half an hour
    assert await visit(late) == 200
    assert len(playground.sessions) == MAX_SESSIONS


async def test_the_page_and_its_assets_come_from_this_machine(browsers: Clients) -> None:
    client = await browsers()
    page = await client.get("/")
    html = await page.text()
    assert "/static/app.js" in html
    for asset, kind in (("app.js", "text/javascript"), ("app.css", "text/css")):
        response = await client.get(f"/static/{asset}")
        assert response.status == 200
        assert response.headers["Content-Type"].startswith(kind)
        html += await response.text()
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in html
    assert (await client.get("/static/../server.py")).status == 404
    mali = await (await client.get("/api/map")).json()
    assert {"Mopti", "Bamako", "Kidal"} <= {town["name"] for town in mali["towns"]}


async def test_without_the_page_there_is_no_session_and_bad_actions_are_refused(
    browsers: Clients,
) -> None:
    client = await browsers()
    assert (await client.get("/api/view")).status == 401
    await visit(client)
    assert await act(client, phone="nobody", type="text", text="hi") == 400
    assert await act(client, phone="survivor", type="press", message_id=99, data="x") == 400
    assert await act(client, phone="survivor", type="text", text="") == 400
    assert await act(client, phone="staff", type="voice") == 400
    assert await act(client, phone="survivor", type="location", latitude=95, longitude=0) == 400
    assert await act(client, phone="survivor", type="location", latitude="x", longitude=0) == 400
    bad = await client.post("/api/act", data=b"not json")
    assert bad.status == 400


async def test_the_phones_show_files_voice_notes_pins_cards_edits_and_deletions(
    browsers: Clients, playground: Playground
) -> None:
    client = await browsers()
    await visit(client)
    await act(client, phone="survivor", type="voice")
    (session,) = playground.sessions.values()

    async def bot(method: str, **params: object) -> int:
        """What the bot can send, sent as the bot sends it: through the Bot API."""
        status, body = await session.world.emulator.call(
            DEMO_TOKEN, method, {"chat_id": SURVIVOR_ID, **params}
        )
        assert status == 200, body
        return int(body["result"]["message_id"]) if isinstance(body["result"], dict) else 0

    where = {"latitude": 14.49, "longitude": -4.19}
    await bot("sendVenue", **where, title="OSC", address="Sévaré", protect_content=True)
    await bot("sendContact", phone_number="80333", first_name="Police")
    await bot("editMessageText", message_id=await bot("sendMessage", text="a"), text="b")
    gone = await bot("sendMessage", text="c")
    await bot("deleteMessage", message_id=gone)

    voice, venue, contact, edited, deleted = phone_view(session.world, "survivor")["messages"]
    assert voice["mine"]
    assert venue["venue"] == {"title": "OSC", "address": "Sévaré", **where}
    assert venue["protected"]
    assert not contact["protected"]
    assert contact["contact"] == {"name": "Police", "phone": "80333"}
    assert (edited["text"], edited["edited"]) == ("b", True)
    assert deleted == {"id": gone, "deleted": True, "thread_id": None}

    audio = await client.get(f"/api/file/{voice['voice']['file_id']}")
    assert audio.status == 200
    assert audio.headers["Content-Type"] == "audio/wav"
    assert (await audio.read()).startswith(b"RIFF")


async def test_a_scenario_plays_step_by_step_with_its_narration(browsers: Clients) -> None:
    client = await browsers()
    await visit(client)
    started = await client.post("/api/scenario", json={"start": "quick-exit"})
    assert (await started.json())["steps"] == 4
    said = []
    for _ in range(4):
        step = await (await client.post("/api/scenario", json={"next": True})).json()
        assert step["ok"], step
        said.append(step["say"]["en"])
    assert "harmless line" in said[-1]
    done = await client.post("/api/scenario", json={"next": True})
    assert done.status == 400


async def test_every_scenario_reaches_the_screens_it_names() -> None:
    """What `python -m bot content check` plays."""
    assert await check_all() == []


async def test_a_step_whose_screen_never_comes_is_named(tmp_path: Path) -> None:
    (tmp_path / "lost.toml").write_text(
        '[title]\nfr = "Perdue"\nen = "Lost"\n'
        '[[steps]]\nphone = "survivor"\nsend = "/start"\nscreen = "Choisissez votre langue"\n'
        'say = { fr = "Début.", en = "Start." }\n'
        '[[steps]]\nphone = "survivor"\npress = "Français"\nscreen = "Au revoir"\n'
        'say = { fr = "Français.", en = "French." }\n',
        encoding="utf-8",
    )
    assert await check_all(tmp_path, timeout=0.5) == [
        "lost.toml step 2: the survivor's phone never showed 'Au revoir'"
    ]
    (tmp_path / "lost.toml").write_text('[title]\nfr = "x"\nen = "x"\n[[steps]]\nphone = "cat"\n')
    assert await check_all(tmp_path) == [
        "lost.toml: step 1: phone must be one of survivor, officer, editor, translator, staff"
    ]


def test_the_playground_listens_on_this_machine_unless_told_otherwise() -> None:
    args = _parser().parse_args(["demo", "--web"])
    assert (args.listen, args.port) == ("127.0.0.1", 8080)
    args = _parser().parse_args(["demo", "--web", "--port", "9000", "--listen", "0.0.0.0"])
    assert (args.listen, args.port) == ("0.0.0.0", 9000)


@pytest.mark.parametrize(("host", "warned"), [("127.0.0.1", False), ("0.0.0.0", True)])
async def test_listening_beyond_this_machine_prints_that_it_is_a_demo(
    host: str, warned: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    stop = asyncio.Event()
    stop.set()  # starts, says where, and stops
    await serve(host, 0, stop)
    out = capsys.readouterr().out
    assert "open http://" in out
    assert ("WARNING" in out and "It is a demo" in out) == warned
