"""Bridging real WebSockets (browsers, ``websockets`` clients) to the simulated Worker.

uvicorn hands WebSocket upgrades to the ASGI app as ``websocket`` scopes, which
:class:`dosim.dev.web.AsgiApp` passes to :func:`bridge_websocket`:

1. The upgrade becomes a Worker ``Request`` (``GET``, the URL with an ``http(s)``
   scheme as workerd shows it, every header including ``Upgrade: websocket``) and goes
   through ``server.app.fetch`` like any HTTP request: inside
   :func:`dosim.dev.requestlog.recording` (one log line naming the objects touched) and
   :meth:`~dosim.dev.server.DevServer.track_request` (a reload lets it finish on the old
   app).
2. Not ``101`` with a ``web_socket``: the upgrade is refused with the Worker's status,
   headers and body (ASGI ``websocket.http.response``; a server without that extension
   gets a close ``1008`` and a log line). A Worker exception is a ``500`` with the
   traceback, as for HTTP.
3. Otherwise the real socket is accepted (with the subprotocol the Worker chose, if
   any) and a :class:`RealSocketBridge` takes the client end, the way
   :class:`dosim.websockets.WebSocketClient` does (:func:`dosim.websockets.attach_receiver`):
   events the object sends to the client end are queued and
   written to the real socket by one task; frames from the real socket go to
   ``client_end.send``. No polling.

Closes, both ways:

* the object closes (code, reason) → the real socket is closed with them (``1005``,
  "no code", goes out as ``1000``; ``1006``, the object was reset, goes out as
  ``1011`` since ``1006`` cannot be sent on the wire);
* the real client closes (code, reason) → ``client_end.close(code, reason)``; a close
  frame without a code → the object sees ``1005``; a connection dropped without a close
  frame → ``disconnect(client_end)``: the object sees ``1006``, ``wasClean`` false.

Bad input: uvicorn's ``ws_max_size`` is :data:`WS_MAX_SIZE` (32 MiB + 64 KiB), so a
message just over the platform's 32 MiB (:data:`dosim.websockets.MAX_MESSAGE_BYTES`)
reaches the simulator, which closes with ``1009``; frames over :data:`WS_MAX_SIZE` are
closed with ``1009`` by the websockets library. Invalid UTF-8 gets ``1007``, protocol
errors ``1002`` (both from the websockets library); the server keeps serving.

Reload: sockets stay connected across an idle eviction (hibernation), not across a
reload. When the app is swapped, the old app's bridged sockets are closed with ``1012``
(service restart); the old object gets no close event (its instance is discarded, as
after a code update on Cloudflare).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from typing import Any

from ..cpulimit import CpuLimitExceeded
from ..websockets import (
    CLOSED,
    MAX_MESSAGE_BYTES,
    OPEN,
    SocketEvent,
    abandon,
    attach_receiver,
    disconnect,
    transmit,
)
from ..workers.request import Request as WorkerRequest
from . import bridge, requestlog
from .web import WebSocket

__all__ = [
    "bridge_websocket",
    "RealSocketBridge",
    "BridgeRegistry",
    "WS_MAX_SIZE",
    "RELOAD_CLOSE_CODE",
]

WS_MAX_SIZE = MAX_MESSAGE_BYTES + 64 * 1024
"""uvicorn's ``ws_max_size``: a little over the platform's 32 MiB message limit."""
RELOAD_CLOSE_CODE = 1012
"""Close code sent to bridged sockets when the app reloads (service restart)."""
RELOAD_CLOSE_REASON = "dosim dev reloaded the app"
RESET_CLOSE_CODE = 1011
"""Sent on the wire when the object's end dropped (1006 cannot be sent in a close frame)."""
_LEFT_GRACE_SECONDS = 5.0
"""How long a send that found the client gone waits for the inbound side to report how
it left (its close code) before reporting a dropped connection itself."""
_SENDS_PER_TURN = 4
"""Messages sent to a client before the bridge lets the event loop run once. A write that
finds the client gone only schedules the transport's ``connection_lost``; asyncio and
uvloop log "socket.send() raised exception." from the fifth write after that, so the
bridge yields before that many and learns of the departure first."""
_MAX_REASON_BYTES = 123  # a close frame's payload is ≤ 125 bytes, 2 of them the code
_HANDSHAKE_HEADERS = frozenset(
    {
        "upgrade",
        "connection",
        "sec-websocket-accept",
        "sec-websocket-protocol",
        "sec-websocket-extensions",
        "content-length",
        "transfer-encoding",
    }
)

log = logging.getLogger("dosim.dev")


def _wire_reason(reason: str | None) -> str:
    raw = (reason or "").encode("utf-8")
    if len(raw) <= _MAX_REASON_BYTES:
        return reason or ""
    return raw[:_MAX_REASON_BYTES].decode("utf-8", "ignore")


class RealSocketBridge:
    """Pump one real WebSocket to and from a simulated client end.

    Attaches to the client end like :class:`dosim.websockets.WebSocketClient`: the
    simulator calls :meth:`_receive` with ``("message", (data, size))`` or ``("close",
    (code, reason, wasClean))`` when the object sends or closes.

    Args:
        end: The client end (``Response(..., web_socket=end)``).
        websocket: The accepted WebSocket.
    """

    def __init__(self, end: Any, websocket: WebSocket) -> None:
        self._end = end
        self._ws = websocket
        # What the object sent, for _outbound; a deque and one waiter rather than an
        # asyncio.Queue, whose bookkeeping was a quarter of the cost of a message sent on.
        self._outbox: deque[tuple[str, Any]] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self.messages_in = 0
        self.messages_out = 0
        self.close_code: int | None = None
        self.close_reason = ""
        self.closed_by = ""
        attach_receiver(end, self._receive)

    # -- called by the simulator --------------------------------------------------------
    def _receive(self, event: SocketEvent) -> None:
        self._outbox.append(event)
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    # -- called by the server -----------------------------------------------------------
    def shutdown(self, code: int = RELOAD_CLOSE_CODE, reason: str = RELOAD_CLOSE_REASON) -> None:
        """Close the real socket with ``code`` without telling the object (reload).

        Args:
            code: The close code sent to the real client.
            reason: The close reason.
        """
        abandon(self._end)
        self._receive(("shutdown", (code, reason)))

    async def run(self) -> None:
        """Pump both ways until either side closes."""
        inbound = asyncio.ensure_future(self._inbound())
        outbound = asyncio.ensure_future(self._outbound())
        try:
            done, _ = await asyncio.wait({inbound, outbound}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (inbound, outbound):
                if not task.done():
                    task.cancel()
            for task in (inbound, outbound):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                error = task.exception()
                log.warning(
                    "dosim dev: WebSocket bridge error: %s: %s", type(error).__name__, error
                )
                self._drop_end()

    def _drop_end(self) -> None:
        if self._end.readyState != CLOSED:
            disconnect(self._end)

    async def _inbound(self) -> None:
        """Real client → client end."""
        while True:
            message = await self._ws.receive()
            kind = message["type"]
            if kind == "websocket.receive":
                text = message.get("text")
                data: str | bytes | None = text if text is not None else message.get("bytes")
                if data is None or self._end.readyState != OPEN:
                    continue  # the object already closed: frames in flight are dropped
                self.messages_in += 1
                transmit(self._end, data)
            elif kind == "websocket.disconnect":
                self._client_closed(message)
                return

    def _client_closed(self, message: dict[str, Any]) -> None:
        code = int(message.get("code") or 1005)
        reason = message.get("reason")
        self.closed_by = "client"
        self.close_code, self.close_reason = code, reason or ""
        end = self._end
        if end.readyState == CLOSED:
            return
        if reason is None or code == 1006:
            # uvicorn reports a lost connection without a reason: no close frame came.
            self.close_code, self.close_reason = 1006, "connection dropped"
            disconnect(end)
            return
        if code == 1005:
            end.close()
            return
        try:
            end.close(code, reason)
        except Exception:  # noqa: BLE001 - a code the platform refuses from app code
            disconnect(end)

    async def _outbound(self) -> None:
        """Client end (what the object sent) → real client."""
        sent_this_turn = 0
        while True:
            while not self._outbox:
                self._waiter = asyncio.get_running_loop().create_future()
                await self._waiter
                sent_this_turn = 0
            if sent_this_turn >= _SENDS_PER_TURN:
                await asyncio.sleep(0)
                sent_this_turn = 0
            kind, payload = self._outbox.popleft()
            if kind == "message":
                data = payload[0]
                if isinstance(data, str):
                    frame = {"type": "websocket.send", "text": data}
                else:
                    frame = {"type": "websocket.send", "bytes": data.to_bytes()}
                try:
                    await self._ws.send(frame)
                except OSError:  # uvicorn's ClientDisconnected: the client left
                    await self._client_left_while_sending()
                    return
                self.messages_out += 1
                sent_this_turn += 1
                continue
            if kind == "shutdown":
                code, reason = payload
                self.closed_by = "reload"
            else:
                code, reason, _clean = payload
                self.closed_by = "object"
            self.close_code, self.close_reason = code, reason or ""
            if code == 1005:
                code = 1000
            elif code == 1006:
                code, reason = RESET_CLOSE_CODE, reason or "the Durable Object was reset"
            with contextlib.suppress(Exception):
                await self._ws.send(
                    {"type": "websocket.close", "code": code, "reason": _wire_reason(reason)}
                )
            return

    async def _client_left_while_sending(self) -> None:
        """The client went away while the object was sending to it: a normal departure.

        The inbound side has (or is about to have) the ``websocket.disconnect`` saying
        how it left, with the client's close code; it ends :meth:`run`, which cancels
        this wait. Only if it never comes is the connection reported as dropped.
        """
        await asyncio.sleep(_LEFT_GRACE_SECONDS)
        self._client_closed({"code": 1006, "reason": None})


class BridgeRegistry:
    """The open bridges, by the app serving them (a reload closes the old app's)."""

    def __init__(self) -> None:
        self._by_app: dict[int, set[RealSocketBridge]] = {}

    def add(self, app: Any, bridge_: RealSocketBridge) -> None:
        """Register an open bridge.

        Args:
            app: The app whose object holds the other end.
            bridge_: The bridge.
        """
        self._by_app.setdefault(id(app), set()).add(bridge_)

    def discard(self, app: Any, bridge_: RealSocketBridge) -> None:
        """Forget a closed bridge.

        Args:
            app: The app it was registered with.
            bridge_: The bridge.
        """
        bridges = self._by_app.get(id(app))
        if bridges is not None:
            bridges.discard(bridge_)
            if not bridges:
                del self._by_app[id(app)]

    def count(self) -> int:
        """How many bridged sockets are open."""
        return sum(len(bridges) for bridges in self._by_app.values())

    def close_app(self, app: Any) -> int:
        """Close every socket bridged to ``app`` with 1012 (the app is being replaced).

        Args:
            app: The retired app.

        Returns:
            How many sockets were closed.
        """
        bridges = self._by_app.pop(id(app), set())
        for bridge_ in bridges:
            bridge_.shutdown()
        return len(bridges)


def worker_request(websocket: WebSocket) -> WorkerRequest:
    """The Worker's ``Request`` for an upgrade: ``GET``, ``http(s)`` URL, all headers.

    Args:
        websocket: The incoming, not yet accepted, WebSocket.
    """
    scheme = "https" if websocket.scope.get("scheme") == "wss" else "http"
    url = bridge.raw_url(websocket.scope, scheme)
    headers = [
        (name.decode("latin-1"), value.decode("latin-1")) for name, value in websocket.headers.raw
    ]
    return WorkerRequest(url, method="GET", headers=headers)


async def _refuse(websocket: WebSocket, response: Any) -> None:
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(response)
        return
    log.warning(
        "dosim dev: the server cannot send the Worker's %s to a WebSocket upgrade; closing "
        "with 1008",
        response.status_code,
    )
    await websocket.close(code=1008, reason=f"upgrade refused: {response.status_code}")


def _accept_options(result: Any) -> tuple[str | None, list[tuple[bytes, bytes]]]:
    subprotocol: str | None = None
    headers: list[tuple[bytes, bytes]] = []
    for name, value in result.headers.items():
        lower = name.lower()
        if lower == "sec-websocket-protocol":
            subprotocol = str(value).split(",")[0].strip() or None
        elif lower not in _HANDSHAKE_HEADERS:
            headers.append((lower.encode("latin-1"), str(value).encode("latin-1")))
    return subprotocol, headers


async def bridge_websocket(server: Any, websocket: WebSocket) -> None:
    """Serve one real WebSocket through the Worker (see the module docstring).

    Args:
        server: The :class:`~dosim.dev.server.DevServer`.
        websocket: The WebSocket, not yet accepted.
    """
    path = websocket.path
    if websocket.query:
        path += "?" + websocket.query
    started = time.perf_counter()
    app = server.app
    end: Any = None
    refusal: Any = None
    error: str | None = None
    result: Any = None
    with requestlog.recording() as touched, server.track_request(app):
        try:
            if len(bridge.raw_url(websocket.scope)) > bridge.MAX_URL_BYTES:
                refusal = bridge.url_too_long_response()
            else:
                result = await app.fetch(worker_request(websocket))
                socket = getattr(result, "web_socket", None)
                if getattr(result, "status", None) == 101 and socket is not None:
                    end = socket
                elif getattr(result, "status", None) == 101:
                    raise RuntimeError("the Worker answered 101 without a web_socket")
                else:
                    refusal = await bridge.to_http_response(result)
        except Exception as failure:  # noqa: BLE001 - shown as a 500 in dev
            error = f"{type(failure).__name__}: {failure}"
            refusal = bridge.worker_error_response(failure)
        except CpuLimitExceeded as exceeded:
            error = f"{type(exceeded).__name__}: {exceeded}"
            refusal = bridge.cpu_limit_response()
    status = 101 if end is not None else refusal.status_code
    log.info(
        requestlog.format_line(
            "GET", path, status, (time.perf_counter() - started) * 1000, touched, error
        )
    )
    if end is None:
        await _refuse(websocket, refusal)
        return
    subprotocol, headers = _accept_options(result)
    registry: BridgeRegistry = server.websockets
    try:
        await websocket.accept(subprotocol=subprotocol, headers=headers)
    except Exception:  # noqa: BLE001 - the client left during the handshake
        disconnect(end)
        return
    pump = RealSocketBridge(end, websocket)
    registry.add(app, pump)
    opened = time.perf_counter()
    try:
        await pump.run()
    finally:
        registry.discard(app, pump)
        if end.readyState != CLOSED:
            disconnect(end)
    log.info(
        "WS %s closed %s by %s after %.1f s (%d in, %d out)%s",
        requestlog.printable(path),
        pump.close_code,
        pump.closed_by or "server",
        time.perf_counter() - opened,
        pump.messages_in,
        pump.messages_out,
        f": {requestlog.printable(pump.close_reason)}" if pump.close_reason else "",
    )
