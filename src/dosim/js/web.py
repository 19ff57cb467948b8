"""``js.Response``, ``js.Request``, ``js.Headers``, ``js.URL``, ``js.fetch``, ``js.WebSocket``.

The constructors take JavaScript arguments, as ``new Response(body, init)`` does on the
platform: ``init`` is a JavaScript object, normally built with
``to_js({...}, dict_converter=js.Object.fromEntries)``. A ``Map`` (``to_js`` with
``dict_converter=js.Map.new``, or without one under Pyodide before 0.29) has no
properties, so its members are ignored, as JavaScript ignores them. A Python ``dict``
crosses as a PyProxy whose keys read as properties (observed in Pyodide 314.0.7), so it
works as ``init``; as ``headers``, a PyProxy of a ``dict`` is iterable (over its keys)
and fails as it does there. What the constructors return are
dosim's ``workers`` objects (:class:`~dosim.workers.Response`,
:class:`~dosim.workers.Request`, and the ``Headers`` stand-in
:class:`~dosim.workers.headers.HeaderList`), so a fetch handler can return them.

``js.fetch`` and ``js.WebSocket`` reach the network, which dosim does not have: ``fetch``
goes to the outbound handler a test installs with
``dosim.workers.fetch.set_outbound_handler`` and, without one, fails with dosim's
documented "no network" error (a ``JsException``, as a rejected JavaScript promise
arrives). An outgoing ``WebSocket`` is not simulated: ``WebSocket.new(url)`` fails
saying so; an outbound handler can answer ``fetch(url, headers Upgrade: websocket)``
with a ``101`` response carrying a ``WebSocketPair`` end instead.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from typing import Any

from ..boundary import js_method
from ..errors import JsException
from ..ffi import (
    JsArray,
    JsBuffer,
    JsDoubleProxy,
    JsMap,
    JsObject,
    JsProxy,
    PyProxy,
    from_js,
    into_js,
    js_to_string,
    jsnull,
)
from ..workers.fetch import fetch as workers_fetch
from ..workers.headers import HeaderList
from ..workers.request import Request
from ..workers.response import Response
from ..workers.url import parse_url
from .base import JsFunction, WorkerdClass
from .jsonvalues import stringify
from .objects import own_entries

__all__ = [
    "Fetch",
    "HeadersConstructor",
    "RequestConstructor",
    "ResponseConstructor",
    "URL",
    "URLConstructor",
    "URLSearchParams",
    "WebSocketConstructor",
    "fetch",
    "init_members",
]

MSG_INVALID_URL = "Invalid URL"
MSG_HEADERS_INIT = 'Headers contructor: init[0] ("{key}") is not iterable.'
MSG_OUTBOUND_WEBSOCKET = (
    "new WebSocket({url!r}) was not opened: outbound network access is disabled in dosim, "
    "and outgoing WebSockets are not simulated. Have a test's outbound handler "
    "(dosim.workers.fetch.set_outbound_handler) answer fetch(url, headers Upgrade: "
    "websocket) with Response(status=101, web_socket=...) instead."
)


def _platform_object(value: Any) -> Any:
    """The dosim object behind a PyProxy of one of dosim's JavaScript stand-ins."""
    if isinstance(value, JsDoubleProxy):
        value = value._proxy
    if isinstance(value, PyProxy) and isinstance(value.obj, HeaderList | Request | Response):
        return value.obj
    return value


def init_members(init: Any) -> dict[str, Any]:
    """The members of a JavaScript ``init`` object (``RequestInit``, ``ResponseInit``).

    Args:
        init: ``undefined``, a JavaScript object, or a PyProxy of a ``dict`` (whose keys
            read as properties).

    Returns:
        The members that are not ``undefined``.
    """
    if init is None or init is False:
        return {}
    if isinstance(init, PyProxy) and isinstance(init.obj, Mapping):
        init.check_alive()
        return {str(k): v for k, v in init.obj.items() if v is not None}
    return {key: from_js(value) for key, value in own_entries(init) if value is not None}


def headers_from(init: Any) -> HeaderList:
    """Build the ``Headers`` a JavaScript ``HeadersInit`` describes.

    Args:
        init: A ``Headers`` (:class:`~dosim.workers.headers.HeaderList`), a JavaScript
            object of names to values, an iterable of ``[name, value]`` pairs (an Array,
            a ``Map``, a Python list of pairs), or ``undefined``.

    Raises:
        JsException: ``TypeError`` for a pair that is not a pair (a ``dict`` PyProxy
            iterates over its keys), or an invalid name or value.
    """
    init = _platform_object(init)
    if init is None:
        return HeaderList()
    if isinstance(init, HeaderList):
        return init.copy()
    if isinstance(init, Mapping):
        key = next(iter(init), None)
        if key is None:
            return HeaderList()
        raise JsException(MSG_HEADERS_INIT.format(key=js_to_string(key)), name="TypeError")
    if isinstance(init, JsMap):
        return HeaderList(init._map.items())
    if isinstance(init, JsArray):
        pairs = [from_js(item) for item in init._items]
        return HeaderList.from_init([list(pair) for pair in pairs])
    if isinstance(init, list | tuple):
        return HeaderList.from_init([list(pair) for pair in init])
    return HeaderList((key, from_js(value)) for key, value in own_entries(init))


def _body(value: Any) -> Any:
    value = _platform_object(value)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, JsBuffer):
        return value.to_bytes() if type(value) is JsBuffer else value
    if isinstance(value, PyProxy) and _is_body_object(value.obj):
        return value.obj
    return js_to_string(value)  # JavaScript sends an unknown object's toString()


def _is_body_object(obj: Any) -> bool:
    return type(obj).__name__ in ("FormData", "Blob", "File", "ReadableStream", "ArrayBuffer")


class HeadersConstructor(WorkerdClass):
    """JavaScript's ``Headers`` (``js.Headers``)."""

    @js_method
    def new(self, init: Any = None) -> HeaderList:
        """``new Headers(init)``; see :func:`headers_from`."""
        return headers_from(from_js(init) if isinstance(init, PyProxy) else init)


class ResponseConstructor(WorkerdClass):
    """JavaScript's ``Response`` (``js.Response``), building a :class:`~dosim.workers.Response`."""

    @js_method
    def new(self, body: Any = None, init: Any = None) -> Response:
        """``new Response(body, init)``.

        Args:
            body: A string, a buffer, a ``FormData`` or ``Blob``, or ``undefined``;
                another object is sent as its ``String()``.
            init: ``status``, ``statusText``, ``headers``, ``webSocket`` members.

        Raises:
            JsException: The platform's ``TypeError`` / ``RangeError`` (status out of
                range, a body on a null-body status, invalid headers).
        """
        members = init_members(init)
        response = Response(
            _body(body),
            status=members.get("status"),
            status_text=js_to_string(members.get("statusText", "")),
            web_socket=members.get("webSocket"),
        )
        response._headers = _merge(response._headers, members.get("headers"))
        return response

    def json(self, data: Any, init: Any = None) -> Response:
        """``Response.json(data, init)``: a JSON response of ``JSON.stringify(data)``."""
        from_init = init_members(init)
        headers = headers_from(from_init.get("headers"))
        if not headers.has("content-type"):
            headers.set("content-type", "application/json")
        text = stringify(into_js(data, keep=True))
        return Response(text, status=from_init.get("status"), headers=headers)

    def redirect(self, url: str, status: int = 302) -> Response:
        """``Response.redirect(url, status)``."""
        return Response.redirect(url, status)


def _merge(current: HeaderList, init: Any) -> HeaderList:
    if init is None:
        return current
    headers = headers_from(init)
    content_type = current.get("content-type")
    if content_type is not None and not headers.has("content-type"):
        headers.set("content-type", content_type)
    return headers


class RequestConstructor(WorkerdClass):
    """JavaScript's ``Request`` (``js.Request``), building a :class:`~dosim.workers.Request`."""

    @js_method
    def new(self, input: Any, init: Any = None) -> Request:  # noqa: A002
        """``new Request(input, init)``.

        Args:
            input: A URL string, a ``URL`` or a ``Request``.
            init: ``method``, ``headers``, ``body``, ``redirect``, ``cf`` members.

        Raises:
            JsException: The platform's ``TypeError`` (invalid URL or method, a body on a
                GET or HEAD request).
        """
        source = _platform_object(input)
        if not isinstance(source, Request):
            source = js_to_string(source)
        members = init_members(init)
        options: dict[str, Any] = {}
        for name in ("method", "redirect"):
            if name in members:
                options[name] = js_to_string(members[name])
        if "body" in members:
            options["body"] = _body(members["body"])
        if "cf" in members:
            cf = members["cf"]
            options["cf"] = cf.to_py() if isinstance(cf, JsProxy) else cf
        if "headers" in members:
            options["headers"] = headers_from(members["headers"])
        return Request(source, **options)


class URLSearchParams(JsProxy):
    """A URL's ``searchParams``: ``get``, ``getAll``, ``has``, ``set``, ``append``, ``delete``.

    Changes write through to the URL's ``search``, as in JavaScript. Iterating yields the
    names, as Pyodide iterates a map-like JavaScript object.

    Args:
        query: The query without ``?``.
        owner: The :class:`URL` to update, if any.
    """

    _js_type = "URLSearchParams"

    def __init__(self, query: str = "", owner: URL | None = None) -> None:
        self._pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
        self._owner = owner

    def get(self, name: str) -> Any:
        """The first value of ``name``, or ``jsnull`` when there is none."""
        for key, value in self._pairs:
            if key == name:
                return value
        return jsnull

    def getAll(self, name: str) -> JsArray:  # noqa: N802 - the JavaScript method name
        """Every value of ``name``, as an Array."""
        return JsArray(value for key, value in self._pairs if key == name)

    def has(self, name: str) -> bool:
        """Whether ``name`` is present."""
        return any(key == name for key, _ in self._pairs)

    def set(self, name: Any, value: Any) -> None:
        """Replace every value of ``name`` with one value."""
        name, value = js_to_string(name), js_to_string(value)
        kept, placed = [], False
        for key, old in self._pairs:
            if key != name:
                kept.append((key, old))
            elif not placed:
                kept.append((key, value))
                placed = True
        if not placed:
            kept.append((name, value))
        self._pairs = kept
        self._changed()

    def append(self, name: Any, value: Any) -> None:
        """Add a value for ``name``."""
        self._pairs.append((js_to_string(name), js_to_string(value)))
        self._changed()

    def delete(self, name: str) -> None:
        """Remove every value of ``name``."""
        self._pairs = [(key, value) for key, value in self._pairs if key != name]
        self._changed()

    @property
    def size(self) -> int:
        """The number of name/value pairs."""
        return len(self._pairs)

    def keys(self) -> list[str]:
        """The names, in order (repeated names repeat)."""
        return [key for key, _ in self._pairs]

    def toString(self) -> str:  # noqa: N802 - the JavaScript method name
        """The ``application/x-www-form-urlencoded`` form, without ``?``."""
        return "&".join(f"{_form(key)}={_form(value)}" for key, value in self._pairs)

    def to_py(self, *, depth: int = -1, default_converter: Any = None) -> Any:
        """A ``dict`` of the last value of each name."""
        return dict(self._pairs)

    def __iter__(self) -> Any:
        return iter(self.keys())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.has(name)

    def __repr__(self) -> str:
        return self.toString()

    def _changed(self) -> None:
        if self._owner is not None:
            self._owner._set_query(self.toString())


def _form(text: str) -> str:
    return urllib.parse.quote_plus(text, safe="*").replace("~", "%7E")


class URL(JsProxy):
    """A parsed URL (``new URL(url, base)``), with the WHATWG URL's read-only properties.

    Args:
        href: An already normalised absolute URL.
    """

    _js_type = "URL"

    def __init__(self, href: str) -> None:
        self._set(href)

    def _set(self, href: str) -> None:
        self._href = href
        parts = urllib.parse.urlsplit(href)
        self._parts = parts
        self._params = URLSearchParams(parts.query, self)

    def _set_query(self, query: str) -> None:
        parts = self._parts._replace(query=query)
        self._href = urllib.parse.urlunsplit(parts) if query else self._href_without_query()
        self._parts = urllib.parse.urlsplit(self._href)

    def _href_without_query(self) -> str:
        before, _, after = self._href.partition("#")
        base = before.split("?", 1)[0]
        return base + ("#" + after if _ else "")

    @property
    def href(self) -> str:
        """The whole normalised URL."""
        return self._href

    @property
    def protocol(self) -> str:
        """The scheme with its colon: ``"https:"``."""
        return self._parts.scheme + ":"

    @property
    def username(self) -> str:
        """The user name, or ``""``."""
        return self._parts.username or ""

    @property
    def password(self) -> str:
        """The password, or ``""``."""
        return self._parts.password or ""

    @property
    def host(self) -> str:
        """Host name and non-default port: ``"example.com:8443"``."""
        return self._parts.netloc.rpartition("@")[2]

    @property
    def hostname(self) -> str:
        """The host name alone (an IPv6 address keeps its brackets)."""
        host = self.host
        colon = host.rfind(":")
        return host[:colon] if colon > host.rfind("]") else host

    @property
    def port(self) -> str:
        """The port as a string; ``""`` for the scheme's default."""
        host = self.host
        colon = host.rfind(":")
        return host[colon + 1 :] if colon > host.rfind("]") else ""

    @property
    def origin(self) -> str:
        """``scheme://host`` for http(s) and ws(s) URLs, else ``"null"``."""
        if self._parts.scheme in ("http", "https", "ws", "wss", "ftp"):
            return f"{self._parts.scheme}://{self.host}"
        return "null"

    @property
    def pathname(self) -> str:
        """The path: ``"/a/b"``."""
        return self._parts.path

    @property
    def search(self) -> str:
        """The query with its ``?``, or ``""``."""
        return "?" + self._parts.query if self._parts.query else ""

    @property
    def hash(self) -> str:
        """The fragment with its ``#``, or ``""``."""
        return "#" + self._parts.fragment if self._parts.fragment else ""

    @property
    def searchParams(self) -> URLSearchParams:  # noqa: N802 - the JavaScript property name
        """The query's parameters; changing them changes the URL."""
        return self._params

    def toString(self) -> str:  # noqa: N802 - the JavaScript method name
        """The :attr:`href`."""
        return self._href

    def toJSON(self) -> str:  # noqa: N802 - the JavaScript method name
        """The :attr:`href` (what ``JSON.stringify`` writes)."""
        return self._href

    def __str__(self) -> str:
        return self._href

    def __repr__(self) -> str:
        return self._href


def _resolve(url: str, base: Any) -> str | None:
    if base is None:
        return parse_url(url)
    base_href = parse_url(js_to_string(base))
    if base_href is None:
        return None
    return parse_url(urllib.parse.urljoin(base_href, url))


class URLConstructor(WorkerdClass):
    """JavaScript's ``URL`` (``js.URL``)."""

    @js_method
    def new(self, url: Any, base: Any = None) -> URL:
        """``new URL(url, base)``.

        Args:
            url: An absolute URL, or one relative to ``base``.
            base: A base URL, or ``undefined``.

        Raises:
            JsException: ``TypeError: Invalid URL`` when the result is not a valid URL.
        """
        href = _resolve(js_to_string(url), base)
        if href is None:
            raise JsException(MSG_INVALID_URL, name="TypeError")
        return URL(href)

    @js_method
    def canParse(self, url: Any, base: Any = None) -> bool:  # noqa: N802 - the JavaScript name
        """``URL.canParse(url, base)``: whether ``new URL(url, base)`` would succeed."""
        return _resolve(js_to_string(url), base) is not None


class Fetch(JsFunction):
    """JavaScript's ``fetch`` (``js.fetch``): to the test's outbound handler, if any."""

    async def _send(self, resource: Any, members: dict[str, Any]) -> Response:
        request = RequestConstructor("Request").new(resource, JsObject(members))
        try:
            return await workers_fetch(request)
        except (TypeError, OSError) as error:
            raise JsException(str(error), name="TypeError") from None

    @js_method
    def __call__(self, resource: Any, init: Any = None) -> Any:
        """``fetch(resource, init)``: an awaitable of the :class:`~dosim.workers.Response`.

        Raises:
            JsException: ``TypeError`` with dosim's "no network" message when no outbound
                handler is installed, or the platform's error for a bad request; a
                failure the handler raises.
        """
        return self._send(_platform_object(resource), init_members(init))


class WebSocketConstructor(WorkerdClass):
    """JavaScript's ``WebSocket`` (``js.WebSocket``): outgoing connections are not simulated."""

    @js_method
    def new(self, url: Any, protocols: Any = None) -> Any:
        """``new WebSocket(url)``: fails with dosim's "no network" error.

        Raises:
            JsException: ``Error`` saying outgoing WebSockets are not simulated.
        """
        raise JsException(MSG_OUTBOUND_WEBSOCKET.format(url=js_to_string(url)), name="Error")


fetch = Fetch("fetch")
"""``js.fetch``."""
