"""HTTP between the dev server and the simulated Worker: requests in, responses out.

* :func:`read_body` reads the request body, refusing bodies over the limit with
  :class:`BodyTooLarge` (sent as ``413``). The default limit is
  :data:`MAX_BODY_BYTES`, 100 MB: Cloudflare's request body limit on the Free and Pro
  plans (Business 200 MB, Enterprise 500 MB by default), where larger bodies are
  rejected with ``413 Request entity too large``. A ``Content-Length`` over the limit
  is refused before anything is read; a chunked body is counted as it arrives.
* A URL longer than :data:`MAX_URL_BYTES` (Cloudflare's documented 16 KB URL limit)
  gets ``414``.
* :func:`to_worker_request` builds the :class:`dosim.workers.Request` the Worker gets:
  the URL as the client addressed it (``http://127.0.0.1:8787/path?q``), the headers
  in order, the body (none for ``GET``/``HEAD``).
* :func:`to_http_response` turns the Worker's ``Response`` into the server's response:
  status, every header (``Set-Cookie`` values kept apart) and the body.
* :func:`worker_error_response` is the ``500`` sent when the Worker raises: a
  plain-text traceback. That is a *dev server* choice (``wrangler dev`` also shows the
  stack); deployed on Cloudflare, an uncaught exception gives the client an error page
  (``Error 1101: Worker threw exception``) and no stack.
"""

from __future__ import annotations

import traceback
from typing import Any

from ..workers.request import Request as WorkerRequest
from .web import PlainTextResponse, Response
from .web import Request as HttpRequest

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_URL_BYTES",
    "BodyTooLarge",
    "UrlTooLong",
    "url_too_long_response",
    "read_body",
    "to_worker_request",
    "to_http_response",
    "worker_error_response",
    "cpu_limit_response",
    "too_large_response",
]

MAX_BODY_BYTES = 100 * 1000 * 1000
"""Largest request body accepted: 100 MB, Cloudflare's limit on the Free and Pro plans."""
MAX_URL_BYTES = 16 * 1024
"""Longest URL accepted: Cloudflare's documented 16 KB URL limit (longer gives 414)."""

_NO_BODY_METHODS = frozenset({"GET", "HEAD"})
# The body is sent whole, so the server frames it; the Worker's framing headers would lie.
_FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding"})


class BodyTooLarge(Exception):
    """The request body is over the limit (sent as ``413 Request entity too large``).

    Args:
        limit: The limit in bytes.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"request body larger than {limit} bytes")


class UrlTooLong(Exception):
    """The URL is over :data:`MAX_URL_BYTES` (sent as ``414 URI Too Long``)."""


async def read_body(request: HttpRequest, limit: int = MAX_BODY_BYTES) -> bytes:
    """Read the whole body, refusing more than ``limit`` bytes.

    Args:
        request: The incoming request.
        limit: Largest body accepted, in bytes.

    Raises:
        BodyTooLarge: ``Content-Length`` says more than ``limit``, or the body
            streamed past it.
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def to_worker_request(request: HttpRequest, body: bytes) -> WorkerRequest:
    """Build the Worker's ``Request`` from an incoming HTTP request.

    Args:
        request: The incoming request.
        body: Its body, from :func:`read_body`.

    Raises:
        Exception: What the ``Request`` constructor raises for a method workerd does
            not know (sent as ``400``).
    """
    method = request.method.upper()
    headers = [
        (name.decode("latin-1"), value.decode("latin-1")) for name, value in request.headers.raw
    ]
    options: dict[str, Any] = {"method": method, "headers": headers}
    if body and method not in _NO_BODY_METHODS:
        options["body"] = body
    return WorkerRequest(raw_url(request.scope), **options)


def raw_url(scope: dict[str, Any], scheme: str | None = None) -> str:
    """The request URL as the client sent it: path and query not decoded.

    The scope's ``path`` is decoded, so ``%2F`` would turn into ``/`` and ``%0A`` into a
    newline; workerd hands the Worker the URL as sent (the scope's ``raw_path``).

    Args:
        scope: The ASGI scope of an HTTP request or WebSocket upgrade.
        scheme: The scheme to use (``http``/``https``); the scope's by default.
    """
    scheme = scheme or scope.get("scheme", "http")
    host = ""
    for name, value in scope.get("headers", ()):
        if name.lower() == b"host":
            host = value.decode("latin-1")
            break
    if not host:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    path = scope.get("raw_path") or scope.get("path", "/").encode("utf-8")
    url = f"{scheme}://{host}{path.decode('latin-1')}"
    query = scope.get("query_string", b"")
    return url + "?" + query.decode("latin-1") if query else url


async def to_http_response(response: Any) -> Response:
    """Turn the Worker's ``Response`` into the server's :class:`~dosim.dev.web.Response`.

    For ``HEAD`` requests uvicorn sends the headers only.

    Args:
        response: What the Worker's ``fetch`` returned.

    Raises:
        TypeError: The Worker returned something that is not a ``Response``.
        OSError: ``Body already used``: the Worker returned a response whose body it
            had read.
    """
    status = getattr(response, "status", None)
    if not isinstance(status, int) or not hasattr(response, "headers"):
        raise TypeError(
            f"the Worker's fetch() must return a Response, got {type(response).__name__}"
        )
    body = await response.bytes()
    raw = [
        (name.lower().encode("latin-1"), str(value).encode("latin-1"))
        for name, value in response.headers.items()
        if name.lower() not in _FRAMING_HEADERS
    ]
    http = Response(content=body, status_code=status)
    # The server frames the body (content-length); the Worker's other headers win.
    own = {name for name, _ in raw}
    http.raw_headers = [(n, v) for n, v in http.raw_headers if n not in own] + raw
    return http


def worker_error_response(error: BaseException) -> PlainTextResponse:
    """The ``500`` sent when the Worker raises: a plain-text traceback (dev only).

    Args:
        error: The exception the Worker's ``fetch`` raised.
    """
    text = "".join(traceback.format_exception(error))
    return PlainTextResponse(
        "Worker threw exception (dosim dev shows the traceback; Cloudflare would answer "
        "with Error 1101 and no details)\n\n" + text,
        status_code=500,
    )


def cpu_limit_response() -> PlainTextResponse:
    """The ``503`` sent when the Worker's ``fetch`` exceeded its CPU time limit.

    Cloudflare answers with its error page 1102 ("Worker exceeded CPU time limit."); the
    status, 503, is inferred.
    """
    return PlainTextResponse(
        "Worker exceeded CPU time limit. (Cloudflare would answer with Error 1102; the "
        "limit is limits.cpu_ms in the wrangler config, 30000 ms by default)\n",
        status_code=503,
    )


def too_large_response(limit: int) -> PlainTextResponse:
    """The ``413`` for a body over ``limit`` bytes; the connection is closed after it.

    Args:
        limit: The limit in bytes.
    """
    return PlainTextResponse(
        f"413 Request entity too large: the request body is over {limit:,} bytes "
        "(Cloudflare's limit is 100 MB on the Free and Pro plans)\n",
        status_code=413,
        headers={"connection": "close"},
    )


def url_too_long_response() -> PlainTextResponse:
    """The ``414`` for a URL over :data:`MAX_URL_BYTES`."""
    return PlainTextResponse(
        f"414 URI Too Long: URLs are limited to {MAX_URL_BYTES:,} bytes on Cloudflare\n",
        status_code=414,
    )
