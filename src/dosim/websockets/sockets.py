"""One WebSocket end, its pair, and the events and limits of the standard API.

A ``WebSocketPair`` is two connected ends. An object keeps the *server* end and returns
the *client* end in ``Response(None, status=101, web_socket=client)``; whoever receives
that response talks through the client end. Every end is in one :class:`SocketMode`: not
yet accepted, accepted with the standard API (``accept()``), accepted for hibernation
(``ctx.acceptWebSocket``, see :mod:`dosim.websockets.hibernation`), or held outside the
app (the client end a test client or the dev server's bridge talks through, see
:func:`attach_receiver`).
"""

from __future__ import annotations

import asyncio
import enum
import inspect
import logging
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..boundary import call_from_js, js_method, structured_clone, to_plain
from ..current import current_incarnation
from ..errors import MSG_JSG_NEW_REQUIRED, platform_error
from ..ffi import JsBuffer, JsProxy, js_to_string, jsnull
from ..serialization import encode_value
from ..workers.body import ArrayBuffer

if TYPE_CHECKING:
    from ..host import Incarnation
    from .hibernation import ObjectSockets

__all__ = [
    "WebSocket",
    "SocketMode",
    "WebSocketPair",
    "WebSocketRequestResponsePair",
    "MessageEvent",
    "CloseEvent",
    "SocketEvent",
    "attach_receiver",
    "transmit",
    "disconnect",
    "abandon",
    "check_close_code",
    "CONNECTING",
    "OPEN",
    "CLOSING",
    "CLOSED",
    "MAX_MESSAGE_BYTES",
    "MAX_ATTACHMENT_BYTES",
]

_log = logging.getLogger("dosim.websockets")

CONNECTING, OPEN, CLOSING, CLOSED = 0, 1, 2, 3
MAX_MESSAGE_BYTES = 32 * 1024 * 1024
"""Largest message an object receives; larger ones close the socket with 1009."""
MAX_ATTACHMENT_BYTES = 2_048
"""``serializeAttachment`` limit (documented value; workerd's code allows 16 KiB)."""
MAX_AUTO_RESPONSE_BYTES = 2_048

MSG_ATTACHMENT_TOO_LARGE = (
    "A WebSocket 'attachment' cannot be larger than {limit} bytes.'attachment' was {size} bytes."
)
MSG_INVALID_CLOSE_CODE = "Invalid WebSocket close code: {code}."
MSG_SEND_BEFORE_ACCEPT = (
    "You must call one of accept() or state.acceptWebSocket() on this WebSocket before "
    "sending messages."
)
MSG_SEND_AFTER_CLOSE = "Can't call WebSocket send() after close()."
MSG_AUTO_RESPONSE_TOO_LARGE = (
    "{what} cannot be larger than 2048 bytes. A {lower} of size {size} was provided."
)
MSG_ABNORMAL_CLOSE = "WebSocket disconnected without sending Close frame."
MSG_MESSAGE_TOO_LARGE = "Message is too large"
_RESERVED_CLOSE_CODES = frozenset({1004, 1005, 1006, 1015})

SocketEvent = tuple[str, Any]
"""What travels between two ends: ``("message", (data, size))`` or ``("close", (code,
reason, wasClean))``."""


class SocketMode(enum.Enum):
    """How an end was accepted; decides where the events from its peer go."""

    UNACCEPTED = "unaccepted"
    """Not accepted yet: events from the peer wait in a backlog."""
    STANDARD = "standard"
    """``accept()``: events go to the listeners; the instance stays in memory."""
    HIBERNATABLE = "hibernatable"
    """``ctx.acceptWebSocket``: events go to the class's ``webSocketMessage``/``Close``."""
    OUTSIDE = "outside"
    """Held outside the app (a test client, the dev server's bridge): events go to a
    receiver function (:func:`attach_receiver`)."""


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
    """What the peer receives for a JavaScript value passed to ``send()``, and its size.

    A buffer (``to_js(b"...")``, an ArrayBuffer) is a binary message. Anything else is
    converted to a string, as the platform's ``send(ArrayBuffer | ArrayBufferView |
    string)`` does with a value that is not a buffer: a Python ``bytes`` object crosses as
    a PyProxy and is sent as the text of its ``str()`` (``"b'hi'"``).
    """
    if isinstance(message, JsBuffer):
        data = message.to_bytes()
        return ArrayBuffer(data), len(data)
    text = message if isinstance(message, str) else js_to_string(message)
    return text, len(text.encode("utf-8", "surrogatepass"))


def _outside_payload(message: str | bytes | bytearray | memoryview | JsBuffer) -> tuple[Any, int]:
    """What the peer receives for a message sent from outside the app (a test client)."""
    if isinstance(message, bytes | bytearray | memoryview):
        message = ArrayBuffer(message)
    if not isinstance(message, str | JsBuffer):
        raise TypeError(f"A WebSocket message is str or bytes, got {type(message).__name__}")
    return _payload(message)


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


class WebSocket(JsProxy):
    """One end of a WebSocket connection, with the platform's camelCase API.

    Attributes:
        readyState: 0 connecting (not yet accepted), 1 open, 2 closing, 3 closed.
        url: ``None`` for sockets from a ``WebSocketPair``.
        protocol: The negotiated subprotocol (``""``).
        extensions: The negotiated extensions (``""``).
    """

    _js_type = "WebSocket"
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
        self._mode = SocketMode.UNACCEPTED
        self._listeners: dict[str, list[Any]] = {"message": [], "close": [], "error": []}
        self._attachment: Any = None
        self._has_attachment = False
        self._backlog: deque[SocketEvent] = deque()
        self._pending: deque[SocketEvent] = deque()
        self._pump: asyncio.Task[None] | None = None
        self._in_response = False
        self._owner: ObjectSockets | None = None  # the object whose end this is
        self._incarnation: Incarnation | None = None
        self._tags: tuple[str, ...] = ()
        self._receiver: Callable[[SocketEvent], None] | None = None

    def __repr__(self) -> str:
        return f"WebSocket({self._mode.value}, readyState={self.readyState})"

    @property
    def mode(self) -> SocketMode:
        """How this end was accepted (dosim's view; not a platform attribute)."""
        return self._mode

    def __dosim_in_response__(self) -> None:
        """Note that this end was returned in a ``Response``.

        Its pair can no longer be accepted with ``acceptWebSocket``. Called by
        ``workers.Response``, which cannot import this module (it sits lower).
        """
        self._in_response = True

    # -- the standard API ---------------------------------------------------------------
    def accept(self) -> None:
        """Accept the socket with the standard API (events go to listeners).

        Inside an object this pins the instance in memory while the socket is open.
        """
        if self._mode is not SocketMode.UNACCEPTED:
            return
        self._mode = SocketMode.STANDARD
        incarnation = current_incarnation()
        if incarnation is not None:
            incarnation.accept_socket(self)
        self._open()

    @js_method
    def addEventListener(self, kind: str, listener: Any) -> None:  # noqa: N802
        """Call ``listener(event)`` on ``"message"``, ``"close"`` or ``"error"``.

        A raw JavaScript method: pass ``create_proxy(function)``. A plain Python function
        crosses as a borrowed proxy that Pyodide destroys when this call returns, so the
        first event fails with Pyodide's "borrowed proxy was automatically destroyed"
        error (reported in the trace, as the platform reports an exception in a listener).

        Args:
            kind: The event type.
            listener: ``create_proxy(f)`` of a function or ``async def`` function.
        """
        self._listeners.setdefault(js_to_string(kind), []).append(listener)

    @js_method
    def removeEventListener(self, kind: str, listener: Any) -> None:  # noqa: N802
        """Stop calling ``listener`` for ``kind`` events.

        Args:
            kind: The event type.
            listener: The same ``create_proxy`` value passed to :meth:`addEventListener`
                (a plain function crosses as a new proxy each time and matches nothing).
        """
        listeners = self._listeners.get(js_to_string(kind), [])
        for index, known in enumerate(listeners):
            if known is listener:
                del listeners[index]
                return

    @js_method
    def send(self, message: Any) -> None:
        """Send a text or binary message to the other end (a raw JavaScript method).

        From inside an object, the message waits for the object's pending writes to
        commit first (the output gate).

        Args:
            message: ``str`` for a text message; ``to_js(data)`` (a ``Uint8Array``) or an
                ArrayBuffer for a binary one. A Python ``bytes`` object is not a buffer to
                JavaScript: it is sent as the text ``"b'...'"``, as on Cloudflare.

        Raises:
            JsException: Before the socket was accepted, or after ``close()``.
        """
        self._send_payload(*_payload(message))

    def _send_payload(self, data: Any, size: int) -> None:
        if self.readyState == CONNECTING:
            raise platform_error("Error", MSG_SEND_BEFORE_ACCEPT)
        if self.readyState != OPEN:
            raise platform_error("Error", MSG_SEND_AFTER_CLOSE)
        self._release_output()
        if self._owner is not None:
            self._owner.record("websocket.message", direction="out", size=size)
        peer = self._peer
        if peer is not None and peer.readyState in (CONNECTING, OPEN):
            peer._arrive(("message", (data, size)))

    @js_method
    def close(self, code: int | None = None, reason: str | None = None) -> None:
        """Close the connection; the other end receives the code and reason.

        Args:
            code: 1000–4999 except 1004, 1005, 1006 and 1015; ``None`` sends 1005.
            reason: A short text (requires a code).

        Raises:
            JsException: ``InvalidAccessError`` for a code the platform refuses.
        """
        if isinstance(code, float) and code.is_integer():
            code = int(code)
        elif code is not None and not isinstance(code, int):
            code = 0  # WebIDL's unsigned short of a non-number (NaN) is 0
        if reason is not None and not isinstance(reason, str):
            reason = js_to_string(reason)
        check_close_code(code)
        if self.readyState in (CLOSING, CLOSED):
            return
        self._release_output()
        self.readyState = CLOSED
        self._closed()
        wire_code = 1005 if code is None else code
        if self._owner is not None:
            self._owner.record("websocket.close", code=wire_code, reason=reason or "", by="object")
        peer = self._peer
        if peer is not None and peer.readyState != CLOSED:
            peer._arrive(("close", (wire_code, reason or "", True)))

    # -- attachments (hibernation API) --------------------------------------------------
    @js_method
    def serializeAttachment(self, value: Any) -> None:  # noqa: N802
        """Keep a structured clone of ``value`` with the socket; it survives hibernation.

        This is a raw JavaScript method: pass a ``str`` (for example ``json.dumps(...)``),
        a number, or ``to_js(...)`` of a value. A Python ``dict`` or ``list`` crosses as a
        PyProxy, which cannot be cloned.

        Args:
            value: A value the structured clone algorithm accepts.

        Raises:
            JsException: ``DataCloneError`` for a Python object (a PyProxy); ``Error`` when
                the serialized value exceeds 2,048 bytes.
        """
        clone = structured_clone(value)
        size = len(encode_value(to_plain(clone)))
        if size > MAX_ATTACHMENT_BYTES:
            raise platform_error(
                "Error",
                MSG_ATTACHMENT_TOO_LARGE.format(limit=MAX_ATTACHMENT_BYTES, size=size),
            )
        self._attachment = clone
        self._has_attachment = True

    @js_method
    def deserializeAttachment(self) -> Any:  # noqa: N802
        """Return a fresh copy of the attachment (a JavaScript value), or ``jsnull``.

        A ``to_js`` value comes back as a ``JsProxy``: call ``.to_py()`` on it.
        """
        if not self._has_attachment:
            return jsnull
        return structured_clone(self._attachment)

    # -- machinery ----------------------------------------------------------------------
    def _open(self) -> None:
        self.readyState = OPEN
        while self._backlog:
            self._arrive(self._backlog.popleft())

    def _closed(self) -> None:
        if self._incarnation is not None:
            self._incarnation.unpin(self)
        if self._owner is not None:
            self._owner.forget(self)

    def _release_output(self) -> None:
        incarnation = current_incarnation()
        if incarnation is not None:
            incarnation.output_gate.release()

    def _arrive(self, event: SocketEvent) -> None:
        """Queue an event from the peer; delivered in order by one task per socket."""
        if self._mode is SocketMode.UNACCEPTED:
            self._backlog.append(event)
            return
        if self._receiver is not None:
            if event[0] == "close":
                self.readyState = CLOSED
            self._receiver(event)
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
            if self._owner is not None:
                await self._owner.deliver(self, kind, payload)
            else:
                await self._call_listeners(kind, payload)

    async def _call_listeners(self, kind: str, payload: Any) -> None:
        if kind == "message":
            event: Any = MessageEvent(payload[0])
        else:
            event = CloseEvent(*payload)
        # As in a browser or workerd, a listener that throws is reported and the others
        # still run; the socket stays open.
        for listener in list(self._listeners.get(kind, [])):
            try:
                result = call_from_js(listener, event)
                if inspect.isawaitable(result):
                    await result
            except Exception as error:  # noqa: BLE001 - reported, as an uncaught error
                self._report_listener_error(kind, error)

    def _report_listener_error(self, kind: str, error: Exception) -> None:
        text = f"{type(error).__name__}: {error}"
        if self._owner is not None:
            self._owner.record("websocket.error", error=text, listener=kind)
        else:
            _log.error("Uncaught exception in a WebSocket %r listener: %s", kind, text)

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


class _NeedsNew(type):
    """Metaclass of workerd API classes Python code builds with ``.new()`` only.

    ``WebSocketPair()`` from Python calls the JavaScript class as a function, which
    workerd refuses with a ``TypeError``; ``.new()`` is JavaScript's ``new``.
    """

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        raise platform_error("TypeError", MSG_JSG_NEW_REQUIRED.format(name=cls.__name__))

    def construct(cls, *args: Any) -> Any:
        """Build an instance (what ``.new()`` does)."""
        return type.__call__(cls, *args)


class WebSocketPair(JsProxy, metaclass=_NeedsNew):
    """Two connected WebSocket ends: ``client, server = WebSocketPair.new()``.

    Also indexable (``pair[0]``, ``pair[1]``) and ``pair.object_values()``, the ways
    Python Workers code unpacks the JavaScript object. ``WebSocketPair()`` without
    ``.new`` raises workerd's ``TypeError``, as it does on Cloudflare.
    """

    _js_type = "WebSocketPair"

    def __init__(self) -> None:
        self.client = WebSocket()
        self.server = WebSocket()
        self.client._peer, self.server._peer = self.server, self.client

    @classmethod
    def new(cls) -> WebSocketPair:
        """Create a pair (the JavaScript ``new WebSocketPair()``)."""
        return cls.construct()

    def object_values(self) -> list[WebSocket]:
        """Return ``[client, server]``."""
        return [self.client, self.server]

    def __iter__(self) -> Any:
        return iter((self.client, self.server))

    def __getitem__(self, index: int) -> WebSocket:
        return (self.client, self.server)[index]


class WebSocketRequestResponsePair(JsProxy, metaclass=_NeedsNew):
    """A request text and the response the runtime sends for it without waking the object.

    Args:
        request: The exact message to answer (≤ 2,048 bytes).
        response: The answer (≤ 2,048 bytes).
    """

    _js_type = "WebSocketRequestResponsePair"

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
        return cls.construct(request, response)


def attach_receiver(end: WebSocket, receiver: Callable[[SocketEvent], None]) -> None:
    """Hold ``end`` outside the app: open it and hand every event from its peer to ``receiver``.

    The test client and the dev server's bridge talk to an app through the client end of
    the pair the app answered with. A close from the peer marks ``end`` closed before
    ``receiver`` sees it.

    Args:
        end: An end not accepted yet (the ``web_socket`` of a 101 response).
        receiver: Called with each :data:`SocketEvent`, in order.
    """
    end._mode = SocketMode.OUTSIDE
    end._receiver = receiver
    end._open()


def transmit(end: WebSocket, message: str | bytes | bytearray | memoryview | JsBuffer) -> None:
    """Send ``message`` from an end held outside the app (a test client, the dev bridge).

    Unlike the app-facing ``send()``, Python ``bytes`` are a binary message here.

    Args:
        end: An end given to :func:`attach_receiver`.
        message: Text or bytes.

    Raises:
        TypeError: For another type.
    """
    end._send_payload(*_outside_payload(message))


def disconnect(end: WebSocket) -> None:
    """Drop the connection of ``end`` without a close frame: its peer sees code 1006.

    Args:
        end: Either end; nothing happens if it is already closed.
    """
    end._disconnect()


def abandon(end: WebSocket) -> None:
    """Mark ``end`` closed without telling its peer (the dev server shutting down a link).

    Args:
        end: The end to stop using; nothing happens if it is already closed.
    """
    if end.readyState != CLOSED:
        end.readyState = CLOSED
        end._closed()
