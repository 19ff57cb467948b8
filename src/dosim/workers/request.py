"""``Request``: an HTTP request as Python Workers code builds and receives it.

Same constructor and surface as the SDK's ``workers.Request``:
``Request(input, *, method=, headers=, body=, redirect=, cf=)`` where ``input`` is an
absolute URL or another ``Request``. The platform's rules, applied here as the runtime
applies them:

* The URL must be absolute and is stored normalised (``https://a.com`` reads back as
  ``https://a.com/``); otherwise ``Invalid URL: <url>`` (a JS ``TypeError``; browsers
  and Node say ``Failed to parse URL from <url>``, workerd does not).
* ``method`` is upper-cased (compat flag ``upper_case_all_http_methods``, default since
  2024-10-14) and must be a method workerd knows, else
  ``Invalid HTTP method string: <method>``; ``.method`` returns an ``http.HTTPMethod``.
* ``GET``/``HEAD`` with a body: ``Request with a GET or HEAD method cannot have a body.``
* ``redirect`` is ``"follow"`` (default) or ``"manual"``.
* Building a request from another takes over its body: the source becomes used.

Errors raised by the JavaScript constructor on Cloudflare arrive as ``JsException``
(see :mod:`dosim.workers.jserror`); the SDK's own checks raise ``TypeError``.

Where dosim differs: unknown keyword options are ignored (as JavaScript ignores unknown
init members); only ``str``, ``bytes``, ``FormData`` and the buffer/stream stand-ins are
accepted as a body (``TypeError: Unsupported type in Request: <type>`` otherwise); the
JS-only properties ``credentials``, ``destination``, ``mode``, ``referrer``,
``referrer_policy`` and ``is_history_navigation`` are absent; ``js_object`` is the
request itself (there is no JavaScript object underneath).
"""

from __future__ import annotations

from http import HTTPMethod
from typing import Any

from ..serialization import JsDict
from .body import BodyMixin, extract_body
from .headers import HeaderList
from .jserror import js_error
from .url import parse_url

__all__ = ["Request", "method_name"]

MSG_INVALID_URL = "Invalid URL: {url}"
MSG_INVALID_METHOD = "Invalid HTTP method string: {method}"
MSG_GET_HEAD_BODY = "Request with a GET or HEAD method cannot have a body."
MSG_RECONSTRUCT_USED = "Cannot reconstruct a Request with a used body."
MSG_REDIRECT_MODE = (
    'Invalid redirect value, must be one of "follow" or "manual" ("error" won\'t be '
    'implemented since it does not make sense at the edge; use "manual" and check the '
    "response status code)."
)
MSG_REQUEST_BODY_USED = "Body already used"

# Methods workerd accepts (kj::HttpMethod). CONNECT is not among them. Those missing
# from http.HTTPMethod construct fine but ``.method`` raises KeyError, as in the SDK.
_KNOWN_METHODS = frozenset(
    "GET HEAD POST PUT DELETE PATCH PURGE OPTIONS TRACE COPY LOCK MKCOL MOVE PROPFIND "
    "PROPPATCH SEARCH UNLOCK ACL REPORT MKACTIVITY CHECKOUT MERGE M-SEARCH NOTIFY "
    "SUBSCRIBE UNSUBSCRIBE".split()
)


class Request(BodyMixin):
    """An HTTP request (see the module docstring for the rules applied).

    Args:
        input: An absolute URL, or a ``Request`` to copy (its body is taken over unless
            ``body`` is given).
        **options: ``method`` (``str`` or ``HTTPMethod``), ``headers`` (``dict``,
            ``list`` of pairs or a :class:`~dosim.workers.headers.HeaderList`; ``None``
            is rejected as by the SDK), ``body``, ``redirect``, ``cf`` (a ``dict`` of
            ``RequestInitCfProperties``). Options set to ``None`` other than
            ``headers`` count as absent.
    """

    _BODY_USED_MESSAGE = MSG_REQUEST_BODY_USED

    def __init__(self, input: str | Request, **options: Any) -> None:  # noqa: A002
        # The SDK converts headers in Python before calling JS, so that check is first.
        headers = HeaderList.from_init(options["headers"]) if "headers" in options else None
        body, content_type = extract_body(options.get("body"), "Request")
        if isinstance(input, Request):
            self._url, self._method = input._url, input._method
            self._redirect, self._cf = input._redirect, _js_object(input._cf)
            inherited = input._headers.copy()
            data = input._transfer(MSG_RECONSTRUCT_USED) if body is None else body
        else:
            url = parse_url(str(input))
            if url is None:
                raise js_error("TypeError", MSG_INVALID_URL.format(url=input))
            self._url, self._method, self._redirect, self._cf = url, "GET", "follow", None
            inherited, data = HeaderList(), body
        method = options.get("method")
        if method is not None:
            self._method = _normalise_method(method)
        if options.get("cf") is not None:
            self._cf = _js_object(options["cf"])
        if options.get("redirect") is not None:
            self._redirect = _redirect_mode(options["redirect"])
        if (method is not None or body is not None) and data is not None:
            if self._method in ("GET", "HEAD"):
                raise js_error("TypeError", MSG_GET_HEAD_BODY)
        headers = headers if headers is not None else inherited
        if content_type is not None and not headers.has("content-type"):
            headers.set("content-type", content_type)
        self._init_body(data, headers)

    @property
    def url(self) -> str:
        """The normalised absolute URL."""
        return self._url

    @property
    def method(self) -> HTTPMethod:
        """The method as an ``http.HTTPMethod``."""
        return HTTPMethod[self._method]

    @property
    def redirect(self) -> str:
        """``"follow"`` or ``"manual"``."""
        return self._redirect

    @property
    def cf(self) -> JsDict | None:
        """The ``cf`` object (attribute and key access), ``None`` when there is none.

        Incoming requests on Cloudflare carry ``IncomingRequestCfProperties`` (colo,
        country, ...); dosim has no edge, so requests carry only what was passed as
        ``cf=``.
        """
        return self._cf

    @property
    def cache(self) -> str | None:
        """The cache mode; ``None`` (the runtime's default, no mode)."""
        return None

    @property
    def integrity(self) -> str:
        """Always ``""``: workerd does not implement subresource integrity."""
        return ""

    @property
    def keepalive(self) -> bool:
        """Always ``False`` in workerd."""
        return False

    async def json(self, **kwargs: Any) -> Any:
        """Read the body and parse it with ``json.loads(text, **kwargs)``."""
        return await self._read_json(**kwargs)

    def clone(self) -> Request:
        """Return an independent copy whose body can be read separately.

        Raises:
            OSError: ``Body already used`` when the body was read.
        """
        self._raise_if_failed()
        return self._copy()

    def __dosim_wire__(self) -> Request:
        """Return the copy the receiver of an RPC call gets; this request's body moves.

        On Cloudflare a request sent over RPC carries its body stream along, so the sender's
        copy becomes used.

        Raises:
            JsException: ``TypeError`` when the body was already read.
        """
        copy = self._copy()
        self._transfer(
            "This ReadableStream is disturbed (has already been read from), and cannot be "
            "used as a body."
        )
        return copy

    def _copy(self) -> Request:
        copy = Request.__new__(Request)
        copy._url, copy._method, copy._redirect = self._url, self._method, self._redirect
        copy._cf = _js_object(self._cf)
        copy._init_body(self._body, self._headers.copy())
        return copy

    def __repr__(self) -> str:
        return f"Request(method={self._method!r}, url={self._url!r})"


def _normalise_method(method: Any) -> str:
    text = method.value if isinstance(method, HTTPMethod) else str(method)
    upper = text.upper()
    if upper not in _KNOWN_METHODS:
        raise js_error("TypeError", MSG_INVALID_METHOD.format(method=text))
    return upper


def _redirect_mode(value: Any) -> str:
    mode = str(value).lower()
    if mode not in ("follow", "manual"):
        raise js_error("TypeError", MSG_REDIRECT_MODE)
    return mode


def _js_object(value: Any) -> Any:
    """Deep-copy a ``cf`` value into what Python reads back from a JS object."""
    if isinstance(value, dict):
        return JsDict({str(key): _js_object(item) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return [_js_object(item) for item in value]
    return value


def method_name(request: Request) -> str:
    """The request's method as the text workerd forwarded (``"PURGE"`` included).

    ``request.method`` builds an ``http.HTTPMethod``, as the SDK does, and fails for a
    method that enum lacks; dosim's own bookkeeping (the trace, the request log) uses this.

    Args:
        request: A :class:`Request`.
    """
    return request._method
