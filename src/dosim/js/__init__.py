"""The ``js`` module of Python Workers code, on CPython: JavaScript's globals, modelled.

On Cloudflare, ``import js`` reaches the JavaScript global scope from Pyodide. Under dosim
on CPython, app code's ``import js`` resolves to this package, which offers the globals
Python Workers code reaches for, as :mod:`dosim.ffi` values (``JsProxy`` kinds) with
JavaScript's argument conversions (:func:`dosim.boundary.js_method`):

* ``Date`` on the simulation's virtual clock (:mod:`dosim.js.date`);
* ``JSON`` (:mod:`dosim.js.jsonvalues`); ``Object``, ``Map``, ``Set``, ``Number``,
  ``Error``, ``TypeError``, ``RangeError``, ``ArrayBuffer``, ``Uint8Array``
  (:mod:`dosim.js.objects`); ``undefined``;
* ``console``, into the running object's trace and the output (:mod:`dosim.js.console`);
* ``crypto.randomUUID`` / ``getRandomValues``, seeded (:mod:`dosim.js.crypto`);
* ``Response``, ``Request``, ``Headers``, ``URL``, ``fetch`` and ``WebSocket``
  (:mod:`dosim.js.web`), ``WebSocketPair`` and ``WebSocketRequestResponsePair``
  (:mod:`dosim.websockets`);
* ``setTimeout``, ``clearTimeout``, ``queueMicrotask`` (:mod:`dosim.js.timers`).

Any other name raises ``AttributeError`` saying that dosim does not simulate it.

Inside Pyodide (the docs' sandbox, the Pyodide test run) the real ``js`` module exists
and Pyodide itself uses its globals, so dosim leaves them alone and only adds the names
in :data:`PYODIDE_ADDITIONS`, which a browser lacks.
"""

from __future__ import annotations

from typing import Any

from ..websockets import WebSocketPair, WebSocketRequestResponsePair
from .console import console
from .crypto import crypto
from .date import Date
from .jsonvalues import JSON
from .objects import ArrayBuffer, Error, ErrorConstructor, Map, Number, Object, Set, Uint8Array
from .timers import clearTimeout, queueMicrotask, setTimeout
from .web import (
    HeadersConstructor,
    RequestConstructor,
    ResponseConstructor,
    URLConstructor,
    WebSocketConstructor,
    fetch,
)

__all__ = [
    "ArrayBuffer",
    "Date",
    "Error",
    "Headers",
    "JSON",
    "Map",
    "Number",
    "Object",
    "PYODIDE_ADDITIONS",
    "RangeError",
    "Request",
    "Response",
    "Set",
    "TypeError",
    "URL",
    "Uint8Array",
    "WebSocket",
    "WebSocketPair",
    "WebSocketRequestResponsePair",
    "clearTimeout",
    "console",
    "crypto",
    "fetch",
    "queueMicrotask",
    "setTimeout",
    "undefined",
]

undefined = None
"""JavaScript's ``undefined``, which Pyodide gives Python as ``None``."""

PYODIDE_ADDITIONS = ("WebSocketPair", "WebSocketRequestResponsePair")
"""The names dosim adds to the real ``js`` module inside Pyodide (Workers-only globals)."""

MSG_NOT_SIMULATED = (
    "js.{name}: dosim does not simulate this JavaScript global. See 'Differences from "
    "Cloudflare' (docs/differences.md, section 'The js module') for the globals it has; "
    "run this code on Cloudflare (wrangler dev) to use it."
)

TypeError = ErrorConstructor("TypeError")  # noqa: A001 - the JavaScript global's name
"""``js.TypeError``."""
RangeError = ErrorConstructor("RangeError")
"""``js.RangeError``."""
Headers = HeadersConstructor("Headers")
"""``js.Headers``: ``Headers.new(init)``."""
Request = RequestConstructor("Request")
"""``js.Request``: ``Request.new(input, init)``."""
Response = ResponseConstructor("Response")
"""``js.Response``: ``Response.new(body, init)``."""
URL = URLConstructor("URL")
"""``js.URL``: ``URL.new(url, base)``."""
WebSocket = WebSocketConstructor("WebSocket")
"""``js.WebSocket``: outgoing connections are not simulated."""


def __getattr__(name: str) -> Any:
    """Refuse a JavaScript global dosim does not simulate, saying so.

    Raises:
        AttributeError: Always; the message names the global and the Differences page.
    """
    if name.startswith("__") and name.endswith("__"):
        raise AttributeError(name)  # Python's own probes (__path__, __wrapped__, ...)
    raise AttributeError(MSG_NOT_SIMULATED.format(name=name))
