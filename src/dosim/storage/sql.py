"""``ctx.storage.sql``: the synchronous SQL API of SQLite-backed Durable Objects.

``exec(query, *bindings)`` runs one or more ``;``-separated statements at once. As in
workerd, every statement but the last runs immediately (and may not have parameters);
the bindings and the returned cursor belong to the last one. Statement texts are split
once and kept in an LRU cache bounded by 1 MiB of SQL, as the runtime does.

Values cross the boundary as they do between JavaScript and Python on Cloudflare:

- bindings: ``None`` -> NULL, ``str`` -> TEXT, ``int``/``float`` -> REAL (JS numbers are
  doubles: ``SELECT ? / 2`` with ``5`` gives ``2.5``), ``bytes``/``memoryview`` -> BLOB,
  ``bool`` -> TEXT ``'true'``/``'false'`` (WebIDL coerces a boolean to the string member of
  the binding union);
- results: INTEGER and REAL become a JS number, which Pyodide hands Python as ``int`` when
  it is a safe integer (``5.0`` -> ``5``) and as ``float`` otherwise (``2**60`` loses
  precision); TEXT -> ``str``; BLOB -> ``memoryview``; NULL -> ``None``; rows are
  :class:`~dosim.serialization.JsDict`.

Where dosim differs: ``rowsRead``/``rowsWritten`` are approximations (Python's sqlite3
cannot read SQLite's VM counters): rows returned to the cursor, and rows changed by the
statement. The ``at offset N`` of syntax errors is recomputed by re-parsing prefixes of the
statement (Python cannot call ``sqlite3_error_offset``); for ``no such column`` it is the
first occurrence of the name; other errors carry no offset. ``DELETE ... LIMIT`` works only
if the local SQLite was built with it.
"""

from __future__ import annotations

import re
import sqlite3
from typing import TYPE_CHECKING, Any

from ..errors import platform_error
from ..serialization import JsDict
from . import limits
from .database import sqlite_error_message
from .kv import as_key

if TYPE_CHECKING:  # pragma: no cover
    from .database import ObjectDatabase, StorageHost

__all__ = [
    "SqlStorage",
    "SqlStorageCursor",
    "SqlStorageRawIterator",
    "StatementPlan",
    "split_statements",
    "error_offset",
]

_SAFE = limits.MAX_SAFE_INTEGER
_SPACE = " \t\n\r\v\f"  # what workerd skips between statements
_NAMED = re.compile(r"[:@$][A-Za-z0-9_]")
_WORD = re.compile(r"[^\W\d][\w$]*")
_PARAM = re.compile(r"\w*")


class StatementPlan:
    """How to run one query text: its statements and what is known about them."""

    __slots__ = ("pieces", "writes", "names", "empty_tail", "size", "statement", "used")

    def __init__(self, pieces: list[str], names: list, empty_tail: bool, size: int) -> None:
        self.pieces = pieces
        self.writes: list[bool | None] = [None] * len(pieces)
        self.names = names  # per piece: tuple of named parameters in index order, or None
        self.empty_tail = empty_tail
        self.size = size
        # The statement of a simple plan (one statement, run before, no named parameters),
        # which exec runs on its fast path; None until then.
        self.statement: str | None = None
        self.used = False  # hit since the cache last looked at it (CLOCK eviction)


def split_statements(query: str) -> StatementPlan:
    """Split ``query`` where SQLite's prepare would stop, skipping empty statements."""
    pieces: list[str] = []
    names: list = []
    n = len(query)
    start = i = 0
    has_token = False
    params: list[str] = []
    while i < n:
        ch = query[i]
        if ch in _SPACE:
            i += 1
        elif query.startswith("--", i):
            end = query.find("\n", i)
            i = n if end < 0 else end + 1
        elif query.startswith("/*", i):
            end = query.find("*/", i + 2)
            i = n if end < 0 else end + 2
        elif ch in "'\"`[":
            close = "]" if ch == "[" else ch
            end = query.find(close, i + 1)
            while end >= 0 and close != "]" and query.startswith(close * 2, end):
                end = query.find(close, end + 2)
            i = n if end < 0 else end + 1
            has_token = True
        elif ch == ";":
            i += 1
            if has_token and sqlite3.complete_statement(query[start:i]):
                pieces.append(query[start:i])
                names.append(_param_names(params))
                while i < n and query[i] in _SPACE:
                    i += 1
                start, has_token, params = i, False, []
        else:
            word = _WORD.match(query, i)
            if word is not None:  # identifiers may contain "$"; parameters start with it
                i = word.end()
            elif ch == "?" or _NAMED.match(query, i):
                word = _PARAM.match(query, i + 1)
                params.append(query[i : word.end()])
                i = word.end()
            else:
                i += 1
            has_token = True
    if has_token:
        pieces.append(query[start:])
        names.append(_param_names(params))
    return StatementPlan(pieces, names, start < n and not has_token or not pieces, len(query))


def _param_names(params: list[str]) -> tuple | None:
    """Distinct named parameters in order, when a statement uses only ``:a``/``@a``/``$a``."""
    if not params or any(p[0] == "?" for p in params):
        return None
    return tuple(dict.fromkeys(p[1:] for p in params))


def _bindings(values: tuple) -> tuple | list:
    """Convert Python bindings the way they reach SQLite on the platform (see module doc)."""
    for value in values:
        kind = type(value)
        if not (kind is str or kind is float or value is None):
            break
    else:
        return values  # nothing to convert (text, floats, NULL): SQLite takes the tuple
    out = []
    append = out.append
    for value in values:
        kind = type(value)
        if kind is str or kind is float:
            append(value)
        elif kind is int and -_SAFE <= value <= _SAFE:
            append(float(value))
        elif value is None:
            append(value)
        elif kind is bytes:
            # CPython's sqlite3 binds a bytearray as it is, but sends bytes through its
            # adapter lookup first (a failed attribute lookup that formats an error: about
            # 3,400 instructions); both become the same BLOB.
            append(bytearray(value))
        else:
            append(_binding(value, len(out) + 1))
    return out


def _binding(value: Any, index: int) -> Any:
    """Convert a binding that is not a plain str, float, safe int, bytes or None."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and not -_SAFE <= value <= _SAFE:
        raise TypeError(limits.MSG_BINDING_UNSAFE_INT.format(index=index, value=value))
    if isinstance(value, memoryview):
        return bytearray(value)
    if isinstance(value, str):  # subclasses such as str enums
        return str(value)
    if isinstance(value, int | float):  # int subclasses (IntEnum) and float subclasses
        return float(value)
    raise TypeError(limits.MSG_BINDING_TYPE.format(index=index, type=type(value).__name__))


def _value(value: Any) -> Any:
    """One SQLite result value as Python code on Cloudflare receives it."""
    kind = type(value)
    if kind is float:
        return int(value) if value.is_integer() and -_SAFE <= value <= _SAFE else value
    if kind is int:
        return value if -_SAFE <= value <= _SAFE else float(value)
    if kind is bytes:
        return memoryview(value)
    return value


def _values(row: tuple) -> list:
    return [_value(v) if type(v) is not str else v for v in row]


# --- error offsets --------------------------------------------------------------------------

_SYNTAX = re.compile(r'(?:near "(.*)": syntax error|unrecognized token: "(.*)")\Z', re.S)
_NO_COLUMN = re.compile(r"no such column: (.+)\Z", re.S)
_probe: sqlite3.Connection | None = None


def _probe_error(text: str) -> str | None:
    """Compile ``text`` on a scratch database without running it; return the error text."""
    global _probe
    if _probe is None:
        _probe = sqlite3.connect(":memory:", check_same_thread=False)
    if text.lstrip()[:7].upper() != "EXPLAIN":
        text = "EXPLAIN " + text  # compiled, never executed
    try:
        _probe.execute(text)
    except sqlite3.Error as exc:
        return str(exc)
    except Exception:  # e.g. ProgrammingError "You can only execute one statement at a time"
        return None
    return None


def error_offset(statement: str, message: str) -> int | None:
    """Byte offset SQLite would report for ``message`` in ``statement`` (see module doc)."""
    match = _SYNTAX.match(message)
    if match is not None:
        token = match.group(1) if match.group(1) is not None else match.group(2)
        position = statement.find(token)
        while position >= 0:
            # The parser fails on the offending token, so the prefix ending with it fails
            # the same way; earlier occurrences parse fine (or fail differently).
            if _probe_error(statement[: position + len(token)]) == message:
                return len(statement[:position].encode("utf-8"))
            position = statement.find(token, position + 1)
        return None
    match = _NO_COLUMN.match(message)
    if match is not None:
        name = re.escape(match.group(1))
        found = re.search(rf"(?<![\w.]){name}(?![\w])", statement)
        if found is not None:
            return len(statement[: found.start()].encode("utf-8"))
    return None


# --- cursors --------------------------------------------------------------------------------


class SqlStorageCursor:
    """The result of ``sql.exec()``: an iterator of row objects.

    Iterate it (``for row in cursor``), or call ``next()`` (``{done, value}``),
    ``toArray()``, ``one()`` or ``raw()``. Rows are :class:`~dosim.serialization.JsDict`
    (``row["x"]`` and ``row.x``). The statement already ran when ``exec()`` returned;
    iterating only reads its rows. ``raw()`` shares this cursor's position.
    """

    __slots__ = ("_cur", "_desc", "_read", "_written", "__weakref__")

    def __init__(self, cur: sqlite3.Cursor | None, written: int) -> None:
        desc = None if cur is None else cur.description
        self._cur = cur if desc is not None else None
        self._desc = desc
        self._read = 0
        self._written = written

    @property
    def reading(self) -> bool:
        """Whether rows are left to read from the SQLite cursor (its connection stays open)."""
        return self._cur is not None

    def _fetch(self) -> tuple | None:
        cur = self._cur
        if cur is None:
            return None
        row = cur.fetchone()
        if row is None:
            self._written = max(self._written, cur.rowcount)
            self._cur = None
            return None
        self._read += 1
        return row

    def _row(self, row: tuple) -> JsDict:
        return JsDict(zip(self.columnNames, _values(row), strict=True))

    @property
    def columnNames(self) -> list[str]:
        """Names of the result columns (may repeat, e.g. ``SELECT *`` over a join)."""
        return [] if self._desc is None else [d[0] for d in self._desc]

    @property
    def rowsRead(self) -> int:
        """Rows read so far (dosim: rows returned to this cursor; see the module doc)."""
        return self._read

    @property
    def rowsWritten(self) -> int:
        """Rows written (dosim: rows inserted, updated or deleted by the statement)."""
        return self._written

    def __iter__(self) -> SqlStorageCursor:
        return self

    def __next__(self) -> JsDict:
        row = self._fetch()
        if row is None:
            raise StopIteration
        return self._row(row)

    def next(self) -> JsDict:
        """Return ``{"done": False, "value": row}``, or ``{"done": True, "value": None}``."""
        row = self._fetch()
        if row is None:
            return JsDict(done=True, value=None)
        return JsDict(done=False, value=self._row(row))

    def toArray(self) -> list[JsDict]:
        """Return the remaining rows as a list."""
        return list(self)

    def one(self) -> JsDict:
        """Return the only row; raise if there is none or more than one.

        Raises:
            JsException: ``Expected exactly one result from SQL query, but got no results.``
                or ``... but got multiple results.``
        """
        row = self._fetch()
        if row is None:
            raise platform_error("Error", limits.MSG_ONE_NO_RESULTS)
        if self._fetch() is not None:
            self._cur = None
            raise platform_error("Error", limits.MSG_ONE_MULTIPLE_RESULTS)
        return self._row(row)

    def raw(self) -> SqlStorageRawIterator:
        """Return an iterator of value lists that shares this cursor's position."""
        return SqlStorageRawIterator(self)


# Finished cursors by rowcount (-1 for statements that change no rows, e.g. CREATE TABLE),
# shared: such a cursor has nothing left to change.
_FINISHED = {count: SqlStorageCursor(None, max(count, 0)) for count in range(-1, 9)}


class SqlStorageRawIterator:
    """``cursor.raw()``: rows as lists of values, in column order."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: SqlStorageCursor) -> None:
        self._cursor = cursor

    def __iter__(self) -> SqlStorageRawIterator:
        return self

    def __next__(self) -> list:
        row = self._cursor._fetch()
        if row is None:
            raise StopIteration
        return _values(row)

    def next(self) -> JsDict:
        """Return ``{"done": False, "value": [...]}``, or ``{"done": True, "value": None}``."""
        row = self._cursor._fetch()
        if row is None:
            return JsDict(done=True, value=None)
        return JsDict(done=False, value=_values(row))

    def toArray(self) -> list[list]:
        """Return the remaining rows as lists of values."""
        return list(self)


# --- SqlStorage -----------------------------------------------------------------------------


class SqlStorage:
    """``ctx.storage.sql``: run SQL against the object's database.

    Available on SQLite-backed classes; on KV-backed ones ``exec`` and ``databaseSize``
    raise the local runtime's ``SQL is not enabled for this Durable Object class. ...``.
    Writes join the implicit transaction (committed at the end of the turn), so a failing
    commit rolls them back with everything else.
    """

    def __init__(self, database: ObjectDatabase, host: StorageHost) -> None:
        self._db = database
        self._host = host
        self._plans: dict[str, StatementPlan] = {}
        self._cached = 0

    @property
    def databaseSize(self) -> int:
        """Bytes the database uses: ``(page_count - freelist_count) * page_size``."""
        self._host.storage_op("sql.databaseSize")
        self._check()
        return self._db.database_size

    def _check(self) -> None:
        db = self._db
        if not db.sql_enabled:
            raise platform_error("Error", limits.MSG_SQL_NOT_ENABLED)
        if db.broken is not None:
            raise db.broken_error()

    def _new_plan(self, query: Any) -> StatementPlan:
        """Split a query not in the cache and add it, evicting least recently used texts.

        Eviction is CLOCK (second chance), an LRU approximation that costs a hit nothing
        but setting a flag; the bound is workerd's 1 MiB of SQL text.
        """
        if type(query) is not str:
            query = as_key(query)
            plan = self._plans.get(query)
            if plan is not None:
                return plan
        plan = split_statements(query)
        plans = self._plans
        plans[query] = plan
        self._cached += plan.size
        while self._cached > limits.SQL_STATEMENT_CACHE_BYTES and len(plans) > 1:
            oldest = next(iter(plans))
            victim = plans.pop(oldest)
            if victim.used and victim is not plan:
                victim.used = False
                plans[oldest] = victim  # second chance: back to the young end
            else:
                self._cached -= victim.size
        return plan

    def exec(self, query: str, *bindings: Any) -> SqlStorageCursor:
        """Run ``query`` (one or more statements) and return a cursor for the last one.

        Args:
            query: SQL text with ``?`` placeholders (``:name`` placeholders take
                positional bindings in order of first use, as on the platform).
            *bindings: Values for the last statement's placeholders.

        Returns:
            A :class:`SqlStorageCursor`.

        Raises:
            JsException: The platform's SQL errors: ``SQL code did not contain a
                statement.``, ``near "X": syntax error at offset N: SQLITE_ERROR``, ``Wrong
                number of parameter bindings for SQL query.``, ``not authorized: SQLITE_AUTH``,
                constraint failures, the transaction-statement text, limits.
            TypeError: A binding of an unsupported type or an unsafe integer.
        """
        host = self._host
        host.storage_fact("sql.exec", "query", query)
        db = self._db
        try:
            plan = self._plans.get(query)
        except TypeError:  # an unhashable query: _check's errors still come first
            self._check()
            raise
        if plan is None:
            self._check()
            plan = self._new_plan(query)
        else:
            # Plans exist only where SQL is enabled (_check ran before the first one was
            # made), so of _check's errors only the broken one is left to test for.
            if db.broken is not None:
                raise db.broken_error()
            plan.used = True
        if db.kv.pending:
            db.kv.flush()
        # Bindings SQLite takes as they are (text, floats, NULL) are passed on in the
        # call's own tuple; checked here rather than in _bindings to save a call per exec.
        params: Any = bindings
        for value in bindings:
            kind = type(value)
            if kind is not str and kind is not float and value is not None:
                params = _bindings(bindings)
                break
        text = plan.statement
        if text is not None:
            # One statement seen before: the hot path, kept flat.
            if not db.dirty and plan.writes[0] and db.begin_write():
                host.writes_pending()
            cur = db.spare
            if cur is None:
                cur = db.conn.cursor()
            auth = db.authorizer
            auth.user = True  # in case SQLite re-prepares the statement (schema change)
            auth.statement = text
            try:
                cur.execute(text, params)
            except sqlite3.Error as exc:
                raise self._error(exc, text, True) from None
            finally:
                auth.user = False
        else:
            cur = self._exec_plan(plan, params)
        if cur.description is None:
            # No result rows: the cursor is finished and immutable, so one object per row
            # count can be shared, and the sqlite3 cursor reused for the next statement.
            db.spare = cur
            written = cur.rowcount
            try:
                return _FINISHED[written]
            except KeyError:
                return SqlStorageCursor(None, written)
        db.spare = None
        cursor = SqlStorageCursor(cur, 0)
        db.readers.add(cursor)  # the connection stays open while it reads
        return cursor

    def _exec_plan(self, plan: StatementPlan, params: Any) -> sqlite3.Cursor:
        """Run a multi-statement or first-seen query; return the last statement's cursor."""
        pieces = plan.pieces
        last = len(pieces) - 1
        if plan.empty_tail:
            last += 1  # every statement is a prelude; the empty tail fails after them
        for index in range(last):
            self._db.spare = self._run(plan, index, (), False)
        if plan.empty_tail:
            raise platform_error("Error", limits.MSG_NO_STATEMENT)
        names = plan.names[last]
        if names is not None:  # Python binds named placeholders from a dict only
            if len(names) != len(params):
                raise platform_error("Error", limits.MSG_WRONG_BINDINGS)
            params = dict(zip(names, params, strict=True))
        cur = self._run(plan, last, params, True)
        if len(pieces) == 1 and names is None:
            plan.statement = pieces[0]
        return cur

    def _run(self, plan: StatementPlan, index: int, params: Any, is_last: bool) -> sqlite3.Cursor:
        """Execute one statement of ``plan`` as app SQL, inside the implicit transaction."""
        db = self._db
        text = plan.pieces[index]
        writes = plan.writes[index]
        opened = False
        if writes:
            if db.begin_write():
                self._host.writes_pending()
        elif writes is None and not db.in_transaction and text.lstrip()[:6].upper() != "PRAGMA":
            db.ensure_transaction()  # a first-time statement may write: be inside the txn
            opened = True
        cur = self._execute(text, params, is_last)
        auth = db.authorizer
        if writes is None:
            # No authorizer call means SQLite reused a cached statement: assume it writes.
            writes = plan.writes[index] = auth.wrote or auth.calls == 0
            if writes:
                if not db.on_disk and db.path is not None:
                    # The first write of a fresh object ran on its scratch database: move
                    # to the file (the scratch write is dropped) and run the statement there.
                    if db.begin_write():
                        self._host.writes_pending()
                    cur = self._execute(text, params, is_last)
                elif db.begin_write():
                    self._host.writes_pending()
            elif opened:
                db.release_clean_transaction()
        return cur

    def _execute(self, text: str, params: Any, is_last: bool) -> sqlite3.Cursor:
        """Run one statement of app SQL under the authorizer's rules."""
        db = self._db
        cur = db.spare or db.conn.cursor()
        auth = db.authorizer
        auth.start(text)
        try:
            cur.execute(text, params)
        except sqlite3.Error as exc:
            raise self._error(exc, text, is_last) from None
        finally:
            auth.user = False
        return cur

    def _error(self, exc: sqlite3.Error, statement: str, is_last: bool) -> Exception:
        """Translate an error from app SQL into the exception the platform raises."""
        db = self._db
        auth = db.authorizer
        if auth.error is not None:
            # Taken here, so the hot path of exec need not clear it before each statement.
            error, auth.error = auth.error, None
            return error
        text = str(exc)
        if isinstance(exc, sqlite3.ProgrammingError) and text.startswith("Incorrect number"):
            message = limits.MSG_WRONG_BINDINGS if is_last else limits.MSG_PRELUDE_BINDINGS
            return platform_error("Error", message)
        if text == "query string is too large":
            return platform_error("Error", "statement too long: SQLITE_TOOBIG")
        message = sqlite_error_message(exc, error_offset(statement, text))
        db.check_critical(exc, message)
        if db.is_broken:
            # A critical error breaks the output gate: the host's commit at the end of
            # this turn raises it and resets the object, whichever SQL path got here.
            self._host.writes_pending()
        return platform_error("Error", message)
