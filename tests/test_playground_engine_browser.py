"""The playground's engine in a real browser: the worker's ``pg`` ops, driven from a page.

The UI (``playground.js``) is tested elsewhere; this drives ``SandboxClient.playground``
and ``onPlaygroundEvent`` directly on a sandbox page of the built site (served with
COOP/COEP by ``tools/serve_site.py``, Debian's Chromium through Playwright, as in
``tests/test_sandbox_browser.py``). For the counter and chat starters: load, requests,
WebSockets (messages arrive as events), the clock, ``run_tests`` (pytest fetched from the
site on first use, async tests through JSPI in an interpreter restored from the memory
snapshot) and the zip, unpacked here and tested by CPython's pytest. Also: a load error
with its file and line, and Stop interrupting a handler stuck in ``while True`` without
restarting Python. No request may leave 127.0.0.1 and no console error may appear.

Runs in ``nox -s sandbox`` (``DOSIM_BROWSER_TESTS`` set: a missing Chromium, Playwright
or MkDocs fails the module); elsewhere it skips.
"""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

if sys.platform == "emscripten":
    pytest.skip("drives Chromium from CPython; not a Pyodide test", allow_module_level=True)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the tools package
from browser_site import built_site, open_page, require_browser_tools  # noqa: E402
from tools.chromium import launch  # noqa: E402
from tools.serve_site import serve_in_thread  # noqa: E402

PAGE = "tutorials/01-first-durable-object/"
BOOT_MS = 60_000


require_browser_tools()
from playwright.sync_api import sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def site() -> Path:
    """The site, built once for every browser test module of this process."""
    return built_site()


@pytest.fixture(scope="module")
def page(site: Path) -> Iterator[object]:
    """One isolated sandbox page with Python ready and an event log; checked for problems."""
    server = serve_in_thread(site, 0, isolate=True)
    problems: list[str] = []
    with sync_playwright() as p:
        browser = launch(p)
        tab = open_page(browser, f"http://127.0.0.1:{server.server_port}/{PAGE}", problems)
        tab.wait_for_function(
            "window.dosimSandbox && window.dosimSandbox.client.state.phase === 'ready'",
            timeout=BOOT_MS,
        )
        tab.evaluate(
            "() => { window.pgEvents = [];"
            " window.dosimSandbox.client.onPlaygroundEvent((e) => window.pgEvents.push(e)); }"
        )
        yield tab
        browser.close()
    server.shutdown()
    server.server_close()
    assert problems == []


def pg(page, op: str, **args) -> dict:
    """Run one playground op through the page's client; ``{"result", "snapshot"}``."""
    return page.evaluate(
        "([op, args]) => window.dosimSandbox.client.playground(op, args)", [op, args]
    )


def events(page) -> list[dict]:
    """The events heard since the last call (and forget them)."""
    return page.evaluate("() => window.pgEvents.splice(0)")


@pytest.fixture(scope="module")
def templates(page) -> dict[str, dict]:
    answer = pg(page, "templates")
    assert answer["result"]["ok"] and answer["snapshot"] == {"apps": []}
    return {t["name"]: t["files"] for t in answer["result"]["templates"]}


def zip_passes_its_tests(answer: dict, tmp_path: Path) -> str:
    """Unpack a ``zip`` answer, run its tests with CPython's pytest; return pytest's output."""
    with zipfile.ZipFile(io.BytesIO(base64.b64decode(answer["base64"]))) as archive:
        archive.extractall(tmp_path)
    (folder,) = tmp_path.iterdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    tested = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr
    return tested.stdout


def test_the_page_boots_from_the_snapshot(page) -> None:
    assert page.evaluate("window.dosimSandbox.client.readyInfo.boot") == "snapshot"


def test_counter_load_request_ws_advance_tests_zip(page, templates, tmp_path) -> None:
    loaded = pg(page, "load", files=templates["counter"])
    assert loaded["result"]["app"]["classes"] == ["Counter"], loaded
    assert loaded["snapshot"]["apps"][0]["namespaces"][0]["objects"] == []

    answer = pg(page, "request", method="POST", path="/apples/increment", headers=[], body=None)
    assert (answer["result"]["status"], answer["result"]["body"]["text"]) == (200, "1")
    (counter,) = answer["snapshot"]["apps"][0]["namespaces"][0]["objects"]
    assert (counter["name"], counter["kv"]) == ("apples", [{"key": "value", "value": "1"}])

    refused = pg(page, "ws_connect", path="/apples", headers=[])["result"]
    assert refused["ok"] is False and "200" in refused["error"]["message"]

    now = answer["snapshot"]["apps"][0]["now"]
    advanced = pg(page, "advance", seconds=11)
    assert advanced["result"] == {"ok": True, "now": now + 11_000}
    assert "eviction" in {e["kind"] for e in advanced["snapshot"]["apps"][0]["trace"]}
    again = pg(page, "request", method="GET", path="/apples", headers=[], body=None)
    assert again["result"]["body"]["text"] == "1"  # storage outlived the eviction

    report = pg(page, "run_tests")["result"]
    assert report["ok"], report
    tests = (ROOT / "examples/counter/tests/test_counter.py").read_text().count("\nasync def test_")
    assert report["summary"]["passed"] == tests and report["summary"]["failed"] == 0

    zipped = pg(page, "zip", files=templates["counter"], name="my counter")["result"]
    assert zipped["filename"] == "my-counter.zip"
    assert f"{tests} passed" in zip_passes_its_tests(zipped, tmp_path)


def test_chat_websockets_arrive_as_events(page, templates, tmp_path) -> None:
    assert pg(page, "load", files=templates["chat"])["result"]["ok"]
    events(page)
    plain = pg(page, "request", method="GET", path="/room/lobby/ws", headers=[], body=None)
    assert plain["result"]["status"] == 426
    alice = pg(page, "ws_connect", path="/room/lobby/ws", headers=[])["result"]["client"]
    bob = pg(page, "ws_connect", path="/room/lobby/ws", headers=[])["result"]["client"]
    pg(page, "ws_send", client=alice, data=json.dumps({"type": "join", "name": "alice"}))
    heard = events(page)
    assert [(e["client"], json.loads(e["data"])["type"]) for e in heard] == [
        (alice, "history"),
        (alice, "presence"),
    ]
    pg(page, "ws_send", client=bob, data=json.dumps({"type": "join", "name": "bob"}))
    answer = pg(page, "ws_send", client=alice, data=json.dumps({"type": "message", "text": "hi"}))
    said = [json.loads(e["data"]) for e in events(page) if e["client"] == bob]
    assert said[-1]["type"] == "message" and said[-1]["text"] == "hi"
    (room,) = answer["snapshot"]["apps"][0]["namespaces"][0]["objects"]
    assert room["sockets"] == 2

    pg(page, "advance", seconds=10)  # the room hibernates; the sockets stay
    pg(page, "ws_send", client=bob, data="ping")
    assert events(page) == [{"kind": "ws-message", "client": bob, "data": "pong"}]
    assert pg(page, "ws_close", client=alice, code=1000, reason="bye")["result"] == {"ok": True}
    left = [json.loads(e["data"]) for e in events(page) if e["client"] == bob]
    assert left[-1]["type"] == "presence" and left[-1]["users"] == ["bob"]

    report = pg(page, "run_tests")["result"]
    assert report["ok"] and report["summary"]["failed"] == report["summary"]["errors"] == 0
    assert report["summary"]["passed"] > 10

    pg(page, "load", files=templates["counter"])  # closes chat's last client
    assert events(page) == [
        {"kind": "ws-close", "client": bob, "code": 1001, "reason": "app reloaded"}
    ]
    zipped = pg(page, "zip", files=templates["chat"], name="chat")["result"]
    assert f"{report['summary']['passed']} passed" in zip_passes_its_tests(zipped, tmp_path)


STARTERS = sorted(
    p.name
    for p in (ROOT / "examples").iterdir()
    if not p.name.startswith(("_", ".")) and (p / "wrangler.toml").is_file()
)


@pytest.mark.parametrize("name", [*STARTERS, "blank"])
def test_every_starter_answers_and_passes_its_tests_in_the_browser(page, templates, name) -> None:
    from hooks.gallery import first_documented_get

    assert pg(page, "load", files=templates[name])["result"]["ok"]
    path = first_documented_get(ROOT / "examples" / name) if name != "blank" else "/x"
    answer = pg(page, "request", method="GET", path=path, headers=[], body=None)["result"]
    assert answer["ok"] and answer["status"] < 500, answer
    report = pg(page, "run_tests")["result"]
    assert report["ok"], report.get("output") or report
    summary = report["summary"]
    assert summary["passed"] == len(report["tests"]) > 0 and summary["failed"] == 0


def test_a_syntax_error_comes_back_with_file_and_line(page, templates) -> None:
    files = dict(templates["counter"])
    files["src/entry.py"] = files["src/entry.py"].replace(
        "async def get(self):", "async def get(self:"
    )
    error = pg(page, "load", files=files)["result"]["error"]
    line = next(n for n, t in enumerate(files["src/entry.py"].splitlines(), 1) if "get(self:" in t)
    assert (error["type"], error["file"], error["line"]) == ("SyntaxError", "src/entry.py", line)


SPINNING_CONFIG = """name = "spin"
main = "src/entry.py"
compatibility_date = "2025-11-01"
compatibility_flags = ["python_workers"]
"""
SPINNING = """
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        if request.url.endswith("/spin"):
            while True:
                pass
        return Response("still here")
"""


def test_stop_interrupts_a_stuck_handler_and_python_stays(page, templates) -> None:
    files = dict(templates["blank"])
    files["src/entry.py"] = SPINNING
    files["wrangler.toml"] = SPINNING_CONFIG
    assert pg(page, "load", files=files)["result"]["ok"]
    restarts = page.evaluate("window.dosimSandbox.client.restarts")
    stopped = page.evaluate(
        """async () => {
          const client = window.dosimSandbox.client;
          const pending = client.playground("request", {method: "GET", path: "/spin"});
          await new Promise((r) => setTimeout(r, 300));
          client.stop();
          return await pending;
        }"""
    )
    assert stopped["result"]["stopped"] == "interrupted"
    assert page.evaluate("window.dosimSandbox.client.restarts") == restarts
    after = pg(page, "request", method="GET", path="/", headers=[], body=None)
    assert after["result"]["body"]["text"] == "still here"
