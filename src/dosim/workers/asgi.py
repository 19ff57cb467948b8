"""``workers.asgi``: serve an ASGI app (Starlette, FastAPI, ...) from a Worker or an object.

The Python Workers SDK runs ASGI apps inside a Worker: ``await asgi.fetch(app, request,
self.env)`` turns the request into an ASGI ``http`` scope, runs the app and returns its
answer as a ``Response``; :func:`entrypoint` makes a ``Default`` class that does this
for every request. ``import asgi`` is the same module (dosim installs that alias too).

What the app sees, as with the SDK (workers-runtime-sdk 1.9.5, ``workers/asgi.py``):

* **The scope**: ASGI 3.0 (spec 2.0), HTTP/1.1, the method, the URL's scheme, the path
  percent-decoded (``raw_path`` keeps it encoded), the query string without ``?``,
  lower-cased header names (bytes pairs), and ``scope["env"]``: the Worker's bindings
  (a FastAPI route reads them from ``request.scope["env"]``).
* **Lifespan**: each request runs the app's lifespan startup first and its shutdown after
  the response is complete; an app without lifespan support is served without it.
  Lifespan ``state`` is copied into each request's scope.
* **The body** arrives in one ``http.request`` message; once the response is complete,
  ``receive()`` answers ``http.disconnect``.
* An exception before the response started is raised to the Worker (a 500 in ``dosim
  dev``); a status without a body (101, 103, 204, 205, 304) sends no body.

Where dosim differs: the response is returned once the app has sent all of its body (the
SDK streams it as it comes), so a streaming response (server-sent events) arrives whole;
WebSocket routes of ASGI apps are not simulated yet (:func:`websocket` says so), nor is
the SDK's ``asgi.env`` FastAPI dependency (it would make dosim import FastAPI).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from .entrypoints import WorkerEntrypoint
from .gateway import BaseOptions
from .request import Request
from .response import Response

__all__ = [
    "ASGI",
    "ASGI_VERSION",
    "DEFAULT_OPTIONS",
    "MSG_ASGI_WEBSOCKET",
    "NULL_BODY_STATUSES",
    "Options",
    "entrypoint",
    "fetch",
    "websocket",
]

ASGI_VERSION = {"spec_version": "2.0", "version": "3.0"}
"""The ``scope["asgi"]`` every scope carries."""
MSG_ASGI_WEBSOCKET = (
    "dosim does not simulate WebSocket routes of ASGI apps yet; accept the WebSocket in "
    "a Worker or Durable Object handler instead."
)
ASGI = ASGI_VERSION
"""The same dict under the SDK's name for it."""
NULL_BODY_STATUSES = frozenset({101, 103, 204, 205, 304})
"""Statuses whose response carries no body, whatever the app sends."""

log = logging.getLogger("dosim.asgi")


@dataclass(frozen=True, kw_only=True)
class Options(BaseOptions):
    """Options of the ASGI adapter (``encode_body``, see :class:`BaseOptions`)."""


DEFAULT_OPTIONS = Options()
"""The options :func:`fetch` uses when given none."""

Message = dict[str, Any]
App = Callable[
    [Message, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]],
    Awaitable[None],
]


def _scope(request: Request, env: Any, state: dict[str, Any] | None) -> Message:
    parts = urlsplit(request.url)
    raw_path = parts.path or "/"
    scope: Message = {
        "type": "http",
        "asgi": dict(ASGI_VERSION),
        "http_version": "1.1",
        "method": str(request.method),
        "scheme": parts.scheme,
        "path": unquote(raw_path),
        "raw_path": raw_path.encode(),
        "query_string": parts.query.encode(),
        "headers": [
            (name.lower().encode(), value.encode()) for name, value in request.headers.items()
        ],
        "env": env,
    }
    if state is not None:
        scope["state"] = dict(state)  # each request gets its own shallow copy
    return scope


class _Lifespan:
    """One run of the app's lifespan protocol around one request."""

    def __init__(self, app: App) -> None:
        self._app = app
        self._inbox: asyncio.Queue[Message] = asyncio.Queue()
        loop = asyncio.get_running_loop()
        self._started: asyncio.Future[bool] = loop.create_future()
        self._stopped: asyncio.Future[None] = loop.create_future()
        self.state: dict[str, Any] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> bool:
        """Run the startup phase; return whether the app supports lifespan at all."""
        await self._inbox.put({"type": "lifespan.startup"})
        self._task = asyncio.ensure_future(self._run())
        return await self._started

    async def stop(self) -> None:
        """Run the shutdown phase (nothing to do if startup was not supported)."""
        try:
            if self._started.result():
                await self._inbox.put({"type": "lifespan.shutdown"})
                await self._stopped
        finally:
            # A lifespan handler that keeps running after shutdown would otherwise stay
            # behind, one per request.
            if self._task is not None and not self._task.done():
                self._task.cancel()

    async def _run(self) -> None:
        scope = {"type": "lifespan", "asgi": dict(ASGI_VERSION), "state": self.state}
        try:
            await self._app(scope, self._inbox.get, self._send)
        except Exception:
            if not self._started.done():
                # The spec: raising before startup completes means "no lifespan support".
                log.debug("ASGI app raised in lifespan before startup; served without it")
                self._started.set_result(False)
                return
            log.exception("ASGI lifespan failed after startup")
        if not self._started.done():
            self._started.set_result(False)  # returned without answering: no support
        if not self._stopped.done():
            self._stopped.set_result(None)

    async def _send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "lifespan.startup.complete":
            self._settle(self._started, True)
        elif kind == "lifespan.startup.failed":
            error = RuntimeError(message.get("message") or "ASGI lifespan startup failed")
            if not self._started.done():
                self._started.set_exception(error)
        elif kind == "lifespan.shutdown.complete":
            self._settle(self._stopped, None)
        elif kind == "lifespan.shutdown.failed":
            error = RuntimeError(message.get("message") or "ASGI lifespan shutdown failed")
            if not self._stopped.done():
                self._stopped.set_exception(error)
        else:
            raise RuntimeError(f"unexpected ASGI lifespan message {kind!r}")

    @staticmethod
    def _settle(future: asyncio.Future[Any], value: Any) -> None:
        if not future.done():
            future.set_result(value)


async def _serve(app: App, request: Request, env: Any, state: dict[str, Any] | None) -> Response:
    body = await request.bytes() if request.body is not None else b""
    sent_request = False
    finished = asyncio.Event()
    started: Message | None = None
    chunks: list[bytes] = []

    async def receive() -> Message:
        nonlocal sent_request
        if not sent_request:
            sent_request = True
            return {"type": "http.request", "body": body, "more_body": False}
        await finished.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal started
        kind = message["type"]
        if kind == "http.response.start":
            if started is not None:
                raise RuntimeError("ASGI app sent http.response.start twice")
            started = message
        elif kind == "http.response.body":
            if started is None:
                raise RuntimeError("ASGI app sent a body before http.response.start")
            chunks.append(bytes(message.get("body", b"")))
            if not message.get("more_body", False):
                finished.set()
        else:
            raise RuntimeError(f"unexpected ASGI http message {kind!r}")

    try:
        await app(_scope(request, env, state), receive, send)
    except Exception:
        if started is None or not finished.is_set():
            raise
        # Starlette's error middleware sends its 500 and then raises; the SDK logs the
        # error and answers with the response the app already sent, and so does dosim.
        log.exception("ASGI app raised after its response was complete")
    finally:
        finished.set()  # a receive() still waiting learns the client is gone
    if started is None:
        raise RuntimeError("ASGI app returned without sending a response")
    status = int(started["status"])
    headers = [(bytes(k).decode(), bytes(v).decode()) for k, v in started.get("headers", [])]
    content = b"".join(chunks)
    return Response(
        None if status in NULL_BODY_STATUSES else content, status=status, headers=headers
    )


async def fetch(
    app: App, req: Request, env: Any, ctx: Any = None, *, options: Options | None = None
) -> Response:
    """Serve one request with an ASGI app, lifespan included.

    Args:
        app: The ASGI application (a Starlette or FastAPI app, or any ASGI 3 callable).
        req: The Worker's ``Request``.
        env: The Worker's bindings; the app finds them in ``scope["env"]``.
        ctx: The Worker's ``ctx`` (accepted as the SDK accepts it).
        options: The adapter's options (``encode_body`` changes nothing in dosim, which
            never compresses a body).

    Returns:
        The app's response.

    Raises:
        Exception: What the app raised before it started its response, or a failed
            lifespan startup.
    """
    lifespan = _Lifespan(app)
    supported = await lifespan.start()
    try:
        return await _serve(app, req, env, lifespan.state if supported else None)
    finally:
        await lifespan.stop()


async def websocket(app: App, req: Request, env: Any = None) -> Response:
    """Serve a WebSocket upgrade with an ASGI app (not simulated yet).

    Args:
        app: The ASGI application.
        req: The upgrade request.
        env: The Worker's bindings.

    Raises:
        NotImplementedError: Always, with :data:`MSG_ASGI_WEBSOCKET`.
    """
    raise NotImplementedError(MSG_ASGI_WEBSOCKET)


def entrypoint(app: App, *, options: Options | None = None) -> type[WorkerEntrypoint]:
    """Return a ``Default`` Worker class that serves every request with ``app``.

    Args:
        app: The ASGI application.
        options: The adapter's options, given to :func:`fetch`.
    """

    class Default(WorkerEntrypoint):
        async def fetch(self, request: Request) -> Response:
            if (request.headers.get("upgrade") or "").lower() == "websocket":
                return await websocket(app, request, self.env)
            return await fetch(app, request, self.env, self.ctx, options=options)

    return Default
