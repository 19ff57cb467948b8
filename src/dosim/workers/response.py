"""``Response`` and ``FetchResponse``: HTTP responses as Python Workers code sees them.

``Response(body=None, status=None, status_text="", headers=None, web_socket=None)``
follows the SDK, which forwards to the JavaScript ``Response`` constructor:

* ``body`` is ``None``, ``str``, ``bytes``, ``FormData`` (or a buffer/stream stand-in
  from another body); anything else is ``TypeError: Unsupported type in Response: <type>``.
* A falsy ``status`` means 200 (the SDK drops it, so ``status=0`` is 200 too). Without a
  WebSocket the status must be 200-599, with one it must be 101 (``RangeError``).
* A 101/204/205/304 response with a non-empty body is a ``TypeError``; an empty body is
  accepted and dropped, as workerd does.
* ``status_text`` defaults to the standard reason phrase (``"OK"`` for 200).

As on Cloudflare, the constructor's platform errors arrive as ``JsException`` (see
:mod:`dosim.workers.jserror`), while ``Response.redirect`` and ``Response.json``/
``from_json`` convert them to ``TypeError``/``ValueError``.

``FetchResponse`` is the base class with the ``pyodide.http.FetchResponse`` surface
(``status``, ``ok``, ``text()``, ``json()``, ``bytes()``, ``buffer()``, ``memoryview()``,
``clone()``, ``raise_for_status()``, ...); every response dosim hands out is a
``Response``, as the SDK's ``fetch()`` returns.

Where dosim differs: ``Response.redirect`` returns a ``Response`` (the SDK returns the raw
JS object); ``clone()`` returns a ``Response`` (Pyodide's ``clone()`` returns its own base
``FetchResponse``, whose ``headers`` is a plain ``dict``); ``web_socket`` is a dosim
property (JS ``webSocket``); ``js_object`` is the response itself; ``abort()`` and
``unpack_archive()`` are absent.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from ..errors import JsException
from .body import ArrayBuffer, BodyMixin, ReadableStream, extract_body
from .formdata import FormData
from .headers import HeaderList
from .jserror import js_error, to_python_exception
from .url import parse_url

__all__ = ["FetchResponse", "HttpStatusError", "Response"]

MSG_STATUS_RANGE = (
    "Responses may only be constructed with status codes in the range 200 to 599, inclusive."
)
MSG_WEBSOCKET_STATUS = "Responses with a WebSocket must have status code 101."
MSG_NULL_BODY_STATUS = "Response with null body status (101, 204, 205, or 304) cannot have a body."
MSG_INVALID_STATUS_TEXT = "Invalid statusText"
MSG_REDIRECT_STATUS = (
    "{status} is not a redirect status code. It must be one of: 301, 302, 303, 307, or 308."
)
MSG_REDIRECT_URL = "Unable to parse URL: {url}"
MSG_CLONE_WEBSOCKET = "Cannot clone a response to a WebSocket handshake."
MSG_RESPONSE_BODY_USED = "Response body is already used"

_NULL_BODY_STATUSES = frozenset({101, 204, 205, 304})
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# workerd's default reason phrases (http.HTTPStatus's differ between Python versions).
_REASONS = {
    int(code): text
    for code, text in (
        entry.split(" ", 1)
        for entry in (
            "100 Continue|101 Switching Protocols|102 Processing|103 Early Hints|200 OK|"
            "201 Created|202 Accepted|203 Non-Authoritative Information|204 No Content|"
            "205 Reset Content|206 Partial Content|207 Multi-Status|208 Already Reported|"
            "226 IM Used|300 Multiple Choices|301 Moved Permanently|302 Found|303 See Other|"
            "304 Not Modified|305 Use Proxy|307 Temporary Redirect|308 Permanent Redirect|"
            "400 Bad Request|401 Unauthorized|402 Payment Required|403 Forbidden|"
            "404 Not Found|405 Method Not Allowed|406 Not Acceptable|"
            "407 Proxy Authentication Required|408 Request Timeout|409 Conflict|410 Gone|"
            "411 Length Required|412 Precondition Failed|413 Payload Too Large|"
            "414 URI Too Long|415 Unsupported Media Type|416 Range Not Satisfiable|"
            "417 Expectation Failed|418 I'm a teapot|421 Misdirected Request|"
            "422 Unprocessable Entity|423 Locked|424 Failed Dependency|426 Upgrade Required|"
            "428 Precondition Required|429 Too Many Requests|"
            "431 Request Header Fields Too Large|451 Unavailable For Legal Reasons|"
            "500 Internal Server Error|501 Not Implemented|502 Bad Gateway|"
            "503 Service Unavailable|504 Gateway Timeout|505 HTTP Version Not Supported|"
            "506 Variant Also Negotiates|507 Insufficient Storage|508 Loop Detected|"
            "510 Not Extended|511 Network Authentication Required"
        ).split("|")
    )
}
_CLASS_REASONS = {2: "Successful", 3: "Redirection", 4: "Client Error", 5: "Server Error"}


class HttpStatusError(OSError):
    """Raised by ``raise_for_status()`` for a 4xx or 5xx status (``pyodide.http``'s class).

    Attributes:
        status: The status code.
        status_text: The reason phrase.
        url: The response URL.
    """

    def __init__(self, status: int, status_text: str, url: str) -> None:
        kind = "Client" if status < 500 else "Server"
        super().__init__(f"{status} {kind} Error: {status_text} for url: {url}")
        self.status = status
        self.status_text = status_text
        self.url = url


class FetchResponse(BodyMixin):
    """The response surface of ``pyodide.http.FetchResponse`` plus the SDK's additions.

    Not constructed directly: build a :class:`Response`, or receive one from ``fetch()``
    or ``stub.fetch()``.
    """

    _BODY_USED_MESSAGE = MSG_RESPONSE_BODY_USED
    _status: int
    _status_text: str | None
    _url: str
    _web_socket: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("FetchResponse is not constructed directly; build a Response")

    @classmethod
    def _of(
        cls,
        status: int,
        status_text: str | None,
        headers: HeaderList,
        body: bytes | None,
        web_socket: Any = None,
        url: str = "",
    ) -> Response:
        """Build a response from validated parts (no platform checks)."""
        response = Response.__new__(Response)
        response._set(status, status_text, headers, body, web_socket, url)
        return response

    def _set(
        self,
        status: int,
        status_text: str | None,
        headers: HeaderList,
        body: bytes | None,
        web_socket: Any,
        url: str = "",
    ) -> None:
        self._status, self._status_text = status, status_text
        self._web_socket, self._url = web_socket, url
        self._init_body(body, headers)

    @property
    def status(self) -> int:
        """The status code."""
        return self._status

    @property
    def status_text(self) -> str:
        """The reason phrase: the one given, else the standard one for the status."""
        if self._status_text is not None:
            return self._status_text
        return _default_reason(self._status)

    @property
    def ok(self) -> bool:
        """Whether the status is 200-299."""
        return 200 <= self._status < 300

    @property
    def redirected(self) -> bool:
        """Whether redirects were followed to get here; always ``False`` in dosim."""
        return False

    @property
    def type(self) -> str:
        """The response type; ``"default"`` as workerd reports for every response."""
        return "default"

    @property
    def url(self) -> str:
        """The URL that was fetched; ``""`` for a constructed response."""
        return self._url

    @property
    def web_socket(self) -> Any:
        """The WebSocket of a 101 response, else ``None`` (dosim's view of JS ``webSocket``)."""
        return self._web_socket

    async def memoryview(self) -> memoryview:
        """Read the body as a ``memoryview``."""
        return memoryview(self._consume())

    async def string(self) -> str:
        """Read the body as text; Pyodide's deprecated spelling of :meth:`text`."""
        return await self.text()

    def json(self, *args: Any, **kwargs: Any) -> Any:
        """Read the body as JSON, or, called on the class, build a JSON response.

        ``await response.json()`` parses the body (extra arguments are ignored, as in the
        SDK). ``Response.json(data, status=..., headers=...)`` is kept by the SDK as a
        static spelling of :meth:`from_json`.
        """
        if isinstance(self, Response):
            return self._read_json()
        return Response.from_json(self, *args, **kwargs)

    async def formData(self) -> Any:  # noqa: N802 - the SDK keeps this JS spelling
        """Read the body as form data; the SDK's older spelling of ``form_data()``."""
        return await self.form_data()

    def clone(self) -> Response:
        """Return an independent copy whose body can be read separately.

        Raises:
            OSError: ``Response body is already used`` when the body was read.
            JsException: ``TypeError`` for a WebSocket handshake response.
        """
        self._raise_if_failed()
        if self._web_socket is not None:
            raise js_error("TypeError", MSG_CLONE_WEBSOCKET)
        return self._copy(self._body)

    def raise_for_status(self) -> None:
        """Raise :class:`HttpStatusError` (an ``OSError``) for a 4xx or 5xx status."""
        if 400 <= self._status < 600:
            raise HttpStatusError(self._status, self.status_text, self._url)

    def replace_body(self, body: Any) -> Response:
        """Return a response with the same status, headers and WebSocket and a new body."""
        if body is not None and not _is_body(body):
            raise TypeError(f"Unsupported type in Response: {type(body).__name__}")
        return FetchResponse._of(
            *_checked(body, self._status, self._status_text, self._headers.copy(), self._web_socket)
        )

    def _copy(self, body: bytes | None) -> Response:
        return FetchResponse._of(
            self._status,
            self._status_text,
            self._headers.copy(),
            body,
            self._web_socket,
            self._url,
        )

    def __dosim_wire__(self) -> Response:
        """Return the copy the receiver of an RPC call gets; this response's body moves.

        Raises:
            JsException: ``TypeError`` when the body was already read.
        """
        return self._copy(
            self._transfer(
                "This ReadableStream is disturbed (has already been read from), and cannot "
                "be used as a body."
            )
        )

    @staticmethod
    def redirect(url: str, status: HTTPStatus | int = HTTPStatus.FOUND) -> Response:
        """Build a redirect to an absolute URL.

        Raises:
            ValueError: ``<status> is not a redirect status code. ...`` unless the status
                is 301, 302, 303, 307 or 308.
            TypeError: ``Unable to parse URL: <url>`` for a relative or invalid URL.
        """
        code = int(status)
        try:
            if code not in _REDIRECT_STATUSES:
                raise js_error("RangeError", MSG_REDIRECT_STATUS.format(status=code))
            location = parse_url(url)
            if location is None:
                raise js_error("TypeError", MSG_REDIRECT_URL.format(url=url))
        except JsException as error:
            raise to_python_exception(error) from error
        return FetchResponse._of(code, None, HeaderList([("location", location)]), None)

    @staticmethod
    def from_json(
        data: Any,
        status: HTTPStatus | int = HTTPStatus.OK,
        status_text: str = "",
        headers: Any = None,
    ) -> Response:
        """Build a response whose body is ``json.dumps(data)``.

        ``Content-Type`` is ``application/json`` unless ``headers`` sets one.

        Raises:
            TypeError: When ``data`` is not JSON-serialisable (``json.dumps``'s error).
            ValueError: For a status out of range (a converted ``RangeError``).
        """
        header_list = HeaderList.from_init(headers) if headers else HeaderList()
        if not header_list.has("content-type"):
            header_list.set("content-type", "application/json")
        try:
            return FetchResponse._of(
                *_checked(json.dumps(data), status, status_text, header_list, None)
            )
        except JsException as error:
            raise to_python_exception(error) from error


class Response(FetchResponse):
    """An HTTP response (see the module docstring for the rules applied).

    Args:
        body: ``None``, ``str``, ``bytes`` or ``FormData``.
        status: The status code (``int`` or ``HTTPStatus``); falsy means 200.
        status_text: The reason phrase; empty means the standard one.
        headers: A ``dict``, a ``list`` of pairs or a ``HeaderList``.
        web_socket: The client end of a WebSocket pair, for a 101 response.

    Raises:
        TypeError: ``Unsupported type in Response: <type>`` for another body type, or an
            unexpected ``headers`` type.
        JsException: ``RangeError``/``TypeError`` for the platform checks above.
    """

    def __init__(
        self,
        body: Any = None,
        status: HTTPStatus | int | None = None,
        status_text: str = "",
        headers: Any = None,
        web_socket: Any = None,
    ) -> None:
        if body is not None and not _is_body(body):
            raise TypeError(f"Unsupported type in Response: {type(body).__name__}")
        header_list = HeaderList.from_init(headers) if headers else HeaderList()
        self._set(*_checked(body, status, status_text, header_list, web_socket))

    def __repr__(self) -> str:
        parts = [f"status={self.status}"]
        if self.status_text:
            parts.append(f"status_text={self.status_text!r}")
        content_type = self._headers.get("content-type")
        if content_type is not None:
            parts.append(f"content_type={content_type!r}")
        if self._url:
            parts.append(f"url={self._url!r}")
        return f"Response({', '.join(parts)})"


def _is_body(body: Any) -> bool:
    return isinstance(body, str | bytes | FormData | ArrayBuffer | ReadableStream)


def _checked(
    body: Any, status: Any, status_text: str | None, headers: HeaderList, web_socket: Any
) -> tuple[int, str | None, HeaderList, bytes | None, Any]:
    """Apply the JavaScript ``Response`` constructor's checks; return the parts."""
    code = int(status) if status else 200
    socket = web_socket or None
    if socket is None and not 200 <= code <= 599:
        raise js_error("RangeError", MSG_STATUS_RANGE)
    if socket is not None and code != 101:
        raise js_error("RangeError", MSG_WEBSOCKET_STATUS)
    # The socket is a runtime object this layer does not import: it asks, the socket answers.
    used_in_response = getattr(socket, "__dosim_in_response__", None)
    if used_in_response is not None:
        used_in_response()
    if status_text and any(ord(char) < 0x20 for char in status_text):
        raise js_error("TypeError", MSG_INVALID_STATUS_TEXT)
    data, content_type = extract_body(body, "Response")
    if data is not None and code in _NULL_BODY_STATUSES:
        if data:
            raise js_error("TypeError", MSG_NULL_BODY_STATUS)
        data, content_type = None, None
    if content_type is not None and not headers.has("content-type"):
        headers.set("content-type", content_type)
    return code, status_text or None, headers, data, socket


def _default_reason(status: int) -> str:
    if status in _REASONS:
        return _REASONS[status]
    return _CLASS_REASONS.get(status // 100, "")
