"""The database behind a D1 binding: SQLite with D1's rules, one transaction per call.

On Cloudflare a D1 database is SQLite running in a Durable Object (the D1 docs' "How D1
works"; Miniflare simulates it with a Durable Object's SQL storage,
``workers-sdk/packages/miniflare/src/workers/d1/database.worker.ts``). The binding sends
it a list of queries as JSON and gets back, for each, its columns, its rows and a ``meta``
object. :class:`D1Engine` is that service, run on the binding's
:class:`~dosim.bindings.store.BindingStore`:

- **one transaction per call.** The queries of one call (one statement, a ``batch()``, the
  lines of ``exec()``) run in one SQLite transaction: all or nothing. The D1 docs say of
  ``batch()`` that a failing statement "aborts or rolls back the entire sequence"; Miniflare
  runs ``exec()`` the same way (``transactionSync``).
- **the SQL of a Durable Object.** D1 runs on the same SQLite as ``ctx.storage.sql``, so
  the same authorizer (:class:`~dosim.storage.authorizer.SqlAuthorizer`: ``ATTACH``,
  unlisted pragmas and functions, ``_cf_`` names refused; ``BEGIN``/``SAVEPOINT`` refused
  with the text that points at ``transaction()``), the same statement splitting (all but
  the last statement of a query run first and may not have parameters) and the same error
  texts (``near "X": syntax error at offset N: SQLITE_ERROR``). The D1 docs list the same
  pragmas (sql-api/sql-statements, "Compatible PRAGMA statements").
- **D1's limits** (D1 docs, platform/limits): 100,000 bytes of SQL per statement, 100
  bound parameters, 2,000,000 bytes per string, BLOB or row, 100 columns, 32 function
  arguments, 50-byte ``LIKE`` patterns.
- **foreign keys enforced**, as ``PRAGMA foreign_keys = on`` in every transaction; since
  every query runs inside a transaction, ``PRAGMA foreign_keys = off`` changes nothing
  (D1 docs, sql-api/foreign-keys). The other toggles (``case_sensitive_like``,
  ``recursive_triggers``, ...) last until the call ends ("D1 PRAGMA statements only apply
  to the current transaction").

Values arrive as JSON does: a number that is a whole number no larger than 2**53 binds as
INTEGER, any other number as REAL, NaN and infinities as NULL (``JSON.stringify`` writes
``null``), an array of byte values as a BLOB. Results leave as JSON does: INTEGER and REAL
as numbers (an integer beyond 2**53 - 1 as the nearest double, so Python reads a
``float``), BLOB as an array of byte values (D1 docs, worker-api "Type conversion").

Where dosim differs (inferred or approximated): ``rows_read`` counts the rows the query
returned and ``rows_written`` the rows it changed (Python's :mod:`sqlite3` cannot read
SQLite's scan counters; Cloudflare counts rows scanned, index writes and schema rows);
``duration`` and ``sql_duration_ms`` are 0 (virtual time does not move during a call); the
database has none of the D1 service's own tables (``_cf_KV``), so ``size_after`` of a new
database starts at 0. Whole numbers binding as INTEGER is inferred from the docs' table
(Miniflare binds every number as REAL).
"""

from __future__ import annotations

import hashlib
import math
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..storage import limits
from ..storage.authorizer import SqlAuthorizer
from ..storage.database import sqlite_error_message

# The statement splitter and the error-offset search of ``ctx.storage.sql``: D1 runs on the
# same SQLite, so a query splits and an error reads exactly as there.
from ..storage.sql import error_offset, split_statements
from .store import BindingStore

__all__ = [
    "D1Engine",
    "D1QueryError",
    "QueryResult",
    "D1_SQLITE_LIMITS",
    "MAX_SAFE_INTEGER",
    "MSG_NO_STATEMENTS",
    "SERVED_BY",
    "SERVED_BY_REGION",
]

T = TypeVar("T")

MAX_SAFE_INTEGER = 2**53 - 1
"""``Number.MAX_SAFE_INTEGER``: the largest integer a result carries exactly."""

#: Largest whole number that still binds as INTEGER: beyond it a JavaScript number cannot
#: tell whether it was an integer (Pyodide sends Python ints up to 2**53 as numbers).
_LARGEST_EXACT = 2**53

#: ``sqlite3.SQLITE_LIMIT_*`` name -> value: those of a Durable Object's SQLite, with the
#: string/BLOB/row size D1's limits page states (2,000,000 bytes).
D1_SQLITE_LIMITS = {**limits.SQLITE_LIMITS, "SQLITE_LIMIT_LENGTH": 2_000_000}

#: The D1 service's answer when a call holds no statement (Miniflare's D1 database object,
#: ``#txn``: a query that is empty or only comments is dropped first).
MSG_NO_STATEMENTS = "No SQL statements detected."

SERVED_BY = "v3-prod"
"""``meta.served_by``, as in the D1 docs' example of a ``D1Result`` (worker-api/return-object)."""
SERVED_BY_REGION = "WEUR"
"""``meta.served_by_region``, as in the same example (dosim has one region)."""

# dosim's own statements start with this comment, so app SQL of the same text can never be
# served from sqlite3's statement cache without passing the authorizer.
_OWN = "/* dosim d1 */ "
_STATE_SQL = (
    _OWN + "SELECT last_insert_rowid(), ((SELECT * FROM pragma_page_count)"
    " - (SELECT * FROM pragma_freelist_count)) * (SELECT * FROM pragma_page_size)"
)
# Connection-level pragmas app SQL may switch (authorizer.ALLOWED_PRAGMAS) that outlive a
# transaction in SQLite but not in D1; reset to SQLite's defaults after each call.
_TOGGLES = tuple(
    _OWN + f"PRAGMA {name}=OFF"
    for name in (
        "case_sensitive_like",
        "ignore_check_constraints",
        "legacy_alter_table",
        "recursive_triggers",
        "reverse_unordered_selects",
    )
)
_REMEMBERED_TEXTS = 512  # statement texts whose write-or-not is remembered


def _guarded(work: Callable[[sqlite3.Connection], T], conn: sqlite3.Connection) -> T:
    """Call ``work(conn)``; if it fails after SQLite ended the transaction, open another.

    ``INSERT OR ROLLBACK`` and ``RAISE(ROLLBACK, ...)`` roll the whole transaction back
    themselves; the caller's ``ROLLBACK`` must still find one to end.
    """
    try:
        return work(conn)
    except BaseException:
        if not conn.in_transaction:
            conn.execute("BEGIN")
        raise


class D1QueryError(Exception):
    """The D1 service refused a call; ``message`` is its error text (without ``D1_ERROR:``).

    Args:
        message: The text, e.g. ``no such table: users: SQLITE_ERROR``.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class QueryResult:
    """What the D1 service returns for one query.

    Attributes:
        columns: The result's column names (repeated names kept, as ``raw()`` shows them).
        rows: The rows, each a list of wire values (numbers, str, None, lists of bytes).
        meta: The ``meta`` object (see :meth:`D1Engine.execute`).
    """

    columns: list[str]
    rows: list[list[Any]]
    meta: dict[str, Any] = field(default_factory=dict)


def sql_parameter(value: Any) -> Any:
    """Turn one bound value (a wire value) into what SQLite binds, as the JSON body sends it.

    Args:
        value: ``None``, a number, a ``str``, or a list of byte values (a BLOB).

    Returns:
        ``None``, ``int`` (whole numbers up to 2**53), ``float``, ``str`` or ``bytes``.

    Raises:
        D1QueryError: For a value JSON cannot carry as a D1 parameter.
    """
    kind = type(value)
    if value is None or kind is str:
        return value
    if kind is bool:
        return int(value)
    if kind is int:
        return value if abs(value) <= _LARGEST_EXACT else float(value)
    if kind is float:
        if math.isnan(value) or math.isinf(value):
            return None  # JSON.stringify writes null for NaN and the infinities
        if value.is_integer() and abs(value) <= _LARGEST_EXACT:
            return int(value)
        return value
    if kind is list:
        # The service reads an array as the bytes of a Uint8Array (ToUint8: modulo 256).
        return bytes(int(item) & 0xFF for item in value)
    raise D1QueryError(f"Type '{kind.__name__}' not supported as a parameter (dosim)")


def wire_cell(value: Any) -> Any:
    """Turn one SQLite value into what the JSON answer carries (a wire value).

    Args:
        value: ``None``, ``int``, ``float``, ``str`` or ``bytes`` from SQLite.
    """
    kind = type(value)
    if kind is int:
        return value if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER else float(value)
    if kind is float:
        return None if math.isinf(value) else value
    if kind is bytes:
        return list(value)
    return value


class D1Engine:
    """Runs D1 queries against one binding store (shared by bindings of one database).

    Args:
        store: The database's store.
        database_id: The database id (part of the session bookmarks).
    """

    def __init__(self, store: BindingStore, database_id: str) -> None:
        self.store = store
        self.authorizer = SqlAuthorizer()
        self._configured: sqlite3.Connection | None = None
        self._writes: dict[str, bool] = {}
        self._wrote = False
        self._toggled = False
        self._bookmark_tail = hashlib.sha256(database_id.encode()).hexdigest()[:32]

    # -- connection ----------------------------------------------------------------------
    def _ready(self, conn: sqlite3.Connection) -> sqlite3.Connection:
        """Give a connection D1's limits, the authorizer and enforced foreign keys, once."""
        if conn is self._configured:
            return conn
        for name, value in D1_SQLITE_LIMITS.items():
            code = getattr(sqlite3, name, None)
            if code is not None:
                conn.setlimit(code, value)
        conn.set_authorizer(self.authorizer)
        if conn.in_transaction:
            # A file opened by the store's first write: foreign_keys only changes outside a
            # transaction, and nothing has been written in this one yet.
            conn.execute("COMMIT")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("BEGIN IMMEDIATE")
        else:
            conn.execute("PRAGMA foreign_keys=ON")
        self._configured = conn
        return conn

    def _transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work(conn)`` as one transaction, committed before this returns.

        A store whose file does not exist yet runs the work on its in-memory scratch
        database first and keeps nothing; only if the work wrote is it run again inside
        the store's write, which creates the file (a database only read leaves no file).
        """
        store = self.store
        self._wrote = False
        self._toggled = False
        try:
            if store.path is not None and not store.on_disk:
                conn = self._ready(store.conn)
                conn.execute("BEGIN")
                try:
                    result = _guarded(work, conn)
                finally:
                    conn.execute("ROLLBACK")
                if not self._wrote:
                    return result
                self._wrote = False
            with store.write() as conn:
                result = _guarded(work, self._ready(conn))
                if self._wrote:
                    (version,) = conn.execute(_OWN + "PRAGMA user_version").fetchone()
                    conn.execute(f"{_OWN}PRAGMA user_version={version + 1}")
                return result
        finally:
            if self._toggled:
                for statement in _TOGGLES:
                    self.store.conn.execute(statement)

    # -- queries -------------------------------------------------------------------------
    def execute(self, queries: list[tuple[Any, list[Any]]]) -> list[QueryResult]:
        """Run queries as one transaction and return a result for each.

        Queries that hold no statement (empty, or only comments) are dropped first, as the
        D1 service does; if none is left the call fails.

        Args:
            queries: ``(sql, params)`` pairs; ``params`` are the bound wire values.

        Returns:
            One :class:`QueryResult` per query kept. ``meta`` holds ``served_by``,
            ``served_by_region``, ``served_by_primary``, ``timings.sql_duration_ms``,
            ``duration``, ``changes``, ``last_row_id``, ``changed_db``, ``size_after``,
            ``rows_read`` and ``rows_written`` (D1 docs, worker-api/return-object).

        Raises:
            D1QueryError: The first error; nothing the call did is kept.
        """
        plans = []
        for sql, params in queries:
            if type(sql) is not str:
                # inferred: the service's answer to a query without SQL text is undocumented.
                raise D1QueryError("a query's sql must be a string (dosim's text)")
            plan = split_statements(sql)
            if plan.pieces:
                plans.append((plan, [sql_parameter(value) for value in params]))
        if not plans:
            raise D1QueryError(MSG_NO_STATEMENTS)
        return self._transaction(
            lambda conn: [self._query(conn, plan, params) for plan, params in plans]
        )

    def _query(self, conn: sqlite3.Connection, plan: Any, params: list[Any]) -> QueryResult:
        changes_before = conn.total_changes
        last_row_before, size_before = conn.execute(_STATE_SQL).fetchone()
        pieces = plan.pieces
        last = len(pieces) - 1
        if plan.empty_tail:
            last += 1  # every statement runs first; the empty tail then fails
        read = 0
        for index in range(last):
            read += len(self._run(conn, pieces[index], (), prelude=True)[1])
        if plan.empty_tail:
            raise D1QueryError(limits.MSG_NO_STATEMENT)
        bound: Any = params
        names = plan.names[last]
        if names is not None:  # Python binds named placeholders from a dict only
            if len(names) != len(params):
                raise D1QueryError(limits.MSG_WRONG_BINDINGS)
            bound = dict(zip(names, params, strict=True))
        columns, rows = self._run(conn, pieces[last], bound, prelude=False)
        read += len(rows)
        changes = conn.total_changes - changes_before
        last_row_id, size_after = conn.execute(_STATE_SQL).fetchone()
        # Miniflare's rule: any change, a new last row id or a new size.
        changed = bool(changes) or last_row_id != last_row_before or size_after != size_before
        meta = {
            "served_by": SERVED_BY,
            "served_by_region": SERVED_BY_REGION,
            "served_by_primary": True,
            "timings": {"sql_duration_ms": 0},
            "duration": 0,
            "changes": changes,
            "last_row_id": wire_cell(last_row_id),
            "changed_db": changed,
            "size_after": size_after,
            "rows_read": read,
            "rows_written": changes,
        }
        return QueryResult(columns, [[wire_cell(cell) for cell in row] for row in rows], meta)

    def _run(
        self, conn: sqlite3.Connection, text: str, params: Any, *, prelude: bool
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run one statement of app SQL under the authorizer; return its columns and rows."""
        auth = self.authorizer
        auth.start(text)
        try:
            cursor = conn.execute(text, params)
            rows = cursor.fetchall()
        except sqlite3.Error as error:
            raise self._error(error, text, prelude) from None
        finally:
            auth.user = False
        if auth.calls:
            wrote = auth.wrote
            if len(self._writes) >= _REMEMBERED_TEXTS:
                del self._writes[next(iter(self._writes))]
            self._writes[text] = wrote
        else:
            # sqlite3 reused a cached statement, so nothing was authorized: ask memory.
            wrote = self._writes.get(text, True)
        if wrote:
            self._wrote = True
        if "pragma" in text.lower():
            self._toggled = True
        columns = [column[0] for column in cursor.description or ()]
        return columns, rows

    def _error(self, error: sqlite3.Error, statement: str, prelude: bool) -> D1QueryError:
        """Translate an error of app SQL into the text the D1 service answers with."""
        if self.authorizer.error is not None:
            return D1QueryError(limits.MSG_TRANSACTION_SQL)
        text = str(error)
        if isinstance(error, sqlite3.ProgrammingError) and text.startswith("Incorrect number"):
            message = limits.MSG_PRELUDE_BINDINGS if prelude else limits.MSG_WRONG_BINDINGS
            return D1QueryError(message)
        if text == "query string is too large":
            return D1QueryError("statement too long: SQLITE_TOOBIG")
        return D1QueryError(sqlite_error_message(error, error_offset(statement, text)))

    # -- sessions ------------------------------------------------------------------------
    def bookmark(self) -> str:
        """The bookmark of the database's current version (for the Sessions API).

        Shaped like the platform's (four dash-separated hex fields; D1 docs,
        reference/time-travel "bookmarks") and ordered as strings in commit order: the
        first field counts the committed calls that wrote. Its other fields are dosim's.
        """
        (version,) = self.store.read(_OWN + "PRAGMA user_version")[0]
        return f"{version:08x}-00000000-00000000-{self._bookmark_tail}"
