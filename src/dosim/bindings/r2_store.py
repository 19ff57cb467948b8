"""The R2 service behind a bucket binding: objects, multipart uploads, and R2's own errors.

A bucket's data lives in one :class:`~dosim.bindings.store.BindingStore`: metadata and
bytes of every object in ``r2_objects`` (the bytes as a SQLite blob), multipart uploads
in ``r2_uploads`` and their parts in ``r2_parts``. Every write is one committed
transaction, so a ``kill -9`` after a call resolved loses nothing.

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
documented there follow Miniflare 4 (``packages/miniflare/src/workers/r2/``,
workers-sdk commit f8308360283f), which mirrors R2's gateway; the ``delete`` key count
text is the production error quoted in AdiRishi/turborepo-remote-cache-cloudflare#43.

Inferred: versions, upload ids and part etags are derived from the bucket name and a
counter (deterministic, unique within a bucket), not random; an ``InfrequentAccess``
object behaves as a ``Standard`` one; a storage class other than those two fails with
S3's ``InvalidStorageClass`` text (R2's own text and code are not documented); a list
with ``include`` returns at most 100 objects per page (Miniflare's stand-in for "may
return fewer to accommodate metadata").
"""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from ..workers.blob import encode_utf8
from .r2_options import Conditional, ListRequest, RangeRequest
from .store import BindingStore

__all__ = [
    "SCHEMA",
    "R2ServiceError",
    "ObjectRecord",
    "Listing",
    "R2Service",
    "MAX_KEY_BYTES",
    "MAX_METADATA_BYTES",
    "MAX_UPLOAD_BYTES",
    "MAX_OBJECT_BYTES",
    "MIN_PART_BYTES",
    "UPLOAD_LIFETIME_MS",
    "STORAGE_CLASSES",
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
MAX_DELETE_KEYS = 1000
STORAGE_CLASSES = ("Standard", "InfrequentAccess")
_INCLUDE_PAGE = 100

SCHEMA = """
CREATE TABLE IF NOT EXISTS r2_objects (
    key TEXT PRIMARY KEY,
    version TEXT NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    uploaded INTEGER NOT NULL,
    http_metadata TEXT NOT NULL,
    custom_metadata TEXT NOT NULL,
    checksums TEXT NOT NULL,
    storage_class TEXT NOT NULL,
    body BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS r2_uploads (
    upload_id TEXT PRIMARY KEY,
    key TEXT NOT NULL,
    created INTEGER NOT NULL,
    state TEXT NOT NULL,
    http_metadata TEXT NOT NULL,
    custom_metadata TEXT NOT NULL,
    storage_class TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS r2_parts (
    upload_id TEXT NOT NULL,
    part_number INTEGER NOT NULL,
    etag TEXT NOT NULL,
    size INTEGER NOT NULL,
    md5 TEXT NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (upload_id, part_number)
);
CREATE TABLE IF NOT EXISTS r2_counter (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    next INTEGER NOT NULL
);
"""
"""The tables of a bucket's store."""

_META = (
    "key, version, size, etag, uploaded, http_metadata, custom_metadata, checksums, "
    "storage_class"
)


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


def _invalid_name() -> R2ServiceError:
    return R2ServiceError(10020, "The specified object name is not valid.")


def _too_large() -> R2ServiceError:
    return R2ServiceError(100100, "Your proposed upload exceeds the maximum allowed object size.")


def _no_such_upload() -> R2ServiceError:
    return R2ServiceError(10024, "The specified multipart upload does not exist.")


def _bad_upload() -> R2ServiceError:
    return R2ServiceError(10048, "There was a problem with the multipart upload.")


@dataclass(frozen=True)
class ObjectRecord:
    """One stored object's metadata.

    Attributes:
        key: The key.
        version: A unique id of this upload of the key.
        size: Bytes.
        etag: Unquoted etag.
        uploaded: Upload time, ms since the epoch (virtual time).
        http_metadata: ``R2HTTPMetadata`` fields (``cacheExpiry`` in ms).
        custom_metadata: ``customMetadata`` pairs, in the order given.
        checksums: Hex digests by field (``md5`` for every single upload).
        storage_class: ``Standard`` or ``InfrequentAccess``.
    """

    key: str
    version: str
    size: int
    etag: str
    uploaded: int
    http_metadata: dict[str, Any] = field(default_factory=dict)
    custom_metadata: list[tuple[str, str]] = field(default_factory=list)
    checksums: dict[str, str] = field(default_factory=dict)
    storage_class: str = "Standard"

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> ObjectRecord:
        """Build one from the columns ``_META`` names."""
        key, version, size, etag, uploaded, http, custom, checksums, storage_class = row[:9]
        return cls(
            key,
            version,
            size,
            etag,
            uploaded,
            json.loads(http),
            [tuple(pair) for pair in json.loads(custom)],  # type: ignore[misc]
            json.loads(checksums),
            storage_class,
        )


@dataclass(frozen=True)
class Listing:
    """One page of a ``list``.

    Attributes:
        objects: The objects of the page.
        delimited_prefixes: The prefixes the delimiter grouped keys under.
        truncated: Whether more entries follow.
        cursor: Where the next page starts (only when truncated).
    """

    objects: list[ObjectRecord]
    delimited_prefixes: list[str]
    truncated: bool
    cursor: str | None


def normalise_key(key: str) -> str:
    """The key R2 receives: lone surrogates become U+FFFD, as a JS string sent as UTF-8."""
    return encode_utf8(key).decode("utf-8")


def check_key(key: str) -> None:
    """Raise ``InvalidObjectName`` for a key longer than 1,024 bytes."""
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise _invalid_name()


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


def condition_holds(condition: Conditional, current: ObjectRecord | None) -> bool:
    """Whether an ``onlyIf`` lets the operation go ahead (RFC 7232 as R2 applies it).

    Args:
        condition: The condition.
        current: The object now stored under the key, or ``None``.
    """
    if current is None:
        return condition.etag_matches is None and condition.uploaded_after is None

    def truncate(ms: int) -> int:
        return ms // 1000 * 1000 if condition.seconds_granularity else ms

    matches = condition.etag_matches is None or _etag_in(
        condition.etag_matches, current.etag, strong=True
    )
    none_match = condition.etag_does_not_match is None or not _etag_in(
        condition.etag_does_not_match, current.etag, strong=False
    )
    uploaded = truncate(current.uploaded)
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


def _hex(data: bytes, algorithm: str) -> str:
    return hashlib.new(algorithm, data).hexdigest()


def _bad_digest(name: str, given: bytes, actual: str) -> R2ServiceError:
    return R2ServiceError(
        10037,
        f"The {name} checksum you specified did not match what we received.\n"
        f"You provided a {name} checksum with value: {given.hex()}\n"
        f"Actual {name} was: {actual}",
    )


class R2Service:
    """One bucket's R2 service: validation, conditions, storage.

    Args:
        store: The bucket's store (created with :data:`SCHEMA`).
        bucket_name: The bucket, mixed into generated ids.
    """

    def __init__(self, store: BindingStore, bucket_name: str) -> None:
        self.store = store
        self.bucket_name = bucket_name

    # -- ids ----------------------------------------------------------------------------
    def _next(self, conn: sqlite3.Connection, kind: str) -> bytes:
        row = conn.execute("SELECT next FROM r2_counter WHERE id = 0").fetchone()
        number = 0 if row is None else row[0]
        conn.execute("INSERT OR REPLACE INTO r2_counter (id, next) VALUES (0, ?)", (number + 1,))
        return hashlib.sha256(f"{self.bucket_name}\0{kind}\0{number}".encode()).digest()

    def _version(self, conn: sqlite3.Connection) -> str:
        return self._next(conn, "version")[:16].hex()

    # -- objects ------------------------------------------------------------------------
    def _current(self, conn: sqlite3.Connection | None, key: str) -> ObjectRecord | None:
        sql = f"SELECT {_META} FROM r2_objects WHERE key = ?"  # noqa: S608 - fixed columns
        if conn is None:
            rows = self.store.read(sql, (key,))
            row = rows[0] if rows else None
        else:
            row = conn.execute(sql, (key,)).fetchone()
        return None if row is None else ObjectRecord.from_row(row)

    def head(self, key: str) -> ObjectRecord | None:
        """The metadata stored under ``key``, or ``None``."""
        check_key(key)
        return self._current(None, key)

    def get(
        self, key: str, condition: Conditional | None, request: RangeRequest | None
    ) -> tuple[ObjectRecord, bytes | None, tuple[int, int]] | None:
        """Read an object: ``(record, bytes or None when the condition fails, range)``."""
        check_key(key)
        record = self._current(None, key)
        if record is None:
            return None
        if condition is not None and not condition_holds(condition, record):
            return record, None, (0, record.size)
        offset, length = resolve_range(request, record.size)
        rows = self.store.read(
            "SELECT substr(body, ?, ?) FROM r2_objects WHERE key = ?", (offset + 1, length, key)
        )
        data = bytes(rows[0][0]) if rows and rows[0][0] is not None else b""
        return record, data, (offset, length)

    def put(
        self,
        key: str,
        data: bytes,
        *,
        now_ms: int,
        http_metadata: dict[str, Any],
        custom_metadata: list[tuple[str, str]],
        checksum: tuple[str, str, bytes] | None,
        storage_class: str | None,
        condition: Conditional | None,
    ) -> ObjectRecord | None:
        """Store an object; ``None`` when ``condition`` does not hold (nothing stored)."""
        check_key(key)
        if len(data) > MAX_UPLOAD_BYTES:
            raise _too_large()
        check_custom_metadata(custom_metadata)
        stored_class = check_storage_class(storage_class)
        md5 = _hex(data, "md5")
        checksums = {"md5": md5}
        if checksum is not None:
            field_name, name, given = checksum
            actual = md5 if field_name == "md5" else _hex(data, field_name)
            if bytes.fromhex(actual) != given:
                raise _bad_digest(name, given, actual)
            checksums[field_name] = actual
        with self.store.write() as conn:
            if condition is not None and not condition_holds(condition, self._current(conn, key)):
                return None
            record = ObjectRecord(
                key,
                self._version(conn),
                len(data),
                md5,
                now_ms,
                http_metadata,
                custom_metadata,
                checksums,
                stored_class,
            )
            self._insert(conn, record, data)
        return record

    def _insert(self, conn: sqlite3.Connection, record: ObjectRecord, data: bytes) -> None:
        conn.execute(
            "INSERT OR REPLACE INTO r2_objects (key, version, size, etag, uploaded, "
            "http_metadata, custom_metadata, checksums, storage_class, body) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.key,
                record.version,
                record.size,
                record.etag,
                record.uploaded,
                json.dumps(record.http_metadata),
                json.dumps(record.custom_metadata),
                json.dumps(record.checksums),
                record.storage_class,
                data,
            ),
        )

    def delete(self, keys: list[str]) -> int:
        """Delete keys (missing ones are ignored); return how many existed."""
        if not 1 <= len(keys) <= MAX_DELETE_KEYS:
            raise R2ServiceError(
                10027, "The number of keys in the request must be between 1 and 1000 inclusive."
            )
        for key in keys:
            check_key(key)
        with self.store.write() as conn:
            return sum(
                conn.execute("DELETE FROM r2_objects WHERE key = ?", (key,)).rowcount
                for key in keys
            )

    def list(self, request: ListRequest) -> Listing:
        """One page of keys, in byte order (see the module docstring)."""
        limit = MAX_LIST_KEYS if request.limit is None else request.limit
        if not 1 <= limit <= MAX_LIST_KEYS:
            raise R2ServiceError(10022, "MaxKeys params must be positive integer <= 1000.")
        if request.include:
            limit = min(limit, _INCLUDE_PAGE)
        start = request.start_after
        if request.cursor is not None:
            after = _decode_cursor(request.cursor)
            if start is None or after > start:
                start = after
        prefix, delimiter = request.prefix, request.delimiter
        rows = self.store.conn.execute(
            f"SELECT {_META} FROM r2_objects WHERE key >= ? AND (? IS NULL OR key > ?) "  # noqa: S608
            "ORDER BY key",
            (prefix, start, start),
        )
        objects: list[ObjectRecord] = []
        prefixes: list[str] = []
        entries = 0
        last_key: str | None = None
        group: str | None = None
        truncated = False
        for row in rows:
            key = row[0]
            if not key.startswith(prefix):
                break
            grouped = None
            if delimiter is not None:
                at = key.find(delimiter, len(prefix))
                if at >= 0:
                    grouped = key[: at + len(delimiter)]
            if grouped is not None and grouped == group:
                last_key = key  # the rest of a delimited prefix already counted
                continue
            if entries == limit:
                truncated = True
                break
            entries += 1
            last_key, group = key, grouped
            if grouped is not None:
                prefixes.append(grouped)
            else:
                objects.append(ObjectRecord.from_row(row))
        rows.close()
        cursor = _encode_cursor(last_key) if truncated and last_key is not None else None
        return Listing(objects, prefixes, truncated, cursor)

    # -- multipart uploads -------------------------------------------------------------
    def create_upload(
        self,
        key: str,
        *,
        now_ms: int,
        http_metadata: dict[str, Any],
        custom_metadata: list[tuple[str, str]],
        storage_class: str | None,
    ) -> str:
        """Start a multipart upload; return its id."""
        check_key(key)
        stored_class = check_storage_class(storage_class)
        with self.store.write() as conn:
            upload_id = base64.urlsafe_b64encode(self._next(conn, "upload")).decode().rstrip("=")
            conn.execute(
                "INSERT INTO r2_uploads (upload_id, key, created, state, http_metadata, "
                "custom_metadata, storage_class) VALUES (?, ?, ?, 'in-progress', ?, ?, ?)",
                (
                    upload_id,
                    key,
                    now_ms,
                    json.dumps(http_metadata),
                    json.dumps(custom_metadata),
                    stored_class,
                ),
            )
        return upload_id

    def _upload(
        self, conn: sqlite3.Connection, key: str, upload_id: str, now_ms: int
    ) -> tuple[str, tuple[Any, ...]] | None:
        row = conn.execute(
            "SELECT state, created, http_metadata, custom_metadata, storage_class "
            "FROM r2_uploads WHERE upload_id = ? AND key = ?",
            (upload_id, key),
        ).fetchone()
        if row is None:
            return None
        state = row[0]
        if state == "in-progress" and now_ms - row[1] >= UPLOAD_LIFETIME_MS:
            state = "aborted"
            conn.execute("DELETE FROM r2_parts WHERE upload_id = ?", (upload_id,))
            conn.execute(
                "UPDATE r2_uploads SET state = 'aborted' WHERE upload_id = ?", (upload_id,)
            )
        return state, row

    def upload_part(
        self, key: str, upload_id: str, part_number: int, data: bytes, *, now_ms: int
    ) -> str:
        """Store one part (replacing an earlier one of the same number); return its etag."""
        check_key(key)
        if len(data) > MAX_UPLOAD_BYTES:
            raise _too_large()
        with self.store.write() as conn:
            found = self._upload(conn, key, upload_id, now_ms)
            if found is None or found[0] != "in-progress":
                raise _no_such_upload()
            etag = self._next(conn, "part")[:16].hex()
            conn.execute(
                "INSERT OR REPLACE INTO r2_parts (upload_id, part_number, etag, size, md5, body) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (upload_id, part_number, etag, len(data), _hex(data, "md5"), data),
            )
        return etag

    def complete_upload(
        self, key: str, upload_id: str, parts: list[tuple[int, str]], *, now_ms: int
    ) -> ObjectRecord:
        """Assemble the chosen parts into the object (see the module docstring)."""
        check_key(key)
        with self.store.write() as conn:
            found = self._upload(conn, key, upload_id, now_ms)
            if found is None:
                raise internal_error()
            state, upload = found
            if state != "in-progress":
                raise _no_such_upload()
            numbers = [number for number, _etag in parts]
            if len(set(numbers)) != len(numbers):
                raise internal_error()
            stored = {
                row[0]: row
                for row in conn.execute(
                    "SELECT part_number, etag, size, md5 FROM r2_parts WHERE upload_id = ?",
                    (upload_id,),
                )
            }
            chosen = []
            for number, etag in parts:
                row = stored.get(number)
                if row is None or row[1] != etag:
                    raise R2ServiceError(
                        10025, "One or more of the specified parts could not be found."
                    )
                chosen.append(row)
            for row in chosen[:-1]:
                if row[2] < MIN_PART_BYTES:
                    raise R2ServiceError(
                        10011,
                        "Your proposed upload is smaller than the minimum allowed object size.",
                    )
            chosen.sort(key=lambda row: row[0])
            sizes = [row[2] for row in chosen]
            if sizes[:-1] and (
                any(size != sizes[0] or size < MIN_PART_BYTES for size in sizes[:-1])
                or sizes[-1] > sizes[0]
            ):
                raise _bad_upload()
            if sum(sizes) > MAX_OBJECT_BYTES:
                raise _too_large()
            combined = hashlib.md5(b"".join(bytes.fromhex(row[3]) for row in chosen))
            data = b"".join(
                bytes(
                    conn.execute(
                        "SELECT body FROM r2_parts WHERE upload_id = ? AND part_number = ?",
                        (upload_id, row[0]),
                    ).fetchone()[0]
                )
                for row in chosen
            )
            record = ObjectRecord(
                key,
                self._version(conn),
                len(data),
                f"{combined.hexdigest()}-{len(chosen)}",
                now_ms,
                json.loads(upload[2]),
                [tuple(pair) for pair in json.loads(upload[3])],  # type: ignore[misc]
                {},
                upload[4],
            )
            self._insert(conn, record, data)
            conn.execute("DELETE FROM r2_parts WHERE upload_id = ?", (upload_id,))
            conn.execute(
                "UPDATE r2_uploads SET state = 'completed' WHERE upload_id = ?", (upload_id,)
            )
        return record

    def abort_upload(self, key: str, upload_id: str, *, now_ms: int) -> None:
        """Abort an upload and drop its parts; a finished upload is left as it is."""
        check_key(key)
        with self.store.write() as conn:
            found = self._upload(conn, key, upload_id, now_ms)
            if found is None:
                raise internal_error()
            if found[0] != "in-progress":
                return
            conn.execute("DELETE FROM r2_parts WHERE upload_id = ?", (upload_id,))
            conn.execute(
                "UPDATE r2_uploads SET state = 'aborted' WHERE upload_id = ?", (upload_id,)
            )


def _encode_cursor(key: str) -> str:
    return base64.b64encode(key.encode("utf-8")).decode("ascii")


def _decode_cursor(cursor: str) -> str:
    # An opaque token to the caller; one that is not ours starts after its decoded text.
    try:
        return base64.b64decode(cursor + "=" * (-len(cursor) % 4)).decode("utf-8", "replace")
    except ValueError:
        return cursor
