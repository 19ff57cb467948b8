"""The playground's Python half (``docs/sandbox/src/playground_helper.py``) on CPython.

The module is imported from its path, as the worker imports it (``_dosim_playground``,
beside ``_dosim_sandbox``), and every op of the playground protocol is driven for every
starter in ``examples/`` and the blank app: load, its documented request, WebSockets
(chat, presence), the virtual clock firing an alarm, the starter's own tests through
``run_tests``, and the zip, unpacked into a temporary folder whose tests then pass under
a separate ``pytest`` process. Errors point at the app's file and line. The browser side
is ``tests/test_playground_engine_browser.py``.
"""

from __future__ import annotations

import asyncio
import base64
import importlib.util
import io
import json
import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

if sys.platform == "emscripten":
    pytest.skip("runs pytest in a thread and in a subprocess", allow_module_level=True)

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "docs" / "sandbox" / "src"
STARTERS = sorted(
    p.name
    for p in (ROOT / "examples").iterdir()
    if not p.name.startswith(("_", ".")) and (p / "wrangler.toml").is_file()
)


def _import(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


_import("_dosim_sandbox", SRC / "sandbox_helper.py")
_import("_dosim_playground_starters", SRC / "playground_starters.py")
_import("_dosim_playground_pytest", SRC / "playground_pytest.py")
pg = _import("_dosim_playground", SRC / "playground_helper.py")
first_documented_get = _import("_gallery_hook", ROOT / "hooks" / "gallery.py").first_documented_get


_runner: list[asyncio.Runner] = []


@pytest.fixture(autouse=True)
def one_event_loop():
    """One event loop for all the ops of a test, as the worker has one for a page."""
    with asyncio.Runner() as runner:
        _runner.append(runner)
        yield
        _runner.pop()


@pytest.fixture
def events(one_event_loop):
    """The events the helper sends unasked; the app is closed after the test."""
    seen: list[dict] = []
    pg.set_event_sink(lambda text: seen.append(json.loads(text)))
    yield seen
    pg.close()
    pg.set_event_sink(None)


def run(coroutine):
    return _runner[-1].run(coroutine)


def templates() -> dict[str, dict]:
    return {t["name"]: t for t in run(pg.templates())["templates"]}


def files_of(name: str, **changes: str) -> dict[str, str]:
    files = dict(templates()[name]["files"])
    files.update(changes)
    return files


def edited(name: str, path: str, old: str, new: str) -> dict[str, str]:
    files = files_of(name)
    assert old in files[path], f"{old!r} not in {name}/{path}"
    files[path] = files[path].replace(old, new, 1)
    return files


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


# -- templates ----------------------------------------------------------------------------


def test_templates_are_the_starters_and_a_blank_app() -> None:
    found = templates()
    assert list(found) == [*STARTERS, "blank"]
    for name, template in found.items():
        files = template["files"]
        assert {"wrangler.toml", "pyproject.toml", "README.md"} <= set(files), name
        assert any(p.startswith("src/") for p in files) and any(
            p.startswith("tests/") for p in files
        )
        assert all(p.split("/")[0] in {"src", "tests"} or "/" not in p for p in files), name
        assert not any("__pycache__" in p or "_sandbox" in p for p in files), name
        assert template["title"] and template["description"], name
    counter = found["counter"]
    assert counter["files"]["src/entry.py"] == (ROOT / "examples/counter/src/entry.py").read_text()
    assert counter["title"] == "Counter"


# -- load and request ---------------------------------------------------------------------


@pytest.mark.parametrize("name", [*STARTERS, "blank"])
def test_each_starter_loads_and_answers_its_documented_request(name, events) -> None:
    loaded = run(pg.load(files_of(name)))
    assert loaded["ok"], loaded
    config = tomllib.loads(templates()[name]["files"]["wrangler.toml"])
    assert loaded["app"]["name"] == config["name"]
    assert loaded["app"]["main"] == config["main"]
    bound = {b["class_name"] for b in config["durable_objects"]["bindings"]}
    assert set(loaded["app"]["classes"]) == bound
    path = first_documented_get(ROOT / "examples" / name) if name != "blank" else "/x"
    answer = run(pg.request("GET", path, [], None))
    assert answer["ok"], answer
    assert answer["status"] < 500 and answer["statusText"]
    assert answer["body"]["size"] == len(answer["body"]["text"].encode()) or answer["body"][
        "kind"
    ] in ("binary", "json")
    assert answer["ms"] >= 0


def test_request_sends_method_headers_and_body(events) -> None:
    assert run(pg.load(files_of("blank")))["ok"]
    put = run(pg.request("PUT", "/shopping", [["Content-Type", "text/plain"]], "milk"))
    assert (put["status"], put["body"]) == (
        201,
        {"kind": "text", "text": "saved\n", "size": 6, "truncated": False},
    )
    got = run(pg.request("GET", "/shopping", [], None))
    assert got["body"]["text"] == "milk"
    assert ["content-type", "text/plain;charset=UTF-8"] in got["headers"]


def test_a_json_body_is_pretty_and_an_empty_one_says_so(events) -> None:
    assert run(pg.load(files_of("scheduler")))["ok"]
    listing = run(pg.request("GET", "/ann/reminders", [], None))
    assert listing["body"]["kind"] == "json"
    assert json.loads(listing["body"]["text"]) == json.loads(listing["body"]["text"].strip())
    gone = run(pg.request("DELETE", "/ann/reminders/r1", [], None))
    assert (gone["status"], gone["body"]["kind"], gone["body"]["size"]) == (204, "empty", 0)


def test_snapshot_describes_the_loaded_app(events) -> None:
    assert json.loads(pg.snapshot_json()) == {"apps": []}
    assert run(pg.load(files_of("counter")))["ok"]
    run(pg.request("POST", "/apples/increment", [], None))
    assert run(pg.snapshot()) == {"ok": True}
    (app,) = json.loads(pg.snapshot_json())["apps"]
    (namespace,) = app["namespaces"]
    (counter,) = namespace["objects"]
    assert (namespace["binding"], counter["name"], counter["kv"]) == (
        "COUNTER",
        "apples",
        [{"key": "value", "value": "1"}],
    )
    assert "request" in {event["kind"] for event in app["trace"]}


def test_loading_replaces_the_app_and_its_modules(events) -> None:
    assert run(pg.load(files_of("chat")))["ok"]
    client = run(pg.ws_connect("/room/lobby/ws", []))["client"]
    # Same module names (src/entry.py), other code: nothing of the first app may remain.
    assert run(pg.load(files_of("counter")))["ok"]
    assert events[-1] == {
        "kind": "ws-close",
        "client": client,
        "code": 1001,
        "reason": "app reloaded",
    }
    assert run(pg.request("GET", "/apples", [], None))["body"]["text"] == "0"
    assert json.loads(pg.snapshot_json())["apps"][0]["namespaces"][0]["binding"] == "COUNTER"


def test_ops_before_any_load_are_refused(events) -> None:
    for answer in (
        run(pg.request("GET", "/", [], None)),
        run(pg.ws_connect("/", [])),
        run(pg.advance(1)),
        run(pg.run_tests()),
    ):
        assert answer["ok"] is False and answer["error"]["type"] == "LookupError"


# -- errors with the app's file and line ---------------------------------------------------


def test_a_syntax_error_points_at_its_file_and_line(events) -> None:
    files = edited("counter", "src/entry.py", "    async def get(self):", "    async def get(self:")
    answer = run(pg.load(files))
    error = answer["error"]
    assert answer["ok"] is False and error["type"] == "SyntaxError"
    assert (error["file"], error["line"]) == (
        "src/entry.py",
        line_of(files["src/entry.py"], "async def get(self:"),
    )
    assert "src/entry.py" in error["message"] and "/tmp" not in error["message"]


def test_a_missing_class_points_at_the_config_line_naming_it(events) -> None:
    files = edited("counter", "wrangler.toml", 'class_name = "Counter"', 'class_name = "Tally"')
    error = run(pg.load(files))["error"]
    assert error["type"] == "LookupError"
    assert (error["file"], error["line"]) == (
        "wrangler.toml",
        line_of(files["wrangler.toml"], 'class_name = "Tally"'),
    )
    assert "'Tally'" in error["message"]


def test_a_config_that_does_not_parse_points_at_its_line(events) -> None:
    files = edited("counter", "wrangler.toml", 'tag = "v1"', "tag = v1 v2")
    error = run(pg.load(files))["error"]
    assert (error["type"], error["file"]) == ("ConfigError", "wrangler.toml")
    assert error["line"] == line_of(files["wrangler.toml"], "tag = v1 v2")


def test_an_import_error_in_the_app_points_at_the_import(events) -> None:
    files = edited(
        "counter", "src/entry.py", "from urllib.parse", "import numpy_nowhere\nfrom urllib.parse"
    )
    error = run(pg.load(files))["error"]
    assert error["type"] == "ModuleNotFoundError"
    assert (error["file"], error["line"]) == (
        "src/entry.py",
        line_of(files["src/entry.py"], "numpy_nowhere"),
    )


def test_an_exception_in_a_handler_points_at_the_raising_line(events) -> None:
    files = edited(
        "counter",
        "src/entry.py",
        "        parts = [part",
        "        raise ValueError('broken on purpose')\n        parts = [part",
    )
    assert run(pg.load(files))["ok"]
    answer = run(pg.request("GET", "/apples", [], None))
    error = answer["error"]
    assert answer["ok"] is False and error["type"] == "ValueError"
    assert (error["file"], error["line"]) == (
        "src/entry.py",
        line_of(files["src/entry.py"], "broken on purpose"),
    )
    assert error["message"] == "broken on purpose"
    assert 'File "src/entry.py"' in error["traceback"] and "dosim" not in error["traceback"]


def test_an_exception_in_an_object_arrives_as_the_platform_error_naming_its_line(events) -> None:
    # Over RPC the Worker sees what Cloudflare gives it: a JsException whose message
    # carries the object's traceback (paths shown inside the app).
    files = edited(
        "counter",
        "src/entry.py",
        '        return await self.ctx.storage.get("value") or 0',
        "        raise ValueError('broken on purpose')",
    )
    assert run(pg.load(files))["ok"]
    error = run(pg.request("GET", "/apples", [], None))["error"]
    raised = line_of(files["src/entry.py"], "broken on purpose")
    assert error["type"] == "JsException"
    assert f'File "src/entry.py", line {raised}, in get' in error["message"]
    assert (error["file"], error["line"]) == (
        "src/entry.py",
        line_of(files["src/entry.py"], "await counter.get()"),
    )


def test_a_file_path_outside_the_app_is_refused(events) -> None:
    answer = run(pg.load({**files_of("counter"), "../escape.py": "x = 1"}))
    assert answer["ok"] is False and "inside the app" in answer["error"]["message"]


# -- WebSockets ---------------------------------------------------------------------------


def test_chat_round_trip_over_websockets(events) -> None:
    assert run(pg.load(files_of("chat")))["ok"]
    alice = run(pg.ws_connect("/room/lobby/ws", []))
    bob = run(pg.ws_connect("/room/lobby/ws", []))
    assert alice["ok"] and bob["ok"] and alice["client"] != bob["client"]
    a, b = alice["client"], bob["client"]
    assert run(pg.ws_send(a, json.dumps({"type": "join", "name": "alice"}))) == {"ok": True}
    assert [json.loads(e["data"])["type"] for e in events if e["client"] == a] == [
        "history",
        "presence",
    ]
    events.clear()
    run(pg.ws_send(b, json.dumps({"type": "join", "name": "bob"})))
    run(pg.ws_send(a, json.dumps({"type": "message", "text": "hi bob"})))
    said = [json.loads(e["data"]) for e in events if e["kind"] == "ws-message" and e["client"] == b]
    assert said[-1]["type"] == "message" and said[-1]["text"] == "hi bob"
    run(pg.ws_send(a, "ping"))
    assert events[-1] == {"kind": "ws-message", "client": a, "data": "pong"}
    events.clear()
    assert run(pg.ws_close(a, 1000, "bye")) == {"ok": True}
    left = [json.loads(e["data"]) for e in events if e["client"] == b]
    assert left and left[-1]["type"] == "presence" and left[-1]["users"] == ["bob"]
    assert run(pg.ws_send(a, "ping"))["ok"] is False  # that client is gone


def test_presence_greets_on_connect_and_announces_joins(events) -> None:
    assert run(pg.load(files_of("presence")))["ok"]
    first = run(pg.ws_connect("/doc/notes/ws?name=ann&role=editor&page=1", []))["client"]
    welcome = json.loads(events[-1]["data"])
    assert (events[-1]["client"], welcome["type"], welcome["you"]["name"]) == (
        first,
        "welcome",
        "ann",
    )
    run(pg.ws_connect("/doc/notes/ws?name=ben&role=viewer&page=1", []))
    told = [json.loads(e["data"]) for e in events if e["client"] == first]
    assert told[-1]["type"] == "join" and told[-1]["user"]["name"] == "ben"


def test_a_refused_upgrade_says_the_status_and_body(events) -> None:
    assert run(pg.load(files_of("counter")))["ok"]
    answer = run(pg.ws_connect("/apples", []))
    assert answer["ok"] is False
    assert answer["error"]["type"] == "ConnectionError" and "200 '0'" in answer["error"]["message"]


def test_a_close_from_the_server_is_an_event(events) -> None:
    files = files_of("blank")
    files["src/entry.py"] += """

from js import WebSocketPair


class Sockets(WorkerEntrypoint):
    pass


async def _closing(request):
    client, server = WebSocketPair.new().object_values()
    server.accept()
    server.close(4000, "go away")
    return Response(None, status=101, web_socket=client)


_plain = Default.fetch


async def _fetch(self, request):
    if request.headers.get("Upgrade") == "websocket":
        return await _closing(request)
    return await _plain(self, request)


Default.fetch = _fetch
"""
    assert run(pg.load(files))["ok"]
    client = run(pg.ws_connect("/", []))["client"]
    assert events[-1] == {"kind": "ws-close", "client": client, "code": 4000, "reason": "go away"}


# -- the clock ----------------------------------------------------------------------------


def test_advance_fires_an_alarm(events) -> None:
    assert run(pg.load(files_of("scheduler")))["ok"]
    put = run(pg.request("PUT", "/ann/reminders/r1", [], json.dumps({"text": "tea", "in": 30})))
    assert put["ok"] and put["status"] < 300, put
    assert json.loads(run(pg.request("GET", "/ann/inbox", [], None))["body"]["text"]) == []
    before = json.loads(pg.snapshot_json())["apps"][0]["now"]
    advanced = run(pg.advance(31))
    assert advanced == {"ok": True, "now": before + 31_000}
    inbox = json.loads(run(pg.request("GET", "/ann/inbox", [], None))["body"]["text"])
    assert [message["text"] for message in inbox] == ["tea"]
    kinds = {event["kind"] for event in json.loads(pg.snapshot_json())["apps"][0]["trace"]}
    assert {"alarm.set", "alarm.fire"} <= kinds


# -- tests --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [*STARTERS, "blank"])
def test_each_starter_passes_its_own_tests(name, events) -> None:
    assert run(pg.load(files_of(name)))["ok"]
    report = run(pg.run_tests())
    assert report["ok"], report["output"]
    summary = report["summary"]
    assert summary["passed"] > 0 and summary["failed"] == summary["errors"] == 0
    assert summary["passed"] == len(report["tests"])
    assert all(
        t["nodeid"].startswith("tests/") and t["outcome"] == "passed" for t in report["tests"]
    )


def test_a_failing_test_is_reported_with_its_message_and_place(events) -> None:
    files = edited(
        "counter",
        "tests/test_counter.py",
        'assert await second.text() == "2"',
        'assert await second.text() == "3"',
    )
    assert run(pg.load(files))["ok"]
    report = run(pg.run_tests())
    assert report["ok"] is False and report["summary"]["failed"] == 1
    (failed,) = [t for t in report["tests"] if t["outcome"] == "failed"]
    assert failed["nodeid"] == "tests/test_counter.py::test_http_increment_returns_new_value"
    assert "'2' == '3'" in failed["message"] or "assert '2' == '3'" in failed["longrepr"]
    assert (failed["file"], failed["line"]) == (
        "tests/test_counter.py",
        line_of(files["tests/test_counter.py"], '== "3"'),
    )
    # Files are named as in the reader's file tree, not by the worker's temporary folder.
    assert "tests/test_counter.py:" in failed["longrepr"]
    assert str(pg._state.folder) not in failed["longrepr"] + report["output"]


def test_run_tests_sees_the_loaded_files_not_earlier_ones(events) -> None:
    failing = edited(
        "counter", "tests/test_counter.py", 'assert await second.text() == "2"', "assert False"
    )
    assert run(pg.load(failing))["ok"]
    assert run(pg.run_tests())["summary"]["failed"] == 1
    assert run(pg.load(files_of("counter")))["ok"]
    again = run(pg.run_tests())
    assert again["ok"] and again["summary"]["failed"] == 0
    folder = str(pg._state.folder)
    leftovers = [
        n
        for n, m in list(sys.modules.items())
        if str(getattr(m, "__file__", "") or "").startswith(folder)
    ]
    assert leftovers == []


def test_a_test_may_import_a_helper_module_beside_it(events) -> None:
    files = files_of(
        "counter",
        **{
            "tests/helpers.py": "PATH = '/pears/increment'\n",
            "tests/test_helpers.py": (
                "from helpers import PATH\n\n\n"
                "async def test_uses_the_helper(dosim_app):\n"
                "    assert (await dosim_app.fetch(PATH, method='POST')).status == 200\n"
            ),
        },
    )
    assert run(pg.load(files))["ok"]
    path = list(sys.path)
    report = run(pg.run_tests())
    assert report["ok"], report["output"]
    assert "tests/test_helpers.py::test_uses_the_helper" in {t["nodeid"] for t in report["tests"]}
    assert sys.path == path and "helpers" not in sys.modules


def test_a_test_file_that_does_not_import_is_an_error(events) -> None:
    files = files_of("counter", **{"tests/test_broken.py": "def test_x(:\n    pass\n"})
    assert run(pg.load(files))["ok"]
    report = run(pg.run_tests())
    assert report["ok"] is False and report["summary"]["errors"] == 1
    (broken,) = [t for t in report["tests"] if t["outcome"] == "error"]
    assert broken["nodeid"] == "tests/test_broken.py" and "SyntaxError" in broken["longrepr"]


# -- zip ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [*STARTERS, "blank"])
def test_the_zip_is_a_starter_whose_tests_pass(name, events, tmp_path) -> None:
    answer = run(pg.zip(files_of(name), f"My {name}"))
    worker = f"my-{name.replace('_', '-')}"
    assert answer["ok"] and answer["filename"] == f"{worker}.zip"
    with zipfile.ZipFile(io.BytesIO(base64.b64decode(answer["base64"]))) as archive:
        names = archive.namelist()
        assert all(n.startswith(f"{worker}/") for n in names)
        archive.extractall(tmp_path)
    app = tmp_path / worker
    assert {"wrangler.toml", "pyproject.toml", "README.md", ".gitignore"} <= {
        p.name for p in app.iterdir()
    }
    assert tomllib.loads((app / "wrangler.toml").read_text())["name"] == worker
    pyproject = tomllib.loads((app / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] == worker
    assert "dosim" not in pyproject.get("tool", {}).get("uv", {}).get("sources", {})
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    env.pop("PYTEST_ADDOPTS", None)
    tested = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=app,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert " passed" in tested.stdout


# -- the worker's entry -------------------------------------------------------------------


def test_call_speaks_json_and_refuses_unknown_ops_and_arguments(events) -> None:
    loaded = json.loads(run(pg.call("load", json.dumps({"files": files_of("counter")}))))
    assert loaded["ok"]
    answer = json.loads(
        run(pg.call("request", json.dumps({"method": "POST", "path": "/a/increment"})))
    )
    assert (answer["status"], answer["body"]["text"]) == (200, "1")
    assert json.loads(run(pg.call("eval", "{}")))["error"]["type"] == "LookupError"
    wrong = json.loads(run(pg.call("advance", json.dumps({"minutes": 3}))))
    assert wrong["error"]["type"] == "TypeError" and "advance" in wrong["error"]["message"]
