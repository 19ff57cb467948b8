"""Where an R2 bucket keeps its objects: one SQLite database per bucket.

A bucket's data lives in one :class:`~dosim.bindings.store.BindingStore` (in memory in
tests, ``<state>/r2/<bucket>.sqlite`` under ``dosim dev``): metadata and bytes of every
object in ``r2_objects`` (the bytes as a SQLite blob), multipart uploads in
``r2_uploads`` and their parts in ``r2_parts``. Every write is one committed transaction,
so a ``kill -9`` after a call resolved loses nothing. :class:`R2Service` answers the
binding's requests, applying R2's rules (:mod:`dosim.bindings.r2_rules`).

Inferred: versions, upload ids and part etags are derived from the bucket name and a
counter kept in the store (deterministic, and unique within a bucket across restarts),
where R2 makes random ones.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from .r2_options import Conditional, ListRequest, RangeRequest
from .r2_rules import (
    INCLUDE_PAGE,
    MAX_DELETE_KEYS,
    MAX_LIST_KEYS,
    MAX_OBJECT_BYTES,
    MAX_UPLOAD_BYTES,
    MIN_PART_BYTES,
    UPLOAD_LIFETIME_MS,
    R2ServiceError,
    bad_digest,
    bad_upload,
    check_custom_metadata,
    check_key,
    check_storage_class,
    condition_holds,
    decode_cursor,
    encode_cursor,
    hex_digest,
    internal_error,
    no_such_upload,
    resolve_range,
    too_large,
)
from .store import BindingStore

__all__ = ["SCHEMA", "ObjectRecord", "Listing", "R2Service"]

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
        if condition is not None and not condition_holds(condition, (record.etag, record.uploaded)):
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
            raise too_large()
        check_custom_metadata(custom_metadata)
        stored_class = check_storage_class(storage_class)
        md5 = hex_digest(data, "md5")
        checksums = {"md5": md5}
        if checksum is not None:
            field_name, name, given = checksum
            actual = md5 if field_name == "md5" else hex_digest(data, field_name)
            if bytes.fromhex(actual) != given:
                raise bad_digest(name, given, actual)
            checksums[field_name] = actual
        with self.store.write() as conn:
            current = self._current(conn, key)
            state = None if current is None else (current.etag, current.uploaded)
            if condition is not None and not condition_holds(condition, state):
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
            limit = min(limit, INCLUDE_PAGE)
        start = request.start_after
        if request.cursor is not None:
            after = decode_cursor(request.cursor)
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
        cursor = encode_cursor(last_key) if truncated and last_key is not None else None
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
            raise too_large()
        with self.store.write() as conn:
            found = self._upload(conn, key, upload_id, now_ms)
            if found is None or found[0] != "in-progress":
                raise no_such_upload()
            etag = self._next(conn, "part")[:16].hex()
            conn.execute(
                "INSERT OR REPLACE INTO r2_parts (upload_id, part_number, etag, size, md5, body) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (upload_id, part_number, etag, len(data), hex_digest(data, "md5"), data),
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
                raise no_such_upload()
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
                raise bad_upload()
            if sum(sizes) > MAX_OBJECT_BYTES:
                raise too_large()
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
