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

The package, module by module:

===============  ==============================================================
module           what it holds
===============  ==============================================================
``sockets``      one end (:class:`WebSocket`, its :class:`SocketMode`), the pair,
                 the events, close codes and message limits; ends held outside the
                 app (:func:`attach_receiver`, :func:`disconnect`, :func:`abandon`)
``hibernation``  an object's sockets (:class:`ObjectSockets`): the hibernation
                 registry, tags, auto-response, delivery of client events
``client``       the test side: :class:`WebSocketClient`
===============  ==============================================================
"""

from .client import WebSocketClient, WebSocketDisconnect
from .hibernation import MAX_EVENT_TIMEOUT_MS, MAX_TAG_LENGTH, MAX_TAGS, ObjectSockets
from .sockets import (
    CLOSED,
    CLOSING,
    CONNECTING,
    MAX_ATTACHMENT_BYTES,
    MAX_AUTO_RESPONSE_BYTES,
    MAX_MESSAGE_BYTES,
    OPEN,
    CloseEvent,
    MessageEvent,
    SocketEvent,
    SocketMode,
    WebSocket,
    WebSocketPair,
    WebSocketRequestResponsePair,
    abandon,
    attach_receiver,
    check_close_code,
    disconnect,
    transmit,
)

__all__ = [
    "WebSocket",
    "WebSocketPair",
    "WebSocketRequestResponsePair",
    "WebSocketClient",
    "WebSocketDisconnect",
    "MessageEvent",
    "CloseEvent",
    "SocketEvent",
    "SocketMode",
    "ObjectSockets",
    "attach_receiver",
    "disconnect",
    "transmit",
    "abandon",
    "check_close_code",
    "CONNECTING",
    "OPEN",
    "CLOSING",
    "CLOSED",
    "MAX_MESSAGE_BYTES",
    "MAX_ATTACHMENT_BYTES",
    "MAX_AUTO_RESPONSE_BYTES",
    "MAX_TAGS",
    "MAX_TAG_LENGTH",
    "MAX_EVENT_TIMEOUT_MS",
]
