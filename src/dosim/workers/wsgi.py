"""``workers.wsgi``: serve a WSGI app (Django, Flask, a bare callable) from a Worker.

The Python Workers SDK runs WSGI apps inside a Worker: ``await wsgi.fetch(app, request,
self.env)`` builds a PEP 3333 ``environ`` from the request, calls the app with it and a
``start_response``, and returns what the app produced as a ``Response``;
:func:`entrypoint` makes a ``Default`` class that does this for every request.

What the app sees, as with the SDK (workers-runtime-sdk 1.9.5, ``workers/wsgi.py``):

* **The environ** (:func:`build_environ`): ``REQUEST_METHOD``; an empty ``SCRIPT_NAME``;
  ``PATH_INFO`` percent-decoded and given as a WSGI "native string" (UTF-8 bytes read as
  Latin-1, which Django and Werkzeug undo); ``QUERY_STRING`` still percent-encoded;
  ``SERVER_NAME`` and ``SERVER_PORT`` from the URL (443 or 80 when it names none);
  ``HTTP/1.1``; the ``wsgi.*`` keys of a single-threaded, single-process server; every
  header as ``HTTP_<NAME>`` (``CONTENT_TYPE`` and ``CONTENT_LENGTH`` without the prefix,
  a repeated header joined with commas); and ``environ["workers.env"]``, the Worker's
  bindings.
* **The body** is ``wsgi.input``, a binary file. ``CONTENT_LENGTH`` is there when the
  request carries the header: the SDK reads the body as a stream and does not count it.
* **The response**: ``start_response`` follows PEP 3333 (called once, or again with
  ``exc_info``; the ``write`` callable it returns works, its output comes first). The
  status line's reason phrase becomes ``status_text``, repeated headers stay repeated,
  and a status without a body (101, 103, 204, 205, 304) sends none. The result's
  ``close()`` is called once the body is read, as is ``wsgi.input``'s.
* An app that raises before it called ``start_response`` and produced its first chunk,
  or that never calls ``start_response`` (``RuntimeError``), fails the request (a 500 in
  ``dosim dev``).

Where dosim differs: the response is returned once the app has produced all of its body
(the SDK streams it as the client reads), so an exception while producing a later chunk
is raised from :func:`fetch` here, where on Cloudflare the status and headers would
already be sent and the body would break off.
"""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from .entrypoints import WorkerEntrypoint
from .gateway import BaseOptions
from .request import Request
from .response import Response

__all__ = [
    "DEFAULT_OPTIONS",
    "NULL_BODY_STATUSES",
    "Options",
    "build_environ",
    "entrypoint",
    "fetch",
    "process_request",
]

NULL_BODY_STATUSES = frozenset({101, 103, 204, 205, 304})
"""Statuses whose response carries no body, whatever the app yields."""
MSG_NO_START_RESPONSE = "The WSGI application did not call start_response()"
MSG_START_TWICE = "start_response() called more than once"
MSG_WRITE_EARLY = "write() called before start_response()"
MSG_NOT_ABSOLUTE = "Request URL is not absolute: {url!r}"

log = logging.getLogger("dosim.wsgi")

App = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass(frozen=True, kw_only=True)
class Options(BaseOptions):
    """Options of the WSGI adapter (``encode_body``, see :class:`BaseOptions`)."""


DEFAULT_OPTIONS = Options()
"""The options :func:`fetch` uses when given none."""


def _native(text: str) -> str:
    # PEP 3333 "native strings": each character stands for one byte of the UTF-8 text.
    return text.encode("utf-8").decode("latin-1")


def build_environ(req: Request, env: Any, body: bytes | io.IOBase) -> dict[str, Any]:
    """Build the WSGI ``environ`` for one request.

    Args:
        req: The Worker's ``Request``.
        env: The Worker's bindings, given to the app as ``environ["workers.env"]``.
        body: The body, as ``bytes`` (then ``CONTENT_LENGTH`` is their length unless the
            request has the header) or as a binary file (then it is not counted).

    Raises:
        ValueError: If the request URL is not absolute.
    """
    if isinstance(body, bytes | bytearray):
        stream: Any = io.BytesIO(body)
        counted: int | None = len(body)
    else:
        stream, counted = body, None
    parts = urlsplit(req.url)
    if not parts.scheme:
        raise ValueError(MSG_NOT_ABSOLUTE.format(url=req.url))
    method = req.method
    environ: dict[str, Any] = {
        "REQUEST_METHOD": str(getattr(method, "value", method)),
        "SCRIPT_NAME": "",
        "PATH_INFO": _native(unquote(parts.path or "/")),
        "QUERY_STRING": parts.query,
        "SERVER_NAME": parts.hostname,
        "SERVER_PORT": str(parts.port or (443 if parts.scheme == "https" else 80)),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": parts.scheme,
        "wsgi.input": stream,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "workers.env": env,
    }
    for name, value in req.headers.items():
        key = name.upper().replace("-", "_")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = "HTTP_" + key
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    if counted and "CONTENT_LENGTH" not in environ:
        environ["CONTENT_LENGTH"] = str(counted)
    return environ


class _Exchange:
    """``start_response`` and ``write`` for one call of the app, and what they received."""

    def __init__(self) -> None:
        self.status: str | None = None
        self.headers: list[tuple[str, str]] = []
        self.written: list[bytes] = []

    def start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], None]:
        if exc_info is not None:
            try:
                if self.status is not None:
                    # Too late to change the status: the error goes up instead (PEP 3333).
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.status is not None:
            raise AssertionError(MSG_START_TWICE)
        self.status = status
        self.headers = list(headers)
        return self.write

    def write(self, data: bytes) -> None:
        if self.status is None:
            raise AssertionError(MSG_WRITE_EARLY)
        if data:
            self.written.append(bytes(data))


def _close(result: Any, environ: dict[str, Any]) -> None:
    close = getattr(result, "close", None)
    if close is not None:
        close()
    try:
        environ["wsgi.input"].close()
    except Exception:
        log.exception("closing wsgi.input failed")


def process_request(
    app: App,
    req: Request,
    env: Any,
    body: bytes | io.IOBase,
    options: Options = DEFAULT_OPTIONS,
) -> Response:
    """Run the WSGI app on one request and return its response.

    Args:
        app: The WSGI application.
        req: The Worker's ``Request``.
        env: The Worker's bindings.
        body: The request body (see :func:`build_environ`).
        options: The adapter's options.

    Raises:
        RuntimeError: If the app never called ``start_response``.
        Exception: What the app raised.
    """
    environ = build_environ(req, env, body)
    exchange = _Exchange()
    result = app(environ, exchange.start_response)
    produced: list[bytes] = []
    try:
        for chunk in result:
            if chunk:
                produced.append(bytes(chunk))
                if exchange.status is None:
                    break  # the SDK wants start_response by the first non-empty chunk
        if exchange.status is None:
            raise RuntimeError(MSG_NO_START_RESPONSE)
    finally:
        _close(result, environ)
    chunks = exchange.written + produced  # write() output comes first
    code, _, reason = exchange.status.partition(" ")
    status = int(code)
    content = None if status in NULL_BODY_STATUSES else b"".join(chunks)
    return Response(content, status=status, status_text=reason, headers=exchange.headers)


async def fetch(
    app: App,
    req: Request,
    env: Any,
    ctx: Any = None,
    *,
    options: Options | None = None,
) -> Response:
    """Serve one request with a WSGI app.

    Args:
        app: The WSGI application (``django.core.wsgi.get_wsgi_application()``, a Flask
            app, or any WSGI callable).
        req: The Worker's ``Request``.
        env: The Worker's bindings; the app finds them in ``environ["workers.env"]``.
        ctx: The Worker's ``ctx`` (accepted as the SDK accepts it; WSGI has no use for it).
        options: The adapter's options.

    Returns:
        The app's response.

    Raises:
        Exception: What the app raised (logged first, as the SDK logs it).
    """
    log.debug("WSGI request: %s %s", req.method, req.url)
    body = io.BytesIO(await req.bytes() if req.body is not None else b"")
    try:
        return process_request(app, req, env, body, options or DEFAULT_OPTIONS)
    except Exception:
        log.exception("WSGI request failed")
        raise


def entrypoint(app: App, *, options: Options | None = None) -> type[WorkerEntrypoint]:
    """Return a ``Default`` Worker class that serves every request with ``app``.

    Args:
        app: The WSGI application.
        options: The adapter's options.
    """

    class Default(WorkerEntrypoint):
        async def fetch(self, request: Request) -> Response:
            return await fetch(app, request, self.env, self.ctx, options=options)

    return Default
