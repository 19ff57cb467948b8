"""What an R2 call returns: ``R2Object``, ``R2ObjectBody`` and ``R2Checksums``.

workerd's classes are ``R2Bucket::HeadResult``, ``R2Bucket::GetResult`` and
``R2Bucket::Checksums`` (``src/workerd/api/r2-bucket.h``); TypeScript calls them
``R2Object``, ``R2ObjectBody`` and ``R2Checksums``, and JavaScript's
``constructor.name`` gives ``HeadResult``, ``GetResult`` and ``Checksums`` (jsg names a
class after its C++ type with the namespaces stripped). dosim's classes carry the
TypeScript names and report the JavaScript ones (:attr:`js_class_name`).

Reached from Python through the SDK's wrapper (:mod:`dosim.bindings.wrapper`), their
properties convert: ``uploaded`` and ``httpMetadata.cacheExpiry`` are naive UTC
``datetime``, ``httpMetadata``/``customMetadata``/``range`` are dicts with attribute
access, checksums are ``memoryview``. The wrapper caches each attribute after its first
read (as the SDK does), so ``obj.bodyUsed`` read once keeps that value; an object listed
by ``list()`` arrives without the wrapper, as a raw proxy.

An ``R2ObjectBody``'s ``body`` is a :class:`~dosim.workers.body.ReadableStream` that
``Response(obj.body)`` accepts. Reading the body (``text()``, ``arrayBuffer()``, ...)
or handing the stream on uses it up; a second read fails with the runtime's
``TypeError``.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
from collections.abc import Callable
from typing import Any

from ..eager import finished, start_now
from ..errors import JsException
from ..serialization import wire_date
from ..workers.blob import Blob, decode_utf8
from ..workers.body import MSG_BODY_ALREADY_USED, BodyMixin, ReadableStream
from ..workers.headers import HeaderList
from .r2_options import HASHES, HTTP_FIELDS
from .r2_store import ObjectRecord
from .wrapper import JsClassObject

__all__ = ["R2Checksums", "R2Object", "R2ObjectBody", "io_result"]


async def _after_io(outcome: Any) -> Any:
    # The call went out over the network: other tasks run before the caller resumes.
    await asyncio.sleep(0)
    return await outcome


def io_result(work: Callable[[], Any]) -> Any:
    """Run a platform call now and return its promise, settled after one turn of I/O.

    The work (validation, reading or writing the store) happens when the call is made,
    as the request leaves at once on Cloudflare; what it returns or raises is delivered
    where the result is awaited, after the event loop has turned once (R2 is reached
    over the network, so other tasks, other requests to the same Durable Object
    included, may run in between).

    Args:
        work: The call's body.

    Returns:
        An awaitable of the result.
    """
    try:
        outcome = finished(work())
    except Exception as error:  # noqa: BLE001 - a rejected promise, raised where awaited
        outcome = finished(error=error)
    return start_now(_after_io(outcome))


class R2Checksums(JsClassObject):
    """``R2Checksums``: the digests R2 stored for an object.

    ``md5`` ... ``sha512`` are ``ArrayBuffer`` (``memoryview`` in Python) or ``None``;
    ``toJSON()`` gives the present ones as hex strings.

    Args:
        hexes: Hex digests by field.
    """

    js_class_name = "Checksums"

    def __init__(self, hexes: dict[str, str]) -> None:
        self._hexes = dict(hexes)

    def _digest(self, field: str) -> bytes | None:
        value = self._hexes.get(field)
        return None if value is None else bytes.fromhex(value)

    @property
    def md5(self) -> bytes | None:
        """The MD5 digest (every single upload has one), or ``None``."""
        return self._digest("md5")

    @property
    def sha1(self) -> bytes | None:
        """The SHA-1 digest given at upload, or ``None``."""
        return self._digest("sha1")

    @property
    def sha256(self) -> bytes | None:
        """The SHA-256 digest given at upload, or ``None``."""
        return self._digest("sha256")

    @property
    def sha384(self) -> bytes | None:
        """The SHA-384 digest given at upload, or ``None``."""
        return self._digest("sha384")

    @property
    def sha512(self) -> bytes | None:
        """The SHA-512 digest given at upload, or ``None``."""
        return self._digest("sha512")

    def toJSON(self, *_ignored: Any) -> dict[str, str]:  # noqa: N802 - the platform's name
        """The present digests as lower-case hex strings."""
        return {field: self._hexes[field] for field, _name, _size in HASHES if field in self._hexes}


class R2Object(JsClassObject):
    """``R2Object``: an object's metadata (``head``, ``put``, ``list``, ``complete``).

    Args:
        record: The stored metadata.
        http_metadata: Whether ``httpMetadata`` is known (``list`` without
            ``include: ["httpMetadata"]`` leaves it out).
        custom_metadata: Whether ``customMetadata`` is known.
        byte_range: ``(offset, length)`` of the bytes returned, for ``get``/``head``.
    """

    js_class_name = "HeadResult"

    def __init__(
        self,
        record: ObjectRecord,
        *,
        http_metadata: bool = True,
        custom_metadata: bool = True,
        byte_range: tuple[int, int] | None = None,
    ) -> None:
        self._record = record
        self._http = dict(record.http_metadata) if http_metadata else None
        self._custom = list(record.custom_metadata) if custom_metadata else None
        self._range = byte_range

    @property
    def key(self) -> str:
        """The key."""
        return self._record.key

    @property
    def version(self) -> str:
        """A unique string for this upload of the key."""
        return self._record.version

    @property
    def size(self) -> int:
        """The object's size in bytes (the whole object, even for a ranged ``get``)."""
        return self._record.size

    @property
    def etag(self) -> str:
        """The etag, unquoted."""
        return self._record.etag

    @property
    def httpEtag(self) -> str:  # noqa: N802 - the platform's name
        """The etag in double quotes, as an ``ETag`` header carries it."""
        return f'"{self._record.etag}"'

    @property
    def uploaded(self) -> Any:
        """When the object was uploaded (a JavaScript ``Date``, on the virtual clock)."""
        return wire_date(self._record.uploaded)

    @property
    def httpMetadata(self) -> dict[str, Any] | None:  # noqa: N802 - the platform's name
        """``R2HTTPMetadata`` (a fresh copy each read), or ``None`` when not listed."""
        if self._http is None:
            return None
        fields = {name: self._http[name] for name, _header in HTTP_FIELDS if name in self._http}
        if "cacheExpiry" in self._http:
            fields["cacheExpiry"] = wire_date(self._http["cacheExpiry"])
        return fields

    @property
    def customMetadata(self) -> dict[str, str] | None:  # noqa: N802 - the platform's name
        """The custom metadata, or ``None`` when not listed."""
        return None if self._custom is None else dict(self._custom)

    @property
    def range(self) -> dict[str, int] | None:
        """``{offset, length}`` of the bytes returned by ``get``/``head``, else ``None``."""
        if self._range is None:
            return None
        return {"offset": self._range[0], "length": self._range[1]}

    @property
    def checksums(self) -> R2Checksums:
        """The stored checksums."""
        return R2Checksums(self._record.checksums)

    @property
    def storageClass(self) -> str:  # noqa: N802 - the platform's name
        """``Standard`` or ``InfrequentAccess``."""
        return self._record.storage_class

    @property
    def ssecKeyMd5(self) -> None:  # noqa: N802 - the platform's name
        """``undefined``: dosim does not simulate SSE-C."""
        return None

    def writeHttpMetadata(self, headers: Any = None, *_ignored: Any) -> None:  # noqa: N802
        """Copy the HTTP metadata onto ``headers``.

        Sets ``Content-Type``, ``Content-Language``, ``Content-Disposition``,
        ``Content-Encoding``, ``Cache-Control`` and ``Expires`` (from ``cacheExpiry``).

        Args:
            headers: A JavaScript ``Headers`` (``js.Headers.new()``).

        Raises:
            JsException: ``TypeError`` when ``headers`` is not a ``Headers``, when the
                metadata is unknown (an object listed without ``include``), or when a
                stored value is not a valid header value.
        """
        if not isinstance(headers, HeaderList):
            raise JsException(
                "Failed to execute 'writeHttpMetadata' on 'HeadResult': parameter 1 is not "
                "of type 'Headers'.",
                name="TypeError",
            )
        if self._http is None:
            raise JsException(
                f"HTTP metadata unknown for key `{self.key}`. Did you forget to add "
                "'httpMetadata' to `include` when listing?",
                name="TypeError",
            )
        for name, header in HTTP_FIELDS:
            if name in self._http:
                headers.set(header, self._http[name])
        if "cacheExpiry" in self._http:
            seconds = self._http["cacheExpiry"] / 1000
            headers.set("expires", email.utils.formatdate(seconds, usegmt=True))

    def __repr__(self) -> str:
        return f"R2Object(key={self.key!r}, size={self.size}, etag={self.etag!r})"


class _Body(BodyMixin):
    """The bytes behind an ``R2ObjectBody``'s stream, readable once."""

    def __init__(self, data: bytes) -> None:
        self._init_body(data, HeaderList())

    def take(self) -> bytes:
        """Use the body up and return it; ``TypeError`` if it was used already."""
        return self._transfer(MSG_BODY_ALREADY_USED) or b""


class R2ObjectBody(R2Object):
    """``R2ObjectBody``: an object's metadata and its bytes (what ``get`` returns).

    Args:
        record: The stored metadata.
        data: The bytes of the range read.
        byte_range: ``(offset, length)`` of ``data`` in the object.
    """

    js_class_name = "GetResult"

    def __init__(self, record: ObjectRecord, data: bytes, byte_range: tuple[int, int]) -> None:
        super().__init__(record, byte_range=byte_range)
        self._holder = _Body(data)

    @property
    def body(self) -> ReadableStream | None:
        """The bytes as a ``ReadableStream`` (pass it to ``Response``)."""
        return self._holder.body

    @property
    def bodyUsed(self) -> bool:  # noqa: N802 - the platform's name
        """Whether the body was read or handed on."""
        return self._holder.body_used

    def arrayBuffer(self, *_ignored: Any) -> Any:  # noqa: N802 - the platform's name
        """Read the body as an ``ArrayBuffer`` (a ``memoryview`` in Python)."""
        return io_result(self._holder.take)

    def bytes(self, *_ignored: Any) -> Any:
        """Read the body as a ``Uint8Array`` (a ``memoryview`` in Python)."""
        return io_result(self._holder.take)

    def text(self, *_ignored: Any) -> Any:
        """Read the body as UTF-8 text."""
        return io_result(lambda: decode_utf8(self._holder.take()))

    def json(self, *_ignored: Any) -> Any:
        """Read the body as JSON (``SyntaxError`` for text that is not JSON)."""
        return io_result(lambda: _parse_json(decode_utf8(self._holder.take())))

    def blob(self, *_ignored: Any) -> Any:
        """Read the body as a ``Blob`` typed with the stored ``contentType``."""

        def read() -> Blob:
            data = self._holder.take()
            content_type = (self._http or {}).get("contentType", "")
            # The stored type as it is: workerd builds the Blob without the JS
            # constructor's normalisation.
            return Blob._of(data, content_type)

        return io_result(read)

    def __repr__(self) -> str:
        return f"R2ObjectBody(key={self.key!r}, size={self.size}, etag={self.etag!r})"


def _no_constant(name: str) -> Any:
    raise ValueError(f"Unexpected token '{name[0]}'")


def _parse_json(text: str) -> Any:
    # JSON.parse: numbers are doubles (a whole one reaches Python as int), and NaN or
    # Infinity are not JSON.
    try:
        return json.loads(text, parse_int=float, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        message = f"{error.msg} in JSON at position {error.pos}"
    except ValueError as error:
        message = str(error)
    raise JsException(message, name="SyntaxError")
