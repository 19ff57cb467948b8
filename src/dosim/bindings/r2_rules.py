"""The rules the R2 service applies, and its errors, apart from where objects are stored.

What R2 decides (not the Workers runtime) and how dosim decides it:

* a key is at most 1,024 bytes of UTF-8 (``InvalidObjectName``, 10020);
* a single upload, or one part, is at most 5 GiB - 5 MiB (``EntityTooLarge``, 100100);
  an object at most 5 TiB - 5 GiB;
* custom metadata is at most 8,192 bytes (``MetadataTooLarge``, 10012), counted as R2's
  gateway counts (Miniflare's port of it: a string's UTF-16 length, doubled when any of
  its code units is above 255);
* the etag of a single upload is the MD5 of its bytes in hex, which is also stored as
  the ``md5`` checksum; a checksum given with ``put`` must match (``BadDigest``, 10037);
* conditions follow RFC 7232 as R2 applies them (``etagMatches`` uses strong comparison,
  ``etagDoesNotMatch`` weak; an etag condition that holds overrides the date next to it);
* ``list`` orders keys by their bytes, pages with an opaque cursor that remembers the
  last key returned, and counts a delimited prefix as one entry of ``limit``;
* a multipart upload's parts, all but the last, are at least 5 MiB (``EntityTooSmall``,
  10011) and all of one size, the last no larger (``There was a problem with the
  multipart upload.``, 10048); the object's etag is the MD5 of the parts' MD5s followed
  by ``-<number of parts>``; an upload not completed within 7 days is aborted.

Sources: R2 "Limits" and "Error codes" pages, the "Workers API reference"; messages not
quoted there follow Miniflare 4 (``packages/miniflare/src/workers/r2/``, workers-sdk
commit f8308360283f), whose conditions and metadata size are adapted from R2's gateway;
the ``delete`` key count text is the production error quoted in
AdiRishi/turborepo-remote-cache-cloudflare#43.

Inferred (after Miniflare, where the docs are silent): a ``list`` limit below 1 fails
like one above 1000 (R2 itself is said to accept 0 and -1); a cursor that is not one of
ours is read as a key to start after; with ``include`` a ``list`` page holds at most 100
objects (standing for "may return fewer to accommodate metadata"); ``head`` and ``get``
report ``range`` as the whole object when none was asked for. Inferred by dosim: an
``InfrequentAccess`` object behaves as a ``Standard`` one; a storage class other than
those two fails with S3's ``InvalidStorageClass`` text and code 10040 (R2's own are not
documented).
"""

from __future__ import annotations

import base64
import hashlib

from ..workers.blob import encode_utf8
from .r2_options import Conditional, RangeRequest

__all__ = [
    "MAX_KEY_BYTES",
    "MAX_METADATA_BYTES",
    "MAX_UPLOAD_BYTES",
    "MAX_OBJECT_BYTES",
    "MIN_PART_BYTES",
    "UPLOAD_LIFETIME_MS",
    "MAX_LIST_KEYS",
    "MAX_DELETE_KEYS",
    "INCLUDE_PAGE",
    "STORAGE_CLASSES",
    "R2ServiceError",
    "internal_error",
    "invalid_name",
    "too_large",
    "no_such_upload",
    "bad_upload",
    "bad_digest",
    "hex_digest",
    "normalise_key",
    "check_key",
    "check_custom_metadata",
    "check_storage_class",
    "condition_holds",
    "resolve_range",
    "encode_cursor",
    "decode_cursor",
]

MAX_KEY_BYTES = 1024
"""Longest key, in bytes of UTF-8."""
MAX_METADATA_BYTES = 8192
"""Most custom metadata per object ("Object metadata size" on the R2 Limits page)."""
MAX_UPLOAD_BYTES = 5 * 2**30 - 5 * 2**20
"""Largest single upload or part: 5 GiB less 5 MiB."""
MAX_OBJECT_BYTES = 5 * 2**40 - 5 * 2**30
"""Largest object: 5 TiB less 5 GiB."""
MIN_PART_BYTES = 5 * 2**20
"""Smallest part of a multipart upload, except the last: 5 MiB."""
UPLOAD_LIFETIME_MS = 7 * 24 * 3600 * 1000
"""An unfinished multipart upload is aborted after 7 days."""
MAX_LIST_KEYS = 1000
"""Largest ``list`` limit."""
MAX_DELETE_KEYS = 1000
"""Most keys one ``delete`` takes."""
STORAGE_CLASSES = ("Standard", "InfrequentAccess")
"""The storage classes R2 has."""
INCLUDE_PAGE = 100
"""With ``include``, the most objects a ``list`` page holds (inferred)."""


class R2ServiceError(Exception):
    """An error the R2 service answered with; the binding reports ``<op>: <message> (<code>)``.

    Attributes:
        code: R2's v4 error code (``10020``).
        message: R2's message.
    """

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{message} ({code})")
        self.code = code
        self.message = message


def internal_error() -> R2ServiceError:
    """R2's ``InternalError`` (10001), also what a failed call reports."""
    return R2ServiceError(10001, "We encountered an internal error. Please try again.")


def invalid_name() -> R2ServiceError:
    """R2's error of that name."""
    return R2ServiceError(10020, "The specified object name is not valid.")


def too_large() -> R2ServiceError:
    """R2's error of that name."""
    return R2ServiceError(100100, "Your proposed upload exceeds the maximum allowed object size.")


def no_such_upload() -> R2ServiceError:
    """R2's error of that name."""
    return R2ServiceError(10024, "The specified multipart upload does not exist.")


def bad_upload() -> R2ServiceError:
    """R2's error of that name."""
    return R2ServiceError(10048, "There was a problem with the multipart upload.")


def normalise_key(key: str) -> str:
    """The key R2 receives: lone surrogates become U+FFFD, as a JS string sent as UTF-8."""
    return encode_utf8(key).decode("utf-8")


def check_key(key: str) -> None:
    """Raise ``InvalidObjectName`` for a key longer than 1,024 bytes."""
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise invalid_name()


def _serialised_length(text: str) -> int:
    units = len(text.encode("utf-16-le")) // 2
    if any(ord(char) > 255 for char in text):
        return units * 2
    return units


def check_custom_metadata(pairs: list[tuple[str, str]]) -> None:
    """Raise ``MetadataTooLarge`` when custom metadata exceeds 8,192 bytes."""
    total = sum(_serialised_length(key) + _serialised_length(value) for key, value in pairs)
    if total > MAX_METADATA_BYTES:
        raise R2ServiceError(
            10012, "Your metadata headers exceed the maximum allowed metadata size."
        )


def check_storage_class(storage_class: str | None) -> str:
    """Return the storage class to store (``Standard`` by default).

    Raises:
        R2ServiceError: For a class R2 does not have (inferred text and code).
    """
    if storage_class is None:
        return "Standard"
    if storage_class not in STORAGE_CLASSES:
        raise R2ServiceError(10040, "The storage class you specified is not valid.")
    return storage_class


def condition_holds(condition: Conditional, current: tuple[str, int] | None) -> bool:
    """Whether an ``onlyIf`` lets the operation go ahead (RFC 7232 as R2 applies it).

    Args:
        condition: The condition.
        current: ``(etag, uploaded ms)`` of the object now stored, or ``None``.
    """
    if current is None:
        return condition.etag_matches is None and condition.uploaded_after is None

    def truncate(ms: int) -> int:
        return ms // 1000 * 1000 if condition.seconds_granularity else ms

    etag, uploaded_ms = current
    matches = condition.etag_matches is None or _etag_in(condition.etag_matches, etag, strong=True)
    none_match = condition.etag_does_not_match is None or not _etag_in(
        condition.etag_does_not_match, etag, strong=False
    )
    uploaded = truncate(uploaded_ms)
    modified_since = (
        condition.uploaded_after is None
        or truncate(condition.uploaded_after) < uploaded
        or (condition.etag_does_not_match is not None and none_match)
    )
    unmodified_since = (
        condition.uploaded_before is None
        or uploaded < truncate(condition.uploaded_before)
        or (condition.etag_matches is not None and matches)
    )
    return matches and none_match and modified_since and unmodified_since


def _etag_in(etags: tuple[tuple[str, str], ...], etag: str, *, strong: bool) -> bool:
    for kind, value in etags:
        if kind == "wildcard":
            return True
        if value == etag and (kind == "strong" or not strong):
            return True
    return False


def resolve_range(request: RangeRequest | None, size: int) -> tuple[int, int]:
    """The ``(offset, length)`` of the bytes a ``get`` returns.

    A ``Range`` header with one satisfiable range selects it; anything else in a header
    (several ranges, a malformed or unsatisfiable one) returns the whole object.

    Raises:
        R2ServiceError: ``InvalidRange`` (10039) for numbers that select nothing.
    """
    if request is None:
        return 0, size
    if request.header is not None:
        return _header_range(request.header, size) or (0, size)
    offset, length, suffix = request.offset, request.length, request.suffix
    if suffix is not None:
        if suffix <= 0:
            raise _invalid_range()
        suffix = min(suffix, size)
        offset, length = size - suffix, suffix
    offset = 0 if offset is None else offset
    length = size - offset if length is None else length
    if offset > size or length <= 0:
        raise _invalid_range()
    return offset, min(length, size - offset)


def _invalid_range() -> R2ServiceError:
    return R2ServiceError(10039, "The requested range is not satisfiable")


def _header_range(header: str, size: int) -> tuple[int, int] | None:
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.partition("-")
    first, last = first.strip(), last.strip()
    if not dash or not (first or last) or not (first + last).isdigit():
        return None
    if not first:
        suffix = int(last)
        if suffix == 0 or suffix >= size:
            return None
        return size - suffix, suffix
    start = int(first)
    end = size - 1 if not last else min(int(last), size - 1)
    if start >= size or (last and int(last) < start):
        return None
    return start, end - start + 1


def hex_digest(data: bytes, algorithm: str) -> str:
    """The hex digest of ``data`` (``md5``, ``sha1``, ...)."""
    return hashlib.new(algorithm, data).hexdigest()


def bad_digest(name: str, given: bytes, actual: str) -> R2ServiceError:
    """R2's ``BadDigest``: a checksum given with ``put`` does not match the bytes."""
    return R2ServiceError(
        10037,
        f"The {name} checksum you specified did not match what we received.\n"
        f"You provided a {name} checksum with value: {given.hex()}\n"
        f"Actual {name} was: {actual}",
    )


def encode_cursor(key: str) -> str:
    """The opaque ``list`` cursor that resumes after ``key``."""
    return base64.b64encode(key.encode("utf-8")).decode("ascii")


def decode_cursor(cursor: str) -> str:
    """The key a ``list`` cursor resumes after."""
    # An opaque token to the caller; one that is not ours starts after its decoded text.
    try:
        return base64.b64decode(cursor + "=" * (-len(cursor) % 4)).decode("utf-8", "replace")
    except ValueError:
        return cursor
