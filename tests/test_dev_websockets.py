"""`dosim dev` bridges real WebSockets to the Worker: the chat example over real sockets.

The chat app (examples/chat) is served by uvicorn in a thread of this process on a free
127.0.0.1 port, with its state in a temporary folder; clients are the `websockets`
library's synchronous client. Every wait is bounded and every server is stopped.
"""

import base64
import json
import logging
import os
import shutil
import socket
import struct
import sys
import time
from pathlib import Path

import pytest

if sys.platform == "emscripten":
    pytest.skip("the dev server needs sockets and threads", allow_module_level=True)
pytest.importorskip("uvicorn")
pytest.importorskip("websockets")

import dev_helpers  # noqa: E402
from websockets.exceptions import ConnectionClosed, InvalidStatus  # noqa: E402
from websockets.sync.client import connect  # noqa: E402

from dosim.dev.websocket_seam import WS_MAX_SIZE  # noqa: E402
from dosim.websockets import MAX_MESSAGE_BYTES  # noqa: E402

CHAT = Path(__file__).resolve().parent.parent / "examples" / "chat"
TIMEOUT = 10.0


def wait_until(predicate, timeout=TIMEOUT, step=0.05, what="condition"):
    return dev_helpers.wait_until(predicate, timeout, step, what)


class ThreadedServer(dev_helpers.ThreadedServer):
    """The shared threaded server for the chat app, state in ``state``, with WS shortcuts."""

    def __init__(self, app_dir: Path, state: Path, **options):
        super().__init__(app_dir, persist_to=state, **options)

    def url(self, path="/room/lobby/ws"):
        return f"ws://127.0.0.1:{self.port}{path}"

    def connect(self, path="/room/lobby/ws", **options):
        options.setdefault("open_timeout", TIMEOUT)
        options.setdefault("close_timeout", 2)
        return connect(self.url(path), **options)

    def http_get(self, path):
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def closes(self, **match):
        return self.dev.app.trace.filter("websocket.close", **match)


def receive(ws, timeout=TIMEOUT):
    return json.loads(ws.recv(timeout=timeout))


def receive_until(ws, predicate, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("timed out waiting for a matching message")
        message = receive(ws, left)
        if predicate(message):
            return message


def join(ws, name):
    ws.send(json.dumps({"type": "join", "name": name}))
    history = receive(ws)
    assert history["type"] == "history"
    receive_until(ws, lambda m: m["type"] == "presence" and name in m["users"])
    return history


def close_code(ws, timeout=TIMEOUT):
    """Wait for the server's close; return (code, reason)."""
    with pytest.raises(ConnectionClosed):
        while True:
            ws.recv(timeout=timeout)
    received = ws.protocol.close_rcvd
    assert received is not None, "no close frame from the server"
    return received.code, received.reason


@pytest.fixture
def server(tmp_path):
    with ThreadedServer(CHAT, tmp_path / "state") as running:
        yield running


# -- the chat app over real sockets --------------------------------------------------------
def test_two_clients_join_broadcast_and_leave(server, caplog):
    caplog.set_level(logging.INFO, logger="dosim.dev")
    with server.connect() as alice, server.connect() as bob:
        assert join(alice, "alice")["messages"] == []
        join(bob, "bob")
        seen = receive_until(alice, lambda m: m["type"] == "presence" and "bob" in m["users"])
        assert seen["users"] == ["alice", "bob"]

        alice.send(json.dumps({"type": "message", "text": "hello, bob"}))
        for ws in (alice, bob):
            message = receive_until(ws, lambda m: m["type"] == "message")
            assert (message["name"], message["text"]) == ("alice", "hello, bob")

        bob.close(1000, "bye now")
        left = receive_until(alice, lambda m: m["type"] == "presence" and "left" in m)
        assert left == {"type": "presence", "users": ["alice"], "left": "bob"}

        # history on join, through the SQL the room keeps on disk
        with server.connect() as carol:
            assert [m["text"] for m in join(carol, "carol")["messages"]] == ["hello, bob"]
    wait_until(lambda: server.closes(by="client", code=1000, reason="bye now"), what="close")
    lines = [r.getMessage() for r in caplog.records]
    upgrade = [line for line in lines if line.startswith("GET /room/lobby/ws 101 ")]
    assert upgrade and "ROOMS:lobby" in upgrade[0]
    wait_until(
        lambda: any(r.getMessage().startswith("WS /room/lobby/ws closed") for r in caplog.records),
        what="the close log line",
    )


def test_auto_response_ping_is_answered(server):
    with server.connect() as ws:
        ws.send("ping")
        assert ws.recv(timeout=TIMEOUT) == "pong"


def test_close_code_and_reason_reach_the_object(server):
    with server.connect() as ws:
        join(ws, "dora")
        ws.close(4001, "gone fishing")
    event = wait_until(lambda: server.closes(by="client", code=4001), what="the close")[0]
    assert event.detail["reason"] == "gone fishing"


def test_dropped_connection_is_seen_by_the_object_as_1006(server):
    with server.connect() as alice, server.connect() as bob:
        join(alice, "alice")
        join(bob, "bob")
        receive_until(alice, lambda m: m["type"] == "presence" and "bob" in m["users"])
        bob.socket.shutdown(socket.SHUT_RDWR)  # no close frame
        bob.socket.close()
        left = receive_until(alice, lambda m: m["type"] == "presence" and "left" in m)
        assert left["left"] == "bob"
    event = wait_until(lambda: server.closes(by="client", code=1006), what="the 1006")[0]
    assert event.detail["code"] == 1006


@pytest.mark.parametrize("how", ["close", "shutdown", "reset"])
def test_a_client_leaving_while_the_room_broadcasts_logs_no_warning(server, caplog, how):
    # The object may be sending to a client whose connection just ended: that is a normal
    # departure, not a bridge error, whichever way the client left.
    caplog.set_level(logging.INFO)
    uvicorn_logger = logging.getLogger("uvicorn")  # does not propagate to the root
    uvicorn_logger.addHandler(caplog.handler)
    try:
        for round_ in range(4):
            with server.connect(close_timeout=0.2) as alice, server.connect() as bob:
                join(alice, "alice")
                join(bob, f"bob{round_}")
                for _ in range(40):
                    alice.send(json.dumps({"type": "message", "text": "y" * 2000}))
                if how == "close":
                    bob.close()
                elif how == "shutdown":
                    bob.socket.shutdown(socket.SHUT_RDWR)
                    bob.socket.close()
                else:
                    linger = struct.pack("ii", 1, 0)  # close with a TCP reset
                    bob.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                    bob.socket.close()
                for _ in range(40):
                    alice.send(json.dumps({"type": "message", "text": "z" * 2000}))
                receive_until(alice, lambda m: m["type"] == "presence" and "left" in m)
        wait_until(
            lambda: sum(r.getMessage().startswith("WS ") for r in caplog.records) >= 8,
            what="every close log line",
        )
    finally:
        uvicorn_logger.removeHandler(caplog.handler)
    noisy = [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    assert not noisy, [r.getMessage() for r in noisy]


# -- refusals ------------------------------------------------------------------------------
def test_plain_get_of_the_socket_path_gets_426(server):
    status, body = server.http_get("/room/lobby/ws")
    assert status == 426 and body == b"expected a WebSocket upgrade\n"


def test_upgrade_the_worker_refuses_gets_its_status_and_body(server):
    with pytest.raises(InvalidStatus) as refused:
        server.connect("/no/such/place")
    assert refused.value.response.status_code == 404
    assert refused.value.response.body == b"not found\n"


def test_an_upgrade_reaches_the_worker_with_the_url_as_sent(server):
    # As for plain HTTP (test_dev_server.py): workerd does not decode the URL.
    with pytest.raises(InvalidStatus):
        server.connect("/no%2Fsuch/x%0Ay?q=%FF")
    urls = [event.detail["url"] for event in server.dev.app.trace.filter("request")]
    assert urls[-1] == f"http://127.0.0.1:{server.port}/no%2Fsuch/x%0Ay?q=%FF"


# -- bad input -----------------------------------------------------------------------------
def test_message_over_32_mib_is_closed_with_1009_by_the_simulator(server):
    with server.connect(max_size=None, compression=None) as ws:
        join(ws, "big")
        ws.send(b"x" * (MAX_MESSAGE_BYTES + 1))
        assert close_code(ws, timeout=30) == (1009, "Message is too large")
    assert server.closes(by="object", code=1009)
    with server.connect() as again:  # still serving
        join(again, "after")


def _raw_handshake(port):
    raw = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    key = base64.b64encode(os.urandom(16)).decode()
    raw.sendall(
        (
            "GET /room/lobby/ws HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    reply = b""
    while b"\r\n\r\n" not in reply:
        chunk = raw.recv(4096)
        assert chunk, "connection closed during the handshake"
        reply += chunk
    assert reply.startswith(b"HTTP/1.1 101"), reply
    return raw, reply.split(b"\r\n\r\n", 1)[1]


def _read_close_code(raw, already=b""):
    data = already
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if len(data) >= 4 and data[0] & 0x0F == 0x8:
            return struct.unpack("!H", data[2:4])[0]
        chunk = raw.recv(4096)
        if not chunk:
            break
        data += chunk
    raise AssertionError(f"no close frame: {data!r}")


def test_frame_over_the_server_limit_is_closed_with_1009(server):
    # Only the header is sent (a masked binary frame declaring WS_MAX_SIZE + 1 bytes): the
    # server refuses it from the length alone, so the test does not race a 32 MiB upload.
    raw, rest = _raw_handshake(server.port)
    try:
        raw.sendall(b"\x82\xff" + struct.pack("!Q", WS_MAX_SIZE + 1) + b"\x00\x00\x00\x00")
        assert _read_close_code(raw, rest) == 1009
    finally:
        raw.close()
    assert server.http_get("/")[0] == 200


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        (b"\x81\x05hello", 1002),  # unmasked client frame: protocol error
        (b"\x81\x82" + b"\x00\x00\x00\x00" + b"\xc3\x28", 1007),  # invalid UTF-8 text
    ],
    ids=["unmasked", "bad-utf8"],
)
def test_bad_frames_are_closed_and_the_server_keeps_serving(server, frame, expected):
    raw, rest = _raw_handshake(server.port)
    try:
        raw.sendall(frame)
        assert _read_close_code(raw, rest) == expected
    finally:
        raw.close()
    with server.connect() as ws:
        join(ws, "survivor")
    assert server.http_get("/")[0] == 200


# -- reload ----------------------------------------------------------------------------------
def test_reload_closes_bridged_sockets_with_1012_and_new_ones_work(tmp_path):
    app_dir = tmp_path / "chat"
    shutil.copytree(CHAT, app_dir, ignore=shutil.ignore_patterns(".dosim", "__pycache__"))
    with ThreadedServer(app_dir, tmp_path / "state", watch=True) as running:
        with running.connect() as ws:
            join(ws, "before")
            worker = app_dir / "src" / "entry.py"
            worker.write_text(worker.read_text() + "\n# changed\n")
            code, reason = close_code(ws, timeout=20)
            assert (code, reason) == (1012, "dosim dev reloaded the app")
        assert running.dev.reloads == 1
        with running.connect() as fresh:
            join(fresh, "after")
        assert running.dev.websockets.count() <= 1
