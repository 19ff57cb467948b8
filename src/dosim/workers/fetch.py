"""Outbound ``fetch()`` and the request/response plumbing shared with ``stub.fetch()``.

On Cloudflare ``await fetch(url_or_request, **options)`` sends a subrequest to the
network and returns a ``Response``. dosim has no network, by design: a test installs an
outbound handler with :func:`set_outbound_handler`, which receives the ``Request`` and
returns a ``Response`` (or an awaitable of one) -- a fake upstream. Without a handler,
``fetch()`` raises ``TypeError`` saying so.

``fetch(..., fetcher=callable)`` sends to that callable instead, as the SDK's stubs do
for ``stub.fetch()``.

Platform behaviour reproduced: the options are normalised as the SDK's ``fetch()`` does
(an ``HTTPMethod`` becomes its name, options set to ``None`` are dropped, ``fetcher`` is
not part of the request); a ``Request`` passed in has its body taken over; and any error
the JavaScript side raises -- an invalid URL, or a network failure, which a handler
simulates by raising ``OSError`` or ``JsException`` -- reaches the caller as ``OSError``
with the JS message, as Pyodide's ``pyfetch`` converts it. The ``Response`` returned is
a copy of the handler's, with ``url`` set to the request URL.

Where dosim differs: the SDK passes a ``FormData`` body to JavaScript unconverted;
dosim encodes it as ``Request`` does.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from http import HTTPMethod
from typing import Any

from ..errors import JsException
from .request import Request
from .response import Response

__all__ = ["OutboundHandler", "build_request", "fetch", "received_response", "set_outbound_handler"]

OutboundHandler = Callable[[Request], "Response | Awaitable[Response]"]
"""A fake upstream: takes the outgoing ``Request``, returns a ``Response``."""

MSG_OUTBOUND_DISABLED = (
    "fetch({url!r}) was not sent: outbound network access is disabled in dosim. Install a "
    "fake upstream with dosim.workers.fetch.set_outbound_handler(handler), where "
    "handler(request) returns a Response (or an awaitable of one)."
)
MSG_NOT_A_RESPONSE = "Incorrect type for Promise: the Promise did not resolve to 'Response'."
MSG_BODY_ALREADY_USED = (
    "Body has already been used. It can only be used once. Use tee() first if you need to "
    "read it twice."
)

_outbound_handler: OutboundHandler | None = None


def set_outbound_handler(handler: OutboundHandler | None) -> OutboundHandler | None:
    """Install the fake upstream every ``fetch()`` goes to (dosim only).

    Args:
        handler: ``handler(request) -> Response | Awaitable[Response]``, or ``None`` to
            disable outbound access again.

    Returns:
        The previous handler, so a test can restore it.
    """
    global _outbound_handler
    previous, _outbound_handler = _outbound_handler, handler
    return previous


def build_request(resource: str | Request, **options: Any) -> Request:
    """Build the ``Request`` that ``fetch(resource, **options)`` sends.

    Normalises like the SDK's ``fetch()`` on its way to JavaScript: an ``HTTPMethod``
    becomes its name, options that are ``None`` are left out (Pyodide passes them as
    ``undefined``), and ``fetcher`` (which picks the transport) is dropped. A ``Request``
    given as ``resource`` has its body taken over, so it reads as used afterwards.

    Args:
        resource: An absolute URL or a ``Request``.
        **options: ``FetchKwargs``: ``method``, ``headers``, ``body``, ``redirect``,
            ``cf``; unknown names are ignored.

    Returns:
        A new ``Request``.

    Raises:
        TypeError: For an unexpected ``headers`` or ``body`` type.
        JsException: ``TypeError`` for an invalid URL, method, header or redirect mode.
    """
    init = {k: v for k, v in options.items() if v is not None and k != "fetcher"}
    if isinstance(init.get("method"), HTTPMethod):
        init["method"] = init["method"].value
    return Request(resource, **init)


def received_response(response: Any, url: str) -> Response:
    """Return the ``Response`` the caller of a (sub)request receives.

    A fresh copy of what the other side returned, with ``url`` set to the request URL
    (without fragment); the original's body moves into it.

    Args:
        response: What the handler (or Durable Object ``fetch``) returned.
        url: The request URL.

    Raises:
        TypeError: ``Incorrect type for Promise: ...`` when ``response`` is not a
            ``Response``.
        JsException: ``TypeError`` when its body was already read.
    """
    if not isinstance(response, Response):
        raise TypeError(MSG_NOT_A_RESPONSE)
    body = response._transfer(MSG_BODY_ALREADY_USED)
    copy = response._copy(body)
    copy._url = response.url or url.split("#", 1)[0]
    return copy


async def fetch(resource: str | Request, **options: Any) -> Response:
    """Send a subrequest and return the response.

    The request goes to ``fetcher`` when given (the SDK's own option, which its service
    and Durable Object stubs use to route ``stub.fetch()``), else to the outbound handler.

    Args:
        resource: An absolute URL or a ``Request``.
        **options: ``FetchKwargs`` (see :func:`build_request`), and ``fetcher``: a
            callable taking the ``Request`` and returning a ``Response`` or an awaitable
            of one.

    Returns:
        A ``Response`` whose ``url`` is the request URL.

    Raises:
        TypeError: When there is neither a ``fetcher`` nor an outbound handler, or for an
            unexpected ``headers`` or ``body`` type.
        OSError: For errors JavaScript would raise (invalid URL, method, header, a used
            body) and for failures the handler or fetcher raises as ``JsException`` or
            ``OSError``; the message is the JS error's message, as ``pyfetch`` gives it.
    """
    target = options.pop("fetcher", None) or _outbound_handler
    try:
        request = build_request(resource, **options)
    except JsException as error:
        raise OSError(error.message) from None
    if target is None:
        raise TypeError(MSG_OUTBOUND_DISABLED.format(url=request.url))  # dosim's own rule
    try:
        result = target(request)
        if inspect.isawaitable(result):
            result = await result
        return received_response(result, request.url)
    except JsException as error:
        raise OSError(error.message) from None
