"""The Python half of the whole-app playground: one app, its requests, sockets and tests.

Loaded into the worker's interpreter as ``_dosim_playground`` beside ``_dosim_sandbox``
(whose Objects-panel snapshot it reuses). The worker calls :func:`call` with an op's name
and its arguments as JSON, and gets the op's result back as JSON; the ops are the
functions named in :data:`OPS`, each ``async``, each returning a dict with ``ok``. The
contract (names, arguments, result shapes) is the playground protocol shared with the
page (``docs/sandbox/src/playground.js``):

* ``templates`` — the starters of ``examples/`` and a blank app, as files;
* ``load`` — write files into a fresh folder and build ``dosim.App.from_config`` there;
* ``request``, ``ws_connect``, ``ws_send``, ``ws_close``, ``advance``, ``snapshot`` —
  drive the loaded app;
* ``run_tests`` — the app's ``tests/`` under pytest with dosim's plugin, in this process;
* ``zip`` — the app as a starter others can unzip and test.

Failures carry ``error: {type, message, file, line, traceback}`` where ``file`` and
``line`` point into the app's own files when the error is in them. Messages a WebSocket
client receives arrive unasked, through the sink :func:`set_event_sink` installs.

The module runs unchanged on CPython (``tests/test_playground_helper.py``); there,
``run_tests`` runs pytest in a worker thread, since the plugin's ``asyncio.run`` cannot
run inside the caller's event loop (Pyodide's can, with JSPI).
"""

import asyncio
import base64
import inspect
import json
import os
import re
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

import _dosim_playground_pytest
import _dosim_playground_starters
import _dosim_sandbox

import dosim
from dosim.config import ConfigError, load_config
from dosim.loader import forget_app_modules, load_main_module
from dosim.settle import wait_all_tasks_blocked
from dosim.websockets.sockets import attach_receiver, transmit

OPS = (
    "templates",
    "load",
    "request",
    "ws_connect",
    "ws_send",
    "ws_close",
    "snapshot",
    "advance",
    "run_tests",
    "zip",
)
BODY_LIMIT = 200_000  # characters of a response body sent to the page
APP_VAR = "app"  # the app's name in the Objects panel


class _State:
    """The loaded app and what hangs off it; one per interpreter (one playground a page)."""

    def __init__(self):
        self.folder = None
        self.app = None
        self.clients = {}
        self.next_client = 1
        self.sink = None


_state = _State()


def set_event_sink(sink):
    """Route unsolicited events (WebSocket messages and closes) to ``sink``.

    Args:
        sink: Called with each event as a JSON string (the worker posts it to the page).
    """
    _state.sink = sink


def _emit(event):
    if _state.sink is not None:
        _state.sink(json.dumps(event))


# -- errors -------------------------------------------------------------------------------


def _relative(filename):
    """``filename`` as a path inside the app's folder, or ``None`` when outside it."""
    if not filename or _state.folder is None:
        return None
    try:
        return Path(filename).resolve().relative_to(_state.folder.resolve()).as_posix()
    except (ValueError, OSError):
        return None


def _config_line(config_path, key=None, needle=None):
    """The 1-based line of ``config_path`` that names ``needle``, or holds ``key``'s leaf."""
    try:
        lines = Path(config_path).read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    if needle is not None:
        for number, line in enumerate(lines, 1):
            if "class_name" in line and re.search(rf"[\"']{re.escape(needle)}[\"']", line):
                return number
    if key:
        leaf = re.sub(r"\[\d+\]$", "", key.split(".")[-1])
        index = [int(i) for i in re.findall(r"\[(\d+)\]", key)]
        seen = 0
        for number, line in enumerate(lines, 1):
            if re.match(rf"\s*\"?{re.escape(leaf)}\"?\s*[=:]", line) or re.match(
                rf"\s*\[\[?\s*([\w.]+\.)?{re.escape(leaf)}\s*\]", line
            ):
                if seen == (index[-1] if index else 0):
                    return number
                seen += 1
    return None


def error_report(error, file=None, line=None):
    """The protocol's ``error`` for ``error``: type, message, app file and line, traceback.

    The traceback shows the app's own frames only (paths inside the app's folder); the
    innermost of them gives ``file`` and ``line`` unless they are given.

    Args:
        error: The exception.
        file: The app file to point at, when the caller knows better (a config error).
        line: Its 1-based line.

    Returns:
        ``{"type", "message", "file", "line", "traceback"}``.
    """
    frames = []
    for frame in traceback.extract_tb(error.__traceback__):
        rel = _relative(frame.filename)
        if rel is not None:
            frames.append((rel, frame.lineno, frame.name, (frame.line or "").strip()))
    if isinstance(error, SyntaxError) and _relative(error.filename):
        file, line = _relative(error.filename), error.lineno
        message = f"{error.msg} ({file}, line {line})"
        if error.text:
            message += "\n    " + error.text.strip()
    else:
        message = str(error)
        if file is None and frames:
            file, line = frames[-1][0], frames[-1][1]
    if _state.folder is not None:
        message = message.replace(str(_state.folder.resolve()) + os.sep, "")
    text = ["Traceback (the app's code, most recent call last):"] if frames else []
    for rel, lineno, name, source in frames:
        text.append(f'  File "{rel}", line {lineno}, in {name}')
        if source:
            text.append(f"    {source}")
    text.append(f"{type(error).__name__}: {message}")
    return {
        "type": type(error).__name__,
        "message": message,
        "file": file,
        "line": line,
        "traceback": "\n".join(text),
    }


def _failure(error, **where):
    return {"ok": False, "error": error_report(error, **where)}


def _refusal(kind, message):
    return {
        "ok": False,
        "error": {"type": kind, "message": message, "file": None, "line": None, "traceback": ""},
    }


def _passes(error):
    """Whether ``error`` must go on up: a Stop, or the task being cancelled."""
    return isinstance(error, (KeyboardInterrupt, asyncio.CancelledError, SystemExit))


# -- loading ------------------------------------------------------------------------------


def _write(folder, files):
    for rel, text in files.items():
        path = (folder / rel).resolve()
        if not path.is_relative_to(folder.resolve()) or rel.startswith("/"):
            raise ValueError(f"a file path must stay inside the app: {rel!r}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _unload():
    """Close the current app's sockets and the app, forget its modules and folder."""
    for client, socket in list(_state.clients.items()):
        try:
            socket.close(1001, "the app was reloaded")
        except Exception:  # noqa: BLE001, S110 - a socket already gone is closed enough
            pass
        _emit({"kind": "ws-close", "client": client, "code": 1001, "reason": "app reloaded"})
    _state.clients.clear()
    if _state.app is not None:
        _state.app.close()
    if _state.folder is not None:
        forget_app_modules(_state.folder)
        shutil.rmtree(_state.folder, ignore_errors=True)
    _state.app = None
    _state.folder = None


def close():
    """Close the loaded app, if any: its sockets, the app, its modules and its folder."""
    _unload()


def _missing_class(config):
    """The binding whose ``class_name`` the main module does not define as a class."""
    module = load_main_module(Path(config.main))
    for binding in config.bindings:
        if binding.script_name in (None, config.name):
            if not isinstance(getattr(module, binding.class_name, None), type):
                return binding
    return None


async def load(files):
    """Build the app ``files`` make (``{path: text}``), replacing the previous one.

    Args:
        files: The app's files by relative path (``wrangler.toml``, ``src/entry.py``, ...).

    Returns:
        ``{"ok": True, "app": {"name", "classes", "bindings", "main"}}``, or
        ``{"ok": False, "error"}`` pointing at the file and line at fault.
    """
    _unload()
    _state.folder = Path(tempfile.mkdtemp(prefix="dosim-playground-"))
    try:
        _write(_state.folder, files)
        config = load_config(_state.folder)
    except ConfigError as error:
        file = _relative(error.path)
        line = _detail_line(error.detail) or (file and _config_line(error.path, error.key))
        return _failure(error, file=file, line=line)
    except Exception as error:  # noqa: BLE001 - reported to the page
        return _failure(error)
    try:
        app = dosim.App.from_config(_state.folder)
    except LookupError as error:
        binding = _missing_class(config)
        name = binding.class_name if binding else None
        where = _config_line(config.path, needle=name) if name else None
        return _failure(error, file=_relative(config.path), line=where)
    except BaseException as error:  # noqa: BLE001 - reported to the page
        if _passes(error):
            raise
        return _failure(error)
    _state.app = app
    return {
        "ok": True,
        "app": {
            "name": app.name,
            "classes": sorted({view.class_name for view in app.namespace_views()}),
            "bindings": [
                {"binding": view.binding, "class": view.class_name, "type": "durable_object"}
                for view in app.namespace_views()
            ]
            + [{"binding": view.binding, "type": view.type} for view in app.binding_views()],
            "main": _relative(config.main),
        },
    }


def _detail_line(detail):
    match = re.search(r"\bline (\d+)", detail or "")
    return int(match.group(1)) if match else None


def _no_app():
    return _refusal("LookupError", "no app is loaded: load one first")


# -- driving ------------------------------------------------------------------------------


async def _response_body(response):
    data = await response.bytes()
    if not data:
        return {"kind": "empty", "text": "", "size": 0}
    content_type = (response.headers.get("content-type") or "").lower()
    kind, text = _dosim_sandbox.body_text(data, content_type)
    body = {"kind": kind, "text": (text or "")[:BODY_LIMIT], "size": len(data)}
    body["truncated"] = text is not None and len(text) > BODY_LIMIT
    return body


async def request(method="GET", path="/", headers=None, body=None):
    """Send one HTTP request to the app's Worker.

    Args:
        method: The HTTP method.
        path: A path (``/x?y=1``) or an absolute URL.
        headers: ``[[name, value], ...]``.
        body: Text, or ``None``.

    Returns:
        ``{"ok", "status", "statusText", "headers", "body": {"kind", "text", "size"},
        "ms"}``, or ``{"ok": False, "error"}`` when the Worker raised.
    """
    if _state.app is None:
        return _no_app()
    started = time.perf_counter()
    try:
        response = await _state.app.fetch(
            path, method=method.upper(), headers=[tuple(h) for h in headers or []], body=body
        )
        result = {
            "ok": True,
            "status": response.status,
            "statusText": response.status_text,
            "headers": [[name, str(value)] for name, value in response.headers.items()],
            "body": await _response_body(response),
        }
    except BaseException as error:  # noqa: BLE001 - the Worker's error, for the page
        if _passes(error):
            raise
        return _failure(error)
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def _receiver(client):
    def receive(event):
        kind, payload = event
        if kind == "close":
            _state.clients.pop(client, None)
            _emit({"kind": "ws-close", "client": client, "code": payload[0], "reason": payload[1]})
            return
        data = payload[0]
        if not isinstance(data, str):
            data = {"binary": payload[1]}
        _emit({"kind": "ws-message", "client": client, "data": data})

    return receive


async def ws_connect(path="/", headers=None):
    """Open a WebSocket to the app through its Worker, as a browser would.

    Args:
        path: The path to upgrade.
        headers: More request headers, ``[[name, value], ...]``.

    Returns:
        ``{"ok": True, "client": n}``; the client's messages and close arrive as events.
    """
    if _state.app is None:
        return _no_app()
    sent = [("Upgrade", "websocket"), ("Connection", "Upgrade"), *map(tuple, headers or [])]
    try:
        response = await _state.app.fetch(path, headers=sent)
        socket = response.web_socket
        if response.status != 101 or socket is None:
            body = await response.text()
            return _refusal(
                "ConnectionError", f"WebSocket upgrade refused: {response.status} {body[:200]!r}"
            )
        client = _state.next_client
        _state.next_client += 1
        _state.clients[client] = socket
        attach_receiver(socket, _receiver(client))
        await wait_all_tasks_blocked()  # a greeting sent on connect arrives before "done"
    except BaseException as error:  # noqa: BLE001
        if _passes(error):
            raise
        return _failure(error)
    return {"ok": True, "client": client}


def _socket(client):
    socket = _state.clients.get(client)
    if socket is None:
        raise LookupError(f"no open WebSocket client {client}")
    return socket


async def ws_send(client, data):
    """Send text ``data`` from WebSocket client ``client``; let the app handle it."""
    try:
        transmit(_socket(client), data)
        await wait_all_tasks_blocked()
    except BaseException as error:  # noqa: BLE001
        if _passes(error):
            raise
        return _failure(error)
    return {"ok": True}


async def ws_close(client, code=1000, reason=""):
    """Close WebSocket client ``client`` cleanly; let the app handle it."""
    try:
        _socket(client).close(code, reason)
        _state.clients.pop(client, None)
        await wait_all_tasks_blocked()
    except BaseException as error:  # noqa: BLE001
        if _passes(error):
            raise
        return _failure(error)
    return {"ok": True}


async def snapshot():
    """Nothing to do: every answer carries the snapshot (see :func:`snapshot_json`)."""
    return {"ok": True}


async def advance(seconds):
    """Move the app's virtual clock ``seconds`` forward, firing what falls due."""
    if _state.app is None:
        return _no_app()
    try:
        await _state.app.advance(float(seconds))
    except BaseException as error:  # noqa: BLE001
        if _passes(error):
            raise
        return _failure(error)
    return {"ok": True, "now": _state.app.clock.now_ms()}


def snapshot_json():
    """The Objects panel's snapshot of the loaded app (``_dosim_sandbox``'s format), JSON."""
    if _state.app is None:
        return json.dumps({"apps": []})
    try:
        described = [_dosim_sandbox.describe_app(APP_VAR, _state.app)]
        return json.dumps({"apps": described}, default=repr)
    except Exception as error:  # noqa: BLE001 - a panel must not break an op
        return json.dumps({"apps": [], "error": repr(error)})


# -- starters, tests and sharing -------------------------------------------------------


async def templates():
    """Every starter under ``examples/`` (those ``dosim new`` offers), then ``blank``.

    Returns:
        ``{"ok": True, "templates": [{"name", "title", "description", "files"}]}``.
    """
    return {"ok": True, "templates": _dosim_playground_starters.starters()}


async def zip(files, name="my-app"):  # noqa: A001 - the protocol's op name
    """The app as a starter: ``<name>/`` with its config, pyproject, README, src, tests.

    Args:
        files: The app's files by relative path.
        name: The folder's and the Worker's name.

    Returns:
        ``{"ok": True, "filename": "<name>.zip", "base64": ...}``.
    """
    try:
        filename, data = _dosim_playground_starters.zip_app(files, name)
    except ValueError as error:
        return _refusal("ValueError", str(error))
    return {"ok": True, "filename": filename, "base64": base64.b64encode(data).decode("ascii")}


def _can_run_sync():
    """Whether this Pyodide stack can suspend (JSPI), so ``asyncio.run`` can work."""
    from pyodide.ffi import can_run_sync  # Pyodide's own; never reached on CPython

    return can_run_sync()


async def run_tests():
    """Run the loaded app's ``tests/`` with pytest and dosim's plugin, in this process.

    The app's modules are forgotten before and after (``sys.modules`` keeps nothing of
    the app between runs), and the tests import from the app's own folder only.

    Returns:
        ``{"ok", "summary": {"passed", "failed", "errors", "skipped", "seconds"},
        "tests": [{"nodeid", "outcome", "message", "longrepr"}], "exit_code", "output"}``;
        ``ok`` says whether pytest passed.
    """
    if _state.app is None or _state.folder is None:
        return _no_app()
    folder = _state.folder
    if not (folder / "tests").is_dir():
        return _refusal("LookupError", "the app has no tests/ folder")
    if sys.platform == "emscripten" and not _can_run_sync():
        return _refusal(
            "RuntimeError",
            "this browser cannot run the tests: the pytest plugin runs each async test with "
            "asyncio.run, which needs WebAssembly stack switching (JSPI); Chrome and Edge "
            "137 or later have it. Run them on your computer: download the zip, then pytest",
        )
    runner = _dosim_playground_pytest
    collector = runner.Collector(_relative)
    forget_app_modules(folder)
    started = time.perf_counter()
    try:
        if sys.platform == "emscripten":
            code, output = runner.run_pytest(folder, collector)
        else:
            code, output = await asyncio.to_thread(runner.run_pytest, folder, collector)
    finally:
        forget_app_modules(folder)
    # The app lives in a temporary folder of the worker: name its files as the reader's
    # file tree does (``tests/test_counter.py:18``), not by that folder.
    prefix = f"{folder}/"
    tests = [
        {k: v.replace(prefix, "") if isinstance(v, str) else v for k, v in test.items()}
        for test in collector.tests.values()
    ]
    output = output.replace(prefix, "")
    counts = {outcome: 0 for outcome in ("passed", "failed", "error", "skipped")}
    for test in tests:
        counts[test["outcome"]] += 1
    summary = {
        "passed": counts["passed"],
        "failed": counts["failed"],
        "errors": counts["error"],
        "skipped": counts["skipped"],
        "seconds": round(time.perf_counter() - started, 3),
    }
    return {
        "ok": code == 0,
        "summary": summary,
        "tests": tests,
        "exit_code": code,
        "output": output[-20_000:],
    }


# -- the worker's entry -------------------------------------------------------------------


async def call(op, args_json):
    """Run op ``op`` with the JSON object ``args_json`` as keyword arguments; JSON result."""
    if op not in OPS:
        return json.dumps(_refusal("LookupError", f"unknown playground op {op!r}"))
    try:
        args = json.loads(args_json or "{}")
    except ValueError as error:
        return json.dumps(_refusal("ValueError", f"the op's arguments are not JSON: {error}"))
    function = globals()[op]
    try:
        inspect.signature(function).bind(**args)
    except TypeError as error:  # wrong arguments: the page's bug, said plainly
        return json.dumps(_refusal("TypeError", f"{op}: {error}"))
    return json.dumps(await function(**args), default=repr)
