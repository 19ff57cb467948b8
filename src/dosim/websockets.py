"""WebSockets: ``WebSocketPair``, the standard API, and the hibernation API's sockets.

A ``WebSocketPair`` is two connected ends. An object keeps the *server* end and returns
the *client* end in ``Response(None, status=101, web_socket=client)``; whoever receives
that response talks through the client end. In Python Workers the pair comes from
JavaScript (``from js import WebSocketPair``); inside dosim ``js`` resolves to
:mod:`dosim.js`, which offers the same names.

Two ways to accept the server end:

* **standard** — ``server.accept()`` then ``server.addEventListener("message", fn)``.
  The object stays in memory while the socket is open (it cannot hibernate).
* **hibernatable** — ``self.ctx.acceptWebSocket(server, tags)``; messages go to the
  class's ``webSocketMessage(ws, message)``, closes to ``webSocketClose(ws, code, reason,
  wasClean)``. After 10 s idle the instance is evicted while sockets stay connected; the
  next message constructs a fresh instance and calls the handler. Attachments
  (``serializeAttachment``) survive; in-memory fields do not.

Tests and tutorials talk to an app over WebSockets with :meth:`dosim.App.connect`, which
returns a :class:`WebSocketClient`.

Where dosim chooses: a side that calls ``close()`` does not get a close event back (the
peer does, with the code and reason); binary messages arrive as an ``ArrayBuffer``
stand-in (``to_bytes()``), text as ``str``; an exception raised by a message handler is
recorded in the trace (``websocket.error``) and the socket stays open; every reset of the
object disconnects all its sockets (close code 1006), not only code updates; the
attachment limit is the documented 2,048 bytes (workerd's code allows 16 KiB).
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections import deque
from typing import TYPE_CHECKING, Any

from .current import current_incarnation
from .errors import platform_error
from .serialization import decode_value, encode_value
from .settle import wait_all_tasks_blocked
from .workers.body import ArrayBuffer

if TYPE_CHECKING:
    from .host import Incarnation, ObjectHost

__all__ = [
    "WebSocket",
    "WebSocketPair",
    "WebSocketRequestResponsePair",
    "WebSocketClient",
    "WebSocketDisconnect",
    "MessageEvent",
    "CloseEvent",
    "MAX_MESSAGE_BYTES",
    "MAX_ATTACHMENT_BYTES",
]

CONNECTING, OPEN, CLOSING, CLOSED = 0, 1, 2, 3
MAX_MESSAGE_BYTES = 32 * 1024 * 1024
"""Largest message an object receives; larger ones close the socket with 1009."""
MAX_ATTACHMENT_BYTES = 2_048
"""``serializeAttachment`` limit (documented value; workerd's code allows 16 KiB)."""
MAX_TAGS = 10
MAX_TAG_LENGTH = 256
MAX_AUTO_RESPONSE_BYTES = 2_048
MAX_EVENT_TIMEOUT_MS = 604_800_000

MSG_ATTACHMENT_TOO_LARGE = (
    "A WebSocket 'attachment' cannot be larger than {limit} bytes.'attachment' was {size} bytes."
)
MSG_INVALID_CLOSE_CODE = "Invalid WebSocket close code: {code}."
MSG_SEND_BEFORE_ACCEPT = (
    "You must call one of accept() or state.acceptWebSocket() on this WebSocket before "
    "sending messages."
)
MSG_SEND_AFTER_CLOSE = "Can't call WebSocket send() after close()."
MSG_ALREADY_ACCEPTED = (
    "Cannot call `acceptWebSocket()` if the WebSocket was already accepted via `accept()`"
)
MSG_PAIR_USED = (
    "Cannot call `acceptWebSocket()` on this WebSocket because its pair has already been "
    "accepted or used in a Response."
)
MSG_TOO_MANY_TAGS = "a Hibernatable WebSocket cannot have more than 10 tags"
MSG_TAG_TOO_LONG = '"{tag}" is longer than the max tag length (256 characters).'
MSG_AUTO_RESPONSE_TOO_LARGE = (
    "{what} cannot be larger than 2048 bytes. A {lower} of size {size} was provided."
)
MSG_EVENT_TIMEOUT = "Event timeout should not exceed 604800000 ms."
MSG_ABNORMAL_CLOSE = "WebSocket disconnected without sending Close frame."
MSG_MESSAGE_TOO_LARGE = "Message is too large"
_RESERVED_CLOSE_CODES = frozenset({1004, 1005, 1006, 1015})


class MessageEvent:
    """What a ``message`` listener receives: ``event.data`` is ``str`` or an ArrayBuffer."""

    def __init__(self, data: Any) -> None:
        self.type = "message"
        self.data = data


class CloseEvent:
    """What a ``close`` listener receives.

    Attributes:
        code: The close code (1005 when none was given).
        reason: The close reason.
        wasClean: False when the connection dropped without a close frame.
    """

    def __init__(self, code: int, reason: str, was_clean: bool) -> None:
        self.type = "close"
        self.code = code
        self.reason = reason
        self.wasClean = was_clean


def _payload(message: Any) -> tuple[Any, int]:
    """Validate an outgoing message; return what the peer receives and its size."""
    if isinstance(message, str):
        return message, len(message.encode("utf-8", "surrogatepass"))
    if isinstance(message, ArrayBuffer):
        message = message.to_bytes()
    if isinstance(message, (bytes, bytearray, memoryview)):
        data = bytes(message)
        return ArrayBuffer(data), len(data)
    raise TypeError(f"WebSocket send() takes a str or bytes message, got {type(message).__name__}")


def check_close_code(code: int | None) -> None:
    """Reject close codes the platform refuses.

    Args:
        code: The code passed to ``close()`` (``None`` means none).

    Raises:
        JsException: ``InvalidAccessError: Invalid WebSocket close code: <code>.``
    """
    if code is None:
        return
    if not isinstance(code, int) or not 1000 <= code <= 4999 or code in _RESERVED_CLOSE_CODES:
        raise platform_error("InvalidAccessError", MSG_INVALID_CLOSE_CODE.format(code=code))


class WebSocket:
    """One end of a WebSocket connection, with the platform's camelCase API.

    Attributes:
        readyState: 0 connecting (not yet accepted), 1 open, 2 closing, 3 closed.
        url: ``None`` for sockets from a ``WebSocketPair``.
        protocol: The negotiated subprotocol (``""``).
        extensions: The negotiated extensions (``""``).
    """

    CONNECTING = CONNECTING
    OPEN = OPEN
    CLOSING = CLOSING
    CLOSED = CLOSED

    def __init__(self) -> None:
        self.readyState = CONNECTING
        self.url: str | None = None
        self.protocol = ""
        self.extensions = ""
        self._peer: WebSocket | None = None
        self._mode: str | None = None  # "standard", "hibernatable" or "client"
        self._listeners: dict[str, list[Any]] = {"message": [], "close": [], "error": []}
        self._attachment: bytes | None = None
        self._backlog: deque[tuple[str, Any]] = deque()
        self._pending: deque[tuple[str, Any]] = deque()
        self._pump: asyncio.Task[None] | None = None
        self._in_response = False
        self._host: ObjectHost | None = None
        self._incarnation: Incarnation | None = None
        self._tags: tuple[str, ...] = ()
        self._client: WebSocketClient | None = None

    def __repr__(self) -> str:
        mode = self._mode or "unaccepted"
        return f"WebSocket({mode}, readyState={self.readyState})"

    # -- the standard API ---------------------------------------------------------------
    def accept(self) -> None:
        """Accept the socket with the standard API (events go to listeners).

        Inside an object this pins the instance in memory while the socket is open.
        """
        if self._mode is not None:
            return
        self._mode = "standard"
        incarnation = current_incarnation()
        if incarnation is not None:
            self._incarnation = incarnation
            self._host = incarnation.host
            incarnation.pin(self)
            self._host.record("websocket.accept", hibernatable=False)
        self._open()

    def addEventListener(self, kind: str, listener: Any) -> None:  # noqa: N802
        """Call ``listener(event)`` on ``"message"``, ``"close"`` or ``"error"``.

        Args:
            kind: The event type.
            listener: A function or ``async def`` function taking the event.
        """
        self._listeners.setdefault(kind, []).append(listener)

    def removeEventListener(self, kind: str, listener: Any) -> None:  # noqa: N802
        """Stop calling ``listener`` for ``kind`` events.

        Args:
            kind: The event type.
            listener: A function passed to :meth:`addEventListener`.
        """
        if listener in self._listeners.get(kind, []):
            self._listeners[kind].remove(listener)

    def send(self, message: Any) -> None:
        """Send a text (``str``) or binary (``bytes``) message to the other end.

        From inside an object, the message waits for the object's pending writes to
        commit first (the output gate).

        Args:
            message: ``str``, ``bytes``, ``memoryview`` or an ArrayBuffer.

        Raises:
            JsException: Before the socket was accepted, or after ``close()``.
            TypeError: For any other message type.
        """
        if self.readyState == CONNECTING:
            raise platform_error("Error", MSG_SEND_BEFORE_ACCEPT)
        if self.readyState != OPEN:
            raise platform_error("Error", MSG_SEND_AFTER_CLOSE)
        data, size = _payload(message)
        self._release_output()
        if self._host is not None:
            self._host.record("websocket.message", direction="out", size=size)
        peer = self._peer
        if peer is not None and peer.readyState in (CONNECTING, OPEN):
            peer._arrive(("message", (data, size)))

    def close(self, code: int | None = None, reason: str | None = None) -> None:
        """Close the connection; the other end receives the code and reason.

        Args:
            code: 1000–4999 except 1004, 1005, 1006 and 1015; ``None`` sends 1005.
            reason: A short text (requires a code).

        Raises:
            JsException: ``InvalidAccessError`` for a code the platform refuses.
        """
        check_close_code(code)
        if self.readyState in (CLOSING, CLOSED):
            return
        self._release_output()
        self.readyState = CLOSED
        self._closed()
        wire_code = 1005 if code is None else code
        if self._host is not None:
            self._host.record("websocket.close", code=wire_code, reason=reason or "", by="object")
        peer = self._peer
        if peer is not None and peer.readyState != CLOSED:
            peer._arrive(("close", (wire_code, reason or "", True)))

    # -- attachments (hibernation API) --------------------------------------------------
    def serializeAttachment(self, value: Any) -> None:  # noqa: N802
        """Keep a copy of ``value`` with the socket; it survives hibernation.

        Args:
            value: A structured-clone-able value (re-serialize after mutating it).

        Raises:
            JsException: When the serialized value exceeds 2,048 bytes.
        """
        blob = encode_value(value)
        if len(blob) > MAX_ATTACHMENT_BYTES:
            raise platform_error(
                "Error",
                MSG_ATTACHMENT_TOO_LARGE.format(limit=MAX_ATTACHMENT_BYTES, size=len(blob)),
            )
        self._attachment = blob

    def deserializeAttachment(self) -> Any:  # noqa: N802
        """Return a fresh copy of the attachment, or ``None`` if none was set."""
        return None if self._attachment is None else decode_value(self._attachment)

    # -- machinery ----------------------------------------------------------------------
    def _open(self) -> None:
        self.readyState = OPEN
        while self._backlog:
            self._arrive(self._backlog.popleft())

    def _closed(self) -> None:
        if self._incarnation is not None:
            self._incarnation.unpin(self)
        if self._host is not None:
            self._host.forget_socket(self)

    def _release_output(self) -> None:
        incarnation = current_incarnation()
        if incarnation is not None:
            incarnation.output_gate.release()

    def _arrive(self, event: tuple[str, Any]) -> None:
        """Queue an event from the peer; delivered in order by one task per socket."""
        if self._mode is None:
            self._backlog.append(event)
            return
        if self._mode == "client" and self._client is not None:
            self._client._receive(event)
            return
        self._pending.append(event)
        if self._pump is None or self._pump.done():
            self._pump = asyncio.get_running_loop().create_task(self._run_pump())

    async def _run_pump(self) -> None:
        while self._pending:
            kind, payload = self._pending.popleft()
            if kind == "message" and self.readyState == CLOSED:
                continue  # the connection dropped before this message was delivered
            if kind == "close":
                self.readyState = CLOSED
                self._closed()
            if self._host is not None:
                await self._host.deliver_socket_event(self, kind, payload)
            else:
                await self._call_listeners(kind, payload)

    async def _call_listeners(self, kind: str, payload: Any) -> None:
        if kind == "message":
            event: Any = MessageEvent(payload[0])
        else:
            event = CloseEvent(*payload)
        for listener in list(self._listeners.get(kind, [])):
            result = listener(event)
            if inspect.isawaitable(result):
                await result

    def _disconnect(self) -> None:
        """Drop the connection without a close frame (the peer sees 1006)."""
        if self.readyState == CLOSED:
            return
        self.readyState = CLOSED
        self._pending = deque(event for event in self._pending if event[0] != "message")
        self._closed()
        peer = self._peer
        if peer is not None and peer.readyState != CLOSED:
            peer._arrive(("close", (1006, MSG_ABNORMAL_CLOSE, False)))


class WebSocketPair:
    """Two connected WebSocket ends: ``client, server = WebSocketPair.new()``.

    Also indexable (``pair[0]``, ``pair[1]``) and ``pair.object_values()``, the ways
    Python Workers code unpacks the JavaScript object.
    """

    def __init__(self) -> None:
        self.client = WebSocket()
        self.server = WebSocket()
        self.client._peer, self.server._peer = self.server, self.client

    @classmethod
    def new(cls) -> WebSocketPair:
        """Create a pair (the JavaScript ``new WebSocketPair()``)."""
        return cls()

    def object_values(self) -> list[WebSocket]:
        """Return ``[client, server]``."""
        return [self.client, self.server]

    def __iter__(self) -> Any:
        return iter((self.client, self.server))

    def __getitem__(self, index: int) -> WebSocket:
        return (self.client, self.server)[index]


class WebSocketRequestResponsePair:
    """A request text and the response the runtime sends for it without waking the object.

    Args:
        request: The exact message to answer (≤ 2,048 bytes).
        response: The answer (≤ 2,048 bytes).
    """

    def __init__(self, request: str, response: str) -> None:
        for what, text in (("Request", request), ("Response", response)):
            size = len(text.encode())
            if size > MAX_AUTO_RESPONSE_BYTES:
                raise platform_error(
                    "RangeError",
                    MSG_AUTO_RESPONSE_TOO_LARGE.format(what=what, lower=what.lower(), size=size),
                )
        self.request = request
        self.response = response

    @classmethod
    def new(cls, request: str, response: str) -> WebSocketRequestResponsePair:
        """Create a pair (the JavaScript ``new WebSocketRequestResponsePair(...)``).

        Args:
            request: The exact message to answer.
            response: The answer.
        """
        return cls(request, response)


class WebSocketDisconnect(Exception):
    """Raised by :meth:`WebSocketClient.receive` once the connection is closed.

    Attributes:
        code: The close code.
        reason: The close reason.
    """

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"WebSocket closed: {code} {reason}".rstrip())
        self.code = code
        self.reason = reason


class WebSocketClient:
    """A test-side WebSocket connection to an app (from :meth:`dosim.App.connect`).

    Args:
        socket: The client end from the upgrade response.
    """

    def __init__(self, socket: WebSocket) -> None:
        self._socket = socket
        self._inbox: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.close_code: int | None = None
        self.close_reason: str | None = None
        socket._mode = "client"
        socket._client = self
        socket._open()

    @property
    def closed(self) -> bool:
        """Whether the connection is closed."""
        return self._socket.readyState == CLOSED

    def _receive(self, event: tuple[str, Any]) -> None:
        if event[0] == "close":
            self._socket.readyState = CLOSED
            self.close_code, self.close_reason = event[1][0], event[1][1]
        self._inbox.put_nowait(event)

    def send(self, message: str | bytes) -> None:
        """Send a message to the app (delivered on the next turns of the event loop).

        Args:
            message: ``str`` or ``bytes``.
        """
        self._socket.send(message)

    def send_json(self, value: Any) -> None:
        """Send ``value`` as JSON text.

        Args:
            value: Any JSON-serialisable value.
        """
        self.send(json.dumps(value))

    async def receive(self, timeout: float = 2.0) -> str | bytes:
        """Wait for the next message from the app.

        Args:
            timeout: Real seconds to wait.

        Returns:
            ``str`` for text messages, ``bytes`` for binary ones.

        Raises:
            WebSocketDisconnect: When the app closed the connection.
            TimeoutError: When nothing arrived in time.
        """
        try:
            kind, payload = await asyncio.wait_for(self._inbox.get(), timeout)
        except TimeoutError:
            raise TimeoutError(f"no WebSocket message within {timeout} s") from None
        if kind == "close":
            self._inbox.put_nowait((kind, payload))  # stays closed for later calls
            raise WebSocketDisconnect(payload[0], payload[1])
        data = payload[0]
        return data if isinstance(data, str) else data.to_bytes()

    async def receive_json(self, timeout: float = 2.0) -> Any:
        """Wait for the next message and parse it as JSON.

        Args:
            timeout: Real seconds to wait.
        """
        message = await self.receive(timeout)
        return json.loads(message)

    def pending(self) -> list[str | bytes]:
        """Return the messages that already arrived, without waiting."""
        messages: list[str | bytes] = []
        while not self._inbox.empty():
            kind, payload = self._inbox.get_nowait()
            if kind == "close":
                self._inbox.put_nowait((kind, payload))
                break
            data = payload[0]
            messages.append(data if isinstance(data, str) else data.to_bytes())
        return messages

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection cleanly and let the app handle it.

        Args:
            code: The close code.
            reason: The close reason.
        """
        self._socket.close(code, reason)
        await wait_all_tasks_blocked()

    async def disconnect(self) -> None:
        """Drop the connection without a close frame (the app sees code 1006)."""
        self._socket._disconnect()
        await wait_all_tasks_blocked()

