"""An R2 bucket binding: ``env.BUCKET`` for a wrangler ``[[r2_buckets]]`` entry.

R2 is Cloudflare's object storage: a bucket maps keys (strings up to 1,024 bytes) to
objects, each an immutable byte string with HTTP metadata, custom metadata, an etag and
an upload date. :class:`R2Bucket` models the JavaScript ``R2Bucket`` a Worker receives
(workerd ``src/workerd/api/r2-bucket.c++``, ``r2-multipart.c++``, ``r2-rpc.c++``,
commit 6552d999c79e) and the service behind it (:mod:`dosim.bindings.r2_store`):

==========================================  ============================================
call                                        result
==========================================  ============================================
``head(key)``                               ``R2Object`` or ``None``
``get(key, options)``                       ``R2ObjectBody``; ``R2Object`` (no ``body``)
                                            when ``onlyIf`` fails; ``None`` when missing
``put(key, value, options)``                ``R2Object``; ``None`` when ``onlyIf`` fails
``delete(key or [keys])``                   ``None`` (missing keys are ignored)
``list(options)``                           ``{objects, truncated, cursor?,
                                            delimitedPrefixes}``
``createMultipartUpload(key, options)``     ``R2MultipartUpload``
``resumeMultipartUpload(key, uploadId)``    ``R2MultipartUpload`` (not a promise, no check)
==========================================  ============================================

A value is a ``str`` (stored as UTF-8), bytes (``bytes``, ``memoryview``, an
``ArrayBuffer``), a ``Blob``, a ``ReadableStream`` or ``None`` (an empty object).

Errors: the runtime's own checks raise ``TypeError``/``RangeError``
(:mod:`dosim.bindings.r2_options`); what R2 refuses raises ``Error`` with the text
``"<operation>: <R2's message> (<code>)"``, the form ``R2Result::throwIfError`` gives
(``put: The specified object name is not valid. (10020)``). A failure injected with
``app.faults.fail_next_binding_call(binding, method)`` is R2's internal error,
``"<operation>: We encountered an internal error. Please try again. (10001)"``.

Every call is made when it is called (an un-awaited ``put`` still stores) and settles
after one turn of the event loop, as network I/O does (:func:`.r2_objects.io_result`).
Writes (``put``, ``delete``, the multipart calls) first let the calling Durable
Object's pending storage writes out, as workerd waits for the output gate before it
sends them. Each call adds a ``binding`` event to the trace; upload dates follow the
app's virtual clock.

Not modelled: SSE-C (``ssecKey`` raises), bucket lifecycle rules other than the 7-day
abort of unfinished uploads, jurisdictions, event notifications, public buckets and
the S3 API, latency and rate limits (1 write per second per key).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..current import current_incarnation
from ..errors import JsException
from ..workers.blob import Blob, encode_utf8
from ..workers.body import ReadableStream, extract_body
from .host import BindingHost
from .r2_objects import R2Object, R2ObjectBody, io_result
from .r2_options import (
    check_part_number,
    js_string,
    parse_checksum,
    parse_conditional,
    parse_custom_metadata,
    parse_http_metadata,
    parse_list_options,
    parse_range,
)
from .r2_rules import R2ServiceError, internal_error, normalise_key
from .r2_store import SCHEMA, R2Service
from .wrapper import JsClassObject

__all__ = ["R2Bucket", "R2MultipartUpload"]

_UNDEFINED: Any = object()
_VALUE_TYPES = "ReadableStream or ArrayBuffer or ArrayBufferView or string or Blob"


def _type_error(message: str) -> JsException:
    return JsException(message, name="TypeError")


def _key(value: Any) -> str:
    # ``kj::String key``: JavaScript converts any value with String(value).
    return normalise_key("undefined" if value is _UNDEFINED else js_string(value))


def _options(value: Any, method: str, owner: str, index: int, struct: str) -> dict[str, Any]:
    if value is _UNDEFINED or value is None:
        return {}
    if not isinstance(value, dict):
        raise _type_error(
            f"Failed to execute '{method}' on '{owner}': parameter {index} is not of type "
            f"'{struct}'."
        )
    if value.get("ssecKey") is not None:
        raise JsException(
            "ssecKey: dosim does not simulate SSE-C (customer-provided encryption keys); "
            "test this code path against Cloudflare"
        )
    return value


def _run_now(coroutine: Any) -> Any:
    # An awaitable that finishes without suspending (Blob.bytes()), run to its result.
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise RuntimeError("expected the call to finish at once")


def _value_bytes(value: Any, method: str, owner: str, *, nullable: bool) -> bytes:
    """The bytes of a ``put``/``uploadPart`` value (``R2PutValue``)."""
    if value is None and nullable:
        return b""
    if isinstance(value, str):
        return encode_utf8(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, Blob):
        return _run_now(value.bytes())
    if isinstance(value, ReadableStream):
        data, _content_type = extract_body(value, owner)
        return data or b""
    raise _type_error(
        f"Failed to execute '{method}' on '{owner}': parameter 2 is not of type "
        f"'{_VALUE_TYPES}'."
    )


def _let_writes_out() -> None:
    # workerd's PUT requests to R2 wait for the calling object's output gate.
    incarnation = current_incarnation()
    if incarnation is not None:
        incarnation.output_gate.release()


class R2Bucket(JsClassObject):
    """The ``R2Bucket`` binding (see the module docstring).

    Args:
        host: The app's binding host (clock, trace, faults, stores).
        binding: The binding name (``"BUCKET"``).
        bucket_name: The bucket; bindings to the same bucket share its objects.
    """

    js_class_name = "R2Bucket"

    def __init__(self, host: BindingHost, binding: str, bucket_name: str) -> None:
        self.host = host
        self.binding = binding
        self.bucket_name = bucket_name
        self._service: R2Service | None = None

    @property
    def _r2(self) -> R2Service:
        # The bucket's R2 service; its store opens on first use.
        if self._service is None:
            store = self.host.store("r2", self.bucket_name, SCHEMA)
            self._service = R2Service(store, self.bucket_name)
        return self._service

    def _call(
        self, method: str, action: str, work: Callable[[], Any], *, writes: bool = False
    ) -> Any:
        """Run one platform call: fault check, output gate, R2's errors, trace event.

        Args:
            method: The JavaScript method called (``"put"``, ``"complete"``).
            action: R2's name for the operation, which prefixes its errors (``"put"``,
                ``"completeMultipartUpload"``).
            work: Does the call; returns ``(result, trace detail)``.
            writes: Whether the call changes the bucket.

        Returns:
            The call's promise.
        """

        def run() -> Any:
            self.host.before_call(self.binding, method, lambda: _r2_error(action, internal_error()))
            if writes:
                _let_writes_out()
            try:
                result, detail = work()
            except R2ServiceError as error:
                self.host.record(self.binding, "r2", method, error=error.code)
                raise _r2_error(action, error) from None
            self.host.record(self.binding, "r2", method, **detail)
            return result

        return io_result(run)

    # -- reads ---------------------------------------------------------------------------
    def head(self, key: Any = _UNDEFINED, *_ignored: Any) -> Any:
        """Return the object's metadata (an ``R2Object``), or ``None``."""

        def work() -> tuple[Any, dict[str, Any]]:
            name = _key(key)
            record = self._r2.head(name)
            if record is None:
                return None, {"key": name, "found": False}
            return R2Object(record, byte_range=(0, record.size)), {"key": name, "found": True}

        return self._call("head", "head", work)

    def get(self, key: Any = _UNDEFINED, options: Any = _UNDEFINED, *_ignored: Any) -> Any:
        """Return the object with its body, ``None``, or an ``R2Object`` when ``onlyIf`` fails.

        Options: ``onlyIf`` (``R2Conditional`` or ``Headers``), ``range``
        (``{offset, length}``, ``{suffix}`` or ``Headers`` with ``Range``).
        """

        def work() -> tuple[Any, dict[str, Any]]:
            name = _key(key)
            given = _options(options, "get", "R2Bucket", 2, "GetOptions")
            condition = parse_conditional(given.get("onlyIf"))
            request = parse_range(given.get("range"))
            found = self._r2.get(name, condition, request)
            if found is None:
                return None, {"key": name, "found": False}
            record, data, byte_range = found
            if data is None:
                detail = {"key": name, "found": True, "precondition": False}
                return R2Object(record, byte_range=byte_range), detail
            detail = {"key": name, "found": True, "size": len(data)}
            return R2ObjectBody(record, data, byte_range), detail

        return self._call("get", "get", work)

    def list(self, options: Any = _UNDEFINED, *_ignored: Any) -> Any:
        """Return one page of objects: ``{objects, truncated, cursor?, delimitedPrefixes}``.

        Options: ``prefix``, ``delimiter``, ``cursor``, ``startAfter``, ``limit`` (1 to
        1000, default 1000), ``include`` (``"httpMetadata"``, ``"customMetadata"``).
        """

        def work() -> tuple[Any, dict[str, Any]]:
            request = parse_list_options(None if options is _UNDEFINED else options)
            page = self._r2.list(request)
            http = "httpMetadata" in request.include
            custom = "customMetadata" in request.include
            result: dict[str, Any] = {
                "objects": [
                    R2Object(record, http_metadata=http, custom_metadata=custom)
                    for record in page.objects
                ],
                "truncated": page.truncated,
            }
            if page.cursor is not None:
                result["cursor"] = page.cursor
            result["delimitedPrefixes"] = page.delimited_prefixes
            detail = {"prefix": request.prefix, "count": len(page.objects)}
            return result, detail

        return self._call("list", "list", work)

    # -- writes --------------------------------------------------------------------------
    def put(
        self,
        key: Any = _UNDEFINED,
        value: Any = _UNDEFINED,
        options: Any = _UNDEFINED,
        *_ignored: Any,
    ) -> Any:
        """Store ``value`` under ``key``; return its ``R2Object`` (``None`` if ``onlyIf`` fails).

        Options: ``httpMetadata`` (``R2HTTPMetadata`` or ``Headers``),
        ``customMetadata``, one of ``md5``/``sha1``/``sha256``/``sha384``/``sha512``
        (hex or bytes, checked against the value), ``onlyIf``, ``storageClass``.
        """

        def work() -> tuple[Any, dict[str, Any]]:
            name = _key(key)
            given = _options(options, "put", "R2Bucket", 3, "PutOptions")
            condition = parse_conditional(given.get("onlyIf"))
            custom = parse_custom_metadata(given.get("customMetadata"))
            http = parse_http_metadata(given.get("httpMetadata"))
            checksum = parse_checksum(given)
            storage_class = given.get("storageClass")
            data = _value_bytes(
                None if value is _UNDEFINED else value, "put", "R2Bucket", nullable=True
            )
            record = self._r2.put(
                name,
                data,
                now_ms=self.host.now_ms(),
                http_metadata=http,
                custom_metadata=custom,
                checksum=checksum,
                storage_class=None if storage_class is None else js_string(storage_class),
                condition=condition,
            )
            if record is None:
                return None, {"key": name, "stored": False}
            return R2Object(record), {"key": name, "size": len(data), "stored": True}

        return self._call("put", "put", work, writes=True)

    def delete(self, keys: Any = _UNDEFINED, *_ignored: Any) -> Any:
        """Delete one key or a list of up to 1000 keys; missing keys are ignored."""

        def work() -> tuple[Any, dict[str, Any]]:
            names = [_key(k) for k in keys] if isinstance(keys, list) else [_key(keys)]
            deleted = self._r2.delete(names)
            detail: dict[str, Any] = {"deleted": deleted}
            if isinstance(keys, list):
                detail["keys"] = len(names)
            else:
                detail["key"] = names[0]
            return None, detail

        return self._call("delete", "delete", work, writes=True)

    # -- multipart -----------------------------------------------------------------------
    def createMultipartUpload(  # noqa: N802 - the platform's name
        self, key: Any = _UNDEFINED, options: Any = _UNDEFINED, *_ignored: Any
    ) -> Any:
        """Start a multipart upload; return its ``R2MultipartUpload``.

        Options: ``httpMetadata``, ``customMetadata``, ``storageClass`` (given to the
        object when the upload completes).
        """

        def work() -> tuple[Any, dict[str, Any]]:
            name = _key(key)
            given = _options(options, "createMultipartUpload", "R2Bucket", 2, "MultipartOptions")
            custom = parse_custom_metadata(given.get("customMetadata"))
            http = parse_http_metadata(given.get("httpMetadata"))
            storage_class = given.get("storageClass")
            upload_id = self._r2.create_upload(
                name,
                now_ms=self.host.now_ms(),
                http_metadata=http,
                custom_metadata=custom,
                storage_class=None if storage_class is None else js_string(storage_class),
            )
            return R2MultipartUpload(self, name, upload_id), {"key": name}

        return self._call("createMultipartUpload", "createMultipartUpload", work, writes=True)

    def resumeMultipartUpload(  # noqa: N802 - the platform's name
        self, key: Any = _UNDEFINED, upload_id: Any = _UNDEFINED, *_ignored: Any
    ) -> R2MultipartUpload:
        """Return an ``R2MultipartUpload`` for an upload id, without checking it exists."""
        upload = "undefined" if upload_id is _UNDEFINED else js_string(upload_id)
        return R2MultipartUpload(self, _key(key), upload)

    def __repr__(self) -> str:
        return f"R2Bucket({self.bucket_name!r})"


def _r2_error(action: str, error: R2ServiceError) -> JsException:
    return JsException(f"{action}: {error.message} ({error.code})")


class R2MultipartUpload(JsClassObject):
    """``R2MultipartUpload``: an upload in progress (``key``, ``uploadId``).

    ``uploadPart(partNumber, value)`` returns ``{partNumber, etag}`` (an
    ``R2UploadedPart``, a plain object); ``complete(parts)`` assembles the listed parts
    in part-number order and returns the ``R2Object``; ``abort()`` drops the parts.
    Parts other than the last must be at least 5 MiB and of one size; the last may be
    smaller. An upload not completed within 7 days (virtual time) is aborted.

    Args:
        bucket: The bucket it belongs to.
        key: The object's key.
        upload_id: The upload's id.
    """

    js_class_name = "R2MultipartUpload"

    def __init__(self, bucket: R2Bucket, key: str, upload_id: str) -> None:
        self._bucket = bucket
        self._key = key
        self._upload_id = upload_id

    @property
    def key(self) -> str:
        """The key the object will have."""
        return self._key

    @property
    def uploadId(self) -> str:  # noqa: N802 - the platform's name
        """The upload's id (keep it to resume the upload elsewhere)."""
        return self._upload_id

    def uploadPart(  # noqa: N802 - the platform's name
        self,
        part_number: Any = _UNDEFINED,
        value: Any = _UNDEFINED,
        options: Any = _UNDEFINED,
        *_ignored: Any,
    ) -> Any:
        """Upload part ``part_number`` (1-10000); return ``{partNumber, etag}``."""
        bucket = self._bucket

        def work() -> tuple[Any, dict[str, Any]]:
            number = check_part_number(None if part_number is _UNDEFINED else part_number)
            _options(options, "uploadPart", "R2MultipartUpload", 3, "UploadPartOptions")
            data = _value_bytes(
                None if value is _UNDEFINED else value,
                "uploadPart",
                "R2MultipartUpload",
                nullable=False,
            )
            etag = bucket._r2.upload_part(
                self._key, self._upload_id, number, data, now_ms=bucket.host.now_ms()
            )
            detail = {"key": self._key, "part": number, "size": len(data)}
            return {"partNumber": number, "etag": etag}, detail

        return bucket._call("uploadPart", "uploadPart", work, writes=True)

    def complete(self, parts: Any = _UNDEFINED, *_ignored: Any) -> Any:
        """Complete the upload with the given ``R2UploadedPart`` list; return the object."""
        bucket = self._bucket

        def work() -> tuple[Any, dict[str, Any]]:
            chosen = _uploaded_parts(parts)
            record = bucket._r2.complete_upload(
                self._key, self._upload_id, chosen, now_ms=bucket.host.now_ms()
            )
            return R2Object(record), {"key": self._key, "parts": len(chosen)}

        return bucket._call("complete", "completeMultipartUpload", work, writes=True)

    def abort(self, *_ignored: Any) -> Any:
        """Abort the upload (a completed or aborted one is left as it is)."""
        bucket = self._bucket

        def work() -> tuple[Any, dict[str, Any]]:
            bucket._r2.abort_upload(self._key, self._upload_id, now_ms=bucket.host.now_ms())
            return None, {"key": self._key}

        return bucket._call("abort", "abortMultipartUpload", work, writes=True)

    def __repr__(self) -> str:
        return f"R2MultipartUpload(key={self._key!r})"


def _uploaded_parts(parts: Any) -> list[tuple[int, str]]:
    if not isinstance(parts, list):
        raise _type_error(
            "Failed to execute 'complete' on 'R2MultipartUpload': parameter 1 is not of "
            "type 'Array'."
        )
    chosen = []
    for part in parts:
        if not isinstance(part, dict):
            raise _type_error(
                "Incorrect type for array element: the provided value is not of type "
                "'UploadedPart'."
            )
        if part.get("etag") is None:
            raise _type_error(
                "Incorrect type for the 'etag' field on 'UploadedPart': the provided value "
                "is not of type 'string'."
            )
        chosen.append((check_part_number(part.get("partNumber")), js_string(part["etag"])))
    return chosen
