"""Bodies of requests and responses: bytes that can be read once.

On Cloudflare a body is a JavaScript ``ReadableStream``; reading it (``text()``,
``json()``, ``bytes()``, ...) disturbs the stream, after which ``body_used`` is true and
a second read raises ``OSError`` (the SDK and Pyodide check ``bodyUsed`` first). A
request or response without a body is never "used": it reads as empty, any number of
times. dosim stores the bytes and a used flag, which gives the same observable rules.

Stand-ins for JavaScript objects, since dosim has no JS heap:

* :class:`ArrayBuffer` is what ``buffer()`` returns, standing in for Pyodide's
  ``JsBuffer``: it has the ``JsBuffer`` methods app code uses (``to_bytes()``,
  ``to_memoryview()``, ``to_string()``, ``to_py()``) and ``byteLength``, and nothing
  else, so code written against it also runs on Cloudflare. It is accepted back as a
  body, like a JS ``ArrayBuffer``.
* :class:`ReadableStream` is what ``.body`` returns for a non-empty body. It only
  supports being passed as the body of a new ``Request``/``Response`` (the common proxy
  pattern); doing so reads the source at once, where JavaScript would read it lazily.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from ..ffi import JsBuffer
from .blob import Blob, decode_utf8, encode_utf8
from .formdata import FormData, encode_form_data, parse_form_data
from .headers import HeaderList
from .jserror import js_error

__all__ = ["ArrayBuffer", "BodyMixin", "ReadableStream", "extract_body"]

MSG_STREAM_DISTURBED = (
    "This ReadableStream is disturbed (has already been read from), and cannot be used as "
    "a body."
)
MSG_BODY_ALREADY_USED = (
    "Body has already been used. It can only be used once. Use tee() first if you need to "
    "read it twice."
)
TEXT_PLAIN = "text/plain;charset=UTF-8"


class ArrayBuffer(JsBuffer):
    """The bytes ``buffer()`` returns and binary WebSocket messages: a JavaScript ArrayBuffer.

    A :class:`~dosim.ffi.JsBuffer`: ``to_bytes()``, ``to_py()`` (a ``memoryview``),
    ``to_string()``, ``byteLength``.
    """

    __slots__ = ()

    def __init__(self, data: bytes | bytearray | memoryview) -> None:
        super().__init__(data, "ArrayBuffer")


class ReadableStream:
    """The ``.body`` of a request or response with a body (see the module docstring)."""

    __slots__ = ("_owner",)

    def __init__(self, owner: BodyMixin) -> None:
        self._owner = owner

    def _take(self) -> bytes:
        return self._owner._transfer(MSG_STREAM_DISTURBED) or b""

    def __dosim_wire__(self) -> ReadableStream:
        # A stream crosses into JavaScript (a KV or R2 put, an RPC argument) as itself:
        # the receiver reads it, which disturbs it here too.
        return self

    def __repr__(self) -> str:
        return "ReadableStream()"


def extract_body(body: Any, owner: str) -> tuple[bytes | None, str | None]:
    """Turn a body argument into bytes and the content type the runtime would add.

    Args:
        body: ``None``, ``str`` (UTF-8, ``text/plain;charset=UTF-8``), ``bytes``,
            :class:`~dosim.workers.formdata.FormData` (``multipart/form-data``),
            :class:`ArrayBuffer` or :class:`ReadableStream`.
        owner: ``"Request"`` or ``"Response"``, for the error message.

    Returns:
        ``(data, content_type)``; ``data`` is ``None`` for no body.

    Raises:
        TypeError: ``Unsupported type in <owner>: <type>`` for anything else (as the SDK
            says for ``Response``; dosim uses the same words for ``Request``).
    """
    if body is None:
        return None, None
    if isinstance(body, str):
        return encode_utf8(body), TEXT_PLAIN
    if isinstance(body, bytes):
        return bytes(body), None
    if isinstance(body, FormData):
        return encode_form_data(body)
    if isinstance(body, ArrayBuffer):
        return body.to_bytes(), None
    if isinstance(body, ReadableStream):
        return body._take(), None
    raise TypeError(f"Unsupported type in {owner}: {type(body).__name__}")


class BodyMixin:
    """Body state and readers shared by ``Request`` and ``Response``."""

    _BODY_USED_MESSAGE: ClassVar[str] = "Body already used"
    _body: bytes | None
    _used: bool
    _headers: HeaderList
    _stream: ReadableStream | None

    def _init_body(self, data: bytes | None, headers: HeaderList) -> None:
        self._body = data
        self._used = False
        self._headers = headers
        self._stream = None

    @property
    def body_used(self) -> bool:
        """Whether the body was read; always ``False`` when there is no body."""
        return self._body is not None and self._used

    @property
    def body(self) -> ReadableStream | None:
        """The body as a stream stand-in, ``None`` when there is no body."""
        if self._body is None:
            return None
        if self._stream is None:
            self._stream = ReadableStream(self)
        return self._stream

    @property
    def headers(self) -> Any:
        """A fresh :class:`~dosim.workers.headers.HeadersMapping` of the headers."""
        return self._headers.to_mapping()

    @property
    def js_object(self) -> Any:
        """The JavaScript ``Request``/``Response`` behind this object on Cloudflare.

        dosim has no JavaScript object underneath: ``js_object`` is the object itself, so
        code that hands it on (``asgi.fetch(app, request.js_object, self.env)``, as
        Cloudflare's examples do) runs unchanged. JavaScript-only members it would have
        (``credentials``, ``mode``, ...) are still absent.
        """
        return self

    def _raise_if_failed(self) -> None:
        if self.body_used:
            raise OSError(self._BODY_USED_MESSAGE)

    def _consume(self) -> bytes:
        self._raise_if_failed()
        if self._body is None:
            return b""
        self._used = True
        return self._body

    def _transfer(self, message: str) -> bytes | None:
        """Move the body elsewhere (a new request, the wire); the source becomes used."""
        if self._body is None:
            return None
        if self._used:
            raise js_error("TypeError", message)
        self._used = True
        return self._body

    async def text(self) -> str:
        """Read the body as UTF-8 text (invalid bytes become U+FFFD, a BOM is dropped)."""
        return decode_utf8(self._consume())

    async def bytes(self) -> bytes:
        """Read the body as ``bytes``."""
        return self._consume()

    async def buffer(self) -> ArrayBuffer:
        """Read the body as an :class:`ArrayBuffer` (Pyodide returns a ``JsBuffer``)."""
        return ArrayBuffer(self._consume())

    async def _read_json(self, **kwargs: Any) -> Any:
        self._raise_if_failed()
        return json.loads(await self.text(), **kwargs)

    async def form_data(self) -> FormData:
        """Read the body as form data (``multipart/form-data`` or URL-encoded).

        Raises:
            TypeError: When the ``Content-Type`` header is missing or unsupported, or the
                body is malformed (the runtime's messages).
        """
        self._raise_if_failed()
        content_type = self._headers.get("content-type")
        if content_type is None:
            return parse_form_data(b"", None)  # raises the missing-header error
        return parse_form_data(self._consume(), content_type)

    async def blob(self) -> Blob:
        """Read the body as a :class:`~dosim.workers.blob.Blob` typed by ``Content-Type``."""
        self._raise_if_failed()
        return Blob._of(self._consume(), self._headers.get("content-type") or "")
