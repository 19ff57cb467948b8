"""Every starter app serves under `dosim dev`: real HTTP, and real WebSockets where it has them.

Each folder of ``examples/`` with a ``wrangler.toml`` is served as ``dosim dev <app>
--in-memory --port <free>`` serves it (the same ``DevServer``, uvicorn on a free 127.0.0.1
port), all of them at once, each in a thread of this process (one module-scoped fixture;
every start and stop is bounded). The command line itself is run as a subprocess by
test_dev_server.py; a subprocess per app here took 4 to 15 s to start on two cores. What to request
comes from the app's README, not from a list here: the rows of its route table.

* Every app: at least one documented ``GET`` route answers ``200`` over HTTP (placeholders
  such as ``<name>`` are filled in with ``demo``; query parameters with placeholders are
  dropped).
* Apps whose README documents a route taking ``Upgrade: websocket``: a real WebSocket
  (the ``websockets`` library) is opened on it and one message exchanged — the documented
  keep-alive ``ping``, answered ``pong`` by the runtime (other messages the app sends
  first are skipped), or, for an app without one, the first message the app sends; and
  where the README documents a ``bad_message`` error, a message that is not JSON, which
  the app's own ``webSocketMessage`` answers with that error.
"""

from __future__ import annotations

import http.client
import json
import re
import sys
import threading
import time
from pathlib import Path

import pytest

if sys.platform == "emscripten":
    pytest.skip("the dev server needs sockets and threads", allow_module_level=True)
pytest.importorskip("uvicorn")

import uvicorn  # noqa: E402
from dev_helpers import free_port  # noqa: E402

from dosim.dev.server import DevServer  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
APPS = sorted(path.parent for path in EXAMPLES.glob("*/wrangler.toml"))
START_TIMEOUT = 15.0  # all servers start at once; together they take about a second
STOP_TIMEOUT = 10.0
TIMEOUT = 5.0
SAMPLE = "demo"  # what a placeholder such as <name> becomes

ROW = re.compile(r"^\|\s*(?P<cell>[^|]*`[^|]*)\|", re.MULTILINE)
PATH = re.compile(r"\s(/[^`\s]*)")


def fill(path: str) -> str:
    """``/doc/<name>/ws?name=alice&after=<cursor>`` -> ``/doc/demo/ws?name=alice``."""
    path, _, query = path.partition("?")
    path = re.sub(r"<[^>]*>", SAMPLE, path)
    kept = [part for part in query.split("&") if part and "<" not in part]
    return path + ("?" + "&".join(kept) if kept else "")


def documented_routes(app: Path) -> tuple[list[str], list[str]]:
    """The README's route table: (plain GET paths, WebSocket paths)."""
    readme = (app / "README.md").read_text(encoding="utf-8")
    plain: list[str] = []
    sockets: list[str] = []
    for match in ROW.finditer(readme):
        cell = match.group("cell")
        if not re.match(r"\s*`GET\b", cell):
            continue
        found = PATH.search(cell)
        if found is None:
            continue
        path = fill(found.group(1))
        if "Upgrade: websocket" in cell:
            if "without" not in cell and path not in sockets:
                sockets.append(path)
        elif " with" not in cell and path not in plain:
            plain.append(path)
    return plain, sockets


def documents_ping(app: Path) -> bool:
    readme = (app / "README.md").read_text(encoding="utf-8")
    return "`ping`" in readme and "`pong`" in readme


ROUTES = {app.name: documented_routes(app) for app in APPS}
WEBSOCKET_APPS = [app for app in APPS if ROUTES[app.name][1]]


class Server:
    """One app's DevServer, as ``dosim dev <app> --in-memory`` builds it, in a thread.

    All apps share this process's import of dosim and uvicorn, so starting them all takes
    about as long as starting one.
    """

    def __init__(self, app: Path):
        self.app = app
        self.port = free_port()
        self.dev = DevServer(app, port=self.port, in_memory=True, watch=False)
        self.uvicorn = uvicorn.Server(self.dev.uvicorn_config())
        self.thread = threading.Thread(
            target=self.uvicorn.run, name=f"dosim dev {app.name}", daemon=True
        )

    def get(self, path: str) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()


@pytest.fixture(scope="module")
def servers():
    started: dict[str, Server] = {}
    try:
        for app in APPS:
            started[app.name] = Server(app)
            started[app.name].thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while waiting := [name for name, s in started.items() if not s.uvicorn.started]:
            dead = [name for name in waiting if not started[name].thread.is_alive()]
            assert dead == [], f"dosim dev stopped before serving: {dead}"
            assert time.monotonic() < deadline, f"not serving after {START_TIMEOUT}s: {waiting}"
            time.sleep(0.02)
        yield started
    finally:
        for server in started.values():
            server.uvicorn.should_exit = True
        for server in started.values():
            server.thread.join(STOP_TIMEOUT)
        running = [name for name, s in started.items() if s.thread.is_alive()]
        assert running == [], f"dosim dev did not stop: {running}"


def test_there_are_apps_and_their_readmes_document_routes():
    assert len(APPS) >= 2
    undocumented = [name for name, (plain, _) in ROUTES.items() if not plain]
    assert undocumented == [], f"READMEs without a documented GET route: {undocumented}"


@pytest.mark.parametrize("app", APPS, ids=lambda app: app.name)
def test_a_documented_route_answers_200_over_http(servers, app):
    server = servers[app.name]
    answers = {path: server.get(path)[0] for path in ROUTES[app.name][0]}
    assert 200 in answers.values(), f"{app.name}: {answers}"
    assert max(answers.values()) < 500, f"{app.name}: {answers}"


@pytest.mark.parametrize("app", WEBSOCKET_APPS, ids=lambda app: app.name)
def test_a_documented_websocket_exchanges_a_message(servers, app):
    pytest.importorskip("websockets")
    from websockets.sync.client import connect

    server = servers[app.name]
    path = ROUTES[app.name][1][0]
    url = f"ws://127.0.0.1:{server.port}{path}"
    with connect(url, open_timeout=TIMEOUT, close_timeout=2) as ws:
        if documents_ping(app):
            ws.send("ping")
            received = []
            while "pong" not in received and len(received) < 10:
                received.append(ws.recv(timeout=TIMEOUT))
            assert "pong" in received, f"{app.name}: {received}"
        if "`bad_message`" in (app / "README.md").read_text(encoding="utf-8"):
            # ping is answered by the runtime; this one goes through the app's handler.
            ws.send("not json")
            reply = json.loads(ws.recv(timeout=TIMEOUT))
            assert (reply["type"], reply["error"]) == ("error", "bad_message"), reply
        else:
            assert ws.recv(timeout=TIMEOUT)
