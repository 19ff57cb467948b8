"""D1: the ``D1Database`` binding, its sessions and its prepared statements.

A ``[[d1_databases]]`` entry puts a ``D1Database`` in ``env``. This module models the
JavaScript classes of workerd's ``src/cloudflare/internal/d1-api.ts`` (commit
6552d999c79e) as Python code on Cloudflare reaches them, through the SDK's binding wrapper
(:mod:`dosim.bindings.wrapper`): ``env.DB.prepare(sql)`` returns a wrapped
``D1PreparedStatement``; ``bind(...)`` returns a new one; results arrive converted (a
``D1Result`` as a :class:`~dosim.serialization.JsDict`, rows as ``JsDict``, ``raw()`` rows as
lists, NULL as ``None``). The SQL runs in :class:`~dosim.bindings.d1_engine.D1Engine`.

================================  ==========================================================
call                              result
================================  ==========================================================
``db.prepare(sql)``               a ``D1PreparedStatement`` (nothing runs yet)
``stmt.bind(*values)``            a new statement with these values (replacing any bound)
``await stmt.all()`` / ``run()``  ``{success: True, meta: {...}, results: [row, ...]}``
``await stmt.first()``            the first row, or ``None`` when there is none
``await stmt.first("col")``       that column of the first row (``D1_COLUMN_NOTFOUND``
                                  when the row has no such column)
``await stmt.raw()``              rows as lists; ``raw(columnNames=True)`` puts the column
                                  names first
``await db.batch([stmt, ...])``   one ``D1Result`` per statement, all in one transaction
``await db.exec(sql)``            ``{count, duration}``: one query per line of ``sql``
``db.withSession(c)``             a ``D1DatabaseSession``: ``prepare``, ``batch``,
                                  ``getBookmark``
``await db.dump()``               fails, as for every database made after D1's alpha
================================  ==========================================================

``bind`` accepts what D1 accepts (d1-api.ts ``bind``; D1 docs, worker-api "Type
conversion"): ``None`` (NULL), numbers, ``str``, booleans (stored as 1 and 0), ``bytes``
or ``memoryview`` (a BLOB, read back as a list of byte values) and lists of numbers from
0 to 255 (a BLOB too). Anything else fails at once with ``D1_TYPE_ERROR: Type 'object'
not supported for value '[object Object]'`` (JavaScript's ``typeof`` and ``String()`` of
the value as the SDK converted it): a ``dict``, a ``set``, a ``datetime`` (a ``Date``),
other lists, and integers beyond 2**53 - 1 (Pyodide sends them as a ``BigInt``: ``Type
'bigint'``). Placeholders are ordered (``?1``) or anonymous (``?``).

A failed query rejects with ``D1_ERROR: <the service's text>``, e.g. ``D1_ERROR: no such
table: users: SQLITE_ERROR``; ``exec`` with ``D1_EXEC_ERROR: Error in line 1: <first
line>: <text>`` (line 1 whichever line failed, as d1-api.ts says the service reports only
one error). The error is a :class:`~dosim.errors.JsException` named ``Error`` whose
``cause`` holds the text alone, as d1-api.ts builds it.

Where dosim differs: one database instance serves everything, so a session reads its own
writes from the start (no read replicas, no replica lag), bookmarks are opaque strings of
dosim's own (ordered as the platform's) and ``served_by_region`` is always ``"WEUR"``;
Time Travel is not modelled. ``dump()`` fails with the text Miniflare's D1 gives
(``D1_DUMP_ERROR: Status + 404``); Cloudflare's status is not documented. ``query()``
(the raw rows-and-columns API) exists only with the ``d1_binding_jsrpc`` compatibility
flag, as in workerd.
"""

from __future__ import annotations

import weakref
from typing import Any

from .. import compat
from ..eager import finished
from ..errors import JsException
from ..ffi import JsDate
from ..serialization import from_wire, js_number_to_string, to_wire, wire_date_ms
from .d1_engine import D1Engine, D1QueryError, QueryResult
from .host import BindingHost
from .store import BindingStore
from .wrapper import JsClassObject

__all__ = [
    "D1Database",
    "D1DatabaseSession",
    "D1PreparedStatement",
    "MSG_TYPE_ERROR",
    "MSG_COLUMN_NOTFOUND",
    "MSG_EXEC_ERROR",
    "MSG_DUMP_ERROR",
    "MSG_QUERY_NEEDS_JSRPC",
    "MSG_NETWORK_LOST",
    "FIRST_PRIMARY",
    "FIRST_UNCONSTRAINED",
]

# --- texts (workerd src/cloudflare/internal/d1-api.ts) ---------------------------------
MSG_TYPE_ERROR = "D1_TYPE_ERROR: Type '{type}' not supported for value '{value}'"
MSG_COLUMN_NOTFOUND = "D1_COLUMN_NOTFOUND: Column not found ({column})"
MSG_EXEC_ERROR = "D1_EXEC_ERROR: Error in line {line}: {text}: {message}"
MSG_DUMP_ERROR = "D1_DUMP_ERROR: Status + {status}"
MSG_QUERY_NEEDS_JSRPC = (
    "D1_ERROR: D1Database.query() requires the d1_binding_jsrpc compatibility flag. "
    "Enable d1_binding_jsrpc before calling query()."
)
#: A call the D1 service could not take: d1-api.ts wraps the failed fetch's message.
MSG_NETWORK_LOST = "D1_ERROR: Network connection lost."

FIRST_PRIMARY = "first-primary"
"""Session constraint: the first query goes to the primary."""
FIRST_UNCONSTRAINED = "first-unconstrained"
"""Session constraint: the first query may go anywhere (the default)."""

_JSRPC_FLAG = "d1_binding_jsrpc"
_DUMP_STATUS = 404  # what Miniflare's D1 object answers for the route it does not serve
# Pyodide sends an int beyond Number.MAX_SAFE_INTEGER as a BigInt (its docs, usage/
# type-conversions).
_LARGEST_NUMBER = 2**53 - 1
_TRACE_SQL = 200  # characters of SQL kept in a trace event
# What String.prototype.trim removes (ECMAScript WhiteSpace and LineTerminator).
_JS_SPACE = (
    " \t\n\v\f\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)


class _Undefined:
    """JavaScript's ``undefined``: an argument that was not passed."""

    def __repr__(self) -> str:
        return "undefined"


_UNDEFINED: Any = _Undefined()
_ENGINES: weakref.WeakKeyDictionary[BindingStore, D1Engine] = weakref.WeakKeyDictionary()


# --- errors ------------------------------------------------------------------------------
def _error(message: str, cause: str | None = None) -> JsException:
    """``new Error(message, {cause: new Error(cause)})``, as Python receives it."""
    error = JsException(message)
    if cause is not None:
        error.cause = JsException(cause)  # type: ignore[attr-defined]
    return error


def _d1_error(text: str) -> JsException:
    """A query the service refused, as ``_sendOrThrow`` throws it (jsrpc: no cause)."""
    if _jsrpc():
        return _error(f"D1_ERROR: {text}")
    return _error(f"D1_ERROR: {text}", text)


def _network_lost() -> JsException:
    return _error(MSG_NETWORK_LOST, MSG_NETWORK_LOST.removeprefix("D1_ERROR: "))


def _type_error(message: str) -> JsException:
    return JsException(message, name="TypeError")


def _jsrpc() -> bool:
    return _JSRPC_FLAG in compat.active().flags


# --- JavaScript's view of a value ----------------------------------------------------------
def _describe(value: Any) -> tuple[str, str]:
    """Return JavaScript's ``typeof`` and ``String()`` of a wire value."""
    if value is None:
        return "object", "null"
    if value is _UNDEFINED:
        return "undefined", "undefined"
    kind = type(value)
    if kind is bool:
        return "boolean", "true" if value else "false"
    if kind is int:
        return ("number" if abs(value) <= _LARGEST_NUMBER else "bigint"), str(value)
    if kind is float:
        return "number", js_number_to_string(value)
    if kind is str:
        return "string", value
    if kind is list:
        return "object", ",".join("" if item is None else _describe(item)[1] for item in value)
    if kind is bytes:  # a Uint8Array
        return "object", ",".join(str(byte) for byte in value)
    if kind in (set, frozenset):
        return "object", "[object Set]"
    if kind is tuple:  # tagged wire values: Date, Error, function, Map
        moment = wire_date_ms(value)
        if moment is not None:
            return "object", JsDate(moment).toString()
        payload = value[1]
        if isinstance(payload, tuple) and payload and callable(payload[0]):
            return "function", str(payload[0])  # a PyProxy's toString is the Python str()
        python = from_wire(value)
        if isinstance(python, Exception):
            return "object", str(python)
        return "object", "[object Map]"
    return "object", "[object Object]"


def _truthy(value: Any) -> bool:
    """JavaScript's truthiness of a wire value."""
    if value is None or value is _UNDEFINED:
        return False
    if type(value) in (bool, int, float):
        return bool(value) and value == value  # NaN is falsy
    if type(value) is str:
        return value != ""
    return True


def _property_key(value: Any) -> str:
    """The property name JavaScript reads for ``object[value]``."""
    return value if type(value) is str else _describe(value)[1]


def _is_index(key: str) -> bool:
    return key.isdigit() and (key == "0" or key[0] != "0") and int(key) < 2**32 - 1


def _row_object(columns: list[str], row: list[Any]) -> dict[str, Any]:
    """A row as ``Object.fromEntries`` builds it.

    A repeated column keeps its first place and its last value; integer-like names come
    first, in numeric order, as in any JavaScript object.
    """
    entries: dict[str, Any] = {}
    for name, cell in zip(columns, row, strict=False):
        entries[name] = cell
    indexes = sorted((key for key in entries if _is_index(key)), key=int)
    if not indexes:
        return entries
    ordered = {key: entries[key] for key in indexes}
    ordered.update((key, value) for key, value in entries.items() if key not in ordered)
    return ordered


def _d1_result(result: QueryResult) -> dict[str, Any]:
    """A ``D1Result``: ``toArrayOfObjects`` of the service's rows-and-columns answer."""
    return {
        "success": True,
        "meta": result.meta,
        "results": [_row_object(result.columns, row) for row in result.rows],
    }


def _bind_value(value: Any) -> Any:
    """Check and convert one ``bind`` argument as d1-api.ts ``bind`` does.

    Raises:
        JsException: ``D1_TYPE_ERROR`` for a type D1 does not take.
    """
    kind = type(value)
    if value is None or kind is str or kind is float:
        return value
    if kind is int and abs(value) <= _LARGEST_NUMBER:
        return value
    if kind is bool:
        return 1 if value else 0
    if kind is bytes:  # an ArrayBuffer view: Array.from
        return list(value)
    if kind is list and all(type(item) in (int, float) and 0 <= item < 256 for item in value):
        return list(value)  # an array of byte values is a BLOB already
    js_type, text = _describe(value)
    detail = f"Type '{js_type}' not supported for value '{text}'"
    raise _error("D1_TYPE_ERROR: " + detail, detail)


def _js_trim(text: str) -> str:
    return text.strip(_JS_SPACE)


def _missing_method(value: Any, method: str, name: str) -> JsException:
    """The TypeError V8 throws for ``name.method(...)`` on a value that lacks it."""
    if value is None or value is _UNDEFINED:
        return _type_error(f"Cannot read properties of {_describe(value)[1]} (reading '{method}')")
    return _type_error(f"{name}.{method} is not a function")


# --- the classes -------------------------------------------------------------------------
class D1PreparedStatement(JsClassObject):
    """A prepared statement: SQL and bound values, run by ``first``/``all``/``run``/``raw``.

    Attributes:
        statement: The SQL text, as given to ``prepare``.
        params: The bound values, converted as ``bind`` converts them.
    """

    js_class_name = "D1PreparedStatement"

    def __init__(self, session: D1DatabaseSession, statement: Any, params: Any = None) -> None:
        self._session = session
        self.statement = None if statement is _UNDEFINED else statement
        self.params: list[Any] = list(params) if params is not None else []

    def bind(self, *values: Any) -> D1PreparedStatement:
        """Return a new statement with ``values`` bound (the previous values are dropped).

        Args:
            *values: One value per placeholder.

        Raises:
            JsException: ``D1_TYPE_ERROR: Type '...' not supported for value '...'``, at
                once (``bind`` is synchronous).
        """
        return D1PreparedStatement(
            self._session, self.statement, [_bind_value(value) for value in values]
        )

    def first(self, colName: Any = _UNDEFINED, *_ignored: Any) -> Any:  # noqa: N803
        """Run the statement; resolve to its first row, one column of it, or ``None``.

        Args:
            colName: A column name; without it the whole row.

        Returns:
            An awaitable: the row (a dict), the column's value, or ``None`` without rows.
            A missing column rejects with ``D1_COLUMN_NOTFOUND: Column not found (x)``.
        """

        def work() -> tuple[Any, dict[str, Any]]:
            result = self._session._execute([self])[0]
            facts = {"rows": len(result.rows)}
            if not result.rows:
                return None, facts
            row = _row_object(result.columns, result.rows[0])
            if colName is _UNDEFINED:
                return row, facts
            key = _property_key(colName)
            if key not in row:
                column = _describe(colName)[1]
                raise _error(MSG_COLUMN_NOTFOUND.format(column=column), "Column not found")
            return row[key], facts

        return self._session._call("first", self.statement, work)

    def run(self, *_ignored: Any) -> Any:
        """Run the statement; resolve to its ``D1Result`` (rows included, as ``all``)."""
        return self._session._call("run", self.statement, self._result)

    def all(self, *_ignored: Any) -> Any:
        """Run the statement; resolve to ``{success, meta, results}``."""
        return self._session._call("all", self.statement, self._result)

    def raw(self, options: Any = _UNDEFINED, *_ignored: Any) -> Any:
        """Run the statement; resolve to its rows as lists.

        Args:
            options: ``{"columnNames": True}`` (or ``raw(columnNames=True)``) to put the
                column names first.
        """

        def work() -> tuple[Any, dict[str, Any]]:
            result = self._session._execute([self])[0]
            names = isinstance(options, dict) and _truthy(options.get("columnNames"))
            rows = ([list(result.columns)] if names else []) + result.rows
            return rows, {"rows": len(result.rows)}

        return self._session._call("raw", self.statement, work)

    def _result(self) -> tuple[Any, dict[str, Any]]:
        result = self._session._execute([self])[0]
        return _d1_result(result), {"rows": len(result.rows), "changes": result.meta["changes"]}


class D1DatabaseSession(JsClassObject):
    """A session (``db.withSession(...)``): queries see at least the version it last saw.

    dosim has one database instance, so every query already sees every committed write;
    the session keeps the latest bookmark its queries returned, as on the platform.
    """

    js_class_name = "D1DatabaseSession"

    def __init__(self, database: D1Database, bookmark_or_constraint: str | None) -> None:
        self._database = database
        self._bookmark = bookmark_or_constraint

    def prepare(self, query: Any = _UNDEFINED, *_ignored: Any) -> D1PreparedStatement:
        """Return a statement that runs in this session.

        Args:
            query: The SQL.
        """
        return D1PreparedStatement(self, query)

    def batch(self, statements: Any = _UNDEFINED, *_ignored: Any) -> Any:
        """Run statements in order as one transaction; resolve to one ``D1Result`` each.

        Args:
            statements: A list of prepared statements.

        Returns:
            An awaitable list of ``D1Result``. If one statement fails, nothing the batch did
            is kept and the call rejects with ``D1_ERROR: ...``.
        """
        if type(statements) is list:
            text = "\n".join(str(getattr(item, "statement", "")) for item in statements)
        else:
            text = None

        def work() -> tuple[Any, dict[str, Any]]:
            if type(statements) is not list:
                raise _missing_method(statements, "map", "statements")
            for item in statements:
                if item is None or item is _UNDEFINED:
                    what = _describe(item)[1]
                    raise _type_error(f"Cannot read properties of {what} (reading 'statement')")
            results = self._execute(statements)
            facts = {
                "statements": len(statements),
                "rows": sum(len(result.rows) for result in results),
                "changes": sum(result.meta["changes"] for result in results),
            }
            return [_d1_result(result) for result in results], facts

        return self._call("batch", text, work)

    def getBookmark(self, *_ignored: Any) -> str | None:  # noqa: N802 - the platform's name
        """The latest bookmark a query of this session returned, or ``None`` before any."""
        if self._bookmark in (FIRST_PRIMARY, FIRST_UNCONSTRAINED):
            return None
        return self._bookmark

    # -- shared by the database and its statements ----------------------------------------
    def _engine(self) -> D1Engine:
        return self._database._engine()

    def _execute(self, statements: list[Any]) -> list[QueryResult]:
        """Send statements to the database as one call; raise its error as D1 throws it."""
        queries = [
            (getattr(item, "statement", None), getattr(item, "params", None) or [])
            for item in statements
        ]
        engine = self._engine()
        try:
            results = engine.execute(queries)
        except D1QueryError as error:
            raise _d1_error(error.message) from None
        self._update_bookmark(engine.bookmark())
        return results

    def _update_bookmark(self, bookmark: str) -> None:
        # Keep the latest: the platform compares with localeCompare; these strings are
        # fixed-width hex, which orders the same way as plain comparison.
        current = self.getBookmark()
        if current is None or current < bookmark:
            self._bookmark = bookmark

    def _call(self, op: str, query: Any, work: Any) -> Any:
        """Run one call that reaches the database: fault check, work, trace; a Promise."""
        database = self._database
        host = database.host
        detail: dict[str, Any] = {}
        if type(query) is str:
            # Trace details stay small: a long query is cut (the trace is not a query log).
            detail["query"] = query if len(query) <= _TRACE_SQL else query[:_TRACE_SQL] + "…"
        try:
            host.before_call(database.binding, op, _network_lost)
            value, facts = work()
        except Exception as error:  # noqa: BLE001 - delivered where the call is awaited
            host.record(database.binding, "d1", op, **detail, error=str(error))
            return finished(error=error)
        host.record(database.binding, "d1", op, **detail, **facts)
        return finished(value)


class _AlwaysPrimarySession(D1DatabaseSession):
    """The session the database itself uses: always the primary, no bookmarks."""

    js_class_name = "D1DatabaseSessionAlwaysPrimary"

    def __init__(self, database: D1Database) -> None:
        super().__init__(database, None)

    def getBookmark(self, *_ignored: Any) -> str | None:  # noqa: N802 - the platform's name
        """Always ``None``: this session does not track bookmarks."""
        return None

    def _update_bookmark(self, bookmark: str) -> None:
        pass


class D1Database(JsClassObject):
    """The ``D1Database`` binding.

    Args:
        host: The app's binding host.
        binding: The binding name (``"DB"``).
        database_id: ``database_id``; bindings with the same id share the database.
    """

    js_class_name = "D1Database"

    def __init__(self, host: BindingHost, binding: str, database_id: str) -> None:
        self.host = host
        self.binding = binding
        self.database_id = database_id
        self._primary = _AlwaysPrimarySession(self)

    def _engine(self) -> D1Engine:
        store = self.host.store("d1", self.database_id, "")
        engine = _ENGINES.get(store)
        if engine is None:
            engine = _ENGINES[store] = D1Engine(store, self.database_id)
        return engine

    def prepare(self, query: Any = _UNDEFINED, *_ignored: Any) -> D1PreparedStatement:
        """Prepare a statement; nothing runs until ``first``/``all``/``run``/``raw``.

        Args:
            query: The SQL: one statement, or several separated by ``;`` (all but the last
                run first and may not have placeholders; the result is the last one's).
        """
        return D1PreparedStatement(self._primary, query)

    def batch(self, statements: Any = _UNDEFINED, *_ignored: Any) -> Any:
        """Run statements in order as one transaction (see :meth:`D1DatabaseSession.batch`).

        Args:
            statements: A list of prepared statements.
        """
        return self._primary.batch(statements)

    def exec(self, query: Any = _UNDEFINED, *_ignored: Any) -> Any:
        """Run SQL without bindings, one query per line, as one transaction.

        Args:
            query: The SQL; each line (after trimming the whole text) is one query, so a
                statement may not span lines.

        Returns:
            An awaitable ``{count, duration}``: the queries run and their total duration.
            A failure rejects with ``D1_EXEC_ERROR: Error in line 1: <first line>: <text>``
            (with the ``d1_binding_jsrpc`` flag: ``D1_EXEC_ERROR: <text>``).
        """

        def work() -> tuple[Any, dict[str, Any]]:
            if type(query) is not str:
                raise _missing_method(query, "trim", "query")
            lines = _js_trim(query).split("\n")
            try:
                results = self._engine().execute([(line, []) for line in lines])
            except D1QueryError as error:
                if _jsrpc():
                    raise _error(f"D1_EXEC_ERROR: {error.message}") from None
                legacy = f"Error in line 1: {lines[0]}: {error.message}"
                raise _error(f"D1_EXEC_ERROR: {legacy}", legacy) from None
            duration = sum(result.meta["duration"] for result in results)
            return {"count": len(results), "duration": duration}, {"count": len(results)}

        return self._primary._call("exec", query, work)

    def withSession(self, constraintOrBookmark: Any = _UNDEFINED, *_ignored: Any) -> Any:  # noqa: N802, N803
        """Start a session (``"first-primary"``, ``"first-unconstrained"`` or a bookmark).

        Args:
            constraintOrBookmark: Where the first query may go, or a bookmark to start
                from; empty or absent means ``"first-unconstrained"``.

        Returns:
            A ``D1DatabaseSession``.

        Raises:
            JsException: ``TypeError`` for a value that is not a string.
        """
        value = constraintOrBookmark
        if value is None or value is _UNDEFINED:
            value = FIRST_UNCONSTRAINED
        elif type(value) is not str:
            raise _type_error("constraintOrBookmark?.trim is not a function")
        value = _js_trim(value) or FIRST_UNCONSTRAINED
        return D1DatabaseSession(self, value)

    def dump(self, *_ignored: Any) -> Any:
        """Deprecated: only D1's alpha databases could be dumped; this one cannot.

        Returns:
            An awaitable that rejects with ``D1_DUMP_ERROR: Status + 404``.
        """

        def work() -> tuple[Any, dict[str, Any]]:
            raise _error(MSG_DUMP_ERROR.format(status=_DUMP_STATUS), f"Status {_DUMP_STATUS}")

        return self._primary._call("dump", None, work)

    def query(self, request: Any = _UNDEFINED, *_ignored: Any) -> Any:
        """Send queries and get the service's raw answer (``d1_binding_jsrpc`` only).

        Args:
            request: ``{"queries": [{"sql": ..., "params": [...]}], "bookmark": ...}``.

        Returns:
            An awaitable ``{success: True, results: {queryResults: [{meta, data: {kind:
            "raw", columns, rows}}]}}`` (``bookmark`` added when the request had one), or
            ``{success: False, error}`` when a query failed (nothing kept). Without the
            flag it rejects with :data:`MSG_QUERY_NEEDS_JSRPC`.
        """

        def work() -> tuple[Any, dict[str, Any]]:
            if not _jsrpc():
                raise _error(MSG_QUERY_NEEDS_JSRPC)
            if not isinstance(request, dict):
                raise _type_error(
                    f"Cannot read properties of {_describe(request)[1]} (reading 'queries')"
                )
            queries = request.get("queries")
            if type(queries) is not list:
                raise _missing_method(queries, "map", "params.queries")
            engine = self._engine()
            try:
                results = engine.execute(
                    [
                        (item.get("sql"), item.get("params") or [])
                        if isinstance(item, dict)
                        else (None, [])
                        for item in queries
                    ]
                )
            except D1QueryError as error:
                return {"success": False, "error": to_wire(Exception(error.message))}, {
                    "error": error.message
                }
            answer: dict[str, Any] = {
                "queryResults": [
                    {
                        "meta": result.meta,
                        "data": {"kind": "raw", "columns": result.columns, "rows": result.rows},
                    }
                    for result in results
                ]
            }
            if request.get("bookmark"):
                answer["bookmark"] = engine.bookmark()
            return {"success": True, "results": answer}, {"statements": len(results)}

        return self._primary._call("query", None, work)
