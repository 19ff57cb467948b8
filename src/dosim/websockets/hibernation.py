"""The hibernation API: an object's accepted WebSockets, kept while its instances come and go.

Each object host holds one :class:`ObjectSockets`. It is the registry of the sockets the
object accepted with ``ctx.acceptWebSocket(ws, tags)``; the ``ctx`` methods of the
hibernation API (``acceptWebSocket``, ``getWebSockets``, ``getTags``, the auto-response
and event-timeout methods) are one-line delegations to it. It also delivers what clients
send to the object:

* to a **hibernatable** socket: the class's ``webSocketMessage(ws, message)`` and
  ``webSocketClose(ws, code, reason, wasClean)``, as an event of the object (constructing
  a fresh instance if the object hibernated). The handlers are optional.
* an **auto-response** request (``setWebSocketAutoResponse``) is answered without waking
  the object, and the time is kept for ``getWebSocketAutoResponseTimestamp``.
* to a **standard** socket (``accept()``): its listeners, as an event of the instance
  that accepted it (which stays in memory while the socket is open).

A message larger than :data:`~dosim.websockets.sockets.MAX_MESSAGE_BYTES` closes the
socket with 1009. An exception raised by a handler is recorded in the trace
(``websocket.error``) and the socket stays open.

The registry talks to its object through :class:`SocketHost` and never imports the host.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from ..boundary import relaxed_call
from ..errors import platform_error
from .sockets import MAX_MESSAGE_BYTES, MSG_MESSAGE_TOO_LARGE, SocketMode, WebSocket

if TYPE_CHECKING:
    from ..clock import VirtualClock
    from ..host import Incarnation
    from .sockets import WebSocketRequestResponsePair

__all__ = [
    "ObjectSockets",
    "SocketHost",
    "MAX_TAGS",
    "MAX_TAG_LENGTH",
    "MAX_EVENT_TIMEOUT_MS",
]

MAX_TAGS = 10
"""Tags one hibernatable socket may have."""
MAX_TAG_LENGTH = 256
"""Longest tag, in characters."""
MAX_EVENT_TIMEOUT_MS = 604_800_000
"""Largest ``setHibernatableWebSocketEventTimeout`` (7 days)."""

MSG_ALREADY_ACCEPTED = (
    "Cannot call `acceptWebSocket()` if the WebSocket was already accepted via `accept()`"
)
MSG_PAIR_USED = (
    "Cannot call `acceptWebSocket()` on this WebSocket because its pair has already been "
    "accepted or used in a Response."
)
MSG_TOO_MANY_TAGS = "a Hibernatable WebSocket cannot have more than 10 tags"
MSG_TAG_TOO_LONG = '"{tag}" is longer than the max tag length (256 characters).'
MSG_NOT_HIBERNATABLE = "getTags() can only be called on a hibernatable WebSocket."
MSG_EVENT_TIMEOUT = "Event timeout should not exceed 604800000 ms."


class SocketHost(Protocol):
    """What the registry needs from the object it belongs to (an ``ObjectHost``)."""

    clock: VirtualClock

    def record(self, kind: str, **detail: Any) -> None:
        """Append a trace event about the object.

        Args:
            kind: The event kind (``websocket.message``, ...).
            **detail: Kind-specific facts.
        """

    def has_handler(self, name: str) -> bool:
        """Whether the object's class defines the method ``name``.

        Args:
            name: ``"webSocketMessage"`` or ``"webSocketClose"``.
        """

    async def run_event(
        self,
        label: str,
        invoke: Callable[[Any], Awaitable[Any]],
        incarnation: Incarnation | None = None,
    ) -> Any:
        """Deliver an event to the object.

        Args:
            label: The event's name in the trace.
            invoke: Runs the handler: ``await invoke(instance)``.
            incarnation: The instance a standard socket belongs to: a reset one fails
                with its reset error; an evicted one is replaced by a fresh instance.
        """


class ObjectSockets:
    """One object's WebSockets: the hibernation registry and delivery of client events.

    Args:
        host: The object the sockets belong to.
    """

    def __init__(self, host: SocketHost) -> None:
        self._host = host
        self._hibernatable: list[WebSocket] = []  # they outlive instances
        self._auto_response: WebSocketRequestResponsePair | None = None
        self._auto_response_times: dict[int, int] = {}
        self._event_timeout_ms: int | None = None

    def record(self, kind: str, **detail: Any) -> None:
        """Append a trace event about the object (for its sockets).

        Args:
            kind: The event kind (see :mod:`dosim.trace`).
            **detail: Kind-specific facts.
        """
        self._host.record(kind, **detail)

    @property
    def hibernatable(self) -> list[WebSocket]:
        """The open hibernatable sockets, in the order they were accepted (a copy)."""
        return list(self._hibernatable)

    # -- accepting -----------------------------------------------------------------------
    def accept_standard(self, ws: WebSocket, incarnation: Incarnation) -> None:
        """Register ``ws``, accepted with ``accept()`` inside ``incarnation``.

        The instance stays in memory while the socket is open.

        Args:
            ws: The server end being accepted.
            incarnation: The instance whose code called ``accept()``.
        """
        ws._incarnation = incarnation
        ws._owner = self
        incarnation.pin(ws)
        self.record("websocket.accept", hibernatable=False)

    def accept(self, ws: WebSocket, tags: Any = None) -> None:
        """``ctx.acceptWebSocket(ws, tags)``: accept ``ws`` as a hibernatable socket.

        Args:
            ws: The server end of a ``WebSocketPair``.
            tags: Up to 10 distinct strings of ≤ 256 characters.

        Raises:
            JsException: If ``ws`` was accepted with ``accept()``, was used in a Response,
                or the tags break the limits.
        """
        if ws._mode is SocketMode.STANDARD:
            raise platform_error("Error", MSG_ALREADY_ACCEPTED)
        if ws._mode is not SocketMode.UNACCEPTED or ws._in_response:
            raise platform_error("Error", MSG_PAIR_USED)
        distinct = list(dict.fromkeys(tags or ()))
        if len(distinct) > MAX_TAGS:
            raise platform_error("Error", MSG_TOO_MANY_TAGS)
        for tag in distinct:
            if len(tag) > MAX_TAG_LENGTH:
                raise platform_error("Error", MSG_TAG_TOO_LONG.format(tag=tag))
        ws._mode = SocketMode.HIBERNATABLE
        ws._owner = self
        ws._tags = tuple(distinct)
        self._hibernatable.append(ws)
        self.record("websocket.accept", hibernatable=True, tags=distinct)
        ws._open()

    def forget(self, ws: WebSocket) -> None:
        """Drop a closed socket from the registry.

        Args:
            ws: A server end of this object that closed.
        """
        if ws in self._hibernatable:
            self._hibernatable.remove(ws)
        self._auto_response_times.pop(id(ws), None)

    def disconnect_hibernatable(self) -> None:
        """Drop every hibernatable socket without a close frame (the object was reset)."""
        for ws in list(self._hibernatable):
            ws._disconnect()

    # -- the ctx methods -----------------------------------------------------------------
    def get_websockets(self, tag: str | None = None) -> list[WebSocket]:
        """``ctx.getWebSockets(tag)``: the open hibernatable sockets, optionally by tag.

        Args:
            tag: A tag given to ``acceptWebSocket``, or ``None`` for all.
        """
        return [ws for ws in self._hibernatable if tag is None or tag in ws._tags]

    def get_tags(self, ws: WebSocket) -> list[str]:
        """``ctx.getTags(ws)``: the tags ``ws`` was accepted with.

        Args:
            ws: A hibernatable socket of this object.

        Raises:
            TypeError: For a socket not accepted with ``acceptWebSocket``.
        """
        if ws._mode is not SocketMode.HIBERNATABLE:
            raise platform_error("TypeError", MSG_NOT_HIBERNATABLE)
        return list(ws._tags)

    def set_auto_response(self, pair: WebSocketRequestResponsePair | None) -> None:
        """``ctx.setWebSocketAutoResponse(pair)``; ``None`` clears it (timestamps stay).

        Args:
            pair: The request text to answer and the answer.
        """
        self._auto_response = pair

    def get_auto_response(self) -> WebSocketRequestResponsePair | None:
        """``ctx.getWebSocketAutoResponse()``: the current pair, or ``None``."""
        return self._auto_response

    def auto_response_timestamp(self, ws: WebSocket) -> int | None:
        """When ``ws`` last got an auto-response (ms since the epoch), or ``None``.

        Args:
            ws: A hibernatable socket of this object.
        """
        return self._auto_response_times.get(id(ws))

    def set_event_timeout(self, ms: int | None) -> None:
        """``ctx.setHibernatableWebSocketEventTimeout(ms)`` (recorded, not enforced).

        Args:
            ms: Milliseconds; ``None`` or 0 clears the limit.

        Raises:
            JsException: Above 604,800,000 ms (7 days).
        """
        if ms is not None and ms > MAX_EVENT_TIMEOUT_MS:
            raise platform_error("Error", MSG_EVENT_TIMEOUT)
        self._event_timeout_ms = ms or None

    def get_event_timeout(self) -> int | None:
        """``ctx.getHibernatableWebSocketEventTimeout()``: the limit, or ``None``."""
        return self._event_timeout_ms

    # -- delivering what clients send ----------------------------------------------------
    async def deliver(self, ws: WebSocket, kind: str, payload: Any) -> None:
        """Deliver a message or close from the client to the object's end ``ws``.

        Args:
            ws: A server end of this object.
            kind: ``"message"`` or ``"close"``.
            payload: ``(data, size)`` or ``(code, reason, wasClean)``.
        """
        host = self._host
        hibernatable = ws._mode is SocketMode.HIBERNATABLE
        if kind == "message":
            data, size = payload
            host.record("websocket.message", direction="in", size=size)
            if size > MAX_MESSAGE_BYTES:
                ws.close(1009, MSG_MESSAGE_TOO_LARGE)
                return
            pair = self._auto_response
            if hibernatable and pair is not None and data == pair.request:
                self._auto_response_times[id(ws)] = host.clock.now_ms()
                host.record("websocket.autoresponse")
                ws.send(pair.response)
                return
        else:
            host.record("websocket.close", code=payload[0], reason=payload[1], by="client")
        try:
            if hibernatable:
                await self._deliver_to_handler(ws, kind, payload)
            else:

                async def invoke(_instance: Any) -> None:
                    await ws._call_listeners(kind, payload)

                await host.run_event(f"websocket {kind}", invoke, ws._incarnation)
        except Exception as error:  # noqa: BLE001 - reported, the socket stays open
            host.record("websocket.error", error=f"{type(error).__name__}: {error}")

    async def _deliver_to_handler(self, ws: WebSocket, kind: str, payload: Any) -> None:
        label = "webSocketMessage" if kind == "message" else "webSocketClose"
        if not self._host.has_handler(label):
            return  # the handlers are optional
        arguments = (ws, payload[0]) if kind == "message" else (ws, *payload)

        async def invoke(instance: Any) -> Any:
            # workerd calls these handlers "relaxed": extra arguments are dropped
            # (workerd src/pyodide/python-entrypoint-helper.ts, the DO handler names).
            result = relaxed_call(getattr(instance, label), *arguments)
            return await result if inspect.isawaitable(result) else result

        await self._host.run_event(label, invoke)
