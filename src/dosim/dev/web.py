"""The small ASGI layer the dev server runs on: requests, responses, routes, WebSockets.

uvicorn speaks ASGI to one application object; the dev server needs only a little of a
web framework on top: the inspector's dozen ``GET`` routes, one handler for every other
HTTP request (the Worker), one for every WebSocket upgrade, and the lifespan that starts
and stops its background tasks. :class:`AsgiApp` is that application, built from
:class:`Route` objects; handlers take a :class:`Request` (or a :class:`WebSocket`) and
return a :class:`Response`.

Written here rather than taken from a framework so that ``dosim[dev]`` pulls in nothing
but uvicorn and the ``websockets`` library: a framework built on anyio would bring
anyio's pytest plugin into every test run of a user who installed the dev extra.

The behaviour follows what the server relied on before (Starlette): headers are read
case-insensitively, first value wins; a query parameter given twice keeps its last
value; a response frames its body with ``content-length`` (none for ``1xx``, ``204``
and ``304``) and ``text/*`` types say ``charset=utf-8``; JSON is compact UTF-8; a method
a route does not take gets ``405`` with ``allow``; a handler that raises gets
``500 Internal Server Error`` and the exception goes on to uvicorn, which logs it.
"""

from __future__ import annotations

import json
import re
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any
from urllib.parse import parse_qsl

__all__ = [
    "AsgiApp",
    "Route",
    "Connection",
    "Request",
    "Response",
    "PlainTextResponse",
    "HTMLResponse",
    "JSONResponse",
    "WebSocket",
    "Headers",
    "ClientDisconnect",
]

Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class ClientDisconnect(Exception):
    """The client went away before its request body was read."""


class Headers:
    """The headers of a request, read case-insensitively (the first value of a name).

    Args:
        raw: The ASGI header list: ``(name, value)`` byte pairs, in the order received.
    """

    def __init__(self, raw: Iterable[tuple[bytes, bytes]]) -> None:
        self.raw: list[tuple[bytes, bytes]] = list(raw)

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of header ``name``, decoded as Latin-1, or ``default``.

        Args:
            name: The header name, in any case.
            default: What to return when the header is absent.
        """
        key = name.lower().encode("latin-1")
        for found, value in self.raw:
            if found.lower() == key:
                return value.decode("latin-1")
        return default


class Connection:
    """What an HTTP request and a WebSocket have in common: the scope's headers, path, query.

    Args:
        scope: The ASGI ``http`` or ``websocket`` scope.
    """

    def __init__(self, scope: Message) -> None:
        self.scope = scope
        self.headers = Headers(scope.get("headers", ()))

    @property
    def path(self) -> str:
        """The path, percent-decoded (``bridge.raw_url`` gives it as sent)."""
        return self.scope["path"]

    @property
    def query(self) -> str:
        """The query string as sent, without the ``?``."""
        return self.scope.get("query_string", b"").decode("latin-1")


class Request(Connection):
    """An incoming HTTP request (its body is read on demand with :meth:`stream`).

    Args:
        scope: The ASGI ``http`` scope.
        receive: The ASGI receive callable.
        path_params: What the route's ``{name}`` parts matched.
    """

    def __init__(
        self, scope: Message, receive: Receive, path_params: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(scope)
        self._receive = receive
        self.path_params: dict[str, str] = dict(path_params or {})

    @property
    def method(self) -> str:
        """The request method, as sent."""
        return self.scope["method"]

    @property
    def query_params(self) -> dict[str, str]:
        """The query parameters, decoded; a name given twice keeps its last value."""
        return dict(parse_qsl(self.query, keep_blank_values=True))

    async def stream(self) -> AsyncIterator[bytes]:
        """Yield the body's chunks as they arrive.

        Raises:
            ClientDisconnect: The client left before the body was complete.
        """
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnect()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                if chunk:
                    yield chunk
                if not message.get("more_body", False):
                    return


class Response:
    """A response with its whole body.

    Args:
        content: The body (text is encoded as UTF-8).
        status_code: The status.
        headers: Headers to send (names are sent in lower case); ``content-length`` and
            the class's content type are added unless given.
    """

    media_type: str | None = None
    """The ``content-type`` sent unless ``headers`` has one."""

    def __init__(
        self,
        content: bytes | str = b"",
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.body = self.render(content)
        self.status_code = status_code
        raw = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in (headers or {}).items()
        ]
        given = {name for name, _ in raw}
        if b"content-length" not in given and not (status_code < 200 or status_code in (204, 304)):
            raw.append((b"content-length", str(len(self.body)).encode("latin-1")))
        if self.media_type is not None and b"content-type" not in given:
            raw.append((b"content-type", self.media_type.encode("latin-1")))
        self.raw_headers: list[tuple[bytes, bytes]] = raw

    def render(self, content: Any) -> bytes:
        """Turn ``content`` into the body's bytes.

        Args:
            content: What the constructor was given.
        """
        return content.encode("utf-8") if isinstance(content, str) else bytes(content)

    async def send_to(self, send: Send, prefix: str = "http.") -> None:
        """Send the response through ASGI.

        Args:
            send: The ASGI send callable.
            prefix: ``"http."``, or ``"websocket.http."`` to refuse a WebSocket upgrade.
        """
        await send(
            {
                "type": prefix + "response.start",
                "status": self.status_code,
                "headers": self.raw_headers,
            }
        )
        await send({"type": prefix + "response.body", "body": self.body})


class PlainTextResponse(Response):
    """A ``text/plain`` response in UTF-8."""

    media_type = "text/plain; charset=utf-8"


class HTMLResponse(Response):
    """A ``text/html`` response in UTF-8."""

    media_type = "text/html; charset=utf-8"


class JSONResponse(Response):
    """An ``application/json`` response: compact, UTF-8, no NaN or infinities."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        """Serialize ``content`` as compact JSON in UTF-8.

        Args:
            content: A JSON-serializable value.
        """
        return json.dumps(
            content, ensure_ascii=False, allow_nan=False, separators=(",", ":")
        ).encode("utf-8")


class WebSocket(Connection):
    """An incoming WebSocket, before and after it is accepted.

    Args:
        scope: The ASGI ``websocket`` scope.
        receive: The ASGI receive callable.
        send: The ASGI send callable.
    """

    def __init__(self, scope: Message, receive: Receive, send: Send) -> None:
        super().__init__(scope)
        self._receive = receive
        self._send = send
        self._connected = False
        self._close_sent = False

    async def receive(self) -> Message:
        """The next ASGI message from the client (``websocket.receive``/``.disconnect``)."""
        message = await self._receive()
        if message["type"] == "websocket.connect":
            self._connected = True
        return message

    async def send(self, message: Message) -> None:
        """Send an ASGI message to the client.

        Args:
            message: ``websocket.send`` or ``websocket.close``.

        Raises:
            RuntimeError: A close was already sent.
            OSError: The client is gone (uvicorn's ``ClientDisconnected``).
        """
        if self._close_sent:
            raise RuntimeError('Cannot call "send" once a close message has been sent.')
        if message["type"] == "websocket.close":
            self._close_sent = True
        await self._send(message)

    async def accept(
        self, subprotocol: str | None = None, headers: Iterable[tuple[bytes, bytes]] = ()
    ) -> None:
        """Complete the handshake.

        Args:
            subprotocol: The subprotocol chosen, if any.
            headers: Extra response headers.

        Raises:
            RuntimeError: The client left before the handshake completed.
        """
        if not self._connected:
            message = await self.receive()
            if message["type"] != "websocket.connect":
                raise RuntimeError(f"expected websocket.connect, got {message['type']}")
        await self.send(
            {"type": "websocket.accept", "subprotocol": subprotocol, "headers": list(headers)}
        )

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the socket, or refuse the handshake if it was not accepted.

        Args:
            code: The close code.
            reason: The close reason.
        """
        await self.send({"type": "websocket.close", "code": code, "reason": reason})

    async def send_denial_response(self, response: Response) -> None:
        """Refuse the upgrade with an HTTP response (the ``websocket.http.response`` extension).

        Args:
            response: What the client gets instead of ``101``.
        """
        await response.send_to(self._send, "websocket.http.")


_PARAM = re.compile(r"{(\w+)}")


class Route:
    """An HTTP path template (``/api/{name}/items``) and its handler.

    A ``{name}`` part matches one path segment (no ``/``) of the decoded path.

    Args:
        template: The path template.
        endpoint: ``await endpoint(request)`` returns the :class:`Response`.
        methods: The methods it takes; others get ``405``.
    """

    def __init__(
        self,
        template: str,
        endpoint: Callable[[Request], Awaitable[Response]],
        methods: Iterable[str] = ("GET", "HEAD"),
    ) -> None:
        pattern, end = "", 0
        for part in _PARAM.finditer(template):
            pattern += re.escape(template[end : part.start()]) + f"(?P<{part[1]}>[^/]+)"
            end = part.end()
        self.template = template
        self.regex = re.compile(pattern + re.escape(template[end:]))
        self.endpoint = endpoint
        self.methods = tuple(methods)

    def match(self, path: str) -> dict[str, str] | None:
        """The ``{name}`` values if ``path`` fits the template, else ``None``.

        Args:
            path: The decoded request path.
        """
        found = self.regex.fullmatch(path)
        return None if found is None else found.groupdict()


class AsgiApp:
    """The ASGI application uvicorn serves.

    HTTP requests go to the first route whose template and method fit, else to
    ``fallback`` if it takes the method, else get ``405``. Every WebSocket goes to
    ``websocket``. ``lifespan(app)`` is entered at start-up and left at shutdown.

    Args:
        routes: The routes tried first, in order.
        fallback: The handler for every other HTTP request.
        fallback_methods: The methods ``fallback`` takes.
        websocket: ``await websocket(socket)`` serves one upgrade.
        lifespan: A function returning an async context manager.
    """

    def __init__(
        self,
        routes: Iterable[Route],
        fallback: Callable[[Request], Awaitable[Response]],
        fallback_methods: Iterable[str],
        websocket: Callable[[WebSocket], Awaitable[None]],
        lifespan: Callable[[AsgiApp], AbstractAsyncContextManager[Any]],
    ) -> None:
        self.routes = list(routes)
        self.fallback = Route("", fallback, fallback_methods)
        self.websocket = websocket
        self.lifespan = lifespan

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection scope (``http``, ``websocket`` or ``lifespan``).

        Args:
            scope: The scope.
            receive: The ASGI receive callable.
            send: The ASGI send callable.
        """
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            await self.websocket(WebSocket(scope, receive, send))
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    def _choose(self, path: str, method: str) -> tuple[Route | None, dict[str, str], tuple]:
        """The route for a request and its parameters, or ``None`` and the methods allowed."""
        allowed: tuple[str, ...] = ()
        for route in self.routes:
            params = route.match(path)
            if params is None:
                continue
            if method in route.methods:
                return route, params, ()
            allowed = allowed or route.methods
        if method in self.fallback.methods:
            return self.fallback, {}, ()
        return None, {}, allowed or self.fallback.methods

    async def _http(self, scope: Message, receive: Receive, send: Send) -> None:
        route, params, allowed = self._choose(scope["path"], scope["method"])
        if route is None:
            refusal = PlainTextResponse(
                "Method Not Allowed", status_code=405, headers={"allow": ", ".join(allowed)}
            )
            await refusal.send_to(send)
            return
        try:
            response = await route.endpoint(Request(scope, receive, params))
        except Exception:
            await PlainTextResponse("Internal Server Error", status_code=500).send_to(send)
            raise  # uvicorn logs it
        await response.send_to(send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        await receive()  # lifespan.startup
        started = False
        try:
            async with self.lifespan(self):
                await send({"type": "lifespan.startup.complete"})
                started = True
                await receive()  # lifespan.shutdown
        except BaseException:
            phase = "shutdown" if started else "startup"
            await send({"type": f"lifespan.{phase}.failed", "message": traceback.format_exc()})
            raise
        await send({"type": "lifespan.shutdown.complete"})
