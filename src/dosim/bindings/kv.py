"""Workers KV: the ``KvNamespace`` binding, modelled as Python code reaches it.

A KV namespace (``[[kv_namespaces]]``) is a global key-value store shared by every Worker
and Durable Object bound to it. On Cloudflare the binding is workerd's ``KvNamespace``
(``src/workerd/api/kv.c++``), which checks a few things itself and sends each call to the
KV service; dosim plays both parts. Python code holds it through the SDK's wrapper
(:mod:`dosim.bindings.wrapper`), so arguments arrive as JavaScript values and results
leave through ``python_from_rpc``.

The rules, each with its source:

1. ``get(key, type)`` / ``get(key, {"type", "cacheTtl"})`` returns the value or ``None``.
   ``"text"`` (the default) gives a ``str``, ``"json"`` the parsed value (objects as
   :class:`~dosim.serialization.JsDict`), ``"arrayBuffer"`` a ``memoryview``,
   ``"stream"`` a :class:`~dosim.workers.body.ReadableStream` (pass it to ``Response``).
   Any other type is a ``TypeError``, raised only when the key exists (workerd checks the
   type after the service answered). ``cacheTtl`` must be at least 30 seconds (Cloudflare
   docs, "Read key-value pairs", minimum lowered from 60 on 2026-01-30; Miniflare's
   validator); dosim checks it and otherwise ignores it.
2. ``get([keys])`` reads up to 100 keys at once and returns a JavaScript ``Map``, which
   Python receives as a ``JsDict``; missing keys map to ``None``. Only ``"text"`` and
   ``"json"`` are allowed. workerd builds the ``Map`` from the service's JSON object while
   skipping array-index property names, so a key such as ``"7"`` is absent from the
   result (``getBulk``: ``IndexFilter::SKIP_INDICES``).
3. ``getWithMetadata`` returns ``{value, metadata, cacheStatus}``; its bulk form maps each
   key to ``{value, metadata}`` or ``None``. ``cacheStatus`` is ``None``, as in local
   development (the edge reports its cache's state there).
4. ``put(key, value, {"expiration", "expirationTtl", "metadata"})``: ``value`` is a
   ``str``, bytes (an ``ArrayBufferView`` once converted) or a ``ReadableStream``; numbers,
   booleans and ``None`` become their JavaScript string (``"42"``, ``"true"``,
   ``"null"``); dicts, lists and other objects are refused with workerd's ``TypeError``.
   ``expirationTtl`` and ``expiration`` (seconds since the epoch) must lie at least 60
   seconds ahead; when both are given the TTL wins. Metadata is stored as JSON, at most
   1024 bytes; values at most 25 MiB (Cloudflare docs, "KV limits").
5. Keys are strings of at most 512 UTF-8 bytes, not empty, ``"."`` or ``".."`` (workerd
   ``validateKeyName``). Other key arguments are converted with JavaScript's
   ``String()``.
6. ``list({"prefix", "limit", "cursor"})`` returns ``{keys, list_complete, cursor?,
   cacheStatus}``; each key is ``{name, expiration?, metadata?}``, in UTF-8 byte order.
   ``limit`` defaults to 1000, the maximum (Cloudflare docs, "List keys"). The cursor is
   opaque; it resumes after the last key returned.
7. Expired keys are gone: ``get`` and ``list`` no longer see them once the virtual clock
   (``app.clock``) reaches their expiration.
8. A failure of the KV service reaches Python as ``Error: KV <METHOD> failed: <status>
   <text>`` (workerd ``checkForErrorStatus``); ``app.faults.fail_next_binding_call``
   injects ``KV GET failed: 500 Internal Server Error`` (and the ``PUT``, ``DELETE``,
   ``GET_BULK`` forms), the text workerd's own tests expect from a failing service.
9. Every call resolves at once and starts when made, as the SDK's call into JavaScript
   does: an un-awaited ``put`` still writes; its errors are raised where it is awaited.

The service's error texts are Miniflare's (the simulator ``wrangler dev`` runs,
``packages/miniflare/src/workers/kv/``), the closest public statement of them.

Where dosim differs:

* **Reads are consistent everywhere.** KV is eventually consistent: a write is seen at once
  in the location that made it and may take 60 seconds or more (or ``cacheTtl``)
  elsewhere. dosim has one location, so every read sees the latest write. Code that
  relies on that passes here and may fail on Cloudflare.
* The 1-write-per-second limit per key and the 1,000 operations per invocation are not
  enforced; ``cacheStatus`` is always ``None``.
* A ``ReadableStream`` from dosim's ``workers`` types cannot yet be passed to ``put``
  from Python: the SDK conversion refuses it with ``DataCloneError``. Read the body
  (``await response.bytes()``) and put the bytes.
* ``JSON`` parse errors (``type="json"``) are ``SyntaxError`` with Python's json module's
  wording, as for ``js.JSON.parse``.
* Tombstones are not modelled: a ``list`` page is never empty while more keys follow.
* inferred: a ``list`` ``limit`` above 1000 is refused as Miniflare refuses it; a cursor
  that was not returned by ``list`` is read leniently (as Miniflare's base64 decoding does)
  rather than refused; an omitted key or value is JavaScript's ``undefined`` converted to
  the string ``"undefined"``; a lone surrogate in a key or text value becomes U+FFFD on
  its way to UTF-8; an options argument that is not an object is refused with JSG's
  ``Failed to execute ... is not of type 'ListOptions'`` (or ``'PutOptions'``); an
  injected failure uses status 500 (what a real outage returns is not documented).
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import json
import math
import re
from collections.abc import Callable
from typing import Any

from ..eager import finished
from ..errors import JsException
from ..serialization import js_number_to_string, wire_date_ms, wire_map, wire_tag
from ..workers.body import BodyMixin, ReadableStream, extract_body
from ..workers.headers import HeaderList
from .host import BindingHost
from .jsstring import UNDEFINED, js_string
from .wrapper import JsClassObject

__all__ = [
    "KvNamespace",
    "MAX_KEY_BYTES",
    "MAX_VALUE_BYTES",
    "MAX_METADATA_BYTES",
    "MAX_BULK_KEYS",
    "MAX_LIST_KEYS",
    "MIN_EXPIRATION_TTL",
    "MIN_CACHE_TTL",
]

# --- limits (Cloudflare docs, "KV limits"; Miniflare kv/constants.ts) ----------------------
MAX_KEY_BYTES = 512
MAX_VALUE_BYTES = 25 * 1024 * 1024
MAX_METADATA_BYTES = 1024
MAX_BULK_KEYS = 100
MAX_BULK_BYTES = 25 * 1024 * 1024
MAX_LIST_KEYS = 1000
MIN_EXPIRATION_TTL = 60
MIN_CACHE_TTL = 30

# --- texts raised by workerd itself (src/workerd/api/kv.c++, jsg/value.h) -------------------
MSG_EMPTY_KEY = "Key name cannot be empty."
MSG_DOT_KEY = '"{key}" is not allowed as a key name.'
MSG_KEY_TOO_LONG = "UTF-8 encoded length of {length} exceeds key length limit of 512."
MSG_UNKNOWN_TYPE = (
    'Unknown response type. Possible types are "text", "arrayBuffer", "json", and "stream".'
)
MSG_PUT_VALUE_TYPE = (
    "KV put() accepts only strings, ArrayBuffers, ArrayBufferViews, and ReadableStreams as "
    "values."
)
MSG_OUT_OF_RANGE = "Value out of range. Must be between -2147483648 and 2147483647 (inclusive)."
MSG_NOT_OF_TYPE = (
    "Failed to execute '{method}' on 'KvNamespace': parameter {index} is not of type '{type}'."
)
MSG_BIGINT_NUMBER = "Cannot convert a BigInt value to a number"
MSG_BIGINT_JSON = "Do not know how to serialize a BigInt"
# workerd's form of every failed call to the service: "KV <METHOD> failed: <status> <text>".
MSG_FAILED = "KV {method} failed: {status} {text}"

# --- texts of the KV service (Miniflare kv/validator.worker.ts, namespace.worker.ts) -------
MSG_CACHE_TTL = "Invalid cache_ttl of {ttl}. Cache TTL must be at least 30."
MSG_TTL_NOT_POSITIVE = "Invalid expiration_ttl of {ttl}. Please specify integer greater than 0."
MSG_TTL_TOO_SHORT = "Invalid expiration_ttl of {ttl}. Expiration TTL must be at least 60."
MSG_EXPIRATION_PAST = (
    "Invalid expiration of {expiration}. Please specify integer greater than the current "
    "number of seconds since the UNIX epoch."
)
MSG_EXPIRATION_SOON = (
    "Invalid expiration of {expiration}. Expiration times must be at least 60 seconds in the "
    "future."
)
MSG_METADATA_TOO_LARGE = "Metadata length of {length} exceeds limit of 1024."
MSG_VALUE_TOO_LARGE = "Value length of {length} exceeds limit of 26214400."
MSG_LIST_LIMIT = "Invalid key_count_limit of {limit}. Please specify an integer less than 1000."
MSG_BULK_TYPE = '"{type}" is not a valid type. Use "json" or "text"'
MSG_BULK_TOO_MANY = "You can request a maximum of 100 keys"
MSG_BULK_TOO_FEW = "You must request a minimum of 1 key"
MSG_BULK_EMPTY_KEY = "Key names must not be empty"
MSG_BULK_DOT_KEY = 'Illegal key name "{key}". Please use a different name.'
MSG_BULK_NOT_TYPE = "At least one of the requested keys corresponds to a non-{type} value"
MSG_BULK_TOO_LARGE = "Total size of request exceeds the limit of 25MB"
MSG_SERVICE = "Internal Server Error"

_TYPES = ("text", "json", "arrayBuffer", "stream")
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
_MAX_SAFE_INTEGER = 2**53 - 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv_entries (
    key TEXT PRIMARY KEY,       -- compared as UTF-8 bytes (BINARY collation)
    value BLOB NOT NULL,
    expiration INTEGER,         -- seconds since the epoch, or NULL
    metadata TEXT               -- JSON, or NULL
) WITHOUT ROWID;
"""
_LIVE = "(expiration IS NULL OR expiration * 1000 > ?)"


def _failed(method: str, status: int, text: str) -> JsException:
    return JsException(MSG_FAILED.format(method=method, status=status, text=text))


class KvNamespace(JsClassObject):
    """The ``KvNamespace`` a ``[[kv_namespaces]]`` binding holds (see the module docstring).

    Methods take and return wire values, as :class:`~dosim.bindings.wrapper.JsClassObject`
    methods do, and return an awaitable that is already settled.

    Args:
        host: The app's binding host (clock, trace, faults, stores).
        binding: The binding name (``"CACHE"``).
        namespace_id: The namespace id; bindings with the same id share one store.
    """

    js_class_name = "KvNamespace"

    def __init__(self, host: BindingHost, binding: str, namespace_id: str) -> None:
        self.host = host
        self.binding = binding
        self.namespace_id = namespace_id
        self._store = host.store("kv", namespace_id, _SCHEMA)

    # -- the platform's methods ---------------------------------------------------------

    def get(self, key: Any = UNDEFINED, options: Any = UNDEFINED, *_ignored: Any) -> Any:
        """``get(key, type_or_options)``: one value, or a ``Map`` for a list of keys.

        Args:
            key: A key, or a list of up to 100 keys.
            options: ``"text"``, ``"json"``, ``"arrayBuffer"``, ``"stream"``, or
                ``{"type": ..., "cacheTtl": seconds}``.

        Returns:
            An awaitable of the value (``None`` when missing) or of the ``Map``.
        """
        return self._read("get", key, options, with_metadata=False)

    def getWithMetadata(  # noqa: N802 - the platform's name
        self, key: Any = UNDEFINED, options: Any = UNDEFINED, *_ignored: Any
    ) -> Any:
        """``getWithMetadata(key, type_or_options)``: the value with its metadata.

        Args:
            key: A key, or a list of up to 100 keys.
            options: As for :meth:`get`.

        Returns:
            An awaitable of ``{value, metadata, cacheStatus}``, or for a list of keys of a
            ``Map`` from each key to ``{value, metadata}`` (``None`` when missing).
        """
        return self._read("getWithMetadata", key, options, with_metadata=True)

    def put(
        self, key: Any = UNDEFINED, value: Any = UNDEFINED, options: Any = UNDEFINED, *_ignored: Any
    ) -> Any:
        """``put(key, value, {expiration, expirationTtl, metadata})``: write one value.

        Args:
            key: The key.
            value: A string, bytes or a ``ReadableStream`` (numbers, booleans and ``None``
                are stored as their JavaScript string).
            options: ``expiration`` (seconds since the epoch), ``expirationTtl`` (seconds
                from now), ``metadata`` (any JSON-serialisable value).

        Returns:
            An awaitable of ``None``.
        """
        name = _js_key(key)
        return self._call("put", "PUT", {"key": name}, lambda: self._put(name, value, options))

    def delete(self, key: Any = UNDEFINED, *_ignored: Any) -> Any:
        """``delete(key)``: remove a key; removing a missing key is not an error.

        Args:
            key: The key.

        Returns:
            An awaitable of ``None``.
        """
        name = _js_key(key)
        return self._call("delete", "DELETE", {"key": name}, lambda: self._delete(name))

    def list(self, options: Any = UNDEFINED, *_ignored: Any) -> Any:
        """``list({prefix, limit, cursor})``: one page of keys in UTF-8 byte order.

        Args:
            options: ``prefix`` (keys starting with it), ``limit`` (1 to 1000, default
                1000), ``cursor`` (from the previous page).

        Returns:
            An awaitable of ``{keys, list_complete, cursor?, cacheStatus}``.
        """
        return self._call("list", "GET", {}, lambda: self._list(options))

    # -- calls ---------------------------------------------------------------------------

    def _call(self, op: str, method: str, detail: dict[str, Any], work: Callable[[], Any]) -> Any:
        self.host.record(self.binding, "kv", op, **detail)
        try:
            self.host.before_call(self.binding, op, lambda: _failed(method, 500, MSG_SERVICE))
            return finished(work())
        except Exception as error:  # noqa: BLE001 - a rejected promise, raised where awaited
            return finished(error=error)

    def _read(self, op: str, key: Any, options: Any, *, with_metadata: bool) -> Any:
        if isinstance(key, list):
            names = [_js_key(item) for item in key]
            return self._call(
                op,
                "GET_BULK",
                {"keys": len(names)},
                lambda: self._get_bulk(names, options, with_metadata),
            )
        name = _js_key(key)
        return self._call(
            op, "GET", {"key": name}, lambda: self._get_one(name, options, with_metadata)
        )

    def _now_s(self) -> int:
        return self.host.now_ms() // 1000

    def _lookup(self, key: str) -> tuple[bytes, str | None, int | None] | None:
        rows = self._store.read(
            f"SELECT value, metadata, expiration FROM kv_entries WHERE key = ? AND {_LIVE}",
            (key, self.host.now_ms()),
        )
        return (bytes(rows[0][0]), rows[0][1], rows[0][2]) if rows else None

    def _get_one(self, key: str, options: Any, with_metadata: bool) -> Any:
        type_name, cache_ttl = _get_options(options)
        _validate_key("GET", key)
        if cache_ttl is not None and cache_ttl < MIN_CACHE_TTL:
            raise _failed("GET", 400, MSG_CACHE_TTL.format(ttl=cache_ttl))
        found = self._lookup(key)
        if found is None:
            return {"value": None, "metadata": None, "cacheStatus": None} if with_metadata else None
        data, metadata, _ = found
        if type_name not in _TYPES:
            raise JsException(MSG_UNKNOWN_TYPE, name="TypeError")
        value = _decode(data, type_name)
        if not with_metadata:
            return value
        return {
            "value": value,
            "metadata": None if metadata is None else _json_parse(metadata),
            "cacheStatus": None,
        }

    def _get_bulk(self, keys: list[str], options: Any, with_metadata: bool) -> Any:
        type_name, cache_ttl = _get_options(options)
        if type_name not in ("", "text", "json"):  # workerd leaves an empty type out
            raise _failed("GET_BULK", 400, MSG_BULK_TYPE.format(type=type_name))
        if len(keys) > MAX_BULK_KEYS:
            raise _failed("GET_BULK", 400, MSG_BULK_TOO_MANY)
        if not keys:
            raise _failed("GET_BULK", 400, MSG_BULK_TOO_FEW)
        values: dict[str, Any] = {}
        total = 0
        for key in keys:
            _validate_bulk_key(key)
            if cache_ttl is not None and cache_ttl < MIN_CACHE_TTL:
                raise _failed("GET_BULK", 400, MSG_CACHE_TTL.format(ttl=cache_ttl))
            found = self._lookup(key)
            if found is None:
                values[key] = None
                continue
            text = found[0].decode("utf-8", "replace")
            total += len(text.encode("utf-16-le")) // 2  # a JavaScript string's length
            value: Any = text
            if type_name == "json":
                try:
                    value = _json_parse(text)
                except JsException:
                    raise _failed("GET_BULK", 400, MSG_BULK_NOT_TYPE.format(type="json")) from None
            if with_metadata:
                metadata = None if found[1] is None else _json_parse(found[1])
                value = {"value": value, "metadata": metadata}
            values[key] = value
        if total > MAX_BULK_BYTES:
            raise _failed("GET_BULK", 413, MSG_BULK_TOO_LARGE)
        # The Map is built from the service's JSON object, skipping array-index names.
        pairs = [[key, value] for key, value in values.items() if not _is_array_index(key)]
        return wire_map(pairs)

    def _put(self, key: str, value: Any, options: Any) -> None:
        expiration, ttl, metadata = _put_options(options)
        _validate_key("PUT", key)
        metadata_json = None if metadata is UNDEFINED else _json_stringify(metadata)
        data = _put_body(value)
        now = self._now_s()
        expires: int | None = None
        if ttl is not None:
            if ttl <= 0:
                raise _failed("PUT", 400, MSG_TTL_NOT_POSITIVE.format(ttl=ttl))
            if ttl < MIN_EXPIRATION_TTL:
                raise _failed("PUT", 400, MSG_TTL_TOO_SHORT.format(ttl=ttl))
            expires = now + ttl
        elif expiration is not None:
            if expiration <= now:
                raise _failed("PUT", 400, MSG_EXPIRATION_PAST.format(expiration=expiration))
            if expiration < now + MIN_EXPIRATION_TTL:
                raise _failed("PUT", 400, MSG_EXPIRATION_SOON.format(expiration=expiration))
            expires = expiration
        if metadata_json is not None:
            length = len(metadata_json.encode("utf-8"))
            if length > MAX_METADATA_BYTES:
                raise _failed("PUT", 413, MSG_METADATA_TOO_LARGE.format(length=length))
        if len(data) > MAX_VALUE_BYTES:
            raise _failed("PUT", 413, MSG_VALUE_TOO_LARGE.format(length=len(data)))
        with self._store.write() as conn:
            conn.execute(
                "DELETE FROM kv_entries WHERE expiration * 1000 <= ?", (self.host.now_ms(),)
            )
            conn.execute(
                "INSERT OR REPLACE INTO kv_entries (key, value, expiration, metadata)"
                " VALUES (?, ?, ?, ?)",
                (key, data, expires, metadata_json),
            )

    def _delete(self, key: str) -> None:
        _validate_key("DELETE", key)
        if self._store.read("SELECT 1 FROM kv_entries WHERE key = ?", (key,)):
            with self._store.write() as conn:
                conn.execute("DELETE FROM kv_entries WHERE key = ?", (key,))

    def _list(self, options: Any) -> dict[str, Any]:
        limit, prefix, cursor = _list_options(options)
        if limit > MAX_LIST_KEYS:
            raise _failed("GET", 400, MSG_LIST_LIMIT.format(limit=limit))
        if limit <= 0:  # workerd sends the limit only when it is positive
            limit = MAX_LIST_KEYS
        prefix = prefix or ""
        length = len(_utf8(prefix))
        if length > MAX_KEY_BYTES:
            raise _failed("GET", 414, MSG_KEY_TOO_LONG.format(length=length))
        after = _decode_cursor(cursor) if cursor else ""
        rows = self._store.read(
            "SELECT key, expiration, metadata FROM kv_entries"
            f" WHERE key > ? AND key >= ? AND substr(key, 1, ?) = ? AND {_LIVE}"
            " ORDER BY key LIMIT ?",
            (after, prefix, len(prefix), prefix, self.host.now_ms(), limit + 1),
        )
        keys = []
        for name, expiration, metadata in rows[:limit]:
            entry: dict[str, Any] = {"name": name}
            if expiration is not None:
                entry["expiration"] = expiration
            if metadata is not None:
                entry["metadata"] = _json_parse(metadata)
            keys.append(entry)
        result: dict[str, Any] = {"keys": keys, "list_complete": len(rows) <= limit}
        if len(rows) > limit:
            result["cursor"] = base64.b64encode(_utf8(keys[-1]["name"])).decode("ascii")
        result["cacheStatus"] = None
        return result


# -- what the service and workerd check ----------------------------------------------------


def _validate_key(method: str, key: str) -> None:
    if key == "":
        raise JsException(MSG_EMPTY_KEY, name="TypeError")
    if key in (".", ".."):
        raise JsException(MSG_DOT_KEY.format(key=key), name="TypeError")
    length = len(_utf8(key))
    if length > MAX_KEY_BYTES:
        raise _failed(method, 414, MSG_KEY_TOO_LONG.format(length=length))


def _validate_bulk_key(key: str) -> None:
    # workerd sends a bulk read's keys unchecked; the service answers with its own words.
    if key == "":
        raise _failed("GET_BULK", 400, MSG_BULK_EMPTY_KEY)
    if key in (".", ".."):
        raise _failed("GET_BULK", 400, MSG_BULK_DOT_KEY.format(key=key))
    length = len(_utf8(key))
    if length > MAX_KEY_BYTES:
        raise _failed("GET_BULK", 414, MSG_KEY_TOO_LONG.format(length=length))


def _decode(data: bytes, type_name: str) -> Any:
    if type_name == "arrayBuffer":
        return data
    if type_name == "stream":
        return ReadableStream(_StoredBody(data))
    text = data.decode("utf-8", "replace")
    return _json_parse(text) if type_name == "json" else text


class _StoredBody(BodyMixin):
    """The stored bytes behind a ``"stream"`` read: a body that can be read once."""

    def __init__(self, data: bytes) -> None:
        self._init_body(data, HeaderList())


def _put_body(value: Any) -> bytes:
    # workerd takes a string or an object; anything else is converted with String().
    if isinstance(value, str):
        return _utf8(value)
    if isinstance(value, bytes):
        return value
    if isinstance(value, ReadableStream):
        return extract_body(value, "Request")[0] or b""
    if value is UNDEFINED or value is None or isinstance(value, (bool, int, float)):
        return _utf8(js_string(value))
    raise JsException(MSG_PUT_VALUE_TYPE, name="TypeError")


# -- options, as workerd's JSG structs read them -------------------------------------------


def _get_options(options: Any) -> tuple[str, int | None]:
    """``(type, cacheTtl)`` from a string or a ``GetOptions`` object."""
    if options is UNDEFINED or options is None:
        return "text", None
    if isinstance(options, dict):
        type_name = options.get("type", UNDEFINED)
        ttl = options.get("cacheTtl", UNDEFINED)
        return (
            "text" if type_name is UNDEFINED else js_string(type_name),
            None if ttl is UNDEFINED else _js_int(ttl),
        )
    if _is_object(options):
        return "text", None
    return js_string(options), None


def _put_options(options: Any) -> tuple[int | None, int | None, Any]:
    """``(expiration, expirationTtl, metadata)``; metadata is UNDEFINED when absent."""
    fields = _struct(options, "put", 3, "PutOptions")
    expiration = fields.get("expiration", UNDEFINED)
    ttl = fields.get("expirationTtl", UNDEFINED)
    metadata = fields.get("metadata", UNDEFINED)
    return (
        None if expiration is UNDEFINED else _js_int(expiration),
        None if ttl is UNDEFINED else _js_int(ttl),
        UNDEFINED if metadata is None else metadata,
    )


def _list_options(options: Any) -> tuple[int, str | None, str | None]:
    """``(limit, prefix, cursor)``; a limit of 0 means "not given"."""
    fields = _struct(options, "list", 1, "ListOptions")
    limit = fields.get("limit", UNDEFINED)
    prefix = fields.get("prefix", UNDEFINED)
    cursor = fields.get("cursor", UNDEFINED)
    return (
        0 if limit is UNDEFINED else _js_int(limit),
        None if prefix in (UNDEFINED, None) else _js_key(prefix),
        None if cursor in (UNDEFINED, None) else js_string(cursor),
    )


def _struct(options: Any, method: str, index: int, type_name: str) -> dict[str, Any]:
    if options is UNDEFINED or options is None:
        return {}
    if isinstance(options, dict):
        return options
    if _is_object(options):
        return {}
    raise JsException(
        MSG_NOT_OF_TYPE.format(method=method, index=index, type=type_name), name="TypeError"
    )


def _decode_cursor(cursor: str) -> str:
    # Opaque to callers; dosim's cursors are the last key returned, base64-encoded.
    cleaned = re.sub(r"[^A-Za-z0-9+/]", "", cursor)
    try:
        raw = base64.b64decode(cleaned + "=" * (-len(cleaned) % 4))
    except (binascii.Error, ValueError):
        return ""
    return raw.decode("utf-8", "replace")


# -- JavaScript conversions ------------------------------------------------------------------


def _is_object(value: Any) -> bool:
    """Whether a wire value is a JavaScript object (not a primitive)."""
    return not (value is UNDEFINED or value is None or isinstance(value, (str, bool, int, float)))


def _utf8(text: str) -> bytes:
    """A JavaScript string as workerd's UTF-8 ``kj::String`` (lone surrogates → U+FFFD)."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        joined = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
        return joined.encode("utf-8")


def _js_key(value: Any) -> str:
    """A key argument as the service receives it: ``String(value)``, sent as UTF-8."""
    return _utf8(js_string(value)).decode("utf-8")


_JS_SPACE = " \t\n\v\f\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
_JS_SPACE += "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_DECIMAL = re.compile(r"[+-]?(?:Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)\Z")
_RADIX = {"0x": (16, "0123456789abcdefABCDEF"), "0o": (8, "01234567"), "0b": (2, "01")}


def _js_number(value: Any) -> float:
    """JavaScript's ``Number(value)`` for a wire value."""
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int):
        if abs(value) > _MAX_SAFE_INTEGER:  # Pyodide sends it as a BigInt
            raise JsException(MSG_BIGINT_NUMBER, name="TypeError")
        return float(value)
    if isinstance(value, float):
        return value
    ms = wire_date_ms(value)
    if ms is not None:
        return float(ms)
    if isinstance(value, (str, list, bytes)):
        text = js_string(value).strip(_JS_SPACE)
        if not text:
            return 0.0
        radix = _RADIX.get(text[:2].lower())
        if radix is not None:
            digits = text[2:]
            if digits and all(char in radix[1] for char in digits):
                return float(int(digits, radix[0]))
            return math.nan
        if _DECIMAL.match(text):
            return float(text.replace("Infinity", "inf"))
    return math.nan


def _js_int(value: Any) -> int:
    """A JavaScript value as workerd's ``int`` argument: NaN and infinities are 0."""
    number = _js_number(value)
    if not math.isfinite(number):
        return 0
    if not _INT_MIN <= number <= _INT_MAX:
        raise JsException(MSG_OUT_OF_RANGE, name="TypeError")
    return int(number)


def _is_array_index(name: str) -> bool:
    """Whether a property name is an array index (``"0"`` to ``"4294967294"``)."""
    if not name.isascii() or not name.isdigit() or (len(name) > 1 and name[0] == "0"):
        return False
    return int(name) < 2**32 - 1


def _js_object(pairs: Any) -> dict[str, Any]:
    """An object's properties in V8's order: array indices ascending, then the others."""
    merged = dict(pairs)  # a repeated name keeps its first place and its last value
    indices = sorted((key for key in merged if _is_array_index(key)), key=int)
    ordered = {key: merged[key] for key in indices}
    ordered.update((key, item) for key, item in merged.items() if not _is_array_index(key))
    return ordered


def _json_number(literal: str) -> int | float:
    number = float(literal)
    if number.is_integer() and abs(number) <= _MAX_SAFE_INTEGER:
        return int(number)
    return number


def _json_constant(name: str) -> Any:
    raise json.JSONDecodeError(f"Unexpected token '{name[0]}'", name, 0)


def _json_parse(text: str) -> Any:
    """``JSON.parse`` into wire values (objects keep V8's property order)."""
    try:
        return json.loads(
            text,
            parse_float=_json_number,
            parse_int=_json_number,
            parse_constant=_json_constant,
            object_pairs_hook=_js_object,
        )
    except json.JSONDecodeError as error:
        message = f"{error.msg} in JSON at position {error.pos}"
        raise JsException(message, name="SyntaxError") from None
    except RecursionError:
        raise JsException("Maximum call stack size exceeded", name="RangeError") from None


def _json_string(text: str) -> str:
    escaped = json.dumps(text, ensure_ascii=False)
    # JSON.stringify writes lone surrogates as escapes (well-formed JSON.stringify).
    return re.sub(r"[\ud800-\udfff]", lambda m: f"\\u{ord(m.group()):04x}", escaped)


def _json_stringify(value: Any) -> str | None:
    """``JSON.stringify`` of a wire value; ``None`` when it has no JSON form."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if abs(value) > _MAX_SAFE_INTEGER:
            raise JsException(MSG_BIGINT_JSON, name="TypeError")
        return str(value)
    if isinstance(value, float):
        return js_number_to_string(value) if math.isfinite(value) else "null"
    if isinstance(value, str):
        return _json_string(value)
    if isinstance(value, list):
        return "[" + ",".join(_json_stringify(item) or "null" for item in value) + "]"
    if isinstance(value, dict):
        members = _js_object(value.items()).items()
        parts = [(key, _json_stringify(item)) for key, item in members]
        return "{" + ",".join(f"{_json_string(k)}:{v}" for k, v in parts if v is not None) + "}"
    if isinstance(value, bytes):  # a Uint8Array: an object of its indices
        return "{" + ",".join(f'"{index}":{byte}' for index, byte in enumerate(value)) + "}"
    ms = wire_date_ms(value)
    if ms is not None:  # Date.prototype.toJSON
        moment = _dt.datetime.fromtimestamp(ms / 1000, tz=_dt.UTC)
        return '"' + moment.strftime("%Y-%m-%dT%H:%M:%S.") + f'{ms % 1000:03d}Z"'
    if wire_tag(value) == "function":
        return None  # a function has no JSON form
    return "{}"
