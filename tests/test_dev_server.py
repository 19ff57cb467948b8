"""`dosim dev` over real sockets on 127.0.0.1: HTTP, real time, persistence, kill -9, inspector.

Servers run in a thread of this process (uvicorn on a free loopback port) or, for the
kill -9 test, as a subprocess. Every server is stopped with a bounded wait.
"""

import contextlib
import http.client
import json
import logging
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

if sys.platform == "emscripten":
    pytest.skip("the dev server needs sockets and threads", allow_module_level=True)
pytest.importorskip("uvicorn")

import dev_helpers  # noqa: E402
from dev_helpers import free_port, request, wait_until  # noqa: E402

from dosim.dev import realtime  # noqa: E402

WRANGLER = """\
name = "devtest"
main = "worker.py"
compatibility_date = "2025-11-01"
compatibility_flags = ["python_workers"]

[[durable_objects.bindings]]
name = "LOG"
class_name = "Log"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["Log"]
"""

WORKER = """\
import asyncio
import json
import time
from urllib.parse import parse_qs, urlparse

from workers import DurableObject, Response, WorkerEntrypoint

VERSION = "v1"


class Log(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY)")

    async def add(self, key):
        self.ctx.storage.sql.exec("INSERT OR IGNORE INTO entries VALUES (?)", key)
        return "ok"

    async def keys(self):
        return [row["key"] for row in self.ctx.storage.sql.exec("SELECT key FROM entries")]

    async def remind(self, delay_ms):
        await self.ctx.storage.setAlarm(time.time() * 1000 + delay_ms)

    async def put(self, key, value):
        await self.ctx.storage.put(key, value)

    async def alarm(self, info=None):
        self.ctx.storage.sql.exec("INSERT OR IGNORE INTO entries VALUES ('alarm ran')")


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        url = urlparse(request.url)
        parts = [p for p in url.path.split("/") if p]
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if parts[:1] == ["add"]:
            return Response(await self.env.LOG.getByName(parts[1]).add(parts[2]))
        if parts[:1] == ["keys"]:
            return Response.json(await self.env.LOG.getByName(parts[1]).keys())
        if parts[:1] == ["remind"]:
            await self.env.LOG.getByName(parts[1]).remind(int(query["ms"]))
            return Response("set")
        if parts[:1] == ["kv"]:
            await self.env.LOG.getByName(parts[1]).put(parts[2], json.loads(await request.text()))
            return Response("stored")
        if parts[:1] == ["echo"]:
            body = await request.text()
            return Response(
                json.dumps({"method": str(request.method), "url": request.url, "body": body,
                            "x_test": request.headers.get("x-test")}),
                status=201,
                headers=[("content-type", "application/json"), ("set-cookie", "a=1"),
                         ("set-cookie", "b=2"), ("x-extra", "yes")],
            )
        if parts[:1] == ["boom"]:
            raise ValueError(query.get("message", "boom from the worker"))
        if parts[:1] == ["slow"]:
            await asyncio.sleep(float(query.get("s", "0.5")))
            return Response(VERSION)
        if parts[:1] == ["version"]:
            return Response(VERSION)
        return Response("not found", status=404)
"""


# -- helpers -----------------------------------------------------------------------------
def make_app(folder: Path, worker: str = WORKER) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "wrangler.toml").write_text(WRANGLER)
    (folder / "worker.py").write_text(worker)
    return folder


class ThreadedServer(dev_helpers.ThreadedServer):
    """The shared threaded server, with HTTP shortcuts for these tests."""

    def get(self, path, **kw):
        return request(self.port, "GET", path, **kw)

    def post(self, path, body=b"", **kw):
        return request(self.port, "POST", path, body=body, **kw)

    def api(self, path):
        status, _, body = self.get("/__dosim/api" + path)
        assert status == 200, (path, status, body)
        return json.loads(body)


@pytest.fixture
def app_dir(tmp_path):
    return make_app(tmp_path / "app")


# -- HTTP ----------------------------------------------------------------------------------
def test_request_and_response_cross_the_bridge_intact(app_dir):
    with ThreadedServer(app_dir, in_memory=True) as server:
        status, headers, body = server.post("/echo?x=1", body=b"hello", headers={"X-Test": "42"})
    assert status == 201
    data = json.loads(body)
    assert data["method"] == "POST"
    assert data["url"] == f"http://127.0.0.1:{server.port}/echo?x=1"
    assert (data["body"], data["x_test"]) == ("hello", "42")
    cookies = [value for name, value in headers if name.lower() == "set-cookie"]
    assert cookies == ["a=1", "b=2"]
    assert ("x-extra", "yes") in [(n.lower(), v) for n, v in headers]


def test_methods_outside_httpmethod_reach_the_worker_and_its_answer_reaches_the_client(app_dir):
    # workerd forwards any method token; SDK 1.9.5's request.method builds an HTTPMethod
    # (which has no PURGE), but dosim's own bookkeeping must not depend on it.
    methods = ["PURGE", "PROPFIND", "COPY", "MOVE", "SEARCH"]
    with ThreadedServer(app_dir, in_memory=True) as server:
        answers = [request(server.port, m, f"/add/methods/{m}")[:1] for m in methods]
        _, _, keys = server.get("/keys/methods")
    assert answers == [(200,)] * len(methods)
    assert sorted(json.loads(keys)) == sorted(methods)


def test_the_worker_receives_the_url_as_the_client_sent_it(app_dir):
    # workerd passes the request URL through undecoded; %FF and %FE stay distinct, %2F is
    # not a path separator, %0A is not a newline.
    with ThreadedServer(app_dir, in_memory=True) as server:
        urls = [
            json.loads(server.post(path)[2])["url"]
            for path in ("/echo/a%2Fb", "/echo/%FF", "/echo/%FE", "/echo/x%0Ay?q=%2F%20")
        ]
    base = f"http://127.0.0.1:{server.port}"
    assert urls == [
        base + "/echo/a%2Fb",
        base + "/echo/%FF",
        base + "/echo/%FE",
        base + "/echo/x%0Ay?q=%2F%20",
    ]


def test_the_inspector_answers_loopback_host_names_only(app_dir):
    # DNS rebinding: a page on evil.example whose name now resolves to 127.0.0.1 sends
    # Host: evil.example; it must not read stored values.
    with ThreadedServer(app_dir, in_memory=True) as server:
        server.post("/kv/o/k", body=b'"secret"')
        path = "/__dosim/api/namespaces"
        allowed = [
            request(server.port, "GET", path, headers={"Host": host})[0]
            for host in ("localhost:1", "127.0.0.1", "[::1]:8787", "LOCALHOST")
        ]
        refused = request(server.port, "GET", path, headers={"Host": "evil.example"})
        refused_kv = request(
            server.port, "GET", "/__dosim/api/namespaces/LOG/objects", headers={"Host": "x"}
        )
    assert allowed == [200, 200, 200, 200]
    assert refused[0] == 403 and b"secret" not in refused[2]
    assert refused_kv[0] == 403


def test_an_allowed_inspector_host_can_be_added(app_dir):
    with ThreadedServer(app_dir, in_memory=True, inspector_hosts=["dev.box"]) as server:
        status = request(server.port, "GET", "/__dosim/api/app", headers={"Host": "dev.box"})[0]
    assert status == 200


def test_changing_anything_through_the_inspector_needs_the_token(app_dir):
    with ThreadedServer(app_dir, in_memory=True) as server:
        without = request(server.port, "POST", "/__dosim/api/app")[0]
        wrong = request(server.port, "POST", "/__dosim/api/app", headers={"X-Dosim-Token": "x"})
        right = request(
            server.port,
            "POST",
            "/__dosim/api/app",
            headers={"X-Dosim-Token": server.dev.inspector_token},
        )
    assert (without, wrong[0], right[0]) == (403, 403, 405)


def test_worker_exception_becomes_500_with_traceback(app_dir):
    with ThreadedServer(app_dir, in_memory=True) as server:
        status, _, body = server.get("/boom")
        after = server.get("/version")
    assert status == 500
    text = body.decode()
    assert "Traceback" in text and "ValueError: boom from the worker" in text
    assert after[0] == 200, "the server keeps serving after a Worker exception"


def test_one_log_line_per_request_names_the_objects_touched(app_dir, caplog):
    caplog.set_level(logging.INFO, logger="dosim.dev")
    with ThreadedServer(app_dir, in_memory=True) as server:
        server.post("/add/alpha/k1")
        server.get("/version")
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith(("POST", "GET"))]
    assert len(lines) == 2
    assert lines[0].startswith("POST /add/alpha/k1 200 ") and lines[0].endswith("LOG:alpha")
    assert " ms" in lines[0]
    assert lines[1].startswith("GET /version 200 ") and lines[1].endswith("-")


def test_control_characters_from_the_request_are_escaped_in_the_log(app_dir, caplog):
    caplog.set_level(logging.INFO, logger="dosim.dev")
    with ThreadedServer(app_dir, in_memory=True) as server:
        assert server.get("/%1b]0;pwned%07/%1b[2J")[0] == 404
        assert server.get("/boom?message=%1b[31mred%0Aline")[0] == 500
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("GET")]
    assert lines[0].startswith("GET /\\x1b]0;pwned\\x07/\\x1b[2J 404 "), lines[0]
    assert lines[1].endswith("(error: ValueError: \\x1b[31mred\\nline)"), lines[1]
    assert not any("\x1b" in line or "\x07" in line or "\n" in line for line in lines)


# -- real time and persistence ------------------------------------------------------------
def test_response_arrives_only_after_the_write_is_committed_to_the_file(app_dir):
    with ThreadedServer(app_dir) as server:
        assert server.post("/add/durable/first")[0] == 200
        files = list((app_dir / ".dosim" / "state" / "devtest-Log").glob("*.sqlite"))
        assert len(files) == 1
        # A separate connection sees only committed data.
        with contextlib.closing(sqlite3.connect(files[0])) as other:
            rows = other.execute("SELECT key FROM entries").fetchall()
            journal = other.execute("PRAGMA journal_mode").fetchone()[0]
    assert rows == [("first",)]
    assert journal == "wal"


def test_alarm_fires_at_the_real_time_it_was_set_for(app_dir, caplog):
    caplog.set_level(logging.INFO, logger="dosim.dev")
    with ThreadedServer(app_dir, in_memory=True) as server:
        started = time.monotonic()
        assert server.post("/remind/clock?ms=300")[0] == 200
        assert json.loads(server.get("/keys/clock")[2]) == []
        wait_until(
            lambda: json.loads(server.get("/keys/clock")[2]) == ["alarm ran"],
            timeout=5,
            what="the alarm",
        )
        elapsed = time.monotonic() - started
    assert 0.25 <= elapsed < 3
    assert "alarm LOG:clock fired (retryCount 0)" in caplog.messages


def test_state_and_pending_alarm_survive_a_restart(app_dir):
    with ThreadedServer(app_dir) as server:
        server.post("/add/keeper/before-restart")
        server.post("/remind/keeper?ms=400")
    time.sleep(0.5)  # the alarm falls due while no server runs
    with ThreadedServer(app_dir) as server:
        objects = server.api("/namespaces/LOG/objects")
        assert [o["name"] for o in objects] == ["keeper"], "names are remembered"
        expected = ["alarm ran", "before-restart"]
        keys = wait_until(
            lambda: sorted(json.loads(server.get("/keys/keeper")[2])) == expected,
            timeout=5,
            what="the restored alarm",
        )
    assert keys


def test_clock_driver_evicts_idle_objects_after_ten_seconds_of_wall_time(app_dir, monkeypatch):
    import asyncio

    from dosim import App

    async def scenario():
        app = App.from_config(app_dir, start_time=realtime.wall_clock_ms())
        driver = realtime.RealTimeDriver(lambda: app)
        await app.env.LOG.getByName("idle").add("x")
        real = realtime.wall_clock_ms()
        monkeypatch.setattr(realtime, "wall_clock_ms", lambda: real + 9_000)
        await driver.tick()
        before = app.trace.filter("eviction")
        monkeypatch.setattr(realtime, "wall_clock_ms", lambda: real + 10_100)
        await driver.tick()
        return before, app.trace.filter("eviction"), app.clock.now_ms() - real

    before, after, now = asyncio.run(scenario())
    assert before == [] and len(after) == 1
    assert now == 10_100


def test_clock_driver_tick_with_nothing_due_only_moves_the_clock():
    # src/dosim/dev/realtime.py: a tick runs App.advance (which settles: waits for every
    # waitUntil task) only when a timer falls due; otherwise it just sets the clock.
    import asyncio

    from dosim import App
    from workers import Response, WorkerEntrypoint

    async def scenario():
        release = asyncio.Event()

        class Default(WorkerEntrypoint):
            async def fetch(self, request):
                self.ctx.waitUntil(release.wait())
                return Response("ok")

        app = App(Default, {}, start_time=realtime.wall_clock_ms() - 5_000)
        await app.fetch("/")
        tick = asyncio.ensure_future(realtime.RealTimeDriver(lambda: app).tick())
        for _ in range(20):  # a settle would stay blocked on the waitUntil task
            await asyncio.sleep(0)
        finished = tick.done()
        behind = realtime.wall_clock_ms() - app.clock.now_ms()
        release.set()
        await tick
        await app.settle()
        return finished, behind

    finished, behind = asyncio.run(scenario())
    assert finished
    assert 0 <= behind < 5_000


def test_finished_wait_until_tasks_are_not_kept_until_the_next_settle():
    # The dev server's clock no longer settles on every tick (see above), so the Worker's
    # waitUntil tasks must not pile up in the app between settles.
    import asyncio

    from dosim import App
    from workers import Response, WorkerEntrypoint

    async def quick():
        await asyncio.sleep(0)

    class Default(WorkerEntrypoint):
        async def fetch(self, request):
            self.ctx.waitUntil(quick())
            return Response("ok")

    async def scenario():
        app = App(Default, {})
        for _ in range(50):
            await app.fetch("/")
        for _ in range(5):
            await asyncio.sleep(0)
        return len(app._background)

    assert asyncio.run(scenario()) == 0


# -- bad input -----------------------------------------------------------------------------
def test_oversize_body_gets_413_and_the_server_keeps_serving(app_dir):
    with ThreadedServer(app_dir, in_memory=True, max_body_bytes=64 * 1024) as server:
        # Declared too large: refused before reading.
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
            s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000000\r\n\r\n")
            declared = s.recv(4096)
        # Streamed past the limit (chunked, no length).
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
            s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
            chunk = b"x" * 16_384
            with contextlib.suppress(OSError):
                for _ in range(5):
                    s.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            streamed = s.recv(4096)
        just_fits = server.post("/echo", body=b"y" * (64 * 1024))
        after = server.get("/version")
    assert declared.startswith(b"HTTP/1.1 413")
    assert streamed.startswith(b"HTTP/1.1 413")
    assert just_fits[0] == 201
    assert after == (200, after[1], b"v1")


def test_url_over_16_kb_gets_414(app_dir):
    with ThreadedServer(app_dir, in_memory=True) as server:
        too_long = server.get("/version?" + "q" * 17_000)
        fits = server.get("/version?" + "q" * 15_000)
    assert too_long[0] == 414
    assert fits[0] == 200


def _raw_exchange(port, data, timeout=5.0, piece=None, pause=0.01):
    """Send raw bytes; return what the server answers until it closes (or b"" on reset).

    With ``piece``, the bytes go in pieces of that size with ``pause`` seconds between
    them, so the server reads them piece by piece.
    """
    piece = piece or len(data) or 1
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        with contextlib.suppress(OSError):
            for start in range(0, len(data), piece):
                s.sendall(data[start : start + piece])
                if piece < len(data):
                    time.sleep(pause)
        received = b""
        with contextlib.suppress(OSError):
            while chunk := s.recv(65536):
                received += chunk
        return received


def test_headers_up_to_cloudflares_128_kb_reach_the_worker(app_dir):
    headers = {f"x-big-{i}": "v" * 12_000 for i in range(9)}  # 108 KB in all
    headers["x-test"] = "still here"
    with ThreadedServer(app_dir, in_memory=True) as server:
        status, _, body = server.post("/echo", body=b"hi", headers=headers)
    assert status == 201, body
    assert json.loads(body)["x_test"] == "still here"


def test_headers_over_128_kb_get_431_with_a_reason_and_the_server_keeps_serving(app_dir):
    many = b"".join(b"x-big-%d: %s\r\n" % (i, b"v" * 12_000) for i in range(11))  # 132 KB
    one = b"x-huge: " + b"v" * 200_000 + b"\r\n"  # over h11's buffer: refused mid-stream
    with ThreadedServer(app_dir, in_memory=True) as server:
        parsed = _raw_exchange(
            server.port, b"GET /version HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n"
        )
        streamed = _raw_exchange(
            server.port, b"GET /version HTTP/1.1\r\nHost: x\r\n" + one + b"\r\n"
        )
        long_url = _raw_exchange(
            server.port, b"GET /" + b"q" * 200_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        long_url_in_pieces = _raw_exchange(
            server.port, b"GET /" + b"q" * 200_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", piece=16_384
        )
        url_just_over = _raw_exchange(
            server.port, b"GET /" + b"q" * 16_384 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        after = server.get("/version")
    for answer in (parsed, streamed):
        assert answer.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n"), answer[:200]
        assert b"128 KB" in answer
    for answer in (long_url, long_url_in_pieces, url_just_over):
        assert answer.startswith(b"HTTP/1.1 414 "), answer[:200]
    assert after[0] == 200 and after[2] == b"v1"


@pytest.fixture
def short_timeouts(monkeypatch):
    from dosim.dev import httpprotocol

    monkeypatch.setattr(httpprotocol, "HEAD_TIMEOUT_SECONDS", 0.5)
    monkeypatch.setattr(httpprotocol, "BODY_TIMEOUT_SECONDS", 0.8)
    monkeypatch.setattr(httpprotocol, "KEEP_ALIVE_SECONDS", 0.5)


def _trickle(port, head, pause=0.1, limit=6.0):
    """Send ``head`` one byte at a time (then keep sending); return (answer, seconds)."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=limit) as s:
        data = head + b"x" * 1000
        try:
            for byte in data:
                s.sendall(bytes([byte]))
                time.sleep(pause)
                if time.monotonic() - started > limit:
                    break
        except OSError:
            pass
        answer = b""
        with contextlib.suppress(OSError):
            while chunk := s.recv(4096):
                answer += chunk
    return answer, time.monotonic() - started


def test_a_request_head_sent_byte_by_byte_is_cut_off_with_408(app_dir, short_timeouts):
    with ThreadedServer(app_dir, in_memory=True) as server:
        answer, took = _trickle(server.port, b"GET /version HTTP/1.1\r\nX-Slow: ")
        assert server.get("/version")[2] == b"v1"
    assert took < 3.0, f"the slow client was served for {took:.1f} s"
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout"), answer


def test_a_body_that_never_finishes_is_cut_off_and_others_are_served(app_dir, short_timeouts):
    with ThreadedServer(app_dir, in_memory=True) as server:
        slow = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        slow.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc")
        started = time.monotonic()
        assert server.get("/version")[2] == b"v1"  # served while the body is awaited
        with contextlib.suppress(OSError):
            while slow.recv(4096):
                pass
        took = time.monotonic() - started
        slow.close()
    assert took < 3.0, f"the unfinished body held the connection {took:.1f} s"


def test_silent_and_idle_keep_alive_connections_are_closed(app_dir, short_timeouts):
    with ThreadedServer(app_dir, in_memory=True) as server:
        started = time.monotonic()
        silent = _raw_exchange(server.port, b"", timeout=5)
        silent_took = time.monotonic() - started
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        conn.request("GET", "/version")
        assert conn.getresponse().read() == b"v1"
        started = time.monotonic()
        assert conn.sock.recv(1) == b""  # the server closed the idle connection
        idle_took = time.monotonic() - started
        conn.close()
    assert silent == b"" and silent_took < 3.0
    assert idle_took < 3.0


def test_garbage_request_line_gets_400_and_the_server_keeps_serving(app_dir):
    with ThreadedServer(app_dir, in_memory=True) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
            s.sendall(b"\x16\x03\x01 THIS IS NOT HTTP\r\n\r\n")
            answer = s.recv(4096)
        after = server.get("/version")
    assert answer.startswith(b"HTTP/1.1 400")
    assert after[0] == 200


# -- inspector -----------------------------------------------------------------------------
def test_inspector_shows_namespaces_objects_storage_and_trace_read_only(app_dir):
    with ThreadedServer(app_dir) as server:
        server.post("/add/shown/k1")
        server.post("/add/shown/k2")
        request(server.port, "PUT", "/kv/shown/greeting", body=b'{"hello": [1, 2]}')
        server.post("/remind/shown?ms=600000")

        status, headers, page = server.get("/__dosim/")
        assert status == 200 and b"read-only" in page
        app = server.api("/app")
        assert app["name"] == "devtest" and app["read_only"] is True
        assert server.api("/namespaces") == [
            {"binding": "LOG", "class": "Log", "backend": "sqlite", "objects": 1}
        ]
        [obj] = server.api("/namespaces/LOG/objects")
        assert obj["name"] == "shown" and obj["alarm"] is not None
        base = f"/namespaces/LOG/objects/{obj['id']}"
        detail = server.api(base)
        assert detail["kv_entries"] == 1
        assert detail["tables"] == [{"name": "entries", "rows": 2}]
        kv = server.api(base + "/kv")
        [entry] = kv["entries"]
        assert (entry["key"], entry["value"]) == ("greeting", '{"hello": [1, 2]}')
        page1 = server.api(base + "/sql/entries?limit=1")
        page2 = server.api(base + "/sql/entries?limit=1&offset=1")
        assert page1["columns"] == ["key"] and page1["total"] == 2
        assert [page1["rows"], page2["rows"]] == [[["k1"]], [["k2"]]]
        assert server.get(f"/__dosim/api{base}/sql/_cf_KV")[0] == 404, "dosim's tables stay hidden"

        trace = server.api("/trace?after=0")
        kinds = {event["kind"] for event in trace["events"]}
        assert {"request", "rpc.call", "storage", "commit", "alarm.set"} <= kinds
        newer = server.api(f"/trace?after={trace['cursor']}")
        assert newer["events"] == []
        assert server.post("/__dosim/api/namespaces")[0] == 403, "writes need the token"


# -- reload --------------------------------------------------------------------------------
def test_reload_swaps_code_keeps_storage_and_lets_running_requests_finish(app_dir):
    with ThreadedServer(app_dir, watch=True) as server:
        server.post("/add/kept/before")
        slow_answer = {}
        slow = threading.Thread(
            target=lambda: slow_answer.update(answer=server.get("/slow?s=1.5")[2])
        )
        slow.start()
        time.sleep(0.3)  # the slow request is running on the old app
        worker = app_dir / "worker.py"
        worker.write_text(worker.read_text().replace('VERSION = "v1"', 'VERSION = "v2"'))
        wait_until(lambda: server.get("/version")[2] == b"v2", timeout=10, what="the reload")
        slow.join(10)
        keys = json.loads(server.get("/keys/kept")[2])
        reloads = server.api("/app")["reloads"]
    assert slow_answer["answer"] == b"v1", "the running request finished on the old code"
    assert keys == ["before"]
    assert reloads == 1


def test_reload_with_broken_code_keeps_serving_the_old_code(app_dir, caplog):
    caplog.set_level(logging.INFO, logger="dosim.dev")
    with ThreadedServer(app_dir, watch=True) as server:
        time.sleep(0.3)  # let the watcher start before the file changes
        (app_dir / "worker.py").write_text(WORKER + "\nthis is not python\n")
        wait_until(
            lambda: any("reload failed" in r.getMessage() for r in caplog.records),
            timeout=10,
            what="the failed reload",
        )
        answer = server.get("/version")
    assert answer[0] == 200 and answer[2] == b"v1"


# -- kill -9 -------------------------------------------------------------------------------
def start_subprocess(app_dir: Path, port: int, log: Path) -> subprocess.Popen:
    return dev_helpers.start_dev_subprocess(app_dir, port, log)


stop_subprocess = dev_helpers.stop_dev_subprocess


def test_kill_9_under_write_load_loses_no_acknowledged_write(tmp_path):
    app_dir = make_app(tmp_path / "app")
    log = tmp_path / "server.log"
    port = free_port()
    process = start_subprocess(app_dir, port, log)
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    total, threads_count = 2_000, 4

    def writer(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            for n in range(total // threads_count):
                if stop.is_set():
                    return
                key = f"w{index}-{n}"
                conn.request("POST", f"/add/log{index % 3}/{key}")
                response = conn.getresponse()
                if response.read() == b"ok" and response.status == 200:
                    with lock:
                        acknowledged.append(key)
        except (OSError, http.client.HTTPException):
            return  # the server was killed under us
        finally:
            conn.close()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(threads_count)]
    try:
        for thread in threads:
            thread.start()
        wait_until(lambda: len(acknowledged) >= 300, timeout=20, what="300 acknowledged writes")
        os.kill(process.pid, signal.SIGKILL)
        process.wait(5)
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
        stop_subprocess(process)
    acked = set(acknowledged)
    assert 300 <= len(acked) < total, "killed mid-load"

    port = free_port()
    process = start_subprocess(app_dir, port, log)
    try:
        stored: set[str] = set()
        for name in ("log0", "log1", "log2"):
            status, _, body = request(port, "GET", f"/keys/{name}")
            assert status == 200
            stored.update(json.loads(body))
    finally:
        stop_subprocess(process)
    assert acked <= stored, f"{len(acked - stored)} acknowledged writes lost"
